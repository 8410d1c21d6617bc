import ITSLayout

/// The driver's types and symbols from the dump alone (issue 20): kallsyms at VMCOREINFO's
/// addresses, `.BTF` in the kernel image (or a BTF file), and the driver's data symbols found
/// by `DriverSymbolFinder`. What it reads is bounded by the kernel image, never all of RAM.
public struct ZeroConfigKernel: Sendable {
    public private(set) var types: BTFKernelTypes
    /// CPUs when the dump does not say (from the valid `__per_cpu_offset` entries).
    public let cpus: Int?
    /// How each piece was found, for the provenance.
    public private(set) var found: [String: DriverSymbolFinder.Found]
    public let btfSource: String
    /// Why the irq descriptor walk's symbols were not found (the routes stand without them).
    public var irqProblems: [String] = []

    /// One line: "its_node list its_nodes@0x… (…) via BTF in guest RAM at 0x… and kallsyms".
    public var summary: String {
        let parts = (DriverSymbolFinder.dataSymbols + IRQSymbolFinder.dataSymbols).compactMap { s in found[s].map { "\(s)@\(hex($0.address)) (\($0.method))" } }
        return parts.joined(separator: ", ") + " via \(btfSource) and kallsyms"
    }

    /// The kernel image is at most this large past `_stext` (arm64 Debian 6.1: 33 MiB).
    static let imageBound: UInt64 = 128 << 20

    /// Where the irq descriptor walk's symbols may be, until `withIRQSymbols` validates them.
    var treeCandidates: [(address: UInt64, method: String)] = []
    var chipCandidates: [(address: UInt64, method: String)] = []

    /// With `irqSymbols: false` the irq walk's symbols are left to `withIRQSymbols`, which the
    /// CLI calls on a thread of its own: the routes need only the driver's.
    /// Runs a BTF read on a thread of its own (the CLI's `Background`); the closure it returns
    /// waits for the result.
    public typealias InBackground = @Sendable (@escaping @Sendable () -> BTF?) -> @Sendable () -> BTF?

