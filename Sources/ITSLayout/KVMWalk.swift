/// KVM writes its tables at save time (KVM_DEV_ARM_ITS_SAVE_TABLES) and reads them back with
/// `scan_its_table()` (its-formats.md §1.10 "Restore walk"). What is live is exactly what that
/// walk reaches; every slot is also scanned, so that a valid-looking entry off the walk is
/// reported as stale instead of being mixed into the routes.
extension Walk {
    mutating func kvmCollections(_ g: TableGeometry, into t: inout ITSTables) {
        // vgic_its_restore_collection_table: CTEs in order from the base, up to the first V = 0
        // or (Size + 1) pages; KVM forces Indirect = 0, so the table is always read flat.
        var rows: [(UInt64, UInt64)] = []
        reader.scan(base: g.base, count: g.tableBytes / 8, entrySize: 8, what: "collection table") {
            i, bytes, off in
            let raw = bytes.loadLE(at: off, count: 8)
            if KVMFormat.CTE.valid.isSet(raw) { rows.append((i, raw)) }
        }
        var expected: UInt64 = 0
        var ended = false
        var seen: Set<ICID> = []
        for (i, raw) in rows {
            guard countEntry() else { break }
            // A gap in the indices means an invalid (or absent) entry was passed: the end.
            if i != expected { ended = true }
            expected = i + 1
            let cte = KVMFormat.decodeCTE(raw)
            let address = GuestPhysicalAddress(g.base.rawValue &+ i * 8)
            let icid = cte.icid ?? ICID(0)
            var status = EntryStatus.live
            if ended {
                status = .ignored
                findings.add(.kvmCteAfterTerminator, address: address, icid: icid,
                    "collection table slot \(i): valid CTE \(hex(raw)) (ICID \(icid)) after the first invalid entry; KVM's restore never reads it")
            } else if seen.contains(icid) {
                status = .rejected
                findings.add(.kvmDuplicateIcid, address: address, icid: icid,
                    "collection table slot \(i): ICID \(icid) is listed twice; KVM's restore fails with -EEXIST")
            }
            seen.insert(icid)
            t.collections.append(CollectionSlot(icid: icid, address: address, cte: cte, status: status))
        }
    }

    mutating func kvmDevices(_ g: TableGeometry, into t: inout ITSTables) {
        var state = KVMDeviceWalk(geometry: g, collections: Set(t.liveCollections.keys))
        if g.indirect {
            // vgic_its_restore_device_tables → handle_l1_dte for each level-1 entry in turn.
            var walked: Set<GuestPhysicalAddress> = []
            var index: UInt64 = 0
            while index < g.slotCount, !reader.exhausted {
                index += reader.invalidRun(from: GuestPhysicalAddress(g.base.rawValue &+ index * 8), count: g.slotCount - index, validMask: Level1Entry.validField.inPlace(.max))
                guard index < g.slotCount else { break }
                guard let a = g.base.adding(index * 8),
                    let bytes = reader.entry(a, size: 8, what: "device level-1 table")
                else { break }
                let l1 = Level1Entry(raw: bytes.loadLE(at: 0, count: 8))
                if l1.valid {
                    let page = GuestPhysicalAddress(l1.level2Address.rawValue / g.pageSize * g.pageSize)
                    if !walked.contains(page) {
                        walked.insert(page)
                        let end = kvmScanDTEs(&state, base: page, length: g.pageSize,
                                              startID: index * g.entriesPerPage, into: &t)
                        if end != .ranPastEnd { break }
                    }
                }
                index += 1
            }
        } else {
            _ = kvmScanDTEs(&state, base: g.base, length: g.tableBytes, startID: 0, into: &t)
        }

        let valid = allValidEntries(g, what: "device table", level1: &t.deviceLevel1) { KVMFormat.DTE.valid.isSet($0) }
        for (id, address, raw) in valid where !state.reached.contains(id) {
            guard countEntry(), !reader.exhausted else { break }
            let deviceID = DeviceID(UInt32(truncatingIfNeeded: id))
            let dte = KVMFormat.decodeDTE(raw)
            findings.add(.kvmDteUnreachable, address: address, deviceID: deviceID,
                "device \(deviceID): valid DTE \(hex(raw)) is not on KVM's restore walk; stale (a device unmapped by a pre-6.13 KVM, or guest-written), not a route")
            let (entries, extent) = ittGeometry(deviceID, address, dte)
            var itt = allValidITEs(deviceID, base: dte.ittAddress, entries: entries)
            for i in itt.indices { itt.setStatus(.stale, at: i) }
            t.devices.append(DeviceSlot(deviceID: deviceID, address: address, dte: dte, status: .stale,
                                        itt: itt, ittEntries: entries, ittExtent: extent))
        }
    }

