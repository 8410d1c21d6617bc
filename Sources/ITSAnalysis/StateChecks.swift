import ITSLayout
/// Checks that need the whole graph: the LPI state in the property and pending tables, the
/// redistributor registers, and entries at the limits of their tables (its-formats.md §1.8,
/// §3.3, §6). The walk's own findings cover the structure and the KVM restore rules.
public enum StateChecks {
    /// LPIs of a pending table that are scanned at most (2^20 LPIs = 128 KiB per vCPU).
    public static let maxPendingLPIs: UInt64 = 1 << 20

    public static func run(_ t: ITSTables, graph: RoutingGraph, redistributors: [RedistributorState],
                           memory: any GuestMemory, queue: CommandQueue? = nil) -> [Finding]
    {
        var findings = FindingList()
        if let queue { findings.add(contentsOf: againstHistory(t, queue)) }
        for r in graph.routes where r.enabled == false {
            findings.add(.lpiDisabled, address: r.iteAddress, deviceID: r.deviceID, eventID: r.eventID,
                icid: r.icid, lpi: r.lpi,
                "device \(r.deviceID) event \(r.eventID): LPI \(r.lpi) is disabled in the property table; its MSIs are never delivered")
        }
        let pends = redistributors.compactMap { $0.pendbaser?.value.physicalAddress }
        if pends.count >= 2, Set(pends).count == 1, let pa = pends.first {
            findings.add(.pendbaserShared, address: pa,
                "all \(pends.count) vCPUs' GICR_PENDBASER point at \(pa): their pending bits overwrite each other")
        }
        if t.registers.ctlr?.value.enabled == true, !t.devices.contains(where: { $0.status == .live }) {
            findings.add(.itsEnabledEmpty, address: t.deviceTable?.base,
                "GITS_CTLR.Enabled is set but the device table maps no device: every MSI through this ITS is dropped (or the snapshot predates the tables)")
        }
        // Pending bits against the routes. The first route of each LPI the scan can reach, by
        // LPI - 8192: 4 bytes an LPI below `maxPendingLPIs` (a dictionary of a million routes'
        // LPIs cost ~40 MiB; issue 22).
        var routeOf: [Int32] = []
        if Set(pends).count == pends.count {
            // A vCPU's pending table and the LPIs its scan reaches (PROPBASER's IDbits, bounded).
            func scan(_ rd: RedistributorState) -> (pend: GICRPendBaser, limit: UInt64)? {
                guard let pend = rd.pendbaser?.value, let prop = (rd.propbaser ?? redistributors.first?.propbaser)?.value else { return nil }
                return (pend, min(prop.intidLimit, maxPendingLPIs))
            }
            let reach = redistributors.compactMap { scan($0)?.limit }.max() ?? 0
            if reach > UInt64(LPI.first) {
                routeOf = [Int32](repeating: -1, count: Int(reach - UInt64(LPI.first)))
                for (i, r) in graph.routes.enumerated() where r.lpi.rawValue >= LPI.first {
                    let at = Int(r.lpi.rawValue - LPI.first)
                    if at < routeOf.count, routeOf[at] < 0 { routeOf[at] = Int32(truncatingIfNeeded: i) }
                }
            }
            for rd in redistributors {
                guard let (pend, limit) = scan(rd), limit > UInt64(LPI.first), let start = pend.physicalAddress.adding(UInt64(LPI.first) / 8) else { continue }
                let bytes = (limit - UInt64(LPI.first)) / 8
                guard case .bytes(let b) = memory.read(start, count: Int(bytes)) else { continue }
                for (i, byte) in b.enumerated() where byte != 0 {
                    for bit in 0..<8 where byte >> bit & 1 == 1 {
                        let lpi = UInt32(LPI.first) + UInt32(i * 8 + bit)
                        let at = GuestPhysicalAddress(start.rawValue + UInt64(i))
                        let slot = Int(lpi - LPI.first)
                        if slot < routeOf.count, routeOf[slot] >= 0 {
                            let r = graph.routes[Int(routeOf[slot])]
                            if let v = r.vcpu, v != rd.cpu {
                                findings.add(.pendingWrongVcpu, address: at, deviceID: r.deviceID, eventID: r.eventID,
                                    lpi: LPI(lpi), "LPI \(lpi) is pending in vCPU \(rd.cpu)'s table but routed to vCPU \(v)")
                            }
                        } else {
                            findings.add(.pendingUnrouted, address: at, lpi: LPI(lpi),
                                "LPI \(lpi) is pending in vCPU \(rd.cpu)'s table but no live ITE maps it")
                        }
                    }
                }
            }
        }
        // Entries at the limits of their tables.
        if let g = t.deviceTable {
            for d in t.devices where d.status == .live && UInt64(d.deviceID.rawValue) == g.reachableIDs - 1 {
                findings.add(.entryAtTableLimit, address: d.address, deviceID: d.deviceID,
                    "device \(d.deviceID) is the last DeviceID the device table can hold (\(g.reachableIDs) IDs)")
            }
        }
        // The last EventID the ITS supports (an ITT of 2^IDbits entries).
        let eventLimit = UInt64(1) << (t.registers.typer?.value.eventIDBits ?? 16)
        for d in t.devices where d.status == .live && d.ittEntries == eventLimit {
            for s in d.itt where s.status == .live && UInt64(s.eventID.rawValue) == eventLimit - 1 {
                findings.add(.entryAtTableLimit, address: s.address, deviceID: d.deviceID, eventID: s.eventID,
                    "device \(d.deviceID) event \(s.eventID) is the last EventID the ITS supports")
            }
        }
        return findings.all
    }

