import ArgumentParser
import ITSAnalysis
import ITSLayout

/// `--device`, `--bdf`, `--vcpu`, `--lpi`, `--irq` on routes, check and diff: each repeatable,
/// kinds combined (every kind given must match).
struct FilterOptions: ParsableArguments {
    @Option(name: .customLong("device"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Only this DeviceID (hex 0x… or decimal; repeatable).", valueName: "ID"))
    var devices: [RegisterValue] = []
    @Option(name: .customLong("bdf"), help: ArgumentHelp("Only this PCI function, 0000:00:02.0 or 00:02.0 (repeatable).", valueName: "BDF"))
    var bdfs: [String] = []
    @Option(name: .customLong("vcpu"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Only routes to this vCPU (a verdict: before or after; repeatable).", valueName: "N"))
    var vcpus: [UInt32] = []
    @Option(name: .customLong("lpi"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Only this LPI (INTID ≥ 8192; repeatable).", valueName: "N"))
    var lpis: [UInt32] = []
    @Option(name: .customLong("irq"), parsing: .unconditionalSingleValue, help: ArgumentHelp("Only this Linux irq (from the guest kernel: --vmlinux, or zero configuration; repeatable).", valueName: "N"))
    var irqs: [UInt32] = []

    func validate() throws {
        for d in devices where d.value > UInt64(UInt32.max) { throw ValidationError("--device \(d.value): a DeviceID has at most 32 bits") }
        for b in bdfs where RouteFilter.canonicalBDF(b) == nil {
            throw ValidationError("--bdf \(b): give a PCI address as 0000:00:02.0 or 00:02.0 (hex; device ≤ 1f, function ≤ 7)")
        }
        for l in lpis where l < 8192 { throw ValidationError("--lpi \(l): LPIs are INTIDs ≥ 8192") }
    }

    var filter: RouteFilter {
        RouteFilter(devices: Set(devices.map { DeviceID(UInt32(truncatingIfNeeded: $0.value)) }), bdfs: Set(bdfs),
                    vcpus: Set(vcpus), lpis: Set(lpis.map { LPI($0) }), irqs: Set(irqs))
    }
}