    /// How `scan_its_table()` ended over one flat table or level-2 page.
    enum ScanEnd: Equatable {
        /// A DTE with `next = 0`: the last device.
        case lastEntry
        /// The walk stepped past the table or page: the next level-1 entry goes on.
        case ranPastEnd
        /// KVM's read would fail (an absent page, the walk's budget): the restore stops.
        case failed
    }

    /// What visiting one DTE tells the scan.
    enum VisitStep {
        case advance(UInt64)
        case end(ScanEnd)
    }

    /// `scan_its_table()` over one flat table or level-2 page: an invalid entry advances by one,
    /// a valid one by its `next`.
    mutating func kvmScanDTEs(_ s: inout KVMDeviceWalk, base: GuestPhysicalAddress, length: UInt64,
                              startID: UInt64, into t: inout ITSTables) -> ScanEnd
    {
        var offset: UInt64 = 0
        var id = startID
        while !reader.exhausted {
            // Invalid DTEs advance the walk by one each: skip the run in one go.
            let run = reader.invalidRun(from: GuestPhysicalAddress(base.rawValue &+ offset), count: (length - offset) / 8, validMask: KVMFormat.DTE.valid.inPlace(.max))
            if run > 0 {
                if let landing = s.expectedLanding, landing >= id, landing < id + run {
                    findings.add(.kvmNextLandsInvalid, address: GuestPhysicalAddress(base.rawValue &+ offset &+ (landing - id) * 8),
                        deviceID: DeviceID(UInt32(truncatingIfNeeded: landing)),
                        "the previous DTE's next points at DeviceID \(DeviceID(UInt32(truncatingIfNeeded: landing))), whose DTE is invalid; KVM's restore steps on one entry at a time")
                }
                s.expectedLanding = nil
                offset += run * 8
                id += run
                if offset >= length { return .ranPastEnd }
            }
            guard let a = base.adding(offset),
                let bytes = reader.entry(a, size: 8, what: "device table")
            else { return .failed }
            let visit = kvmVisitDTE(&s, id: id, address: a, raw: bytes.loadLE(at: 0, count: 8),
                                    pageStart: startID, into: &t)
            guard case .advance(let step) = visit else {
                if case .end(let end) = visit { return end }
                return .failed
            }
            let byteOffset = step * 8
            if byteOffset >= length - offset { return .ranPastEnd }
            offset += byteOffset
            id += step
        }
        return .failed
    }

    mutating func kvmVisitDTE(_ s: inout KVMDeviceWalk, id: UInt64, address: GuestPhysicalAddress,
                              raw: UInt64, pageStart: UInt64, into t: inout ITSTables) -> VisitStep
    {
        let dte = KVMFormat.decodeDTE(raw)
        let deviceID = DeviceID(UInt32(truncatingIfNeeded: id))
        // kvmScanDTEs steps over invalid entries (and reports a `next` landing on one) before
        // it visits: only valid DTEs arrive here.
        guard dte.valid else { return .advance(1) }
        s.expectedLanding = nil
        guard countEntry() else { return .end(.failed) }
        var status = EntryStatus.live
        if id >= s.geometry.idLimit {
            status = .rejected
            findings.add(.kvmRestoreRejects, address: address, deviceID: deviceID,
                "DTE for DeviceID \(id) is beyond the ITS's \(s.geometry.idLimit) DeviceIDs; KVM's restore fails (-EINVAL)")
        }
        let (entries, extent) = ittGeometry(deviceID, address, dte)
        let itt = kvmRestoreITT(deviceID, base: dte.ittAddress, entries: entries, collections: s.collections)
        s.reached.insert(id)
        t.devices.append(DeviceSlot(deviceID: deviceID, address: address, dte: dte, status: status,
                                    itt: itt, ittEntries: entries, ittExtent: extent))
        let next = dte.next ?? 0
        if next == 0 { return .end(.lastEntry) }
        if s.geometry.indirect, (id - pageStart) + next >= s.geometry.entriesPerPage {
            findings.add(.kvmNextLeavesPage, address: address, deviceID: deviceID,
                "device \(deviceID): next = \(next)\(next == KVMFormat.maxDeviceOffset ? " (capped)" : "") leaves its level-2 page; the restore walk goes on with the next level-1 entry (kernels without 54e1881ea051 read past the page)")
        }
        if next < KVMFormat.maxDeviceOffset { s.expectedLanding = id + next }
        return .advance(next)
    }

