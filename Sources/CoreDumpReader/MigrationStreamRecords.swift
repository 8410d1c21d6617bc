import ITSLayout
import TextFormats

/// The one pass over a migration stream's records (Documentation/input-formats.md §4.1–§4.3): the
/// configuration, RAM records (where each page's bytes are; no payload copied) and the device
/// sections, each walked with the JSON description (or the known ITS/GIC layouts without one).
/// Every loop consumes bytes, every lookup is by dictionary, and nothing is sized by a count
/// read from the file: the cost follows the bytes given.
struct RecordPass {
    let file: any ByteSource
    let start: UInt64
    let progress: ((UInt64, UInt64) -> Void)?
    var c: StreamCursor
    let json: JSONValue?
    /// Where the description is and why it could not be read, when it is damaged.
    let jsonDamage: String?
    /// The description's devices by name and instance.
    let described: [DeviceKey: JSONValue]
    var notes: [String] = []
    var pageSize: UInt64?
    var machine: String?
    var caps: [String] = []
    var targetPageBits: UInt32?
    var blocks: [MigrationStream.RAMBlock] = []
    var blockIndex: [String: Int] = [:]
    var sections: [MigrationStream.DeviceSection] = []
    var sectionIndex: [DeviceKey: Int] = [:]
    var sectionNames: [UInt32: String] = [:]
    var itsLeaves: [UInt32: [String: VMStateLayout.Leaf]] = [:]
    var gicLeaves: [String: VMStateLayout.Leaf]?
    var currentBlock: Int?

    struct DeviceKey: Hashable { var name: String; var instance: UInt32 }

    init(file: any ByteSource, start: UInt64, progress: ((UInt64, UInt64) -> Void)?) throws(DumpError) {
        self.file = file
        self.start = start
        self.progress = progress
        c = StreamCursor(file: file, offset: start)
        let m = try c.be32("stream header")
        guard m == MigrationStream.magic else {
            throw .notADump(path: file.path, reason: "not a QEMU migration stream (magic 0x\(String(m, radix: 16)), QEVM expected)")
        }
        let version = try c.be32("stream version")
        guard version == 3 else {
            throw .notADump(path: file.path, reason: "QEMU migration stream version \(version): only version 3 is read\(version == 2 ? " (version 2 is the pre-2008 format)" : "")")
        }
        switch Self.loadJSON(file) {
        case .absent:
            json = nil
            jsonDamage = nil
            notes.append("no JSON VM description at the end of the stream: the arm_gicv3 and arm_gicv3_its sections are read with their known QEMU 7.2–9.x layouts; other device sections cannot be skipped")
        case .damaged(let at, let why):
            json = nil
            jsonDamage = "the stream's JSON VM description at file offset 0x\(String(at, radix: 16)) is damaged (\(why))"
            notes.append("\(jsonDamage ?? ""): the arm_gicv3 and arm_gicv3_its sections are read with their known QEMU 7.2–9.x layouts")
        case .present(let v):
            json = v
            jsonDamage = nil
        }
        var described: [DeviceKey: JSONValue] = [:]
        for d in json?["devices"]?.arrayValue ?? [] {
            guard let name = d["name"]?.stringValue, let i = d["instance_id"]?.intValue, i >= 0, i <= Int(UInt32.max) else { continue }
            let key = DeviceKey(name: name, instance: UInt32(i))
            if described[key] == nil { described[key] = d }
        }
        self.described = described
        // A page size is a power of two from 1 KiB (ARM's TARGET_PAGE_BITS_MIN) to 64 KiB.
        pageSize = json?["page_size"]?.intValue.flatMap { v -> UInt64? in
            v >= 1024 && v <= 65536 && v & (v - 1) == 0 ? UInt64(v) : nil
        }
        if let v = json?["page_size"], pageSize == nil {
            notes.append("the JSON description's page_size \(TerminalText.cut(v.description)) is not a page size: ignored")
        }
    }

