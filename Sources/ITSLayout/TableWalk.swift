/// Walks one ITS's device table, collection table and every ITT.

public struct WalkLimits: Sendable {
    /// Guest bytes one walk may read. A real ITS's tables are a few hundred KiB.
    public var maxBytesRead: UInt64 = 128 << 20
    /// Entries (devices + ITEs + collections) one walk may record.
    public var maxEntries: Int = 1 << 20
    public init() {}
}

public enum ITSWalker {
    public static func walk(memory: any GuestMemory, registers: ITSRegisterState, itsIndex: Int,
                            format override: ITSFormat? = nil, limits: WalkLimits = WalkLimits())
        throws(ITSLayoutError) -> ITSTables
    {
        guard registers.hasAnyBaser else { throw .noBaser(itsIndex: itsIndex) }
        let (format, reason) = try chooseFormat(registers, itsIndex: itsIndex, override: override)
        var walk = Walk(memory: memory, registers: registers, format: format, limits: limits)
        var tables = ITSTables(itsIndex: itsIndex, registers: registers, format: format,
                               formatReason: reason)
        walk.run(into: &tables)
        return tables
    }
}

/// Both formats share the table geometry; they differ in how entries are found (KVM: the
/// restore walk of its-formats.md §1.10; QEMU: every slot is live) and decoded.
struct Walk {
    var reader: TableReader
    let registers: ITSRegisterState
    let format: ITSFormat
    let limits: WalkLimits
    var entries = 0
    var findings = FindingList()

    init(memory: any GuestMemory, registers: ITSRegisterState, format: ITSFormat, limits: WalkLimits) {
        self.reader = TableReader(memory: memory, budget: limits.maxBytesRead)
        self.registers = registers
        self.format = format
        self.limits = limits
    }

    var typer: GITSTyper? { registers.typer?.value }
    /// KVM and QEMU both implement 16 DeviceID, EventID and ICID bits (§1.10, §1.11 Example E).
    var deviceIDBits: UInt64 { typer?.deviceIDBits ?? 16 }
    var eventIDBits: UInt64 { typer?.eventIDBits ?? 16 }
    var collectionIDBits: UInt64 { format == .kvm ? 16 : (typer?.collectionIDBits ?? 16) }

    mutating func countEntry() -> Bool {
        entries += 1
        if entries == limits.maxEntries {
            let cap = limits.maxEntries
            findings.add(.walkLimit, "the walk recorded \(cap) entries and stopped")
        }
        return entries < limits.maxEntries
    }

    mutating func run(into t: inout ITSTables) {
        t.deviceTable = geometry(type: .devices, idBits: deviceIDBits)
        t.collectionTable = geometry(type: .collections, idBits: collectionIDBits)
        switch format {
        case .kvm:
            if let ct = t.collectionTable { kvmCollections(ct, into: &t) }
            if let dt = t.deviceTable { kvmDevices(dt, into: &t) }
        case .qemu:
            if let ct = t.collectionTable { qemuCollections(ct, into: &t) }
            if let dt = t.deviceTable { qemuDevices(dt, into: &t) }
        }
        t.devices.sort { $0.deviceID < $1.deviceID }
        checkITTPlacement(&t)
        findings.add(contentsOf: reader.findings.all)
        t.findings = findings.all
        t.touchedPages = reader.touchedPages.sorted()
    }

    mutating func geometry(type: BaserType, idBits: UInt64) -> TableGeometry? {
        for (n, b) in registers.baser.enumerated() {
            guard let b, b.value.valid, b.value.type == type else { continue }
            switch TableGeometry.make(baserIndex: n, baser: b.value, requiredEntrySize: 8, idBits: idBits) {
            case .usable(let g): return g
            case .unusable(let f): findings.add(f); return nil
            }
        }
        findings.add(.tableMissing, "no valid GITS_BASER of Type \(type.rawValue) (\(type.label)): the guest has no \(type == .devices ? "device" : "collection") table")
        return nil
    }

