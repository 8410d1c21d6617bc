/// Guest- and file-controlled text on its way to a terminal: the one escaping function of the
/// tool. A dump's strings (VMCOREINFO values, note names, a stream's machine, section and RAM
/// block names, the guest kernel's device names, a state file's keys) could otherwise move the
/// cursor, retitle the window, hide text or reorder it (bidi controls, "Trojan Source").
public enum TerminalText {
    /// Echoed offending values are cut to this many characters, then "…".
    public static let echoLimit = 80

    /// `s` with every C0 control (but `\n` and `\t` when `keepLayout`), DEL, every C1 control,
    /// the bidi controls (U+061C, U+200E/F, U+202A–E, U+2066–9) and U+2028/9 written as `\x1b`
    /// or `\u{202e}`.
    public static func escape(_ s: String, keepLayout: Bool = false) -> String {
        guard s.unicodeScalars.contains(where: { needsEscape($0, keepLayout: keepLayout) }) else { return s }
        var out = ""
        out.unicodeScalars.reserveCapacity(s.unicodeScalars.count)
        for u in s.unicodeScalars {
            if needsEscape(u, keepLayout: keepLayout) {
                out += u.value < 0x100 ? "\\x" + hex2(u.value) : "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// An echoed value: escaped, one line, and cut to `limit` characters with "…".
    public static func cut(_ s: String, limit: Int = echoLimit) -> String {
        let e = escape(s)
        guard e.count > limit else { return e }
        return String(e.prefix(limit)) + "…"
    }

    @inline(__always)
    static func needsEscape(_ u: Unicode.Scalar, keepLayout: Bool) -> Bool {
        let v = u.value
        if v < 0x20 { return !(keepLayout && (v == 0x0A || v == 0x09)) }
        if v < 0x7F { return false }
        if v < 0xA0 { return true }  // DEL, C1 (0x9b is a one-byte CSI)
        return isBidiOrSeparator(v)
    }

    static func isBidiOrSeparator(_ v: UInt32) -> Bool {
        v == 0x061C || v == 0x200E || v == 0x200F || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v) || v == 0x2028 || v == 0x2029
    }

    static func hex2(_ v: UInt32) -> String {
        let d = Array("0123456789abcdef".unicodeScalars)
        return String(d[Int(v >> 4)]) + String(d[Int(v & 15)])
    }
}
