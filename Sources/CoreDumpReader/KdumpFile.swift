import Glibc
import ITSLayout
import TextFormats
import Synchronization

/// A kdump-compressed dump (makedumpfile's diskdump format) as QEMU's `dump-guest-memory -z/-l/-s`
/// and `virsh dump --format kdump-*` write it (input-formats.md §2): the flattened container
/// (QEMU 7.2 always writes it) or the plain one. Pages are looked up without decompressing the
/// dump: PFN → descriptor by rank over the dumpable bitmap, one page decompressed on demand.
public final class KdumpFile: GuestMemory, @unchecked Sendable {
    public enum Container: String, Sendable {
        case flattened = "flattened (makedumpfile -F)"
        case plain = "plain diskdump"
    }

    public let file: MappedFile
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
    public let presentRanges: [GuestRange]
    public let dumpablePages: Int

    let source: DiskDumpSource
    let ramBitmap: [UInt64]
    let dumpBitmap: [UInt64]
    /// Set bits of `dumpBitmap` before each word (the rank index: O(1) per lookup).
    let rankBefore: [UInt32]
    let descriptorsAt: UInt64
    private let cache = PageCache()

    static let flatSignature = Array("makedumpfile".utf8)
    static let signature = Array("KDUMP   ".utf8)
    /// Bitmaps larger than this are not read into memory (a 16 TiB guest with 4 KiB blocks).
    static let maxBitmapBytes: UInt64 = 64 << 20

    public static func matches(_ file: MappedFile) -> Bool {
        file.bytes(at: 0, count: 12) == flatSignature || file.bytes(at: 0, count: 8) == signature
    }

