import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The routing graph: (DeviceID, EventID) -> LPI -> collection -> vCPU.")

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks)
        try output.write(.routes(session, try session.analyse(input)))
    }
}
