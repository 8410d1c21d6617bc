import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

func yesNo(_ b: Bool?) -> String { b.map { $0 ? "yes" : "no" } ?? "-" }
func opt<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "-" }

enum Render {
    /// Every known register of one ITS: name, value, where it came from, its field layout.
    static func registers(_ its: ITSRegisterState) -> [(name: String, value: UInt64, source: String, layout: BitLayout?)] {
        ITSRegister.allCases.compactMap { r in its[r].map { (r.name, $0.value, $0.sourceText, r.layout) } }
    }

    static func registerRows(_ its: ITSRegisterState) -> [(String, UInt64, String)] {
        registers(its).map { ($0.name, $0.value, $0.source) }
    }

    static func registersJSON(_ its: ITSRegisterState) -> JSONValue { RegisterJSON.its(its) }

    static func redistributorsJSON(_ rds: [RedistributorState]) -> JSONValue { RegisterJSON.redistributors(rds) }

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
            for p in ITSRegister.allCases.compactMap({ its[$0]?.provenance }) where !origins.contains(p.origin) {
                origins.append(p.origin)
            }
        }
        for rd in r.redistributors {
            for p in [rd[.propbaser]?.provenance, rd[.pendbaser]?.provenance].compactMap({ $0 }) where !origins.contains(p.origin) {
                origins.append(p.origin)
            }
        }
        return "registers from: " + (origins.isEmpty ? "nowhere" : origins.joined(separator: "; ")) + "\n"
    }

    static func freshnessText(_ a: Analysis) -> String {
        var s = ""
        for (i, f) in a.freshness.enumerated() {
            s += "freshness (ITS \(i)): tables \(f.tables)\n  command queue: \(f.queue)\n"
            for c in f.caveats { s += "  caveat: \(c)\n" }
        }
        return s
    }

    static func freshnessJSON(_ a: Analysis) -> JSONValue {
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
