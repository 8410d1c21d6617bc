/// Aligned text columns for people.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    public var rightAligned: Set<Int> = []

    public init(header: [String], rows: [[String]] = [], rightAligned: Set<Int> = []) {
        self.header = header
        self.rows = rows
        self.rightAligned = rightAligned
    }

    public func render(indent: String = "") -> String {
        // Cells can hold guest strings (RAM block, section and device names): one line each.
        let rows = rows.map { $0.map { TerminalText.escape($0) } }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, c) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                parts.append(rightAligned.contains(i) ? pad + c : (i == cells.count - 1 ? c : c + pad))
            }
            var line = indent + parts.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
