import ITSLayout
import TextFormats

/// A QEMU migration stream (`migrate "exec:cat > FILE"`, `migrate file:…`, the payload of a
/// `virsh save` image; input-formats.md §4). One pass records where each page's bytes are
/// (no payload is copied: the file is mapped) and decodes the ITS and GIC registers from the
/// `arm_gicv3_its` and `arm_gicv3` device sections (its-formats.md §5).
public final class MigrationStream: GuestMemory, @unchecked Sendable {
    public struct RAMBlock: Sendable {
        public var name: String
        public var length: UInt64
        /// The guest-physical address the block is mapped at, if any, and why.
        public var gpa: UInt64?
        public var mapping: String
        /// Pages the stream carries for this block (zero pages included).
        public fileprivate(set) var pagesSent: Int = 0
        fileprivate var pages = PageTable()
        /// mapped-ram (§4.5): the block's bitmap and page area, at fixed file offsets.
        fileprivate var mappedRAM: (bitmap: UInt64, pages: UInt64)?
    }

    public struct DeviceSection: Sendable {
        public var name: String
        public var instance: UInt32
        public var version: UInt32
        public var offset: UInt64
        public var length: UInt64
    }

    public let file: any ByteSource
    /// Where the QEMU stream starts (after a libvirt save header, or 0).
    public let streamStart: UInt64
    public let libvirtHeader: Bool
    public let machine: String?
    public let pageSize: UInt64
    public let capabilities: [String]
    public let blocks: [RAMBlock]
    public let sections: [DeviceSection]
    public let streamRegisters: RegisterState
    /// CPUs of the `arm_gicv3` section.
    public let gicCPUs: Int?
    public let hasJSON: Bool
    /// What the reader inferred or could not do, in plain words (shown by `info`).
    public let notes: [String]
    public let presentRanges: [GuestRange]

    static let magic: UInt32 = 0x5145_564D  // "QEVM"
    static let libvirtMagic = Array("LibvirtQemudSave".utf8)
    static let libvirtPartial = Array("LibvirtQemudPart".utf8)
    /// Blocks longer than this are not RAM any machine has (1 PiB).
    static let maxBlockLength: UInt64 = 1 << 50
    static let maxBlocks = 4096

    public static func matches(_ file: any ByteSource) -> Bool {
        file.be32(0) == magic || file.bytes(at: 0, count: 16) == libvirtMagic || file.bytes(at: 0, count: 16) == libvirtPartial
    }

