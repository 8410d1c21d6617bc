import Glibc
import ITSLayout
import TextFormats
import Synchronization

/// A kdump-compressed dump (makedumpfile's diskdump format) as QEMU's `dump-guest-memory -z/-l/-s`
/// and `virsh dump --format kdump-*` write it (Documentation/input-formats.md §2): the flattened container
/// (QEMU 7.2 always writes it) or the plain one. Pages are looked up without decompressing the
/// dump: PFN → descriptor by rank over the dumpable bitmap, one page decompressed on demand.
public final class KdumpFile: GuestMemory, @unchecked Sendable {
    public enum Container: String, Sendable {
        case flattened = "flattened (makedumpfile -F)"
        case plain = "plain diskdump"
    }

    public let file: any ByteSource
    public let container: Container
    public let headerVersion: UInt32
    /// Header `status`: the compression flag(s) and DUMP_DH_COMPRESSED_INCOMPLETE (0x8).
    public let status: UInt32
    /// Bytes per PFN: QEMU on arm64 always writes 64 KiB blocks (§2.4).
    public let blockSize: UInt64
    public let maxMapnr: UInt64
    public let nrCPUs: UInt32
    public let physBase: UInt64
    public let notes: [ELFCore.Note]
    public let vmcoreinfoText: String?
    /// Its pairs, parsed once.
    let vmcoreinfoPairs: [(key: String, value: String)]?

    let source: DiskDumpSource
    let dumpBitmap: DumpableBitmap
    let descriptorsAt: UInt64
    private let cache = PageCache()
    /// The ranges of the whole bitmap, once something asked (`presentRanges`, `missingRanges`).
    private let wholeRanges = Mutex<(present: [GuestRange]?, missing: [GuestRange]?)>((nil, nil))
    /// A page read found its descriptor or data past the end of the file (or never written).
    private let cutSeen = Atomic<Bool>(false)

    static let flatSignature = Array("makedumpfile".utf8)
    static let signature = Array("KDUMP   ".utf8)
    /// Bitmaps larger than this are not read into memory (a 16 TiB guest with 4 KiB blocks).
    static let maxBitmapBytes: UInt64 = 64 << 20
    /// A dumpable bitmap up to this size is read whole at open and the dump checked for missing
    /// ranges there (~0.1 ms: every QEMU arm64 dump up to a 512 GiB guest, a 4 KiB-block one up
    /// to 32 GiB); a larger one only as far as lookups need, its check deferred (`incompleteReason`).
    public static let eagerBitmapBytes: UInt64 = 1 << 20
    /// The check at open reads back at most this many descriptors (1 MiB) over those that
    /// share the zero block to find the data written last (`lastDataWritten`); a longer zero
    /// tail (a large guest mostly zero at the top) leaves the check for later, as a large bitmap does.
    public static let readBackAtOpen: UInt64 = (1 << 20) / 24

    public static func matches(_ file: any ByteSource) -> Bool {
        file.bytes(at: 0, count: 12) == flatSignature || file.bytes(at: 0, count: 8) == signature
    }

