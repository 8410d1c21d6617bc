import ITSAnalysis
import ITSLayout

/// A Graphviz graph: devices → LPIs → collections → vCPUs (`routes` only).
struct DOTRenderer: Renderer {
    func routes(_ session: Session, _ a: Analysis) -> String? {
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
