import GuestKernel
import ITSLayout

/// What one (ITS, DeviceID, EventID) means once every view of it is joined: the guest's own
/// doing, or a bug. One row each, written once like the check rules (RuleID): the README's diff
/// section prints this table, `check --rules` lists it after the rules, and a test requires a
/// case for every row.
public enum Verdict: String, CaseIterable, Sendable, Comparable {
    case lost
    case stale
    case pendingLost = "pending-lost"
    case unexplained
    case remapped
    case guestUnmapped = "guest-unmapped"
    case guestMoved = "guest-moved"
    case guestMapped = "guest-mapped"
    case guestReconfigured = "guest-reconfigured"
    case pendingRaised = "pending-raised"
    case consistent

    /// Headline first: the order of this enum.
    public static func < (a: Self, b: Self) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }

    public var severity: Severity {
        switch self {
        case .lost, .stale: .error
        case .pendingLost, .unexplained: .warning
        case .remapped, .guestUnmapped, .guestMoved, .guestMapped, .guestReconfigured, .pendingRaised, .consistent: .note
        }
    }

    /// The bug, fix or ABI rule the verdict comes from.
    public var source: String {
        switch self {
        case .lost: "Documentation/its-formats.md §6.1 (save/restore bug class); KVM_DEV_ARM_ITS_SAVE_TABLES"
        case .stale: "Documentation/its-formats.md §6.1 (a), (b); Linux e9649129d33d, 7602ffd1d5e8 (6.13)"
        case .pendingLost: "Documentation/its-formats.md §6.1 (f); KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES"
        case .unexplained: "no view decides"
        case .remapped: "Documentation/its-formats.md §2.3 MAPD V=0, MAPD V=1, MAPTI"
        case .guestUnmapped: "Documentation/its-formats.md §2.3 MAPD V=0, DISCARD"
        case .guestMoved: "Documentation/its-formats.md §2.3 MOVI, MAPC"
        case .guestMapped: "Documentation/its-formats.md §2.3 MAPD V=1, MAPTI/MAPI"
        case .guestReconfigured: "Documentation/its-formats.md §1.8, §2.3 INV/INVALL"
        case .pendingRaised: "Documentation/its-formats.md §1.8"
        case .consistent: "every view agrees"
        }
    }

    /// What it means for the guest.
    public var meaning: String {
        switch self {
        case .lost:
            "the driver, debugfs, the queue's last command or the earlier snapshot (with no unmapping command since) expects the route; the tables lack it or point it elsewhere: its MSIs are dropped or land on the wrong vCPU"
        case .stale:
            "the tables hold a route the queue unmapped (MAPD V=0 / DISCARD) and the driver freed: restore would resurrect it"
        case .pendingLost:
            "an LPI pending before is not pending after, and offline nothing shows it was delivered: it may have been lost"
        case .unexplained:
            "the views disagree and no evidence decides; the evidence says which views disagree"
        case .remapped:
            "the guest unmapped the device and mapped it again: new ITT or new LPIs (both ITTs are given)"
        case .guestUnmapped:
            "the tables lack the route and the guest unmapped it (MAPD V=0 / DISCARD in the queue, or the driver freed it)"
        case .guestMoved:
            "the route's collection or vCPU changed and the queue's MOVI/MAPC or the driver's col_map explains it"
        case .guestMapped:
            "a route the earlier snapshot lacked, mapped by the guest (MAPTI/MAPI in the queue, or held by the driver)"
        case .guestReconfigured:
            "the LPI's enable bit or priority changed and the queue holds the INV/INVALL that made the ITS read it"
        case .pendingRaised:
            "an LPI became pending: an interrupt the guest has not taken yet"
        case .consistent:
            "every view agrees (printed only when asked)"
        }
    }
}

