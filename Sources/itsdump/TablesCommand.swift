import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The registers decoded, and every table entry: guest PA, raw value, fields, status.")

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks)
        try output.write(.tables(session, try session.analyse(input)))
    }
}
