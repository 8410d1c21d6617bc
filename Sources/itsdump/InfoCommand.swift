import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What a snapshot holds: kind, RAM ranges, vCPUs, VMCOREINFO.")

    @Argument(help: ArgumentHelp("The snapshot: an ELF core, kdump file or migration stream (recognised by content), or FILE@GPA for a raw RAM image.", valueName: "DUMP"))
    var dumps: [String] = []
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !dumps.isEmpty else { throw ValidationError("give a DUMP: an ELF core, kdump file or migration stream, or FILE@GPA for a raw RAM image") }
        guard output.output != .dot else { throw ValidationError("info has no dot output; use text or json") }
    }

    func run() throws {
        let session = try Session(dumps)
        switch output.output {
        case .json:
            emit(JSONValue.object([
                "schemaVersion": .int(1), "command": .string("info"),
                "inputs": .array(session.dumps.map { d in
                    var o: [String: JSONValue] = [
                        "path": .string(d.path), "kind": .string(d.kind.rawValue),
                        "ranges": .array(d.memory.presentRanges.map {
                            .object(["start": .hexString($0.start.rawValue), "end": .hexString($0.end - 1),
                                     "bytes": .uint($0.length)])
                        }),
                        "vcpus": .optional(d.vcpuCount) { .int(Int64($0)) },
                        "vmcoreinfo": .optional(d.vmcoreinfo) { pairs in
                            .object(Dictionary(pairs.map { ($0.key, JSONValue.string($0.value)) }, uniquingKeysWith: { a, _ in a }))
                        },
                    ]
                    for format in Dump.formats { if let key = format.infoKey { o[key] = .null } }
                    for (k, v) in d.reader.details.json { o[k] = v }
                    return .object(o)
                }),
            ]).render())
        default:
            var s = ""
            for d in session.dumps {
                s += "\(d.path): \(d.kind.rawValue)\n"
                var t = TextTable(header: ["GUEST PA START", "END", "BYTES"], rightAligned: [2])
                for r in d.memory.presentRanges { t.rows.append([r.start.description, hex(r.end - 1), String(r.length)]) }
                s += t.render(indent: "  ")
                s += "  vCPUs: \(d.vcpuCount.map(String.init) ?? "unknown")\n"
                let details = d.reader.details
                s += details.text
                if !details.listsVMCOREINFO {
                } else if let v = d.vmcoreinfo {
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
