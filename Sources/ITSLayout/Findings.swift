/// Problems inside the guest's tables are values, not errors (style.md "Errors and findings"):
/// the walk reports them and continues. The rules are data, one row each, after
/// kvm-unit-tests' errata table.

public enum Severity: String, Sendable, Comparable, CaseIterable {
    case error, warning, note
    private var rank: Int { self == .error ? 0 : self == .warning ? 1 : 2 }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

public struct Rule: Sendable, Hashable {
    public let id: String
    public let severity: Severity
    /// The fix, report or doc section the rule comes from.
    public let source: String
    /// What the snapshot shows when the rule fires.
    public let shows: String
}

public enum Rules {
    public static let all: [Rule] = [
        Rule(id: "table-absent", severity: .error, source: "input-formats.md §1.3",
             shows: "a device/collection table, level-2 page or ITT page is not in the dump"),
        Rule(id: "table-missing", severity: .warning, source: "its-formats.md §1.6",
             shows: "no valid GITS_BASER of this type: the guest set up no such table"),
        Rule(id: "baser-unusable", severity: .error, source: "its-formats.md §1.6",
             shows: "a GITS_BASER whose page size is reserved or whose entry size is not the format's"),
        Rule(id: "l1-misaligned", severity: .error, source: "its-formats.md §1.7",
             shows: "a level-1 entry whose level-2 address is not aligned to the page size"),
        Rule(id: "l1-alias", severity: .error, source: "its-formats.md §6.1 (e)",
             shows: "two level-1 entries point to the same level-2 page"),
        Rule(id: "id-beyond-typer", severity: .warning, source: "its-formats.md §1.4, §1.7",
             shows: "an entry at an ID beyond GITS_TYPER's DeviceID/ICID bits: the ITS never indexes it"),
        Rule(id: "dte-size-beyond-idbits", severity: .error, source: "its-formats.md §1.4, §6.1 (e)",
             shows: "a DTE whose EventID bits exceed GITS_TYPER.IDbits"),
        Rule(id: "itt-beyond-address-space", severity: .error, source: "its-formats.md §1.10",
             shows: "an ITT whose extent wraps past the top of the 64-bit address space"),
        Rule(id: "itt-overlap", severity: .error, source: "its-formats.md §6.1 (e)",
             shows: "an ITT overlapping another ITT or an ITS table"),
        Rule(id: "itt-shared", severity: .error, source: "its-formats.md §6.1 (e)",
             shows: "two devices whose DTEs point at the same ITT"),
        Rule(id: "ite-virtual", severity: .note, source: "its-formats.md §1.11",
             shows: "a virtual (GICv4) ITE: it routes to a vPE, not to a collection"),
        Rule(id: "qemu62-ite-residue", severity: .note, source: "its-formats.md §6.2 (j); QEMU a1ce993da6fc",
             shows: "an ITE written by QEMU 6.2 (ITE_L[31:26] = 0x3F); it reads correctly"),
        Rule(id: "lpi-out-of-range", severity: .error, source: "its-formats.md §1.8",
             shows: "an ITE whose LPI is below 8192 or beyond GICR_PROPBASER.IDbits"),
        Rule(id: "lpi-duplicate", severity: .error, source: "its-formats.md §6.1 (b)",
             shows: "one LPI mapped by two live ITEs"),
        Rule(id: "collection-missing", severity: .error, source: "its-formats.md §3.3",
             shows: "an ITE whose ICID has no valid collection: its MSIs are dropped"),
        Rule(id: "collection-unmapped", severity: .warning, source: "its-formats.md §3.3",
             shows: "a collection created by MAPTI before any MAPC (RDbase 0xFFFFFFFF)"),
        Rule(id: "collection-target-out-of-range", severity: .error, source: "its-formats.md §6.1 (e), §6.2 (l)",
             shows: "a collection whose target is not one of the vCPUs"),
        Rule(id: "kvm-duplicate-icid", severity: .error, source: "its-formats.md §1.10 restore walk",
             shows: "an ICID listed twice in KVM's packed collection table: restore fails with -EEXIST"),
        Rule(id: "kvm-cte-after-terminator", severity: .warning, source: "its-formats.md §1.10 restore walk",
             shows: "a valid CTE after the first invalid one: KVM's restore never reads it"),
        Rule(id: "kvm-dte-unreachable", severity: .warning, source: "its-formats.md §6.1 (a); Linux e9649129d33d",
             shows: "a valid DTE that KVM's restore walk does not reach: stale, from an older save"),
        Rule(id: "kvm-ite-unreachable", severity: .warning, source: "its-formats.md §6.1 (b); Linux 7602ffd1d5e8",
             shows: "a valid ITE that KVM's restore walk does not reach: stale, from an older save"),
        Rule(id: "kvm-next-lands-invalid", severity: .warning, source: "its-formats.md §1.10 exact meaning of next",
             shows: "an uncapped `next` pointing at an invalid entry: the chain is not what a save writes"),
        Rule(id: "kvm-next-leaves-page", severity: .note, source: "its-formats.md §6.1 (d); Linux 54e1881ea051",
             shows: "a DTE whose `next` leaves its level-2 page: kernels before 6.1-rc (5.10.y before Oct 2022) fail to restore"),
        Rule(id: "kvm-restore-rejects", severity: .error, source: "its-formats.md §1.10 restore walk",
             shows: "an entry on the restore walk that KVM's restore rejects (-EINVAL): the whole restore fails"),
        Rule(id: "queue-not-drained", severity: .warning, source: "its-formats.md §2.1",
             shows: "commands between GITS_CREADR and GITS_CWRITER that the ITS has not processed: the tables predate them"),
        Rule(id: "queue-pointer-out-of-range", severity: .error, source: "its-formats.md §1.5, §1.10",
             shows: "GITS_CREADR or GITS_CWRITER beyond the command queue (KVM's restore refuses such a CREADR)"),
        Rule(id: "lpi-disabled", severity: .warning, source: "its-formats.md §1.8, §3.3",
             shows: "a routed LPI whose enable bit is clear in the property table: it can become pending but is never delivered"),
        Rule(id: "pending-unrouted", severity: .warning, source: "its-formats.md §1.8",
             shows: "an LPI pending in a vCPU's pending table that no live ITE maps"),
        Rule(id: "pending-wrong-vcpu", severity: .warning, source: "its-formats.md §6.1 (f)",
             shows: "an LPI pending in one vCPU's table while its route targets another vCPU (the pending-table save bug, or a move after the save)"),
        Rule(id: "pendbaser-shared", severity: .error, source: "its-formats.md §1.8",
             shows: "every vCPU's GICR_PENDBASER points at the same pending table"),
        Rule(id: "its-enabled-empty", severity: .warning, source: "its-formats.md §3.3",
             shows: "the ITS is enabled while its device table holds nothing"),
        Rule(id: "entry-at-table-limit", severity: .note, source: "its-formats.md §1.7, §6.1 (e)",
             shows: "an entry at the last ID its table or ITT can hold"),
        Rule(id: "unmapped-but-live", severity: .error, source: "its-formats.md §6.1 (a), (b); Linux e9649129d33d, 7602ffd1d5e8",
             shows: "a live DTE or ITE that the command history unmapped (MAPD V=0) or discarded (DISCARD) later: a stale entry restore would resurrect"),
        Rule(id: "findings-capped", severity: .note, source: "DEVELOPERS.md Standards",
             shows: "more findings of one rule than are listed: the first ones are kept, the count of the rest is given"),
        Rule(id: "dump-incomplete", severity: .error, source: "input-formats.md §2.4, §2.6",
             shows: "the dump is cut short or marked incomplete: ranges it lists are not in the file"),
        Rule(id: "walk-limit", severity: .error, source: "DEVELOPERS.md Standards",
             shows: "the walk stopped at its budget of bytes or rows: the tables are larger than any real ITS needs"),
    ]

