import ITSLayout
import TextFormats

/// itsdump's own ELF note, written by `extract` so that an extract carries the registers its
/// routes were computed with (README "Self-contained extracts"): name `ITSDUMP`, type 1
/// (`registers`), descriptor the register state file (README "The state file", UTF-8 JSON)
/// with one more key, `provenance`: where each value came from in the run that wrote it
/// (`"its[0].baser[0]": "guest kernel its_node@… via BTF in guest RAM and kallsyms"`).
public enum RegistersNote {
    public static let name = "ITSDUMP"
    public static let type: UInt32 = 1

    public static func note(json: [UInt8]) -> ELFCore.Note {
        ELFCore.Note(name: name, type: type, descriptor: json, fileOffset: 0)
    }

    /// The registers of an `ITSDUMP` note, each with the provenance the note records, or nil
    /// when there is no such note. A damaged note is a bad file (exit status 2), not ignored.
    public static func registers(in notes: [ELFCore.Note], path: String) throws(DumpError) -> RegisterState? {
        guard let n = notes.first(where: { $0.name == name && $0.type == type }) else { return nil }
        let file = path.split(separator: "/").last.map(String.init) ?? path
        let where_ = "\(path) (\(name) note)"
        var state = try RegisterStateFile.parse(n.descriptor, path: where_)
        let recorded = (try? JSONValue.parse(n.descriptor))?.objectValue?["provenance"]?.objectValue ?? [:]
        func mark(_ v: Sourced<UInt64>?, _ key: String) -> Sourced<UInt64>? {
            let before = recorded[key]?.stringValue.map { ": \($0)" } ?? ""
            return v.map { Sourced($0.value, Provenance(.extractNote, "\(file) \(key)\(before)")) }
        }
        for i in state.its.indices {
            for r in ITSRegister.allCases { state.its[i][r] = mark(state.its[i][r], key(r, its: i)) }
        }
        for i in state.redistributors.indices {
            for r in RedistributorRegister.allCases {
                state.redistributors[i][r] = mark(state.redistributors[i][r], "redistributors[\(i)].\(r.jsonKey)")
            }
        }
        return state
    }

    /// The `provenance` object of the note: the same keys as the values.
    public static func provenance(_ state: RegisterState) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (i, its) in state.its.enumerated() {
            for r in ITSRegister.allCases { if let v = its[r] { out[key(r, its: i)] = .string(v.provenance.description) } }
        }
        for (i, rd) in state.redistributors.enumerated() {
            for r in RedistributorRegister.allCases {
                if let v = rd[r] { out["redistributors[\(i)].\(r.jsonKey)"] = .string(v.provenance.description) }
            }
        }
        return out
    }

    /// The note's key of a register: the state file's path to it ("its[0].baser[3]").
    static func key(_ r: ITSRegister, its i: Int) -> String {
        if case .baser(let n) = r { return "its[\(i)].baser[\(n)]" }
        return "its[\(i)].\(r.jsonKey)"
    }
}
