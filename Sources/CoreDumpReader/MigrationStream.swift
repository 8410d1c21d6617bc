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
        public internal(set) var pagesSent: Int = 0
        var pages = PageIndex()
        /// mapped-ram (§4.5): the block's bitmap and page area, at fixed file offsets.
        var mappedRAM: (bitmap: UInt64, pages: UInt64)?
    }

    public struct DeviceSection: Sendable {
        public var name: String
        public var instance: UInt32
        public var version: UInt32
        public var offset: UInt64
        public var length: UInt64
        /// A PCI-to-PCI bridge's secondary bus number as the guest programmed it (config space
        /// byte 0x19 of its `config` field), when the JSON description locates that field.
        public var secondaryBus: UInt8? = nil
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
    /// Indices of the mapped blocks, by guest PA (a read finds its block by binary search).
    let mapped: [Int]

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
        let start = try Self.saveHeader(file, notes: &notes)
        libvirtHeader = start > 0
        streamStart = start
        var records = try RecordPass(file: file, start: start, progress: progress)
        try records.run()
        notes += records.notes

        var blocks = records.blocks
        for i in blocks.indices { blocks[i].pages.finish(stride: (records.pageSize ?? 4096) + 8) }
        let machine = records.machine
        let isVirt = machine?.hasPrefix("virt") ?? true
        presentRanges = try Self.mapBlocks(&blocks, ramBlocks: ramBlocks, isVirt: isVirt, path: file.path)
        mapped = blocks.indices.filter { blocks[$0].gpa != nil && blocks[$0].length > 0 }
            .sorted { (blocks[$0].gpa ?? 0) < (blocks[$1].gpa ?? 0) }
        self.blocks = blocks
        self.sections = records.sections
        self.machine = machine
        self.capabilities = records.caps
        self.pageSize = records.pageSize ?? 4096
        hasJSON = records.json != nil
        let (state, cpus) = Self.registers(file, its: records.itsLeaves, gic: records.gicLeaves, isVirt: isVirt)
        if !records.itsLeaves.isEmpty {
            notes.append("GITS_TYPER is not migrated: the table format is inferred from the migrated GITS_IIDR (0x4b00043b: KVM's ITS; 0: QEMU's own ITS)")
        }
        gicCPUs = records.gicLeaves == nil ? nil : cpus
        streamRegisters = state
        self.notes = notes
    }

    /// libvirt's virQEMUSaveHeader (§4.8): 92 bytes, host byte order, then data_len bytes;
    /// returns where the QEMU stream starts (0 without the header).
    static func saveHeader(_ file: any ByteSource, notes: inout [String]) throws(DumpError) -> UInt64 {
        let head = file.bytes(at: 0, count: 16)
        if head == Self.libvirtPartial {
            throw .notADump(path: file.path, reason: "a libvirt save image that was never completed (magic LibvirtQemudPart)")
        }
        guard head == Self.libvirtMagic else { return 0 }
        guard var version = file.le(16, 4), var dataLen = file.le(20, 4), var format = file.le(28, 4) else {
            throw .malformed(path: file.path, offset: 0, reason: "libvirt save header cut short (92 bytes expected)")
        }
        if version > 0xFFFF {  // written on a host of the other byte order
            version = UInt64(UInt32(version).byteSwapped)
            dataLen = UInt64(UInt32(dataLen).byteSwapped)
            format = UInt64(UInt32(format).byteSwapped)
        }
        let start = 92 + dataLen
        let tools = [1: ("gzip", "gzip -dc"), 2: ("bzip2", "bzip2 -dc"), 3: ("xz", "xz -dc"), 4: ("lzop", "lzop -dc"), 5: ("zstd", "zstd -dc")]
        if let (name, command) = tools[Int(format)] {
            throw .notADump(path: file.path,
                reason: "libvirt save image (version \(version)) whose migration stream is \(name)-compressed; decompress it first: tail -c +\(start + 1) '\(file.path)' | \(command) > vm.mig")
        }
        guard format == 0 || format == 6 else {
            throw .notADump(path: file.path, reason: "libvirt save image with unknown payload format \(format)")
        }
        notes.append("libvirt save image (version \(version)): QEMU stream at file offset \(start)")
        return start
    }

    /// Block name → guest PA (§4.3): mach-virt.ram at 0x40000000 on virt; with a memory
    /// backend the main RAM block is named after it, so the one RAM-like block is taken.
    /// Returns the mapped ranges; a block that would wrap past 2^64 or overlap another is an error.
    static func mapBlocks(_ blocks: inout [RAMBlock], ramBlocks: [String: UInt64], isVirt: Bool,
                          path: String) throws(DumpError) -> [GuestRange]
    {
        let romLike = { (n: String) in n.hasPrefix("virt.flash") || n.hasPrefix("/rom@") || n.contains(".rom") || n.contains("/") }
        let candidates = blocks.indices.filter { !romLike(blocks[$0].name) && blocks[$0].name != "pvtime" }
        let hasMain = blocks.contains { $0.name == "mach-virt.ram" }
        for i in blocks.indices {
            let n = blocks[i].name
            if let gpa = ramBlocks[n] {
                blocks[i].gpa = gpa
                blocks[i].mapping = "--ram-block \(n)@\(hex(gpa))"
            } else if blocks[i].gpa != nil {
                // x-ignore-shared streams carry the GPA.
            } else if isVirt, n == "mach-virt.ram" {
                blocks[i].gpa = 0x4000_0000
                blocks[i].mapping = "virt machine's main RAM (Documentation/input-formats.md §3.2)"
            } else if isVirt, !hasMain, candidates == [i], !ramBlocks.values.contains(0x4000_0000) {
                blocks[i].gpa = 0x4000_0000
                blocks[i].mapping = "inferred: the only RAM block of a virt machine without mach-virt.ram (a memory backend) — override with --ram-block \(n)@GPA"
            } else if isVirt, n == "pvtime" {
                blocks[i].gpa = 0x090A_0000
                blocks[i].mapping = "virt machine's pvtime region (KVM)"
            }
        }
        let names = Set(blocks.map(\.name))
        for n in ramBlocks.keys.sorted() where !names.contains(n) {
            throw .badArgument("--ram-block \(TerminalText.cut(n))@…: the stream has no RAM block named \(TerminalText.cut(n)) (it has \(TerminalText.cut(blocks.map(\.name).joined(separator: ", "), limit: 400)))")
        }
        let mapped = blocks.filter { $0.gpa != nil }.sorted { ($0.gpa ?? 0) < ($1.gpa ?? 0) }
        var ranges: [GuestRange] = []
        for b in mapped {
            guard let gpa = b.gpa, b.length > 0 else { continue }
            guard !gpa.addingReportingOverflow(b.length - 1).overflow else {
                let what = ramBlocks[b.name] != nil ? "--ram-block \(TerminalText.cut(b.name))@\(hex(gpa))" : "RAM block \(TerminalText.cut(b.name)) at \(hex(gpa)) (from the stream)"
                throw .badArgument("\(what): its \(b.length) bytes wrap past the top of the 64-bit address space")
            }
            let r = GuestRange(start: GuestPhysicalAddress(gpa), length: b.length)
            if let last = ranges.last, last.overlaps(r) {
                throw .badArgument("RAM blocks overlap at \(r.start): give each block its own address with --ram-block NAME@GPA")
            }
            ranges.append(r)
        }
        return ranges
    }

    /// The ITS and GIC registers from the sections' leaves (its-formats.md §5.1, §5.2).
    static func registers(_ file: any ByteSource, its: [UInt32: [String: VMStateLayout.Leaf]],
                          gic: [String: VMStateLayout.Leaf]?, isVirt: Bool) -> (RegisterState, Int)
    {
        var state = RegisterState()
        func value(_ leaves: [String: VMStateLayout.Leaf], _ path: String) -> UInt64? {
            guard let l = leaves[path], l.size <= 8, l.size > 0 else { return nil }
            return file.be(l.offset, Int(l.size))
        }
        for (instance, leaves) in its.sorted(by: { $0.key < $1.key }) {
            let p = { (f: String) in Provenance(.migrationStream, "arm_gicv3_its[\(instance)].\(f)") }
            var its = ITSRegisterState()
            for r in ITSRegister.allCases {
                guard let field = r.migrationField, let v = value(leaves, field) else { continue }
                its[r] = Sourced(v, p(field))
            }
            if isVirt, instance == 0 {
                its.base = Sourced(GuestPhysicalAddress(0x0808_0000), Provenance(.inferred, "virt machine memory map (Documentation/input-formats.md §3.2)"))
            }
            state.its.append(its)
        }
        guard let gic else { return (state, 0) }
        // migration/vmstate.c writes "index" only when an array has more than one element: a
        // 1-vCPU guest's description has a plain "cpu" struct (leaves cpu.gicr_propbaser).
        let single = gic["cpu[0].gicr_propbaser"] == nil && gic["cpu.gicr_propbaser"] != nil
        func key(_ cpu: Int, _ f: String) -> String { single ? "cpu.\(f)" : "cpu[\(cpu)].\(f)" }
        var cpus = 0
        while cpus < (single ? 1 : 65536), let pb = value(gic, key(cpus, "gicr_propbaser")) {
            var rd = RedistributorState(cpu: UInt32(cpus))
            rd.propbaser = Sourced(GICRPropBaser(rawValue: pb), Provenance(.migrationStream, "arm_gicv3.\(key(cpus, "gicr_propbaser"))"))
            if let v = value(gic, key(cpus, "gicr_pendbaser")) {
                rd.pendbaser = Sourced(GICRPendBaser(rawValue: v), Provenance(.migrationStream, "arm_gicv3.\(key(cpus, "gicr_pendbaser"))"))
            }
            state.redistributors.append(rd)
            cpus += 1
        }
        return (state, cpus)
    }

    // MARK: GuestMemory

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        assembleRead(address, count: count) { a, left in
            guard let b = block(containing: a), let gpa = b.gpa else { return .absent(left) }
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
            let e = b.pages.get(page, stride: pageSize + 8)
            if e == 0 { return .absent(n) }
            if e & PageIndex.zero != 0 {
                let fill = UInt8(truncatingIfNeeded: e)
                return fill == 0 ? .zeros(n) : .bytes([UInt8](repeating: fill, count: Int(n))[...])
            }
            guard let bytes = file.bytes(at: e + inPage, count: Int(n)) else { return .absent(n) }
            return .bytes(bytes[...])
        }
    }

    /// The mapped block holding guest PA `a` (binary search over `mapped`).
    func block(containing a: UInt64) -> RAMBlock? {
        var lo = 0, hi = mapped.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if (blocks[mapped[mid]].gpa ?? 0) <= a { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let b = blocks[mapped[lo - 1]]
        guard let g = b.gpa, a - g < b.length else { return nil }
        return b
    }
}

extension MigrationStream: FileDumpFormat {
    public static let kind = DumpKind(id: "migration-stream", name: "QEMU migration stream")
    public static let infoKey: String? = "stream"
    public var migrationStream: MigrationStream? { self }
    public convenience init(file: MappedFile, options: DumpOptions) throws(DumpError) {
        try self.init(file: file, ramBlocks: options.ramBlocks, progress: options.progress)
    }
    public static func matches(_ file: MappedFile) -> Bool { matches(file as any ByteSource) }
    public var vcpuCount: Int? { gicCPUs }
    public var registers: RegisterState? { streamRegisters }
    public var readerNotes: [String] { notes }

    public var details: DumpDetails {
        var s = "  machine: \(machine.map { TerminalText.escape($0) } ?? "not stated"), page size \(pageSize), JSON description: \(hasJSON ? "yes" : "no")"
        s += capabilities.isEmpty ? "\n" : ", capabilities: \(capabilities.map { TerminalText.escape($0) }.joined(separator: ", "))\n"
        for n in notes { s += "  note: \(TerminalText.escape(n))\n" }
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
