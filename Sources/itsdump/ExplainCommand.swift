import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every step of one lookup: BASER → L1 entry → DTE → ITE → CTE → target → property byte → pending bit.")

    @OptionGroup var input: InputOptions
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
        emit(TextRenderer().explain(ExplainReport(analysis: a, query: query)) ?? "")
    }
}
