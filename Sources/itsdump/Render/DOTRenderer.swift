import ITSAnalysis
import ITSLayout

/// A Graphviz graph: `routes` (devices → events/LPIs → vCPUs) and `diff A B` (the verdicts).
struct DOTRenderer: Renderer {
    func routes(_ session: Session, _ a: Analysis, _ names: DeviceNames) -> String? { RouteDOT.routes(a, names: names) }
    func diff(_ r: DiffReport) -> String? { RouteDOT.verdicts(r.verdicts, names: r.names) }
}

/// Graphviz for routes and verdicts: one cluster per device labelled with its PCI address and
/// name, one node per event in EventID order (event → LPI, coloured by state), and the targets
/// on the right — ICID and vCPU merged into one node when every collection targets the vCPU of
/// its own number (Linux's ICID = CPU), otherwise ICID diamonds → vCPU octagons.
enum RouteDOT {
    /// Colours of the vCPU edges, so that the lines into one vCPU read as one bundle.
    static let palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]

    static func quote(_ s: String) -> String {
        // Guest strings reach here escaped (no backslash of the guest's): only quotes need care.
        "\"" + s.map { $0 == "\"" ? "\\\"" : String($0) }.joined() + "\""
    }

    static func header() -> String {
        "digraph its {\n  rankdir=LR;\n  ranksep=1.2;\n  nodesep=0.15;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n  edge [arrowsize=0.6];\n"
    }

    static func deviceLabel(_ its: Int, _ d: DeviceID, _ name: DeviceNames.Name) -> String {
        var l = (name.bdf ?? "DeviceID \(d)") + (name.device.map { " " + $0 } ?? "")
        l += "\\nDeviceID \(d)" + (its == 0 ? "" : ", ITS \(its)")
        return l
    }

    /// Whether every route's collection targets the vCPU of its own number.
    static func identity(_ routes: [RoutingGraph.Route]) -> Bool {
        routes.allSatisfy { $0.vcpu == nil || $0.vcpu == $0.icid.rawValue }
    }

    static func target(_ r: RoutingGraph.Route, merged: Bool, nodes: inout [String: String], edges: inout [String], from node: String,
                       port: String, style: String = "") {
        let from = quote(node) + ":" + quote(port) + ":e"
        let colour = r.vcpu.map { palette[Int($0) % palette.count] } ?? "red"
        let vcpu = r.vcpu.map { "vcpu_\($0)" } ?? "unrouted"
        nodes[vcpu] = r.vcpu.map { v in "label=\"vCPU \(v)\(merged ? "\\n(ICID \(v))" : "")\", shape=octagon, color=\"\(colour)\", penwidth=2" }
            ?? "label=\"no vCPU\", shape=octagon, color=red"
        if merged {
            edges.append("  \(from) -> \(quote(vcpu)) [color=\"\(colour)\"\(style)];")
        } else {
            let col = "its\(r.itsIndex)_icid_\(r.icid.rawValue)"
            nodes[col] = "label=\"ICID \(r.icid)\", shape=diamond"
            edges.append("  \(from) -> \(quote(col)) [color=\"\(colour)\"\(style)];")
            edges.append("  \(quote(col)) -> \(quote(vcpu)) [color=\"\(colour)\"];")
        }
    }

    /// One row of a device's table (an HTML-like label keeps the events in EventID order).
    static func cell(port: String, text: String, fill: String, red: Bool) -> String {
        "<TR><TD PORT=\"\(port)\" ALIGN=\"LEFT\" BGCOLOR=\"\(fill)\"\(red ? " COLOR=\"red\" BORDER=\"3\"" : "")>\(html(text))</TD></TR>"
    }

    static func table(_ rows: [String]) -> String {
        "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"4\">" + rows.joined() + "</TABLE>"
    }

    /// Guest strings reach here with control bytes escaped; HTML labels need &, < and > too.
    static func html(_ s: String) -> String {
        s.map { c -> String in
            switch c {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            default: String(c)
            }
        }.joined()
    }

    static func finish(_ s: String, nodes: [String: String], edges: [String]) -> String {
        var s = s
        for (k, a) in nodes.sorted(by: { $0.key < $1.key }) { s += "  \(quote(k)) [\(a)];\n" }
        var seen: Set<String> = []
        for e in edges where seen.insert(e).inserted { s += e + "\n" }
        return s + "}\n"
    }

    /// `routes --output dot`. `findingLPIs`: LPIs a finding names (red border).
    static func routes(_ a: Analysis, names: DeviceNames) -> String {
        var s = header()
        let merged = identity(a.routes)
        let findingKeys = Set(a.findings.compactMap { f in f.deviceID.map { [$0.rawValue, f.eventID?.rawValue ?? .max] } })
        var nodes: [String: String] = [:], edges: [String] = []
        var byDevice: [[Int]: [RoutingGraph.Route]] = [:]
        for r in a.routes { byDevice[[r.itsIndex, Int(r.deviceID.rawValue)], default: []].append(r) }
        for key in byDevice.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let rs = (byDevice[key] ?? []).sorted { $0.eventID < $1.eventID }
            guard let first = rs.first else { continue }
            s += "  subgraph \(quote("cluster_its\(key[0])_dev_\(key[1])")) {\n    label=\(quote(deviceLabel(key[0], first.deviceID, names.name(first))));\n    style=rounded; color=\"#555555\";\n"
            let node = "its\(key[0])_dev\(key[1])"
            var rows: [String] = []
            for r in rs {
                let n = names.name(r)
                var label = "ev \(r.eventID) → LPI \(r.lpi)"
                if let irq = n.irq { label += " · irq \(irq) \(n.name ?? "")" }
                let fill = r.enabled == false ? "#d9d9d9" : r.pending == true ? "#ffd27f" : "white"
                let finding = findingKeys.contains([r.deviceID.rawValue, r.eventID.rawValue]) || findingKeys.contains([r.deviceID.rawValue, .max])
                rows.append(cell(port: "e\(r.eventID.rawValue)", text: label, fill: fill, red: finding))
                target(r, merged: merged, nodes: &nodes, edges: &edges, from: node, port: "e\(r.eventID.rawValue)")
            }
            s += "    \(quote(node)) [shape=plain, label=<\(table(rows))>];\n  }\n"
        }
        s += "  legend [shape=plaintext, label=\"white: enabled · grey: disabled · orange: pending · red border: a finding\\nICID and vCPU \(merged ? "merged (every ICID n targets vCPU n)" : "separate")\"];\n"
        return finish(s, nodes: nodes, edges: edges)
    }

    /// `diff A B --output dot`: the verdicts; lost in red, guest-initiated in grey, added in
    /// green; the old target dashed, the new one solid.
    static func verdicts(_ v: Verdicts, names: DeviceNames) -> String {
        var s = header()
        let routes = v.judgements.flatMap { [$0.tables, $0.before].compactMap { $0 } }
        let merged = identity(routes)
        var nodes: [String: String] = [:], edges: [String] = []
        var byDevice: [[UInt64]: [Judgement]] = [:]
        for j in v.differing { byDevice[[j.key.its, UInt64(j.key.deviceID.rawValue)], default: []].append(j) }
        for key in byDevice.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let js = byDevice[key] ?? []
            guard let any = js.first.flatMap({ $0.tables ?? $0.before }) else { continue }
            s += "  subgraph \(quote("cluster_\(key[0])_dev_\(key[1])")) {\n    label=\(quote(deviceLabel(any.itsIndex, any.deviceID, names.name(any))));\n    style=rounded; color=\"#555555\";\n"
            let node = "v\(key[0])_dev\(key[1])"
            var rows: [String] = []
            for j in js {
                let colour: String = switch j.verdict {
                case .lost, .stale: "#ff9999"
                case .guestMapped: "#b3e6b3"
                case .pendingLost, .unexplained: "#ffd27f"
                default: "#e0e0e0"
                }
                let change = j.before.map { b in j.tables.map { t in "LPI \(b.lpi)→\(t.lpi), vCPU \(opt(b.vcpu))→\(opt(t.vcpu))" } ?? "was LPI \(b.lpi), vCPU \(opt(b.vcpu))" }
                    ?? j.tables.map { "LPI \($0.lpi), vCPU \(opt($0.vcpu))" } ?? ""
                let port = "e\(j.key.eventID.rawValue)"
                rows.append(cell(port: port, text: "\(j.verdict.rawValue) · ev \(j.key.eventID): \(change)", fill: colour, red: j.verdict == .lost))
                if let t = j.tables { target(t, merged: merged, nodes: &nodes, edges: &edges, from: node, port: port) }
                if let b = j.before, b.vcpu != j.tables?.vcpu || j.tables == nil {
                    target(b, merged: merged, nodes: &nodes, edges: &edges, from: node, port: port, style: ", style=dashed")
                }
            }
            s += "    \(quote(node)) [shape=plain, label=<\(table(rows))>];\n  }\n"
        }
        s += "  legend [shape=plaintext, label=\"red: lost/stale · grey: the guest's own change · green: added by the guest · orange: unexplained/pending-lost\\nsolid: target after · dashed: target before\"];\n"
        return finish(s, nodes: nodes, edges: edges)
    }
}
