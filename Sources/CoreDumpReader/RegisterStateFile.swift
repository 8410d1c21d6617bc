import ITSLayout
import TextFormats

/// The register state file (`--regs FILE.json`; README "Register state file"):
/// `{"schemaVersion":1, "its":[{"base","ctlr","iidr","typer","cbaser","cwriter","creadr",
/// "baser":[8 values]}], "redistributors":[{"cpu","propbaser","pendbaser"}]}` with 64-bit
/// values as "0x…" strings; every field but `baser` optional; unknown keys ignored.
public enum RegisterStateFile {
    /// Files larger than this are not state files.
    static let maxBytes: UInt64 = 4 << 20

    /// At most this many ITSes and redistributors (a GIC has at most 2^16 redistributors).
    public static let maxITSes = 256
    public static let maxRedistributors = 65536

    /// `path` may be `-` (standard input), read with the same cap.
    public static func load(path: String) throws(DumpError) -> RegisterState {
        let bytes = try MappedFile.readSmall(path: path, maxBytes: Int(maxBytes), allowStandardInput: true)
        guard bytes.count <= maxBytes else {
            throw .stateFile(path: path, reason: "more than \(maxBytes) bytes is too large for a register state file")
        }
        return try parse(bytes, path: path == "-" ? "standard input" : path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(DumpError) -> RegisterState {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw .stateFile(path: path, reason: "not JSON: \(error)")
        }
        guard let top = json.objectValue else {
            throw .stateFile(path: path, reason: "expected a JSON object with \"its\" and \"redistributors\"")
        }
        if let v = top["schemaVersion"], v.intValue != 1 {
            throw .stateFile(path: path, reason: "schemaVersion \(TerminalText.cut(v.description)) is not supported (1 is)")
        }
        // A JSON file of another kind (a ground truth, a routes document) is not silently an
        // empty state: that would let another source's registers stand in for the ones asked for.
        guard top["its"]?.arrayValue != nil || top["redistributors"]?.arrayValue != nil else {
            throw .stateFile(path: path, reason: "not a register state file: no \"its\" or \"redistributors\" array (`itsdump regs DUMP --format json` writes one; README \"The state file\")")
        }
        let file = path.split(separator: "/").last.map(String.init) ?? path
        var state = RegisterState()
        if let n = top["its"]?.arrayValue?.count, n > maxITSes {
            throw .stateFile(path: path, reason: "\(n) ITS entries: at most \(maxITSes) are read")
        }
        if let n = top["redistributors"]?.arrayValue?.count, n > maxRedistributors {
            throw .stateFile(path: path, reason: "\(n) redistributor entries: at most \(maxRedistributors) are read")
        }
        var cpusSeen: [UInt64: Int] = [:]
        for (i, entry) in (top["its"]?.arrayValue ?? []).enumerated() {
            guard let o = entry.objectValue else {
                throw .stateFile(path: path, reason: "its[\(i)] is not an object")
            }
            func value(_ key: String) throws(DumpError) -> (UInt64, Provenance)? {
                guard let raw = o[key], !raw.isNull else { return nil }
                guard let v = integer(raw) else {
                    throw .stateFile(path: path, reason: "its[\(i)].\(TerminalText.cut(key)): \(TerminalText.cut(raw.description)) is not a \"0x…\" value")
                }
                return (v, Provenance(.stateFile, "\(file) its[\(i)].\(key)"))
            }
            var its = ITSRegisterState()
            for r in ITSRegister.allCases {
                if case .baser = r { continue }
                if let (v, p) = try value(r.jsonKey) { its[r] = Sourced(v, p) }
            }
            guard let basers = o["baser"]?.arrayValue else {
                throw .stateFile(path: path, reason: "its[\(i)].baser: expected an array of 8 \"0x…\" values")
            }
            guard basers.count <= ITSRegister.baserCount else {
                throw .stateFile(path: path, reason: "its[\(i)].baser has \(basers.count) values; GITS_BASER0..7 are 8")
            }
            for (n, b) in basers.enumerated() where !b.isNull {
                guard let v = integer(b) else {
                    throw .stateFile(path: path, reason: "its[\(i)].baser[\(n)]: \(TerminalText.cut(b.description)) is not a \"0x…\" value")
                }
                its[.baser(n)] = Sourced(v, Provenance(.stateFile, "\(file) its[\(i)].baser[\(n)]"))
            }
            state.its.append(its)
        }
        for (i, entry) in (top["redistributors"]?.arrayValue ?? []).enumerated() {
            guard let o = entry.objectValue else {
                throw .stateFile(path: path, reason: "redistributors[\(i)] is not an object")
            }
            // cpu: a non-negative JSON integer (or "0x…"/decimal string); absent means the index.
            var cpu = UInt64(i)
            if let raw = o["cpu"], !raw.isNull {
                guard let v = integer(raw) else {
                    throw .stateFile(path: path, reason: "redistributors[\(i)].cpu: \(TerminalText.cut(raw.description)) is not a non-negative integer")
                }
                cpu = v
            }
            guard cpu < UInt64(maxRedistributors) else {
                throw .stateFile(path: path, reason: "redistributors[\(i)].cpu \(cpu) is out of range (0 to \(maxRedistributors - 1))")
            }
            if let first = cpusSeen[cpu] {
                throw .stateFile(path: path, reason: "redistributors[\(i)].cpu \(cpu) is given twice (redistributors[\(first)] has it too)")
            }
            cpusSeen[cpu] = i
            var rd = RedistributorState(cpu: UInt32(cpu))
            let p = { (k: String) in Provenance(.stateFile, "\(file) redistributors[\(i)].\(k)") }
            for reg in RedistributorRegister.allCases {
                let key = reg.jsonKey
                guard let raw = o[key], !raw.isNull else { continue }
                guard let v = integer(raw) else {
                    throw .stateFile(path: path, reason: "redistributors[\(i)].\(key): \(TerminalText.cut(raw.description)) is not a \"0x…\" value")
                }
                rd[reg] = Sourced(v, p(key))
            }
            state.redistributors.append(rd)
        }
        return state
    }

    /// "0x…" or decimal strings, or JSON integers.
    static func integer(_ v: JSONValue) -> UInt64? {
        switch v {
        case .string(let s): return parseInteger(s)
        case .uint(let n): return n
        default: return nil
        }
    }
}

/// "0x1f", "0X1F" or "31"; "_" anywhere and spaces or tabs around it are ignored. It works on
/// the UTF-8 bytes: building the trimmed string from reversed Characters cost ~90,000
/// instructions a call (a generic `String.init` and its dynamic casts), a twentieth of a whole
/// `routes --regs` run (issue 22).
public func parseInteger(_ s: String) -> UInt64? {
    let digits = s.utf8.filter { $0 != UInt8(ascii: "_") }
    let isBlank = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
    guard let first = digits.firstIndex(where: { !isBlank($0) }),
          let last = digits.lastIndex(where: { !isBlank($0) }) else { return nil }
    let t = digits[first...last]
    if t.count > 2, t[first] == UInt8(ascii: "0"), t[first + 1] | 0x20 == UInt8(ascii: "x") {
        return UInt64(String(decoding: t.dropFirst(2), as: UTF8.self), radix: 16)
    }
    return UInt64(String(decoding: t, as: UTF8.self))
}

/// Registers in JSON output: `{"value": "0x…", "source": "…"}` per register (null where no
/// source gave one), keyed by `ITSRegister.jsonKey`; the BASERs as an array.
public enum RegisterJSON {
    public static func sourced(_ s: Sourced<UInt64>?) -> JSONValue {
        guard let s else { return .null }
        return .object(["value": .hexString(s.value), "source": .string(s.provenance.description)])
    }