    public init(file: MappedFile) throws(DumpError) {
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
        guard let h = source.bytes(at: 0, count: 464) else { throw bad(0, "disk_dump_header (464 bytes) is not in the file") }
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
        if headerVersion >= 4 {
            let at = le(sub, 48, 8), size = le(sub, 56, 8)
            if size > 0, size <= 16 << 20, let blob = source.bytes(at: at, count: Int(size)) {
                notes = ELFCore.parseNotes(blob, fileOffset: at)
            }
        }
        if headerVersion >= 3 {
            let at = le(sub, 32, 8), size = le(sub, 40, 8)
            if size > 0, size <= 1 << 20, let text = source.bytes(at: at, count: Int(size)) {
                vmcoreinfo = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        self.notes = notes
        self.vmcoreinfoText = vmcoreinfo ?? notes.first { $0.name == "VMCOREINFO" }.map {
            String(decoding: $0.descriptor.prefix { $0 != 0 }, as: UTF8.self)
        }
        // Bitmaps (§2.6): the first says which PFNs are RAM, the second which are in the dump.
        let (bitmapBytes, o1) = bitmapBlocks.multipliedReportingOverflow(by: blockSize)
        let half = bitmapBytes / 2
        let bitmapAt = (1 + subHeaderBlocks) * blockSize
        guard !o1, half <= Self.maxBitmapBytes, bitmapAt + bitmapBytes <= source.size else {
            throw bad(bitmapAt, "the bitmaps (\(bitmapBlocks) blocks of \(blockSize) bytes) do not fit in the \(source.size)-byte dump: truncated or corrupt")
        }
        guard maxMapnr <= half * 8 else {
            throw bad(blockSize + 96, "max_mapnr \(maxMapnr) exceeds the \(half * 8) bits of the bitmap")
        }
        func words(_ at: UInt64) throws(DumpError) -> [UInt64] {
            guard let b = source.bytes(at: at, count: Int(half)) else { throw bad(at, "bitmap cut short") }
            return stride(from: 0, to: b.count, by: 8).map { b.loadLE(at: $0, count: min(8, b.count - $0)) }
        }
        ramBitmap = try words(bitmapAt)
        dumpBitmap = try words(bitmapAt + half)
        var rank: [UInt32] = []
        rank.reserveCapacity(dumpBitmap.count)
        var total: UInt32 = 0
        for w in dumpBitmap {
            rank.append(total)
            total += UInt32(w.nonzeroBitCount)
        }
        rankBefore = rank
        dumpablePages = Int(total)
        descriptorsAt = bitmapAt + bitmapBytes
        let (descEnd, o2) = descriptorsAt.addingReportingOverflow(UInt64(total) * 24)
        guard !o2, descEnd <= source.size else {
            throw bad(descriptorsAt, "\(total) page descriptors do not fit in the \(source.size)-byte dump: truncated")
        }
        // Present ranges: runs of dumpable PFNs.
        var ranges: [GuestRange] = []
        var pfn: UInt64 = 0
        let limit = min(maxMapnr, UInt64(dumpBitmap.count) * 64)
        while pfn < limit {
            let w = dumpBitmap[Int(pfn / 64)]
            if w == 0 { pfn = (pfn / 64 + 1) * 64; continue }
            if w >> (pfn % 64) & 1 == 1 {
                let start = pfn
                while pfn < limit, dumpBitmap[Int(pfn / 64)] >> (pfn % 64) & 1 == 1 { pfn += 1 }
                ranges.append(GuestRange(start: GuestPhysicalAddress(start * blockSize), length: (pfn - start) * blockSize))
            } else {
                pfn += 1
            }
        }
        presentRanges = ranges
    }

    public var compression: String {
        PageCompression.allCases.filter { status & $0.rawValue != 0 }.map(\.name).joined(separator: "+")
    }

    /// Descriptor index of `pfn`, or nil when the PFN is not in the dump.
    func descriptorIndex(_ pfn: UInt64) -> UInt64? {
        let word = pfn / 64
        guard pfn < maxMapnr, word < UInt64(dumpBitmap.count) else { return nil }
        let w = dumpBitmap[Int(word)]
        let bit = pfn % 64
        guard w >> bit & 1 == 1 else { return nil }
        let below = bit == 0 ? 0 : (w & ((UInt64(1) << bit) - 1)).nonzeroBitCount
        return UInt64(rankBefore[Int(word)]) + UInt64(below)
    }

    /// The decompressed block of `pfn`, or why it cannot be had.
    func block(_ pfn: UInt64) -> Result<[UInt8], KdumpPageError> {
        if let b = cache.get(pfn) { return .success(b) }
        guard let index = descriptorIndex(pfn) else { return .failure(.notDumped) }
        guard let d = source.bytes(at: descriptorsAt + index * 24, count: 24) else { return .failure(.corrupt("descriptor unreadable")) }
        let offset = d.loadLE(at: 0, count: 8), size = d.loadLE(at: 8, count: 4), flags = UInt32(d.loadLE(at: 12, count: 4))
        if offset == 0 { return .failure(.notDumped) }  // DUMP_DH_COMPRESSED_INCOMPLETE leaves these
        guard size <= blockSize * 2, let data = source.bytes(at: offset, count: Int(size)) else {
            return .failure(.corrupt("descriptor \(index) points at \(size) bytes at offset \(offset), past the end of the dump"))
        }
        let out: [UInt8]?
        if flags & 0x27 == 0 {
            out = size == blockSize ? data : nil
        } else if let c = PageCompression.allCases.first(where: { flags & $0.rawValue != 0 }) {
            out = c.decompress(data, size: Int(blockSize))
        } else {
            out = nil
        }
        guard let out else { return .failure(.corrupt("block of PFN \(pfn) (flags 0x\(String(flags, radix: 16))) does not decompress to \(blockSize) bytes")) }
        cache.put(pfn, out)
        return .success(out)
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
    case corrupt(String)
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
}

struct PlainSource: DiskDumpSource {
    let file: MappedFile
    var size: UInt64 { file.size }
    func bytes(at offset: UInt64, count: Int) -> [UInt8]? { file.bytes(at: offset, count: count) }
}

/// makedumpfile's flattened format (§2.2): records (be64 offset, be64 size, data) that belong
/// at `offset` of the plain file, indexed once; holes between records read as zeros, as in
/// `makedumpfile -R` output. A later record wins where records overlap.
struct FlattenedSource: DiskDumpSource {
    struct Record { var offset: UInt64; var size: UInt64; var fileOffset: UInt64; var sequence: Int }
    let file: MappedFile
    let records: [Record]
    let size: UInt64
    let overlapping: Bool

    init(file: MappedFile) throws(DumpError) {
        self.file = file
        guard file.be64(16) == 1, file.be64(24) == 1 else {
            throw .malformed(path: file.path, offset: 16, reason: "flattened header type/version are not 1/1")
        }
        var records: [Record] = []
        var p: UInt64 = 4096
        var end: UInt64 = 0
        while true {
            guard let off = file.be64(p), let size = file.be64(p + 8) else {
                if p == file.size { break }  // no end marker: an incomplete dump, read what is there
                throw .malformed(path: file.path, offset: p, reason: "flattened record header cut short")
            }
            if off == UInt64.max && size == UInt64.max { break }
            let (dataEnd, o1) = (p + 16).addingReportingOverflow(size)
            let (rawEnd, o2) = off.addingReportingOverflow(size)
            guard !o1, !o2, dataEnd <= file.size else {
                throw .malformed(path: file.path, offset: p, reason: "flattened record of \(size) bytes for offset \(off) runs past the end of the file (truncated)")
            }
            records.append(Record(offset: off, size: size, fileOffset: p + 16, sequence: records.count))
            end = max(end, rawEnd)
            p = dataEnd
        }
        records.sort { ($0.offset, $0.sequence) < ($1.offset, $1.sequence) }
        overlapping = zip(records, records.dropFirst()).contains { $0.offset + $0.size > $1.offset }
        self.records = records
        self.size = end
    }

    func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        let (end, o) = offset.addingReportingOverflow(UInt64(count))
        guard !o, end <= size else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        // Records covering [offset, end): binary search the first record ending after offset.
        var lo = 0, hi = records.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if records[mid].offset + records[mid].size <= offset && !overlapping { lo = mid + 1 } else { hi = mid }
        }
        var covering: [Record] = []
        var i = overlapping ? 0 : lo
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
        try self.init(file: file)
    }
    /// NT_PRSTATUS notes of the sub-header, else its nr_cpus.
    public var vcpuCount: Int? {
        let prstatus = notes.filter { $0.name == "CORE" && $0.type == 1 }.count
        return prstatus > 0 ? prstatus : (nrCPUs > 0 ? Int(nrCPUs) : nil)
    }
    public var vmcoreinfo: [(key: String, value: String)]? { vmcoreinfoText.map(parseVMCOREINFO) }
    public var extractNotes: [ELFCore.Note] { notes }
    public var details: DumpDetails {
        var text = "  kdump: \(container.rawValue), header version \(headerVersion), \(compression.isEmpty ? "uncompressed" : compression) pages, block size \(blockSize), max_mapnr \(maxMapnr), \(dumpablePages) blocks dumped, phys_base \(hex(physBase)), nr_cpus \(nrCPUs)\n"
        if status & 0x8 != 0 { text += "  note: the dump is marked incomplete (DUMP_DH_COMPRESSED_INCOMPLETE)\n" }
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
