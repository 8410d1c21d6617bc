/// Problems inside the guest's tables are values, not errors (style.md "Errors and findings"):
/// the walk reports them and continues. The rules are data, one row each, after
/// kvm-unit-tests' errata table.

public enum Severity: String, Sendable, Comparable, CaseIterable {
    case error, warning, note
    private var rank: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// Every rule a finding can name, with its severity, the fix, report or doc section it comes
/// from, and what the snapshot shows when it fires: one row each, after kvm-unit-tests' errata
/// table. `check --rules` prints this table; a test requires a test case for every row.
public enum RuleID: String, CaseIterable, Sendable, Comparable {
    case tableAbsent = "table-absent"
    case tableMissing = "table-missing"
    case baserUnusable = "baser-unusable"
    case l1Misaligned = "l1-misaligned"
    case l1Alias = "l1-alias"
    case idBeyondTyper = "id-beyond-typer"
    case dteSizeBeyondIdbits = "dte-size-beyond-idbits"
    case ittBeyondAddressSpace = "itt-beyond-address-space"
    case ittOverlap = "itt-overlap"
    case ittShared = "itt-shared"
    case iteVirtual = "ite-virtual"
    case qemu62IteResidue = "qemu62-ite-residue"
    case lpiOutOfRange = "lpi-out-of-range"
    case lpiDuplicate = "lpi-duplicate"
    case collectionMissing = "collection-missing"
    case collectionUnmapped = "collection-unmapped"
    case collectionTargetOutOfRange = "collection-target-out-of-range"
    case kvmDuplicateIcid = "kvm-duplicate-icid"
    case kvmCteAfterTerminator = "kvm-cte-after-terminator"
    case kvmDteUnreachable = "kvm-dte-unreachable"
    case kvmIteUnreachable = "kvm-ite-unreachable"
    case kvmNextLandsInvalid = "kvm-next-lands-invalid"
    case kvmNextLeavesPage = "kvm-next-leaves-page"
    case kvmRestoreRejects = "kvm-restore-rejects"
    case queueNotDrained = "queue-not-drained"
    case queuePointerOutOfRange = "queue-pointer-out-of-range"
    case lpiDisabled = "lpi-disabled"
    case pendingUnrouted = "pending-unrouted"
    case pendingWrongVcpu = "pending-wrong-vcpu"
    case pendbaserShared = "pendbaser-shared"
    case itsEnabledEmpty = "its-enabled-empty"
    case entryAtTableLimit = "entry-at-table-limit"
    case unmappedButLive = "unmapped-but-live"
    case findingsCapped = "findings-capped"
    case dumpIncomplete = "dump-incomplete"
    case walkLimit = "walk-limit"

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    public var severity: Severity {
        switch self {
        case .tableAbsent: .error
        case .tableMissing: .warning
        case .baserUnusable: .error
        case .l1Misaligned: .error
        case .l1Alias: .error
        case .idBeyondTyper: .warning
        case .dteSizeBeyondIdbits: .error
        case .ittBeyondAddressSpace: .error
        case .ittOverlap: .error
        case .ittShared: .error
        case .iteVirtual: .note
        case .qemu62IteResidue: .note
        case .lpiOutOfRange: .error
        case .lpiDuplicate: .error
        case .collectionMissing: .error
        case .collectionUnmapped: .warning
        case .collectionTargetOutOfRange: .error
        case .kvmDuplicateIcid: .error
        case .kvmCteAfterTerminator: .warning
        case .kvmDteUnreachable: .warning
        case .kvmIteUnreachable: .warning
        case .kvmNextLandsInvalid: .warning
        case .kvmNextLeavesPage: .note
        case .kvmRestoreRejects: .error
        case .queueNotDrained: .warning
        case .queuePointerOutOfRange: .error
        case .lpiDisabled: .warning
        case .pendingUnrouted: .warning
        case .pendingWrongVcpu: .warning
        case .pendbaserShared: .error
        case .itsEnabledEmpty: .warning
        case .entryAtTableLimit: .note
        case .unmappedButLive: .error
        case .findingsCapped: .note
        case .dumpIncomplete: .error
        case .walkLimit: .error
        }
    }