    /// An error met while reading without the description, said to come from a damaged one.
    func blame(_ e: DumpError) -> DumpError {
        guard let jsonDamage, case .malformed(let p, let o, let r) = e else { return e }
        return .malformed(path: p, offset: o, reason: "\(r) (\(jsonDamage))")
    }

    mutating func run() throws(DumpError) {
        var lastProgress = c.offset
        while true {
            if c.offset >= lastProgress, c.offset - lastProgress >= 64 << 20 {
                lastProgress = c.offset
                progress?(c.offset, file.size)
                file.release(below: c.offset)
            }
            let recordAt = c.offset
            let type = try c.u8("section type")
            switch type {
            case 0x07:  // QEMU_VM_CONFIGURATION (§4.1)
                try configuration(at: recordAt)
            case 0x01, 0x04:  // SECTION_START, SECTION_FULL (§4.2)
                let id = try c.be32("section id")
                let len = try c.u8("idstr length")
                let name = try c.string(Int(len), "section idstr")
                let instance = try c.be32("instance id")
                let sectionVersion = try c.be32("version id")
                sectionNames[id] = name
                if name == "ram" {
                    try ram()
                } else if type == 0x01 {
                    throw .notADump(path: file.path, reason: "iterative section \"\(TerminalText.cut(name))\" at offset \(recordAt) is not supported (only RAM is read)")
                } else {
                    do {
                        guard try device(name: name, instance: instance, version: sectionVersion, id: id, at: recordAt) else { return }
                    } catch {
                        throw blame(error)
                    }
                }
                do { try footer(id: id) } catch { throw blame(error) }
            case 0x02, 0x03:  // SECTION_PART, SECTION_END
                let id = try c.be32("section id")
                guard let name = sectionNames[id] else {
                    throw .malformed(path: file.path, offset: recordAt, reason: "section part for unknown section id \(id)")
                }
                guard name == "ram" else {
                    throw .notADump(path: file.path, reason: "iterative section \"\(TerminalText.cut(name))\" is not supported (only RAM is read)")
                }
                try ram()
                try footer(id: id)
            case 0x00, 0x06:  // EOF, VMDESCRIPTION
                progress?(file.size, file.size)
                return
            case 0x08:  // COMMAND
                _ = try c.be16("command")
                let len = try c.be16("command length")
                try c.skip(UInt64(len), "command data")
            default:
                throw .malformed(path: file.path, offset: recordAt, reason: "unknown record type 0x\(String(type, radix: 16)) in the stream")
            }
        }
    }

    /// QEMU_VM_CONFIGURATION: the machine name and its subsections.
    mutating func configuration(at recordAt: UInt64) throws(DumpError) {
        let len = try c.be32("machine name length")
        guard len <= 256 else { throw .malformed(path: file.path, offset: recordAt, reason: "machine name of \(len) bytes") }
        machine = try c.string(Int(len), "machine name")
        while c.peek() == 0x05 {
            let at = c.offset
            _ = try c.u8("subsection")
            let nameLen = try c.u8("subsection name length")
            let name = try c.string(Int(nameLen), "subsection name")
            _ = try c.be32("subsection version")
            switch name {
            case "configuration/target-page-bits":
                let bits = try c.be32("target-page-bits")
                guard bits >= 10, bits <= 16 else {
                    throw .malformed(path: file.path, offset: at, reason: "target-page-bits \(bits) is not a page size (10 to 16)")
                }
                targetPageBits = bits
            case "configuration/capabilities":
                let n = try c.be32("capability count")
                guard n <= 64 else { throw .malformed(path: file.path, offset: at, reason: "\(n) capabilities") }
                for _ in 0..<n { let l = try c.u8("capability length"); caps.append(try c.string(Int(l), "capability")) }
            case "configuration/uuid":
                try c.skip(16, "configuration uuid")
            default:
                throw .malformed(path: file.path, offset: at, reason: "unknown configuration subsection \(TerminalText.cut(name))")
            }
        }
    }

