import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Regs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The ITS and redistributor registers of a snapshot, with their sources.",
        discussion: """
            With --output json it writes the register state file that --regs reads: \
            `itsdump regs vm.mig --output json > regs.json`.
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard output.output != .dot else { throw ValidationError("regs has no dot output; use text or json") }
    }

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks)
        let state = try session.registers(input)
        guard !state.its.isEmpty || !state.redistributors.isEmpty else { throw ITSLayoutError.noRegisters }
        if output.output == .json {
            emit(Self.stateFile(state).render())
            return
        }
        var s = ""
        for (i, its) in state.its.enumerated() {
            s += "ITS \(i)\n"
            var t = TextTable(header: ["REGISTER", "VALUE", "SOURCE"])
            for (name, v, src) in Render.registerRows(its) { t.rows.append([name, hex(v), src]) }
            s += t.render(indent: "  ")
        }
        var t = TextTable(header: ["CPU", "GICR_PROPBASER", "GICR_PENDBASER", "SOURCE"], rightAligned: [0])
        for r in state.redistributors {
            t.rows.append([String(r.cpu), opt(r.propbaser.map { hex($0.value.rawValue) }), opt(r.pendbaser.map { hex($0.value.rawValue) }),
                           r.propbaser?.provenance.origin ?? r.pendbaser?.provenance.origin ?? "-"])
        }
        s += t.render()
        emit(s)
    }

    /// The `--regs` format (README "The state file"), with `source` saying where values came from.
    static func stateFile(_ state: RegisterState) -> JSONValue {
        func v<T>(_ s: Sourced<T>?, _ raw: (T) -> UInt64) -> JSONValue { s.map { .hexString(raw($0.value)) } ?? .null }
        let origins = Set(state.its.flatMap { its in its.baser.compactMap { $0?.provenance.kind.rawValue } })
        var itsRows: [JSONValue] = []
        for its in state.its {
            var o: [String: JSONValue] = [:]
            o["base"] = v(its.base) { $0.rawValue }
            o["ctlr"] = v(its.ctlr) { $0.rawValue }
            o["iidr"] = v(its.iidr) { $0.rawValue }
            o["typer"] = v(its.typer) { $0.rawValue }
            o["cbaser"] = v(its.cbaser) { $0.rawValue }
            o["cwriter"] = v(its.cwriter) { $0.rawValue }
            o["creadr"] = v(its.creadr) { $0.rawValue }
            let basers: [JSONValue] = its.baser.map { b in b.map { JSONValue.hexString($0.value.rawValue) } ?? .null }
            o["baser"] = .array(basers)
            itsRows.append(.object(o))
        }
        var rdRows: [JSONValue] = []
        for r in state.redistributors {
            var o: [String: JSONValue] = ["cpu": .uint(UInt64(r.cpu))]
            o["propbaser"] = v(r.propbaser) { $0.rawValue }
            o["pendbaser"] = v(r.pendbaser) { $0.rawValue }
            o["rdBase"] = v(r.rdBase) { $0.rawValue }
            rdRows.append(.object(o))
        }
        return .object([
            "schemaVersion": .int(1),
            "source": .string("itsdump regs: " + origins.sorted().joined(separator: ", ")),
            "its": .array(itsRows),
            "redistributors": .array(rdRows),
        ])
    }
}
