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
            itsdump reads a VM snapshot (an ELF core, a kdump-compressed dump, a QEMU migration \
            stream or virsh save image, or raw RAM images), finds the ITS device table, \
            collection table and every ITT that GITS_BASER describes, decodes them in KVM's table \
            ABI or QEMU's emulated-ITS format, and prints the routing (DeviceID, EventID) -> LPI -> \
            collection -> vCPU.

            Exit status: 0 success; 1 check found an error-level finding, diff found a difference; \
            2 unusable input or arguments.
            """,
        version: "0.1.0",
        subcommands: [Info.self, Regs.self, Tables.self, Routes.self, Check.self, Diff.self, Explain.self, Queue.self, Driver.self, Extract.self])
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
