import CoreDumpReader
import GuestKernel
import ITSAnalysis
import ITSLayout
import TextFormats

/// How a route's device is named for its users: the PCI address (from the guest kernel's MSI
/// descriptor with --vmlinux, else from the DeviceID under the identity requester-ID mapping),
/// the QEMU device at that address (a migration stream's section names), and the Linux irq
/// number and action names (--vmlinux).
struct DeviceNames {
    var irqs: IRQView?
    var qemu: StreamPCIDevices?
    /// What the user asked to see (--device, --bdf, --vcpu, --lpi, --irq).
    var filter = RouteFilter()

    /// The analysis's routes that the filter keeps.
    func routes(_ a: Analysis) -> [RoutingGraph.Route] {
        filter.isEmpty ? a.routes : a.routes.filter { r in
            let n = name(r)
            return filter.matches(r, bdf: n.bdf, irq: n.irq)
        }
    }

    /// Each route of the analysis that the filter keeps, in order, with its name: the routes
    /// are not copied (a million of them are 100 MiB; issue 22).
    func forEachRoute(_ a: Analysis, _ body: (RoutingGraph.Route, Name) -> Void) {
        // Without the kernel's irqs a name depends on the DeviceID alone: once per device.
        var last: (DeviceID, Name)?
        for g in a.graphs {
            for r in g.routes {
                let n: Name
                if irqs == nil, let (d, known) = last, d == r.deviceID {
                    n = known
                } else {
                    n = name(r)
                    last = (r.deviceID, n)
                }
                if filter.isEmpty || filter.matches(r, bdf: n.bdf, irq: n.irq) { body(r, n) }
            }
        }
    }

    /// The verdicts the filter keeps.
    func keep(_ v: Verdicts) -> Verdicts {
        guard !filter.isEmpty else { return v }
        return Verdicts(judgements: v.judgements.filter { j in
            let n = (j.tables ?? j.before).map(name)
            return filter.matches(j, bdf: n?.bdf ?? DeviceIdentity.bdf(j.key.deviceID), irq: n?.irq)
        })
    }

    /// The findings the filter keeps: one about an event is matched through its route (DeviceID,
    /// PCI address, vCPU, LPI, Linux irq), one about an LPI through the route that has it, one
    /// about a device by its DeviceID; one about none of these (a register, the queue, a table)
    /// matches no filter.
    func keep(_ findings: [Finding], _ a: Analysis) -> [Finding] {
        guard !filter.isEmpty else { return findings }
        var byKey: [[UInt32]: RoutingGraph.Route] = [:], byLPI: [LPI: RoutingGraph.Route] = [:]
        for r in a.routes {
            byKey[[r.deviceID.rawValue, r.eventID.rawValue]] = r
            byLPI[r.lpi] = r
        }
        return findings.filter { f in
            let keyed = f.deviceID.flatMap { d in f.eventID.flatMap { byKey[[d.rawValue, $0.rawValue]] } }
            let r = keyed ?? f.lpi.flatMap { byLPI[$0] }
            guard let device = f.deviceID ?? r?.deviceID else {
                // An LPI no route has (pending-unrouted): only an LPI filter can ask for it.
                return filter.devices.isEmpty && filter.bdfs.isEmpty && filter.vcpus.isEmpty && filter.irqs.isEmpty
                    && f.lpi.map(filter.lpis.contains) == true
            }
            let n = r.map(name)
            return filter.matches(deviceID: device, bdf: n?.bdf ?? DeviceIdentity.bdf(device), vcpus: [r?.vcpu], lpis: [f.lpi, r?.lpi], irq: n?.irq)
        }
    }

    init(session: Session, kernel: KernelView?) {
        irqs = kernel?.irqs
        // A migration stream, alone or as a qcow2 internal snapshot's VM state.
        qemu = session.dumps.compactMap(\.stream).first?.pciDevices
    }

    struct Name {
        var bdf: String?
        /// "guest kernel" or "DeviceID" (the identity mapping assumed).
        var bdfSource: String?
        var device: String?
        var irq: UInt32?
        var name: String?
        /// The guest kernel's function is not the DeviceID's own requester ID: several functions
        /// share the DeviceID (behind a PCIe-to-PCI bridge, or an msi-map offset).
        var aliased = false
    }

    func name(_ r: RoutingGraph.Route) -> Name {
        let k = irqs?.irq(its: r.itsIndex, deviceID: r.deviceID, eventID: r.eventID)
        var n = Name(irq: k?.irq, name: k?.name)
        if let d = k?.device, d.split(separator: ":").count == 3 {
            n.bdf = d
            n.bdfSource = "guest kernel"
            n.aliased = DeviceIdentity.bdf(r.deviceID) != d
        } else if let b = DeviceIdentity.bdf(r.deviceID) {
            n.bdf = b
            n.bdfSource = "DeviceID"
        }
        n.device = n.bdf.flatMap { qemu?.byAddress[$0] }
        return n
    }

    /// What the names rest on, for the header of an output.
    var notes: [String] {
        var out = [DeviceIdentity.assumption + (irqs == nil ? "" : "; with the guest kernel's records (--vmlinux or zero configuration), from each irq's MSI descriptor")]
        if let q = qemu { out.append("QEMU devices from the migration stream's section names" + (q.busesInferred ? " (\(StreamPCIDevices.busAssumption))" : "")) }
        if let i = irqs { out.append("Linux irqs from \(i.source.isEmpty ? "nowhere" : i.source)") ; out += i.problems }
        return out
    }
}