    /// - Parameters:
    ///   - eagerBitmapBytes: the largest dumpable bitmap read whole at open (tests lower it).
    ///   - readBackAtOpen: the most descriptors the check at open reads back (tests lower it).
    public init(file: any ByteSource, eagerBitmapBytes: UInt64 = KdumpFile.eagerBitmapBytes,
                readBackAtOpen: UInt64 = KdumpFile.readBackAtOpen) throws(DumpError) {
        self.file = file
        let path = file.path
        let source: DiskDumpSource
        if file.bytes(at: 0, count: 12) == Self.flatSignature {
            container = .flattened
            source = try FlattenedSource(file: file)
        } else {
            container = .plain
            source = PlainSource(file: file)
        }
        self.source = source
        func bad(_ offset: UInt64?, _ reason: String) -> DumpError { .malformed(path: path, offset: offset, reason: reason) }
        // disk_dump_header (§2.4): little-endian, 464 bytes.
        let cutShort = (source as? FlattenedSource)?.ended == false
        guard let h = source.bytes(at: 0, count: 464), !cutShort || Array(h[0..<8]) == Self.signature else {
            throw bad(0, cutShort ? "the flattened file is cut short (no end marker) before its disk_dump_header was written"
                                  : "disk_dump_header (464 bytes) is not in the file")
        }
        guard Array(h[0..<8]) == Self.signature else {
            throw .notADump(path: path, reason: "not a kdump file: the diskdump header does not start with \"KDUMP   \"")
        }
        func le(_ b: [UInt8], _ o: Int, _ n: Int) -> UInt64 { b.loadLE(at: o, count: n) }
        headerVersion = UInt32(le(h, 8, 4))
        status = UInt32(le(h, 424, 4))
        blockSize = le(h, 428, 4)
        let subHeaderBlocks = le(h, 432, 4)
        let bitmapBlocks = le(h, 436, 4)
        nrCPUs = UInt32(le(h, 460, 4))
        guard blockSize >= 1024, blockSize <= 1 << 24, blockSize & (blockSize - 1) == 0 else {
            throw bad(428, "block_size \(blockSize) is not a power of two between 1 KiB and 16 MiB")
        }
        guard subHeaderBlocks >= 1, subHeaderBlocks < 1 << 16, bitmapBlocks >= 2, bitmapBlocks % 2 == 0,
              bitmapBlocks < 1 << 24 else {
            throw bad(432, "sub_hdr_size \(subHeaderBlocks) / bitmap_blocks \(bitmapBlocks) are not a diskdump layout")
        }
        // kdump_sub_header (§2.5) at block 1.
        guard let sub = source.bytes(at: blockSize, count: 104) else { throw bad(blockSize, "kdump_sub_header is not in the file") }
        physBase = le(sub, 0, 8)
        let maxMapnr32 = le(h, 440, 4)
        maxMapnr = headerVersion >= 6 ? le(sub, 96, 8) : maxMapnr32
        var notes: [ELFCore.Note] = []
        var vmcoreinfo: String?
        // Note area and VMCOREINFO: read only when they lie inside the file (bytes(at:) checks
        // before it allocates), so a header claiming 16 MiB of notes in a tiny file costs nothing.
        if headerVersion >= 4 {
            let at = le(sub, 48, 8), size = le(sub, 56, 8)
            // Bounded by the file's own bytes, not the plain size: a flattened file's holes read
            // as zeros, and 16 MiB of zeros would be 1.4 million empty notes (fuzz-kdump).
            if size > 0, size <= 16 << 20, size <= file.size, let blob = source.bytes(at: at, count: Int(size)) {
                notes = ELFCore.parseNotes(blob, fileOffset: at)
            }
        }
        if headerVersion >= 3 {
            let at = le(sub, 32, 8), size = le(sub, 40, 8)
            if size > 0, size <= 1 << 20, size <= file.size, let text = source.bytes(at: at, count: Int(size)) {
                vmcoreinfo = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        self.notes = notes
        self.vmcoreinfoText = vmcoreinfo ?? notes.first { $0.name == "VMCOREINFO" }.map {
            String(decoding: $0.descriptor.prefix { $0 != 0 }, as: UTF8.self)
        }
        vmcoreinfoPairs = vmcoreinfoText.map(parseVMCOREINFO)
        // Bitmaps (§2.6): the first says which PFNs are RAM, the second which are in the dump.
        let (bitmapBytes, o1) = bitmapBlocks.multipliedReportingOverflow(by: blockSize)
        let half = bitmapBytes / 2
        let bitmapAt = (1 + subHeaderBlocks) * blockSize
        // The bitmaps must be bytes of the file itself (a flattened file's holes read as zeros,
        // so its plain size alone would let a tiny file claim 64 MiB of bitmap).
        guard !o1, half <= Self.maxBitmapBytes, bitmapAt + bitmapBytes <= source.size, bitmapBytes <= file.size else {
            throw bad(bitmapAt, "the bitmaps (\(bitmapBlocks) blocks of \(blockSize) bytes) do not fit in the \(source.size)-byte dump: truncated or corrupt")
        }
        guard maxMapnr <= half * 8 else {
            throw bad(blockSize + 96, "max_mapnr \(maxMapnr) exceeds the \(half * 8) bits of the bitmap")
        }
        // Only the second bitmap is read (the first, RAM, says nothing a lookup needs), in
        // place, and only as far as asked (§2.6).
        let limit = min(maxMapnr, half / 8 * 64)
        dumpBitmap = DumpableBitmap(source: source, at: bitmapAt + half, bytes: half, limit: limit)
        descriptorsAt = bitmapAt + bitmapBytes
        endMarker = (source as? FlattenedSource)?.ended ?? true
        // A small bitmap: the whole-dump check now, unless its read-back would pass the bound
        // (undecided: checked when a sign says the dump is cut or something asks).
        if half <= eagerBitmapBytes { _ = checkWhole(readBack: readBackAtOpen) }
    }

    /// False when a flattened file has no end-of-records marker (cut short).
    public let endMarker: Bool

    func guestRange(_ r: Range<UInt64>) -> GuestRange {
        GuestRange(start: GuestPhysicalAddress(r.lowerBound * blockSize), length: (r.upperBound - r.lowerBound) * blockSize)
    }

    /// The runs of the dumpable bitmap: the first use reads the whole bitmap.
    public var presentRanges: [GuestRange] {
        if let p = wholeRanges.withLock({ $0.present }) { return p }
        let p = dumpBitmap.whole.runs.map(guestRange)
        wholeRanges.withLock { $0.present = p }
        return p
    }

    /// Blocks the dump lists (set bits of the dumpable bitmap): the first use reads the whole bitmap.
    public var dumpablePages: Int { Int(dumpBitmap.whole.total) }

    /// Ranges the dump says it holds whose bytes are not in the file (cut short), found by one
    /// bounded pass over the whole bitmap and the descriptors the file holds (`missing`), the
    /// first time something asks. A file cut short (a dump still being written, a copy
    /// interrupted) keeps the pages whose descriptor and data are there; the rest are
    /// "missing" ranges, said by `info` and as a `dump-incomplete` finding, never silently absent.
    public var missingRanges: [GuestRange] { checkWhole(readBack: .max) ?? [] }

    /// The missing ranges, found once and kept; nil (nothing kept) when deciding that the dump
    /// was written to its end would read back more than `readBack` descriptors (`missing`).
    /// Unbounded, it always decides.
    private func checkWhole(readBack: UInt64) -> [GuestRange]? {
        if let m = wholeRanges.withLock({ $0.missing }) { return m }
        let whole = dumpBitmap.whole
        let descriptorsPresent = min(whole.total, (source.size - min(source.size, descriptorsAt)) / 24)
        guard let m = Self.missing(runs: whole.runs, source: source, descriptorsAt: descriptorsAt,
                                   descriptorsPresent: descriptorsPresent, descriptorsListed: whole.total,
                                   written: status & 0x8 == 0 && endMarker, readBack: readBack)?.map(guestRange)
        else { return nil }
        wholeRanges.withLock { $0.missing = m }
        return m
    }

    /// Why the dump is incomplete, or nil: cut short, or marked incomplete by the dumper.
    ///
    /// Exact — every missing range — whenever the dump was checked whole: at open when its
    /// dumpable bitmap is at most `eagerBitmapBytes`, once `missingRanges` was asked (`info`),
    /// or as soon as a sign says it is cut: no end marker, the dumper's incomplete flag, or a
    /// page read whose descriptor or data is past the end of the file. Without any of these —
    /// a larger bitmap, a plain file cut past every page read so far — it is nil: `routes` and
    /// `check` (which ask after the walk) then say the dump is incomplete only if the walk read
    /// a page that is gone, and `info` always checks the whole dump.
    public var incompleteReason: String? {
        let checked = wholeRanges.withLock { $0.missing != nil }
        guard checked || !endMarker || status & 0x8 != 0 || cutSeen.load(ordering: .relaxed) else { return nil }
        let missingRanges = missingRanges
        var why: [String] = []
        if !missingRanges.isEmpty {
            let bytes = missingRanges.reduce(UInt64(0)) { $0 &+ $1.length }
            why.append("\(missingRanges.count) range(s), \(bytes) bytes, that the dump lists have no data in the \(file.size)-byte file")
        }
        if !endMarker { why.append("the flattened file has no end marker (cut short)") }
        if status & 0x8 != 0 { why.append("the dumper marked it incomplete (DUMP_DH_COMPRESSED_INCOMPLETE)") }
        return why.isEmpty ? nil : why.joined(separator: "; ")
    }

    public var compression: String {
        PageCompression.allCases.filter { status & $0.rawValue != 0 }.map(\.name).joined(separator: "+")
    }

    /// Descriptor index of `pfn`, or nil when the PFN is not in the dump.
    func descriptorIndex(_ pfn: UInt64) -> UInt64? {
        guard pfn < maxMapnr else { return nil }
        return dumpBitmap.rank(pfn)
    }

    /// The decompressed block of `pfn`, or why it cannot be had: not dumped (excluded by the
    /// dumper), or damaged — the dump says it holds the page but its descriptor or data is
    /// unusable (§2.6), said with the file offset.
    func block(_ pfn: UInt64) -> Result<[UInt8], KdumpPageError> {
        if let b = cache.get(pfn) { return .success(b) }
        guard let index = descriptorIndex(pfn) else { return .failure(.notDumped) }
        let at = descriptorsAt + index * 24
        guard let d = source.bytes(at: at, count: 24) else {
            cutSeen.store(true, ordering: .relaxed)
            return .failure(.damaged(offset: at, "its page descriptor (number \(index)) is past the end of the \(source.size)-byte file"))
        }
        let offset = d.loadLE(at: 0, count: 8), size = d.loadLE(at: 8, count: 4), flags = UInt32(d.loadLE(at: 12, count: 4))
        if offset == 0 {  // DUMP_DH_COMPRESSED_INCOMPLETE leaves these: the page was never written
            cutSeen.store(true, ordering: .relaxed)
            return .failure(.damaged(offset: at, "its page descriptor has data offset 0 (never written)"))
        }
        guard size > 0, size <= blockSize else {
            return .failure(.damaged(offset: at, "its page descriptor says \(size) bytes of data for a \(blockSize)-byte block"))
        }
        guard let data = source.bytes(at: offset, count: Int(size)) else {
            cutSeen.store(true, ordering: .relaxed)
            return .failure(.damaged(offset: offset, "its \(size) bytes of data run past the end of the \(source.size)-byte file"))
        }
        let compression = PageCompression.allCases.filter { flags & $0.rawValue != 0 }
        guard flags & ~0x27 == 0, compression.count <= 1 else {
            return .failure(.damaged(offset: at, "its page descriptor has \(compression.count > 1 ? "conflicting" : "unknown") compression flags 0x\(String(flags, radix: 16))"))
        }
        let out = compression.first.map { $0.decompress(data, size: Int(blockSize)) } ?? (size == blockSize ? data : nil)
        guard let out else {
            return .failure(.damaged(offset: offset, "its data (\(size) bytes, \(compression.first?.name ?? "uncompressed")) does not decompress to exactly one \(blockSize)-byte block"))
        }
        cache.put(pfn, out)
        return .success(out)
    }

    /// Why the page at `address` is damaged, or nil (present and readable, or not dumped).
    public func damage(at address: GuestPhysicalAddress) -> String? {
        guard case .failure(.damaged(let offset, let why)) = block(address.rawValue / blockSize) else { return nil }
        return "damaged at file offset 0x\(String(offset, radix: 16)): \(why)"
    }

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        assembleRead(address, count: count) { a, left in
            let off = a % blockSize
            let n = min(left, blockSize - off)
            guard case .success(let b) = block(a / blockSize) else { return .absent(n) }
            return .bytes(b[Int(off)..<Int(off + n)])
        }
    }
}

enum KdumpPageError: Error {
    case notDumped
    case damaged(offset: UInt64, String)
}

/// A few recently decompressed blocks: the walk reads many entries of the same table page.
final class PageCache: @unchecked Sendable {
    private var entries: [(UInt64, [UInt8])] = []
    private let lock = Mutex(())
    func get(_ pfn: UInt64) -> [UInt8]? { lock.withLock { _ in entries.first { $0.0 == pfn }?.1 } }
    func put(_ pfn: UInt64, _ b: [UInt8]) {
        lock.withLock { _ in
            entries.insert((pfn, b), at: 0)
            if entries.count > 16 { entries.removeLast() }
        }
    }
}

/// The bytes of the plain diskdump file, whichever container holds them.
protocol DiskDumpSource: Sendable {
    var size: UInt64 { get }
    func bytes(at offset: UInt64, count: Int) -> [UInt8]?
    /// `count` bytes at `offset` into `buffer` (resized to `count`), reusing its storage.
    func read(_ count: Int, at offset: UInt64, into buffer: inout [UInt8]) -> Bool
}

struct PlainSource: DiskDumpSource {
    let file: any ByteSource
    var size: UInt64 { file.size }
    func bytes(at offset: UInt64, count: Int) -> [UInt8]? { file.bytes(at: offset, count: count) }
}

/// makedumpfile's flattened format (§2.2): records (be64 offset, be64 size, data) that belong
/// at `offset` of the plain file, indexed once; holes between records read as zeros, as in
/// `makedumpfile -R` output. A later record wins where records overlap.
struct FlattenedSource: DiskDumpSource {
    struct Record { var offset: UInt64; var size: UInt64; var fileOffset: UInt64; var sequence: Int }
    let file: any ByteSource
    let records: [Record]
    let size: UInt64
    let overlapping: Bool
    /// The end-of-records marker was seen (a file without it was cut short).
    let ended: Bool