    public static func load(vmcoreinfo info: VMCOREINFO, space: KernelAddressSpace, memory: any GuestMemory,
                            btfFile: (bytes: [UInt8], path: String)?, cpus dumpCPUs: Int?,
                            irqSymbols: Bool = true, inBackground: InBackground? = nil) throws(ZeroConfigError) -> ZeroConfigKernel
    {
        let image = KernelImageMemory(space: space, memory: memory)
        // With a thread to spare, `.BTF` is located first (by its header: the symbols of the
        // pass the vCPUs' path made, or two look-ups by halves of kallsyms' sorted names) and
        // read and indexed on the other thread while the driver's symbols are looked up and
        // their code decoded.
        var early: (address: UInt64, method: String, btf: @Sendable () -> BTF?)?
        func startBTF(_ symbols: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]]) {
            guard early == nil, btfFile == nil, let run = inBackground,
                  let (address, method) = Self.namedBTFAddresses(symbols["__start_BTF"]?.map(\.symbol), symbols, read: image.read).first else { return }
            early = (address, method, run { BTF.at(address, read: image.read) })
        }
        if let b = info.btfInBackground, btfFile == nil { early = (b.address, b.method, b.value) }
        let addresses: Kallsyms.Addresses
        do { addresses = try Kallsyms.Addresses(info) } catch { throw .step("kallsyms", error.description) }
        // One pass over kallsyms for everything: the data symbols (KALLSYMS_ALL), the BTF
        // markers and the driver's functions with their extents; already made, and the tables
        // not decoded again, when the text was found through these kallsyms (VMCOREINFOFromVCPUs).
        let withEnds: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]]
        if let made = info.kallsymsLookup, made.names.isSuperset(of: Self.wantedSymbols) {
            withEnds = made.symbols.filter { Self.wantedSymbols.contains($0.key) }
            startBTF(withEnds)
        } else {
            do {
                let kallsyms = try Kallsyms(addresses, read: image.read)
                if kallsyms.sorted != nil, let first = try? kallsyms.lookupWithEnds(["__start_BTF", btfFunction]) { startBTF(first) }
                withEnds = try kallsyms.lookupWithEnds(Self.wantedSymbols)
            } catch {
                throw .step("kallsyms", error.description)
            }
        }
        let named = withEnds.mapValues { $0.map(\.symbol) }
        // The ADRP references of the driver's and the irq walk's functions need no types:
        // decoded now, while the BTF may still be read on the other thread.
        let driverReferences = DriverSymbolFinder.candidates(functions: withEnds, read: image.read)
        let irqReferences = DriverSymbolFinder.candidates(functions: withEnds, read: image.read, names: IRQSymbolFinder.irqFunctions)

        // BTF: a file wins; else the address the kernel's own code names (`__start_BTF` when
        // kallsyms has data symbols, or the ADRP+ADD pair of `btf_parse_vmlinux`, which sets
        // `btf->data = __start_BTF`; kernel/bpf/btf.c), else a scan of the image's read-only
        // data from past kallsyms' tables, then from `_etext` (or `_stext`).
        let btf: BTF, btfSource: String
        if let f = btfFile {
            do { btf = try BTF(bytes: f.bytes) } catch { throw .step("--btf \(f.path)", error.description) }
            btfSource = "BTF of --btf \(f.path)"
        } else if let e = early, let b = e.btf() {
            btf = b
            btfSource = "BTF in guest RAM at \(hex(e.address)) (\(e.method))"
        } else if let (address, named, method) = Self.namedBTF(named["__start_BTF"], withEnds, read: image.read) {
            btf = named
            btfSource = "BTF in guest RAM at \(hex(address)) (\(method))"
        } else {
            // RO_DATA (include/asm-generic/vmlinux.lds.h) puts .rodata, where kallsyms' tables
            // are, before .BTF: the scan starts past them, and from _etext when that fails.
            let a = addresses
            let pastTables = max(a.names, a.tokenTable, a.tokenIndex &+ 512, a.offsets ?? 0)
            let etext = named["_etext"]?.first?.address ?? info.number("SYMBOL(_stext)")
            let starts = [pastTables] + (etext.map { [$0] } ?? [])
            let from = starts.last ?? 0
            var hit: (address: UInt64, btf: BTF)?
            for s in starts where hit == nil {
                hit = BTF.locate(start: s, length: imageBound, read: image.read)
                // The scanned pages are done with: a mapped dump may drop them from memory.
                let end = hit.map { $0.address &+ UInt64($0.btf.byteCount) } ?? s &+ imageBound
                memory.relinquish(GuestRange(start: space.image(s), length: end &- s))
            }
            guard let located = hit else {
                throw .step("BTF in guest RAM", "no valid .BTF header (magic 0xEB9F) at __start_BTF, at the ADRP references of \(btfFunction) or in the \(imageBound >> 20) MiB of the kernel image from \(hex(from)); the kernel may lack CONFIG_DEBUG_INFO_BTF: pass --btf FILE (a copy of its /sys/kernel/btf/vmlinux) or --vmlinux")
            }
            btf = located.btf
            btfSource = "BTF in guest RAM at \(hex(located.address))"
        }
        let probe: BTFKernelTypes
        do { probe = try BTFKernelTypes(btf: btf, symbols: [:], source: btfSource) } catch { throw .step(btfSource, error.description) }
        let finder = try DriverSymbolFinder(space: space, memory: memory, types: probe)

        var candidates: [(address: UInt64, method: String)] = []
        for s in DriverSymbolFinder.dataSymbols {
            for sym in named[s] ?? [] { candidates.append((sym.address, "kallsyms")) }
        }
        for c in driverReferences {
            candidates.append((c.address, "ADRP in \(c.function)"))
        }

        func unique(_ what: String, _ pass: (UInt64) -> Bool) throws(ZeroConfigError) -> DriverSymbolFinder.Found {
            var hits: [UInt64: String] = [:]
            for c in candidates where hits[c.address] == nil && pass(c.address) { hits[c.address] = c.method }
            guard let first = hits.first else {
                throw .step(what, "none of the \(candidates.count) candidate addresses (kallsyms, ADRP references in the driver's functions) holds a valid \(what)")
            }
            guard hits.count == 1 else {
                throw .step(what, "\(hits.count) different candidates pass its checks (\(hits.keys.sorted().map(hex).joined(separator: ", "))): ambiguous, not guessed")
            }
            return .init(address: first.key, method: first.value + ", validated")
        }
        var found: [String: DriverSymbolFinder.Found] = [:]
        let nodes = try unique("its_nodes") { finder.validateITSNodes($0) != nil }
        found["its_nodes"] = nodes
        let rdists = try unique("gic_rdists") { finder.validateRdists($0) }
        found["gic_rdists"] = rdists
        var cpus = dumpCPUs
        if let ptr = finder.u64(image: rdists.address) {
            if let percpu = try? unique("__per_cpu_offset", { finder.validatePerCPUOffset($0, rdistsPointer: ptr, cpus: dumpCPUs) != nil }) {
                found["__per_cpu_offset"] = percpu
                if dumpCPUs == nil {
                    cpus = finder.validatePerCPUOffset(percpu.address, rdistsPointer: ptr, cpus: nil)
                }
            }
        }
        // The irq descriptor walk's symbols (issue 19): not finding them costs names, not routes.
        func fromKallsyms(_ symbols: [String]) -> [(address: UInt64, method: String)] {
            symbols.flatMap { s in (named[s] ?? []).map { ($0.address, "kallsyms") } }
        }
        var kernel = ZeroConfigKernel(types: probe.with(symbols: found.mapValues { $0.address &- space.kernelOffset }), cpus: cpus,
                                      found: found, btfSource: btfSource)
        kernel.treeCandidates = fromKallsyms(IRQDescriptorTree.allCases.map(\.symbol))
            + irqReferences
                .map { ($0.address, "ADRP in \($0.function)") }
        kernel.chipCandidates = fromKallsyms(["its_irq_chip"]) + candidates
        return irqSymbols ? kernel.withIRQSymbols(space: space, memory: memory) : kernel
    }

    /// The irq descriptor walk's symbols found and validated (IRQSymbolFinder), added to the
    /// types' symbols and to what was found; what was not found is in `irqProblems`.
    public func withIRQSymbols(space: KernelAddressSpace, memory: any GuestMemory) -> ZeroConfigKernel {
        let irq = IRQSymbolFinder.find(treeCandidates: treeCandidates, chipCandidates: chipCandidates,
                                       types: types, space: space, memory: memory)
        var k = self
        k.found.merge(irq.found) { a, _ in a }
        k.types = types.with(symbols: k.found.mapValues { $0.address &- space.kernelOffset })
        k.irqProblems = irq.problems
        return k
    }

    /// The symbols the zero-configuration path looks up in kallsyms, in one pass.
    public static let wantedSymbols: Set<String> = Set(DriverSymbolFinder.dataSymbols + DriverSymbolFinder.driverFunctions
                                                       + ["_etext", "__start_BTF", btfFunction]
                                                       + IRQSymbolFinder.dataSymbols + IRQSymbolFinder.irqFunctions)

    /// The function that takes `.BTF`'s address: `btf->data = __start_BTF` (kernel/bpf/btf.c, 5.x–6.x).
    static let btfFunction = "btf_parse_vmlinux"

    /// `.BTF` where the kernel says it is: `__start_BTF` from kallsyms (KALLSYMS_ALL), else the
    /// address `btf_parse_vmlinux` takes (ADRP + ADD, or ADRP + LDR of a GOT slot: the symbol is
    /// weak): one of the function's ~20 page references, each validated as the scan would
    /// validate it (magic, version, sections that fit, a type section that parses).
    static func namedBTF(_ start: [Kallsyms.Symbol]?, _ functions: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]],
                         read: @escaping SendableKernelBytes) -> (UInt64, BTF, String)? {
        for (address, method) in namedBTFAddresses(start, functions, read: read) {
            if let b = BTF.at(address, read: read) { return (address, b, method) }
        }
        return nil
    }

    /// The addresses the kernel's own symbols and code name for `.BTF` whose 24 bytes are a
    /// header `BTF.at` reads on (the BTF itself is not read), in the order `namedBTF` tries them.
    /// `__start_BTF` is declared weak, so the compiler loads it from a GOT slot (ADRP + LDR):
    /// each target of `btf_parse_vmlinux` is tried as the header and as a slot holding its address.
    static func namedBTFAddresses(_ start: [Kallsyms.Symbol]?, _ functions: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]],
                                  read: KernelBytes) -> [(UInt64, String)] {
        var out: [(UInt64, String)] = []
        for s in start ?? [] where BTF.headerAt(s.address, read: read) { out.append((s.address, "__start_BTF")) }
        for c in DriverSymbolFinder.candidates(functions: functions, read: read, names: [btfFunction]) {
            if BTF.headerAt(c.address, read: read) { out.append((c.address, "ADRP in \(btfFunction)")) }
            if let slot = read(c.address, 8), slot.count == 8 {
                let p = slot.loadLE(at: 0, count: 8)
                if BTF.headerAt(p, read: read) { out.append((p, "GOT slot \(hex(c.address)) of \(btfFunction)")) }
            }
        }
        return out
    }

    /// `lpi_id_bits` as its_alloc_lpi_tables sets it: min(GICD_TYPER.IDbits + 1, 16)
    /// (ITS_MAX_LPI_NRBITS), from `gic_rdists->gicd_typer` (its-formats.md, GICD_TYPER).
    public func lpiIDBits(space: KernelAddressSpace, memory: any GuestMemory) -> UInt64? {
        guard let r = found["gic_rdists"], let rd = types.structure("rdists", inUnitOf: "gic_rdists"),
              let o = rd.offset("gicd_typer") else { return nil }
        let f = DriverSymbolFinder.Reads(space: space, memory: memory)
        guard let p = f.u64(image: r.address), let t = f.u64(va: p &+ o) else { return nil }
        return min((t >> 19 & 0x1F) + 1, 16)
    }
}
