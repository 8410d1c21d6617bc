import ITSLayout
/// Guest kernel virtual addresses → guest-physical, from VMCOREINFO (Documentation/input-formats.md §6):
/// kernel-image addresses by `kimage_voffset`, linear-map addresses by PHYS_OFFSET, anything
/// else (per-CPU areas, vmalloc) by a walk of the page tables from `swapper_pg_dir`.
public struct VMCOREINFO: Sendable {
    public var pairs: [(key: String, value: String)] { didSet { index = Self.firstOfEachKey(pairs) } }
    /// Where it came from: "ELF note", "kdump sub-header", "--vmcoreinfo FILE", "found in RAM at 0x…".
    public var source: String
    /// Symbols looked up in the kallsyms its SYMBOL() entries name, when the text was found
    /// through them (VMCOREINFOFromVCPUs): the zero-configuration path does not decode them twice.
    public var kallsymsLookup: KallsymsLookup?
    /// `.BTF` located through those kallsyms and being read on another thread.
    public var btfInBackground: BackgroundBTF?
    public struct BackgroundBTF: Sendable {
        public var address: UInt64
        public var method: String
        /// Waits for the read.
        public var value: @Sendable () -> BTF?
    }

    public init(text: String, source: String) {
        self.init(pairs: keyValueLines(text), source: source)
    }

    /// Pairs a reader already parsed (a dump's note).
    public init(pairs: [(key: String, value: String)], source: String) {
        self.source = source
        self.pairs = pairs
        index = Self.firstOfEachKey(pairs)
    }

    /// Where the first pair of each key is: the address space and kallsyms ask a few dozen keys.
    private var index: [String: Int]
    static func firstOfEachKey(_ pairs: [(key: String, value: String)]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (i, p) in pairs.enumerated() where index[p.key] == nil { index[p.key] = i }
        return index
    }

    public subscript(_ key: String) -> String? { index[key].map { pairs[$0].value } }

    /// NUMBER() values are decimal or 0x-hex; SYMBOL() and KERNELOFFSET are hex without 0x (§6.1).
    public func number(_ key: String) -> UInt64? {
        guard let v = self[key] else { return nil }
        if v.hasPrefix("0x") { return UInt64(v.dropFirst(2), radix: 16) }
        if key.hasPrefix("SYMBOL(") || key == "KERNELOFFSET" { return UInt64(v, radix: 16) }
        if let d = UInt64(v) { return d }
        return Int64(v).map { UInt64(bitPattern: $0) }
    }

    /// §6.2: a page that starts with the text (`vmcoreinfo_data`) or with the ELF note header
    /// (`vmcoreinfo_note`), validated by PAGESIZE= and a PHYS_OFFSET inside the dump's RAM.
    /// With `pointers` (from the vmlinux), the scan ends at the kernel image, whose variables
    /// point to the text (VMCOREINFOPointers), when it meets the image first.
    public static func scan(_ memory: any GuestMemory, pageSize: UInt64 = 4096, maxPages: UInt64 = 1 << 24,
                            pointers: VMCOREINFOPointers? = nil) -> VMCOREINFO? {
        var scanned: UInt64 = 0
        for r in memory.presentRanges {
            // Ranges come from the dump file: near the top of the address space, stop, not wrap.
            let (up, over) = r.start.rawValue.addingReportingOverflow(pageSize - 1)
            guard !over else { continue }
            var a = up / pageSize * pageSize
            var released = a
            while a <= r.end, r.end - a >= 64, scanned < maxPages {
                scanned += 1
                defer {
                    let (next, over) = a.addingReportingOverflow(pageSize)
                    a = over ? UInt64.max : next
                    if a - released >= 4 << 20 {
                        memory.relinquish(GuestRange(start: GuestPhysicalAddress(released), length: a - released))
                        released = a
                    }
                }
                if let p = pointers, a % VMCOREINFOPointers.alignment == 0, p.isImage(at: a, memory: memory),
                   let v = p.locate(imagePA: a, memory: memory, validate: { text(at: $0, memory: memory, pageSize: pageSize) }) {
                    return v
                }
                if let v = text(atPage: a, memory: memory, pageSize: pageSize) { return v }
            }
        }
        return nil
    }

