/// Output bytes on their way out, handed on 64 KiB at a time: a renderer writes rows as it
/// produces them and memory stays bounded whatever the number of rows (issue 22). With no
/// `drain` the bytes are kept (`bytes`), for output wanted as one value.
public struct ByteOutput {
    public typealias Drain = ([UInt8]) -> Void

    /// The bytes not yet drained (all of them without a drain).
    public private(set) var bytes: [UInt8] = []
    private let drain: Drain?

    public static let chunkBytes = 64 << 10

    public init(drain: Drain? = nil) {
        self.drain = drain
        if drain != nil { bytes.reserveCapacity(Self.chunkBytes + 4096) }
    }

    @inline(__always)
    public mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// Raw UTF-8, as given: for text the caller has already escaped (JSON strings are
    /// escaped by `JSONWriter`).
    @inline(__always)
    public mutating func append(utf8 s: String) { bytes.append(contentsOf: s.utf8) }

    public mutating func append<C: Collection>(contentsOf c: C) where C.Element == UInt8 {
        bytes.append(contentsOf: c)
    }

    /// Reverses the bytes from `start` to the end (numbers are written from their last digit).
    public mutating func reverseTail(from start: Int) { bytes[start...].reverse() }

    /// Text for a terminal: through `TerminalText.escape` (lines and tabs kept), scalar by
    /// scalar, so that pieces escaped one at a time give the bytes the whole would.
    public mutating func text(_ s: String) {
        append(utf8: TerminalText.escape(s, keepLayout: true))
        flushIfFull()
    }

    /// Drains once a chunk is full; callers call it between rows.
    @inline(__always)
    public mutating func flushIfFull() {
        if bytes.count >= Self.chunkBytes { flush() }
    }

    /// Drains what is held (nothing without a drain).
    public mutating func flush() {
        guard let drain, !bytes.isEmpty else { return }
        drain(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