    // MARK: Level-1 tables

    /// Valid level-1 entries of a two-level table, with misaligned and aliasing ones reported.
    /// Returns (index, level-2 page) for each distinct page, in level-1 order.
    mutating func level1Pages(_ g: TableGeometry, slots: inout [Level1Slot], what: String)
        -> [(index: UInt64, page: GuestPhysicalAddress)]
    {
        var found: [Level1Slot] = []
        reader.scan(base: g.base, count: g.slotCount, entrySize: 8, what: "\(what) level-1 table") {
            i, bytes, off in
            let e = Level1Entry(raw: bytes.loadLE(at: off, count: 8))
            if e.valid {
                found.append(Level1Slot(index: i, address: GuestPhysicalAddress(g.base.rawValue &+ i * 8), entry: e))
            }
        }
        var pages: [(UInt64, GuestPhysicalAddress)] = []
        var seen: [GuestPhysicalAddress: UInt64] = [:]
        for s in found {
            slots.append(s)
            // The first level-2 page beyond the ITS's ID space is never indexed.
            if s.index * g.entriesPerPage >= g.idLimit {
                findings.add(.idBeyondTyper, address: s.address,
                    "\(what) level-1 entry \(s.index) (\(hex(s.entry.raw))) covers IDs from \(s.index * g.entriesPerPage), beyond the ITS's \(g.idLimit)")
            }
            var page = s.entry.level2Address
            if page.rawValue % g.pageSize != 0 {
                findings.add(.l1Misaligned, address: s.address,
                    "\(what) level-1 entry \(s.index) (\(hex(s.entry.raw))) points at \(page), not aligned to the \(g.pageSize / 1024) KiB page; read as \(GuestPhysicalAddress(page.rawValue / g.pageSize * g.pageSize))")
                page = GuestPhysicalAddress(page.rawValue / g.pageSize * g.pageSize)
            }
            if let first = seen[page] {
                findings.add(.l1Alias, address: s.address,
                    "\(what) level-1 entries \(first) and \(s.index) both point at level-2 page \(page); walked once")
                continue
            }
            seen[page] = s.index
            pages.append((s.index, page))
        }
        return pages
    }

    // MARK: ITT placement

    mutating func checkITTPlacement(_ t: inout ITSTables) {
        var tableExtents: [(String, GuestRange)] = []
        if let dt = t.deviceTable { tableExtents.append(("the device table", dt.extent)) }
        if let ct = t.collectionTable { tableExtents.append(("the collection table", ct.extent)) }
        // Level-2 pages, each once (aliasing level-1 entries are reported by the walk), sorted by
        // address, so that each ITT is compared only with the pages it can reach.
        var level2: [(start: UInt64, index: UInt64)] = []
        var pageSize: UInt64 = 0
        if let dt = t.deviceTable {
            pageSize = dt.pageSize
            var seen = Set<UInt64>()
            for s in t.deviceLevel1 where seen.insert(s.entry.level2Address.rawValue).inserted {
                level2.append((s.entry.level2Address.rawValue, s.index))
            }
            level2.sort { $0.start < $1.start }
        }
        let live = t.devices.filter { $0.status == .live && $0.ittExtent.length > 0 }
        for d in live {
            for (name, r) in tableExtents where r.overlaps(d.ittExtent) {
                findings.add(.ittOverlap, address: d.ittExtent.start, deviceID: d.deviceID,
                    "device \(d.deviceID): ITT \(d.ittExtent) overlaps \(name) (\(r))")
            }
            guard pageSize > 0, !level2.isEmpty else { continue }
            // First page that ends after the ITT starts: start > ittStart - pageSize.
            let low = d.ittExtent.start.rawValue >= pageSize ? d.ittExtent.start.rawValue - pageSize + 1 : 0
            var lo = 0, hi = level2.count
            while lo < hi { let mid = (lo + hi) / 2; if level2[mid].start < low { lo = mid + 1 } else { hi = mid } }
            var k = lo, reported = 0
            while k < level2.count, level2[k].start < d.ittExtent.end, reported < 64 {
                let page = GuestRange(start: GuestPhysicalAddress(level2[k].start), length: pageSize)
                if page.overlaps(d.ittExtent) {
                    let index = level2[k].index
                    findings.add(.ittOverlap, address: d.ittExtent.start, deviceID: d.deviceID,
                        "device \(d.deviceID): ITT \(d.ittExtent) overlaps device level-2 page \(index) (\(page))")
                    reported += 1  // a huge ITT over many pages is reported, not enumerated
                }
                k += 1
            }
        }
        let sorted = live.sorted { ($0.ittExtent.start, $0.deviceID) < ($1.ittExtent.start, $1.deviceID) }
        var i = 0
        while i < sorted.count {
            var j = i + 1
            // Compare with every later ITT that starts inside this one (bounded by the overlap).
            while j < sorted.count, sorted[j].ittExtent.start.rawValue < sorted[i].ittExtent.end {
                let a = sorted[i], b = sorted[j]
                if a.ittExtent.start == b.ittExtent.start {
                    findings.add(.ittShared, address: a.ittExtent.start, deviceID: b.deviceID,
                        "devices \(a.deviceID) and \(b.deviceID) share the ITT at \(a.ittExtent.start)")
                } else {
                    findings.add(.ittOverlap, address: b.ittExtent.start, deviceID: b.deviceID,
                        "device \(b.deviceID): ITT \(b.ittExtent) overlaps device \(a.deviceID)'s ITT \(a.ittExtent)")
                }
                j += 1
                if j - i > 64 { break }  // a pathological pile-up is reported, not enumerated
            }
            i += 1
        }
    }

