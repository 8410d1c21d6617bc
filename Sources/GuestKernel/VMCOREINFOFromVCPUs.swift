import ITSLayout

/// One vCPU's registers as an arm64 NT_PRSTATUS note gives them (input-formats.md §1.4:
/// `pr_reg` at byte 112, x0–x30, sp, pc, pstate, le64 each): what places the kernel image.
public struct VCPURegisters: Sendable, Equatable {
    public var x29: UInt64, sp: UInt64, pc: UInt64, pstate: UInt64

    public init(x29: UInt64, sp: UInt64, pc: UInt64, pstate: UInt64) {
        (self.x29, self.sp, self.pc, self.pstate) = (x29, sp, pc, pstate)
    }

    public init?(prstatus d: [UInt8]) {
        guard d.count >= 112 + 34 * 8 else { return nil }
        func r(_ i: Int) -> UInt64 { d.loadLE(at: 112 + 8 * i, count: 8) }
        self.init(x29: r(29), sp: r(31), pc: r(32), pstate: r(33))
    }

    /// AArch64 at EL1 (PSTATE.M[4] = 0, M[3:2] = 01) with the PC in the kernel's half.
    var inKernel: Bool { pstate & 0x1C == 0x04 && pc >> 63 == 1 }
}

/// VMCOREINFO of a dump that carries no note (a KVM guest without QEMU's vmcoreinfo device),
/// found from what the vCPUs were running instead of a scan of RAM (issue 20). Each step is
/// checked, and the text found must agree with everything the steps derived:
///
/// 1. `kimage_voffset`: a vCPU at EL1 runs kernel text; the image's VA and PA agree modulo
///    2 MiB (head.S keeps the physical misalignment in the KASLR offset, `and x23, x23,
///    MIN_KIMG_ALIGN - 1`), so the PC's PA is one of RAM's 2 MiB slots. A slot is tried when
///    the frame record at a vCPU's x29 (the idle task of CPU 0 runs on `init_stack`, in the
///    image) links up its own stack and returns near the PC, or when the word before the PC is
///    the WFI an idle vCPU waits in.
/// 2. kallsyms: `.rodata` follows `.text`, so the tables lie past the PC. scripts/kallsyms.c
///    (up to 6.3) writes `kallsyms_offsets`, `kallsyms_relative_base` (the lowest symbol, `_text`),
///    `kallsyms_num_syms`, `kallsyms_names`, `kallsyms_markers` (u32), in 6.2–6.3 and
///    Debian's 6.1 `kallsyms_seqs_of_names` (3 bytes a symbol), `kallsyms_token_table` and
///    `kallsyms_token_index`, each 8-aligned: the offsets are found by sampling 64 bytes every
///    64 KiB past the PC (`kallsyms_offsets` rises: 16 ascending u32), the base where they end,
///    a 64 KiB-aligned address at most 128 MiB below the PC; the offsets must start at 0 and
///    reach the PC, and the token index must list exactly the token table's strings.
/// 3. VMCOREINFO: `vmcoreinfo_append_str` (kernel/crash_core.c) takes `vmcoreinfo_data` and
///    its neighbours (`vmcoreinfo_note`, 6.1 arm64) by ADRP pairs; each holds a linear-map
///    address of a page the kernel allocated at boot (§6.2, §6.4) that starts with the text or
///    with the note holding it. The text must name the kimage_voffset, PHYS_OFFSET and
///    SYMBOL(kallsyms_names) found.
///
/// Anything that fails leaves the caller to scan RAM as before. What it reads is bounded by the
/// kernel image: a few words per 2 MiB slot, 64 bytes per 64 KiB from the PC to the tables, the
/// names (6.1 arm64: 0.8 MiB), a few blocks of them for the look-ups.
public enum VMCOREINFOFromVCPUs {
    /// 2 MiB slots tried per PC; a guest of 128 GiB has 65,536.
    static let maxSlots = 1 << 16
    /// Slots whose registers pass step 1 and are searched for kallsyms (a hostile guest can
    /// make every slot pass).
    static let maxSearches = 4
    /// The kallsyms tables lie at most this far past the PC (6.1 arm64: 2.1 MiB).
    static let searchBytes: UInt64 = 128 << 20
    static let wfi: UInt64 = 0xD503_207F
    static let functions = ["vmcoreinfo_append_str"]

