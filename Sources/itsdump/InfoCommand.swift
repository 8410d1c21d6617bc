import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What a snapshot holds: kind, RAM ranges, vCPUs, VMCOREINFO.")

    @Argument(help: ArgumentHelp("The snapshot: an ELF core, kdump file or migration stream (recognised by content), or FILE@GPA for a raw RAM image.", valueName: "DUMP"))
    var dumps: [String] = []
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !dumps.isEmpty else { throw ValidationError("give a DUMP: an ELF core, kdump file or migration stream, or FILE@GPA for a raw RAM image") }
    }

    func run() throws {
        try output.write(.info(try Session(dumps)))
    }
}
