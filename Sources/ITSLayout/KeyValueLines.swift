/// `KEY=VALUE` lines, the text format of VMCOREINFO (input-formats.md §6.1): split at the first
/// `=`; a line without one is skipped. Lines end at LF, CR, CR LF, VT or FF. Read as UTF-8
/// bytes, not Characters: a note's few kilobytes are parsed in microseconds, and a guest's bytes
/// that are not UTF-8 are replaced, never trusted to form graphemes across a line's end.
public func keyValueLines(_ text: String) -> [(key: String, value: String)] {
    var out: [(key: String, value: String)] = []
    for line in text.utf8.split(whereSeparator: { $0 == 0x0A || $0 == 0x0D || $0 == 0x0B || $0 == 0x0C }) {
        guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else { continue }
        out.append((key: String(decoding: line[..<eq], as: UTF8.self),
                    value: String(decoding: line[line.index(after: eq)...], as: UTF8.self)))
    }
    return out
}