    /// What the candidates of one search may cost: a hostile guest can plant a candidate base
    /// every 64 KiB whose names run on for 2^21 symbols. A real kernel's names are 1–4 MiB.
    struct Budget {
        var candidates = 32
        var nameBytes: UInt64 = 64 << 20
        static let namesPerCandidate: UInt64 = 16 << 20
    }

    /// The text found, or nil; `source` says how it was found.
    /// With `inBackground`, `.BTF` is located as soon as kallsyms is, and read on the other
    /// thread while the rest is found (`VMCOREINFO.btfInBackground`).
    public static func locate(cpus: [VCPURegisters], memory: any GuestMemory,
                              inBackground: ZeroConfigKernel.InBackground? = nil) -> VMCOREINFO? {
        // 16 are as good as any number (a dump can list thousands of vCPUs).
        let kernel = Array(cpus.filter(\.inKernel).prefix(16))
        guard let pc = kernel.first?.pc else { return nil }
        func read(_ pa: UInt64, _ n: Int) -> [UInt8]? {
            guard case .bytes(let b) = memory.read(GuestPhysicalAddress(pa), count: n), b.count == n else { return nil }
            return b
        }
        var searched = 0
        for slot in slots(pc: pc, ranges: memory.presentRanges) where searched < maxSearches {
            let voffset = pc &- slot
            guard plausible(voffset: voffset, cpus: kernel, read: read) else { continue }
            searched += 1
            if let info = locate(voffset: voffset, pc: pc, pcPA: slot, memory: memory, read: read, inBackground: inBackground) { return info }
        }
        return nil
    }

    /// The PAs in RAM congruent to `pc` modulo 2 MiB, ascending, at most `maxSlots`.
    static func slots(pc: UInt64, ranges: [GuestRange]) -> [UInt64] {
        let align: UInt64 = 2 << 20, low = pc & (align - 1)
        var out: [UInt64] = []
        for r in ranges.sorted(by: { $0.start.rawValue < $1.start.rawValue }) {
            var pa = (r.start.rawValue & ~(align - 1)) | low
            if pa < r.start.rawValue {
                guard case (let next, false) = pa.addingReportingOverflow(align) else { continue }
                pa = next
            }
            while r.contains(GuestPhysicalAddress(pa)), out.count < maxSlots {
                out.append(pa)
                guard case (let next, false) = pa.addingReportingOverflow(align) else { break }
                pa = next
            }
        }
        return out
    }

    /// Step 1's test of one `kimage_voffset`.
    static func plausible(voffset: UInt64, cpus: [VCPURegisters], read: (UInt64, Int) -> [UInt8]?) -> Bool {
        for c in cpus {
            // AAPCS64 frame record {previous x29, x30} at x29; x30 may carry a PAC in the bits
            // above the VA, which are taken from the PC (its leading ones cover them).
            if c.x29 >> 63 == 1, let r = read(c.x29 &- voffset, 16) {
                let up = r.loadLE(at: 0, count: 8), lr = r.loadLE(at: 8, count: 8)
                let vaMask = UInt64.max >> UInt64((~c.pc).leadingZeroBitCount)
                let stripped = lr & vaMask | c.pc & ~vaMask
                let distance = stripped > c.pc ? stripped - c.pc : c.pc - stripped
                if up > c.x29, up - c.x29 <= 64 << 10, distance < 256 << 20 { return true }
            }
            if let w = read(c.pc &- voffset &- 4, 4), w.loadLE(at: 0, count: 4) == wfi { return true }
        }
        return false
    }