/// One view's word on a key: structured, for JSON, and one short phrase, for text.
public struct Evidence: Sendable, Hashable {
    public enum View: String, Sendable, CaseIterable {
        case tables, driver, queue, debugfs
        case routeRows = "route-rows"
        case otherSnapshot = "other-snapshot"
    }
    public var view: View
    /// Whether the view holds the route (nil: the view says nothing about presence).
    public var holds: Bool?
    public var lpi: LPI?
    public var icid: ICID?
    public var vcpu: UInt32?
    public var ittAddress: GuestPhysicalAddress?
    public var address: GuestPhysicalAddress?
    /// Queue evidence: the command's slot, execution order, state, name and raw words.
    public var slot: Int?
    public var order: Int?
    public var state: String?
    public var command: String?
    public var words: [UInt64]?
    public var text: String

    public static func queue(_ s: QueueTrail.Step, _ why: String = "") -> Evidence {
        let c = s.command
        var e = Evidence(view: .queue, address: c.address,
                         text: "queue slot \(c.slot)\(c.state == .pending ? " (pending)" : "") \(c.name) \(c.description)\(why.isEmpty ? "" : " " + why)")
        e.slot = c.slot
        e.order = s.order
        e.state = c.state.rawValue
        e.command = c.name
        e.words = c.words
        e.icid = c.icid
        if c.opcode == 0x08, QueueTrail.valid(c) { e.ittAddress = GuestPhysicalAddress(QueueTrail.ittAddress(c)) }
        return e
    }
}

/// A route as an intent view (the driver, KVM's debugfs) expects it.
public struct ExpectedRoute: Sendable, Hashable {
    public var lpi: LPI?
    public var icid: ICID?
    public var vcpu: UInt32?
}

/// The verdict of one key, with the evidence that decided it.
public struct Judgement: Sendable {
    public var key: RouteDiff.Key
    public var itsIndex: Int
    public var verdict: Verdict
    public var evidence: [Evidence]
    /// The route in the (later) tables and in the other snapshot, when they hold it.
    public var tables: RoutingGraph.Route?
    public var before: RoutingGraph.Route?
    /// The fields that differ from the other snapshot (diff A B), or from the intent view.
    public var fields: [RouteDiff.Field]
    /// One line: the change and what decided it.
    public var summary: String
}

/// The join of every view of one snapshot on (ITS, DeviceID, EventID), and the verdicts.
public struct Verdicts: Sendable {
    /// An intent view: a name, and per ITS index the routes it expects.
    public struct IntentView: Sendable {
        public var view: Evidence.View
        public var name: String
        public var routes: [Int: [[UInt32]: ExpectedRoute]]
        /// Whether the view's word decides a verdict (the later side's intent), or is evidence
        /// only (KVM's debugfs of the earlier snapshot in `diff A B`: what KVM held then).
        public var decisive = true
        public init(view: Evidence.View, name: String, routes: [Int: [[UInt32]: ExpectedRoute]]) {
            self.view = view
            self.name = name
            self.routes = routes
        }

        /// The guest driver's records (its_device list, per-event collection).
        public static func driver(_ v: DriverView) -> IntentView {
            var out: [Int: [[UInt32]: ExpectedRoute]] = [:]
            for r in v.routes {
                out[r.its, default: [:]][[r.deviceID.rawValue, r.eventID.rawValue]] = ExpectedRoute(lpi: r.lpi, icid: r.icid, vcpu: r.cpu)
            }
            return IntentView(view: .driver, name: "driver", routes: out)
        }

        /// KVM's `vgic-its-state@…` (one ITS, index 0).
        public static func debugfs(_ v: VGICITSState) -> IntentView {
            var m: [[UInt32]: ExpectedRoute] = [:]
            for r in v.rows {
                m[[r.deviceID.rawValue, r.eventID.rawValue]] = ExpectedRoute(lpi: r.lpi, icid: r.icid,
                                                                            vcpu: r.target == 0xFFFF_FFFF ? nil : r.target)
            }
            return IntentView(view: .debugfs, name: "debugfs", routes: [0: m])
        }