    /// The text a page holds, if it starts one (§6.2): `vmcoreinfo_data`'s page starts with the
    /// text, `vmcoreinfo_note`'s with the note header (namesz 11, descsz, type 0,
    /// "VMCOREINFO\0\0") and the text 24 bytes in.
    public static func text(atPage a: UInt64, memory: any GuestMemory, pageSize: UInt64 = 4096) -> VMCOREINFO? {
        let text = Array("OSRELEASE=".utf8)
        guard case .bytes(let head) = memory.read(GuestPhysicalAddress(a), count: 34), head.count == 34 else { return nil }
        if Array(head[0..<10]) == text { return self.text(at: a, memory: memory, pageSize: pageSize) }
        guard Array(head[0..<4]) == [0x0B, 0, 0, 0], Array(head[12..<24]) == Array("VMCOREINFO".utf8) + [0, 0],
              Array(head[24..<34]) == text else { return nil }
        return self.text(at: a + 24, memory: memory, pageSize: pageSize)
    }

    /// The text at `s`, if it is one: read up to two pages, within the range that holds `s`;
    /// validated by PAGESIZE= and a PHYS_OFFSET inside the dump's RAM.
    static func text(at s: UInt64, memory: any GuestMemory, pageSize: UInt64) -> VMCOREINFO? {
        guard let r = memory.presentRanges.first(where: { $0.contains(GuestPhysicalAddress(s)) }),
              case .bytes(let body) = memory.read(GuestPhysicalAddress(s), count: Int(min(pageSize * 2, r.end - s))),
              body.starts(with: Array("OSRELEASE=".utf8)) else { return nil }
        let v = VMCOREINFO(text: String(decoding: body.prefix { $0 != 0 }, as: UTF8.self), source: "found in guest RAM at \(hex(s))")
        guard v["PAGESIZE"] != nil, let po = v.number("NUMBER(PHYS_OFFSET)"),
              memory.presentRanges.contains(where: { $0.contains(GuestPhysicalAddress(po)) }) else { return nil }
        return v
    }
}

public struct KernelAddressSpace: Sendable {
    public var kernelOffset: UInt64
    public var kimageVoffset: UInt64
    public var physOffset: UInt64
    public var vaBits: UInt64
    public var pageSize: UInt64
    public var swapperPgDir: UInt64?
    /// NUMBER(VMEMMAP_START), or the candidates of the kernel layouts that do not export it.
    public var vmemmapStarts: [UInt64]
    public var pageStructSize: UInt64
    public let memory: any GuestMemory

    public enum Problem: Error, CustomStringConvertible, Sendable {
        case missing(String)
        case invalid(String)
        public var description: String {
            switch self {
            case .missing(let k): "VMCOREINFO lacks \(k)"
            case .invalid(let k): "VMCOREINFO has an impossible \(k)"
            }
        }
    }

    public init(_ v: VMCOREINFO, memory: any GuestMemory) throws(Problem) {
        guard let ko = v.number("KERNELOFFSET") else { throw .missing("KERNELOFFSET") }
        guard let kv = v.number("NUMBER(kimage_voffset)") else { throw .missing("NUMBER(kimage_voffset)") }
        guard let po = v.number("NUMBER(PHYS_OFFSET)") else { throw .missing("NUMBER(PHYS_OFFSET)") }
        guard let vb = v.number("NUMBER(VA_BITS)"), vb >= 36, vb <= 52 else { throw .missing("NUMBER(VA_BITS)") }
        kernelOffset = ko
        kimageVoffset = kv
        physOffset = po
        // With TCR_EL1_T1SZ the kernel's actual VA size is 64 − T1SZ (§6.1).
        if let t1sz = v.number("NUMBER(TCR_EL1_T1SZ)") {
            guard t1sz >= 12, t1sz <= 28 else { throw .invalid("NUMBER(TCR_EL1_T1SZ) \(t1sz)") }
            vaBits = 64 - t1sz
        } else {
            vaBits = vb
        }
        pageSize = v.number("PAGESIZE") ?? 4096
        guard [4096, 16384, 65536].contains(pageSize) else { throw .invalid("PAGESIZE \(pageSize)") }
        swapperPgDir = v.number("SYMBOL(swapper_pg_dir)")
        pageStructSize = v.number("SIZE(page)") ?? 64
        // A guest's RAM can hold any text where VMCOREINFO was found: the struct page size
        // divides pointers below, so it must be a size a struct page can have.
        guard pageStructSize >= 32, pageStructSize <= 1024 else { throw .invalid("SIZE(page) \(pageStructSize)") }
        let pageShift = UInt64(pageSize.trailingZeroBitCount)
        if let start = v.number("NUMBER(VMEMMAP_START)") {
            vmemmapStarts = [start]
        } else {
            // Kernels that do not export it (§5.6): the layout of 5.11 and later,
            // −(1 << (VA_BITS − (PAGE_SHIFT − 6))), then that of 5.4–5.10, −VMEMMAP_SIZE − 2 MiB
            // with VMEMMAP_SIZE = (_PAGE_END(VA_BITS_MIN) − PAGE_OFFSET) >> (PAGE_SHIFT − 6).
            // pagePointer takes the one that lands in the dump: their results lie 2^47 bytes
            // apart at 48-bit VAs and 4K pages, far beyond any guest's RAM.
            let vaMin = min(vaBits, 48)
            let linear = (0 &- (UInt64(1) << (vaMin - 1))) &- (0 &- (UInt64(1) << vaBits))
            vmemmapStarts = [0 &- (UInt64(1) << (vaBits - (pageShift - 6))),
                             0 &- (linear >> (pageShift - 6)) &- (2 << 20)]
        }
        self.memory = memory
    }