    /// - Parameters:
    ///   - ramBlocks: `--ram-block NAME@GPA` mappings; they override the defaults.
    ///   - progress: called with the file offset now and then during the pass.
    public init(file: any ByteSource, ramBlocks: [String: UInt64] = [:],
                progress: ((UInt64, UInt64) -> Void)? = nil) throws(DumpError)
    {
        self.file = file
        var notes: [String] = []
        // libvirt's virQEMUSaveHeader (§4.8): 92 bytes, host byte order, then data_len bytes.
        var start: UInt64 = 0
        let head = file.bytes(at: 0, count: 16)
        if head == Self.libvirtPartial {
            throw .notADump(path: file.path, reason: "a libvirt save image that was never completed (magic LibvirtQemudPart)")
        }
        libvirtHeader = head == Self.libvirtMagic
        if libvirtHeader {
            guard var version = file.le(16, 4), var dataLen = file.le(20, 4), var format = file.le(28, 4) else {
                throw .malformed(path: file.path, offset: 0, reason: "libvirt save header cut short (92 bytes expected)")
            }
            if version > 0xFFFF {  // written on a host of the other byte order
                version = UInt64(UInt32(version).byteSwapped)
                dataLen = UInt64(UInt32(dataLen).byteSwapped)
                format = UInt64(UInt32(format).byteSwapped)
            }
            start = 92 + dataLen
            let tools = [1: ("gzip", "gzip -dc"), 2: ("bzip2", "bzip2 -dc"), 3: ("xz", "xz -dc"), 4: ("lzop", "lzop -dc"), 5: ("zstd", "zstd -dc")]
            if let (name, command) = tools[Int(format)] {
                throw .notADump(path: file.path,
                    reason: "libvirt save image (version \(version)) whose migration stream is \(name)-compressed; decompress it first: tail -c +\(start + 1) '\(file.path)' | \(command) > vm.mig")
            }
            guard format == 0 || format == 6 else {
                throw .notADump(path: file.path, reason: "libvirt save image with unknown payload format \(format)")
            }
            notes.append("libvirt save image (version \(version)): QEMU stream at file offset \(start)")
        }
        streamStart = start
        var c = StreamCursor(file: file, offset: start)
        let m = try c.be32("stream header")
        guard m == Self.magic else {
            throw .notADump(path: file.path, reason: "not a QEMU migration stream (magic 0x\(String(m, radix: 16)), QEVM expected)")
        }
        let version = try c.be32("stream version")
        guard version == 3 else {
            throw .notADump(path: file.path, reason: "QEMU migration stream version \(version): only version 3 is read\(version == 2 ? " (version 2 is the pre-2008 format)" : "")")
        }

        let json = Self.loadJSON(file)
        hasJSON = json != nil
        if json == nil { notes.append("no JSON VM description at the end of the stream: the arm_gicv3 and arm_gicv3_its sections are read with their known QEMU 7.2–9.x layouts; other device sections cannot be skipped") }
        let jsonDevices = json?["devices"]?.arrayValue ?? []
        // A page size is a power of two from 1 KiB (ARM's TARGET_PAGE_BITS_MIN) to 64 KiB.
        var jsonPageSize = json?["page_size"]?.intValue.flatMap { v -> UInt64? in
            v >= 1024 && v <= 65536 && v & (v - 1) == 0 ? UInt64(v) : nil
        }
        if let v = json?["page_size"], jsonPageSize == nil {
            notes.append("the JSON description's page_size \(v) is not a page size: ignored")
        }

        var machine: String?
        var caps: [String] = []
        var targetPageBits: UInt32?
        var blocks: [RAMBlock] = []
        var sections: [DeviceSection] = []
        var sectionNames: [UInt32: (String, UInt32)] = [:]
        var itsLeaves: [(UInt32, [VMStateLayout.Leaf])] = []
        var gicLeaves: [VMStateLayout.Leaf] = []
        var currentBlock: Int?
        var lastProgress: UInt64 = 0
        var ended = false

        parsing: while !ended {
            if c.offset - lastProgress >= 64 << 20 {
                lastProgress = c.offset
                progress?(c.offset, file.size)
                file.release(below: c.offset)
            }
            let recordAt = c.offset
            let type = try c.u8("section type")
            switch type {
            case 0x07:  // QEMU_VM_CONFIGURATION (§4.1)
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
                        throw .malformed(path: file.path, offset: at, reason: "unknown configuration subsection \(name)")
                    }
                }
            case 0x01, 0x04:  // SECTION_START, SECTION_FULL (§4.2)
                let id = try c.be32("section id")
                let len = try c.u8("idstr length")
                let name = try c.string(Int(len), "section idstr")
                let instance = try c.be32("instance id")
                let sectionVersion = try c.be32("version id")
                sectionNames[id] = (name, instance)
                if name == "ram" {
                    if jsonPageSize == nil, let b = targetPageBits { jsonPageSize = UInt64(1) << UInt64(min(b, 30)) }
                    if jsonPageSize == nil {
                        jsonPageSize = 4096
                        notes.append("no page size in the stream: 4096 assumed")
                    }
                    try Self.readRAM(&c, pageSize: jsonPageSize ?? 4096, blocks: &blocks, current: &currentBlock,
                                     caps: caps, start: start, progress: progress)
                } else if type == 0x01 {
                    throw .notADump(path: file.path, reason: "iterative section \"\(name)\" at offset \(recordAt) is not supported (only RAM is read)")
                } else {
                    let dataAt = c.offset
                    var leaves: [VMStateLayout.Leaf] = []
                    if let desc = jsonDevices.first(where: { $0["name"]?.stringValue == name && $0["instance_id"]?.intValue == Int(instance) }) {
                        try VMStateLayout.walk(desc, cursor: &c, leaves: &leaves)
                    } else if json == nil, name == "arm_gicv3_its" {
                        leaves = try KnownSectionLayouts.its(cursor: &c)
                    } else if json == nil, name == "arm_gicv3" {
                        leaves = try KnownSectionLayouts.gic(cursor: &c, sectionID: id)
                    } else if json == nil, !itsLeaves.isEmpty, !gicLeaves.isEmpty {
                        notes.append("stopped at device section \"\(name)\" (offset \(recordAt)): it cannot be skipped without the JSON description; the ITS and GIC sections were read before it")
                        break parsing
                    } else if json == nil {
                        throw .notADump(path: file.path, reason: "device section \"\(name)\" at offset \(recordAt) comes before the ITS/GIC sections and cannot be skipped: the stream has no JSON description (QEMU's suppress-vmdesc?)")
                    } else {
                        throw .malformed(path: file.path, offset: recordAt, reason: "device section \"\(name)\" instance \(instance) is not in the stream's JSON description")
                    }
                    sections.append(DeviceSection(name: name, instance: instance, version: sectionVersion,
                                                  offset: dataAt, length: c.offset - dataAt))
                    if name == "arm_gicv3_its" { itsLeaves.append((instance, leaves)) }
                    if name == "arm_gicv3" { gicLeaves = leaves }
                }
                try Self.footer(&c, id: id)
            case 0x02, 0x03:  // SECTION_PART, SECTION_END
                let id = try c.be32("section id")
                guard let (name, _) = sectionNames[id] else {
                    throw .malformed(path: file.path, offset: recordAt, reason: "section part for unknown section id \(id)")
                }
                guard name == "ram" else {
                    throw .notADump(path: file.path, reason: "iterative section \"\(name)\" is not supported (only RAM is read)")
                }
                try Self.readRAM(&c, pageSize: jsonPageSize ?? 4096, blocks: &blocks, current: &currentBlock,
                                 caps: caps, start: start, progress: progress)
                try Self.footer(&c, id: id)
            case 0x00, 0x06:  // EOF, VMDESCRIPTION
                ended = true
            case 0x08:  // COMMAND
                _ = try c.be16("command")
                let len = try c.be16("command length")
                try c.skip(UInt64(len), "command data")
            default:
                throw .malformed(path: file.path, offset: recordAt, reason: "unknown record type 0x\(String(type, radix: 16)) in the stream")
            }
        }
        progress?(file.size, file.size)

        // Block name → guest PA (§4.3): mach-virt.ram at 0x40000000 on virt; with a memory
        // backend the main RAM block is named after it, so the one RAM-like block is taken.
        let isVirt = machine?.hasPrefix("virt") ?? true
        let romLike = { (n: String) in n.hasPrefix("virt.flash") || n.hasPrefix("/rom@") || n.contains(".rom") || n.contains("/") }
        let candidates = blocks.indices.filter { !romLike(blocks[$0].name) && blocks[$0].name != "pvtime" }
        for i in blocks.indices {
            let n = blocks[i].name
            if let gpa = ramBlocks[n] {
                blocks[i].gpa = gpa
                blocks[i].mapping = "--ram-block \(n)@\(hex(gpa))"
            } else if blocks[i].gpa != nil {
                // x-ignore-shared streams carry the GPA.
            } else if isVirt, n == "mach-virt.ram" {
                blocks[i].gpa = 0x4000_0000
                blocks[i].mapping = "virt machine's main RAM (input-formats.md §3.2)"
            } else if isVirt, !blocks.contains(where: { $0.name == "mach-virt.ram" }), candidates == [i],
                      !ramBlocks.values.contains(0x4000_0000)
            {
                blocks[i].gpa = 0x4000_0000
                blocks[i].mapping = "inferred: the only RAM block of a virt machine without mach-virt.ram (a memory backend) — override with --ram-block \(n)@GPA"
            } else if isVirt, n == "pvtime" {
                blocks[i].gpa = 0x090A_0000
                blocks[i].mapping = "virt machine's pvtime region (KVM)"
            }
        }
        for (n, _) in ramBlocks where !blocks.contains(where: { $0.name == n }) {
            throw .badArgument("--ram-block \(n)@…: the stream has no RAM block named \(n) (it has \(blocks.map(\.name).joined(separator: ", ")))")
        }
        let mapped = blocks.filter { $0.gpa != nil }.sorted { ($0.gpa ?? 0) < ($1.gpa ?? 0) }
        var ranges: [GuestRange] = []
        for b in mapped {
            guard let gpa = b.gpa, b.length > 0, gpa.addingReportingOverflow(b.length - 1).overflow == false else { continue }
            let r = GuestRange(start: GuestPhysicalAddress(gpa), length: b.length)
            if let last = ranges.last, last.overlaps(r) {
                throw .badArgument("RAM blocks overlap at \(r.start): give each block its own address with --ram-block NAME@GPA")
            }
            ranges.append(r)
        }
        presentRanges = ranges
        self.blocks = blocks
        self.sections = sections
        self.machine = machine
        self.capabilities = caps
        self.pageSize = jsonPageSize ?? 4096

        // Registers (its-formats.md §5.1, §5.2).
        var state = RegisterState()
        func value(_ leaves: [VMStateLayout.Leaf], _ path: String) -> UInt64? {
            guard let l = leaves.first(where: { $0.path == path }), l.size <= 8, l.size > 0 else { return nil }
            return file.be(l.offset, Int(l.size))
        }
        for (instance, leaves) in itsLeaves.sorted(by: { $0.0 < $1.0 }) {
            let p = { (f: String) in Provenance(.migrationStream, "arm_gicv3_its[\(instance)].\(f)") }
            var its = ITSRegisterState()
            if let v = value(leaves, "ctlr") { its.ctlr = Sourced(GITSCTLR(rawValue: v), p("ctlr")) }
            if let v = value(leaves, "iidr") { its.iidr = Sourced(GITSIIDR(rawValue: v), p("iidr")) }
            if let v = value(leaves, "cbaser") { its.cbaser = Sourced(GITSCBaser(rawValue: v), p("cbaser")) }
            if let v = value(leaves, "cwriter") { its.cwriter = Sourced(GITSCommandOffset(rawValue: v), p("cwriter")) }
            if let v = value(leaves, "creadr") { its.creadr = Sourced(GITSCommandOffset(rawValue: v), p("creadr")) }
            for n in 0..<8 {
                if let v = value(leaves, "baser[\(n)]") { its.baser[n] = Sourced(GITSBaser(rawValue: v), p("baser[\(n)]")) }
            }
            if isVirt, instance == 0 {
                its.base = Sourced(GuestPhysicalAddress(0x0808_0000), Provenance(.inferred, "virt machine memory map (input-formats.md §3.2)"))
            }
            state.its.append(its)
        }
        if !itsLeaves.isEmpty {
            notes.append("GITS_TYPER is not migrated: the table format is inferred from the migrated GITS_IIDR (0x4b00043b: KVM's ITS; 0: QEMU's own ITS)")
        }
        var cpus = 0
        while cpus < 65536, let pb = value(gicLeaves, "cpu[\(cpus)].gicr_propbaser") {
            var rd = RedistributorState(cpu: UInt32(cpus))
            rd.propbaser = Sourced(GICRPropBaser(rawValue: pb), Provenance(.migrationStream, "arm_gicv3.cpu[\(cpus)].gicr_propbaser"))
            if let v = value(gicLeaves, "cpu[\(cpus)].gicr_pendbaser") {
                rd.pendbaser = Sourced(GICRPendBaser(rawValue: v), Provenance(.migrationStream, "arm_gicv3.cpu[\(cpus)].gicr_pendbaser"))
            }
            state.redistributors.append(rd)
            cpus += 1
        }
        gicCPUs = gicLeaves.isEmpty ? nil : cpus
        streamRegisters = state
        self.notes = notes
    }

    /// Every START/PART/END/FULL data block is followed by a footer on modern machine types.
    static func footer(_ c: inout StreamCursor, id: UInt32) throws(DumpError) {
        guard c.peek() == 0x7E else { return }
        let at = c.offset
        _ = try c.u8("section footer")
        let fid = try c.be32("section footer id")
        guard fid == id else {
            throw .malformed(path: c.file.path, offset: at, reason: "section footer for id \(fid) where section \(id) ends: the section was not parsed to its end")
        }
    }

    static let unsupportedFlags: [(UInt64, String)] = [
        (0x001, "FULL"), (0x040, "XBZRLE"), (0x080, "HOOK (RDMA)"), (0x100, "COMPRESS_PAGE (multi-thread compression)"),
    ]

    /// RAM records up to EOS (§4.3).
    static func readRAM(_ c: inout StreamCursor, pageSize: UInt64, blocks: inout [RAMBlock], current: inout Int?,
                        caps: [String], start: UInt64, progress: ((UInt64, UInt64) -> Void)?) throws(DumpError)
    {
        let path = c.file.path
        let mask = pageSize - 1
        var nextRelease = c.offset + (64 << 20)
        while true {
            let at = c.offset
            if at >= nextRelease {
                nextRelease = at + (64 << 20)
                progress?(at, c.file.size)
            }
            let v = try c.be64("RAM record header")
            let flags = v & mask
            let addr = v & ~mask
            if flags & 0x1C1 != 0 {
                for (bit, name) in unsupportedFlags where flags & bit != 0 {
                    throw .notADump(path: path, reason: "RAM record at offset \(at) uses \(name) encoding, which itsdump cannot decode; migrate again without that capability")
                }
            }
            guard flags & ~0x23E == 0 else {
                throw .malformed(path: path, offset: at, reason: "RAM record with unknown flags 0x\(String(flags, radix: 16))")
            }
            if flags & 0x004 != 0 {  // MEM_SIZE: the block list
                var total: UInt64 = 0
                while total < addr {
                    guard blocks.count < maxBlocks else {
                        throw .malformed(path: path, offset: c.offset, reason: "more than \(maxBlocks) RAM blocks")
                    }
                    let len = try c.u8("RAM block idstr length")
                    let name = try c.string(Int(len), "RAM block idstr")
                    let length = try c.be64("RAM block length")
                    guard length <= maxBlockLength, length % pageSize == 0 || length < pageSize else {
                        throw .malformed(path: path, offset: c.offset - 8, reason: "RAM block \(name) claims \(length) bytes: oversize or not a whole number of pages")
                    }
                    var block = RAMBlock(name: name, length: length, gpa: nil, mapping: "not mapped (use --ram-block \(name)@GPA)")
                    if caps.contains("x-ignore-shared") { block.gpa = try c.be64("RAM block address"); block.mapping = "stream (x-ignore-shared)" }
                    if caps.contains("mapped-ram") {
                        // MappedRamHeader (§4.5): version, page_size, bitmap_offset, pages_offset.
                        let hv = try c.be32("mapped-ram header version")
                        guard hv == 1 else { throw .malformed(path: path, offset: c.offset - 4, reason: "mapped-ram header version \(hv)") }
                        _ = try c.be64("mapped-ram page size")
                        let bitmap = try c.be64("mapped-ram bitmap offset")
                        let pages = try c.be64("mapped-ram pages offset")
                        let (bStart, o1) = start.addingReportingOverflow(bitmap)
                        let (pStart, o2) = start.addingReportingOverflow(pages)
                        let (pEnd, o3) = pStart.addingReportingOverflow(length)
                        let bitmapBytes = (length / pageSize + 63) / 64 * 8
                        guard !o1, !o2, !o3, pEnd <= c.file.size, bStart + bitmapBytes <= c.file.size else {
                            throw .malformed(path: path, offset: c.offset, reason: "mapped-ram block \(name): its bitmap or pages lie past the end of the file")
                        }
                        block.mappedRAM = (bStart, pStart)
                        c.offset = pEnd  // the writer seeks past the block's page area
                    }
                    let (t, o) = total.addingReportingOverflow(length)
                    guard !o else { throw .malformed(path: path, offset: c.offset, reason: "RAM block sizes overflow") }
                    total = t
                    if let i = blocks.firstIndex(where: { $0.name == name }) { blocks[i] = block } else { blocks.append(block) }
                }
                guard total == addr else {
                    throw .malformed(path: path, offset: at, reason: "RAM block sizes add up to \(total), the header says \(addr)")
                }
                continue
            }
            if flags & 0x002 != 0 || flags & 0x008 != 0 {  // ZERO or PAGE
                if flags & 0x020 == 0 {  // no CONTINUE: the block is named
                    let len = try c.u8("RAM record idstr length")
                    let name = try c.string(Int(len), "RAM record idstr")
                    guard let i = blocks.firstIndex(where: { $0.name == name }) else {
                        throw .malformed(path: path, offset: at, reason: "page for unknown RAM block \(name)")
                    }
                    current = i
                }
                guard let i = current else {
                    throw .malformed(path: path, offset: at, reason: "CONTINUE page record before any block was named")
                }
                guard addr < blocks[i].length else {
                    throw .malformed(path: path, offset: at, reason: "page at offset 0x\(String(addr, radix: 16)) beyond the \(blocks[i].length)-byte block \(blocks[i].name)")
                }
                let page = addr / pageSize
                if flags & 0x002 != 0 {
                    let fill = try c.u8("zero page fill byte")
                    blocks[i].pages.set(page, PageTable.zero | UInt64(fill))
                } else {
                    blocks[i].pages.set(page, c.offset)
                    try c.skip(pageSize, "page data of \(blocks[i].name)+0x\(String(addr, radix: 16))")
                }
                blocks[i].pagesSent += 1
                continue
            }
            if flags & 0x200 != 0 { continue }  // MULTIFD_FLUSH
            if flags & 0x010 != 0 { return }  // EOS
            throw .malformed(path: path, offset: at, reason: "RAM record without a known flag (0x\(String(flags, radix: 16)))")
        }
    }

    /// The JSON VM description at the end (§4.7): the last NUL of the final ≤ 10 MiB, then the
    /// first `{` after it, preceded by 0x06 and its be32 length.
    static func loadJSON(_ file: any ByteSource) -> JSONValue? {
        let window = min(file.size, 10 << 20)
        guard window > 0, let tail = file.bytes(at: file.size - window, count: Int(window)),
              let nul = tail.lastIndex(of: 0), let brace = tail[nul...].firstIndex(of: UInt8(ascii: "{")),
              brace >= 5, tail[brace - 5] == 0x06 else { return nil }
        let len = tail[(brace - 4)..<brace].reduce(0) { $0 << 8 | Int($1) }
        guard brace + len <= tail.count else { return nil }
        guard let v = try? JSONValue.parse(Array(tail[brace..<(brace + len)])), v.objectValue != nil else { return nil }
        return v
    }

    // MARK: GuestMemory

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        assembleRead(address, count: count) { a, left in
            guard let b = blocks.first(where: { blk in
                guard let g = blk.gpa else { return false }
                return a >= g && a - g < blk.length
            }), let gpa = b.gpa else { return .absent(left) }
            let off = a - gpa
            let page = off / pageSize
            let inPage = off % pageSize
            let n = min(left, pageSize - inPage)
            if let m = b.mappedRAM {
                // Zero pages are not written in mapped-ram files: their bit is clear (§4.5).
                let bit = file.u8(m.bitmap + page / 8).map { $0 >> (page % 8) & 1 == 1 } ?? false
                guard bit, let bytes = file.bytes(at: m.pages + page * pageSize + inPage, count: Int(n)) else { return .zeros(n) }
                return .bytes(bytes[...])
            }
            let e = b.pages.get(page)
            if e == 0 { return .absent(n) }
            if e & PageTable.zero != 0 {
                let fill = UInt8(truncatingIfNeeded: e)
                return fill == 0 ? .zeros(n) : .bytes([UInt8](repeating: fill, count: Int(n))[...])
            }
            guard let bytes = file.bytes(at: e + inPage, count: Int(n)) else { return .absent(n) }
            return .bytes(bytes[...])
        }
    }
}

