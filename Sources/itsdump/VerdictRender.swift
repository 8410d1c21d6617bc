import ITSAnalysis
import ITSLayout
import TextFormats

/// Verdicts as text (grouped by device, one line per key, verdict first) and JSON (one schema
/// for `diff A B`, `diff --expected` and `check`).
enum VerdictRender {
    static func deviceName(_ d: DeviceID) -> String {
        "device \(d)" + (DeviceIdentity.bdf(d).map { " \($0)" } ?? "")
    }

    static func text(_ v: Verdicts, showConsistent: Bool = false) -> String {
        let shown = v.judgements.filter { showConsistent || $0.verdict != .consistent }
        guard !shown.isEmpty else { return "verdicts: every view agrees\n" }
        var s = ""
        var device: RouteDiff.Key?
        let width = Verdict.allCases.map(\.rawValue.count).max() ?? 0
        for j in shown {
            if device?.deviceID != j.key.deviceID || device?.its != j.key.its {
                s += "\(deviceName(j.key.deviceID)) (ITS \(hex(j.key.its))):\n"
                device = j.key
            }
            let name = j.verdict.rawValue
            s += "  " + name + String(repeating: " ", count: max(0, width - name.count)) + "  event \(j.key.eventID): \(j.summary)\n"
        }
        var counts: [Verdict: Int] = [:]
        for j in shown { counts[j.verdict, default: 0] += 1 }
        s += "verdicts: " + Verdict.allCases.compactMap { c in counts[c].map { "\($0) \(c.rawValue)" } }.joined(separator: ", ")
        s += v.anyLost ? " — routes LOST\n" : "; no route lost\n"
        s += "(\(DeviceIdentity.assumption))\n"
        return s
    }

    static func evidenceJSON(_ e: Evidence) -> JSONValue {
        var o: [String: JSONValue] = ["view": .string(e.view.rawValue), "text": .string(e.text)]
        if let h = e.holds { o["holds"] = .bool(h) }
        if let x = e.lpi { o["lpi"] = .uint(UInt64(x.rawValue)) }
        if let x = e.icid { o["icid"] = .uint(UInt64(x.rawValue)) }
        if let x = e.vcpu { o["vcpu"] = .uint(UInt64(x)) }
        if let x = e.ittAddress { o["ittAddress"] = .hexString(x.rawValue) }
        if let x = e.address { o["address"] = .hexString(x.rawValue) }
        if let x = e.slot { o["slot"] = .int(Int64(x)) }
        if let x = e.order { o["order"] = .int(Int64(x)) }
        if let x = e.state { o["state"] = .string(x) }
        if let x = e.command { o["command"] = .string(x) }
        if let x = e.words { o["words"] = .array(x.map { .hexString($0) }) }
        return .object(o)
    }

    /// One key: where, the verdict, its severity, the evidence and the routes on each side.
    static func json(_ j: Judgement) -> JSONValue {
        .object([
            "its": .hexString(j.key.its), "deviceID": .uint(UInt64(j.key.deviceID.rawValue)),
            "eventID": .uint(UInt64(j.key.eventID.rawValue)),
            "bdf": .optional(DeviceIdentity.bdf(j.key.deviceID)) { .string($0) },
            "verdict": .string(j.verdict.rawValue), "severity": .string(j.verdict.severity.rawValue),
            "summary": .string(j.summary),
            "fields": .array(j.fields.map { .string($0.rawValue) }),
            "evidence": .array(j.evidence.map(evidenceJSON)),
            "tables": .optional(j.tables, Render.routeJSON), "before": .optional(j.before, Render.routeJSON),
        ])
    }

    static func table() -> [[String]] {
        Verdict.allCases.map { [$0.rawValue, $0.severity.rawValue, $0.source, $0.meaning] }
    }
}

/// explain's lookups and the per-vCPU summary, as text and JSON.
enum LookupRender {
    static func text(_ lookups: [Lookup], names: DeviceNames?) -> String {
        var s = ""
        for l in lookups {
            let bdf = DeviceIdentity.bdf(l.deviceID).map { " (\($0))" } ?? ""
            let head = "ITS \(l.its): DeviceID \(l.deviceID)\(bdf) EventID \(l.eventID.map { "\($0)" } ?? "-")"
            if l.found, let r = l.route, let n = names?.name(r), n.irq != nil {
                s += head + ": Linux irq \(opt(n.irq)) \(n.name ?? "")\n"
            } else {
                s += head + (l.found ? "\n" : ": not routed — \(l.reason ?? "")\n")
            }
            for (i, step) in l.steps.enumerated() { s += "  \(i + 1). \(step.text)\n" }
        }
        return s
    }

    static func json(_ l: Lookup, names: DeviceNames?) -> JSONValue {
        let n = l.route.flatMap { names?.name($0) }
        return .object([
            "its": .int(Int64(l.its)), "deviceID": .uint(UInt64(l.deviceID.rawValue)),
            "eventID": .optional(l.eventID) { .uint(UInt64($0.rawValue)) },
            "bdf": .optional(n?.bdf ?? DeviceIdentity.bdf(l.deviceID)) { .string($0) },
            "irq": .optional(n?.irq) { .uint(UInt64($0)) }, "name": .optional(n?.name) { .string($0) },
            "found": .bool(l.found), "reason": .optional(l.reason) { .string($0) },
            "route": .optional(l.route, Render.routeJSON),
            "steps": .array(l.steps.map { st in
                .object(["step": .string(st.step), "address": .optional(st.address) { .hexString($0.rawValue) },
                         "raw": .array(st.raw.map { .hexString($0) }), "text": .string(st.text)])
            }),
        ])
    }

    static func vcpusText(_ rows: [VCPUSummary]) -> String {
        var t = TextTable(header: ["VCPU", "LPIS", "ENABLED", "PENDING"], rightAligned: [0, 1, 2, 3])
        for r in rows { t.rows.append([r.vcpu.map(String.init) ?? "none", String(r.routed), String(r.enabled), String(r.pending)]) }
        return "per vCPU:\n" + t.render(indent: "  ")
    }

    static func vcpusJSON(_ rows: [VCPUSummary]) -> JSONValue {
        .array(rows.map { r in
            .object(["vcpu": .optional(r.vcpu) { .uint(UInt64($0)) }, "lpis": .int(Int64(r.routed)),
                     "enabled": .int(Int64(r.enabled)), "pending": .int(Int64(r.pending))])
        })
    }
}
