/// (ITS, DeviceID, EventID) → LPI → ICID → target → vCPU, with each LPI's enable bit, priority
/// and pending bit where the redistributor registers are known (its-formats.md §3.1).
public struct RoutingGraph: Sendable {
    public struct Route: Sendable, Hashable {
        public var itsIndex: Int
        public var itsBase: GuestPhysicalAddress?
        public var deviceID: DeviceID
        public var eventID: EventID
        public var lpi: LPI
        public var icid: ICID
        /// The collection's RDbase: a processor number (PTA = 0) or an address [51:16] (PTA = 1).
        public var target: UInt64?
        public var vcpu: UInt32?
        public var enabled: Bool?
        public var priority: UInt8?
        public var pending: Bool?
        public var dteAddress: GuestPhysicalAddress
        public var ittAddress: GuestPhysicalAddress
        public var iteAddress: GuestPhysicalAddress
        public var collectionAddress: GuestPhysicalAddress?
    }

    /// In (ITS, DeviceID, EventID) order.
    public var routes: RouteList
    public var findings: [Finding]
    /// vCPUs known (from the dump's notes or the redistributor registers), if any.
    public var vcpuCount: Int?
    /// 4 KiB guest pages read for the LPI state (property and pending bytes).
    public var touchedPages: [UInt64] = []

    /// Builds the graph of the live entries of `tables`. `vcpuCount` bounds collection targets.
    public static func build(_ tables: ITSTables, redistributors: [RedistributorState],
                             memory: any GuestMemory, vcpuCount: Int?) -> RoutingGraph
    {
        var findings = FindingList()
        let collections = tables.liveCollections
        let pta = tables.registers.typer?.value.pta ?? false
        let cpus = vcpuCount ?? (redistributors.isEmpty ? nil : redistributors.count)
        var reader = TableReader(memory: memory, budget: 64 << 20)

        // Each live collection once, by ICID; a route refers to it by index.
        var shared: [RouteList.Collection] = []
        var collectionIndex: [ICID: UInt32] = [:]
        for c in collections.values.sorted(by: { $0.icid < $1.icid }) {
            if tables.format == .kvm, c.cte.rdBase == KVMFormat.collectionNotMapped {
                findings.add(.collectionUnmapped, address: c.address, icid: c.icid,
                    "collection \(c.icid) exists but is not mapped (RDbase 0xffffffff: MAPTI before any MAPC); its LPIs go nowhere")
            } else if !pta, let cpus, c.cte.rdBase >= UInt64(cpus) {
                findings.add(.collectionTargetOutOfRange, address: c.address, icid: c.icid,
                    "collection \(c.icid) targets processor \(c.cte.rdBase), but the guest has \(cpus) vCPUs")
            }
            collectionIndex[c.icid] = UInt32(truncatingIfNeeded: shared.count)
            shared.append(RouteList.Collection(address: c.address, rdBase: c.cte.rdBase,
                vcpu: vcpu(for: c.cte.rdBase, pta: pta, format: tables.format, cpus: cpus, redistributors: redistributors)))
        }

        // The live, physical ITEs of live devices, in walk order.
        var records: [RouteList.Record] = []
        var live = 0
        for d in tables.devices where d.status == .live {
            for i in d.itt.indices where d.itt.status(i) == .live { live += 1 }
        }
        records.reserveCapacity(live)
        for (n, d) in tables.devices.enumerated() where d.status == .live {
            for i in d.itt.indices where d.itt.status(i) == .live {
                let ite = d.itt.ite(i)
                guard ite.physical else { continue }
                records.append(RouteList.Record(device: UInt32(truncatingIfNeeded: n), slot: UInt32(truncatingIfNeeded: i),
                    collection: collectionIndex[ite.icid] ?? RouteList.Record.noCollection))
            }
        }
        var routes = RouteList(itsIndex: tables.itsIndex, itsBase: tables.registers.base?.value,
                               devices: tables.devices, collections: shared, records: records)
        records = []

        // Findings in walk order, as each route is reached: its collection, its LPI's first
        // owner, its LPI state.
        let duplicates = routes.duplicateLPIs()
        var nextDuplicate = 0
        for k in routes.indices {
            var r = routes[k]
            if r.collectionAddress == nil {
                findings.add(.collectionMissing, address: r.iteAddress, deviceID: r.deviceID,
                    eventID: r.eventID, icid: r.icid, lpi: r.lpi,
                    "device \(r.deviceID) event \(r.eventID) → LPI \(r.lpi): ICID \(r.icid) has no valid collection; the MSI is dropped")
            }
            if nextDuplicate < duplicates.count, duplicates[nextDuplicate].index == k {
                let other = routes[duplicates[nextDuplicate].first]
                nextDuplicate += 1
                findings.add(.lpiDuplicate, address: r.iteAddress, deviceID: r.deviceID,
                    eventID: r.eventID, lpi: r.lpi,
                    "LPI \(r.lpi) is mapped by device \(other.deviceID) event \(other.eventID) and by device \(r.deviceID) event \(r.eventID)")
            }
            lpiState(&r, redistributors: redistributors, reader: &reader, findings: &findings)
            routes.setLPIState(r, at: k)
        }
        routes.sortByDeviceAndEvent()
        findings.add(contentsOf: reader.findings.all)
        return RoutingGraph(routes: routes, findings: findings.all, vcpuCount: cpus,
                            touchedPages: reader.touchedPages.sorted())
    }

