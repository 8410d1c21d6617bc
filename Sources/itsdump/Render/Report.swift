import ArgumentParser
import CoreDumpReader
import GuestKernel
import ITSAnalysis
import ITSLayout

/// What a command has to say. Commands build one and hand it to the renderer of the chosen
/// output format (`OutputOptions.write`); they build no document themselves. A new view is a
/// new case here and one method in each renderer; a new output format is one new renderer.
enum Report {
    /// The routes the filter keeps, each named (DeviceNames), and the per-vCPU summary.
    case routes(Session, Analysis, DeviceNames)
    case tables(Session, Analysis)
    /// The findings, and the verdict of every key the views do not agree on.
    /// The findings are those the filters keep (all without filters).
    case check(Session, Analysis, Verdicts, [Finding])
    /// `check --rules`: the rule table.
    case rules
    case queue(RegisterState, [CommandQueue], last: Int)
    case diff(DiffReport)
    case expected(ExpectedReport)
    case explain(ExplainReport)
    case driver(Session, KernelView)
    case info(Session)
    case regs(RegisterState)
    case extract(ExtractReport)

    /// The command's name, for messages ("check has no dot output").
    var command: String {
        switch self {
        case .routes: "routes"
        case .tables: "tables"
        case .check, .rules: "check"
        case .queue: "queue"
        case .diff, .expected: "diff"
        case .explain: "explain"
        case .driver: "driver"
        case .info: "info"
        case .regs: "regs"
        case .extract: "extract"
        }
    }
}

/// `diff A B`: both sides and what changed.
struct DiffReport {
    let a: (session: Session, analysis: Analysis)
    let b: (session: Session, analysis: Analysis)
    let diff: RouteDiff
    let ignored: Set<RouteDiff.Field>
    /// One verdict per route change (README "diff"), after the filters.
    let verdicts: Verdicts
    let names: DeviceNames
}

/// `diff DUMP --expected FILE`.
struct ExpectedReport {
    let session: Session
    let analysis: Analysis
    let diff: ExpectedDiff
    let path: String
    let verdicts: Verdicts
}

/// `extract`: what was written.
struct ExtractReport {
    let path: String
    let ranges: Int
    let bytes: Int
    let pages: Int
    let notes: Int
}

/// `explain`: the entries that matched the query, or why none did.
struct ExplainReport {
    enum Query {
        /// `event` nil: every event of the device.
        case event(device: UInt64, event: UInt64?)
        case lpi(UInt64)
        /// `--irq N` that no route carries (one that does is asked as its .event).
        case irq(UInt64)
        /// `--bdf B` (canonical) that no route carries and the identity mapping gives no
        /// DeviceID (a segment other than 0000).
        case bdf(String)
    }
    let analysis: Analysis
    let query: Query
    /// The lookups as data (found, or where they stop), for --device alone, JSON and not-found keys.
    let lookups: [Lookup]
    let names: DeviceNames
    /// Whether every lookup routes (the exit status is 1 otherwise).
    var found: Bool { !lookups.isEmpty && lookups.allSatisfy(\.found) }
}

/// One output format: a method per report it can express; the others are nil (the command
/// says it has no such output).
protocol Renderer {
    func routes(_ session: Session, _ a: Analysis, _ names: DeviceNames) -> String?
    func tables(_ session: Session, _ a: Analysis) -> String?
    func check(_ session: Session, _ a: Analysis, _ verdicts: Verdicts, _ findings: [Finding]) -> String?
    func rules() -> String?
    func queue(_ regs: RegisterState, _ queues: [CommandQueue], last: Int) -> String?
    func diff(_ r: DiffReport) -> String?
    func expected(_ r: ExpectedReport) -> String?
    func explain(_ r: ExplainReport) -> String?
    func driver(_ session: Session, _ k: KernelView) -> String?
    func info(_ session: Session) -> String?
    func regs(_ state: RegisterState) -> String?
    func extract(_ r: ExtractReport) -> String?
}

extension Renderer {
    func routes(_ session: Session, _ a: Analysis, _ names: DeviceNames) -> String? { nil }
    func tables(_ session: Session, _ a: Analysis) -> String? { nil }
    func check(_ session: Session, _ a: Analysis, _ verdicts: Verdicts, _ findings: [Finding]) -> String? { nil }
    func rules() -> String? { nil }
    func queue(_ regs: RegisterState, _ queues: [CommandQueue], last: Int) -> String? { nil }
    func diff(_ r: DiffReport) -> String? { nil }
    func expected(_ r: ExpectedReport) -> String? { nil }
    func explain(_ r: ExplainReport) -> String? { nil }
    func driver(_ session: Session, _ k: KernelView) -> String? { nil }
    func info(_ session: Session) -> String? { nil }
    func regs(_ state: RegisterState) -> String? { nil }
    func extract(_ r: ExtractReport) -> String? { nil }

    /// The one dispatch from a report to the renderer's method.
    func render(_ report: Report) -> String? {
        switch report {
        case .routes(let session, let a, let names): routes(session, a, names)
        case .tables(let session, let a): tables(session, a)
        case .check(let session, let a, let verdicts, let findings): check(session, a, verdicts, findings)
        case .rules: rules()
        case .queue(let regs, let queues, let last): queue(regs, queues, last: last)
        case .diff(let r): diff(r)
        case .expected(let r): expected(r)
        case .explain(let r): explain(r)
        case .driver(let session, let k): driver(session, k)
        case .info(let session): info(session)
        case .regs(let state): regs(state)
        case .extract(let r): extract(r)
        }
    }
}

func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "-" }
func opt<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "-" }

extension Sourced {
    var sourceText: String { provenance.description }
}
