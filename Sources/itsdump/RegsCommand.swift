import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Regs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regs",
        abstract: "The ITS and redistributor registers of a snapshot, with their sources.",
        discussion: """
            The registers each source gave (a migration stream, --regs, the register flags, \
            --vmlinux) after the overrides, and where each value came from. With --format json \
            it writes the register state file that --regs reads, so that the registers of a \
            migration stream can go with an ELF core or an extract of the same stop.

            Example (a migration stream's registers, for its ELF core of the same stop):
              itsdump regs vm.mig --format json -o regs.json
              itsdump routes core.elf --regs regs.json
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let session = try Session(input)
        let state = try session.registers(input)
        guard !state.its.isEmpty || !state.redistributors.isEmpty else { throw ITSLayoutError.noRegisters }
        try output.write(.regs(state), inputs: input.inputPaths)
    }
}