    /// `vgic_its_restore_itt()`: the ITEs KVM's restore reaches, then every other valid ITE
    /// of the ITT as stale.
    mutating func kvmRestoreITT(_ id: DeviceID, base: GuestPhysicalAddress, entries: UInt64,
                                collections: Set<ICID>) -> ITTSlots
    {
        var slots = ITTSlots(format: .kvm, base: base)
        var reached: Set<UInt32> = []
        let length = entries * 8
        var offset: UInt64 = 0
        var event: UInt64 = 0
        while entries > 0, !reader.exhausted {
            // ITEs with pINTID 0 are invalid and stepped over one by one.
            let run = reader.invalidRun(from: GuestPhysicalAddress(base.rawValue &+ offset), count: (length - offset) / 8, validMask: 0xFFFF_FFFF_0000)
            if run > 0 {
                offset += run * 8
                event += run
                if offset >= length { break }
            }
            guard let a = base.adding(offset),
                let bytes = reader.entry(a, size: 8, what: "device \(id) ITT", deviceID: id)
            else { break }
            let ite = KVMFormat.decodeITE(bytes.loadLE(at: 0, count: 8))
            var step: UInt64 = 1
            if ite.valid {
                let eventID = EventID(UInt32(truncatingIfNeeded: event))
                let next = ite.next ?? 0
                // vgic_its_restore_ite's checks, in its order.
                var reject: String?
                if ite.lpi.rawValue < LPI.first {
                    reject = "pINTID \(ite.lpi) < 8192"
                } else if event + next >= entries {
                    reject = "next \(next) leads past the ITT's \(entries) entries"
                } else if !collections.contains(ite.icid) {
                    reject = "ICID \(ite.icid) has no collection"
                }
                if let reject {
                    findings.add(.kvmRestoreRejects, address: a, deviceID: id, eventID: eventID,
                        icid: ite.icid, lpi: ite.lpi,
                        "device \(id) event \(eventID): ITE \(hex(ite.rawLow)): \(reject); KVM's restore fails (-EINVAL)")
                }
                guard countEntry() else { break }
                let fatal = ite.lpi.rawValue < LPI.first || event + next >= entries
                slots.append(ITESlot(eventID: eventID, address: a, ite: ite, status: fatal ? .rejected : .live))
                reached.insert(eventID.rawValue)
                if fatal || next == 0 { break }
                step = next
            }
            let byteOffset = step * 8
            if byteOffset >= length - offset { break }
            offset += byteOffset
            event += step
        }
        // Counted once: the reached ITEs were counted as the restore walk recorded them.
        for var s in allValidITEs(id, base: base, entries: entries, except: reached) {
            s.status = .stale
            findings.add(.kvmIteUnreachable, address: s.address, deviceID: id, eventID: s.eventID,
                lpi: s.ite.lpi,
                "device \(id) event \(s.eventID): valid ITE \(hex(s.ite.rawLow)) is not on KVM's restore walk; stale (discarded by a pre-6.13 KVM, or guest-written), not a route")
            slots.append(s)
        }
        slots.sortByEventID()
        return slots
    }
}

struct KVMDeviceWalk {
    let geometry: TableGeometry
    let collections: Set<ICID>
    var reached: Set<UInt64> = []
    /// DeviceID an uncapped `next` pointed at, to report when it lands on an invalid DTE.
    var expectedLanding: UInt64?
}
