/// Bytes that a dump format reads: a file (`MappedFile`), or a view built over one (the VM
/// state inside a qcow2 image). Every reader takes its bytes through this protocol, so a
/// container format is one more conformance, not a change to the readers it feeds.
public protocol ByteSource: AnyObject, Sendable {
    /// The name used in messages (a file's path; a container names its member).
    var path: String { get }
    var size: UInt64 { get }
    /// Fills `buffer` from `offset`; returns the bytes read (short only at the end).
    func read(into buffer: inout [UInt8], at offset: UInt64) -> Int
    /// Bytes [offset, offset + count), or nil when the range is not inside the source.
    func bytes(at offset: UInt64, count: Int) -> [UInt8]?
    /// A hint that [offset, offset + count) will not be read again soon.
    func release(_ offset: UInt64, _ count: UInt64)
    /// A hint that nothing below `offset` will be read again soon (one-pass indexes).
    func release(below offset: UInt64)
    // Fixed-size loads: requirements so that a mapped file answers them without an array.
    func u8(_ offset: UInt64) -> UInt8?
    func be16(_ offset: UInt64) -> UInt16?
    func be32(_ offset: UInt64) -> UInt32?
    func be64(_ offset: UInt64) -> UInt64?
}

extension ByteSource {
    public func release(_ offset: UInt64, _ count: UInt64) {}
    public func release(below offset: UInt64) {}

    public func u8(_ offset: UInt64) -> UInt8? { bytes(at: offset, count: 1)?.first }
    public func be16(_ offset: UInt64) -> UInt16? { be(offset, 2).map { UInt16(truncatingIfNeeded: $0) } }
    public func be32(_ offset: UInt64) -> UInt32? { be(offset, 4).map { UInt32(truncatingIfNeeded: $0) } }
    public func be64(_ offset: UInt64) -> UInt64? { be(offset, 8) }

    /// Little-endian integer of `count` (≤ 8) bytes at `offset`.
    public func le(_ offset: UInt64, _ count: Int) -> UInt64? {
        guard let b = bytes(at: offset, count: count) else { return nil }
        return b.loadLE(at: 0, count: count)
    }

    /// Big-endian integer of `count` (≤ 8) bytes at `offset`.
    public func be(_ offset: UInt64, _ count: Int) -> UInt64? {
        guard let b = bytes(at: offset, count: count) else { return nil }
        return b.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
