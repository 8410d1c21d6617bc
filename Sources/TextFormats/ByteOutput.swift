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

    /// `v` in decimal.
    public mutating func decimal(_ v: UInt64) {
        var n = 1
        var rest = v / 10
        while rest > 0 { n += 1; rest /= 10 }
        digits(v, count: n, shift: 0)
    }

    /// `v` in lowercase hexadecimal, no leading zeros.
    public mutating func hex(_ v: UInt64) {
        digits(v, count: max(1, (67 - v.leadingZeroBitCount) / 4), shift: 4)
    }

    /// `count` digits of `v`, the last first: base 16 when `shift` is 4, else 10.
    private mutating func digits(_ v: UInt64, count: Int, shift: UInt64) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var v = v
        var i = start + count - 1
        while v > 0 {
            let d: UInt8
            if shift == 4 {
                d = UInt8(truncatingIfNeeded: v & 15)
                v >>= 4
            } else {
                d = UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            }
            bytes[i] = d < 10 ? UInt8(ascii: "0") &+ d : UInt8(ascii: "a") &+ (d &- 10)
            i -= 1
        }
    }

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
