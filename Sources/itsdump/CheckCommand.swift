import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the tables for known save/restore bug signatures and structural problems.",
        discussion: """
            Every finding names its rule (`itsdump check --rules`, Documentation/check-rules.md), \
            its severity, the guest PA of the entry and what it means for the guest: stale \
            entries KVM's restore would skip or resurrect, entries its restore rejects, broken \
            collections, disabled or wrongly pending LPIs, an undrained command queue. Every key the \
            views (tables, command queue, --vmlinux's driver records) do not agree on gets a verdict \
            (README "diff"). Exit status: 1 when an error-level finding exists or a route is lost, 0 \
            otherwise, 2 for unusable input.

            Example (in fixtures/kvm-sparse of the source tree, a bundled extract):
              itsdump check core.extract.elf --regs its-regs.json
              itsdump check --rules
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var filters: FilterOptions
    @Flag(name: .long, help: "List the rules (id, severity, source, what the snapshot shows) and exit.")
    var rules = false

    func run() throws {
        if rules {
            // The rule table reads no snapshot: a DUMP beside it is a mistake, not ignored.
            guard input.dumps.isEmpty else {
                throw UsageError("--rules lists the rules and verdicts and reads no DUMP: give either --rules or \(input.dumps.count == 1 ? "the DUMP" : "the DUMPs")")
            }
            try output.write(.rules, inputs: [])
            return
        }
        guard !input.dumps.isEmpty else { throw ValidationError("give a DUMP") }
        let session = try Session(input)
        let (a, loaded) = try session.analyseKeepingKernel(input)
        // With --vmlinux (or on the zero-configuration path) the driver's records join the
        // tables and the queue (README "diff": verdicts).
        let kernel = try session.kernel(input, loaded: loaded)
        var names = DeviceNames(session: session, kernel: kernel)
        names.filter = filters.filter
        let verdicts = names.keep(Verdicts.judge(a, intents: kernel.map { [.driver($0.view)] } ?? []))
        // The filters choose what check reports and what its exit status rests on.
        let findings = names.keep(a.findings, a)
        try output.write(.check(session, a, verdicts, findings), inputs: input.inputPaths)
        if findings.contains(where: { $0.severity == .error }) || verdicts.anyLost { throw ExitCode(1) }
    }
}

struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Decode the ITS command queue: commands not yet processed and the most recent processed ones.",
        discussion: """
            The ring GITS_CBASER describes: the commands between GITS_CREADR and GITS_CWRITER \
            that the ITS has not processed (the tables predate them), and the last processed \
            ones still in the ring (MAPD, MAPC, MAPTI, MOVI, DISCARD… with their fields).

            Example (in fixtures/kvm-basic of the source tree, a bundled extract):
              itsdump queue core.extract.elf --regs its-regs.json --last 4
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    // Unconditional: `--last -1` reaches validate() ("a number ≥ 0"), not "Missing value".
    @Option(name: .long, parsing: .unconditional, help: "How many of the most recent processed commands to show.")
    var last: Int = 32

    func validate() throws {
        guard last >= 0 else { throw ValidationError("--last takes a number ≥ 0") }
    }

    func run() throws {
        let session = try Session(input)
        let regs = try session.registers(input)
        guard !regs.its.isEmpty else { throw ITSLayoutError.noRegisters }
        var queues: [CommandQueue] = []
        for (i, its) in regs.its.enumerated() {
            guard let q = CommandQueue.read(its, memory: session.memory) else {
                throw DumpError.badArgument("ITS \(i): the command queue needs GITS_CBASER (valid), GITS_CREADR and GITS_CWRITER: pass --regs, --cbaser/--creadr/--cwriter, or a migration stream")
            }
            queues.append(q)
        }
        try output.write(.queue(regs, queues, last: last), inputs: input.inputPaths)
    }
}
