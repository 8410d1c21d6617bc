import CoreDumpReader
import ITSAnalysis
import ITSLayout
import TextFormats

/// The routes document, written as it is produced (issue 22: a million routes in bounded
/// memory), and the one list of a route's members that every document's route objects come
/// from (`route(_:)`, `route(_:_:)`): Documentation/schema/common.schema.json's route.
extension JSONRenderer: StreamingRenderer {
    func streamed(_ report: Report) -> ((inout ByteOutput) -> Void)? {
        guard case .routes(let session, let a, let names) = report else { return nil }
        return { out in
            var w = JSONWriter(out)
            writeRoutes(session, a, names, &w)
            out = w.out
        }
    }

    /// Members of the routes document in key order; `routes` streams, the rest are small.
    func writeRoutes(_ session: Session, _ a: Analysis, _ names: DeviceNames, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("command"); w.string("routes")
        w.key("findings"); w.value(findings(a))
        w.key("freshness"); w.value(freshness(a))
        w.key("inputs"); w.value(inputs(session))
        w.key("its"); w.value(.array(a.tables.map { its($0) }))
        w.key("names"); w.value(.array(names.notes.map { .string($0) }))
        w.key("redistributors"); w.value(RegisterJSON.redistributors(a.registers.redistributors))
        w.key("routes")
        w.beginArray()
        var tally = VCPUSummary.Tally()
        let members = Self.routeRowMembers
        names.forEachRoute(a) { r, n in
            w.element()
            w.beginObject()
            // By index: a `for m in` copy of each member retains its key and functions.
            for i in members.indices {
                w.key(members[i].quoted)
                w.scalar(members[i].value(r, n))
            }
            w.end()
            tally.add(r)
        }
        w.end()
        w.key("schemaVersion"); w.int(Int64(Self.schemaVersion))
        w.key("vcpuCount"); w.value(.optional(session.vcpuCount) { .int(Int64($0)) })
        w.key("vcpus")
        w.value(.array(tally.rows.map { r in
            .object(["vcpu": .optional(r.vcpu) { .uint(UInt64($0)) }, "lpis": .int(Int64(r.routed)),
                     "enabled": .int(Int64(r.enabled)), "pending": .int(Int64(r.pending))])
        }))
        w.end()
        w.finish()
    }

    /// One member of an object of a kind: its key and how a row gives its value.
    struct Member<Row>: Sendable {
        let key: String
        /// The key quoted once, for the million times it is written.
        let quoted: JSONWriter.Key
        let value: @Sendable (Row) -> JSONScalar
        init(_ key: String, _ value: @escaping @Sendable (Row) -> JSONScalar) {
            self.key = key
            quoted = JSONWriter.Key(key)
            self.value = value
        }
    }

    /// A route's members (README "JSON output", the schema's route), in key order.
    static let routeMembers: [Member<RoutingGraph.Route>] = [
        Member("its") { .int(Int64($0.itsIndex)) },
        Member("itsBase") { .optional($0.itsBase) { .hex($0.rawValue) } },
        Member("deviceID") { .uint(UInt64($0.deviceID.rawValue)) },
        Member("eventID") { .uint(UInt64($0.eventID.rawValue)) },
        Member("lpi") { .uint(UInt64($0.lpi.rawValue)) },
        Member("icid") { .uint(UInt64($0.icid.rawValue)) },
        Member("target") { .optional($0.target) { .uint($0) } },
        Member("vcpu") { .optional($0.vcpu) { .uint(UInt64($0)) } },
        Member("enabled") { .optional($0.enabled) { .bool($0) } },
        Member("priority") { .optional($0.priority) { .uint(UInt64($0)) } },
        Member("pending") { .optional($0.pending) { .bool($0) } },
        Member("dteAddress") { .hex($0.dteAddress.rawValue) },
        Member("ittAddress") { .hex($0.ittAddress.rawValue) },
        Member("iteAddress") { .hex($0.iteAddress.rawValue) },
        Member("collectionAddress") { .optional($0.collectionAddress) { .hex($0.rawValue) } },
    ].sorted { $0.key < $1.key }

    /// What a route row (routes) adds to a route: its device's names.
    static let nameMembers: [Member<DeviceNames.Name>] = [
        Member("bdf") { .optional($0.bdf) { .string($0) } },
        Member("bdfSource") { .optional($0.bdfSource) { .string($0) } },
        Member("device") { .optional($0.device) { .string($0) } },
        Member("irq") { .optional($0.irq) { .uint(UInt64($0)) } },
        Member("name") { .optional($0.name) { .string($0) } },
        Member("aliased") { .bool($0.aliased) },
    ]

    /// A member of a route row: the route's or its names' (the member's own function, not a
    /// closure around it: a million rows).
    struct RowMember: Sendable {
        let key: String
        let quoted: JSONWriter.Key
        let ofRoute: (@Sendable (RoutingGraph.Route) -> JSONScalar)?
        let ofName: (@Sendable (DeviceNames.Name) -> JSONScalar)?

        @inline(__always)
        func value(_ r: RoutingGraph.Route, _ n: DeviceNames.Name) -> JSONScalar {
            if let ofRoute { return ofRoute(r) }
            return ofName?(n) ?? .null
        }
    }

    /// A route row's members in key order: the route's and its names'.
    static let routeRowMembers: [RowMember] = (
        routeMembers.map { RowMember(key: $0.key, quoted: $0.quoted, ofRoute: $0.value, ofName: nil) }
            + nameMembers.map { RowMember(key: $0.key, quoted: $0.quoted, ofRoute: nil, ofName: $0.value) }
    ).sorted { $0.key < $1.key }

    func route(_ r: RoutingGraph.Route) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: Self.routeMembers.map { ($0.key, $0.value(r).json) }))
    }

    /// A route row with its device's names: `bdf`, `bdfSource`, `aliased`, `device`, `irq`, `name`.
    func route(_ r: RoutingGraph.Route, _ names: DeviceNames) -> JSONValue {
        let n = names.name(r)
        return .object(Dictionary(uniqueKeysWithValues: Self.routeRowMembers.map { ($0.key, $0.value(r, n).json) }))
    }
}
