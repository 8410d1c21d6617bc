import Synchronization

/// The dumpable bitmap of a diskdump file (Documentation/input-formats.md §2.6), read in place
/// and only as far as something asks: bit `pfn` set means the dump holds a descriptor for that
/// PFN, and the descriptor's index is the count of set bits before it (its rank).
///
/// A lookup extends a sparse rank index — the set bits before every 512th word, 8 bytes per
/// 4 KiB of bitmap — up to its PFN's block, reading the bitmap 128 KiB at a time from where
/// the index ends, then reads at most 4 KiB and counts the words' bits: lookups near the start
/// of a 1 TiB guest's 32 MiB bitmap never read the rest, and one far up pays once. The whole
/// bitmap — its set bits (the descriptors the dump lists) and its runs (the present ranges) —
/// is read in one bounded pass when something asks for them (`whole`), never the whole bitmap
/// in memory.
final class DumpableBitmap: Sendable {
    static let wordsPerRank: UInt64 = 512
    static let chunkBytes: UInt64 = 128 << 10

    let source: DiskDumpSource
    /// File offset (in the plain diskdump file) and length of the bitmap: bytes of the file
    /// (checked at open) and a multiple of 8 (a whole number of blocks).
    let at: UInt64
    let bytes: UInt64
    /// PFNs at or past it (max_mapnr) are in no run.
    let limit: UInt64

    struct Whole: Sendable {
        /// Set bits in the whole bitmap: the descriptors the dump lists.
        let total: UInt64
        /// Runs of set bits below `limit` (PFN ranges).
        let runs: [Range<UInt64>]
    }

    private struct State {
        /// Set bits before word `k · wordsPerRank`, for the blocks indexed so far.
        var rankBefore: [UInt64] = []
        /// Set bits before the first block not yet indexed.
        var counted: UInt64 = 0
        var whole: Whole?
    }
    private let state = Mutex(State())

    init(source: DiskDumpSource, at: UInt64, bytes: UInt64, limit: UInt64) {
        self.source = source
        self.at = at
        self.bytes = bytes
        self.limit = limit
    }

    /// Blocks of 512 words the rank index covers so far (tests: how far lookups read).
    var indexedBlocks: Int { state.withLock { $0.rankBefore.count } }