    /// The fix, report or doc section the rule comes from.
    public var source: String {
        switch self {
        case .tableAbsent: "Documentation/input-formats.md §1.3"
        case .tableMissing: "Documentation/its-formats.md §1.6"
        case .baserUnusable: "Documentation/its-formats.md §1.6"
        case .l1Misaligned: "Documentation/its-formats.md §1.7"
        case .l1Alias: "Documentation/its-formats.md §6.1 (e)"
        case .idBeyondTyper: "Documentation/its-formats.md §1.4, §1.7"
        case .dteSizeBeyondIdbits: "Documentation/its-formats.md §1.4, §6.1 (e)"
        case .ittBeyondAddressSpace: "Documentation/its-formats.md §1.10"
        case .ittOverlap: "Documentation/its-formats.md §6.1 (e)"
        case .ittShared: "Documentation/its-formats.md §6.1 (e)"
        case .iteVirtual: "Documentation/its-formats.md §1.11"
        case .qemu62IteResidue: "Documentation/its-formats.md §6.2 (j); QEMU a1ce993da6fc"
        case .lpiOutOfRange: "Documentation/its-formats.md §1.8"
        case .lpiDuplicate: "Documentation/its-formats.md §6.1 (b)"
        case .collectionMissing: "Documentation/its-formats.md §3.3"
        case .collectionUnmapped: "Documentation/its-formats.md §3.3"
        case .collectionTargetOutOfRange: "Documentation/its-formats.md §6.1 (e), §6.2 (l)"
        case .kvmDuplicateIcid: "Documentation/its-formats.md §1.10 restore walk"
        case .kvmCteAfterTerminator: "Documentation/its-formats.md §1.10 restore walk"
        case .kvmDteUnreachable: "Documentation/its-formats.md §6.1 (a); Linux e9649129d33d"
        case .kvmIteUnreachable: "Documentation/its-formats.md §6.1 (b); Linux 7602ffd1d5e8"
        case .kvmNextLandsInvalid: "Documentation/its-formats.md §1.10 exact meaning of next"
        case .kvmNextLeavesPage: "Documentation/its-formats.md §6.1 (d); Linux 54e1881ea051"
        case .kvmRestoreRejects: "Documentation/its-formats.md §1.10 restore walk"
        case .queueNotDrained: "Documentation/its-formats.md §2.1"
        case .queuePointerOutOfRange: "Documentation/its-formats.md §1.5, §1.10"
        case .lpiDisabled: "Documentation/its-formats.md §1.8, §3.3"
        case .pendingUnrouted: "Documentation/its-formats.md §1.8"
        case .pendingWrongVcpu: "Documentation/its-formats.md §6.1 (f)"
        case .pendbaserShared: "Documentation/its-formats.md §1.8"
        case .itsEnabledEmpty: "Documentation/its-formats.md §3.3"
        case .entryAtTableLimit: "Documentation/its-formats.md §1.7, §6.1 (e)"
        case .unmappedButLive: "Documentation/its-formats.md §6.1 (a), (b); Linux e9649129d33d, 7602ffd1d5e8"
        case .findingsCapped: "Documentation/check-rules.md §Bounds"
        case .dumpIncomplete: "Documentation/input-formats.md §2.4, §2.6"
        case .walkLimit: "Documentation/check-rules.md §Bounds"
        }
    }

