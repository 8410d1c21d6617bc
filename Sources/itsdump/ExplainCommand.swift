import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Every step of one lookup: BASER -> L1 entry -> DTE -> ITE -> CTE -> target -> property byte -> pending bit.",
        discussion: """
            Follows one MSI (--device D --event E) or every entry that maps an LPI (--lpi N) \
            through the tables, as the ITS does: the guest PA and raw value of each entry read, \
            its fields, whether KVM's restore walk reaches it, the collection's target vCPU, the \
            LPI's property byte (enable, priority) and its pending bit. When no ITE matches, \
            it says where the lookup stopped.

            Example (in fixtures/kvm-basic of the source tree, a bundled extract):
              itsdump explain core.extract.elf --regs its-regs.json --device 0x10 --event 2
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: ArgumentHelp("DeviceID; without --event, every event of the device.", valueName: "ID")) var device: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("EventID (with --device).", valueName: "ID")) var event: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("Explain every entry that maps this LPI instead.", valueName: "N")) var lpi: RegisterValue?

    func validate() throws {
        guard (device != nil) != (lpi != nil), event == nil || device != nil else {
            throw ValidationError("give --device D [--event E], or --lpi N")
        }
        if let d = device, d.value > UInt64(UInt32.max) { throw ValidationError("--device: a DeviceID has at most 32 bits") }
        if let e = event, e.value > UInt64(UInt32.max) { throw ValidationError("--event: an EventID has at most 32 bits") }
    }

    /// A key the tables do not route exits 1 and says where the lookup stopped (README "explain").
    func run() throws {
        let session = try Session(input)
        let (a, loaded) = try session.analyseKeepingKernel(input)
        let kernel = try session.kernel(input, loaded: loaded)
        let query: ExplainReport.Query = if let lpi { .lpi(lpi.value) } else { .event(device: device?.value ?? 0, event: event?.value) }
        let lookups: [Lookup]
        if let lpi {
            lookups = Lookup.explain(a, lpi: LPI(UInt32(truncatingIfNeeded: lpi.value)))
        } else {
            lookups = Lookup.explain(a, memory: session.memory, device: DeviceID(UInt32(truncatingIfNeeded: device?.value ?? 0)),
                                     event: event.map { EventID(UInt32(truncatingIfNeeded: $0.value)) })
        }
        let report = ExplainReport(analysis: a, query: query, lookups: lookups, names: DeviceNames(session: session, kernel: kernel))
        try output.write(.explain(report), inputs: input.inputPaths)
        if !report.found { throw ExitCode(1) }
    }
}
