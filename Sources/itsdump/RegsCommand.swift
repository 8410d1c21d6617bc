import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

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
        let state = try input.registerState(vcpuCount: session.vcpuCount, carried: session.dumps.compactMap(\.registers).first)
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
        func v(_ s: Sourced<UInt64>?) -> JSONValue { s.map { .hexString($0.value) } ?? .null }
        let origins = Set(state.its.flatMap { its in its.baser.compactMap { $0?.provenance.kind.rawValue } })
        var itsRows: [JSONValue] = []
        for its in state.its {
            var o: [String: JSONValue] = [:]
            for r in ITSRegister.allCases {
                if case .baser = r { continue }
                o[r.jsonKey] = v(its[r])
            }
            o["baser"] = .array((0..<ITSRegister.baserCount).map { v(its[.baser($0)]) })
            itsRows.append(.object(o))
        }
        var rdRows: [JSONValue] = []
        for r in state.redistributors {
            var o: [String: JSONValue] = ["cpu": .uint(UInt64(r.cpu))]
            for reg in RedistributorRegister.allCases { o[reg.jsonKey] = v(r[reg]) }
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
