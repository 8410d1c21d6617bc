import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the tables for known save/restore bug signatures and structural problems.",
        discussion: """
            Every finding names its rule (see README "Findings" and `itsdump check --rules`), the \
            guest PA of the entry and what it means for the guest. Exit status: 1 when an \
            error-level finding exists, 0 otherwise, 2 for unusable input.
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Flag(name: .long, help: "List the rules (id, severity, source, what the snapshot shows) and exit.")
    var rules = false

    func validate() throws {
        guard output.output != .dot else { throw ValidationError("check has no dot output; use text or json") }
    }

    func run() throws {
        if rules {
            if output.output == .json {
                emit(JSONValue.object(["schemaVersion": .int(1), "command": .string("check"), "rules": .array(Rules.all.map { r in
                    .object(["rule": .string(r.id), "severity": .string(r.severity.rawValue), "source": .string(r.source), "shows": .string(r.shows)])
                })]).render())
            } else {
                var t = TextTable(header: ["RULE", "SEVERITY", "SOURCE", "WHAT THE SNAPSHOT SHOWS"])
                for r in Rules.all { t.rows.append([r.id, r.severity.rawValue, r.source, r.shows]) }
                emit(t.render())
            }
            return
        }
        guard !input.dumps.isEmpty else { throw ValidationError("give a DUMP") }
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks)
        let a = try session.analyse(input)
        let findings = a.findings
        if output.output == .json {
            emit(JSONValue.object([
                "schemaVersion": .int(1), "command": .string("check"), "inputs": Routes.inputsJSON(session),
                "freshness": Render.freshnessJSON(a), "findings": .array(findings.map(Render.findingJSON)),
                "its": .array(a.tables.map { t in
                    .object(["index": .int(Int64(t.itsIndex)), "format": .string(t.format.rawValue),
                             "formatReason": .string(t.formatReason), "registers": Render.registersJSON(t.registers)])
                }),
                "redistributors": Render.redistributorsJSON(a.registers.redistributors),
                "summary": .object(Dictionary(uniqueKeysWithValues: Severity.allCases.map { sev in
                    (sev.rawValue, JSONValue.int(Int64(findings.filter { $0.severity == sev }.count)))
                })),
            ]).render())
        } else {
            var s = Routes.header(session, a)
            for t in a.tables { s += "ITS \(t.itsIndex): \(t.devices.filter { $0.status == .live }.count) devices, \(a.graphs[t.itsIndex].routes.count) routes\n" }
            s += Render.freshnessText(a)
            s += Render.findingsText(findings)
            emit(s)
        }
        if findings.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
    }
}

struct Queue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode the ITS command queue: commands not yet processed and the most recent processed ones.")

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "How many of the most recent processed commands to show.")
    var last: Int = 32

    func validate() throws {
        guard output.output != .dot else { throw ValidationError("queue has no dot output; use text or json") }
        guard last >= 0 else { throw ValidationError("--last takes a number ≥ 0") }
    }

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks)
        let regs = try session.registers(input)
        guard !regs.its.isEmpty else { throw ITSLayoutError.noRegisters }
        var json: [JSONValue] = []
        var s = ""
        for (i, its) in regs.its.enumerated() {
            guard let q = CommandQueue.read(its, memory: session.memory) else {
                throw DumpError.badArgument("ITS \(i): the command queue needs GITS_CBASER (valid), GITS_CREADR and GITS_CWRITER: pass --regs, --cbaser/--creadr/--cwriter, or a migration stream")
            }
            let recent = Array(q.history.suffix(last))
            func row(_ c: ITSCommand) -> [String] {
                [String(c.slot), c.address.description, c.state.rawValue, c.name, c.description]
            }
            if i == 0 { s += Render.registerOrigins(regs) }
            s += "ITS \(i): command queue at \(q.base), \(q.slots) slots; GITS_CREADR slot \(q.readSlot), GITS_CWRITER slot \(q.writeSlot); \(q.pending.count) pending, \(q.history.count) processed commands still in the ring\n"
            var t = TextTable(header: ["SLOT", "ADDRESS", "STATE", "COMMAND", "FIELDS"], rightAligned: [0])
            for c in recent + q.pending { t.rows.append(row(c)) }
            s += t.render(indent: "  ")
            s += Render.findingsText(q.findings)
            json.append(.object([
                "its": .int(Int64(i)), "base": .hexString(q.base.rawValue), "slots": .int(Int64(q.slots)),
                "readSlot": .int(Int64(q.readSlot)), "writeSlot": .int(Int64(q.writeSlot)),
                "commands": .array((recent + q.pending).map { c in
                    .object(["slot": .int(Int64(c.slot)), "address": .hexString(c.address.rawValue), "state": .string(c.state.rawValue),
                             "command": .string(c.name), "opcode": .uint(UInt64(c.opcode)), "description": .string(c.description),
                             "words": .array(c.words.map { .hexString($0) }),
                             "deviceID": .optional(c.deviceID) { .uint(UInt64($0.rawValue)) },
                             "eventID": .optional(c.eventID) { .uint(UInt64($0.rawValue)) },
                             "icid": .optional(c.icid) { .uint(UInt64($0.rawValue)) }])
                }),
                "findings": .array(q.findings.map(Render.findingJSON)),
            ]))
        }
        emit(output.output == .json ? JSONValue.object(["schemaVersion": .int(1), "command": .string("queue"), "queues": .array(json)]).render() : s)
    }
}
