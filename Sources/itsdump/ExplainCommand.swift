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
    @Option(name: .long, help: ArgumentHelp("DeviceID (with --event).", valueName: "ID")) var device: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("EventID (with --device).", valueName: "ID")) var event: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("Explain every entry that maps this LPI instead.", valueName: "N")) var lpi: RegisterValue?

    func validate() throws {
        guard (device != nil && event != nil) != (lpi != nil) else {
            throw ValidationError("give --device D --event E, or --lpi N")
        }
    }

    func run() throws {
        let session = try Session(input)
        let a = try session.analyse(input)
        let query: ExplainReport.Query = if let lpi { .lpi(lpi.value) } else { .event(device: device?.value ?? 0, event: event?.value ?? 0) }
        try output.write(.explain(ExplainReport(analysis: a, query: query)), inputs: input.inputPaths)
    }
}
