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
        var columns = Columns(header: header, rightAligned: rightAligned)
        // Cells can hold guest strings (RAM block, section and device names): one line each.
        let rows = rows.map { $0.map { TerminalText.escape($0) } }
        for r in rows { columns.measure(escaped: r) }
        return ([columns.line(header, indent: indent)] + rows.map { columns.line($0, indent: indent) }).joined(separator: "\n") + "\n"
    }

    /// The widths of a table's columns, measured one row at a time, then its lines one at a
    /// time: a table of a million rows is written in two passes over its rows (the first
    /// measures, the second writes) without holding them (issue 22). `render` is this with
    /// the rows in memory.
    public struct Columns: Sendable {
        public let header: [String]
        public let rightAligned: Set<Int>
        public private(set) var widths: [Int]

        public init(header: [String], rightAligned: Set<Int> = []) {
            self.header = header
            self.rightAligned = rightAligned
            widths = header.map(\.count)
        }

        /// Widens the columns to fit a row (escaped for the terminal here).
        public mutating func measure(_ cells: [String]) { measure(escaped: cells.map { TerminalText.escape($0) }) }

        mutating func measure(escaped cells: [String]) {
            for (i, c) in cells.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }

        /// One row as its line (no newline), each cell escaped for the terminal.
        public func row(_ cells: [String], indent: String = "") -> String { line(cells.map { TerminalText.escape($0) }, indent: indent) }

        /// The header's line (no newline).
        public func headerLine(indent: String = "") -> String { line(header, indent: indent) }

        func line(_ cells: [String], indent: String) -> String {
            var parts: [String] = []
            for (i, c) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                parts.append(rightAligned.contains(i) ? pad + c : (i == cells.count - 1 ? c : c + pad))
            }
            var line = indent + parts.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
    }
}
