import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Every step of one lookup: BASER -> L1 entry -> DTE -> ITE -> CTE -> target -> property byte -> pending bit.",
        discussion: """
            Follows one MSI (--device D --event E) or every entry that maps an LPI (--lpi N) \
            through the tables, as the ITS does: the guest PA and raw value of each entry read, \
            its fields, whether KVM's restore walk reaches it, the collection's target vCPU, the \
            LPI's property byte (enable, priority) and its pending bit. When no ITE matches, \
            it says where the lookup stopped. The key can also be named as users know it: \
            --bdf B (every event of the device at that PCI address) or --irq N (the event \
            behind Linux irq N, from the guest kernel: --vmlinux or zero configuration).

            Example (in fixtures/kvm-basic of the source tree, a bundled extract):
              itsdump explain core.extract.elf --regs its-regs.json --device 0x10 --event 2
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: ArgumentHelp("DeviceID; without --event, every event of the device.", valueName: "ID")) var device: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("EventID (with --device).", valueName: "ID")) var event: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("Explain every entry that maps this LPI instead.", valueName: "N")) var lpi: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("Explain every event of the device at this PCI address instead (0000:00:02.0 or 00:02.0).", valueName: "BDF")) var bdf: String?
    @Option(name: .long, help: ArgumentHelp("Explain the event behind this Linux irq instead (from the guest kernel: --vmlinux or zero configuration).", valueName: "N")) var irq: UInt32?

    func validate() throws {
        if let d = device, d.value > UInt64(UInt32.max) { throw ValidationError("--device: a DeviceID has at most 32 bits") }
        if let e = event, e.value > UInt64(UInt32.max) { throw ValidationError("--event: an EventID has at most 32 bits") }
        if let b = bdf, RouteFilter.canonicalBDF(b) == nil {
            throw ValidationError("--bdf \(b): give a PCI address as 0000:00:02.0 or 00:02.0 (hex; device ≤ 1f, function ≤ 7)")
        }
    }

    /// Which key: checked once the arguments parsed, so that an unknown option is reported as
    /// such (a failed validate() stood in front of it).
    func checkSelection() throws {
        let given = [device != nil, lpi != nil, bdf != nil, irq != nil].filter { $0 }.count
        guard given == 1, event == nil || device != nil else {
            throw UsageError("give one key: --device D [--event E], --lpi N, --bdf B or --irq N")
        }
    }

    /// A key the tables do not route exits 1 and says where the lookup stopped (README "explain").
    func run() throws {
        try checkSelection()
        let session = try Session(input)
        let (a, loaded) = try session.analyseKeepingKernel(input)
        let kernel = try session.kernel(input, loaded: loaded)
        let names = DeviceNames(session: session, kernel: kernel)
        var query: ExplainReport.Query = if let lpi { .lpi(lpi.value) } else { .event(device: device?.value ?? 0, event: event?.value) }
        var lookups: [Lookup] = []
        if let lpi {
            lookups = Lookup.explain(a, lpi: LPI(UInt32(truncatingIfNeeded: lpi.value)))
        } else if let irq {
            guard names.irqs != nil else {
                throw UsageError("--irq \(irq): no Linux irqs here: they come from the guest kernel (--vmlinux, or zero configuration on a dump that holds it); name the key with --device/--event, --lpi or --bdf")
            }
            let filter = RouteFilter(irqs: [irq])
            query = .irq(UInt64(irq))
            if let r = a.graphs.lazy.flatMap(\.routes).first(where: { filter.matches($0, bdf: names.name($0).bdf, irq: names.name($0).irq) }) {
                query = .event(device: UInt64(r.deviceID.rawValue), event: UInt64(r.eventID.rawValue))
                lookups = Lookup.explain(a, memory: session.memory, device: r.deviceID, event: r.eventID)
            }
        } else if let bdf, let canonical = RouteFilter.canonicalBDF(bdf) {
            // The devices whose routes carry that address (the kernel's MSI descriptor, or the
            // identity mapping); with none, the DeviceID the identity mapping gives, so that the
            // lookup says where it stops.
            let filter = RouteFilter(bdfs: [canonical])
            var devices: [DeviceID] = []
            for r in a.graphs.lazy.flatMap(\.routes) where !devices.contains(r.deviceID) && filter.matches(r, bdf: names.name(r).bdf, irq: nil) {
                devices.append(r.deviceID)
            }
            if devices.isEmpty, let d = DeviceIdentity.deviceID(bdf: canonical) { devices = [d] }
            // Neither: said as such (it was an empty output and exit 1).
            query = devices.first.map { .event(device: UInt64($0.rawValue), event: nil) } ?? .bdf(canonical)
            for d in devices { lookups += Lookup.explain(a, memory: session.memory, device: d, event: nil) }
        } else {
            lookups = Lookup.explain(a, memory: session.memory, device: DeviceID(UInt32(truncatingIfNeeded: device?.value ?? 0)),
                                     event: event.map { EventID(UInt32(truncatingIfNeeded: $0.value)) })
        }
        let report = ExplainReport(analysis: a, query: query, lookups: lookups, names: names)
        try output.write(.explain(report), inputs: input.inputPaths)
        if !report.found { throw ExitCode(1) }
    }
}