    /// The processed commands still in the ring against the live entries: the last MAPD of a
    /// device, or the last MAPTI/MAPI/DISCARD of an event, says whether it should be mapped.
    /// Pre-6.13 KVM left the entry in RAM after MAPD V=0 / DISCARD (§6.1 (a), (b)).
    static func againstHistory(_ t: ITSTables, _ q: CommandQueue) -> [Finding] {
        var deviceMapped: [DeviceID: Bool] = [:]
        var eventMapped: [[UInt32]: Bool] = [:]
        for c in q.history {
            guard let d = c.deviceID else { continue }
            switch c.opcode {
            case 0x08:  // MAPD: V=0 unmaps the device and forgets its events
                let valid = ITSCommand.Fields.valid.extract(c.words) == 1
                deviceMapped[d] = valid
                eventMapped = eventMapped.filter { $0.key[0] != d.rawValue }
            case 0x0A, 0x0B:
                if let e = c.eventID { eventMapped[[d.rawValue, e.rawValue]] = true }
            case 0x0F:
                if let e = c.eventID { eventMapped[[d.rawValue, e.rawValue]] = false }
            default: break
            }
        }
        var out: [Finding] = []
        for d in t.devices where d.status == .live {
            if deviceMapped[d.deviceID] == false {
                out.append(Finding(.unmappedButLive, address: d.address, deviceID: d.deviceID,
                    "device \(d.deviceID): the last MAPD in the command history unmapped it (V=0), yet its DTE \(hex64(d.dte.raw)) is live\(t.format == .kvm ? " on KVM's restore walk: restore would resurrect it" : "")"))
                continue
            }
            for e in d.itt where e.status == .live && eventMapped[[d.deviceID.rawValue, e.eventID.rawValue]] == false {
                out.append(Finding(.unmappedButLive, address: e.address, deviceID: d.deviceID, eventID: e.eventID, lpi: e.ite.lpi,
                    "device \(d.deviceID) event \(e.eventID): DISCARDed in the command history, yet its ITE (LPI \(e.ite.lpi)) is live\(t.format == .kvm ? " on KVM's restore walk: restore would resurrect it" : "")"))
            }
        }
        return out
    }
}
