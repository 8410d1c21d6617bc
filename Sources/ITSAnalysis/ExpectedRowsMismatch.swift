import TextFormats

extension ExpectedRow {
    /// Why `bytes` (a file given to `diff --expected` that starts with "{") gave no route rows,
    /// saying what the file is when it is JSON of another kind: "a register state file
    /// (its-regs.json, `regs --format json`): give it with --regs", "itsdump's `check` JSON", or
    /// the object's keys; `error` is the row reader's own.
    public static func mismatch(_ bytes: [UInt8], _ error: JSONParseError) -> String {
        let want = "expected route JSON: an object with a \"routes\" array (`itsdump routes --format json`) or an \"interrupts\" array (a fixture's ground-truth.json)"
        guard bytes.count <= 4 << 20, case .object(let o)? = try? JSONValue.parse(bytes) else {
            return "not JSON: \(error); \(want)"
        }
        let what: String
        if o["routes"]?.arrayValue != nil || o["interrupts"]?.arrayValue != nil {
            what = "route JSON whose rows cannot be used: \(error)"
        } else if o["its"] != nil, o["redistributors"] != nil, o["command"] == nil || o["command"] == .string("regs") {
            what = "a register state file (its-regs.json, `itsdump regs --format json`): give it with --regs"
        } else if case .string(let c)? = o["command"] {
            what = "the JSON of `itsdump \(TerminalText.cut(c))`, which has no route rows"
        } else {
            let keys = o.keys.sorted().prefix(8).map { TerminalText.cut($0) }
            what = "a JSON object with the keys \(keys.joined(separator: ", "))\(o.count > 8 ? ", …" : "") and no route rows"
        }
        return "\(what); \(want)"
    }
}