    init(file: any ByteSource) throws(DumpError) {
        self.file = file
        guard file.be64(16) == 1, file.be64(24) == 1 else {
            throw .malformed(path: file.path, offset: 16, reason: "flattened header type/version are not 1/1")
        }
        var records: [Record] = []
        var p: UInt64 = 4096
        var end: UInt64 = 0
        var ended = false
        // Each record consumes its 16-byte header and its data: the loop moves forward.
        while true {
            guard let off = file.be64(p), let size = file.be64(p + 8) else {
                break  // no end marker: cut short; what is there is read, the rest is missing
            }
            if off == UInt64.max && size == UInt64.max { ended = true; break }
            let (dataEnd, o1) = (p + 16).addingReportingOverflow(size)
            let (rawEnd, o2) = off.addingReportingOverflow(size)
            guard !o2 else {
                throw .malformed(path: file.path, offset: p, reason: "flattened record of \(size) bytes for offset \(off) runs past 2^64")
            }
            if o1 || dataEnd > file.size {
                // The last record cut short: keep the bytes that are there.
                let kept = file.size - min(file.size, p + 16)
                if kept > 0 { records.append(Record(offset: off, size: kept, fileOffset: p + 16, sequence: records.count)) }
                end = max(end, off + kept)
                break
            }
            records.append(Record(offset: off, size: size, fileOffset: p + 16, sequence: records.count))
            end = max(end, rawEnd)
            p = dataEnd
        }
        self.ended = ended
        records.sort { ($0.offset, $0.sequence) < ($1.offset, $1.sequence) }
        overlapping = zip(records, records.dropFirst()).contains { $0.offset + $0.size > $1.offset }
        self.records = overlapping ? Self.resolve(records) : records
        self.size = end
    }