        /// KVM's `vgic-state`, keyed by LPI: each row joins the key whose route in `routes` has
        /// that LPI (a row whose LPI no route has cannot be keyed; ExpectedDiff lists it).
        public static func vgicState(_ v: VGICState, routes: [RoutingGraph.Route]) -> IntentView {
            var byLPI: [UInt32: RoutingGraph.Route] = [:]
            for r in routes { byLPI[r.lpi.rawValue] = r }
            var out: [Int: [[UInt32]: ExpectedRoute]] = [:]
            for row in v.lpis {
                guard let r = byLPI[row.intid] else { continue }
                out[r.itsIndex, default: [:]][[r.deviceID.rawValue, r.eventID.rawValue]] =
                    ExpectedRoute(lpi: r.lpi, icid: nil, vcpu: row.targetVCPU < 0 ? nil : UInt32(truncatingIfNeeded: row.targetVCPU))
            }
            return IntentView(view: .debugfs, name: "vgic-state", routes: out)
        }

        /// Route rows of a JSON file (another `routes --output json`, ground truth's `interrupts`).
        public static func rows(_ rows: [ExpectedRow], name: String) -> IntentView {
            var out: [Int: [[UInt32]: ExpectedRoute]] = [:]
            for r in rows {
                guard let d = UInt32(exactly: r.deviceID), let e = UInt32(exactly: r.eventID) else { continue }
                let x = ExpectedRoute(lpi: r.lpi.flatMap { UInt32(exactly: $0) }.map { LPI($0) },
                                      icid: r.icid.flatMap { UInt32(exactly: $0) }.map { ICID($0) },
                                      vcpu: r.vcpu.flatMap { UInt32(exactly: $0) })
                out[0, default: [:]][[d, e]] = x
            }
            return IntentView(view: .routeRows, name: name, routes: out)
        }
    }

    public var judgements: [Judgement]
    public init(judgements: [Judgement]) { self.judgements = judgements }

    /// Judgements that are not `consistent`, headline first within each device.
    public var differing: [Judgement] { judgements.filter { $0.verdict != .consistent } }
    public var anyLost: Bool { judgements.contains { $0.verdict == .lost } }

    static func itsKey(_ a: Analysis, _ i: Int) -> UInt64 {
        i < a.tables.count ? (a.tables[i].registers.base?.value.rawValue ?? UInt64(i)) : UInt64(i)
    }

    /// `diff A B`: one verdict per route change of `diff`, with B's queue, and the intent views
    /// (B's driver, debugfs) where given.
    public static func judge(diff: RouteDiff, before: Analysis, after: Analysis, intents: [IntentView] = []) -> Verdicts {
        let indexes = after.queues.map(QueueIndex.init)
        var itsIndex: [UInt64: Int] = [:]
        for i in after.tables.indices { itsIndex[itsKey(after, i)] = i }
        let beforeITT = ittsByDevice(before)
        var out: [Judgement] = []
        for c in diff.changes {
            let i = itsIndex[c.key.its] ?? c.after?.itsIndex ?? c.before?.itsIndex ?? 0
            out.append(judge(key: c.key, its: i, tables: c.after, before: c.before, hadBefore: true,
                             beforeDeviceITT: beforeITT[[c.key.its, UInt64(c.key.deviceID.rawValue)]],
                             after: after, queue: i < indexes.count ? indexes[i] : QueueIndex(nil),
                             intents: intents, fields: c.fields, since: since(before, after, i)))
        }
        return Verdicts(judgements: out)
    }