    /// Steps 2 and 3 for one `kimage_voffset`.
    static func locate(voffset: UInt64, pc: UInt64, pcPA: UInt64, memory: any GuestMemory,
                       read: (UInt64, Int) -> [UInt8]?, inBackground: ZeroConfigKernel.InBackground?) -> VMCOREINFO? {
        // Kernel-image VAs through this kimage_voffset (KernelImageMemory's rule, §6.3, before
        // there is a KernelAddressSpace to give it).
        let kernelBytes: SendableKernelBytes = { va, n in
            guard n >= 0, n <= 64 << 20, case .bytes(let b) = memory.read(GuestPhysicalAddress(va &- voffset), count: n), b.count == n else { return nil }
            return b
        }
        var budget = Budget()
        guard let addresses = kallsymsTables(voffset: voffset, pc: pc, pcPA: pcPA, memory: memory, read: read, kernelBytes: kernelBytes,
                                             budget: &budget),
              let kallsyms = try? Kallsyms(addresses, read: kernelBytes) else { return nil }
        // `.BTF` first (two look-ups by halves of the sorted names), read on the other thread;
        // dropped unless the text found below confirms this kimage_voffset.
        var btf: VMCOREINFO.BackgroundBTF?
        if let run = inBackground, kallsyms.sorted != nil,
           let first = try? kallsyms.lookupWithEnds(["__start_BTF", ZeroConfigKernel.btfFunction]),
           let (address, method) = ZeroConfigKernel.namedBTFAddresses(first["__start_BTF"]?.map(\.symbol), first, read: kernelBytes).first {
            btf = .init(address: address, method: method, value: run { BTF.at(address, read: kernelBytes) })
        }
        // One pass for these functions and what the zero-configuration path asks next.
        let names = ZeroConfigKernel.wantedSymbols.union(Self.functions)
        guard let symbols = try? kallsyms.lookupWithEnds(names) else { return nil }
        for c in DriverSymbolFinder.candidates(functions: symbols, read: kernelBytes, names: Self.functions) {
            guard let slot = kernelBytes(c.address, 8) else { continue }
            let pointer = slot.loadLE(at: 0, count: 8)
            // get_zeroed_page, alloc_pages_exact: a page-aligned linear-map address.
            guard pointer >> 63 == 1, pointer & 0xFFF == 0 else { continue }
            if var info = text(at: pointer, slot: c.address, voffset: voffset, names: addresses.names, memory: memory, function: c.function) {
                let a = addresses
                if [("kallsyms_num_syms", a.numSyms), ("kallsyms_token_table", a.tokenTable), ("kallsyms_token_index", a.tokenIndex),
                    ("kallsyms_offsets", a.offsets), ("kallsyms_relative_base", a.relativeBase)].allSatisfy({ info.number("SYMBOL(\($0.0))") == $0.1 }) {
                    info.kallsymsLookup = KallsymsLookup(names: names, symbols: symbols)
                    info.btfInBackground = btf
                }
                return info
            }
        }
        return nil
    }

    /// Step 3's page: the linear-map offset of `pointer` for each VA size (§6.4: PAGE_OFFSET =
    /// −2^VA_BITS), from each PHYS_OFFSET a range's start rounds down to; the text must name
    /// that PHYS_OFFSET, this `kimage_voffset` and these kallsyms.
    static func text(at pointer: UInt64, slot: UInt64, voffset: UInt64, names: UInt64, memory: any GuestMemory,
                     function: String) -> VMCOREINFO? {
        // memstart_addr is RAM's start rounded down to ARM64_MEMSTART_ALIGN (a power of two
        // from 2 MiB to 1 GiB); any range of the dump may be where RAM starts (a QEMU core also
        // lists small blocks below RAM).
        var physOffsets: [UInt64] = []
        for r in memory.presentRanges.prefix(64) {
            for shift: UInt64 in [30, 29, 28, 27, 26, 25, 21] {
                let p = r.start.rawValue & ~((UInt64(1) << shift) - 1)
                if !physOffsets.contains(p) { physOffsets.append(p) }
            }
        }
        var tried: Set<UInt64> = []
        for bits: UInt64 in [48, 52, 47, 42, 39, 36] {
            let offset = pointer & ((UInt64(1) << bits) - 1)
            for physOffset in physOffsets {
                // The text page (`vmcoreinfo_data`) or the note (`vmcoreinfo_note`), as the scan
                // of RAM reads a page.
                guard case (let page, false) = offset.addingReportingOverflow(physOffset), tried.insert(page).inserted,
                      var v = VMCOREINFO.text(atPage: page, memory: memory) else { continue }
                guard v.number("NUMBER(PHYS_OFFSET)") == physOffset, v.number("NUMBER(kimage_voffset)") == voffset,
                      v.number("SYMBOL(kallsyms_names)") == names else { continue }
                v.source += " through the pointer at \(hex(slot)) (ADRP in \(function)), the kernel image placed by the vCPUs' registers and kallsyms"
                return v
            }
        }
        return nil
    }

