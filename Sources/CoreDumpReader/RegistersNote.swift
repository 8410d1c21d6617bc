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
        func mark<V>(_ v: inout Sourced<V>?, _ key: String) {
            guard v != nil else { return }
            let before = recorded[key]?.stringValue.map { ": \($0)" } ?? ""
            v?.provenance = Provenance(.extractNote, "\(file) \(key)\(before)")
        }
        for i in state.its.indices {
            mark(&state.its[i].base, "its[\(i)].base"); mark(&state.its[i].ctlr, "its[\(i)].ctlr")
            mark(&state.its[i].iidr, "its[\(i)].iidr"); mark(&state.its[i].typer, "its[\(i)].typer")
            mark(&state.its[i].cbaser, "its[\(i)].cbaser"); mark(&state.its[i].cwriter, "its[\(i)].cwriter")
            mark(&state.its[i].creadr, "its[\(i)].creadr")
            for b in 0..<8 { mark(&state.its[i].baser[b], "its[\(i)].baser[\(b)]") }
        }
        for i in state.redistributors.indices {
            mark(&state.redistributors[i].propbaser, "redistributors[\(i)].propbaser")
            mark(&state.redistributors[i].pendbaser, "redistributors[\(i)].pendbaser")
            mark(&state.redistributors[i].rdBase, "redistributors[\(i)].rdBase")
        }
        return state
    }

    /// The `provenance` object of the note: the same keys as the values.
    public static func provenance(_ state: RegisterState) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        func put<V>(_ v: Sourced<V>?, _ key: String) { if let v { out[key] = .string(v.provenance.description) } }
        for (i, its) in state.its.enumerated() {
            put(its.base, "its[\(i)].base"); put(its.ctlr, "its[\(i)].ctlr"); put(its.iidr, "its[\(i)].iidr")
            put(its.typer, "its[\(i)].typer"); put(its.cbaser, "its[\(i)].cbaser"); put(its.cwriter, "its[\(i)].cwriter")
            put(its.creadr, "its[\(i)].creadr")
            for (b, v) in its.baser.enumerated() { put(v, "its[\(i)].baser[\(b)]") }
        }
        for (i, rd) in state.redistributors.enumerated() {
            put(rd.propbaser, "redistributors[\(i)].propbaser"); put(rd.pendbaser, "redistributors[\(i)].pendbaser")
            put(rd.rdBase, "redistributors[\(i)].rdBase")
        }
        return out
    }
}
