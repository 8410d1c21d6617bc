import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The registers decoded, and every table entry: guest PA, raw value, fields, status.")

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard output.output != .dot else { throw ValidationError("tables has no dot output; use text or json") }
    }

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks, snapshot: input.snapshot)
        let a = try session.analyse(input)
        if output.output == .json { emit(json(session, a).render()) } else { emit(text(session, a)) }
    }

    static func fields(_ layout: BitLayout, _ raw: UInt64) -> String {
        layout.decode(raw).map { "\($0.name)=\(hex($0.value))" }.joined(separator: " ")
    }

    func text(_ session: Session, _ a: Session.Analysis) -> String {
        var s = ""
        for l in session.inputLines { s += "input: \(l)\n" }
        for t in a.tables {
            s += "\nITS \(t.itsIndex): \(t.format.label) (\(t.formatReason))\n"
            var rt = TextTable(header: ["REGISTER", "VALUE", "FIELDS"])
            for r in Render.registers(t.registers) {
                rt.rows.append([r.name, hex(r.value), r.layout.map { Self.fields($0, r.value) } ?? ""])
            }
            s += rt.render(indent: "  ")
            for (name, g) in [("device table", t.deviceTable), ("collection table", t.collectionTable)] {
                guard let g else { s += "  \(name): none\n"; continue }
                s += "  \(name): GITS_BASER\(g.baserIndex), \(g.indirect ? "two-level" : "flat") at \(g.base), \(g.tableBytes) bytes, \(g.pageSize / 1024) KiB pages, \(g.entrySize)-byte entries, IDs below \(g.reachableIDs)\n"
            }
            if !t.deviceLevel1.isEmpty {
                s += "\n  device table level 1\n"
                var lt = TextTable(header: ["INDEX", "ADDRESS", "RAW", "LEVEL-2 PAGE"], rightAligned: [0])
                for l in t.deviceLevel1 {
                    lt.rows.append([String(l.index), l.address.description, hex64(l.entry.raw), l.entry.level2Address.description])
                }
                s += lt.render(indent: "  ")
            }
            s += "\n  collections (\(t.format.collectionEntryLayout.name), \(t.format.collectionEntryLayout.source))\n"
            var ct = TextTable(header: ["ICID", "ADDRESS", "RAW", "STATUS", "FIELDS"], rightAligned: [0])
            for c in t.collections {
                ct.rows.append([String(c.icid.rawValue), c.address.description, hex64(c.cte.raw), c.status.rawValue,
                                Self.fields(t.format.collectionEntryLayout, c.cte.raw)])
            }
            s += ct.render(indent: "  ")
            s += "\n  devices (\(t.format.deviceEntryLayout.name), \(t.format.deviceEntryLayout.source)) and their ITTs\n"
            for d in t.devices {
                s += "  DeviceID \(d.deviceID) (\(d.deviceID.rawValue)) DTE at \(d.address) = \(hex64(d.dte.raw)) [\(d.status.rawValue)] \(Self.fields(t.format.deviceEntryLayout, d.dte.raw))\n"
                s += "    ITT \(d.ittExtent) (\(d.ittEntries) entries)\n"
                var it = TextTable(header: ["EVENTID", "ADDRESS", "RAW", "STATUS", "FIELDS"], rightAligned: [0])
                for e in d.itt {
                    let raw = zip(t.format.iteLayouts, e.ite.raw).map { $0.byteCount == 4 ? hex($1) : hex64($1) }.joined(separator: " ")
                    let f = zip(t.format.iteLayouts, e.ite.raw).map { Self.fields($0, $1) }.joined(separator: " ")
                    it.rows.append([String(e.eventID.rawValue), e.address.description, raw, e.status.rawValue, f])
                }
                if !d.itt.isEmpty { s += it.render(indent: "    ") }
            }
        }
        s += "\n" + Render.findingsText(a.findings)
        return s
    }

    func json(_ session: Session, _ a: Session.Analysis) -> JSONValue {
        func geometry(_ g: TableGeometry?) -> JSONValue {
            .optional(g) { g in
                .object([
                    "baser": .int(Int64(g.baserIndex)), "address": .hexString(g.base.rawValue),
                    "indirect": .bool(g.indirect), "pageSize": .uint(g.pageSize), "entrySize": .uint(g.entrySize),
                    "bytes": .uint(g.tableBytes), "reachableIDs": .uint(g.reachableIDs),
                ])
            }
        }
        func fieldsJSON(_ layout: BitLayout, _ raw: UInt64) -> JSONValue {
            .object(Dictionary(layout.decode(raw).map { ($0.name, JSONValue.uint($0.value)) }, uniquingKeysWith: { a, _ in a }))
        }
        return .object([
            "schemaVersion": .int(1), "command": .string("tables"),
            "inputs": Routes.inputsJSON(session),
            "its": .array(a.tables.map { t in
                .object([
                    "index": .int(Int64(t.itsIndex)), "format": .string(t.format.rawValue),
                    "formatReason": .string(t.formatReason), "registers": Render.registersJSON(t.registers),
                    "deviceTable": geometry(t.deviceTable), "collectionTable": geometry(t.collectionTable),
                    "deviceLevel1": .array(t.deviceLevel1.map {
                        .object(["index": .uint($0.index), "address": .hexString($0.address.rawValue),
                                 "raw": .hexString($0.entry.raw), "level2": .hexString($0.entry.level2Address.rawValue)])
                    }),
                    "collections": .array(t.collections.map { c in
                        .object(["icid": .uint(UInt64(c.icid.rawValue)), "address": .hexString(c.address.rawValue),
                                 "raw": .hexString(c.cte.raw), "status": .string(c.status.rawValue),
                                 "fields": fieldsJSON(t.format.collectionEntryLayout, c.cte.raw)])
                    }),
                    "devices": .array(t.devices.map { d in
                        .object([
                            "deviceID": .uint(UInt64(d.deviceID.rawValue)), "address": .hexString(d.address.rawValue),
                            "raw": .hexString(d.dte.raw), "status": .string(d.status.rawValue),
                            "fields": fieldsJSON(t.format.deviceEntryLayout, d.dte.raw),
                            "ittAddress": .hexString(d.dte.ittAddress.rawValue), "ittEntries": .uint(d.ittEntries),
                            "ites": .array(d.itt.map { e in
                                .object([
                                    "eventID": .uint(UInt64(e.eventID.rawValue)), "address": .hexString(e.address.rawValue),
                                    "raw": .array(e.ite.raw.map { .hexString($0) }), "status": .string(e.status.rawValue),
                                    "lpi": .uint(UInt64(e.ite.lpi.rawValue)), "icid": .uint(UInt64(e.ite.icid.rawValue)),
                                ])
                            }),
                        ])
                    }),
                ])
            }),
            "findings": .array(a.findings.map(Render.findingJSON)),
        ])
    }
}
