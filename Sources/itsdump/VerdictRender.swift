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
