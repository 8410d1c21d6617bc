/// A bounds-checked big-endian reader over a mapped migration stream: every read says where
/// it failed ("cut short"), never traps.
struct StreamCursor {
    let file: any ByteSource
    var offset: UInt64
    /// A window of the file read with pread: the one-pass index reads record headers from it
    /// (sequential copies are cheaper than faulting the mapping in page by page).
    private var window: [UInt8] = []
    private var windowStart: UInt64 = 0
    private var windowCount = 0
    static let windowBytes = 256 << 10

    init(file: any ByteSource, offset: UInt64) {
        self.file = file
        self.offset = offset
    }

    /// `count` (≤ 8) bytes at `offset` from the window, refilling it as needed; nil past EOF.
    @inline(__always)
    private mutating func load(_ count: Int) -> UInt64? {
        if offset < windowStart || offset - windowStart + UInt64(count) > UInt64(windowCount) {
            if window.isEmpty { window = [UInt8](repeating: 0, count: Int(min(UInt64(Self.windowBytes), max(file.size, 64)))) }
            windowStart = offset
            windowCount = file.read(into: &window, at: offset)
            guard windowCount >= count else { return nil }
        }
        let o = Int(offset - windowStart)
        var v: UInt64 = 0
        for i in 0..<count { v = v << 8 | UInt64(window[o + i]) }
        return v
    }

    func cutShort(_ what: String) -> DumpError {
        .malformed(path: file.path, offset: offset, reason: "stream cut short: \(what) runs past the end of the \(file.size)-byte file")
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(DumpError) -> UInt8 {
        guard let v = load(1) else { throw cutShort(what()) }
        offset += 1
        return UInt8(truncatingIfNeeded: v)
    }
    mutating func be16(_ what: @autoclosure () -> String) throws(DumpError) -> UInt16 {
        guard let v = load(2) else { throw cutShort(what()) }
        offset += 2
        return UInt16(truncatingIfNeeded: v)
    }
    mutating func be32(_ what: @autoclosure () -> String) throws(DumpError) -> UInt32 {
        guard let v = load(4) else { throw cutShort(what()) }
        offset += 4
        return UInt32(truncatingIfNeeded: v)
    }
    mutating func be64(_ what: @autoclosure () -> String) throws(DumpError) -> UInt64 {
        guard let v = load(8) else { throw cutShort(what()) }
        offset += 8
        return UInt64(truncatingIfNeeded: v)
    }
    /// A string of `count` bytes (idstr, names): bounded by the caller's length byte.
    mutating func string(_ count: Int, _ what: @autoclosure () -> String) throws(DumpError) -> String {
        guard let b = file.bytes(at: offset, count: count) else { throw cutShort(what()) }
        offset += UInt64(count)
        return String(decoding: b, as: UTF8.self)
    }
    mutating func skip(_ count: UInt64, _ what: @autoclosure () -> String) throws(DumpError) {
        let (end, o) = offset.addingReportingOverflow(count)
        guard !o, end <= file.size else { throw cutShort(what()) }
        offset = end
    }
    func peek() -> UInt8? { file.u8(offset) }
}