    private static let byID: [String: Rule] = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

    public static func rule(_ id: String) -> Rule? { byID[id] }
}

public struct Finding: Sendable, Hashable {
    public var rule: String
    public var severity: Severity
    public var address: GuestPhysicalAddress?
    public var deviceID: DeviceID?
    public var eventID: EventID?
    public var icid: ICID?
    public var lpi: LPI?
    public var message: String

    public init(_ rule: String, address: GuestPhysicalAddress? = nil, deviceID: DeviceID? = nil,
                eventID: EventID? = nil, icid: ICID? = nil, lpi: LPI? = nil, _ message: String)
    {
        self.rule = rule
        self.severity = Rules.rule(rule)?.severity ?? .error
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
    private var counts: [String: Int] = [:]
    public let perRule: Int

    public init(perRule: Int = Finding.maxPerRule) { self.perRule = perRule }

    public mutating func add(_ rule: String, _ make: () -> Finding) {
        let n = counts[rule, default: 0] + 1
        counts[rule] = n
        total += 1
        if n <= perRule { kept.append(make()) }
    }

    public mutating func add(contentsOf other: [Finding]) {
        for f in other { add(f.rule) { f } }
    }

    /// Findings added, kept or not.
    public private(set) var total = 0

    /// The kept findings, then one `findings-capped` note per rule that had more.
    public var all: [Finding] {
        kept + counts.sorted(by: { $0.key < $1.key }).filter { $0.value > perRule }.map { rule, n in
            Finding("findings-capped", "\(n - perRule) more \(rule) finding(s) not listed (\(n) in all)")
        }
    }
}