    /// `check` and `diff --expected`: every key any view holds (the tables, the queue's mapped
    /// keys, each intent view), judged against the others.
    public static func judge(_ a: Analysis, intents: [IntentView] = []) -> Verdicts {
        var out: [Judgement] = []
        for i in a.tables.indices {
            let index = i < a.queues.count ? QueueIndex(a.queues[i]) : QueueIndex(nil)
            var keys: Set<[UInt32]> = []
            var byKey: [[UInt32]: RoutingGraph.Route] = [:]
            for r in a.graphs[i].routes { byKey[[r.deviceID.rawValue, r.eventID.rawValue]] = r }
            keys.formUnion(byKey.keys)
            for (d, e) in index.mappedKeys { keys.insert([d.rawValue, e.rawValue]) }
            for v in intents { keys.formUnion((v.routes[i] ?? [:]).keys) }
            for k in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                let key = RouteDiff.Key(its: itsKey(a, i), deviceID: DeviceID(k[0]), eventID: EventID(k[1]))
                out.append(judge(key: key, its: i, tables: byKey[k], before: nil, hadBefore: false, beforeDeviceITT: nil,
                                 after: a, queue: index, intents: intents, fields: []))
            }
        }
        return Verdicts(judgements: out)
    }

    /// The commands B's ring holds that A's did not yet: the slots from A's GITS_CWRITER up to
    /// B's, when both snapshots have the same queue (nil otherwise; a ring that wrapped in between
    /// cannot be told from one that did not, which the text says).
    static func since(_ a: Analysis, _ b: Analysis, _ i: Int) -> (from: Int, to: Int, slots: Int)? {
        guard i < a.queues.count, i < b.queues.count, let qa = a.queues[i], let qb = b.queues[i], qa.base == qb.base, qa.slots == qb.slots else { return nil }
        return (qa.writeSlot, qb.writeSlot, qb.slots)
    }

    static func isSince(_ s: QueueTrail.Step, _ since: (from: Int, to: Int, slots: Int)?) -> Bool {
        guard let since else { return false }
        let n = (since.to - since.from + since.slots) % max(1, since.slots)
        return (s.command.slot - since.from + since.slots) % max(1, since.slots) < n
    }

    static func ittsByDevice(_ a: Analysis) -> [[UInt64]: GuestPhysicalAddress] {
        var out: [[UInt64]: GuestPhysicalAddress] = [:]
        for (i, g) in a.graphs.enumerated() {
            for r in g.routes { out[[itsKey(a, i), UInt64(r.deviceID.rawValue)]] = r.ittAddress }
        }
        return out
    }

    static func route(_ r: RoutingGraph.Route) -> String { "LPI \(r.lpi) → ICID \(r.icid) → vCPU \(r.vcpu.map(String.init) ?? "-")" }

    // swiftlint:disable:next function_body_length cyclomatic_complexity
    static func judge(key: RouteDiff.Key, its i: Int, tables t: RoutingGraph.Route?, before p: RoutingGraph.Route?, hadBefore: Bool,
                      beforeDeviceITT: GuestPhysicalAddress?, after: Analysis, queue: QueueIndex, intents: [IntentView],
                      fields: [RouteDiff.Field], since: (from: Int, to: Int, slots: Int)? = nil) -> Judgement
    {
        let k = [key.deviceID.rawValue, key.eventID.rawValue]
        let trail = queue.trail(key.deviceID, key.eventID, icids: [t?.icid, p?.icid].compactMap { $0 })
        var evidence: [Evidence] = []
        var fields = fields

        // The tables' and the other snapshot's word.
        if let t {
            evidence.append(Evidence(view: .tables, holds: true, lpi: t.lpi, icid: t.icid, vcpu: t.vcpu, ittAddress: t.ittAddress,
                                     address: t.iteAddress, text: "tables: \(route(t)), ITT \(t.ittAddress)"))
        } else {
            evidence.append(Evidence(view: .tables, holds: false, text: "tables: no live ITE"))
        }
        if hadBefore {
            if let p {
                evidence.append(Evidence(view: .otherSnapshot, holds: true, lpi: p.lpi, icid: p.icid, vcpu: p.vcpu, ittAddress: p.ittAddress,
                                         address: p.iteAddress, text: "before: \(route(p)), ITT \(p.ittAddress)"))
            } else {
                evidence.append(Evidence(view: .otherSnapshot, holds: false, text: "before: absent"))
            }
        }
        // The intent views that are present: who holds the key, who does not.
        var holders: [(IntentView, ExpectedRoute)] = []
        var freers: [IntentView] = []
        for v in intents {
            if let e = v.routes[i]?[k] {
                if v.decisive { holders.append((v, e)) }
                // Only what the view says: vgic-state has no ICID, route rows may lack fields.
                let said = [e.lpi.map { "LPI \($0)" }, e.icid.map { "ICID \($0)" }, e.vcpu.map { "vCPU \($0)" }].compactMap { $0 }
                evidence.append(Evidence(view: v.view, holds: true, lpi: e.lpi, icid: e.icid, vcpu: e.vcpu,
                                         text: "\(v.name) holds it" + (said.isEmpty ? "" : ": " + said.joined(separator: ", "))))
            } else {
                if v.decisive { freers.append(v) }
                evidence.append(Evidence(view: v.view, holds: false, text: "\(v.name) does not hold it"))
            }
        }

        func done(_ v: Verdict, _ more: [Evidence] = [], _ what: String) -> Judgement {
            let ev = evidence + more
            let line = what + " — " + ev.filter { $0.view != .tables && $0.view != .otherSnapshot }.map(\.text).joined(separator: "; ")
            return Judgement(key: key, itsIndex: i, verdict: v, evidence: ev, tables: t, before: p, fields: fields,
                             summary: ev.count > (hadBefore ? 2 : 1) ? line : what)
        }
        let pendingEvidence = trail.pending.map { Evidence.queue($0, "(not processed: the tables predate it)") }

        guard let t else {
            let what = p.map { "removed (was \(route($0)))" } ?? "missing from the tables"
            if let u = trail.unmappedBy {
                return holders.isEmpty ? done(.guestUnmapped, [.queue(u)], what)
                                       : done(.unexplained, [.queue(u)] + pendingEvidence, what + " after the queue unmapped it")
            }
            if !holders.isEmpty {
                return done(.lost, trail.mappedBy.map { [.queue($0, "(never unmapped since)")] } ?? [], what)
            }
            if let m = trail.mappedBy {
                return done(.lost, [.queue(m, "(never unmapped since)")] + pendingEvidence, what)
            }
            if p != nil {
                if !freers.isEmpty { return done(.guestUnmapped, pendingEvidence, what) }
                if queue.queue != nil {
                    return done(.lost, [Evidence(view: .queue, holds: nil, text: "queue: no MAPD V=0 or DISCARD for it in the ring")], what)
                }
            }
            return done(.unexplained, pendingEvidence, what)
        }

        // The tables hold it.
        let what: String
        if let p { what = fields.isEmpty ? "unchanged" : describe(p, t, fields) } else { what = hadBefore ? "added: \(route(t))" : route(t) }
        if let u = trail.unmappedBy {
            if holders.isEmpty { return done(.stale, [.queue(u)], what + ": live after its unmapping") }
            return done(.unexplained, [.queue(u)], what + ": live after the queue unmapped it")
        }
        // Against each intent view that holds it: LPI and target.
        for (v, e) in holders {
            var diff: [RouteDiff.Field] = []
            if let l = e.lpi, l != t.lpi { diff.append(.lpi) }
            if let c = e.icid, c != t.icid { diff.append(.icid) }
            if let c = e.vcpu, c != t.vcpu { diff.append(.vcpu) }
            if !diff.isEmpty {
                if !hadBefore { fields = diff }
                // The queue's last word agreeing with the tables (its MAPTI/MOVI, and the MAPC of
                // the collection) is evidence against the intent view: nothing decides then.
                if let m = trail.mappedBy, trail.lpi == t.lpi, trail.icid == t.icid,
                   trail.mapc(t.icid).map({ QueueTrail.rdBase($0.command) == t.target }) ?? true {
                    return done(.unexplained, [.queue(trail.icidBy ?? m, "(agrees with the tables)")],
                                what + ": another \(diff.map(\.rawValue).joined(separator: " and ")) in \(v.name), the queue's in the tables")
                }
                return done(.lost, [], what + ": another \(diff.map(\.rawValue).joined(separator: " and ")) in \(v.name)")
            }
        }
        // Against the queue's last word.
        if let m = trail.mappedBy, let l = trail.lpi, l != t.lpi {
            return done(.lost, [.queue(m, "(the queue's last mapping)")], what + ": the queue mapped LPI \(l)")
        }
        if let c = trail.icid, c != t.icid, let by = trail.icidBy {
            return done(.lost, [.queue(by, "(the queue's last word)")], what + ": the queue put it in ICID \(c)")
        }
        if let mapc = trail.mapc(t.icid), let target = t.target, QueueTrail.rdBase(mapc.command) != target {
            return done(.lost, [.queue(mapc, "(the queue's last MAPC)")],
                        what + ": collection \(t.icid) targets \(target) in the table, RDbase \(QueueTrail.rdBase(mapc.command)) in the queue")
        }
        if !freers.isEmpty && holders.isEmpty {
            return done(.unexplained, trail.mappedBy.map { [.queue($0)] } ?? [], what + ": only in the tables")
        }
        guard hadBefore else { return done(.consistent, [], what) }
        guard let p else {
            if let old = beforeDeviceITT, old != t.ittAddress {
                return done(.remapped, remapEvidence(trail), what + ": ITT \(old) → \(t.ittAddress)")
            }
            if let m = trail.mappedBy { return done(.guestMapped, [.queue(m)], what) }
            if !holders.isEmpty { return done(.guestMapped, [], what) }
            return done(.unexplained, pendingEvidence, what + ": neither the queue nor an intent view maps it")
        }
        if p.ittAddress != t.ittAddress {
            return done(.remapped, remapEvidence(trail), what + ": ITT \(p.ittAddress) → \(t.ittAddress)")
        }
        if p.lpi != t.lpi {
            return done(.remapped, (trail.mappedBy.map { [.queue($0)] } ?? []), what)
        }
        if p.icid != t.icid || p.vcpu != t.vcpu {
            if p.icid != t.icid, let by = trail.icidBy, trail.icid == t.icid { return done(.guestMoved, [.queue(by)], what) }
            if p.icid == t.icid, let mapc = trail.mapc(t.icid), t.target.map({ QueueTrail.rdBase(mapc.command) == $0 }) == true {
                return done(.guestMoved, [.queue(mapc)], what)
            }
            if !holders.isEmpty { return done(.guestMoved, [], what) }
            return done(.unexplained, pendingEvidence, what + ": no MOVI or MAPC in the queue explains it")
        }
        if fields.contains(.enabled) || fields.contains(.priority) {
            // Only an INV/INVALL issued after the earlier snapshot explains it (Linux sends INVALL
            // for every collection at boot).
            let inv = trail.processed.last {
                ($0.command.opcode == 0x0C || ($0.command.opcode == 0x0D && $0.command.icid == t.icid)) && isSince($0, since)
            }
            if let inv { return done(.guestReconfigured, [.queue(inv, "(since the earlier snapshot)")], what) }
            return done(.unexplained, [], what + ": no INV/INVALL in the queue since the earlier snapshot")
        }
        if p.pending == true, t.pending == false { return done(.pendingLost, [], what) }
        if fields.contains(.pending) { return done(.pendingRaised, [], what) }
        return done(.consistent, [], what)
    }

    static func remapEvidence(_ trail: QueueTrail) -> [Evidence] {
        [trail.lastUnmap, trail.lastMapValid, trail.mappedBy].compactMap { $0 }.map { Evidence.queue($0) }
    }

    static func describe(_ a: RoutingGraph.Route, _ b: RoutingGraph.Route, _ fields: [RouteDiff.Field]) -> String {
        func o<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "-" }
        func yn(_ v: Bool?) -> String { v.map { $0 ? "yes" : "no" } ?? "-" }
        return fields.map { f -> String in
            switch f {
            case .lpi: "LPI \(a.lpi) → \(b.lpi)"
            case .icid: "ICID \(a.icid) → \(b.icid)"
            case .vcpu: "vCPU \(o(a.vcpu)) → \(o(b.vcpu))"
            case .enabled: "enabled \(yn(a.enabled)) → \(yn(b.enabled))"
            case .priority: "priority \(o(a.priority)) → \(o(b.priority))"
            case .pending: "pending \(yn(a.pending)) → \(yn(b.pending))"
            }
        }.joined(separator: ", ")
    }
}