    /// EventIDs an ITT holds: 2^(DTE Size + 1), clamped to GITS_TYPER.IDbits.
    mutating func ittGeometry(_ id: DeviceID, _ dteAddress: GuestPhysicalAddress,
                              _ dte: DeviceTableEntry) -> (entries: UInt64, extent: GuestRange)
    {
        var bits = dte.eventIDBits
        let idBits = eventIDBits
        if bits > idBits {
            let asked = bits
            findings.add(.dteSizeBeyondIdbits, address: dteAddress, deviceID: id,
                "device \(id): DTE \(hex(dte.raw)) asks for \(asked) EventID bits, the ITS has \(idBits); only EventIDs below 2^\(idBits) are read")
            bits = idBits
        }
        let entries = UInt64(1) << bits
        let bytes = entries * format.iteSize
        guard dte.ittAddress.adding(bytes - 1) != nil else {
            findings.add(.ittBeyondAddressSpace, address: dteAddress, deviceID: id,
                "device \(id): ITT \(dte.ittAddress) + \(bytes) bytes runs past the top of the address space")
            return (0, GuestRange(start: dte.ittAddress, length: 0))
        }
        return (entries, GuestRange(start: dte.ittAddress, length: bytes))
    }

    /// Every valid ITE of an ITT, by EventID, but those of `except` (ITEs the caller has
    /// already recorded, and counted against the walk's limit).
    mutating func allValidITEs(_ id: DeviceID, base: GuestPhysicalAddress, entries: UInt64,
                               except: Set<UInt32> = []) -> ITTSlots {
        var out = ITTSlots(format: format, base: base)
        let size = format.iteSize
        let fmt = format
        reader.scan(base: base, count: entries, entrySize: size, what: "device \(id) ITT", deviceID: id) {
            e, bytes, off in
            let ite = fmt.decodeITE(bytes, at: off)
            if ite.valid, !except.contains(UInt32(truncatingIfNeeded: e)) {
                out.append(ITESlot(eventID: EventID(UInt32(truncatingIfNeeded: e)),
                                   address: GuestPhysicalAddress(base.rawValue &+ e * size),
                                   ite: ite, status: .live))
            }
        }
        var kept = 0
        while kept < out.count, countEntry() { kept += 1 }
        out.keepFirst(kept)
        return out
    }
}
