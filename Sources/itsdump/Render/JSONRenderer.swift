import CoreDumpReader
import GuestKernel
import ITSAnalysis
import ITSLayout
import TextFormats

/// Stable JSON for scripts (README "JSON output"): sorted keys, `schemaVersion` and `command`
/// in every document, each described by Documentation/schema/COMMAND.schema.json. An ITS is
/// named the same way everywhere: `its` (its index) and `itsBase` (its frame address or null). The members several documents share (`inputs`, `its`, `redistributors`,
/// `findings`, `freshness`) are built once, below; a route's in JSONRoutes.swift, which also
/// writes the routes document as it goes.
struct JSONRenderer: Renderer {
    // Each document is a JSONValue, rendered here with sorted keys; routes is written as it goes.
    func routes(_ session: Session, _ a: Analysis, _ names: DeviceNames) -> String? {
        var w = JSONWriter()
        writeRoutes(session, a, names, &w)
        return String(decoding: w.out.bytes, as: UTF8.self)
    }
    func tables(_ session: Session, _ a: Analysis) -> String? { tablesDocument(session, a).render() }
    func check(_ session: Session, _ a: Analysis, _ v: Verdicts, _ findings: [Finding]) -> String? { checkDocument(session, a, v, findings).render() }
    func rules() -> String? { rulesDocument().render() }
    func queue(_ regs: RegisterState, _ queues: [CommandQueue], last: Int) -> String? { queueDocument(regs, queues, last: last).render() }
    func diff(_ r: DiffReport) -> String? { diffDocument(r).render() }
    func expected(_ r: ExpectedReport) -> String? { expectedDocument(r).render() }
    func explain(_ r: ExplainReport) -> String? { explainDocument(r).render() }
    func driver(_ session: Session, _ k: KernelView) -> String? { driverDocument(session, k).render() }
    func info(_ session: Session) -> String? { infoDocument(session).render() }
    func regs(_ state: RegisterState) -> String? { RegisterStateFile.document(state).render() }

    // MARK: Members shared by several documents

    /// The version of every document but the state file (`regs`, which --regs reads: 1).
    static let schemaVersion = 2

    func header(_ command: String) -> [String: JSONValue] {
        ["schemaVersion": .int(Int64(Self.schemaVersion)), "command": .string(command)]
    }

    /// `its` and `itsBase`: one ITS's identity, the same keys in every document.
    func itsIdentity(_ index: Int, base: UInt64?) -> [String: JSONValue] {
        ["its": .int(Int64(index)), "itsBase": .optional(base) { .hexString($0) }]
    }

    func itsIdentity(_ a: Analysis, index: Int) -> [String: JSONValue] {
        itsIdentity(index, base: a.tables.first { $0.itsIndex == index }?.registers.base?.value.rawValue)
    }

    /// The identity of the ITS at `base` (diffs key routes by base): its index among `tables`.
    func itsIdentity(base: UInt64, in tables: [ITSTables]) -> [String: JSONValue] {
        let index = tables.first { $0.registers.base?.value.rawValue == base }?.itsIndex
        return ["its": .optional(index) { .int(Int64($0)) }, "itsBase": .hexString(base)]
    }

    func inputs(_ session: Session) -> JSONValue {
        .array(session.dumps.map { d in
            .object(["path": .string(d.path), "kind": .string(d.kind.id), "kindName": .string(d.kind.rawValue),
                     "vcpus": .optional(d.vcpuCount) { .int(Int64($0)) }])
        })
    }

