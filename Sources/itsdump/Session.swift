import CoreDumpReader
import Glibc
import ITSLayout

/// The inputs of one command, opened, and the walk of every ITS the registers describe.
struct Session {
    let dumps: [Dump]
    let memory: any GuestMemory
    let vcpuCount: Int?

    init(_ specs: [String], ramBlocks: [String: UInt64] = [:]) throws {
        dumps = try specs.map { spec throws(DumpError) in try Dump.open(spec, ramBlocks: ramBlocks, progress: Progress(spec).report) }
        memory = dumps.count == 1 ? dumps[0].memory : try CompositeMemory(dumps.map(\.memory))
        vcpuCount = dumps.compactMap(\.vcpuCount).max()
    }

    struct Analysis {
        let registers: RegisterState
        let tables: [ITSTables]
        let graphs: [RoutingGraph]
        let queues: [CommandQueue?]
        let freshness: [Freshness]
        let stateFindings: [Finding]
        var routes: [RoutingGraph.Route] { graphs.flatMap(\.routes) }
        var findings: [Finding] {
            let all = tables.flatMap(\.findings) + graphs.flatMap(\.findings) + stateFindings
                + queues.flatMap { $0?.findings ?? [] }
            return all.sorted {
                ($0.severity, $0.address?.rawValue ?? 0, $0.rule) < ($1.severity, $1.address?.rawValue ?? 0, $1.rule)
            }
        }
    }

    /// Registers this input carries (a migration stream), if any.
    var carriedRegisters: RegisterState? { dumps.compactMap(\.registers).first }

    /// A dump the guest wrote itself (a kdump vmcore after a panic), not the VMM on a stop.
    var guestWritten: Bool {
        dumps.contains { $0.vmcoreinfo?.contains { $0.key == "CRASHTIME" } == true }
    }

    func analyse(_ input: InputOptions) throws -> Analysis {
        try analyse(registers: registers(input), format: input.format)
    }

    /// The inputs' own registers, else the guest kernel's (--vmlinux, or without it the
    /// zero-configuration path) when no --regs/flags give BASERs, then the state file and the
    /// flags on top.
    func registers(_ input: InputOptions) throws -> RegisterState {
        var carried = carriedRegisters
        if carried == nil, input.regsFrom == nil {
            let fromFlags = try input.registerState(vcpuCount: vcpuCount, carried: nil)
            if !fromFlags.its.contains(where: \.hasAnyBaser) {
                // --vmlinux, else the zero-configuration path (BTF and kallsyms in guest RAM).
                carried = try KernelView.load(session: self, input: input).registers
            }
        }
        return try input.registerState(vcpuCount: vcpuCount, carried: carried)
    }

    func analyse(registers: RegisterState, format: ITSFormat?) throws -> Analysis {
        guard !registers.its.isEmpty else { throw ITSLayoutError.noRegisters }
        var tables: [ITSTables] = []
        var graphs: [RoutingGraph] = []
        var queues: [CommandQueue?] = []
        var freshness: [Freshness] = []
        var state: [Finding] = []
        for (i, its) in registers.its.enumerated() {
            let t = try ITSWalker.walk(memory: memory, registers: its, itsIndex: i, format: format)
            let g = RoutingGraph.build(t, redistributors: registers.redistributors, memory: memory, vcpuCount: vcpuCount)
            let q = CommandQueue.read(its, memory: memory)
            tables.append(t)
            graphs.append(g)
            queues.append(q)
            freshness.append(Freshness.assess(t, queue: q, guestWrittenDump: guestWritten))
            state += StateChecks.run(t, graph: g, redistributors: registers.redistributors, memory: memory, queue: q)
        }
        return Analysis(registers: registers, tables: tables, graphs: graphs, queues: queues, freshness: freshness,
                        stateFindings: state)
    }

    /// One line per input: what was read.
    var inputLines: [String] {
        dumps.map { d in
            let ranges = d.memory.presentRanges.map(\.description).joined(separator: ", ")
            var s = "\(d.kind.rawValue) \(d.path): RAM \(ranges.isEmpty ? "none mapped" : ranges)"
            if let n = d.vcpuCount { s += ", \(n) vCPUs" }
            for note in d.stream?.notes ?? [] { s += "\n  note: \(note)" }
            return s
        }
    }
}

extension Sourced {
    var sourceText: String { provenance.description }
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
        FileOutput.write("\rindexing \(name): \(done * 100 / total)%", to: 2)
    }
}
