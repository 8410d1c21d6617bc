import ArgumentParser
import Glibc
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct ITSDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itsdump",
        abstract: "Decode Arm GICv3 ITS interrupt routing from VM snapshots.",
        discussion: """
            A snapshot is the memory of a stopped VM; the ITS tables its guest set up are in it.
            itsdump follows every MSI through them, (DeviceID, EventID) -> LPI -> collection -> vCPU, and reports what is stale, lost or inconsistent.
            It reads ELF cores, kdump-compressed dumps, QEMU migration streams and virsh save images, qcow2 internal snapshots, Cloud Hypervisor snapshots, and raw RAM images (FILE@GPA), recognised by content.

            Start with `itsdump routes DUMP` (a migration stream carries its registers; for the \
            other kinds see `itsdump help registers`), then `check`, `explain` or `diff`. Every \
            command takes --format text|json (routes and diff also dot) and -o FILE. More: man \
            itsdump, Documentation/troubleshooting.md.

            Exit status: 0 success; 1 check found an error-level finding or a lost route, diff \
            found a difference, explain found no live mapping for the key; 2 unusable input or \
            arguments.
            """,
        version: BuildIdentity.versionLineIfAsked,
        subcommands: [Info.self, Regs.self, Tables.self, Routes.self, Check.self, Diff.self, Explain.self, Queue.self, Driver.self, Extract.self,
                      RegistersTopic.self])
}

/// Prints to standard output, unbuffered: each call is one or more write(2)s. Every output
/// goes through TerminalText.escape (lines and tabs kept): no guest control character reaches
/// the terminal; guest strings that could break a line are escaped where they are inserted.
func emit(_ s: String) {
    FileOutput.write(TerminalText.escape(s, keepLayout: true), to: 1)
}

@main
enum Main {
    static func main() {
        let commands = ITSDump.configuration.subcommands.map { $0._commandName } + ["help"]
        if let message = CommandSuggestion.message(Array(CommandLine.arguments.dropFirst()), commands: commands) {
            fail(message)
        }
        do {
            var command = try ITSDump.parseAsRoot()
            try command.run()
            // A dump that shrank or was rewritten while it was read: what was printed is not
            // one snapshot (Session.analyse checks before printing too).
            try MappedFile.checkAllUnchanged()
        } catch let e as any ToolError {
            fail(e.description, status: e.exitStatus)
        } catch let e as ExitCode {
            // exit 1 (problems found) still checks that the inputs did not change under us.
            do { try MappedFile.checkAllUnchanged() } catch { fail(error.description) }
            ITSDump.exit(withError: e)
        } catch {
            let code = ITSDump.exitCode(for: error)
            if code == .success || error is ExitCode { ITSDump.exit(withError: error) }
            // Argument errors exit 2, like unusable input (ArgumentParser's default is 64).
            FileOutput.write(TerminalText.escape(ITSDump.fullMessage(for: error), keepLayout: true) + "\n", to: 2)
            exit(2)
        }
    }

    static func fail(_ message: String, status: Int32 = 2) -> Never {
        FileOutput.write("itsdump: \(TerminalText.escape(message))\n", to: 2)
        exit(status)
    }
}

/// Arguments that turn out unusable after parsing (a format the command cannot write, no DUMP):
/// one line, exit 2, like unusable input.
struct UsageError: ToolError {
    let description: String
    init(_ description: String) { self.description = description }
}
