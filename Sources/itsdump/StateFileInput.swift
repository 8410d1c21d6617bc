import CoreDumpReader
import ITSLayout
import Synchronization

/// `--regs -`: standard input can be read once, but the register state is composed twice
/// with --vmlinux (Session.registers); the state read from it is kept for the second time.
private let standardInputState = Mutex<RegisterState?>(nil)

/// `--regs FILE.json` (and `--regs-a`, `--regs-b`): a state file, or `-` for standard input.
func loadStateFile(_ path: String) throws -> RegisterState {
    guard path == "-" else { return try RegisterStateFile.load(path: path) }
    if let kept = standardInputState.withLock({ $0 }) { return kept }
    let state = try RegisterStateFile.load(path: path)
    standardInputState.withLock { $0 = state }
    return state
}