    /// RDbase → vCPU (its-formats.md §3.2): a processor number with PTA = 0, else the
    /// redistributor whose frame address is RDbase << 16.
    static func vcpu(for rdBase: UInt64, pta: Bool, format: ITSFormat, cpus: Int?,
                     redistributors: [RedistributorState]) -> UInt32?
    {
        if format == .kvm && rdBase == KVMFormat.collectionNotMapped { return nil }
        if pta {
            return redistributors.first { $0.rdBase?.value.rawValue == rdBase << 16 }?.cpu
        }
        if let cpus, rdBase >= UInt64(cpus) { return nil }
        return rdBase <= UInt64(UInt32.max) ? UInt32(rdBase) : nil
    }

    /// Enable, priority (property table) and pending (the target vCPU's pending table), §1.8.
    static func lpiState(_ r: inout Route, redistributors: [RedistributorState],
                         reader: inout TableReader, findings: inout FindingList)
    {
        let lpi = UInt64(r.lpi.rawValue)
        let rd = r.vcpu.flatMap { v in redistributors.first { $0.cpu == v } }
        if let prop = (rd ?? redistributors.first)?.propbaser?.value {
            if lpi < UInt64(LPI.first) || lpi >= prop.intidLimit {
                findings.add(.lpiOutOfRange, address: r.iteAddress, deviceID: r.deviceID,
                    eventID: r.eventID, lpi: r.lpi,
                    "device \(r.deviceID) event \(r.eventID): LPI \(r.lpi) is outside 8192..<\(prop.intidLimit) (GICR_PROPBASER.IDbits \(prop.idBits - 1))")
            } else if let a = prop.physicalAddress.adding(lpi - UInt64(LPI.first)),
                let b = reader.byte(a, what: "LPI \(r.lpi) property byte", deviceID: r.deviceID)
            {
                r.enabled = LPIProperty.enable.isSet(UInt64(b))
                r.priority = UInt8(LPIProperty.priority.inPlace(UInt64(b)))
            }
        } else if lpi < UInt64(LPI.first) {
            findings.add(.lpiOutOfRange, address: r.iteAddress, deviceID: r.deviceID,
                eventID: r.eventID, lpi: r.lpi, "device \(r.deviceID) event \(r.eventID): LPI \(r.lpi) is below 8192")
        }
        if let pend = rd?.pendbaser?.value, let a = pend.physicalAddress.adding(lpi / 8),
            lpi >= UInt64(LPI.first),
            let b = reader.byte(a, what: "LPI \(r.lpi) pending bit (vCPU \(rd?.cpu ?? 0))", deviceID: r.deviceID)
        {
            r.pending = b >> (lpi % 8) & 1 == 1
        }
    }
}
