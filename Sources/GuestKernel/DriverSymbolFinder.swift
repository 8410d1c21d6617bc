import ITSLayout

/// Finds the ITS driver's data symbols (`its_nodes`, `gic_rdists`, `__per_cpu_offset`) in a dump
/// whose kallsyms holds text symbols only (no CONFIG_KALLSYMS_ALL, as Debian's 6.1).
///
/// Method: the functions of irq-gic-v3-its.c that kallsyms does list take these variables'
/// addresses the way every arm64 kernel function does, with an ADRP (the 4 KiB page,
/// PC-relative) followed by an ADD or a load/store with a 12-bit offset (the page offset).
/// Decoding those pairs in the driver's functions gives a short list of candidate addresses,
/// every one in the kernel image. None is trusted for what it is: each candidate is read as
/// the variable would be and kept only if the guest's data around it holds the invariants
/// the driver maintains (`validate…` below). Why that is sound:
///
/// - `its_nodes` is a `list_head` whose entries are `its_node`s: the list must leave the image
///   for the linear map, return to the candidate with every `prev` pointing back, and each
///   node must have a 64 KiB-aligned ITS frame outside RAM, GITS_TYPER.Physical set and a
///   command queue in RAM. A random page-offset pair of words cannot do all of that;
/// - `gic_rdists` points to a `struct rdists` (`gic_data.rdists` of irq-gic-v3.c, in the
///   image) whose `prop_table_va` is the linear-map address of its `prop_table_pa` (allocated
///   by its_allocate_prop_table), in RAM and page-aligned;
/// - `__per_cpu_offset` must make each CPU's `gic_rdists->rdist` land on a `pend_page` that
///   translates into RAM, a different page per CPU.
///
/// Two different candidates that both pass are an error (ambiguous), never a guess. When
/// kallsyms does have the data symbols (KALLSYMS_ALL), they are candidates too, validated
/// the same way; the provenance says which method found each address.
public struct DriverSymbolFinder {
    /// irq-gic-v3-its.c (6.1) functions that reach these variables and are not `__init` (init
    /// text is freed after boot and its pages reused).
    public static let driverFunctions = [
        "its_save_disable", "its_restore_enable", "its_cpu_init", "its_select_cpu", "lpi_write_config",
        "its_irq_get_msi_base", "its_inc_lpi_count", "its_dec_lpi_count", "its_set_affinity", "its_irq_domain_alloc",
        "its_msi_prepare", "its_cpu_init_lpis", "its_cpu_init_collections", "its_cpu_memreserve_lpi",
        "its_irq_domain_activate", "allocate_vpe_l1_table", "its_vpe_init", "its_create_device",
    ]
    public static let dataSymbols = ["its_nodes", "gic_rdists", "__per_cpu_offset"]
    /// At most this many bytes of one function are decoded.
    static let maxFunctionBytes = 16384
    /// The driver's functions reference a few hundred addresses (6.1: 83); each is validated.
    static let maxCandidates = 4096

    public struct Found: Sendable {
        public var address: UInt64
        public var method: String
    }

    public let space: KernelAddressSpace
    public let memory: any GuestMemory
    public let node: StructLayout
    public let rdists: StructLayout
    public let rdist: StructLayout?

    public init(space: KernelAddressSpace, memory: any GuestMemory, types: BTFKernelTypes) throws(ZeroConfigError) {
        self.space = space
        self.memory = memory
        guard let n = types.structure("its_node", inUnitOf: "its_nodes") else { throw .step("BTF", "no unique struct its_node with the driver's members") }
        guard let r = types.structure("rdists", inUnitOf: "gic_rdists") else { throw .step("BTF", "no unique struct rdists") }
        node = n
        rdists = r
        rdist = types.memberStructure(r, "rdist", inUnitOf: "gic_rdists")
    }

    // MARK: instructions

