import ITSLayout

/// One lookup of `explain`, as data: every step of the translation (its-formats.md §1.7–§1.11,
/// §3.3) with the guest PA and raw value it read, or — when the key is not routed — the step
/// where the lookup stops and why ("valid bit clear", "beyond the ITT", "not in the dump").
public struct Lookup: Sendable {
    public struct Step: Sendable {
        /// "baser", "level-1", "dte", "ite", "cte", "target", "property", "pending".
        public var step: String
        public var address: GuestPhysicalAddress?
        public var raw: [UInt64]
        public var text: String
    }

    public var its: Int
    public var deviceID: DeviceID
    public var eventID: EventID?
    /// Whether a live ITE routes the key.
    public var found: Bool
    public var steps: [Step]
    /// Why the lookup stops, when it is not found.
    public var reason: String?
    public var route: RoutingGraph.Route?

    /// Every lookup for `device` (all its live events when `event` is nil) on every ITS; a key
    /// the tables do not route gives one not-found lookup per ITS with a device table.
    public static func explain(_ a: Analysis, memory: any GuestMemory, device: DeviceID, event: EventID?) -> [Lookup] {
        var out: [Lookup] = []
        for t in a.tables {
            guard t.deviceTable != nil else { continue }
            let slot = t.devices.first { $0.deviceID == device }
            if let slot, slot.status == .live {
                let events = slot.itt.filter { $0.status == .live && (event == nil || $0.eventID == event) }
                if !events.isEmpty {
                    out += events.map { lookup(a, t, slot, $0) }
                    continue
                }
            }
            out.append(notFound(a, t, memory: memory, device: device, event: event))
        }
        return out
    }

    /// Every live ITE that maps `lpi`.
    public static func explain(_ a: Analysis, lpi: LPI) -> [Lookup] {
        a.tables.flatMap { t in
            t.devices.filter { $0.status == .live }.flatMap { d in
                d.itt.filter { $0.status == .live && $0.ite.lpi == lpi }.map { lookup(a, t, d, $0) }
            }
        }
    }

    static func baserStep(_ g: TableGeometry) -> Step {
        Step(step: "baser", address: nil, raw: [g.baser.rawValue],
             text: "GITS_BASER\(g.baserIndex) = \(hex64(g.baser.rawValue)): \(g.indirect ? "two-level" : "flat") device table at \(g.base), \(g.pageSize / 1024) KiB pages, \(g.reachableIDs) DeviceIDs reachable")
    }

    static func level1Step(_ t: ITSTables, _ g: TableGeometry, _ device: DeviceID, memory: (any GuestMemory)?) -> (Step, GuestPhysicalAddress?)? {
        guard g.indirect else { return nil }
        let index = UInt64(device.rawValue) / g.entriesPerPage
        let address = GuestPhysicalAddress(g.base.rawValue &+ index &* 8)
        var raw: UInt64?
        if let l1 = t.deviceLevel1.first(where: { $0.index == index }) { raw = l1.entry.raw } else if let memory,
            case .bytes(let b) = memory.read(address, count: 8) { raw = b.loadLE(at: 0, count: 8) }
        guard let raw else {
            return (Step(step: "level-1", address: address, raw: [], text: "level-1 entry \(index) at \(address): not in the dump"), nil)
        }
        let e = Level1Entry(raw: raw)
        return (Step(step: "level-1", address: address, raw: [raw],
                     text: "level-1 entry \(index) at \(address) = \(hex64(raw))" + (e.valid ? ": level-2 page \(e.level2Address)" : ": valid bit clear")),
                e.valid ? e.level2Address : nil)
    }

    static func lookup(_ a: Analysis, _ t: ITSTables, _ d: DeviceSlot, _ e: ITESlot) -> Lookup {
        var steps: [Step] = []
        if let g = t.deviceTable {
            steps.append(baserStep(g))
            if let (l1, _) = level1Step(t, g, d.deviceID, memory: nil) { steps.append(l1) }
        }
        steps.append(Step(step: "dte", address: d.address, raw: [d.dte.raw],
                          text: "DTE at \(d.address) = \(hex64(d.dte.raw)) [\(d.status.rawValue)]: ITT \(d.dte.ittAddress), \(d.ittEntries) entries of \(t.format.iteSize) bytes"))
        steps.append(Step(step: "ite", address: e.address, raw: e.ite.raw,
                          text: "ITE at \(e.address) [\(e.status.rawValue)]: LPI \(e.ite.lpi), ICID \(e.ite.icid)"))
        if let c = t.liveCollections[e.ite.icid] {
            steps.append(Step(step: "cte", address: c.address, raw: [c.cte.raw], text: "CTE for ICID \(e.ite.icid) at \(c.address) = \(hex64(c.cte.raw)): RDbase \(c.cte.rdBase)"))
        } else {
            steps.append(Step(step: "cte", address: nil, raw: [], text: "no valid collection for ICID \(e.ite.icid): the MSI is dropped"))
        }
        let route = a.route(its: t.itsIndex, device: d.deviceID, event: e.eventID)
        steps.append(Step(step: "target", address: nil, raw: [], text: "target: \(route?.vcpu.map { "vCPU \($0)" } ?? "none")"))
        let lpi = UInt64(e.ite.lpi.rawValue)
        let rd = route?.vcpu.flatMap { v in a.registers.redistributors.first { $0.cpu == v } } ?? a.registers.redistributors.first
        if let prop = rd?.propbaser?.value, lpi >= 8192 {
            steps.append(Step(step: "property", address: GuestPhysicalAddress(prop.physicalAddress.rawValue &+ lpi - 8192), raw: [],
                              text: "property byte: enabled \(route?.enabled.map { $0 ? "yes" : "no" } ?? "-"), priority \(route?.priority.map { hex(UInt64($0)) } ?? "-")"))
        }
        if let pend = rd?.pendbaser?.value, route?.vcpu != nil {
            steps.append(Step(step: "pending", address: GuestPhysicalAddress(pend.physicalAddress.rawValue &+ lpi / 8), raw: [],
                              text: "pending bit \(lpi % 8) of vCPU \(rd?.cpu ?? 0)'s table: \(route?.pending.map { $0 ? "yes" : "no" } ?? "-")"))
        }
        return Lookup(its: t.itsIndex, deviceID: d.deviceID, eventID: e.eventID, found: route != nil, steps: steps, reason: nil, route: route)
    }