    /// One device section's data. A section seen before (same name and instance) is replaced,
    /// as QEMU's loader overwrites the device state. Returns false when the pass must stop
    /// (an unknown section after the ITS and GIC, without a description to skip it).
    mutating func device(name: String, instance: UInt32, version: UInt32, id: UInt32, at recordAt: UInt64) throws(DumpError) -> Bool {
        let dataAt = c.offset
        var leaves: [String: VMStateLayout.Leaf] = [:]
        let key = DeviceKey(name: name, instance: instance)
        if let desc = described[key] {
            var walk = VMStateLayout.Walk()
            try walk.walk(desc, cursor: &c)
            leaves = walk.leaves
        } else if json == nil, name == "arm_gicv3_its" {
            leaves = try KnownSectionLayouts.its(cursor: &c)
        } else if json == nil, name == "arm_gicv3" {
            leaves = try KnownSectionLayouts.gic(cursor: &c, sectionID: id)
        } else if json == nil, !itsLeaves.isEmpty, gicLeaves != nil {
            notes.append("stopped at device section \"\(TerminalText.cut(name))\" (offset \(recordAt)): it cannot be skipped without the JSON description; the ITS and GIC sections were read before it")
            return false
        } else if json == nil {
            throw .notADump(path: file.path, reason: "device section \"\(TerminalText.cut(name))\" at offset \(recordAt) comes before the ITS/GIC sections and cannot be skipped: the stream has no \(jsonDamage == nil ? "JSON description (QEMU's suppress-vmdesc?)" : "readable JSON description")")
        } else {
            throw .malformed(path: file.path, offset: recordAt, reason: "device section \"\(TerminalText.cut(name))\" instance \(instance) is not in the stream's JSON description")
        }
        var section = MigrationStream.DeviceSection(name: name, instance: instance, version: version,
                                                    offset: dataAt, length: c.offset - dataAt)
        // PCI config space: header type 1 (bridge) at 0x0E, secondary bus at 0x19 (PCI-to-PCI Bridge spec §3.2).
        if name.contains("/"), let cfg = leaves.values.filter({ ($0.path.split(separator: ".").last ?? "").hasPrefix("config") && $0.size >= 0x1A }).min(by: { $0.offset < $1.offset }),
           let h = file.bytes(at: cfg.offset + 0x0E, count: 12), h[0] & 0x7F == 1 {
            section.secondaryBus = h[0x19 - 0x0E]
        }
        if let i = sectionIndex[key] {
            notes.append("device section \"\(TerminalText.cut(name))\" instance \(instance) appears twice (offsets \(sections[i].offset) and \(dataAt)): the later copy is read, as QEMU loads it")
            sections[i] = section
        } else {
            sectionIndex[key] = sections.count
            sections.append(section)
        }
        if name == "arm_gicv3_its" { itsLeaves[instance] = leaves }
        if name == "arm_gicv3" { gicLeaves = leaves }
        return true
    }

    /// Every START/PART/END/FULL data block is followed by a footer on modern machine types.
    mutating func footer(id: UInt32) throws(DumpError) {
        guard c.peek() == 0x7E else { return }
        let at = c.offset
        _ = try c.u8("section footer")
        let fid = try c.be32("section footer id")
        guard fid == id else {
            throw .malformed(path: file.path, offset: at, reason: "section footer for id \(fid) where section \(id) ends: the section was not parsed to its end")
        }
    }

    static let unsupportedFlags: [(UInt64, String)] = [
        (0x001, "FULL"), (0x040, "XBZRLE"), (0x080, "HOOK (RDMA)"), (0x100, "COMPRESS_PAGE (multi-thread compression)"),
    ]

    /// RAM records up to EOS (§4.3).
    mutating func ram() throws(DumpError) {
        if pageSize == nil, let b = targetPageBits { pageSize = UInt64(1) << UInt64(min(b, 30)) }
        if pageSize == nil {
            pageSize = 4096
            notes.append("no page size in the stream: 4096 assumed")
        }
        let pageSize = self.pageSize ?? 4096
        let path = file.path
        let mask = pageSize - 1
        var nextRelease = c.offset + (64 << 20)
        while true {
            let at = c.offset
            if at >= nextRelease {
                nextRelease = at + (64 << 20)
                progress?(at, file.size)
            }
            let v = try c.be64("RAM record header")
            let flags = v & mask
            let addr = v & ~mask
            if flags & 0x1C1 != 0 {
                for (bit, name) in Self.unsupportedFlags where flags & bit != 0 {
                    throw .notADump(path: path, reason: "RAM record at offset \(at) uses \(name) encoding, which itsdump cannot decode; migrate again without that capability")
                }
            }
            guard flags & ~0x23E == 0 else {
                throw .malformed(path: path, offset: at, reason: "RAM record with unknown flags 0x\(String(flags, radix: 16))")
            }
            if flags & 0x004 != 0 {  // MEM_SIZE: the block list
                try blockList(total: addr, at: at, pageSize: pageSize)
                continue
            }
            if flags & 0x002 != 0 || flags & 0x008 != 0 {  // ZERO or PAGE
                if flags & 0x020 == 0 {  // no CONTINUE: the block is named
                    let len = try c.u8("RAM record idstr length")
                    let name = try c.string(Int(len), "RAM record idstr")
                    guard let i = blockIndex[name] else {
                        throw .malformed(path: path, offset: at, reason: "page for unknown RAM block \(TerminalText.cut(name))")
                    }
                    currentBlock = i
                }
                guard let i = currentBlock else {
                    throw .malformed(path: path, offset: at, reason: "CONTINUE page record before any block was named")
                }
                guard addr < blocks[i].length else {
                    throw .malformed(path: path, offset: at, reason: "page at offset 0x\(String(addr, radix: 16)) beyond the \(blocks[i].length)-byte block \(TerminalText.cut(blocks[i].name))")
                }
                let page = addr / pageSize
                if flags & 0x002 != 0 {
                    let fill = try c.u8("zero page fill byte")
                    blocks[i].pages.append(page, PageIndex.zero | UInt64(fill), stride: pageSize + 8)
                } else {
                    blocks[i].pages.append(page, c.offset, stride: pageSize + 8)
                    try c.skip(pageSize, "page data of \(TerminalText.cut(blocks[i].name))+0x\(String(addr, radix: 16))")
                }
                blocks[i].pagesSent += 1
                continue
            }
            if flags & 0x200 != 0 { continue }  // MULTIFD_FLUSH
            if flags & 0x010 != 0 { return }  // EOS
            throw .malformed(path: path, offset: at, reason: "RAM record without a known flag (0x\(String(flags, radix: 16)))")
        }
    }

    /// RAM_SAVE_FLAG_MEM_SIZE: the blocks, whose lengths add up to `total`.
    mutating func blockList(total want: UInt64, at: UInt64, pageSize: UInt64) throws(DumpError) {
        let path = file.path
        var total: UInt64 = 0
        while total < want {
            guard blocks.count < MigrationStream.maxBlocks else {
                throw .malformed(path: path, offset: c.offset, reason: "more than \(MigrationStream.maxBlocks) RAM blocks")
            }
            let len = try c.u8("RAM block idstr length")
            let name = try c.string(Int(len), "RAM block idstr")
            let length = try c.be64("RAM block length")
            guard length <= MigrationStream.maxBlockLength, length % pageSize == 0 || length < pageSize else {
                throw .malformed(path: path, offset: c.offset - 8, reason: "RAM block \(TerminalText.cut(name)) claims \(length) bytes: oversize or not a whole number of pages")
            }
            var block = MigrationStream.RAMBlock(name: name, length: length, gpa: nil, mapping: "not mapped (use --ram-block \(name)@GPA)")
            if caps.contains("x-ignore-shared") { block.gpa = try c.be64("RAM block address"); block.mapping = "stream (x-ignore-shared)" }
            if caps.contains("mapped-ram") {
                // MappedRamHeader (§4.5): version, page_size, bitmap_offset, pages_offset.
                let hv = try c.be32("mapped-ram header version")
                guard hv == 1 else { throw .malformed(path: path, offset: c.offset - 4, reason: "mapped-ram header version \(hv)") }
                _ = try c.be64("mapped-ram page size")
                let bitmap = try c.be64("mapped-ram bitmap offset")
                let pages = try c.be64("mapped-ram pages offset")
                let headerEnd = c.offset
                let (bStart, o1) = start.addingReportingOverflow(bitmap)
                let (pStart, o2) = start.addingReportingOverflow(pages)
                let (pEnd, o3) = pStart.addingReportingOverflow(length)
                let bitmapBytes = (length / pageSize + 63) / 64 * 8
                let (bEnd, o4) = bStart.addingReportingOverflow(bitmapBytes)
                guard !o1, !o2, !o3, !o4, pEnd <= file.size, bEnd <= file.size else {
                    throw .malformed(path: path, offset: headerEnd, reason: "mapped-ram block \(TerminalText.cut(name)): its bitmap or pages lie past the end of the file")
                }
                // The writer seeks forward past the block's page area: an area at or before
                // this header would make the pass go back over bytes it has read.
                guard pStart >= headerEnd else {
                    throw .malformed(path: path, offset: headerEnd, reason: "mapped-ram block \(TerminalText.cut(name)): its page area at file offset \(pStart) is not after its header (the stream points back at earlier bytes)")
                }
                block.mappedRAM = (bStart, pStart)
                c.offset = pEnd
            }
            let (t, o) = total.addingReportingOverflow(length)
            guard !o else { throw .malformed(path: path, offset: c.offset, reason: "RAM block sizes overflow") }
            total = t
            if let i = blockIndex[name] { blocks[i] = block } else { blockIndex[name] = blocks.count; blocks.append(block) }
        }
        guard total == want else {
            throw .malformed(path: path, offset: at, reason: "RAM block sizes add up to \(total), the header says \(want)")
        }
    }

    enum Description {
        case absent
        case damaged(at: UInt64, why: String)
        case present(JSONValue)
    }

    /// The JSON VM description at the end (§4.7): the last NUL of the final ≤ 10 MiB, then the
    /// first `{` after it, preceded by 0x06 and its be32 length. Found but unreadable (cut short,
    /// not JSON, not an object) is "damaged", said with its offset. Searched 64 KiB at a time
    /// from the end (a stream without a description ends in its EOF byte, a NUL), so only the
    /// description itself is held whole.
    static func loadJSON(_ file: any ByteSource) -> Description {
        let size = file.size
        let windowStart = size - min(size, 10 << 20)
        let piece: UInt64 = 64 << 10
        var nul: UInt64?
        var end = size
        while nul == nil, end > windowStart {
            let from = end - min(piece, end - windowStart)
            guard let b = file.bytes(at: from, count: Int(end - from)) else { return .absent }
            nul = b.lastIndex(of: 0).map { from + UInt64($0) }
            end = from
        }
        var brace: UInt64?
        var from = nul ?? size
        while brace == nil, from < size {
            let n = min(piece, size - from)
            guard let b = file.bytes(at: from, count: Int(n)) else { return .absent }
            brace = b.firstIndex(of: UInt8(ascii: "{")).map { from + UInt64($0) }
            from += n
        }
        guard let brace, brace - windowStart >= 5, file.u8(brace - 5) == 0x06, let len = file.be32(brace - 4) else { return .absent }
        let at = brace - 5
        guard UInt64(len) <= size - brace else {
            return .damaged(at: at, why: "it claims \(len) bytes, the file has \(size - brace) after it")
        }
        let v: JSONValue
        do { v = try JSONValue.parse(file.bytes(at: brace, count: Int(len)) ?? []) } catch {
            return .damaged(at: at, why: "not JSON: \(error)")
        }
        guard v.objectValue != nil else { return .damaged(at: at, why: "not a JSON object") }
        return .present(v)
    }
}

/// Page index → where its bytes are, as runs of consecutive pages: a run of PAGE records is
/// one file offset (each next record's data `pageSize + 8` bytes on: an 8-byte header with
/// CONTINUE, then the page), a run of zero pages one fill byte (§4.3). 16 bytes per run, never
/// sized by the highest page number a record names: a stream sent in page order (a stopped
/// guest: every page once) is a handful of runs, one whose records alternate is at most one run
/// per record (a record is at least 9 bytes). Runs are appended as records come; a page sent
/// again (a later iteration) leaves the runs out of order, and `finish` makes them disjoint
/// with the later copy of a page winning, as QEMU's loader keeps it (§4.3 "Duplicates").
/// Lookups are binary searches.
struct PageIndex: Sendable {
    static let zero: UInt64 = 1 << 63
    /// A page number fits in 40 bits (a block is at most 2^50 bytes of pages of at least 1 KiB),
    /// a run's length in the 24 below it.
    struct Run: Sendable {
        var key: UInt64
        /// `zero | fill`, or the file offset of the first page's data.
        var value: UInt64
        var first: UInt64 { key >> 24 }
        var count: UInt64 { key & Self.maxCount }
        static let maxCount: UInt64 = (1 << 24) - 1
        init(first: UInt64, count: UInt64, value: UInt64) { key = first << 24 | count; self.value = value }
    }
    private(set) var runs: [Run] = []
    private var ordered = true

    /// Records `value` for `page`; `stride` is the distance between two consecutive PAGE
    /// records' data (page size + 8).
    @inline(__always)
    mutating func append(_ page: UInt64, _ value: UInt64, stride: UInt64) {
        if let last = runs.last {
            let next = last.first + last.count
            if page == next, last.count < Run.maxCount,
               value & Self.zero == 0 ? last.value & Self.zero == 0 && value == last.value + last.count * stride : value == last.value {
                runs[runs.count - 1].key += 1
                return
            }
            if page == next - 1 {  // the last page again: the run gives it up (the pass stays ordered)
                if last.count == 1 { runs[runs.count - 1].value = value; return }
                runs[runs.count - 1].key -= 1
            } else if page < next {
                ordered = false
            }
        }
        runs.append(Run(first: page, count: 1, value: value))
    }

    /// Sorts the runs by page and makes them disjoint, the later of two copies of a page
    /// winning; call once after the pass. (The sweep of the flattened kdump container's
    /// records, O(n log n), on the runs as records; each piece keeps its run's offset.)
    mutating func finish(stride: UInt64) {
        guard !ordered else { return }
        let records = runs.enumerated().map { FlattenedSource.Record(offset: $1.first, size: $1.count, fileOffset: 0, sequence: $0) }
            .sorted { ($0.offset, $0.sequence) < ($1.offset, $1.sequence) }
        runs = FlattenedSource.resolve(records).map { piece in
            // The piece starts `fileOffset` pages into run number `sequence`.
            let run = runs[piece.sequence]
            let value = run.value & Self.zero != 0 ? run.value : run.value + piece.fileOffset * stride
            return Run(first: piece.offset, count: piece.size, value: value)
        }
        ordered = true
    }

    /// Pages indexed (each once).
    var count: Int { runs.reduce(0) { $0 + Int($1.count) } }

    /// The entry of `page` (for a data page, the file offset of its bytes), or 0 when the
    /// stream did not send it.
    func get(_ page: UInt64, stride: UInt64) -> UInt64 {
        var lo = 0, hi = runs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if runs[mid].first <= page { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return 0 }
        let r = runs[lo - 1]
        guard page - r.first < r.count else { return 0 }
        return r.value & Self.zero != 0 ? r.value : r.value + (page - r.first) * stride
    }
}