    /// The rank of `pfn` (its descriptor's index), or nil when its bit is clear or unreadable.
    func rank(_ pfn: UInt64) -> UInt64? {
        let word = pfn / 64
        guard word < bytes / 8 else { return nil }
        let block = word / Self.wordsPerRank
        guard let before = rankBefore(block) else { return nil }
        let from = block * Self.wordsPerRank
        let count = Int(word - from + 1)
        guard let b = source.bytes(at: at + from * 8, count: count * 8) else { return nil }
        return b.withUnsafeBytes { raw -> UInt64? in
            var r = before
            for i in 0..<(count - 1) {
                r += UInt64(raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).nonzeroBitCount)
            }
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: (count - 1) * 8, as: UInt64.self))
            let bit = pfn % 64
            guard w >> bit & 1 == 1 else { return nil }
            return r + UInt64((w & ((1 << bit) - 1)).nonzeroBitCount)
        }
    }

    /// Set bits before block `block`, the index extended to it first; nil when the bitmap
    /// cannot be read that far (the file shrank: `MappedFile.checkUnchanged` says so).
    private func rankBefore(_ block: UInt64) -> UInt64? {
        state.withLock { s -> UInt64? in
            if block >= UInt64(s.rankBefore.count) { extend(&s, through: block) }
            return block < UInt64(s.rankBefore.count) ? s.rankBefore[Int(block)] : nil
        }
    }

    /// Indexes blocks from the first not yet indexed through `block`, 128 KiB at a time. Each
    /// chunk appends at least one block: the loop moves forward and ends at the bitmap's end.
    private func extend(_ s: inout State, through block: UInt64) {
        let groupBytes = Self.wordsPerRank * 8
        var buffer: [UInt8] = []
        while UInt64(s.rankBefore.count) <= block {
            let offset = UInt64(s.rankBefore.count) * groupBytes
            guard offset < bytes else { return }
            let n = Int(min(Self.chunkBytes, bytes - offset))
            guard source.read(n, at: at + offset, into: &buffer) else { return }
            var counted = s.counted
            buffer.withUnsafeBytes { raw in
                // The buffer's storage is 16-byte aligned, `n` a multiple of 8 (whole blocks).
                raw.withMemoryRebound(to: UInt64.self) { words in
                    var w = 0
                    while w < words.count {
                        s.rankBefore.append(counted)
                        let end = min(words.count, w + Int(Self.wordsPerRank))
                        for x in words[w..<end] { counted += UInt64(x.nonzeroBitCount) }
                        w = end
                    }
                }
            }
            s.counted = counted
        }
    }

    /// The set bits and runs of the whole bitmap, read once (the rank index completed on the way).
    var whole: Whole {
        state.withLock { s -> Whole in
            if let w = s.whole { return w }
            let w = scan(&s)
            s.whole = w
            return w
        }
    }

    /// One bounded pass over the bitmap, 128 KiB at a time: the rank index, the set bits and
    /// the runs. A chunk that cannot be read (the file shrank since it was opened, which
    /// `MappedFile.checkUnchanged` reports before any output) ends the pass there.
    private func scan(_ s: inout State) -> Whole {
        var rank: [UInt64] = []
        rank.reserveCapacity(Int(bytes / (Self.wordsPerRank * 8)) + 1)
        var total: UInt64 = 0
        var runs: [Range<UInt64>] = []
        var open = false
        var runStart: UInt64 = 0
        var buffer: [UInt8] = []
        var offset: UInt64 = 0
        let limit = limit
        while offset < bytes {
            let n = Int(min(Self.chunkBytes, bytes - offset))
            guard source.read(n, at: at + offset, into: &buffer) else { break }
            let firstWord = offset / 8
            let group = Int(Self.wordsPerRank) * 8
            buffer.withUnsafeBytes { raw in
                var o = 0
                while o + 8 <= n {
                    let word = firstWord + UInt64(o / 8)
                    if word % Self.wordsPerRank == 0 {
                        rank.append(total)
                        // A group of zeros outside a run or of ones inside one (most of a sparse
                        // or of a full bitmap) is taken whole.
                        let end = o + group
                        if end <= n, open ? (word + Self.wordsPerRank) * 64 <= limit : true {
                            var or: UInt64 = 0, and: UInt64 = ~0
                            // The buffer's storage is 16-byte aligned and `o` a multiple of 8.
                            UnsafeRawBufferPointer(rebasing: raw[o..<end]).withMemoryRebound(to: UInt64.self) { words in
                                for w in words { or |= w; and &= w }
                            }
                            if !open, or == 0 { o = end; continue }
                            if open, and == ~0 { total += Self.wordsPerRank * 64; o = end; continue }
                        }
                    }
                    var w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
                    o += 8
                    total += UInt64(w.nonzeroBitCount)
                    let first = word * 64
                    guard first < limit else { continue }
                    if limit - first < 64 { w &= (1 << (limit - first)) - 1 }
                    // Transitions only: a word of all ones inside a run, or of zeros outside
                    // one, ends the loop at once.
                    var p = 0
                    while p < 64 {
                        let rest = (open ? ~w : w) >> UInt64(p)
                        if rest == 0 { break }
                        p += rest.trailingZeroBitCount
                        if open { runs.append(runStart..<(first + UInt64(p))) } else { runStart = first + UInt64(p) }
                        open.toggle()
                    }
                }
            }
            offset += UInt64(n)
        }
        if open { runs.append(runStart..<min(limit, offset * 8)) }
        // Chunks are whole blocks, so the pass indexed every block it read (all of them unless
        // a read failed): its index replaces the lazy one where it reaches further.
        if rank.count > s.rankBefore.count {
            s.rankBefore = rank
            s.counted = total
        }
        return Whole(total: total, runs: runs)
    }
}

