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

/// Prints to standard output, unbuffered: each call is one or more write(2)s.
func emit(_ s: String) {
    FileOutput.write(s, to: 1)
}

@main
enum Main {
    static func main() {
        do {
            var command = try ITSDump.parseAsRoot()
            try command.run()
        } catch let e as any ToolError {
            fail(e.description, status: e.exitStatus)
        } catch {
            let code = ITSDump.exitCode(for: error)
            if code == .success || error is ExitCode { ITSDump.exit(withError: error) }
            // Argument errors exit 2, like unusable input (ArgumentParser's default is 64).
            FileOutput.write(ITSDump.fullMessage(for: error) + "\n", to: 2)
            exit(2)
        }
    }

    static func fail(_ message: String, status: Int32 = 2) -> Never {
        FileOutput.write("itsdump: \(message)\n", to: 2)
        exit(status)
    }
}

/// Arguments that turn out unusable after parsing (a format the command cannot write, no DUMP):
/// one line, exit 2, like unusable input.
struct UsageError: ToolError {
    let description: String
    init(_ description: String) { self.description = description }
}
