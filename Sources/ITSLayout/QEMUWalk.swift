/// QEMU's emulated ITS keeps its tables live in guest RAM (its-formats.md §1.11, §5.1): every
/// valid entry is in use, the collection table is indexed by ICID, flat or two-level.
extension Walk {
    /// Every valid entry of a flat or two-level table, by ID below the ITS's ID limit.
    mutating func allValidEntries(_ g: TableGeometry, what: String, level1: inout [Level1Slot],
                                  isValid: (UInt64) -> Bool)
        -> [(id: UInt64, address: GuestPhysicalAddress, raw: UInt64)]
    {
        var out: [(UInt64, GuestPhysicalAddress, UInt64)] = []
        let esz = g.entrySize
        if !g.indirect {
            let base = g.base
            reader.scan(base: base, count: min(g.slotCount, g.idLimit), entrySize: esz, what: what) {
                i, bytes, off in
                let raw = bytes.loadLE(at: off, count: 8)
                if isValid(raw) { out.append((i, GuestPhysicalAddress(base.rawValue &+ i * esz), raw)) }
            }
            return out
        }
        let pages = level1Pages(g, slots: &level1, what: what)
        for (index, page) in pages {
            let first = index * g.entriesPerPage
            guard first < g.idLimit, !reader.exhausted else { continue }
            let count = min(g.entriesPerPage, g.idLimit - first)
            reader.scan(base: page, count: count, entrySize: esz, what: "\(what) level-2 page \(index)") {
                i, bytes, off in
                let raw = bytes.loadLE(at: off, count: 8)
                if isValid(raw) { out.append((first + i, GuestPhysicalAddress(page.rawValue &+ i * esz), raw)) }
            }
        }
        return out
    }

    mutating func qemuCollections(_ g: TableGeometry, into t: inout ITSTables) {
        let valid = allValidEntries(g, what: "collection table", level1: &t.collectionLevel1) { QEMUFormat.CTE.valid.isSet($0) }
        for (id, address, raw) in valid {
            guard countEntry() else { break }
            t.collections.append(CollectionSlot(icid: ICID(UInt32(truncatingIfNeeded: id)), address: address,
                                                cte: QEMUFormat.decodeCTE(raw), status: .live))
        }
    }

    mutating func qemuDevices(_ g: TableGeometry, into t: inout ITSTables) {
        let valid = allValidEntries(g, what: "device table", level1: &t.deviceLevel1) { QEMUFormat.DTE.valid.isSet($0) }
        for (id, address, raw) in valid {
            guard countEntry(), !reader.exhausted else { break }
            let deviceID = DeviceID(UInt32(truncatingIfNeeded: id))
            let dte = QEMUFormat.decodeDTE(raw)
            let (entries, extent) = ittGeometry(deviceID, address, dte)
            let itt = allValidITEs(deviceID, base: dte.ittAddress, entries: entries)
            let virtual = itt.filter { !$0.ite.physical }
            if let v = virtual.first {
                findings.add(.iteVirtual, address: v.address, deviceID: deviceID, eventID: v.eventID,
                    "device \(deviceID): \(virtual.count) virtual (GICv4) ITE(s), first at EventID \(v.eventID); not routed to a collection")
            }
            let residue = itt.filter { $0.ite.writtenByQEMU62 }
            if let r = residue.first {
                findings.add(.qemu62IteResidue, address: r.address, deviceID: deviceID, eventID: r.eventID,
                    "device \(deviceID): \(residue.count) ITE(s) written by QEMU 6.2 (ITE_L[31:26] = 0x3F), first at EventID \(r.eventID); they read correctly")
            }
            t.devices.append(DeviceSlot(deviceID: deviceID, address: address, dte: dte, status: .live,
                                        itt: itt, ittEntries: entries, ittExtent: extent))
        }
    }
}