/// Page index → where its bytes are: 0 = not sent, `zero | fill` = a zero page, else the file
/// offset of the page data. Chunks of 2^16 pages are allocated as pages arrive, so memory
/// follows the pages the stream carries, not the sizes it claims. A later copy replaces an
/// earlier one: the last wins (§4.3 "Duplicates").
struct PageTable: Sendable {
    static let zero: UInt64 = 1 << 63
    static let shift: UInt64 = 16
    /// Chunk k holds pages [k·2^16, (k+1)·2^16). The outer array grows to the highest chunk
    /// seen; a block is at most 2^50 bytes, so at most 2^22 chunk slots.
    private var chunks: [[UInt64]?] = []

    mutating func set(_ page: UInt64, _ value: UInt64) {
        let key = Int(page >> Self.shift)
        let i = Int(page & ((1 << Self.shift) - 1))
        if key >= chunks.count { chunks += [[UInt64]?](repeating: nil, count: key + 1 - chunks.count) }
        if chunks[key] == nil { chunks[key] = [UInt64](repeating: 0, count: 1 << Int(Self.shift)) }
        chunks[key]?[i] = value
    }

    func get(_ page: UInt64) -> UInt64 {
        let key = page >> Self.shift
        guard key < UInt64(chunks.count), let chunk = chunks[Int(key)] else { return 0 }
        return chunk[Int(page & ((1 << Self.shift) - 1))]
    }
}