    /// Addresses formed by ADRP + ADD (immediate) or ADRP + LDR/STR (unsigned offset) in
    /// `code` at VA `pc` (Arm ARM C6.2: ADRP, ADD (immediate), LDR (immediate)).
    public static func adrpTargets(_ code: [UInt8], at pc: UInt64) -> Set<UInt64> {
        var pages = [UInt64?](repeating: nil, count: 32)
        var out: Set<UInt64> = []
        var i = 0
        while i + 4 <= code.count {
            let insn = UInt32(code.loadLE(at: i, count: 4))
            let here = pc &+ UInt64(i)
            let rd = Int(insn & 31), rn = Int(insn >> 5 & 31)
            if insn & 0x9F00_0000 == 0x9000_0000 {
                // ADRP: imm = SignExtend(immhi:immlo) << 12, added to the PC's page.
                let imm21 = UInt64(insn >> 5 & 0x7FFFF) << 2 | UInt64(insn >> 29 & 3)
                let signed = Int64(bitPattern: imm21 << 43) >> 43
                pages[rd] = (here & ~0xFFF) &+ UInt64(bitPattern: signed << 12)
            } else if insn & 0xFF80_0000 == 0x9100_0000, let page = pages[rn] {
                // ADD Xd, Xn, #imm12 (LSL 0; the LSL 12 form never carries a :lo12: offset).
                out.insert(page &+ UInt64(insn >> 10 & 0xFFF))
                if rd != rn { pages[rd] = nil }
            } else if insn & 0x3B00_0000 == 0x3900_0000, let page = pages[rn] {
                // LDR/STR (immediate, unsigned offset), any size: imm12 scaled by the size.
                let size = UInt64(insn >> 30)
                out.insert(page &+ (UInt64(insn >> 10 & 0xFFF) << size))
                if insn >> 22 & 1 == 1, rd != rn { pages[rd] = nil }
            } else if insn & 0x9F00_0000 == 0x1000_0000 {
                // ADR: Xd now holds an address, not a page. Other writes to a register are not
                // tracked: a stale page only adds a candidate, and every candidate is validated.
                pages[rd] = nil
            }
            i += 4
        }
        return out
    }

    // MARK: reads

    /// Words of guest kernel memory by VA (linear map or page tables) or image VA.
    public struct Reads {
        public let space: KernelAddressSpace
        public let memory: any GuestMemory
        func read(_ pa: GuestPhysicalAddress, _ n: Int) -> [UInt8]? {
            guard case .bytes(let b) = memory.read(pa, count: n) else { return nil }
            return b
        }
        public func u64(va: UInt64) -> UInt64? { space.physical(va).flatMap { read($0, 8) }?.loadLE(at: 0, count: 8) }
        public func u64(image va: UInt64) -> UInt64? { read(space.image(va), 8)?.loadLE(at: 0, count: 8) }
    }
    var reads: Reads { Reads(space: space, memory: memory) }
    func u64(va: UInt64) -> UInt64? { reads.u64(va: va) }
    func u64(image va: UInt64) -> UInt64? { reads.u64(image: va) }
    func inRAM(_ pa: GuestPhysicalAddress) -> Bool { memory.presentRanges.contains { $0.contains(pa) } }
    func isLinear(_ va: UInt64) -> Bool { va >= (0 &- (UInt64(1) << space.vaBits)) && va >> (space.vaBits - 1) & 1 == 0 }

    // MARK: validation

