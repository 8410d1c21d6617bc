import CoreDumpReader
import ITSAnalysis
import ITSLayout
import TextFormats

extension ExplainReport {
    /// The ITEs the query names: every (ITS, device, event) that matches, in table order.
    var matches: [(table: ITSTables, device: DeviceSlot, event: ITESlot)] {
        var out: [(ITSTables, DeviceSlot, ITESlot)] = []
        for t in analysis.tables {
            for d in t.devices {
                for e in d.itt {
                    switch query {
                    case .lpi(let lpi) where UInt64(e.ite.lpi.rawValue) == lpi: out.append((t, d, e))
                    case .event(let device, let event)
                        where UInt64(d.deviceID.rawValue) == device && UInt64(e.eventID.rawValue) == event: out.append((t, d, e))
                    default: continue
                    }
                }
            }
        }
        return out
    }
}

/// `explain --format json` and `extract --format json` (Documentation/schema/explain.schema.json,
/// extract.schema.json): the steps of one lookup as data, and what an extract holds.
extension JSONRenderer {
    func explain(_ r: ExplainReport) -> String? { explainDocument(r).render() }
    func extract(_ r: ExtractReport) -> String? { extractDocument(r).render() }

    func explainDocument(_ r: ExplainReport) -> JSONValue {
        let a = r.analysis
        var o = header("explain")
        switch r.query {
        case .lpi(let lpi): o["query"] = .object(["lpi": .uint(lpi), "deviceID": .null, "eventID": .null])
        case .event(let d, let e): o["query"] = .object(["lpi": .null, "deviceID": .uint(d), "eventID": .uint(e)])
        }
        o["matches"] = .array(r.matches.map { t, d, e in
            let f = t.format
            var m = itsIdentity(t.itsIndex, base: t.registers.base?.value.rawValue)
            m["format"] = .string(f.rawValue)
            m["deviceTable"] = .optional(t.deviceTable) { g in
                .object(["baser": .int(Int64(g.baserIndex)), "value": .hexString(g.baser.rawValue),
                         "address": .hexString(g.base.rawValue), "indirect": .bool(g.indirect), "pageSize": .uint(g.pageSize)])
            }
            m["level1"] = .optional(t.deviceTable.flatMap { g in g.indirect ? g : nil }) { g in
                let index = UInt64(d.deviceID.rawValue) / g.entriesPerPage
                let l1 = t.deviceLevel1.first { $0.index == index }
                return .object(["index": .uint(index), "address": .hexString(g.base.rawValue &+ index &* 8),
                                "raw": .optional(l1) { .hexString($0.entry.raw) },
                                "level2": .optional(l1) { .hexString($0.entry.level2Address.rawValue) }])
            }
            m["dte"] = .object(["deviceID": .uint(UInt64(d.deviceID.rawValue)), "address": .hexString(d.address.rawValue),
                                "raw": .hexString(d.dte.raw), "status": .string(d.status.rawValue),
                                "fields": Self.fields(f.deviceEntryLayout, d.dte.raw),
                                "ittAddress": .hexString(d.dte.ittAddress.rawValue), "ittEntries": .uint(d.ittEntries)])
            m["ite"] = .object(["eventID": .uint(UInt64(e.eventID.rawValue)), "address": .hexString(e.address.rawValue),
                                "raw": .array(e.ite.raw.map { .hexString($0) }), "status": .string(e.status.rawValue),
                                "lpi": .uint(UInt64(e.ite.lpi.rawValue)), "icid": .uint(UInt64(e.ite.icid.rawValue))])
            m["collection"] = .optional(t.liveCollections[e.ite.icid]) { c in
                .object(["icid": .uint(UInt64(c.icid.rawValue)), "address": .hexString(c.address.rawValue),
                         "raw": .hexString(c.cte.raw), "rdBase": .uint(UInt64(c.cte.rdBase))])
            }
            let rt = a.routes.first { $0.itsIndex == t.itsIndex && $0.deviceID == d.deviceID && $0.eventID == e.eventID }
            m["route"] = .optional(rt, route)
            return .object(m)
        })
        return .object(o)
    }

    func extractDocument(_ r: ExtractReport) -> JSONValue {
        var o = header("extract")
        o["path"] = .string(r.path)
        o["ranges"] = .int(Int64(r.ranges))
        o["bytes"] = .int(Int64(r.bytes))
        o["pages"] = .int(Int64(r.pages))
        o["notes"] = .int(Int64(r.notes))
        return .object(o)
    }
}

extension TextRenderer {
    func extract(_ r: ExtractReport) -> String? {
        "wrote \(r.path): \(r.ranges) ranges, \(r.bytes) bytes of guest memory (\(r.pages) pages), \(r.notes) notes\n"
    }
}
