import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Regs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The ITS and redistributor registers of a snapshot, with their sources.",
        discussion: """
            With --output json it writes the register state file that --regs reads: \
            `itsdump regs vm.mig --output json > regs.json`.
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let session = try Session(input)
        let state = try session.registers(input)
        guard !state.its.isEmpty || !state.redistributors.isEmpty else { throw ITSLayoutError.noRegisters }
        try output.write(.regs(state))
    }
}
