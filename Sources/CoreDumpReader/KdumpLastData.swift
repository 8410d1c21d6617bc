extension KdumpFile {
    /// Whether the data a writer wrote last is in the file, for the first `count` descriptors
    /// at `descriptorsAt` (all in the file): QEMU's dump.c and makedumpfile write the page data
    /// in PFN order, but zero pages share one block written first in the data area
    /// (input-formats.md §2.6, "QEMU specifics"), so the last descriptor — the top of RAM is
    /// often zero — may point at the start of the data. The last descriptor's data and, when
    /// the descriptors before it share its block, that of the last one pointing elsewhere (read
    /// back over them 64 KiB at a time: bounded by the descriptors in the file) must be there.
    /// With `readBack`, nil when the descriptors sharing the block run further back than that.
    static func lastDataWritten(source: DiskDumpSource, descriptorsAt: UInt64, count: UInt64,
                                readBack: UInt64 = .max) -> Bool? {
        var buffer: [UInt8] = []
        let fileSize = source.size
        guard count > 0, source.read(24, at: descriptorsAt + (count - 1) * 24, into: &buffer),
              dataWritten(buffer, 0, fileSize: fileSize) else { return false }
        let shared = buffer.loadLE(at: 0, count: 8)
        let perChunk: UInt64 = (64 << 10) / 24
        // Descriptors [0, end) not looked at yet; each pass takes at least one: the loop ends.
        var end = count - 1
        while end > 0 {
            guard count - 1 - end < readBack else { return nil }
            let n = min(perChunk, end, readBack - (count - 1 - end))
            let first = end - n
            guard source.read(Int(n * 24), at: descriptorsAt + first * 24, into: &buffer) else { return false }
            for i in stride(from: Int(n) - 1, through: 0, by: -1) where buffer.loadLE(at: i * 24, count: 8) != shared {
                return dataWritten(buffer, i * 24, fileSize: fileSize)
            }
            end = first
        }
        return true
    }
}