    public static func its(_ its: ITSRegisterState) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for r in ITSRegister.allCases {
            if case .baser = r { continue }
            o[r.jsonKey] = sourced(its[r])
        }
        o["baser"] = .array((0..<ITSRegister.baserCount).map { sourced(its[.baser($0)]) })
        return .object(o)
    }

    public static func redistributors(_ rds: [RedistributorState]) -> JSONValue {
        .array(rds.map { r in
            var o: [String: JSONValue] = ["cpu": .uint(UInt64(r.cpu))]
            for reg in RedistributorRegister.allCases { o[reg.jsonKey] = sourced(r[reg]) }
            return .object(o)
        })
    }
}

extension RegisterStateFile {
    /// The state file for `state` (what `itsdump regs --output json` writes and `--regs`
    /// reads): bare values, null for a register no source gave, and a `source` line naming the
    /// kinds of source the BASERs came from.
    public static func document(_ state: RegisterState) -> JSONValue {
        func v(_ s: Sourced<UInt64>?) -> JSONValue { s.map { .hexString($0.value) } ?? .null }
        let origins = Set(state.its.flatMap { its in its.baser.compactMap { $0?.provenance.kind.rawValue } })
        var itsRows: [JSONValue] = []
        for its in state.its {
            var o: [String: JSONValue] = [:]
            for r in ITSRegister.allCases {
                if case .baser = r { continue }
                o[r.jsonKey] = v(its[r])
            }
            o["baser"] = .array((0..<ITSRegister.baserCount).map { v(its[.baser($0)]) })
            itsRows.append(.object(o))
        }
        var rdRows: [JSONValue] = []
        for r in state.redistributors {
            var o: [String: JSONValue] = ["cpu": .uint(UInt64(r.cpu))]
            for reg in RedistributorRegister.allCases { o[reg.jsonKey] = v(r[reg]) }
            rdRows.append(.object(o))
        }
        return .object([
            "schemaVersion": .int(1), "command": .string("regs"),
            "source": .string("itsdump regs: " + origins.sorted().joined(separator: ", ")),
            "its": .array(itsRows),
            "redistributors": .array(rdRows),
        ])
    }
}

/// Registers as `info` lists them for an input that carries its own (a migration stream, a
/// Cloud Hypervisor snapshot): each ITS's registers with their sources, then each CPU's
/// PROPBASER and PENDBASER.
public enum RegisterText {
    public static func info(_ state: RegisterState) -> String {
        var s = ""
        for (i, its) in state.its.enumerated() {
            s += "  ITS \(i) registers\n"
            var t = TextTable(header: ["REGISTER", "VALUE", "SOURCE"])
            for r in ITSRegister.allCases { if let v = its[r] { t.rows.append([r.name, hex(v.value), v.provenance.description]) } }
            s += t.render(indent: "    ")
        }
        var r = TextTable(header: ["CPU", "GICR_PROPBASER", "GICR_PENDBASER"], rightAligned: [0])
        for rd in state.redistributors {
            r.rows.append([String(rd.cpu), rd.propbaser.map { hex($0.value.rawValue) } ?? "-", rd.pendbaser.map { hex($0.value.rawValue) } ?? "-"])
        }
        if !state.redistributors.isEmpty { s += r.render(indent: "  ") }
        return s
    }
}
