import GuestKernel
import ITSLayout
/// The tables against another view of the same state: KVM's `vgic-state` (LPI → target vCPU,
/// enabled, pending, priority), `vgic-its-state` (device, event → LPI, ICID, target), or route
/// rows from a JSON file. Each side is compared only on what it can express.
public struct ExpectedDiff: Sendable {
    public struct Difference: Sendable {
        public enum Kind: String, Sendable { case onlyInTables = "only-in-tables", onlyInExpected = "only-in-expected", changed }
        public var kind: Kind
        public var deviceID: DeviceID?
        public var eventID: EventID?
        public var lpi: LPI?
        public var field: String?
        public var tables: String?
        public var expected: String?
        public var address: GuestPhysicalAddress?
    }

    public var source: String
    public var comparedFields: [String]
    public var differences: [Difference]
    public var notes: [String]

    static func text<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "unknown" }

    /// By LPI: the tables' live routes against vgic-state's LPI rows.
    public static func against(_ v: VGICState, routes: [RoutingGraph.Route], ignoring: Set<RouteDiff.Field>) -> ExpectedDiff {
        var fields = ["lpi", "vcpu", "enabled", "pending", "priority"].filter { f in !ignoring.contains { $0.rawValue == f } }
        var byLPI: [UInt32: RoutingGraph.Route] = [:]
        for r in routes { byLPI[r.lpi.rawValue] = r }
        var seen: Set<UInt32> = []
        var out: [Difference] = []
        var duplicates = Duplicates()
        for row in v.lpis {
            guard seen.insert(row.intid).inserted else { duplicates.add("LPI \(row.intid)"); continue }
            guard let r = byLPI[row.intid] else {
                out.append(Difference(kind: .onlyInExpected, lpi: LPI(row.intid), field: nil, tables: nil,
                                      expected: "LPI \(row.intid) → vCPU \(row.targetVCPU)"))
                continue
            }
            func cmp(_ f: String, _ t: String, _ e: String) {
                if fields.contains(f), t != e {
                    out.append(Difference(kind: .changed, deviceID: r.deviceID, eventID: r.eventID, lpi: r.lpi, field: f,
                                          tables: t, expected: e, address: r.iteAddress))
                }
            }
            cmp("vcpu", text(r.vcpu), row.targetVCPU < 0 ? "none" : String(row.targetVCPU))
            cmp("enabled", text(r.enabled), String(row.enabled))
            cmp("pending", text(r.pending), String(row.pending))
            cmp("priority", text(r.priority), String(row.priority))
        }
        for r in routes where !seen.contains(r.lpi.rawValue) && !v.freed.contains(r.lpi.rawValue) {
            out.append(Difference(kind: .onlyInTables, deviceID: r.deviceID, eventID: r.eventID, lpi: r.lpi, field: nil,
                                  tables: "LPI \(r.lpi) → vCPU \(text(r.vcpu))", expected: nil, address: r.iteAddress))
        }
        fields.removeAll { $0 == "lpi" }
        return ExpectedDiff(source: "KVM debugfs vgic-state (\(v.lpis.count) LPIs)", comparedFields: ["lpi (presence)"] + fields,
                            differences: out, notes: v.notes + duplicates.notes + (v.freed.isEmpty ? [] : ["\(v.freed.count) LPI(s) printed as freed: not compared"]))
    }

    /// By (DeviceID, EventID): the tables' live routes against vgic-its-state rows.
    public static func against(_ v: VGICITSState, routes: [RoutingGraph.Route], ignoring: Set<RouteDiff.Field>) -> ExpectedDiff {
        let fields = ["lpi", "icid", "vcpu"].filter { f in !ignoring.contains { $0.rawValue == f } }
        var expected: [[UInt32]: VGICITSState.Row] = [:]
        var duplicates = Duplicates()
        for r in v.rows {
            let k = [r.deviceID.rawValue, r.eventID.rawValue]
            if expected[k] == nil { expected[k] = r } else { duplicates.add("DeviceID \(r.deviceID.rawValue) EventID \(r.eventID.rawValue)") }
        }
        var out: [Difference] = []
        var seen: Set<[UInt32]> = []
        for r in routes {
            let k = [r.deviceID.rawValue, r.eventID.rawValue]
            guard let e = expected[k] else {
                out.append(Difference(kind: .onlyInTables, deviceID: r.deviceID, eventID: r.eventID, lpi: r.lpi,
                                      tables: "LPI \(r.lpi), ICID \(r.icid), vCPU \(text(r.vcpu))", address: r.iteAddress))
                continue
            }
            seen.insert(k)
            let target = e.target == 0xFFFF_FFFF ? "none" : String(e.target)
            for (f, t, x) in [("lpi", String(r.lpi.rawValue), String(e.lpi.rawValue)), ("icid", String(r.icid.rawValue), String(e.icid.rawValue)),
                              ("vcpu", text(r.vcpu).replacingUnknown("none"), target)] where fields.contains(f) && t != x {
                out.append(Difference(kind: .changed, deviceID: r.deviceID, eventID: r.eventID, lpi: r.lpi, field: f, tables: t, expected: x,
                                      address: r.iteAddress))
            }
        }
        for e in v.rows where seen.insert([e.deviceID.rawValue, e.eventID.rawValue]).inserted {
            out.append(Difference(kind: .onlyInExpected, deviceID: e.deviceID, eventID: e.eventID, lpi: e.lpi,
                                  expected: "LPI \(e.lpi), ICID \(e.icid), target \(e.target)"))
        }
        return ExpectedDiff(source: "KVM debugfs vgic-its-state (\(v.rows.count) ITEs)", comparedFields: ["presence"] + fields,
                            differences: out, notes: v.notes + duplicates.notes)
    }

    /// By (DeviceID, EventID): against the mappings the guest's ITS driver holds; the driver
    /// walk's problems become notes.
    public static func against(_ view: DriverView, source: String, routes: [RoutingGraph.Route],
                               ignoring: Set<RouteDiff.Field>) -> ExpectedDiff
    {
        let rows = view.routes.map { r in ["deviceID": Int(r.deviceID.rawValue), "eventID": Int(r.eventID.rawValue), "lpi": Int(r.lpi.rawValue),
                                           "vcpu": Int(r.cpu), "icid": Int(r.icid.rawValue)] }
        var d = against(rows: rows, source: source, routes: routes, ignoring: ignoring)
        d.notes += view.problems
        return d
    }

    /// By (DeviceID, EventID): against route rows of another `routes --output json` (or the
    /// fixtures' ground-truth `interrupts`), on the fields the rows carry.
    public static func against(rows: [[String: Int]], source: String, routes: [RoutingGraph.Route],
                               ignoring: Set<RouteDiff.Field>) -> ExpectedDiff
    {
        against(expectedRows: ExpectedRow.rows(rows), source: source, routes: routes, ignoring: ignoring)
    }

    /// The same on rows read by `ExpectedRow.stream`. A key given twice is compared once (its
    /// first row) and reported once, as a note.
    public static func against(expectedRows rows: [ExpectedRow], source: String, routes: [RoutingGraph.Route],
                               ignoring: Set<RouteDiff.Field>) -> ExpectedDiff
    {
        struct Key: Hashable, Comparable {
            var d: Int, e: Int
            static func < (a: Key, b: Key) -> Bool { (a.d, a.e) < (b.d, b.e) }
        }
        let candidates = ["lpi", "icid", "vcpu", "priority"].filter { f in !ignoring.contains { $0.rawValue == f } }
        let fields = candidates.filter { f in rows.contains { $0[field: f] != nil } }
        var expected: [Key: ExpectedRow] = [:]
        var duplicates = Duplicates()
        for r in rows {
            let k = Key(d: r.deviceID, e: r.eventID)
            if expected[k] == nil { expected[k] = r } else { duplicates.add("DeviceID \(r.deviceID) EventID \(r.eventID)") }
        }
        var out: [Difference] = []
        var seen: Set<Key> = []
        for r in routes {
            let k = Key(d: Int(r.deviceID.rawValue), e: Int(r.eventID.rawValue))
            guard let e = expected[k] else {
                out.append(Difference(kind: .onlyInTables, deviceID: r.deviceID, eventID: r.eventID, lpi: r.lpi,
                                      tables: "LPI \(r.lpi), vCPU \(text(r.vcpu))", address: r.iteAddress))
                continue
            }
            seen.insert(k)
            let mine: [String: Int?] = ["lpi": Int(r.lpi.rawValue), "icid": Int(r.icid.rawValue), "vcpu": r.vcpu.map(Int.init),
                                        "priority": r.priority.map(Int.init)]
            for f in fields {
                guard let x = e[field: f] else { continue }
                let t = mine[f] ?? nil
                if t != x {
                    out.append(Difference(kind: .changed, deviceID: r.deviceID, eventID: r.eventID, lpi: r.lpi, field: f,
                                          tables: text(t), expected: String(x), address: r.iteAddress))
                }
            }
        }
        for (k, e) in expected.sorted(by: { $0.key < $1.key }) where !seen.contains(k) {
            out.append(Difference(kind: .onlyInExpected, deviceID: DeviceID(UInt32(truncatingIfNeeded: k.d)),
                                  eventID: EventID(UInt32(truncatingIfNeeded: k.e)), lpi: e.lpi.map { LPI(UInt32(truncatingIfNeeded: $0)) },
                                  expected: "LPI \(text(e.lpi)), vCPU \(text(e.vcpu))"))
        }
        return ExpectedDiff(source: source, comparedFields: ["presence"] + fields, differences: out, notes: duplicates.notes)
    }
}

/// Keys an expected side gives more than once: one note per key (the first 100, then a count).
struct Duplicates {
    static let listed = 100
    private(set) var keys: [String] = []
    private var seen: Set<String> = []
    private var more = 0

    mutating func add(_ key: String) {
        guard seen.insert(key).inserted else { return }
        if keys.count < Self.listed { keys.append(key) } else { more += 1 }
    }

    var notes: [String] {
        keys.map { "\($0) appears more than once in the expected side: its first row is compared, the others ignored" }
            + (more > 0 ? ["\(more) more keys appear more than once"] : [])
    }
}

extension String {
    func replacingUnknown(_ with: String) -> String { self == "unknown" ? with : self }
}