    /// Step 2: the kallsyms tables' addresses, searched past the PC's PA. `kallsyms_offsets`,
    /// one u32 per symbol in address order (100 KiB and more for a kernel of 25,000 symbols;
    /// 6.1 arm64: 197 KiB), is found first by sampling a 64-byte window every 64 KiB; from a
    /// sample that looks like it, 16 KiB then 4 KiB steps follow it to where it ends, where the
    /// base is looked for. The word-by-word search of every byte from the PC is what is left
    /// when sampling finds nothing (a table under 64 KiB may fall between samples).
    static func kallsymsTables(voffset: UInt64, pc: UInt64, pcPA: UInt64, memory: any GuestMemory,
                               read: (UInt64, Int) -> [UInt8]?, kernelBytes: @escaping KernelBytes, budget: inout Budget) -> Kallsyms.Addresses? {
        guard let range = memory.presentRanges.first(where: { $0.contains(GuestPhysicalAddress(pcPA)) }) else { return nil }
        let stop = min(range.end, pcPA > UInt64.max - searchBytes ? UInt64.max : pcPA + searchBytes)
        func search(_ from: UInt64, _ to: UInt64) -> Kallsyms.Addresses? {
            searchBase(from: from, to: min(to, stop), voffset: voffset, pc: pc, read: read, kernelBytes: kernelBytes, budget: &budget)
        }
        /// 16 ascending u32 below the search's reach, not all equal.
        func offsetsLike(_ pa: UInt64) -> Bool {
            guard let b = read(pa, 64) else { return false }
            var previous = b.loadLE(at: 0, count: 4)
            for k in 1..<16 {
                let v = b.loadLE(at: 4 * k, count: 4)
                guard v >= previous else { return false }
                previous = v
            }
            return previous > b.loadLE(at: 0, count: 4) && previous < searchBytes
        }
        guard case (let up, false) = pcPA.addingReportingOverflow(4095) else { return nil }
        var at = up & ~4095
        var tried = 0
        while at < stop, tried < 16 {
            if offsetsLike(at) {
                tried += 1
                var end = at
                // No step wraps past 2^64: `stop` bounds them all.
                while stop - end > 16384, offsetsLike(end + 16384) { end += 16384 }
                while stop - end > 4096, offsetsLike(end + 4096) { end += 4096 }
                if let a = search(end, stop - end > 8200 ? end + 8200 : stop) { return a }
                at = end
            }
            guard stop - at > 65536 else { break }
            at += 65536
        }
        return search(pcPA & ~7, stop)
    }

    /// The first candidate base in [from, to) whose tables check out, word by word in 64 KiB
    /// windows.
    static func searchBase(from: UInt64, to stop: UInt64, voffset: UInt64, pc: UInt64, read: (UInt64, Int) -> [UInt8]?,
                           kernelBytes: @escaping KernelBytes, budget: inout Budget) -> Kallsyms.Addresses? {
        let window = 65536
        var at = from & ~7
        while at < stop {
            let n = Int(min(UInt64(window), stop - at))
            if let chunk = read(at, n) {
                let bytes = chunk.span
                var i = 0
                while i + 8 <= bytes.count {
                    // Cheap first: the two low bytes of a 64 KiB-aligned address are zero, the
                    // top bit of a kernel address is set.
                    if bytes[i] == 0, bytes[i + 1] == 0, bytes[i + 7] >= 0x80 {
                        let w = chunk.loadLE(at: i, count: 8)
                        if w >> 63 == 1, w <= pc, pc - w < searchBytes,
                           let a = tables(base: at &+ UInt64(i) &+ voffset, value: w, pc: pc, kernelBytes: kernelBytes, budget: &budget) {
                            return a
                        }
                    }
                    i += 8
                }
            }
            guard case (let next, false) = at.addingReportingOverflow(UInt64(n)) else { return nil }
            at = next
        }
        return nil
    }

