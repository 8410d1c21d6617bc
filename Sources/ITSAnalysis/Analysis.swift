import ITSLayout

/// The whole analysis of one snapshot: every ITS the registers describe walked, its routing
/// graph built, its command queue read, the tables' freshness judged and the state checks run.
/// The CLI, every fuzz target and every test that needs a whole analysis call `run`: there is
/// no second copy of this pipeline.
public struct Analysis: Sendable {
    public let registers: RegisterState
    public let tables: [ITSTables]
    public let graphs: [RoutingGraph]
    public let queues: [CommandQueue?]
    public let freshness: [Freshness]
    /// What the inputs themselves say is wrong with them (a dump cut short): about no one ITS.
    public let inputFindings: [Finding]
    /// The state checks' findings, per ITS (index = the ITS's).
    public let stateFindingsPerITS: [[Finding]]

    public var stateFindings: [Finding] { inputFindings + stateFindingsPerITS.flatMap { $0 } }

    public var routes: [RoutingGraph.Route] { graphs.flatMap(\.routes) }

    /// Every finding of the walk, the graph, the queue and the state checks: errors first,
    /// then by guest-physical address and rule.
    public var findings: [Finding] {
        let all = tables.flatMap(\.findings) + graphs.flatMap(\.findings) + stateFindings
            + queues.flatMap { $0?.findings ?? [] }
        return all.sorted {
            ($0.severity, $0.address?.rawValue ?? 0, $0.rule) < ($1.severity, $1.address?.rawValue ?? 0, $1.rule)
        }
    }

    /// The ITS (index) each finding of `findings` is about; the inputs' own findings have none.
    public var itsOfFinding: [Finding: Int] {
        var out: [Finding: Int] = [:]
        for i in tables.indices {
            let own = tables[i].findings + graphs[i].findings + (queues[i]?.findings ?? []) + stateFindingsPerITS[i]
            for f in own where out[f] == nil { out[f] = i }
        }
        return out
    }

    /// - Parameters:
    ///   - format: the table format when the caller knows it (`--format`); nil: from TYPER/IIDR.
    ///   - vcpus: how many vCPUs the dump says the guest has, if it says.
    ///   - guestWritten: the dump was written by the guest itself (a kdump vmcore after a
    ///     panic), not by the VMM on a stop: the freshness caveats differ.
    ///   - limits: the walk's budget (the fuzzers lower it).
    ///   - inputFindings: what the inputs themselves say is wrong with them (a dump cut short),
    ///     listed with the state checks; evaluated after the walk, so that what the walk's reads
    ///     found (a kdump page whose data is past the end of the file) counts.
    /// - Throws: `ITSLayoutError` when there are no registers, or an ITS's cannot be walked.
    public static func run(memory: any GuestMemory, registers: RegisterState, format: ITSFormat? = nil,
                           vcpus: Int?, guestWritten: Bool = false,
                           limits: WalkLimits = WalkLimits(), inputFindings: @autoclosure () -> [Finding] = []) throws(ITSLayoutError) -> Analysis
    {
        guard !registers.its.isEmpty else { throw .noRegisters }
        var tables: [ITSTables] = []
        var graphs: [RoutingGraph] = []
        var queues: [CommandQueue?] = []
        var freshness: [Freshness] = []
        var state: [[Finding]] = []
        for (i, its) in registers.its.enumerated() {
            let t = try ITSWalker.walk(memory: memory, registers: its, itsIndex: i, format: format, limits: limits)
            let g = RoutingGraph.build(t, redistributors: registers.redistributors, memory: memory, vcpuCount: vcpus)
            let q = CommandQueue.read(its, memory: memory)
            tables.append(t)
            graphs.append(g)
            queues.append(q)
            freshness.append(Freshness.assess(t, queue: q, guestWrittenDump: guestWritten))
            state.append(StateChecks.run(t, graph: g, redistributors: registers.redistributors, memory: memory, queue: q))
        }
        return Analysis(registers: registers, tables: tables, graphs: graphs, queues: queues,
                        freshness: freshness, inputFindings: inputFindings(), stateFindingsPerITS: state)
    }
}
