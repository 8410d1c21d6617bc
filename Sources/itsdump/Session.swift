import ArgumentParser
import CoreDumpReader
import Glibc
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

/// The inputs of one command, opened, and the walk of every ITS the registers describe.
struct Session {
    let dumps: [Dump]
    let memory: any GuestMemory
    let vcpuCount: Int?

    /// The inputs of a command that takes `InputOptions`.
    init(_ input: InputOptions) throws {
        try self.init(input.dumps, ramBlocks: input.ramBlocks, snapshot: input.snapshot)
    }

    init(_ specs: [String], ramBlocks: [String: UInt64] = [:], snapshot: String? = nil) throws {
        guard !specs.isEmpty else {
            throw UsageError("give a DUMP: an ELF core, kdump file or migration stream, or FILE@GPA for a raw RAM image")
        }
        dumps = try specs.map { spec throws(DumpError) in
            try Dump.open(spec, ramBlocks: ramBlocks, snapshot: snapshot, progress: Progress(spec).report)
        }
        memory = dumps.count == 1 ? dumps[0].memory : try CompositeMemory(dumps.map(\.memory))
        vcpuCount = dumps.compactMap(\.vcpuCount).max()
    }

    /// Registers this input carries (a migration stream), if any.
    var carriedRegisters: RegisterState? { dumps.compactMap(\.registers).first }

    /// A dump the guest wrote itself (a kdump vmcore after a panic), not the VMM on a stop.
    var guestWritten: Bool {
        dumps.contains { $0.vmcoreinfo?.contains { $0.key == "CRASHTIME" } == true }
    }

    func analyse(_ input: InputOptions) throws -> Analysis {
        try analyse(registers: registers(input), format: input.abi)
    }

    /// The registers of a command that takes `InputOptions`, by `RegisterState.resolve`: the
    /// flags, the state file, the inputs' own (or `--regs-from`), and last the guest kernel's
    /// (--vmlinux, or without it the zero-configuration path: BTF and kallsyms in guest RAM).
    func registers(_ input: InputOptions) throws -> RegisterState {
        try registers(carried: input.registersFrom() ?? carriedRegisters,
                      stateFile: input.regs, flags: { input.flagRegisters(vcpuCount: vcpuCount, knownCPUs: $0) }) {
            try KernelView.load(session: self, input: input)
        }
    }

    /// `analyse(input)`, and the guest kernel's view when the registers came from it (--vmlinux,
    /// or the zero-configuration path), so that naming the routes needs no second walk.
    func analyseKeepingKernel(_ input: InputOptions) throws -> (analysis: Analysis, kernel: KernelView?) {
        var kernel: KernelView?
        let regs = try registers(carried: input.registersFrom() ?? carriedRegisters, stateFile: input.regs,
                                 flags: { input.flagRegisters(vcpuCount: vcpuCount, knownCPUs: $0) }) {
            let k = try KernelView.load(session: self, input: input)
            kernel = k
            return k
        }
        let analysis = try analyse(registers: regs, format: input.abi)
        // The irq walk's thread reads the dump too: done, and the dump checked again, before
        // anything is printed.
        if kernel?.irqWalk != nil {
            _ = kernel?.irqs
            try MappedFile.checkAllUnchanged()
        }
        return (analysis, kernel)
    }

    /// The kernel view of `input.vmlinux` unless `loaded` (the one the registers came from) is given.
    func kernel(_ input: InputOptions, loaded: KernelView?) throws -> KernelView? {
        if let loaded { return loaded }
        return try input.vmlinux.map { try KernelView.load(session: self, vmlinux: $0, vmcoreinfoFile: input.vmcoreinfo) }
    }

    /// `RegisterState.resolve` over this session; `kernel` is called only when no other source
    /// gives a GITS_BASER.
    func registers(carried: RegisterState?, stateFile: String?, flags: (Int) -> RegisterState = { _ in RegisterState() },
                   kernel: () throws -> KernelView) throws -> RegisterState {
        let file = try stateFile.map { try loadStateFile($0) }
        let known = max(carried?.redistributors.count ?? 0, file?.redistributors.count ?? 0)
        return try RegisterState.resolve(carried: carried, stateFile: file, flags: flags(known)) { try kernel().registers }
    }

    func analyse(registers: RegisterState, format: ITSFormat?) throws -> Analysis {
        // A dump cut short: its missing ranges are a finding, so that routes and check never
        // read as "complete RAM, no routes, exit 0" (asked after the walk: a large kdump is
        // checked whole only when a page the walk read is gone).
        let a = try Analysis.run(memory: memory, registers: registers, format: format, vcpus: vcpuCount,
                                 guestWritten: guestWritten, inputFindings: dumps.flatMap(\.inputFindings))
        try MappedFile.checkAllUnchanged()
        return a
    }

    /// One line per input: what was read.
    var inputLines: [String] {
        dumps.map { d in
            let ranges = d.memory.presentRanges.map(\.description).joined(separator: ", ")
            var s = "\(d.kind.rawValue) \(TerminalText.escape(d.path)): RAM \(ranges.isEmpty ? "none mapped" : ranges)"
            if let n = d.vcpuCount { s += ", \(n) vCPUs" }
            for note in d.reader.readerNotes { s += "\n  note: \(TerminalText.escape(note))" }
            if let why = d.reader.incompleteReason { s += "\n  note: the dump is incomplete: \(why)" }
            return s
        }
    }
}

/// "indexing FILE: 42%" on stderr, only when stderr is a terminal and the pass takes a while.
final class Progress: @unchecked Sendable {
    let name: String
    let start = ContinuousClock.now
    var shown = false
    init(_ name: String) { self.name = name }

    func report(_ done: UInt64, _ total: UInt64) {
        guard isatty(2) != 0, total > 0 else { return }
        if done >= total {
            if shown { FileOutput.write("\r\u{1B}[K", to: 2) }
            return
        }
        guard ContinuousClock.now - start > .milliseconds(500) else { return }
        shown = true
        FileOutput.write("\rindexing \(TerminalText.cut(name)): \(done * 100 / total)%", to: 2)
    }
}