    /// A link-time symbol address (vmlinux) → its runtime VA: + KERNELOFFSET (§6.6).
    public func runtime(_ linkVA: UInt64) -> UInt64 { linkVA &+ kernelOffset }

    /// Kernel-image VA → PA: va − kimage_voffset (§6.3).
    public func image(_ va: UInt64) -> GuestPhysicalAddress { GuestPhysicalAddress(va &- kimageVoffset) }

    var pageOffset: UInt64 { 0 &- (UInt64(1) << vaBits) }

    /// Any kernel VA → PA: the linear map directly (≥ 5.4 layout, §6.4), else the page tables.
    public func physical(_ va: UInt64) -> GuestPhysicalAddress? {
        if va >= pageOffset, va >> (vaBits - 1) & 1 == 0 {
            return GuestPhysicalAddress((va & ~pageOffset) &+ physOffset)
        }
        return walk(va)
    }

    /// §6.5: the TTBR1 tables from swapper_pg_dir, 4K/16K/64K granules.
    public func walk(_ va: UInt64) -> GuestPhysicalAddress? {
        guard let root = swapperPgDir else { return nil }
        let pageShift = UInt64(pageSize.trailingZeroBitCount)
        let bitsPerLevel = pageShift - 3
        let levels = (vaBits - pageShift + bitsPerLevel - 1) / bitsPerLevel
        let paMask: UInt64 = 0x0000_FFFF_FFFF_FFFF & ~(pageSize - 1)
        var table = image(root).rawValue
        for level in 0..<levels {
            let below = levels - 1 - level
            let shift = pageShift + bitsPerLevel * below
            let topBits = level == 0 ? (vaBits - pageShift - 1) % bitsPerLevel + 1 : bitsPerLevel
            let index = (va >> shift) & ((UInt64(1) << topBits) - 1)
            guard case .bytes(let b) = memory.read(GuestPhysicalAddress(table &+ index * 8), count: 8) else { return nil }
            let desc = b.loadLE(at: 0, count: 8)
            var pa = desc & paMask
            if pageSize == 65536 { pa |= (desc >> 12 & 0xF) << 48 }  // PA[51:48] in [15:12] with 64K pages
            switch desc & 3 {
            case 3 where below > 0: table = pa
            case 3: return GuestPhysicalAddress(pa | (va & (pageSize - 1)))
            case 1 where below > 0:
                let block = UInt64(1) << shift
                return GuestPhysicalAddress((pa & ~(block - 1)) | (va & (block - 1)))
            default: return nil
            }
        }
        return nil
    }

    /// `struct page *` → PA through vmemmap (SPARSEMEM_VMEMMAP, §5.6).
    /// Without NUMBER(VMEMMAP_START), the first candidate layout whose page lies in RAM.
    public func pagePointer(_ page: UInt64) -> GuestPhysicalAddress? {
        let pageShift = UInt64(pageSize.trailingZeroBitCount)
        let results = vmemmapStarts.compactMap { start -> GuestPhysicalAddress? in
            let vmemmap = start &- (physOffset >> pageShift) &* pageStructSize
            let delta = page &- vmemmap
            guard delta % pageStructSize == 0, delta / pageStructSize < 1 << 40 else { return nil }
            return GuestPhysicalAddress((delta / pageStructSize) << pageShift)
        }
        guard results.count > 1 else { return results.first }
        return results.first { pa in if case .bytes = memory.read(pa, count: 1) { true } else { false } } ?? results.first
    }
}
