import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "What a snapshot holds: kind, RAM ranges, vCPUs, VMCOREINFO.",
        discussion: """
            How itsdump recognised each input, which guest-physical ranges it holds, the vCPUs \
            and VMCOREINFO of its notes; for a kdump file its header, for a migration stream its \
            RAM blocks (and where each is mapped), device sections and the ITS and GIC \
            registers it carries. Needs no registers.

            Example (in fixtures/tcg-basic of the source tree, a bundled extract):
              itsdump info core.extract.elf
            """)

    @Argument(help: ArgumentHelp("The snapshot, recognised by content: an ELF core, kdump file, migration stream, qcow2 image with an internal snapshot or Cloud Hypervisor snapshot directory; or FILE@GPA for a raw RAM image.", valueName: "DUMP"), completion: .file())
    var dumps: [String] = []
    @Option(name: .long, help: ArgumentHelp("The internal snapshot of a qcow2 DUMP whose VM state is read, by ID or name.", valueName: "NAME|ID"))
    var snapshot: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !dumps.isEmpty else { throw ValidationError("give a DUMP: an ELF core, kdump file or migration stream, or FILE@GPA for a raw RAM image") }
    }

    func run() throws {
        try output.write(.info(try Session(dumps, snapshot: snapshot)), inputs: dumps.map(InputPath.file(of:)))
    }
}