    /// The number of its_nodes on a valid list at `candidate`, or nil.
    public func validateITSNodes(_ candidate: UInt64) -> Int? {
        guard let entry = node.offset("entry"), let physOff = node.offset("phys_base"), let typerOff = node.offset("typer"),
              let cmdOff = node.offset("cmd_base") else { return nil }
        guard var p = u64(image: candidate), p != candidate else { return nil }
        var prev = candidate, count = 0
        while p != candidate {
            guard count < DriverWalker.maxITSNodes, isLinear(p), u64(va: p &+ 8) == prev else { return nil }
            let n = p &- entry
            guard let phys = u64(va: n &+ physOff), phys != 0, phys & 0xFFFF == 0, !inRAM(GuestPhysicalAddress(phys)),
                  let typer = u64(va: n &+ typerOff), typer & 1 == 1, (typer >> 4 & 0xF) >= 2,
                  let cmd = u64(va: n &+ cmdOff), let cmdPA = space.physical(cmd), cmdPA.rawValue & 0xFFF == 0, inRAM(cmdPA),
                  let next = u64(va: p) else { return nil }
            count += 1
            prev = p
            p = next
        }
        // The head's prev must close the circle.
        return u64(image: candidate &+ 8) == prev ? count : nil
    }

    /// Whether `candidate` holds a pointer to the driver's `struct rdists`.
    public func validateRdists(_ candidate: UInt64) -> Bool {
        guard let paOff = rdists.offset("prop_table_pa"), let vaOff = rdists.offset("prop_table_va"),
              let p = u64(image: candidate), p != 0,
              let pa = u64(va: p &+ paOff), let va = u64(va: p &+ vaOff), pa != 0, pa & 0xFFF == 0,
              inRAM(GuestPhysicalAddress(pa)), space.physical(va)?.rawValue == pa else { return false }
        return true
    }

    /// The CPUs (from 0, consecutive) whose per-CPU rdist reached through `candidate` has a
    /// pending page in RAM, distinct from the others'; nil when CPU 0's does not.
    public func validatePerCPUOffset(_ candidate: UInt64, rdistsPointer: UInt64, cpus: Int?) -> Int? {
        guard let rdist, let pend = rdist.offset("pend_page"), let o = rdists.offset("rdist"),
              let percpu = u64(va: rdistsPointer &+ o) else { return nil }
        var seen: Set<UInt64> = []
        for c in 0..<min(cpus ?? 4096, 4096) {
            guard let off = u64(image: candidate &+ UInt64(c) &* 8), off != 0,
                  let page = u64(va: percpu &+ off &+ pend), page != 0,
                  let pa = space.pagePointer(page), inRAM(pa), seen.insert(pa.rawValue).inserted
            else {
                if cpus == nil, c > 0 { return c }
                return nil
            }
        }
        return cpus ?? 4096
    }

    // MARK: the search

    /// Candidate addresses: ADRP targets in the driver's functions (with the function each
    /// came from). `functions`: the driver's text symbols with their ends, from one kallsyms pass.
    /// `names`: the functions to decode (the driver's by default; `IRQSymbolFinder.irqFunctions`).
    public static func candidates(functions: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]],
                                  read: KernelBytes, names: [String] = driverFunctions) -> [(address: UInt64, function: String)] {
        var out: [(address: UInt64, function: String)] = []
        var seen: Set<UInt64> = []
        for name in names {
            for (f, end) in functions[name] ?? [] where "tT".contains(f.type) {
                guard let end, end > f.address else { continue }
                let length = Int(min(end - f.address, UInt64(maxFunctionBytes)))
                guard let code = read(f.address, length) else { continue }
                for t in adrpTargets(code, at: f.address).sorted() where seen.insert(t).inserted {
                    guard out.count < maxCandidates else { return out }
                    out.append((t, f.name))
                }
            }
        }
        return out
    }

    public static func candidates(kallsyms: Kallsyms, read: KernelBytes) throws(Kallsyms.Problem) -> [(address: UInt64, function: String)] {
        candidates(functions: try kallsyms.lookupWithEnds(Set(driverFunctions)), read: read)
    }
}

/// Why the zero-configuration path could not give the driver's view: each step it tried.
public enum ZeroConfigError: Error, CustomStringConvertible, Sendable {
    case step(String, String)
    public var description: String {
        // The readers' own messages already start with their name ("kallsyms: …", "BTF: …").
        switch self { case .step(let what, let why): why.hasPrefix("\(what): ") ? why : "\(what): \(why)" }
    }
}
