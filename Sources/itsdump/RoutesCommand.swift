import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The routing graph: (DeviceID, EventID) -> LPI -> collection -> vCPU.")

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks, snapshot: input.snapshot)
        let a = try session.analyse(input)
        switch output.output {
        case .json: emit(Self.json(session, a).render())
        case .dot: emit(Self.dot(a))
        case .text: emit(Self.text(session, a))
        }
    }

    static func header(_ session: Session, _ a: Session.Analysis) -> String {
        var s = ""
        for l in session.inputLines { s += "input: \(l)\n" }
        for t in a.tables {
            let base = t.registers.base.map { " at \($0.value)" } ?? ""
            s += "ITS \(t.itsIndex)\(base): \(t.format.label) (\(t.formatReason))\n"
            var rt = TextTable(header: ["REGISTER", "VALUE", "SOURCE"])
            for (name, v, src) in Render.registerRows(t.registers) { rt.rows.append([name, hex(v), src]) }
            s += rt.render(indent: "  ")
        }
        if !a.registers.redistributors.isEmpty {
            var rt = TextTable(header: ["CPU", "GICR_PROPBASER", "GICR_PENDBASER", "SOURCE"], rightAligned: [0])
            for r in a.registers.redistributors {
                rt.rows.append([String(r.cpu), opt(r.propbaser.map { hex($0.value.rawValue) }),
                                opt(r.pendbaser.map { hex($0.value.rawValue) }),
                                [r.propbaser?.provenance.origin, r.pendbaser?.provenance.origin].compactMap { $0 }
                                    .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                                    .joined(separator: "; ")])
            }
            s += rt.render(indent: "  ")
        }
        return s
    }

    static func text(_ session: Session, _ a: Session.Analysis) -> String {
        var s = header(session, a)
        var t = TextTable(header: ["ITS", "DEVICEID", "EVENTID", "LPI", "ICID", "VCPU", "ENABLED", "PRIO", "PENDING", "ITT", "ITE"],
                          rightAligned: [0, 2, 3, 4, 5])
        for r in a.routes {
            t.rows.append([String(r.itsIndex), r.deviceID.description, String(r.eventID.rawValue), String(r.lpi.rawValue),
                           String(r.icid.rawValue), opt(r.vcpu), yesNo(r.enabled),
                           opt(r.priority.map { hex(UInt64($0)) }), yesNo(r.pending),
                           r.ittAddress.description, r.iteAddress.description])
        }
        s += "\n" + t.render()
        let devices = Set(a.routes.map { "\($0.itsIndex)/\($0.deviceID.rawValue)" }).count
        s += "\n\(a.routes.count) routes on \(devices) devices\n"
        s += Render.freshnessText(a)
        s += Render.findingsText(a.findings)
        return s
    }

    static func json(_ session: Session, _ a: Session.Analysis) -> JSONValue {
        .object([
            "schemaVersion": .int(1), "command": .string("routes"),
            "inputs": inputsJSON(session),
            "its": .array(a.tables.map { t in
                .object([
                    "index": .int(Int64(t.itsIndex)), "format": .string(t.format.rawValue),
                    "formatReason": .string(t.formatReason), "registers": Render.registersJSON(t.registers),
                ])
            }),
            "redistributors": Render.redistributorsJSON(a.registers.redistributors),
            "vcpus": .optional(session.vcpuCount) { .int(Int64($0)) },
            "routes": .array(a.routes.map(Render.routeJSON)),
            "findings": .array(a.findings.map(Render.findingJSON)),
            "freshness": Render.freshnessJSON(a),
        ])
    }

    static func inputsJSON(_ session: Session) -> JSONValue {
        .array(session.dumps.map { d in
            .object(["path": .string(d.path), "kind": .string(d.kind.rawValue),
                     "vcpus": .optional(d.vcpuCount) { .int(Int64($0)) }])
        })
    }

    static func dot(_ a: Session.Analysis) -> String {
        var s = "digraph its {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
        var nodes: [String: String] = [:]
        var edges: [String] = []
        for r in a.routes {
            let p = "its\(r.itsIndex)_"
            let dev = "\(p)dev_\(r.deviceID.rawValue)", lpi = "\(p)lpi_\(r.lpi.rawValue)"
            let col = "\(p)icid_\(r.icid.rawValue)"
            nodes[dev] = "label=\"ITS \(r.itsIndex) DeviceID \(r.deviceID)\""
            nodes[lpi] = "label=\"LPI \(r.lpi)\(r.enabled == false ? " (disabled)" : "")\", shape=ellipse"
            nodes[col] = "label=\"ICID \(r.icid)\", shape=diamond"
            edges.append("  \"\(dev)\" -> \"\(lpi)\" [label=\"event \(r.eventID)\"];")
            edges.append("  \"\(lpi)\" -> \"\(col)\";")
            if let v = r.vcpu {
                nodes["vcpu_\(v)"] = "label=\"vCPU \(v)\", shape=octagon"
                edges.append("  \"\(col)\" -> \"vcpu_\(v)\";")
            } else {
                nodes["unrouted"] = "label=\"no vCPU\", shape=octagon, color=red"
                edges.append("  \"\(col)\" -> \"unrouted\" [color=red];")
            }
        }
        for (k, attributes) in nodes.sorted(by: { $0.key < $1.key }) { s += "  \"\(k)\" [\(attributes)];\n" }
        var seen: Set<String> = []
        for e in edges where seen.insert(e).inserted { s += e + "\n" }
        return s + "}\n"
    }
}
