import CoreDumpReader
import GuestKernel
import ITSAnalysis
import ITSLayout
import TextFormats

/// Aligned text for people. Each block that several commands print (the inputs, the register
/// tables, freshness, findings) is written once, below.
struct TextRenderer: Renderer {
    /// `-q`: no input lines, register tables or freshness lines, only what the command found.
    var quiet = false

    // MARK: Blocks shared by several commands

    /// The inputs, then each ITS's format and registers, then the redistributors.
    func header(_ session: Session, _ a: Analysis) -> String {
        guard !quiet else { return "" }
        var s = ""
        for l in session.inputLines { s += "input: \(l)\n" }
        for t in a.tables {
            let base = t.registers.base.map { " at \($0.value)" } ?? ""
            s += "ITS \(t.itsIndex)\(base): \(t.format.label) (\(t.formatReason))\n"
            s += registerTable(t.registers).render(indent: "  ")
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

    /// REGISTER, VALUE, SOURCE for every register of one ITS that a source gave.
    func registerTable(_ its: ITSRegisterState) -> TextTable {
        var t = TextTable(header: ["REGISTER", "VALUE", "SOURCE"])
        for r in ITSRegister.allCases { if let v = its[r] { t.rows.append([r.name, hex(v.value), v.sourceText]) } }
        return t
    }

    /// One line: where the registers came from (distinct origins), for outputs that do not list them.
    func registerOrigins(_ r: RegisterState) -> String {
        guard !quiet else { return "" }
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

    func freshness(_ a: Analysis) -> String {
        guard !quiet else { return "" }
        var s = ""
        for (i, f) in a.freshness.enumerated() {
            s += "freshness (ITS \(i)): tables \(f.tables)\n  command queue: \(f.queue)\n"
            for c in f.caveats { s += "  caveat: \(c.text)\n" }
        }
        return s
    }

    func findings(_ findings: [Finding]) -> String {
        guard !findings.isEmpty else { return "findings: none\n" }
        var t = TextTable(header: ["SEVERITY", "RULE", "ADDRESS", "MESSAGE"])
        for f in findings { t.rows.append([f.severity.rawValue, f.rule, opt(f.address), f.message]) }
        let e = findings.filter { $0.severity == .error }.count
        let w = findings.filter { $0.severity == .warning }.count
        let n = findings.count - e - w
        return "findings: \(e) error(s), \(w) warning(s), \(n) note(s)\n" + t.render(indent: "  ")
    }

    /// "Name=0x… Name=0x…" through a layout.
    static func fields(_ layout: BitLayout, _ raw: UInt64) -> String {
        layout.decode(raw).map { "\($0.name)=\(hex($0.value))" }.joined(separator: " ")
    }

    /// An ITE's raw words as the format stores them (QEMU's ITE_H is 4 bytes).
    static func rawITE(_ format: ITSFormat, _ ite: InterruptTranslationEntry) -> String {
        zip(format.iteLayouts, ite.raw).map { $0.byteCount == 4 ? hex($1) : hex64($1) }.joined(separator: " ")
    }

    // MARK: Commands

    /// Per vCPU: LPIs routed, enabled, pending.
    func vcpus(_ rows: [VCPUSummary]) -> String {
        var t = TextTable(header: ["VCPU", "LPIS", "ENABLED", "PENDING"], rightAligned: [0, 1, 2, 3])
        for r in rows { t.rows.append([r.vcpu.map(String.init) ?? "none", String(r.routed), String(r.enabled), String(r.pending)]) }
        return "per vCPU:\n" + t.render(indent: "  ")
    }

    /// The verdicts grouped by device, one line per key, verdict first (README "diff").
    func verdicts(_ v: Verdicts) -> String {
        let shown = v.differing
        guard !shown.isEmpty else { return "verdicts: every view agrees\n" }
        var s = ""
        var device: RouteDiff.Key?
        let width = Verdict.allCases.map(\.rawValue.count).max() ?? 0
        for j in shown {
            if device?.deviceID != j.key.deviceID || device?.its != j.key.its {
                s += "device \(j.key.deviceID)" + (DeviceIdentity.bdf(j.key.deviceID).map { " \($0)" } ?? "") + " (ITS \(hex(j.key.its))):\n"
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

    func tables(_ session: Session, _ a: Analysis) -> String? {
        var s = ""
        if !quiet { for l in session.inputLines { s += "input: \(l)\n" } }
        for t in a.tables {
            s += "\nITS \(t.itsIndex): \(t.format.label) (\(t.formatReason))\n"
            var rt = TextTable(header: ["REGISTER", "VALUE", "FIELDS"])
            for r in ITSRegister.allCases {
                guard let v = t.registers[r] else { continue }
                rt.rows.append([r.name, hex(v.value), r.layout.map { Self.fields($0, v.value) } ?? ""])
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
                    let f = zip(t.format.iteLayouts, e.ite.raw).map { Self.fields($0, $1) }.joined(separator: " ")
                    it.rows.append([String(e.eventID.rawValue), e.address.description, Self.rawITE(t.format, e.ite), e.status.rawValue, f])
                }
                if !d.itt.isEmpty { s += it.render(indent: "    ") }
            }
        }
        s += "\n" + findings(a.findings)
        return s
    }

    func check(_ session: Session, _ a: Analysis, _ v: Verdicts, _ findings: [Finding]) -> String? {
        var s = header(session, a)
        for t in a.tables { s += "ITS \(t.itsIndex): \(t.devices.filter { $0.status == .live }.count) devices, \(a.graphs[t.itsIndex].routes.count) routes\n" }
        s += freshness(a)
        s += self.findings(findings)
        s += verdicts(v)
        return s
    }

    func rules() -> String? {
        var t = TextTable(header: ["RULE", "SEVERITY", "SOURCE", "WHAT THE SNAPSHOT SHOWS"])
        for r in RuleID.allCases { t.rows.append([r.rawValue, r.severity.rawValue, r.source, r.shows]) }
        var v = TextTable(header: ["VERDICT", "SEVERITY", "SOURCE", "MEANING"])
        for x in Verdict.allCases { v.rows.append([x.rawValue, x.severity.rawValue, x.source, x.meaning]) }
        return t.render() + "\n" + v.render()
    }

    func queue(_ regs: RegisterState, _ queues: [CommandQueue], last: Int) -> String? {
        var s = ""
        for (i, q) in queues.enumerated() {
            if i == 0 { s += registerOrigins(regs) }
            s += "ITS \(i): command queue at \(q.base), \(q.slots) slots; GITS_CREADR slot \(q.readSlot), GITS_CWRITER slot \(q.writeSlot); \(q.pending.count) pending, \(q.history.count) processed commands still in the ring\n"
            var t = TextTable(header: ["SLOT", "ADDRESS", "STATE", "COMMAND", "FIELDS"], rightAligned: [0])
            for c in q.history.suffix(last) + q.pending {
                t.rows.append([String(c.slot), c.address.description, c.state.rawValue, c.name, c.description])
            }
            s += t.render(indent: "  ")
            s += findings(q.findings)
        }
        return s
    }

    func diff(_ r: DiffReport) -> String? {
        let (sa, a) = r.a, (sb, b) = r.b, d = r.diff
        var s = ""
        if !quiet {
            s += "A: \(sa.inputLines.joined(separator: "; "))\n   " + registerOrigins(a.registers)
            s += "B: \(sb.inputLines.joined(separator: "; "))\n   " + registerOrigins(b.registers)
            s += "A " + freshness(a) + "B " + freshness(b)
        }
        if !r.ignored.isEmpty { s += "ignored fields: \(r.ignored.map(\.rawValue).sorted().joined(separator: ", "))\n" }
        if !d.changes.isEmpty { s += verdicts(r.verdicts) }
        for c in d.collections {
            s += "collection ICID \(c.icid) (ITS \(hex(c.its))): \(c.kind.rawValue) \(opt(c.before)) → \(opt(c.after))\n"
        }
        for r in d.registers {
            s += "register \(r.cpu.map { "cpu \($0) " } ?? r.its.map { "ITS \($0) " } ?? "")\(r.name): \(opt(r.before.map(hex))) → \(opt(r.after.map(hex)))\n"
        }
        s += d.isEmpty ? "no differences\n" : "\(d.changes.count) route change(s), \(d.collections.count) collection change(s), \(d.registers.count) register change(s)\n"
        return s
    }

    func expected(_ r: ExpectedReport) -> String? {
        let d = r.diff
        var s = quiet ? "" : "tables: \(r.session.inputLines.joined(separator: "; "))\n" + registerOrigins(r.analysis.registers)
        s += "expected: \(d.source) from \(r.path == "-" ? "standard input" : r.path)\ncompared: \(d.comparedFields.joined(separator: ", "))\n"
        s += freshness(r.analysis)
        for n in d.notes { s += "note: \(n)\n" }
        // One layout for every diff: the verdicts grouped by device, verdict first; rows the
        // expected view keys by LPI alone (vgic-state) and no table route carries, after them.
        s += verdicts(r.verdicts)
        for x in d.differences where x.deviceID == nil {
            s += "LPI \(opt(x.lpi)): \(x.kind.rawValue)\(x.field.map { " " + $0 } ?? ""): tables \(x.tables ?? "-"), expected \(x.expected ?? "-")\n"
        }
        s += d.differences.isEmpty ? "no differences\n" : "\(d.differences.count) difference(s)\n"
        return s
    }

    /// One routed key or LPI: every step in detail (the walk's own entries). A whole device, or
    /// a key the tables do not route: each lookup's steps, and where and why it stops.
    func explain(_ r: ExplainReport) -> String? {
        let a = r.analysis
        if case .event(_, nil) = r.query {} else if r.found {
            var s = ""
            for t in a.tables {
                for d in t.devices {
                    for e in d.itt {
                        let match: Bool
                        switch r.query {
                        case .lpi(let lpi): match = UInt64(e.ite.lpi.rawValue) == lpi
                        case .event(let device, let event):
                            match = UInt64(d.deviceID.rawValue) == device && UInt64(e.eventID.rawValue) == event
                        case .irq, .bdf: match = false
                        }
                        if match { s += explain(t, d, e, a) }
                    }
                }
            }
            return s
        }
        if case .lpi(let lpi) = r.query, r.lookups.isEmpty { return "no live ITE maps LPI \(lpi)\n" }
        if case .bdf(let bdf) = r.query, r.lookups.isEmpty {
            return "no route carries PCI address \(bdf), and the identity requester-ID mapping gives DeviceIDs to segment 0000 only\n"
        }
        if case .irq(let irq) = r.query, r.lookups.isEmpty { return "no route carries Linux irq \(irq) (the guest kernel's irqs of the ITS: `itsdump routes` lists them)\n" }
        var s = ""
        for l in r.lookups {
            let head = "ITS \(l.its): DeviceID \(l.deviceID)" + (DeviceIdentity.bdf(l.deviceID).map { " (\($0))" } ?? "")
                + " EventID \(l.eventID.map { "\($0)" } ?? "-")"
            if l.found, let route = l.route, let irq = r.names.name(route).irq {
                s += head + ": Linux irq \(irq) \(r.names.name(route).name ?? "")\n"
            } else {
                s += head + (l.found ? "\n" : ": not routed — \(l.reason ?? "")\n")
            }
            for (i, step) in l.steps.enumerated() { s += "  \(i + 1). \(step.text)\n" }
        }
        return s
    }

    func explain(_ t: ITSTables, _ d: DeviceSlot, _ e: ITESlot, _ a: Analysis) -> String {
        let f = t.format
        var s = "ITS \(t.itsIndex): DeviceID \(d.deviceID) EventID \(e.eventID) (\(f.label))\n"
        if let g = t.deviceTable {
            s += "  1. GITS_BASER\(g.baserIndex) = \(hex64(g.baser.rawValue)): \(g.indirect ? "two-level" : "flat") device table at \(g.base), \(g.pageSize / 1024) KiB pages\n"
            if g.indirect {
                let index = UInt64(d.deviceID.rawValue) / g.entriesPerPage
                let l1 = t.deviceLevel1.first { $0.index == index }
                s += "  2. level-1 entry \(index) at \(hex(g.base.rawValue + index * 8)) = \(l1.map { hex64($0.entry.raw) } ?? "invalid"): level-2 page \(l1.map { $0.entry.level2Address.description } ?? "-")\n"
            }
        }
        s += "  3. DTE at \(d.address) = \(hex64(d.dte.raw)) [\(d.status.rawValue)\(f == .kvm ? (d.status == .live ? ", reached by KVM's restore walk" : ", not reached by KVM's restore walk") : "")]: \(Self.fields(f.deviceEntryLayout, d.dte.raw))\n"
        s += "     ITT at \(d.dte.ittAddress), \(d.ittEntries) entries of \(f.iteSize) bytes\n"
        s += "  4. ITE at \(e.address) = \(Self.rawITE(f, e.ite)) [\(e.status.rawValue)\(f == .kvm ? (e.status == .live ? ", reached by KVM's restore walk" : ", not reached") : "")]: LPI \(e.ite.lpi), ICID \(e.ite.icid)\n"
        if let c = t.liveCollections[e.ite.icid] {
            s += "  5. CTE for ICID \(e.ite.icid) at \(c.address) = \(hex64(c.cte.raw)): RDbase \(c.cte.rdBase)\n"
        } else {
            s += "  5. no valid collection for ICID \(e.ite.icid): the MSI is dropped\n"
        }
        let route = a.route(its: t.itsIndex, device: d.deviceID, event: e.eventID)
        s += "  6. target: \(route?.vcpu.map { "vCPU \($0)" } ?? "none")\(t.registers.typer?.value.pta == true ? " (PTA = 1: RDbase is a redistributor address)" : " (PTA = 0: RDbase is the processor number)")\n"
        let lpiValue = UInt64(e.ite.lpi.rawValue)
        let rd = route?.vcpu.flatMap { v in a.registers.redistributors.first { $0.cpu == v } } ?? a.registers.redistributors.first
        if let prop = rd?.propbaser?.value, lpiValue >= 8192 {
            s += "  7. property byte at \(hex(prop.physicalAddress.rawValue + lpiValue - 8192)) (GICR_PROPBASER \(hex(prop.rawValue))): enabled \(yesNo(route?.enabled)), priority \(opt(route?.priority.map { hex(UInt64($0)) }))\n"
        } else {
            s += "  7. property byte: GICR_PROPBASER unknown\n"
        }
        if let pend = rd?.pendbaser?.value, route?.vcpu != nil {
            s += "  8. pending bit: byte \(hex(pend.physicalAddress.rawValue + lpiValue / 8)) bit \(lpiValue % 8) of vCPU \(rd?.cpu ?? 0)'s table: \(yesNo(route?.pending))\n"
        } else {
            s += "  8. pending bit: the target's GICR_PENDBASER is unknown\n"
        }
        return s
    }

    func driver(_ session: Session, _ k: KernelView) -> String? {
        let v = k.view
        var s = "input: \(session.inputLines.joined(separator: "; "))\nVMCOREINFO: \(v.vmcoreinfoSource) (OSRELEASE \(TerminalText.cut(k.vmcoreinfo["OSRELEASE"] ?? "?")))\n"
        s += "\(k.typeSource)\n"
        for (i, n) in v.its.enumerated() {
            s += "ITS \(i) at \(hex(n.physBase)) (its_node \(hex(n.nodeAddress))), GITS_TYPER \(hex(n.typer)), command queue \(opt(n.commandQueue))\n"
            for (b, val) in n.basers.enumerated() where val != 0 { s += "  tables[\(b)].val = GITS_BASER\(b) \(hex64(val))\n" }
            s += "  collections: " + n.collections.map { "CPU \($0.cpu) → ICID \($0.colID) (target \(hex($0.targetAddress)))" }.joined(separator: ", ") + "\n"
            var t = TextTable(header: ["DEVICEID", "NR_ITES", "ITT", "LPI_BASE", "NR_LPIS", "EVENTS (event:LPI→CPU)"], rightAligned: [1, 3, 4])
            for d in n.devices {
                t.rows.append([d.deviceID.description, String(d.nrItes), opt(d.ittAddress), String(d.lpiBase), String(d.nrLPIs),
                               d.events.map { "\($0.eventID):\($0.lpi)→\($0.cpu)" }.joined(separator: " ")])
            }
            s += t.render(indent: "  ")
        }
        s += "LPI property table \(opt(v.propTable)); pending tables: " + v.pendingTables.map { "CPU \($0.cpu) \($0.address)" }.joined(separator: ", ") + "\n"
        s += "\(v.routes.count) mappings the driver holds; Linux irqs from \(k.irqs.source.isEmpty ? "nowhere" : k.irqs.source):\n"
        var irqs = TextTable(header: ["ITS", "DEVICEID", "EVENTID", "LPI", "CPU", "IRQ", "DEVICE", "ACTIONS"], rightAligned: [0, 2, 3, 4, 5])
        for r in v.routes {
            let irq = k.irqs.irq(its: r.its, deviceID: r.deviceID, eventID: r.eventID)
            irqs.rows.append([String(r.its), r.deviceID.description, String(r.eventID.rawValue), String(r.lpi.rawValue), String(r.cpu),
                              opt(irq?.irq), irq?.device ?? "-", irq?.name ?? "-"])
        }
        s += irqs.render(indent: "  ")
        for p in v.problems + k.irqs.problems { s += "problem: \(TerminalText.escape(p))\n" }
        return s
    }

    func info(_ session: Session) -> String? {
        var s = ""
        for d in session.dumps {
            s += "\(TerminalText.escape(d.path)): \(d.kind.rawValue)\n"
            var t = TextTable(header: ["GUEST PA START", "END", "BYTES"], rightAligned: [2])
            for r in d.memory.presentRanges { t.rows.append([r.start.description, hex(r.end - 1), String(r.length)]) }
            s += t.render(indent: "  ")
            s += "  vCPUs: \(d.vcpuCount.map(String.init) ?? "unknown")\n"
            let details = d.reader.details
            s += details.text
            if !details.listsVMCOREINFO {
            } else if let v = d.vmcoreinfo {
                s += "  VMCOREINFO (\(v.count) keys):\n"
                for kv in v { s += "    \(TerminalText.escape(kv.key))=\(TerminalText.escape(kv.value))\n" }
            } else {
                s += "  VMCOREINFO: none\n"
            }
        }
        return s
    }

    func regs(_ state: RegisterState) -> String? {
        var s = ""
        for (i, its) in state.its.enumerated() {
            s += "ITS \(i)\n"
            s += registerTable(its).render(indent: "  ")
        }
        var t = TextTable(header: ["CPU", "GICR_PROPBASER", "GICR_PENDBASER", "SOURCE"], rightAligned: [0])
        for r in state.redistributors {
            t.rows.append([String(r.cpu), opt(r.propbaser.map { hex($0.value.rawValue) }), opt(r.pendbaser.map { hex($0.value.rawValue) }),
                           r.propbaser?.provenance.origin ?? r.pendbaser?.provenance.origin ?? "-"])
        }
        s += t.render()
        return s
    }
}
