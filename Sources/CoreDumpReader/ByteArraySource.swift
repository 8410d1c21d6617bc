/// Bytes held in memory as a `ByteSource`: an image a test or a fuzz target builds, read by
/// the same code as a mapped file.
public final class ByteArraySource: ByteSource, Sendable {
    public let path: String
    public let data: [UInt8]

    public init(_ data: [UInt8], path: String = "(bytes)") {
        self.data = data
        self.path = path
    }

    public var size: UInt64 { UInt64(data.count) }

    public func read(into buffer: inout [UInt8], at offset: UInt64) -> Int {
        guard offset < size else { return 0 }
        let n = min(buffer.count, data.count - Int(offset))
        buffer.replaceSubrange(0..<n, with: data[Int(offset)..<(Int(offset) + n)])
        return n
    }

    public func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, offset <= size, size - offset >= UInt64(count) else { return nil }
        return Array(data[Int(offset)..<(Int(offset) + count)])
    }
}