    /// What the snapshot shows when the rule fires.
    public var shows: String {
        switch self {
        case .tableAbsent:
            "a device/collection table, level-2 page or ITT page is not in the dump"
        case .tableMissing:
            "no valid GITS_BASER of this type: the guest set up no such table"
        case .baserUnusable:
            "a GITS_BASER whose page size is reserved or whose entry size is not the format's"
        case .l1Misaligned:
            "a level-1 entry whose level-2 address is not aligned to the page size"
        case .l1Alias:
            "two level-1 entries point to the same level-2 page"
        case .idBeyondTyper:
            "an entry at an ID beyond GITS_TYPER's DeviceID/ICID bits: the ITS never indexes it"
        case .dteSizeBeyondIdbits:
            "a DTE whose EventID bits exceed GITS_TYPER.IDbits"
        case .ittBeyondAddressSpace:
            "an ITT whose extent would wrap past the top of the 64-bit address space (a guard: the entry formats' 52-bit ITT addresses and 2^32 events cannot reach it)"
        case .ittOverlap:
            "an ITT overlapping another ITT or an ITS table"
        case .ittShared:
            "two devices whose DTEs point at the same ITT"
        case .iteVirtual:
            "a virtual (GICv4) ITE: it routes to a vPE, not to a collection"
        case .qemu62IteResidue:
            "an ITE written by QEMU 6.2 (ITE_L[31:26] = 0x3F); it reads correctly"
        case .lpiOutOfRange:
            "an ITE whose LPI is below 8192 or beyond GICR_PROPBASER.IDbits"
        case .lpiDuplicate:
            "one LPI mapped by two live ITEs"
        case .collectionMissing:
            "an ITE whose ICID has no valid collection: its MSIs are dropped"
        case .collectionUnmapped:
            "a collection created by MAPTI before any MAPC (RDbase 0xFFFFFFFF)"
        case .collectionTargetOutOfRange:
            "a collection whose target is not one of the vCPUs"
        case .kvmDuplicateIcid:
            "an ICID listed twice in KVM's packed collection table: restore fails with -EEXIST"
        case .kvmCteAfterTerminator:
            "a valid CTE after the first invalid one: KVM's restore never reads it"
        case .kvmDteUnreachable:
            "a valid DTE that KVM's restore walk does not reach: stale, from an older save"
        case .kvmIteUnreachable:
            "a valid ITE that KVM's restore walk does not reach: stale, from an older save"
        case .kvmNextLandsInvalid:
            "an uncapped `next` pointing at an invalid entry: the chain is not what a save writes"
        case .kvmNextLeavesPage:
            "a DTE whose `next` leaves its level-2 page: kernels before 6.1-rc (5.10.y before Oct 2022) fail to restore"
        case .kvmRestoreRejects:
            "an entry on the restore walk that KVM's restore rejects (-EINVAL): the whole restore fails"
        case .queueNotDrained:
            "commands between GITS_CREADR and GITS_CWRITER that the ITS has not processed: the tables predate them"
        case .queuePointerOutOfRange:
            "GITS_CREADR or GITS_CWRITER beyond the command queue (KVM's restore refuses such a CREADR)"
        case .lpiDisabled:
            "a routed LPI whose enable bit is clear in the property table: it can become pending but is never delivered"
        case .pendingUnrouted:
            "an LPI pending in a vCPU's pending table that no live ITE maps"
        case .pendingWrongVcpu:
            "an LPI pending in one vCPU's table while its route targets another vCPU (the pending-table save bug, or a move after the save)"
        case .pendbaserShared:
            "every vCPU's GICR_PENDBASER points at the same pending table"
        case .itsEnabledEmpty:
            "the ITS is enabled while its device table holds nothing"
        case .entryAtTableLimit:
            "an entry at the last ID its table or ITT can hold"
        case .unmappedButLive:
            "a live DTE or ITE that the command history unmapped (MAPD V=0) or discarded (DISCARD) later: a stale entry restore would resurrect"
        case .findingsCapped:
            "more findings of one rule than are listed: the first ones are kept, the count of the rest is given"
        case .dumpIncomplete:
            "the dump is cut short or marked incomplete: ranges it lists are not in the file"
        case .walkLimit:
            "the walk stopped at its budget of bytes or rows: the tables are larger than any real ITS needs"
        }
    }
}

public struct Finding: Sendable, Hashable {
    public var ruleID: RuleID
    /// The rule's id as printed ("table-absent").
    public var rule: String { ruleID.rawValue }
    public var severity: Severity
    public var address: GuestPhysicalAddress?
    public var deviceID: DeviceID?
    public var eventID: EventID?
    public var icid: ICID?
    public var lpi: LPI?
    public var message: String

    public init(_ rule: RuleID, address: GuestPhysicalAddress? = nil, deviceID: DeviceID? = nil,
                eventID: EventID? = nil, icid: ICID? = nil, lpi: LPI? = nil, _ message: String)
    {
        self.ruleID = rule
        self.severity = rule.severity
        self.address = address
        self.deviceID = deviceID
        self.eventID = eventID
        self.icid = icid
        self.lpi = lpi
        self.message = message
    }
}

extension Finding {
    /// Findings listed per rule at most; a hostile table can repeat one problem millions of times.
    public static let maxPerRule = 1000
}

/// Findings as a walk produces them: counted per rule, built only while under the cap (a
/// message is string formatting, and a hostile table repeats one problem millions of times).
public struct FindingList: Sendable {
    private var kept: [Finding] = []
    private var counts: [RuleID: Int] = [:]
    public let perRule: Int

    public init(perRule: Int = Finding.maxPerRule) { self.perRule = perRule }

    /// Counts a finding of `rule`; builds it (its message is string formatting) only while the
    /// rule is under the cap.
    public mutating func add(_ rule: RuleID, address: GuestPhysicalAddress? = nil, deviceID: DeviceID? = nil,
                             eventID: EventID? = nil, icid: ICID? = nil, lpi: LPI? = nil,
                             _ message: @autoclosure () -> String)
    {
        add(rule) { Finding(rule, address: address, deviceID: deviceID, eventID: eventID, icid: icid, lpi: lpi, message()) }
    }

    public mutating func add(_ finding: Finding) {
        add(finding.ruleID) { finding }
    }

    public mutating func add(contentsOf other: [Finding]) {
        for f in other { add(f) }
    }

    private mutating func add(_ rule: RuleID, _ make: () -> Finding) {
        let n = counts[rule, default: 0] + 1
        counts[rule] = n
        total += 1
        if n <= perRule { kept.append(make()) }
    }

    /// Findings added, kept or not.
    public private(set) var total = 0

    /// The kept findings, then one `findings-capped` note per rule that had more.
    public var all: [Finding] {
        kept + counts.sorted(by: { $0.key < $1.key }).filter { $0.value > perRule }.map { rule, n in
            Finding(.findingsCapped, "\(n - perRule) more \(rule.rawValue) finding(s) not listed (\(n) in all)")
        }
    }
}
