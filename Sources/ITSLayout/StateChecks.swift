/// Checks that need the whole graph: the LPI state in the property and pending tables, the
/// redistributor registers, and entries at the limits of their tables (its-formats.md §1.8,
/// §3.3, §6). The walk's own findings cover the structure and the KVM restore rules.
public enum StateChecks {
    /// LPIs of a pending table that are scanned at most (2^20 LPIs = 128 KiB per vCPU).
    public static let maxPendingLPIs: UInt64 = 1 << 20

    public static func run(_ t: ITSTables, graph: RoutingGraph, redistributors: [RedistributorState],
                           memory: any GuestMemory) -> [Finding]
    {
        var findings: [Finding] = []
        for r in graph.routes where r.enabled == false {
            findings.append(Finding("lpi-disabled", address: r.iteAddress, deviceID: r.deviceID, eventID: r.eventID,
                icid: r.icid, lpi: r.lpi,
                "device \(r.deviceID) event \(r.eventID): LPI \(r.lpi) is disabled in the property table; its MSIs are never delivered"))
        }
        let pends = redistributors.compactMap { $0.pendbaser?.value.physicalAddress }
        if pends.count >= 2, Set(pends).count == 1, let pa = pends.first {
            findings.append(Finding("pendbaser-shared", address: pa,
                "all \(pends.count) vCPUs' GICR_PENDBASER point at \(pa): their pending bits overwrite each other"))
        }
        if t.registers.ctlr?.value.enabled == true, !t.devices.contains(where: { $0.status == .live }) {
            findings.append(Finding("its-enabled-empty", address: t.deviceTable?.base,
                "GITS_CTLR.Enabled is set but the device table maps no device: every MSI through this ITS is dropped (or the snapshot predates the tables)"))
        }
        // Pending bits against the routes.
        var routeOf: [UInt32: RoutingGraph.Route] = [:]
        for r in graph.routes where routeOf[r.lpi.rawValue] == nil { routeOf[r.lpi.rawValue] = r }
        if Set(pends).count == pends.count {
            for rd in redistributors {
                guard let pend = rd.pendbaser?.value, let prop = (rd.propbaser ?? redistributors.first?.propbaser)?.value else { continue }
                let limit = min(prop.intidLimit, maxPendingLPIs)
                guard limit > UInt64(LPI.first), let start = pend.physicalAddress.adding(UInt64(LPI.first) / 8) else { continue }
                let bytes = (limit - UInt64(LPI.first)) / 8
                guard case .bytes(let b) = memory.read(start, count: Int(bytes)) else { continue }
                for (i, byte) in b.enumerated() where byte != 0 {
                    for bit in 0..<8 where byte >> bit & 1 == 1 {
                        let lpi = UInt32(LPI.first) + UInt32(i * 8 + bit)
                        let at = GuestPhysicalAddress(start.rawValue + UInt64(i))
                        if let r = routeOf[lpi] {
                            if let v = r.vcpu, v != rd.cpu {
                                findings.append(Finding("pending-wrong-vcpu", address: at, deviceID: r.deviceID, eventID: r.eventID,
                                    lpi: LPI(lpi), "LPI \(lpi) is pending in vCPU \(rd.cpu)'s table but routed to vCPU \(v)"))
                            }
                        } else {
                            findings.append(Finding("pending-unrouted", address: at, lpi: LPI(lpi),
                                "LPI \(lpi) is pending in vCPU \(rd.cpu)'s table but no live ITE maps it"))
                        }
                    }
                }
            }
        }
        // Entries at the limits of their tables.
        if let g = t.deviceTable {
            for d in t.devices where d.status == .live && UInt64(d.deviceID.rawValue) == g.reachableIDs - 1 {
                findings.append(Finding("entry-at-table-limit", address: d.address, deviceID: d.deviceID,
                    "device \(d.deviceID) is the last DeviceID the device table can hold (\(g.reachableIDs) IDs)"))
            }
        }
        // The last EventID the ITS supports (an ITT of 2^IDbits entries).
        let eventLimit = UInt64(1) << (t.registers.typer?.value.eventIDBits ?? 16)
        for d in t.devices where d.status == .live && d.ittEntries == eventLimit {
            for s in d.itt where s.status == .live && UInt64(s.eventID.rawValue) == eventLimit - 1 {
                findings.append(Finding("entry-at-table-limit", address: s.address, deviceID: d.deviceID, eventID: s.eventID,
                    "device \(d.deviceID) event \(s.eventID) is the last EventID the ITS supports"))
            }
        }
        return findings
    }
}
