/// A bounds-checked big-endian reader over a mapped migration stream: every read says where
/// it failed ("cut short"), never traps.
struct StreamCursor {
    let file: MappedFile
    var offset: UInt64

    func cutShort(_ what: String) -> DumpError {
        .malformed(path: file.path, offset: offset, reason: "stream cut short: \(what) runs past the end of the \(file.size)-byte file")
    }

    mutating func u8(_ what: String) throws(DumpError) -> UInt8 {
        guard let v = file.u8(offset) else { throw cutShort(what) }
        offset += 1
        return v
    }
    mutating func be16(_ what: String) throws(DumpError) -> UInt16 {
        guard let v = file.be16(offset) else { throw cutShort(what) }
        offset += 2
        return v
    }
    mutating func be32(_ what: String) throws(DumpError) -> UInt32 {
        guard let v = file.be32(offset) else { throw cutShort(what) }
        offset += 4
        return v
    }
    mutating func be64(_ what: String) throws(DumpError) -> UInt64 {
        guard let v = file.be64(offset) else { throw cutShort(what) }
        offset += 8
        return v
    }
    /// A string of `count` bytes (idstr, names): bounded by the caller's length byte.
    mutating func string(_ count: Int, _ what: String) throws(DumpError) -> String {
        guard let b = file.bytes(at: offset, count: count) else { throw cutShort(what) }
        offset += UInt64(count)
        return String(decoding: b, as: UTF8.self)
    }
    mutating func skip(_ count: UInt64, _ what: String) throws(DumpError) {
        let (end, o) = offset.addingReportingOverflow(count)
        guard !o, end <= file.size else { throw cutShort(what) }
        offset = end
    }
    func peek() -> UInt8? { file.u8(offset) }
}