extension KdumpFile {
    /// Whether the descriptor at byte `o` of `buffer` has its data in the file: data offset 0
    /// was never written (a hole of a cut flattened file reads as zeros).
    static func dataWritten(_ buffer: [UInt8], _ o: Int, fileSize: UInt64) -> Bool {
        let (dataAt, size) = buffer.withUnsafeBytes {
            (UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)),
             UInt64(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o + 8, as: UInt32.self))))
        }
        let (end, overflow) = dataAt.addingReportingOverflow(size)
        return dataAt != 0 && !overflow && end <= fileSize
    }

    /// PFN runs of `runs` whose descriptor or data lies past the end of the file (a dump cut
    /// short), in one pass over the descriptors the file holds, 64 KiB at a time: the cost is
    /// bounded by the file, and the runs past the last descriptor are skipped whole. When
    /// `written` (the dumper did not mark the dump incomplete, and a flattened file has its end
    /// marker) and every descriptor and the data written last are in the file
    /// (`lastDataWritten`), the dump was written to its end — QEMU's dump.c and makedumpfile
    /// write descriptors and data in PFN order — and no other descriptor is read: a damaged one
    /// in the middle is still said when its page is read. Nil when finding the data written
    /// last would read back more than `readBack` descriptors (`lastDataWritten`).
    static func missing(runs: [Range<UInt64>], source: DiskDumpSource, descriptorsAt: UInt64,
                        descriptorsPresent: UInt64, descriptorsListed: UInt64, written: Bool,
                        readBack: UInt64 = .max) -> [Range<UInt64>]?
    {
        var buffer: [UInt8] = []
        if written, descriptorsPresent > 0, descriptorsPresent == descriptorsListed {
            switch lastDataWritten(source: source, descriptorsAt: descriptorsAt, count: descriptorsListed, readBack: readBack) {
            case true?: return []
            case nil: return nil
            case false?: break
            }
        }
        let perChunk: UInt64 = (64 << 10) / 24
        var missing: [Range<UInt64>] = []
        var cut: UInt64?
        var index: UInt64 = 0
        var bufferFirst: UInt64 = 0, bufferCount: UInt64 = 0
        let fileSize = source.size
        var readable = false
        for r in runs {
            var pfn = r.lowerBound
            while pfn < r.upperBound {
                var gone = true
                if index < descriptorsPresent {
                    if index < bufferFirst || index - bufferFirst >= bufferCount {
                        bufferFirst = index
                        bufferCount = min(perChunk, descriptorsPresent - index)
                        readable = source.read(Int(bufferCount * 24), at: descriptorsAt + index * 24, into: &buffer)
                    }
                    // Unreadable (the file shrank meanwhile): not called missing here; the
                    // read of the page says so, and the file check before output does.
                    gone = false
                    if readable { gone = !dataWritten(buffer, Int(index - bufferFirst) * 24, fileSize: fileSize) }
                } else {
                    // Every descriptor from here on is past the end: the rest of the run at once.
                    if cut == nil { cut = pfn }
                    index += r.upperBound - pfn
                    pfn = r.upperBound
                    break
                }
                if gone {
                    if cut == nil { cut = pfn }
                } else if let c = cut {
                    missing.append(c..<pfn)
                    cut = nil
                }
                index += 1
                pfn += 1
            }
            if let c = cut {
                missing.append(c..<r.upperBound)
                cut = nil
            }
        }
        return missing
    }
}

extension DiskDumpSource {
    func read(_ count: Int, at offset: UInt64, into buffer: inout [UInt8]) -> Bool {
        guard let b = bytes(at: offset, count: count) else { return false }
        buffer = b
        return true
    }
}

extension PlainSource {
    func read(_ count: Int, at offset: UInt64, into buffer: inout [UInt8]) -> Bool {
        guard count >= 0, offset <= size, size - offset >= UInt64(count) else { return false }
        if buffer.count != count { buffer = [UInt8](repeating: 0, count: count) }
        return file.read(into: &buffer, at: offset) == count
    }
}