    /// The tables around a candidate `kallsyms_relative_base` at VA `base` holding `value`.
    static func tables(base: UInt64, value: UInt64, pc: UInt64, kernelBytes: @escaping KernelBytes, budget: inout Budget) -> Kallsyms.Addresses? {
        guard let c = kernelBytes(base &+ 8, 4) else { return nil }
        let n = c.loadLE(at: 0, count: 4)
        guard n >= 16, n <= Kallsyms.maxSymbols else { return nil }
        let offsetsBytes = (4 * n + 7) & ~7
        guard base >= offsetsBytes else { return nil }
        let offsets = base - offsetsBytes
        // Sorted by address from the base: the first is 0, the last reaches the PC, and a
        // sample of 64 between never goes down.
        var previous: UInt64 = 0
        for k in 0...64 {
            let i = n == 1 ? 0 : (n - 1) * UInt64(k) / 64
            guard let b = kernelBytes(offsets &+ 4 * i, 4) else { return nil }
            let o = b.loadLE(at: 0, count: 4)
            guard k > 0 || o == 0, o >= previous else { return nil }
            previous = o
        }
        guard value &+ previous >= pc else { return nil }
        let names = base &+ 16
        guard budget.candidates > 0, budget.nameBytes > 0 else { return nil }
        budget.candidates -= 1
        let walk = namesEnd(names, count: Int(n), maxBytes: min(Budget.namesPerCandidate, budget.nameBytes), kernelBytes: kernelBytes)
        budget.nameBytes -= min(budget.nameBytes, walk.walked)
        guard let namesEnd = walk.end else { return nil }
        let markers = (namesEnd &+ 7) & ~7
        let markerCount = (n + 255) / 256
        guard let first = kernelBytes(markers, 4), first.loadLE(at: 0, count: 4) == 0 else { return nil }
        for width: UInt64 in [4, 8] {
            let after = (markers &+ width * markerCount &+ 7) & ~7
            for tokens in [after, (after &+ 3 * n &+ 7) & ~7] {
                if let index = tokenIndex(table: tokens, kernelBytes: kernelBytes) {
                    return Kallsyms.Addresses(names: names, numSyms: base &+ 8, tokenTable: tokens, tokenIndex: index,
                                              offsets: offsets, relativeBase: base, absoluteAddresses: nil, stext: nil)
                }
            }
        }
        return nil
    }

    /// Where the `count` length-prefixed names from `names` end (a length ≥ 0x80 takes two
    /// bytes, Kallsyms.Cursor.nameLength): walked through 64 KiB windows, each read from the
    /// first name the last one cut (memory the allocator reuses, not 1 MiB of fresh pages).
    static func namesEnd(_ names: UInt64, count: Int, maxBytes: UInt64, kernelBytes: KernelBytes) -> (end: UInt64?, walked: UInt64) {
        var at = names, left = count
        while left > 0 {
            guard at &- names < maxBytes, let b = kernelBytes(at, 65536) ?? kernelBytes(at, 4096 - Int(at % 4096)),
                  let w = Kallsyms.walkNames(b, left),
                  // A window that holds not one whole name: the names run past what memory gives.
                  w.walked > 0 else { return (nil, at &- names) }
            left -= w.walked
            at &+= UInt64(w.end)
        }
        return (at, at &- names)
    }

    /// The `kallsyms_token_index` that follows a token table at `table`: 256 u16, 8-aligned
    /// past the table's 256 strings, equal to where each string starts.
    static func tokenIndex(table: UInt64, kernelBytes: KernelBytes) -> UInt64? {
        guard let bytes = kernelBytes(table, 16384) ?? kernelBytes(table, 4096) else { return nil }
        var starts: [UInt64] = []
        var p = 0
        for _ in 0..<256 {
            guard p < bytes.count, bytes[p] != 0, let nul = bytes[p...].firstIndex(of: 0) else { return nil }
            starts.append(UInt64(p))
            p = nul + 1
        }
        let index = (table &+ UInt64(p) &+ 7) & ~7
        guard let raw = kernelBytes(index, 512), (0..<256).allSatisfy({ raw.loadLE(at: 2 * $0, count: 2) == starts[$0] }) else { return nil }
        return index
    }
}