    /// One ITS: index, format and why, registers; `extra` adds a document's own members.
    func its(_ t: ITSTables, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var o: [String: JSONValue] = [
            "format": .string(t.format.rawValue),
            "formatReason": .string(t.formatReason), "registers": RegisterJSON.its(t.registers),
        ]
        for (k, v) in itsIdentity(t.itsIndex, base: t.registers.base?.value.rawValue) { o[k] = v }
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    /// A finding row, with the identity of the ITS it is about (`its` null when unknown).
    func finding(_ f: Finding, its index: Int?, base: UInt64?) -> JSONValue {
        var o: [String: JSONValue] = [
            "rule": .string(f.rule), "severity": .string(f.severity.rawValue),
            "address": .optional(f.address) { .hexString($0.rawValue) },
            "deviceID": .optional(f.deviceID) { .uint(UInt64($0.rawValue)) },
            "eventID": .optional(f.eventID) { .uint(UInt64($0.rawValue)) },
            "icid": .optional(f.icid) { .uint(UInt64($0.rawValue)) },
            "lpi": .optional(f.lpi) { .uint(UInt64($0.rawValue)) },
            "message": .string(f.message),
        ]
        o["its"] = .optional(index) { .int(Int64($0)) }
        o["itsBase"] = .optional(base) { .hexString($0) }
        return .object(o)
    }

    /// Every finding of an analysis, each with its ITS.
    /// `only`: the findings to write (the filters' choice), all of `a`'s by default.
    func findings(_ a: Analysis, only: [Finding]? = nil) -> JSONValue {
        let owner = a.itsOfFinding
        return .array((only ?? a.findings).map { f in
            let i = owner[f]
            return finding(f, its: i, base: i.flatMap { i in a.tables.first { $0.itsIndex == i }?.registers.base?.value.rawValue })
        })
    }

    /// One verdict: the key, the verdict and its severity, the one-line summary, the fields that
    /// differ, the evidence and the routes on each side (README "diff, check: verdicts").
    func verdict(_ j: Judgement) -> JSONValue {
        .object([
            "its": .hexString(j.key.its), "deviceID": .uint(UInt64(j.key.deviceID.rawValue)),
            "eventID": .uint(UInt64(j.key.eventID.rawValue)),
            "bdf": .optional(DeviceIdentity.bdf(j.key.deviceID)) { .string($0) },
            "verdict": .string(j.verdict.rawValue), "severity": .string(j.verdict.severity.rawValue),
            "summary": .string(j.summary),
            "fields": .array(j.fields.map { .string($0.rawValue) }),
            "evidence": .array(j.evidence.map(evidence)),
            "tables": .optional(j.tables, route), "before": .optional(j.before, route),
        ])
    }

    /// One view's word: only the members that apply.
    func evidence(_ e: Evidence) -> JSONValue {
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

    func verdicts(_ v: Verdicts, into o: inout [String: JSONValue]) {
        o["verdicts"] = .array(v.differing.map(verdict))
        o["lost"] = .bool(v.anyLost)
    }

    func freshness(_ a: Analysis) -> JSONValue {
        .array(a.freshness.enumerated().map { i, f in
            var o: [String: JSONValue] = [
                "tablesWrittenBy": .string(f.writer.rawValue), "queue": .string(f.queueState.rawValue),
                "pendingCommands": .optional(f.pendingCommands) { .int(Int64($0)) },
                "caveats": .array(f.caveats.map { .object(["id": .string($0.id.rawValue), "text": .string($0.text)]) }),
                "text": .object(["tables": .string(f.tables), "queue": .string(f.queue)]),
            ]
            for (k, v) in itsIdentity(a, index: i) { o[k] = v }
            return .object(o)
        })
    }

    static func fields(_ layout: BitLayout, _ raw: UInt64) -> JSONValue {
        .object(Dictionary(layout.decode(raw).map { ($0.name, JSONValue.uint($0.value)) }, uniquingKeysWith: { a, _ in a }))
    }

    // MARK: Documents

    func tablesDocument(_ session: Session, _ a: Analysis) -> JSONValue {
        func geometry(_ g: TableGeometry?) -> JSONValue {
            .optional(g) { g in
                .object([
                    "baser": .int(Int64(g.baserIndex)), "address": .hexString(g.base.rawValue),
                    "indirect": .bool(g.indirect), "pageSize": .uint(g.pageSize), "entrySize": .uint(g.entrySize),
                    "bytes": .uint(g.tableBytes), "reachableIDs": .uint(g.reachableIDs),
                ])
            }
        }
        var o = header("tables")
        o["inputs"] = inputs(session)
        o["its"] = .array(a.tables.map { t in
            its(t, [
                "deviceTable": geometry(t.deviceTable), "collectionTable": geometry(t.collectionTable),
                "deviceLevel1": .array(t.deviceLevel1.map {
                    .object(["index": .uint($0.index), "address": .hexString($0.address.rawValue),
                             "raw": .hexString($0.entry.raw), "level2": .hexString($0.entry.level2Address.rawValue)])
                }),
                "collections": .array(t.collections.map { c in
                    .object(["icid": .uint(UInt64(c.icid.rawValue)), "address": .hexString(c.address.rawValue),
                             "raw": .hexString(c.cte.raw), "status": .string(c.status.rawValue),
                             "fields": Self.fields(t.format.collectionEntryLayout, c.cte.raw)])
                }),
                "devices": .array(t.devices.map { d in
                    .object([
                        "deviceID": .uint(UInt64(d.deviceID.rawValue)), "address": .hexString(d.address.rawValue),
                        "raw": .hexString(d.dte.raw), "status": .string(d.status.rawValue),
                        "fields": Self.fields(t.format.deviceEntryLayout, d.dte.raw),
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
        })
        o["findings"] = findings(a)
        return .object(o)
    }

    func checkDocument(_ session: Session, _ a: Analysis, _ v: Verdicts, _ kept: [Finding]) -> JSONValue {
        var o = header("check")
        verdicts(v, into: &o)
        o["inputs"] = inputs(session)
        o["freshness"] = freshness(a)
        o["findings"] = findings(a, only: kept)
        o["its"] = .array(a.tables.map { its($0) })
        o["redistributors"] = RegisterJSON.redistributors(a.registers.redistributors)
        o["summary"] = .object(Dictionary(uniqueKeysWithValues: Severity.allCases.map { sev in
            (sev.rawValue, JSONValue.int(Int64(kept.filter { $0.severity == sev }.count)))
        }))
        return .object(o)
    }

    func rulesDocument() -> JSONValue {
        var o = header("check")
        o["rules"] = .array(RuleID.allCases.map { r in
            .object(["rule": .string(r.rawValue), "severity": .string(r.severity.rawValue), "source": .string(r.source), "shows": .string(r.shows)])
        })
        o["verdicts"] = .array(Verdict.allCases.map { v in
            .object(["verdict": .string(v.rawValue), "severity": .string(v.severity.rawValue), "source": .string(v.source), "meaning": .string(v.meaning)])
        })
        return .object(o)
    }

    func queueDocument(_ regs: RegisterState, _ queues: [CommandQueue], last: Int) -> JSONValue {
        var o = header("queue")
        o["queues"] = .array(queues.enumerated().map { i, q in
            var row = itsIdentity(i, base: regs.its.indices.contains(i) ? regs.its[i].base?.value.rawValue : nil)
            row["queueBase"] = .hexString(q.base.rawValue)
            row["slots"] = .int(Int64(q.slots))
            row["readSlot"] = .int(Int64(q.readSlot))
            row["writeSlot"] = .int(Int64(q.writeSlot))
            row["commands"] = .array((q.history.suffix(last) + q.pending).map { c in
                .object(["slot": .int(Int64(c.slot)), "address": .hexString(c.address.rawValue), "state": .string(c.state.rawValue),
                         "command": .string(c.name), "opcode": .uint(UInt64(c.opcode)), "description": .string(c.description),
                         "words": .array(c.words.map { .hexString($0) }),
                         "deviceID": .optional(c.deviceID) { .uint(UInt64($0.rawValue)) },
                         "eventID": .optional(c.eventID) { .uint(UInt64($0.rawValue)) },
                         "icid": .optional(c.icid) { .uint(UInt64($0.rawValue)) }])
            })
            let base = regs.its.indices.contains(i) ? regs.its[i].base?.value.rawValue : nil
            row["findings"] = .array(q.findings.map { finding($0, its: i, base: base) })
            return .object(row)
        })
        return .object(o)
    }

    func diffDocument(_ r: DiffReport) -> JSONValue {
        let (a, b, d) = (r.a.analysis, r.b.analysis, r.diff)
        var o = header("diff")
        o["a"] = inputs(r.a.session)
        o["b"] = inputs(r.b.session)
        o["registersA"] = .array(a.tables.map { RegisterJSON.its($0.registers) })
        o["registersB"] = .array(b.tables.map { RegisterJSON.its($0.registers) })
        o["ignored"] = .array(r.ignored.map(\.rawValue).sorted().map { .string($0) })
        o["changes"] = .array(d.changes.map { c in
            var row = itsIdentity(base: c.key.its, in: c.before != nil ? a.tables : b.tables)
            row["kind"] = .string(c.kind.rawValue)
            row["deviceID"] = .uint(UInt64(c.key.deviceID.rawValue))
            row["eventID"] = .uint(UInt64(c.key.eventID.rawValue))
            row["fields"] = .array(c.fields.map { .string($0.rawValue) })
            row["before"] = .optional(c.before, route)
            row["after"] = .optional(c.after, route)
            return .object(row)
        })
        o["collections"] = .array(d.collections.map { c in
            var row = itsIdentity(base: c.its, in: c.before != nil ? a.tables : b.tables)
            row["kind"] = .string(c.kind.rawValue)
            row["icid"] = .uint(UInt64(c.icid.rawValue))
            row["before"] = .optional(c.before) { .uint($0) }
            row["after"] = .optional(c.after) { .uint($0) }
            return .object(row)
        })
        o["registers"] = .array(d.registers.map { r in
            let base = r.its.flatMap { i in a.tables.first { $0.itsIndex == i }?.registers.base?.value.rawValue }
            return .object(["name": .string(r.name), "its": .optional(r.its) { .int(Int64($0)) },
                            "itsBase": .optional(base) { .hexString($0) },
                            "cpu": .optional(r.cpu) { .uint(UInt64($0)) },
                            "before": .optional(r.before) { .hexString($0) }, "after": .optional(r.after) { .hexString($0) }])
        })
        o["freshness"] = .object(["a": freshness(a), "b": freshness(b)])
        verdicts(r.verdicts, into: &o)
        // diff A B: one verdict per change, `consistent` included (a change whose fields are ignored).
        o["verdicts"] = .array(r.verdicts.judgements.map(verdict))
        return .object(o)
    }

    func expectedDocument(_ r: ExpectedReport) -> JSONValue {
        let d = r.diff
        var o = header("diff")
        o["a"] = inputs(r.session)
        o["registers"] = .array(r.analysis.tables.map { RegisterJSON.its($0.registers) })
        o["expected"] = .object(["path": .string(r.path), "source": .string(d.source)])
        o["comparedFields"] = .array(d.comparedFields.map { .string($0) })
        o["differences"] = .array(d.differences.map { x in
            .object(["kind": .string(x.kind.rawValue), "field": .optional(x.field) { .string($0) },
                     "deviceID": .optional(x.deviceID) { .uint(UInt64($0.rawValue)) },
                     "eventID": .optional(x.eventID) { .uint(UInt64($0.rawValue)) },
                     "lpi": .optional(x.lpi) { .uint(UInt64($0.rawValue)) },
                     "address": .optional(x.address) { .hexString($0.rawValue) },
                     "tables": .optional(x.tables) { .string($0) }, "expected": .optional(x.expected) { .string($0) }])
        })
        o["notes"] = .array(d.notes.map { .string($0) })
        o["freshness"] = freshness(r.analysis)
        verdicts(r.verdicts, into: &o)
        return .object(o)
    }

    func explainDocument(_ r: ExplainReport) -> JSONValue {
        var o = header("explain")
        o["found"] = .bool(r.found)
        o["lookups"] = .array(r.lookups.map { l in
            let n = l.route.map { r.names.name($0) }
            return .object([
                "its": .int(Int64(l.its)), "deviceID": .uint(UInt64(l.deviceID.rawValue)),
                "eventID": .optional(l.eventID) { .uint(UInt64($0.rawValue)) },
                "bdf": .optional(n?.bdf ?? DeviceIdentity.bdf(l.deviceID)) { .string($0) },
                "irq": .optional(n?.irq) { .uint(UInt64($0)) }, "name": .optional(n?.name) { .string($0) },
                "found": .bool(l.found), "reason": .optional(l.reason) { .string($0) },
                "route": .optional(l.route, route),
                "steps": .array(l.steps.map { st in
                    .object(["step": .string(st.step), "address": .optional(st.address) { .hexString($0.rawValue) },
                             "raw": .array(st.raw.map { .hexString($0) }), "text": .string(st.text)])
                }),
            ])
        })
        return .object(o)
    }

    func driverDocument(_ session: Session, _ k: KernelView) -> JSONValue {
        let v = k.view
        var o = header("driver")
        o["inputs"] = inputs(session)
        o["vmcoreinfo"] = .string(v.vmcoreinfoSource)
        o["cpus"] = .int(Int64(v.cpus))
        o["propTable"] = .optional(v.propTable) { .hexString($0.rawValue) }
        o["pendingTables"] = .array(v.pendingTables.map { .object(["cpu": .uint(UInt64($0.cpu)), "address": .hexString($0.address.rawValue)]) })
        o["its"] = .array(v.its.enumerated().map { i, n in
            .object([
                "its": .int(Int64(i)), "itsBase": .hexString(n.physBase),
                "node": .hexString(n.nodeAddress), "physBase": .hexString(n.physBase), "typer": .hexString(n.typer),
                "baser": .array(n.basers.map { .hexString($0) }),
                "commandQueue": .optional(n.commandQueue) { .hexString($0.rawValue) },
                "collections": .array(n.collections.map { .object(["cpu": .int(Int64($0.cpu)), "targetAddress": .hexString($0.targetAddress), "colID": .uint(UInt64($0.colID))]) }),
                "devices": .array(n.devices.map { d in
                    .object(["deviceID": .uint(UInt64(d.deviceID.rawValue)), "nrItes": .uint(UInt64(d.nrItes)),
                             "ittAddress": .optional(d.ittAddress) { .hexString($0.rawValue) }, "lpiBase": .uint(UInt64(d.lpiBase)),
                             "nrLPIs": .uint(UInt64(d.nrLPIs)), "shared": .bool(d.shared), "address": .hexString(d.address),
                             "events": .array(d.events.map { .object(["eventID": .uint(UInt64($0.eventID.rawValue)), "lpi": .uint(UInt64($0.lpi.rawValue)), "cpu": .uint(UInt64($0.cpu))]) })])
                }),
            ])
        })
        o["routes"] = .array(v.routes.map { r in
            let irq = k.irqs.irq(its: r.its, deviceID: r.deviceID, eventID: r.eventID)
            return .object(["its": .int(Int64(r.its)), "itsBase": .optional(v.its.indices.contains(r.its) ? v.its[r.its].physBase : nil) { .hexString($0) },
                            "deviceID": .uint(UInt64(r.deviceID.rawValue)), "eventID": .uint(UInt64(r.eventID.rawValue)),
                            "lpi": .uint(UInt64(r.lpi.rawValue)), "icid": .uint(UInt64(r.icid.rawValue)), "vcpu": .uint(UInt64(r.cpu)),
                            "irq": .optional(irq) { .uint(UInt64($0.irq)) }, "name": .optional(irq) { .string($0.name) },
                            "bdf": .optional(irq?.device) { .string($0) }])
        })
        o["irqSource"] = .string(k.irqs.source)
        o["problems"] = .array((v.problems + k.irqs.problems).map { .string($0) })
        return .object(o)
    }

    func infoDocument(_ session: Session) -> JSONValue {
        var o = header("info")
        o["inputs"] = .array(session.dumps.map { d in
            var i: [String: JSONValue] = [
                "path": .string(d.path), "kind": .string(d.kind.id), "kindName": .string(d.kind.rawValue),
                "ranges": .array(d.memory.presentRanges.map {
                    .object(["start": .hexString($0.start.rawValue), "end": .hexString($0.end - 1), "bytes": .uint($0.length)])
                }),
                "vcpus": .optional(d.vcpuCount) { .int(Int64($0)) },
                "vmcoreinfo": .optional(d.vmcoreinfo) { pairs in
                    .object(Dictionary(pairs.map { ($0.key, JSONValue.string($0.value)) }, uniquingKeysWith: { a, _ in a }))
                },
            ]
            for format in Dump.formats { if let key = format.infoKey { i[key] = .null } }
            for (k, v) in d.reader.details.json { i[k] = v }
            return .object(i)
        })
        return .object(o)
    }
}