extension MigrationStream: FileDumpFormat {
    public static let kind = DumpKind(id: "migration-stream", name: "QEMU migration stream")
    public static let infoKey: String? = "stream"
    public convenience init(file: MappedFile, options: DumpOptions) throws(DumpError) {
        try self.init(file: file, ramBlocks: options.ramBlocks, progress: options.progress)
    }
    public static func matches(_ file: MappedFile) -> Bool { matches(file as any ByteSource) }
    public var vcpuCount: Int? { gicCPUs }
    public var registers: RegisterState? { streamRegisters }
    public var readerNotes: [String] { notes }

    public var details: DumpDetails {
        var s = "  machine: \(machine ?? "not stated"), page size \(pageSize), JSON description: \(hasJSON ? "yes" : "no")"
        s += capabilities.isEmpty ? "\n" : ", capabilities: \(capabilities.joined(separator: ", "))\n"
        for n in notes { s += "  note: \(n)\n" }
        var b = TextTable(header: ["RAM BLOCK", "BYTES", "PAGES SENT", "GUEST PA", "MAPPING"], rightAligned: [1, 2])
        for blk in blocks {
            b.rows.append([blk.name, String(blk.length), String(blk.pagesSent), blk.gpa.map { hex($0) } ?? "-", blk.mapping])
        }
        s += b.render(indent: "  ")
        var d = TextTable(header: ["DEVICE SECTION", "INSTANCE", "VERSION", "OFFSET", "BYTES"], rightAligned: [1, 2, 4])
        for sec in sections {
            d.rows.append([sec.name, String(sec.instance), String(sec.version), hex(sec.offset), String(sec.length)])
        }
        s += d.render(indent: "  ")
        s += RegisterText.info(streamRegisters)
        let json: JSONValue = .object([
            "machine": .optional(machine) { .string($0) },
            "pageSize": .uint(pageSize),
            "hasJSON": .bool(hasJSON),
            "capabilities": .array(capabilities.map { .string($0) }),
            "notes": .array(notes.map { .string($0) }),
            "ramBlocks": .array(blocks.map { b in
                .object(["name": .string(b.name), "bytes": .uint(b.length), "pagesSent": .int(Int64(b.pagesSent)),
                         "gpa": .optional(b.gpa) { .hexString($0) }, "mapping": .string(b.mapping)])
            }),
            "sections": .array(sections.map { sec in
                .object(["name": .string(sec.name), "instance": .uint(UInt64(sec.instance)),
                         "version": .uint(UInt64(sec.version)), "offset": .hexString(sec.offset), "bytes": .uint(sec.length)])
            }),
            "its": .array(streamRegisters.its.map(RegisterJSON.its)),
            "redistributors": RegisterJSON.redistributors(streamRegisters.redistributors),
        ])
        return DumpDetails(text: s, json: ["stream": json], listsVMCOREINFO: false)
    }
}

extension DumpKind {
    public static var migrationStream: DumpKind { MigrationStream.kind }
}
