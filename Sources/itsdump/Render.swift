import CoreDumpReader
import ITSLayout

/// Aligned text columns for people.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    func render(indent: String = "") -> String {
        // Cells can hold guest strings (RAM block, section and device names): one line each.
        let rows = rows.map { $0.map { TerminalText.escape($0) } }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, c) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                parts.append(rightAligned.contains(i) ? pad + c : (i == cells.count - 1 ? c : c + pad))
            }
            var line = indent + parts.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "-" }
func opt<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "-" }

enum Render {
    /// Every known register of one ITS: name, value, where it came from, its field layout.
    static func registers(_ its: ITSRegisterState) -> [(name: String, value: UInt64, source: String, layout: BitLayout?)] {
        var rows: [(String, UInt64, String, BitLayout?)] = []
        if let v = its.base { rows.append(("base", v.value.rawValue, v.sourceText, nil)) }
        if let v = its.ctlr { rows.append(("GITS_CTLR", v.value.rawValue, v.sourceText, GITSCTLR.layout)) }
        if let v = its.iidr { rows.append(("GITS_IIDR", v.value.rawValue, v.sourceText, GITSIIDR.layout)) }
        if let v = its.typer { rows.append(("GITS_TYPER", v.value.rawValue, v.sourceText, GITSTyper.layout)) }
        if let v = its.cbaser { rows.append(("GITS_CBASER", v.value.rawValue, v.sourceText, GITSCBaser.layout)) }
        if let v = its.cwriter { rows.append(("GITS_CWRITER", v.value.rawValue, v.sourceText, GITSCommandOffset.writerLayout)) }
        if let v = its.creadr { rows.append(("GITS_CREADR", v.value.rawValue, v.sourceText, GITSCommandOffset.readerLayout)) }
        for (n, b) in its.baser.enumerated() {
            if let b { rows.append(("GITS_BASER\(n)", b.value.rawValue, b.sourceText, GITSBaser.layout)) }
        }
        return rows
    }

    static func registerRows(_ its: ITSRegisterState) -> [(String, UInt64, String)] {
        registers(its).map { ($0.name, $0.value, $0.source) }
    }

    static func registersJSON(_ its: ITSRegisterState) -> JSONValue {
        func v<T>(_ s: Sourced<T>?, _ raw: (T) -> UInt64) -> JSONValue {
            guard let s else { return .null }
            return .object(["value": .hexString(raw(s.value)), "source": .string(s.sourceText)])
        }
        return .object([
            "base": v(its.base) { $0.rawValue },
            "ctlr": v(its.ctlr) { $0.rawValue }, "iidr": v(its.iidr) { $0.rawValue },
            "typer": v(its.typer) { $0.rawValue }, "cbaser": v(its.cbaser) { $0.rawValue },
            "cwriter": v(its.cwriter) { $0.rawValue }, "creadr": v(its.creadr) { $0.rawValue },
            "baser": .array(its.baser.map { v($0) { $0.rawValue } }),
        ])
    }

    static func redistributorsJSON(_ rds: [RedistributorState]) -> JSONValue {
        .array(rds.map { r in
            func v<T>(_ s: Sourced<T>?, _ raw: (T) -> UInt64) -> JSONValue {
                guard let s else { return .null }
                return .object(["value": .hexString(raw(s.value)), "source": .string(s.sourceText)])
            }
            return .object([
                "cpu": .uint(UInt64(r.cpu)), "propbaser": v(r.propbaser) { $0.rawValue },
                "pendbaser": v(r.pendbaser) { $0.rawValue }, "rdBase": v(r.rdBase) { $0.rawValue },
            ])
        })
    }

    static func findingJSON(_ f: Finding) -> JSONValue {
        .object([
            "rule": .string(f.rule), "severity": .string(f.severity.rawValue),
            "address": .optional(f.address) { .hexString($0.rawValue) },
            "deviceID": .optional(f.deviceID) { .uint(UInt64($0.rawValue)) },
            "eventID": .optional(f.eventID) { .uint(UInt64($0.rawValue)) },
            "icid": .optional(f.icid) { .uint(UInt64($0.rawValue)) },
            "lpi": .optional(f.lpi) { .uint(UInt64($0.rawValue)) },
            "message": .string(f.message),
        ])
    }

    static func routeJSON(_ r: RoutingGraph.Route) -> JSONValue {
        .object([
            "its": .int(Int64(r.itsIndex)),
            "itsBase": .optional(r.itsBase) { .hexString($0.rawValue) },
            "deviceID": .uint(UInt64(r.deviceID.rawValue)), "eventID": .uint(UInt64(r.eventID.rawValue)),
            "lpi": .uint(UInt64(r.lpi.rawValue)), "icid": .uint(UInt64(r.icid.rawValue)),
            "target": .optional(r.target) { .uint($0) },
            "vcpu": .optional(r.vcpu) { .uint(UInt64($0)) },
            "enabled": .optional(r.enabled) { .bool($0) },
            "priority": .optional(r.priority) { .uint(UInt64($0)) },
            "pending": .optional(r.pending) { .bool($0) },
            "dteAddress": .hexString(r.dteAddress.rawValue),
            "ittAddress": .hexString(r.ittAddress.rawValue),
            "iteAddress": .hexString(r.iteAddress.rawValue),
            "collectionAddress": .optional(r.collectionAddress) { .hexString($0.rawValue) },
        ])
    }

    /// One line: where the registers came from (distinct origins), for outputs that do not list them.
    static func registerOrigins(_ r: RegisterState) -> String {
        var origins: [String] = []
        for its in r.its {
            for p in [its.base?.provenance, its.ctlr?.provenance, its.iidr?.provenance, its.typer?.provenance, its.cbaser?.provenance,
                      its.cwriter?.provenance, its.creadr?.provenance].compactMap({ $0 }) + its.baser.compactMap({ $0?.provenance }) {
                if !origins.contains(p.origin) { origins.append(p.origin) }
            }
        }
        for rd in r.redistributors {
            for p in [rd.propbaser?.provenance, rd.pendbaser?.provenance].compactMap({ $0 }) where !origins.contains(p.origin) {
                origins.append(p.origin)
            }
        }
        return "registers from: " + (origins.isEmpty ? "nowhere" : origins.joined(separator: "; ")) + "\n"
    }

    static func freshnessText(_ a: Session.Analysis) -> String {
        var s = ""
        for (i, f) in a.freshness.enumerated() {
            s += "freshness (ITS \(i)): tables \(f.tables)\n  command queue: \(f.queue)\n"
            for c in f.caveats { s += "  caveat: \(c)\n" }
        }
        return s
    }

    static func freshnessJSON(_ a: Session.Analysis) -> JSONValue {
        .array(a.freshness.enumerated().map { i, f in
            .object(["its": .int(Int64(i)), "tables": .string(f.tables), "queue": .string(f.queue),
                     "caveats": .array(f.caveats.map { .string($0) })])
        })
    }

    static func findingsText(_ findings: [Finding]) -> String {
        guard !findings.isEmpty else { return "findings: none\n" }
        var t = TextTable(header: ["SEVERITY", "RULE", "ADDRESS", "MESSAGE"])
        for f in findings { t.rows.append([f.severity.rawValue, f.rule, opt(f.address), f.message]) }
        let e = findings.filter { $0.severity == .error }.count
        let w = findings.filter { $0.severity == .warning }.count
        let n = findings.count - e - w
        return "findings: \(e) error(s), \(w) warning(s), \(n) note(s)\n" + t.render(indent: "  ")
    }
}
