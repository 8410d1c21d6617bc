/// One ITS's routes, packed: each a 16-byte record that points at its device and ITE in the
/// walk's tables (shared with `ITSTables`, not copied) and at its collection, plus the LPI state
/// read for it. Read as a collection of `RoutingGraph.Route`s, built on access. Issue 22: a
/// million `Route`s (~120 bytes each) next to the ITT entries they came from held ~250 MiB.
public struct RouteList: RandomAccessCollection, Sendable {
    /// What the routes of one live collection share (its-formats.md §3.2).
    struct Collection: Sendable {
        var address: GuestPhysicalAddress
        var rdBase: UInt64
        var vcpu: UInt32?
    }

    struct Record: Sendable {
        static let noCollection = UInt32.max
        static let enabledKnown: UInt8 = 1, enabled: UInt8 = 2, pendingKnown: UInt8 = 4, pending: UInt8 = 8

        /// Index in `devices`, and of the ITE in that device's `itt`.
        var device: UInt32
        var slot: UInt32
        /// Index in `collections`, or `noCollection`.
        var collection: UInt32
        var priority: UInt8 = 0
        var flags: UInt8 = 0
    }

    let itsIndex: Int
    let itsBase: GuestPhysicalAddress?
    let devices: [DeviceSlot]
    let collections: [Collection]
    var records: [Record]

    init(itsIndex: Int, itsBase: GuestPhysicalAddress?, devices: [DeviceSlot], collections: [Collection],
         records: [Record])
    {
        self.itsIndex = itsIndex
        self.itsBase = itsBase
        self.devices = devices
        self.collections = collections
        self.records = records
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { records.count }

    public subscript(i: Int) -> RoutingGraph.Route {
        route(records[i])
    }

    func route(_ rec: Record) -> RoutingGraph.Route {
        let d = devices[Int(rec.device)]
        let slot = Int(rec.slot)
        let ite = d.itt.ite(slot)
        let col: Collection? = rec.collection == Record.noCollection ? nil : collections[Int(rec.collection)]
        let known = rec.flags & Record.enabledKnown != 0
        return RoutingGraph.Route(
            itsIndex: itsIndex, itsBase: itsBase, deviceID: d.deviceID, eventID: d.itt.eventID(slot),
            lpi: ite.lpi, icid: ite.icid, target: col?.rdBase, vcpu: col?.vcpu,
            enabled: known ? rec.flags & Record.enabled != 0 : nil, priority: known ? rec.priority : nil,
            pending: rec.flags & Record.pendingKnown != 0 ? rec.flags & Record.pending != 0 : nil,
            dteAddress: d.address, ittAddress: d.dte.ittAddress, iteAddress: d.itt.address(slot),
            collectionAddress: col?.address)
    }

    /// Keeps what `lpiState` read for record `i`.
    mutating func setLPIState(_ r: RoutingGraph.Route, at i: Int) {
        var flags: UInt8 = 0
        if let e = r.enabled { flags |= Record.enabledKnown | (e ? Record.enabled : 0) }
        if let p = r.pending { flags |= Record.pendingKnown | (p ? Record.pending : 0) }
        records[i].flags = flags
        records[i].priority = r.priority ?? 0
    }

    /// (ITS, DeviceID, EventID) order, as `RoutingGraph` has always listed its routes. The walk
    /// records devices by DeviceID and each ITT by EventID, so this is usually already true.
    mutating func sortByDeviceAndEvent() {
        func key(_ r: Record) -> (DeviceID, EventID) {
            (devices[Int(r.device)].deviceID, devices[Int(r.device)].itt.eventID(Int(r.slot)))
        }
        guard zip(records, records.dropFirst()).contains(where: { key($1) < key($0) }) else { return }
        records.sort { key($0) < key($1) }
    }

    /// For each record whose LPI an earlier record (in walk order) already has: its index and
    /// the first such record's, by increasing index. A bit set over the LPIs' span finds that
    /// there is none (the usual case) without sorting; otherwise the (LPI, index) pairs are
    /// sorted, 8 bytes a route, only for that input.
    func duplicateLPIs() -> [(index: Int, first: Int)] {
        guard let lo = indices.lazy.map({ self.lpi($0) }).min(),
            let hi = indices.lazy.map({ self.lpi($0) }).max()
        else { return [] }
        let span = UInt64(hi - lo) + 1
        if span <= Swift.max(UInt64(1) << 23, 8 * UInt64(count)) {
            var seen = [UInt64](repeating: 0, count: Int((span + 63) / 64))
            var any = false
            for i in indices {
                let bit = Int(lpi(i) - lo)
                if seen[bit >> 6] >> (bit & 63) & 1 == 1 { any = true; break }
                seen[bit >> 6] |= 1 << (bit & 63)
            }
            if !any { return [] }
        }
        var keys = indices.map { UInt64(lpi($0)) << 32 | UInt64($0) }
        keys.sort()
        var out: [(index: Int, first: Int)] = []
        var k = 0
        while k < keys.count {
            var j = k + 1
            while j < keys.count, keys[j] >> 32 == keys[k] >> 32 {
                out.append((Int(keys[j] & 0xFFFF_FFFF), Int(keys[k] & 0xFFFF_FFFF)))
                j += 1
            }
            k = j
        }
        out.sort { $0.index < $1.index }
        return out
    }

    private func lpi(_ i: Int) -> UInt32 {
        let r = records[i]
        return devices[Int(r.device)].itt.ite(Int(r.slot)).lpi.rawValue
    }
}
