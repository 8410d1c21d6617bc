import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare two snapshots' routing, or one snapshot with an expected view.",
        discussion: """
            itsdump diff A B: routes keyed by (ITS base, DeviceID, EventID), never by LPI or irq; \
            collections and registers too. Each side is any DUMP kind; a migration stream carries \
            its registers, otherwise give --regs-a/--regs-b (or --regs for both).

            itsdump diff DUMP --expected FILE: FILE is recognised by content: KVM's debugfs \
            vgic-state or vgic-its-state@<base>, or a JSON file with route rows (`routes --output \
            json`, or a ground-truth file's `interrupts`). Only what both sides express is compared.

            Exit status like diff(1): 0 same, 1 different, 2 trouble.
            """)

    @Argument(help: ArgumentHelp("Two snapshots A and B, or one with --expected.", valueName: "DUMP"))
    var dumps: [String] = []
    @Option(name: .long, help: ArgumentHelp("Register state file for A.", valueName: "FILE.json")) var regsA: String?
    @Option(name: .long, help: ArgumentHelp("Register state file for B.", valueName: "FILE.json")) var regsB: String?
    @Option(name: .long, help: ArgumentHelp("Register state file for both sides (or the one DUMP).", valueName: "FILE.json")) var regs: String?
    @Option(name: .long, help: ArgumentHelp("The expected view: vgic-state, vgic-its-state@… or route JSON.", valueName: "FILE"))
    var expected: String?
    @Option(name: .long, help: ArgumentHelp("Fields that legitimately change, comma-separated: \(RouteDiff.Field.allCases.map(\.rawValue).joined(separator: ",")).", valueName: "FIELDS"))
    var ignore: String?
    @Option(name: .long, help: ArgumentHelp("Table entry format for both sides: kvm or qemu.", valueName: "kvm|qemu")) var format: ITSFormat?
    @Option(name: .long, help: ArgumentHelp("Map a migration stream's RAM block, e.g. ram0@0x40000000.", valueName: "NAME@GPA"))
    var ramBlock: [RAMBlockMapping] = []
    @Option(name: .long, help: ArgumentHelp("The guest kernel's debug vmlinux: gives the registers of a side that has no other source, and is what --expected guest-kernel compares with.", valueName: "FILE"))
    var vmlinux: String?
    @Option(name: .long, help: ArgumentHelp("The guest's VMCOREINFO text, if the dump has none.", valueName: "FILE"))
    var vmcoreinfo: String?
    @Option(name: .long, help: ArgumentHelp("A BTF file of the guest kernel (its /sys/kernel/btf/vmlinux), when the dump's in-memory .BTF is missing or damaged.", valueName: "FILE"))
    var btf: String?
    @OptionGroup var output: OutputOptions

    /// --vmlinux when given, else the zero-configuration path (BTF and kallsyms in guest RAM).
    func kernelView(_ session: Session) throws -> KernelView {
        if let vmlinux { return try KernelView.load(session: session, vmlinux: vmlinux, vmcoreinfoFile: vmcoreinfo) }
        return try KernelView.loadZeroConfig(session: session, btf: btf, vmcoreinfoFile: vmcoreinfo)
    }

    var ignored: Set<RouteDiff.Field> {
        Set((ignore ?? "").split(separator: ",").compactMap { RouteDiff.Field(rawValue: String($0)) })
    }

    func validate() throws {
        if expected != nil {
            guard dumps.count == 1 else { throw ValidationError("--expected compares one DUMP with FILE: give exactly one DUMP") }
        } else {
            guard dumps.count == 2 else { throw ValidationError("give two snapshots A and B (or one DUMP with --expected FILE)") }
        }
        for word in (ignore ?? "").split(separator: ",") where RouteDiff.Field(rawValue: String(word)) == nil {
            throw ValidationError("--ignore \(word): fields are \(RouteDiff.Field.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard output.output != .dot else { throw ValidationError("diff has no dot output; use text or json") }
    }

    /// One side's session and analysis. Registers: the dump's own (a migration stream), the
    /// state file on top; with no BASER from either, the guest kernel's driver records through
    /// --vmlinux or the zero-configuration path (then also returned, for --expected guest-kernel).
    func side(_ spec: String, regsFile: String?) throws -> (Session, Session.Analysis, KernelView?) {
        let blocks = Dictionary(ramBlock.map { ($0.name, $0.gpa) }, uniquingKeysWith: { _, b in b })
        let session = try Session([spec], ramBlocks: blocks)
        var state = session.carriedRegisters ?? RegisterState()
        if let f = regsFile ?? regs { state.overlay(try RegisterStateFile.load(path: f)) }
        var kernel: KernelView?
        if !state.its.contains(where: \.hasAnyBaser) {
            let k = try kernelView(session)
            var fromKernel = k.registers
            fromKernel.overlay(state)
            state = fromKernel
            kernel = k
        }
        guard !state.its.isEmpty else {
            throw DumpError.badArgument("\(spec): no ITS registers: GITS_BASER values are not stored in ELF cores, kdump files or raw images; give --regs-a/--regs-b/--regs FILE.json, a migration stream, or --vmlinux (the guest kernel's records)")
        }
        return (session, try session.analyse(registers: state, format: format), kernel)
    }

    func run() throws {
        if let expected {
            try runExpected(expected)
            return
        }
        let (sa, a, _) = try side(dumps[0], regsFile: regsA)
        let (sb, b, _) = try side(dumps[1], regsFile: regsB)
        let d = RouteDiff.compare(before: a.tables, after: b.tables, graphsBefore: a.graphs, graphsAfter: b.graphs,
                                  registersBefore: a.registers, registersAfter: b.registers, ignoring: ignored)
        if output.output == .json {
            emit(JSONValue.object([
                "schemaVersion": .int(1), "command": .string("diff"),
                "a": Routes.inputsJSON(sa), "b": Routes.inputsJSON(sb),
                "registersA": .array(a.tables.map { Render.registersJSON($0.registers) }),
                "registersB": .array(b.tables.map { Render.registersJSON($0.registers) }),
                "ignored": .array(ignored.map(\.rawValue).sorted().map { .string($0) }),
                "changes": .array(d.changes.map { c in
                    .object(["kind": .string(c.kind.rawValue), "its": .hexString(c.key.its),
                             "deviceID": .uint(UInt64(c.key.deviceID.rawValue)), "eventID": .uint(UInt64(c.key.eventID.rawValue)),
                             "fields": .array(c.fields.map { .string($0.rawValue) }),
                             "before": .optional(c.before, Render.routeJSON), "after": .optional(c.after, Render.routeJSON)])
                }),
                "collections": .array(d.collections.map { c in
                    .object(["kind": .string(c.kind.rawValue), "its": .hexString(c.its), "icid": .uint(UInt64(c.icid.rawValue)),
                             "before": .optional(c.before) { .uint($0) }, "after": .optional(c.after) { .uint($0) }])
                }),
                "registers": .array(d.registers.map { r in
                    .object(["name": .string(r.name), "its": .optional(r.its) { .int(Int64($0)) },
                             "cpu": .optional(r.cpu) { .uint(UInt64($0)) },
                             "before": .optional(r.before) { .hexString($0) }, "after": .optional(r.after) { .hexString($0) }])
                }),
                "freshness": .object(["a": Render.freshnessJSON(a), "b": Render.freshnessJSON(b)]),
            ]).render())
        } else {
            var s = "A: \(sa.inputLines.joined(separator: "; "))\n   " + Render.registerOrigins(a.registers)
            s += "B: \(sb.inputLines.joined(separator: "; "))\n   " + Render.registerOrigins(b.registers)
            s += "A " + Render.freshnessText(a) + "B " + Render.freshnessText(b)
            if !ignored.isEmpty { s += "ignored fields: \(ignored.map(\.rawValue).sorted().joined(separator: ", "))\n" }
            var device: RouteDiff.Key?
            for c in d.changes {
                if device?.deviceID != c.key.deviceID || device?.its != c.key.its {
                    s += "device \(c.key.deviceID) (ITS \(hex(c.key.its))):\n"
                    device = c.key
                }
                s += "  event \(c.key.eventID): " + Self.describe(c) + "\n"
            }
            for c in d.collections {
                s += "collection ICID \(c.icid) (ITS \(hex(c.its))): \(c.kind.rawValue) \(opt(c.before)) → \(opt(c.after))\n"
            }
            for r in d.registers {
                s += "register \(r.cpu.map { "cpu \($0) " } ?? r.its.map { "ITS \($0) " } ?? "")\(r.name): \(opt(r.before.map(hex))) → \(opt(r.after.map(hex)))\n"
            }
            s += d.isEmpty ? "no differences\n" : "\(d.changes.count) route change(s), \(d.collections.count) collection change(s), \(d.registers.count) register change(s)\n"
            emit(s)
        }
        if !d.isEmpty { throw ExitCode(1) }
    }

    static func describe(_ c: RouteDiff.Change) -> String {
        func route(_ r: RoutingGraph.Route) -> String { "LPI \(r.lpi) → ICID \(r.icid) → vCPU \(opt(r.vcpu))" }
        switch c.kind {
        case .added: return "added: \(c.after.map(route) ?? "")"
        case .removed: return "removed (was \(c.before.map(route) ?? ""))"
        case .changed:
            guard let a = c.before, let b = c.after else { return "changed" }
            return c.fields.map { f -> String in
                switch f {
                case .lpi: "LPI \(a.lpi) → \(b.lpi)"
                case .icid: "ICID \(a.icid) → \(b.icid)"
                case .vcpu: "vCPU \(opt(a.vcpu)) → \(opt(b.vcpu))"
                case .enabled: "enabled \(yesNo(a.enabled)) → \(yesNo(b.enabled))"
                case .priority: "priority \(opt(a.priority)) → \(opt(b.priority))"
                case .pending: "pending \(yesNo(a.pending)) → \(yesNo(b.pending))"
                }
            }.joined(separator: ", ")
        }
    }

    /// Reads at most 64 MiB of FILE: a vgic-state hit by the endless-output bug has no end.
    func runExpected(_ path: String) throws {
        let (session, a, loaded) = try side(dumps[0], regsFile: regs)
        if path == "guest-kernel" {
            let k = try loaded ?? kernelView(session)
            let d = ExpectedDiff.against(k.view, source: "the guest kernel's ITS driver (its_device list, \(k.view.vmcoreinfoSource))",
                                         routes: a.routes, ignoring: ignored)
            try report(d, session: session, a: a, path: "guest-kernel")
            return
        }
        let file = try MappedFile(path: path)
        let text = String(decoding: file.bytes(at: 0, count: Int(min(file.size, 64 << 20))) ?? [], as: UTF8.self)
        let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" }
        let d: ExpectedDiff
        if trimmed.hasPrefix("{") {
            let top: JSONValue
            do { top = try JSONValue.parse(Array(text.utf8)) } catch {
                throw DumpError.notADump(path: path, reason: "not JSON: \(error)")
            }
            guard let rows = (top["routes"] ?? top["interrupts"])?.arrayValue?.compactMap(\.objectValue) else {
                throw DumpError.notADump(path: path, reason: "JSON without a \"routes\" (or \"interrupts\") array of route rows")
            }
            let ints = rows.map { r in r.compactMapValues(\.intValue) }
            d = ExpectedDiff.against(rows: ints, source: "route rows of \(path)", routes: a.routes, ignoring: ignored)
        } else if VGICITSState.looksLike(text) {
            d = ExpectedDiff.against(VGICITSState.parse(text), routes: a.routes, ignoring: ignored)
        } else if VGICState.looksLike(text) {
            d = ExpectedDiff.against(VGICState.parse(text), routes: a.routes, ignoring: ignored)
        } else {
            throw DumpError.notADump(path: path, reason: "not a KVM debugfs vgic-state or vgic-its-state text, nor route JSON")
        }
        if file.size > 64 << 20 {
            FileOutput.write("itsdump: \(path): read the first 64 MiB only\n", to: 2)
        }
        try report(d, session: session, a: a, path: path)
    }

    func report(_ d: ExpectedDiff, session: Session, a: Session.Analysis, path: String) throws {
        if output.output == .json {
            emit(JSONValue.object([
                "schemaVersion": .int(1), "command": .string("diff"), "a": Routes.inputsJSON(session),
                "registers": .array(a.tables.map { Render.registersJSON($0.registers) }),
                "expected": .object(["path": .string(path), "source": .string(d.source)]),
                "comparedFields": .array(d.comparedFields.map { .string($0) }),
                "differences": .array(d.differences.map { x in
                    .object(["kind": .string(x.kind.rawValue), "field": .optional(x.field) { .string($0) },
                             "deviceID": .optional(x.deviceID) { .uint(UInt64($0.rawValue)) },
                             "eventID": .optional(x.eventID) { .uint(UInt64($0.rawValue)) },
                             "lpi": .optional(x.lpi) { .uint(UInt64($0.rawValue)) },
                             "address": .optional(x.address) { .hexString($0.rawValue) },
                             "tables": .optional(x.tables) { .string($0) }, "expected": .optional(x.expected) { .string($0) }])
                }),
                "notes": .array(d.notes.map { .string($0) }),
                "freshness": Render.freshnessJSON(a),
            ]).render())
        } else {
            var s = "tables: \(session.inputLines.joined(separator: "; "))\n" + Render.registerOrigins(a.registers)
            s += "expected: \(d.source) from \(path)\ncompared: \(d.comparedFields.joined(separator: ", "))\n"
            s += Render.freshnessText(a)
            for n in d.notes { s += "note: \(n)\n" }
            var t = TextTable(header: ["KIND", "DEVICEID", "EVENTID", "LPI", "FIELD", "TABLES", "EXPECTED"])
            for x in d.differences {
                t.rows.append([x.kind.rawValue, opt(x.deviceID), opt(x.eventID), opt(x.lpi), x.field ?? "-", x.tables ?? "-", x.expected ?? "-"])
            }
            s += d.differences.isEmpty ? "no differences\n" : t.render() + "\(d.differences.count) difference(s)\n"
            emit(s)
        }
        if !d.differences.isEmpty { throw ExitCode(1) }
    }
}
