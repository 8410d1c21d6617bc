import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What a snapshot holds: kind, RAM ranges, vCPUs, VMCOREINFO.")

    @Argument(help: ArgumentHelp("ELF core, or FILE@GPA for a raw RAM image.", valueName: "DUMP"))
    var dumps: [String] = []
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !dumps.isEmpty else { throw ValidationError("give a DUMP: an ELF core, or FILE@GPA for a raw RAM image") }
        guard output.output != .dot else { throw ValidationError("info has no dot output; use text or json") }
    }

    func run() throws {
        let session = try Session(dumps)
        switch output.output {
        case .json:
            emit(JSONValue.object([
                "schemaVersion": .int(1), "command": .string("info"),
                "inputs": .array(session.dumps.map { d in
                    .object([
                        "path": .string(d.path), "kind": .string(d.kind.rawValue),
                        "ranges": .array(d.memory.presentRanges.map {
                            .object(["start": .hexString($0.start.rawValue), "end": .hexString($0.end - 1),
                                     "bytes": .uint($0.length)])
                        }),
                        "vcpus": .optional(d.vcpuCount) { .int(Int64($0)) },
                        "vmcoreinfo": .optional(d.vmcoreinfo) { pairs in
                            .object(Dictionary(pairs.map { ($0.key, JSONValue.string($0.value)) }, uniquingKeysWith: { a, _ in a }))
                        },
                        "notes": .optional(d.elf) { e in
                            .array(e.notes.map { .object(["name": .string($0.name), "type": .uint(UInt64($0.type)),
                                                           "bytes": .uint(UInt64($0.descriptor.count))]) })
                        },
                    ])
                }),
            ]).render())
        default:
            var s = ""
            for d in session.dumps {
                s += "\(d.path): \(d.kind.rawValue)\n"
                var t = TextTable(header: ["GUEST PA START", "END", "BYTES"], rightAligned: [2])
                for r in d.memory.presentRanges { t.rows.append([r.start.description, hex(r.end - 1), String(r.length)]) }
                s += t.render(indent: "  ")
                s += "  vCPUs: \(d.vcpuCount.map(String.init) ?? "unknown (raw image)")\n"
                if let e = d.elf {
                    let counts = Dictionary(grouping: e.notes, by: { "\($0.name)/\($0.type)" }).mapValues(\.count)
                    s += "  notes: " + counts.keys.sorted().map { "\($0) ×\(counts[$0]!)" }.joined(separator: ", ") + "\n"
                }
                if let v = d.vmcoreinfo {
                    s += "  VMCOREINFO (\(v.count) keys):\n"
                    for kv in v { s += "    \(kv.key)=\(kv.value)\n" }
                } else {
                    s += "  VMCOREINFO: none\n"
                }
            }
            emit(s)
        }
    }
}
