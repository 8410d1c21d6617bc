import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two snapshots' routing, or one snapshot with an expected view.",
        discussion: """
            itsdump diff A B: routes keyed by (ITS base, DeviceID, EventID), never by LPI or irq; \
            collections and registers too. Each side is any DUMP kind; a migration stream carries \
            its registers, otherwise give --regs-a/--regs-b (or --regs for both).

            itsdump diff DUMP --expected FILE: FILE is recognised by content: KVM's debugfs \
            vgic-state or vgic-its-state@<base>, or a JSON file with route rows (`routes --format \
            json`, or a ground-truth file's `interrupts`), or guest-kernel with --vmlinux (the \
            guest driver's records); - reads it from standard input. Only what both sides \
            express is compared.

            Exit status like diff(1): 0 same, 1 different, 2 trouble.

            Example (in fixtures/kvm-prepost of the source tree: a stop before and one after \
            the guest rebound its devices):
              itsdump diff a/core.extract.elf b/core.extract.elf \\
                --regs-a a/its-regs.json --regs-b b/its-regs.json
            """)

    @Argument(help: ArgumentHelp("Two snapshots A and B (any DUMP kind: ELF core, kdump file, migration stream, qcow2 internal snapshot, Cloud Hypervisor snapshot, FILE@GPA), or one with --expected.", valueName: "DUMP"), completion: .file())
    var dumps: [String] = []
    @Option(name: .long, help: ArgumentHelp("Register state file for A.", valueName: "FILE.json"), completion: .file()) var regsA: String?
    @Option(name: .long, help: ArgumentHelp("Register state file for B.", valueName: "FILE.json"), completion: .file()) var regsB: String?
    @Option(name: .long, help: ArgumentHelp("Register state file for both sides (or the one DUMP).", valueName: "FILE.json"), completion: .file()) var regs: String?
    @Option(name: .long, help: ArgumentHelp("Take the registers of both sides from this migration stream (the RAM comes from each DUMP).", valueName: "STREAM"), completion: .file())
    var regsFrom: String?
    @Option(name: .long, help: ArgumentHelp("The expected view: vgic-state, vgic-its-state@…, route JSON, or guest-kernel (with --vmlinux); - reads standard input.", valueName: "FILE"), completion: .file())
    var expected: String?
    @Option(name: .long, help: ArgumentHelp("Fields that legitimately change, comma-separated: \(RouteDiff.Field.allCases.map(\.rawValue).joined(separator: ",")).", valueName: "FIELDS"))
    var ignore: String?
    @Option(name: .long, help: ArgumentHelp("Table entry format for both sides: kvm or qemu.", valueName: "kvm|qemu")) var abi: ITSFormat?
    @Option(name: .long, help: ArgumentHelp("Map a migration stream's RAM block, e.g. ram0@0x40000000.", valueName: "NAME@GPA"))
    var ramBlock: [RAMBlockMapping] = []
    @Option(name: .long, help: ArgumentHelp("The internal snapshot to read from a qcow2 DUMP, by ID or name.", valueName: "NAME|ID"))
    var snapshot: String?
    @Option(name: .long, help: ArgumentHelp("The guest kernel's debug vmlinux: gives the registers of a side that has no other source, and is what --expected guest-kernel compares with.", valueName: "FILE"), completion: .file())
    var vmlinux: String?
    @Option(name: .long, help: ArgumentHelp("The guest's VMCOREINFO text, if the dump has none.", valueName: "FILE"), completion: .file())
    var vmcoreinfo: String?
    @Option(name: .long, help: ArgumentHelp("A BTF file of the guest kernel (its /sys/kernel/btf/vmlinux), when the dump's in-memory .BTF is missing or damaged.", valueName: "FILE"))
    var btf: String?
    @Option(name: .long, help: ArgumentHelp("KVM's debugfs of A (vgic-state, or vgic-its-state@<base> on Linux ≥ 6.16), read when A was taken: what KVM held then, as evidence in the verdicts. Repeatable.", valueName: "FILE"), completion: .file())
    var debugfsA: [String] = []
    @Option(name: .long, help: ArgumentHelp("KVM's debugfs of B: what KVM holds at B, joined into the verdicts like the guest driver's records (a route it holds that B's tables lack is lost). Repeatable.", valueName: "FILE"), completion: .file())
    var debugfsB: [String] = []
    @OptionGroup var output: OutputOptions
    @OptionGroup var filters: FilterOptions

    /// --vmlinux when given, else the zero-configuration path (BTF and kallsyms in guest RAM).
    func kernelView(_ session: Session) throws -> KernelView {
        if let vmlinux { return try KernelView.load(session: session, vmlinux: vmlinux, vmcoreinfoFile: vmcoreinfo) }
        return try KernelView.loadZeroConfig(session: session, btf: btf, vmcoreinfoFile: vmcoreinfo)
    }

    var ignored: Set<RouteDiff.Field> {
        Set((ignore ?? "").split(separator: ",").compactMap { RouteDiff.Field(rawValue: String($0)) })
    }

    func validate() throws {
        if expected != nil {
            guard dumps.count == 1 else { throw ValidationError("--expected compares one DUMP with FILE: give exactly one DUMP") }
            guard debugfsA.isEmpty, debugfsB.isEmpty else {
                throw ValidationError("--debugfs-a/--debugfs-b join KVM's debugfs into diff A B; with one DUMP give the debugfs file as --expected FILE")
            }
        } else {
            guard dumps.count == 2 else {
                throw ValidationError("diff compares two snapshots A and B (or one DUMP with --expected FILE); got \(dumps.count) DUMP argument(s)\(dumps.isEmpty ? "" : ": " + dumps.joined(separator: ", "))")
            }
        }
        let fromStandardInput = [regs, regsA, regsB, expected].filter { $0 == "-" }.count
        guard fromStandardInput <= 1 else { throw ValidationError("only one of --regs, --regs-a, --regs-b and --expected can be - (standard input)") }
        for word in (ignore ?? "").split(separator: ",") where RouteDiff.Field(rawValue: String(word)) == nil {
            throw ValidationError("--ignore \(word): fields are \(RouteDiff.Field.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// One side's session and analysis. Registers: the dump's own (a migration stream), the
    /// state file on top; with no BASER from either, the guest kernel's driver records through
    /// --vmlinux or the zero-configuration path (then also returned, for --expected guest-kernel).
    func side(_ spec: String, regsFile: String?) throws -> (Session, Analysis, KernelView?) {
        let blocks = Dictionary(ramBlock.map { ($0.name, $0.gpa) }, uniquingKeysWith: { _, b in b })
        let session = try Session([spec], ramBlocks: blocks, snapshot: snapshot)
        // --regs-from: both sides' registers from one stream (each side's RAM stays its own).
        var carried = session.carriedRegisters
        if let regsFrom {
            let d = try Dump.open(regsFrom, ramBlocks: blocks, snapshot: snapshot)
            guard let r = d.registers else {
                throw DumpError.badArgument("--regs-from \(regsFrom): a \(d.kind.rawValue) carries no registers; give a migration stream, a qcow2 internal snapshot or a Cloud Hypervisor snapshot")
            }
            carried = r
        }
        var kernel: KernelView?
        let state = try session.registers(carried: carried, stateFile: regsFile ?? regs) {
            let k = try kernelView(session)
            kernel = k
            return k
        }
        guard !state.its.isEmpty else {
            throw DumpError.badArgument("\(spec): no ITS registers: GITS_BASER values are not stored in ELF cores, kdump files or raw images; give --regs-a/--regs-b/--regs FILE.json, a migration stream, or --vmlinux (the guest kernel's records)")
        }
        return (session, try session.analyse(registers: state, format: abi), kernel)
    }

    func run() throws {
        if let expected {
            try runExpected(expected)
            return
        }
        let (sa, a, _) = try side(dumps[0], regsFile: regsA)
        let (sb, b, kb) = try side(dumps[1], regsFile: regsB)
        let d = RouteDiff.compare(before: a.tables, after: b.tables, graphsBefore: a.graphs, graphsAfter: b.graphs,
                                  registersBefore: a.registers, registersAfter: b.registers, ignoring: ignored)
        // B's driver records are the intent the changes are judged against: through --vmlinux, or
        // the zero-configuration path's when B's registers came from it.
        let driverB = try kb ?? vmlinux.map { try KernelView.load(session: sb, vmlinux: $0, vmcoreinfoFile: vmcoreinfo) }
        var names = DeviceNames(session: sb, kernel: driverB)
        names.filter = filters.filter
        // KVM's debugfs of B decides like the driver; A's is evidence of what KVM held then.
        var intents: [Verdicts.IntentView] = driverB.map { [.driver($0.view)] } ?? []
        for f in debugfsB { intents.append(try Self.debugfs(f, side: "B", routes: b.routes)) }
        for f in debugfsA {
            var v = try Self.debugfs(f, side: "A", routes: a.routes)
            v.decisive = false
            intents.append(v)
        }
        let verdicts = names.keep(Verdicts.judge(diff: d, before: a, after: b, intents: intents))
        // The filters choose the route changes counted and the exit status, as check's choose
        // its findings: a change matches when either side's route does.
        var shown = d
        if !names.filter.isEmpty {
            shown.changes = d.changes.filter { c in
                [c.before, c.after].contains { $0.map { r in let n = names.name(r); return names.filter.matches(r, bdf: n.bdf, irq: n.irq) } ?? false }
            }
        }
        try output.write(.diff(DiffReport(a: (sa, a), b: (sb, b), diff: shown, ignored: ignored, verdicts: verdicts, names: names)), inputs: inputPaths)
        if !shown.isEmpty { throw ExitCode(1) }
    }

    /// One side's KVM debugfs file as an intent view named after its side ("vgic-state of B"),
    /// at most 64 MiB read (the 6.10 endless vgic-state is cut by the parser).
    static func debugfs(_ path: String, side: String, routes: [RoutingGraph.Route]) throws -> Verdicts.IntentView {
        let text = String(decoding: try readExpected(path, allowStandardInput: false), as: UTF8.self)
        var v: Verdicts.IntentView
        if VGICITSState.looksLike(text) {
            v = .debugfs(VGICITSState.parse(text))
        } else if VGICState.looksLike(text) {
            v = .vgicState(VGICState.parse(text), routes: routes)
        } else {
            throw DumpError.notADump(path: path, reason: "not a KVM debugfs vgic-state or vgic-its-state text (what --debugfs-\(side.lowercased()) reads)")
        }
        v.name += " of \(side)"
        return v
    }

    /// Reads at most 64 MiB of FILE: a vgic-state hit by the endless-output bug has no end.
    func runExpected(_ path: String) throws {
        let (session, a, loaded) = try side(dumps[0], regsFile: regs)
        if path == "guest-kernel" {
            let k = try loaded ?? kernelView(session)
            let d = ExpectedDiff.against(k.view, source: "the guest kernel's ITS driver (its_device list, \(k.view.vmcoreinfoSource))",
                                         routes: a.routes, ignoring: ignored)
            try report(d, session: session, a: a, path: "guest-kernel", intent: .driver(k.view))
            return
        }
        // `-` is standard input; at most 64 MiB are read either way, and memory stays a small
        // multiple of that: JSON rows are read one element at a time (ExpectedRow.stream).
        var bytes = try Self.readExpected(path, allowStandardInput: true)
        let name = path == "-" ? "standard input" : path
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        let d: ExpectedDiff
        var intent: Verdicts.IntentView?
        if first == UInt8(ascii: "{") {
            let rows: [ExpectedRow]
            do { rows = try ExpectedRow.stream(bytes) } catch {
                throw DumpError.notADump(path: name, reason: ExpectedRow.mismatch(bytes, error))
            }
            bytes = []
            d = ExpectedDiff.against(expectedRows: rows, source: "route rows", routes: a.routes, ignoring: ignored)
            intent = .rows(rows, name: "the route JSON")
        } else {
            let text = String(decoding: bytes, as: UTF8.self)
            bytes = []
            if VGICITSState.looksLike(text) {
                let v = VGICITSState.parse(text)
                d = ExpectedDiff.against(v, routes: a.routes, ignoring: ignored)
                intent = .debugfs(v)
            } else if VGICState.looksLike(text) {
                let v = VGICState.parse(text)
                d = ExpectedDiff.against(v, routes: a.routes, ignoring: ignored)
                intent = .vgicState(v, routes: a.routes)
            } else if first == UInt8(ascii: "[") {
                throw DumpError.notADump(path: name, reason: "a JSON array; expected route JSON: an object with a \"routes\" array (`itsdump routes --format json`) or an \"interrupts\" array (a fixture's ground-truth.json), or KVM's debugfs vgic-state or vgic-its-state text")
            } else {
                throw DumpError.notADump(path: name, reason: "not a KVM debugfs vgic-state or vgic-its-state text, nor route JSON")
            }
        }
        try report(d, session: session, a: a, path: path, intent: intent)
    }

    /// The first 64 MiB of an expected-state file (a vgic-state hit by the endless-output bug
    /// has no end), saying on standard error when there was more.
    static func readExpected(_ path: String, allowStandardInput: Bool) throws -> [UInt8] {
        let cap = 64 << 20
        var bytes = try MappedFile.readSmall(path: path, maxBytes: cap, allowStandardInput: allowStandardInput)
        if bytes.count > cap {
            bytes.removeLast(bytes.count - cap)
            FileOutput.write("itsdump: \(TerminalText.cut(path == "-" ? "standard input" : path)): read the first 64 MiB only\n", to: 2)
        }
        return bytes
    }

    func report(_ d: ExpectedDiff, session: Session, a: Analysis, path: String, intent: Verdicts.IntentView?) throws {
        var names = DeviceNames(session: session, kernel: nil)
        names.filter = filters.filter
        let verdicts = names.keep(Verdicts.judge(a, intents: intent.map { [$0] } ?? []))
        try output.write(.expected(ExpectedReport(session: session, analysis: a, diff: d, path: path, verdicts: verdicts)), inputs: inputPaths)
        if !d.differences.isEmpty { throw ExitCode(1) }
    }
}

extension Diff {
    /// Every file this diff reads (the output must not replace one of them).
    var inputPaths: [String] {
        dumps.map(InputPath.file(of:)) + [regsA, regsB, regs, regsFrom, expected, vmlinux, vmcoreinfo].compactMap { $0 } + debugfsA + debugfsB
    }
}
