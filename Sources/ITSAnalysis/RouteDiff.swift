import ITSLayout
/// Differences between two routing graphs, keyed by (ITS base, DeviceID, EventID) — never by
/// LPI or Linux irq: a rebound device can take over another device's freed LPIs (kvm-prepost/b).
public struct RouteDiff: Sendable {
    public enum Field: String, Sendable, CaseIterable {
        case lpi, icid, vcpu, enabled, priority, pending
    }

    public struct Key: Hashable, Comparable, Sendable {
        /// The ITS base, or its index when the base is unknown.
        public var its: UInt64
        public var deviceID: DeviceID
        public var eventID: EventID
        public static func < (a: Key, b: Key) -> Bool { (a.its, a.deviceID, a.eventID) < (b.its, b.deviceID, b.eventID) }
    }

    public struct Change: Sendable {
        public enum Kind: String, Sendable { case added, removed, changed }
        public var kind: Kind
        public var key: Key
        public var before: RoutingGraph.Route?
        public var after: RoutingGraph.Route?
        /// The fields that differ (all of them for added/removed).
        public var fields: [Field]
    }

    public struct CollectionChange: Sendable {
        public enum Kind: String, Sendable { case added, removed, retargeted }
        public var kind: Kind
        public var its: UInt64
        public var icid: ICID
        public var before: UInt64?
        public var after: UInt64?
    }

    public struct RegisterChange: Sendable {
        public var its: Int?
        public var cpu: UInt32?
        public var name: String
        public var before: UInt64?
        public var after: UInt64?
    }

    public var changes: [Change]
    public var collections: [CollectionChange]
    public var registers: [RegisterChange]
    public var isEmpty: Bool { changes.isEmpty && collections.isEmpty && registers.isEmpty }

    static func key(_ r: RoutingGraph.Route) -> Key {
        Key(its: r.itsBase?.rawValue ?? UInt64(r.itsIndex), deviceID: r.deviceID, eventID: r.eventID)
    }

    static func fields(_ a: RoutingGraph.Route, _ b: RoutingGraph.Route, ignoring: Set<Field>) -> [Field] {
        var out: [Field] = []
        if a.lpi != b.lpi { out.append(.lpi) }
        if a.icid != b.icid { out.append(.icid) }
        if a.vcpu != b.vcpu { out.append(.vcpu) }
        if a.enabled != b.enabled { out.append(.enabled) }
        if a.priority != b.priority { out.append(.priority) }
        if a.pending != b.pending { out.append(.pending) }
        return out.filter { !ignoring.contains($0) }
    }

    public static func compare(before: [RoutingGraph.Route], after: [RoutingGraph.Route], ignoring: Set<Field> = []) -> [Change] {
        var a: [Key: RoutingGraph.Route] = [:], b: [Key: RoutingGraph.Route] = [:]
        for r in before { a[key(r)] = r }
        for r in after { b[key(r)] = r }
        var out: [Change] = []
        for k in Set(a.keys).union(b.keys).sorted() {
            switch (a[k], b[k]) {
            case (let x?, nil): out.append(Change(kind: .removed, key: k, before: x, after: nil, fields: Field.allCases))
            case (nil, let y?): out.append(Change(kind: .added, key: k, before: nil, after: y, fields: Field.allCases))
            case (let x?, let y?):
                let f = fields(x, y, ignoring: ignoring)
                if !f.isEmpty { out.append(Change(kind: .changed, key: k, before: x, after: y, fields: f)) }
            default: break
            }
        }
        return out
    }

    public static func compare(before: [ITSTables], after: [ITSTables], graphsBefore: [RoutingGraph], graphsAfter: [RoutingGraph],
                               registersBefore: RegisterState, registersAfter: RegisterState, ignoring: Set<Field> = []) -> RouteDiff
    {
        let changes = compare(before: graphsBefore.flatMap(\.routes), after: graphsAfter.flatMap(\.routes), ignoring: ignoring)
        var collections: [CollectionChange] = []
        func targets(_ ts: [ITSTables]) -> [UInt64: [ICID: UInt64]] {
            var out: [UInt64: [ICID: UInt64]] = [:]
            for t in ts {
                let its = t.registers.base?.value.rawValue ?? UInt64(t.itsIndex)
                out[its] = t.liveCollections.mapValues(\.cte.rdBase)
            }
            return out
        }
        let ca = targets(before), cb = targets(after)
        for its in Set(ca.keys).union(cb.keys).sorted() {
            let x = ca[its] ?? [:], y = cb[its] ?? [:]
            for icid in Set(x.keys).union(y.keys).sorted() {
                switch (x[icid], y[icid]) {
                case (let p?, nil): collections.append(CollectionChange(kind: .removed, its: its, icid: icid, before: p, after: nil))
                case (nil, let q?): collections.append(CollectionChange(kind: .added, its: its, icid: icid, before: nil, after: q))
                case (let p?, let q?) where p != q:
                    collections.append(CollectionChange(kind: .retargeted, its: its, icid: icid, before: p, after: q))
                default: break
                }
            }
        }
        var regs: [RegisterChange] = []
        func regList(_ s: RegisterState) -> [String: (Int?, UInt32?, UInt64)] {
            var out: [String: (Int?, UInt32?, UInt64)] = [:]
            for (i, its) in s.its.enumerated() {
                for reg in ITSRegister.allCases where reg.comparedByDiff {
                    if let v = its[reg] { out["its\(i).\(reg.name)"] = (i, nil, v.value) }
                }
            }
            for r in s.redistributors {
                for reg in RedistributorRegister.allCases where reg.comparedByDiff {
                    if let v = r[reg] { out["cpu\(r.cpu).\(reg.name)"] = (nil, r.cpu, v.value) }
                }
            }
            return out
        }
        let ra = regList(registersBefore), rb = regList(registersAfter)
        for name in Set(ra.keys).union(rb.keys).sorted() {
            let x = ra[name], y = rb[name]
            // A register only one side knows is not a change of the guest's state.
            guard let x, let y, x.2 != y.2 else { continue }
            regs.append(RegisterChange(its: x.0, cpu: x.1, name: String(name.split(separator: ".").last ?? ""), before: x.2, after: y.2))
        }
        return RouteDiff(changes: changes, collections: collections, registers: regs)
    }
}