    /// Where the lookup of an unrouted key stops: the DTE slot the ITS would read and its raw
    /// value, then (for a valid DTE) the ITE slot.
    static func notFound(_ a: Analysis, _ t: ITSTables, memory: any GuestMemory, device: DeviceID, event: EventID?) -> Lookup {
        var l = Lookup(its: t.itsIndex, deviceID: device, eventID: event, found: false, steps: [], reason: nil, route: nil)
        guard let g = t.deviceTable else { l.reason = "no device table"; return l }
        l.steps.append(baserStep(g))
        let id = UInt64(device.rawValue)
        guard id < g.reachableIDs else {
            l.reason = "DeviceID \(device) is beyond the device table (\(g.reachableIDs) DeviceIDs reachable)"
            return l
        }
        var slotAddress: GuestPhysicalAddress
        if g.indirect {
            guard let (step, page) = level1Step(t, g, device, memory: memory) else { return l }
            l.steps.append(step)
            guard let page else { l.reason = step.text.contains("not in the dump") ? "the level-1 entry is not in the dump" : "the level-1 entry's valid bit is clear: no DeviceID of its page is mapped"; return l }
            slotAddress = GuestPhysicalAddress(page.rawValue &+ (id % g.entriesPerPage) &* g.entrySize)
        } else {
            slotAddress = GuestPhysicalAddress(g.base.rawValue &+ id &* g.entrySize)
        }
        let known = t.devices.first { $0.deviceID == device }
        var raw: UInt64
        if let known { raw = known.dte.raw } else if case .bytes(let b) = memory.read(slotAddress, count: 8) { raw = b.loadLE(at: 0, count: 8) } else {
            l.steps.append(Step(step: "dte", address: slotAddress, raw: [], text: "DTE slot at \(slotAddress): not in the dump"))
            l.reason = "the DTE slot is not in the dump"
            return l
        }
        let dte = t.format.decodeDTE(raw)
        l.steps.append(Step(step: "dte", address: slotAddress, raw: [raw],
                            text: "DTE slot at \(slotAddress) = \(hex64(raw))" + (dte.valid ? ": ITT \(dte.ittAddress), \(UInt64(1) << min(dte.eventIDBits, 32)) entries" : ": valid bit clear")))
        guard dte.valid else { l.reason = "the DTE's valid bit is clear: DeviceID \(device) is not mapped"; return l }
        if let known, known.status != .live {
            l.reason = "the DTE is \(known.status.rawValue): \(t.format == .kvm ? "KVM's restore walk does not reach it" : "not used")"
            return l
        }
        guard let event else { l.reason = "the device has no live ITE"; return l }
        let entries = UInt64(1) << min(dte.eventIDBits, 32)
        guard UInt64(event.rawValue) < entries else { l.reason = "EventID \(event) is beyond the ITT (\(entries) entries)"; return l }
        let iteAddress = GuestPhysicalAddress(dte.ittAddress.rawValue &+ UInt64(event.rawValue) &* t.format.iteSize)
        guard case .bytes(let b) = memory.read(iteAddress, count: Int(t.format.iteSize)) else {
            l.steps.append(Step(step: "ite", address: iteAddress, raw: [], text: "ITE slot at \(iteAddress): not in the dump"))
            l.reason = "the ITE slot is not in the dump"
            return l
        }
        let ite = t.format.decodeITE(b, at: 0)
        let status = known?.itt.first { $0.eventID == event }?.status
        l.steps.append(Step(step: "ite", address: iteAddress, raw: ite.raw,
                            text: "ITE slot at \(iteAddress) = \(ite.raw.map(hex64).joined(separator: " "))" + (ite.valid ? ": LPI \(ite.lpi), ICID \(ite.icid)" : ": valid bit clear")))
        l.reason = !ite.valid ? "the ITE's valid bit is clear: the event is not mapped" : status.map { "the ITE is \($0.rawValue)" } ?? "the ITE is not routed"
        return l
    }
}