    /// Overlapping records made disjoint, the later record winning each byte: a sweep over the
    /// records' boundaries with the covering records in a heap by sequence (O(n log n)), so a
    /// lookup stays a binary search whatever the file stacks on one offset.
    static func resolve(_ sorted: [Record]) -> [Record] {
        var bounds = Set<UInt64>()
        for r in sorted { bounds.insert(r.offset); bounds.insert(r.offset + r.size) }
        let points = bounds.sorted()
        var heap = MaxHeap()
        var out: [Record] = []
        var next = 0
        for (a, b) in zip(points, points.dropFirst()) {
            while next < sorted.count, sorted[next].offset <= a { heap.push(sorted[next]); next += 1 }
            while let top = heap.top, top.offset + top.size <= a { _ = heap.pop() }
            guard let top = heap.top else { continue }
            let piece = Record(offset: a, size: b - a, fileOffset: top.fileOffset + (a - top.offset), sequence: top.sequence)
            if let last = out.last, last.sequence == piece.sequence, last.offset + last.size == a {
                out[out.count - 1].size += piece.size
            } else {
                out.append(piece)
            }
        }
        return out
    }

    /// Records by sequence, the latest on top.
    struct MaxHeap {
        private var items: [Record] = []
        var top: Record? { items.first }
        mutating func push(_ r: Record) {
            items.append(r)
            var i = items.count - 1
            while i > 0, items[(i - 1) / 2].sequence < items[i].sequence { items.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
        }
        mutating func pop() -> Record? {
            guard let first = items.first else { return nil }
            items.swapAt(0, items.count - 1)
            items.removeLast()
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l].sequence > items[m].sequence { m = l }
                if r < items.count, items[r].sequence > items[m].sequence { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
            return first
        }
    }

