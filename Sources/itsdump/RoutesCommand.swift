import ArgumentParser
import ITSAnalysis

/// A command that analyses its inputs and shows one view of the result.
protocol AnalysisView: ParsableCommand {
    var input: InputOptions { get }
    var output: OutputOptions { get }
    static func report(_ session: Session, _ analysis: Analysis) -> Report
}

extension AnalysisView {
    func run() throws {
        let session = try Session(input)
        try output.write(Self.report(session, try session.analyse(input)), inputs: input.inputPaths)
    }
}

struct Routes: AnalysisView {
    static let configuration = CommandConfiguration(
        commandName: "routes",
        abstract: "The routing graph: (DeviceID, EventID) -> LPI -> collection -> vCPU.",
        discussion: """
            One row per live (DeviceID, EventID): the LPI its ITE maps, the collection (ICID), \
            the vCPU the collection targets, the LPI's enable bit and priority (property table) \
            and its pending bit (the target's pending table), with the guest PA of the ITT and \
            the ITE. Then how current the tables are, and every finding (see `itsdump check`).

            Example (in fixtures/kvm-basic of the source tree, a bundled extract; an ELF core \
            needs the registers, a migration stream carries them):
              itsdump routes core.extract.elf --regs its-regs.json
              itsdump routes vm.mig --format dot -o routes.dot
            """)
    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var filters: FilterOptions
    static func report(_ session: Session, _ analysis: Analysis) -> Report {
        .routes(session, analysis, DeviceNames(session: session, kernel: nil))
    }

    /// The routes named as their users know them (with --vmlinux: Linux irq, actions, function),
    /// kept by the filters.
    func run() throws {
        let session = try Session(input)
        // Without --vmlinux, the zero-configuration path's view names the routes when the
        // registers came from it.
        let (a, loaded) = try session.analyseKeepingKernel(input)
        let kernel = try session.kernel(input, loaded: loaded)
        var names = DeviceNames(session: session, kernel: kernel)
        names.filter = filters.filter
        try output.write(.routes(session, a, names), inputs: input.inputPaths)
    }
}

struct Tables: AnalysisView {
    static let configuration = CommandConfiguration(
        commandName: "tables",
        abstract: "The registers decoded, and every table entry: guest PA, raw value, fields, status.",
        discussion: """
            Every register field by name, the device and collection tables' geometry, each \
            level-1 entry, and every valid DTE, ITE and CTE with its status: live (on the walk the \
            ITS or KVM's restore makes), stale (valid but not reached) or rejected \
            (Documentation/its-formats.md §1.10).

            Example (in fixtures/tcg-basic of the source tree, a bundled extract):
              itsdump tables core.extract.elf --regs its-regs.json
            """)
    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    static func report(_ session: Session, _ analysis: Analysis) -> Report { .tables(session, analysis) }
}
