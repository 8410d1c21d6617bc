import CoreDumpReader
import ITSLayout

/// `--regs FILE.json` (and `--regs-a`, `--regs-b`): a state file, or `-` for standard input.
func loadStateFile(_ path: String) throws -> RegisterState {
    guard path == "-" else { return try RegisterStateFile.load(path: path) }
    return try RegisterStateFile.parse(StandardInput.bytes(limit: 4 << 20), path: StandardInput.name)
}