    func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        let (end, o) = offset.addingReportingOverflow(UInt64(count))
        guard !o, end <= size else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        // Records covering [offset, end): binary search the first record ending after offset.
        var lo = 0, hi = records.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if records[mid].offset + records[mid].size <= offset { lo = mid + 1 } else { hi = mid }
        }
        var covering: [Record] = []
        var i = lo
        while i < records.count, records[i].offset < end {
            if records[i].offset + records[i].size > offset { covering.append(records[i]) }
            i += 1
        }
        for r in covering.sorted(by: { $0.sequence < $1.sequence }) {
            let s = max(r.offset, offset), e = min(r.offset + r.size, end)
            guard s < e, let b = file.bytes(at: r.fileOffset + (s - r.offset), count: Int(e - s)) else { continue }
            out.replaceSubrange(Int(s - offset)..<Int(e - offset), with: b)
        }
        return out
    }
}

extension KdumpFile: FileDumpFormat {
    public static let kind = DumpKind(id: "kdump", name: "kdump-compressed dump")
    public static let infoKey: String? = "kdump"
    public convenience init(file: MappedFile, options: DumpOptions) throws(DumpError) {
        try self.init(file: file as any ByteSource)
    }
    public static func matches(_ file: MappedFile) -> Bool { matches(file as any ByteSource) }
    /// NT_PRSTATUS notes of the sub-header, else its nr_cpus.
    public var vcpuCount: Int? {
        let prstatus = notes.filter { $0.name == "CORE" && $0.type == 1 }.count
        return prstatus > 0 ? prstatus : (nrCPUs > 0 ? Int(nrCPUs) : nil)
    }
    public var vmcoreinfo: [(key: String, value: String)]? { vmcoreinfoPairs }
    public var extractNotes: [ELFCore.Note] { notes }
    public var details: DumpDetails {
        _ = missingRanges  // `info` checks the whole dump, whatever its size
        var text = "  kdump: \(container.rawValue), header version \(headerVersion), \(compression.isEmpty ? "uncompressed" : compression) pages, block size \(blockSize), max_mapnr \(maxMapnr), \(dumpablePages) blocks dumped, phys_base \(hex(physBase)), nr_cpus \(nrCPUs)\n"
        if let why = incompleteReason { text += "  note: the dump is incomplete: \(why)\n" }
        if !missingRanges.isEmpty {
            var m = TextTable(header: ["MISSING START", "END", "BYTES"], rightAligned: [2])
            for r in missingRanges { m.rows.append([r.start.description, hex(r.end - 1), String(r.length)]) }
            text += m.render(indent: "  ")
        }
        return DumpDetails(text: text, json: ["kdump": .object([
            "container": .string(container.rawValue), "headerVersion": .uint(UInt64(headerVersion)),
            "compression": .string(compression), "blockSize": .uint(blockSize),
            "maxMapnr": .uint(maxMapnr), "physBase": .hexString(physBase),
            "nrCPUs": .uint(UInt64(nrCPUs)), "dumpablePages": .int(Int64(dumpablePages))])])
    }
}

extension DumpKind {
    public static var kdump: DumpKind { KdumpFile.kind }
}
