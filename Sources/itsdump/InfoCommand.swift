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
                        "stream": .optional(d.stream) { st in Self.streamJSON(st) },
                        "kdump": .optional(d.kdump) { k in
                            .object(["container": .string(k.container.rawValue), "headerVersion": .uint(UInt64(k.headerVersion)),
                                     "compression": .string(k.compression), "blockSize": .uint(k.blockSize),
                                     "maxMapnr": .uint(k.maxMapnr), "physBase": .hexString(k.physBase),
                                     "nrCPUs": .uint(UInt64(k.nrCPUs)), "dumpablePages": .int(Int64(k.dumpablePages))])
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
                s += "\(TerminalText.escape(d.path)): \(d.kind.rawValue)\n"
                var t = TextTable(header: ["GUEST PA START", "END", "BYTES"], rightAligned: [2])
                for r in d.memory.presentRanges { t.rows.append([r.start.description, hex(r.end - 1), String(r.length)]) }
                s += t.render(indent: "  ")
                s += "  vCPUs: \(d.vcpuCount.map(String.init) ?? "unknown")\n"
                if let e = d.elf {
                    let counts = Dictionary(grouping: e.notes, by: { "\(TerminalText.cut($0.name))/\($0.type)" }).mapValues(\.count)
                    s += "  notes: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + "\n"
                }
                if let st = d.stream { s += Self.streamText(st) }
                if let k = d.kdump {
                    s += "  kdump: \(k.container.rawValue), header version \(k.headerVersion), \(k.compression.isEmpty ? "uncompressed" : k.compression) pages, block size \(k.blockSize), max_mapnr \(k.maxMapnr), \(k.dumpablePages) blocks dumped, phys_base \(hex(k.physBase)), nr_cpus \(k.nrCPUs)\n"
                    if let why = k.incompleteReason { s += "  note: the dump is incomplete: \(why)\n" }
                    if !k.missingRanges.isEmpty {
                        var m = TextTable(header: ["MISSING START", "END", "BYTES"], rightAligned: [2])
                        for r in k.missingRanges { m.rows.append([r.start.description, hex(r.end - 1), String(r.length)]) }
                        s += m.render(indent: "  ")
                    }
                }
                if d.stream != nil {
                } else if let v = d.vmcoreinfo {
                    s += "  VMCOREINFO (\(v.count) keys):\n"
                    for kv in v { s += "    \(TerminalText.escape(kv.key))=\(TerminalText.escape(kv.value))\n" }
                } else {
                    s += "  VMCOREINFO: none\n"
                }
            }
            emit(s)
        }
    }

    static func streamText(_ st: MigrationStream) -> String {
        var s = "  machine: \(st.machine.map { TerminalText.escape($0) } ?? "not stated"), page size \(st.pageSize), JSON description: \(st.hasJSON ? "yes" : "no")"
        s += st.capabilities.isEmpty ? "\n" : ", capabilities: \(st.capabilities.map { TerminalText.escape($0) }.joined(separator: ", "))\n"
        for n in st.notes { s += "  note: \(TerminalText.escape(n))\n" }
        var b = TextTable(header: ["RAM BLOCK", "BYTES", "PAGES SENT", "GUEST PA", "MAPPING"], rightAligned: [1, 2])
        for blk in st.blocks {
            b.rows.append([blk.name, String(blk.length), String(blk.pagesSent), blk.gpa.map { hex($0) } ?? "-", blk.mapping])
        }
        s += b.render(indent: "  ")
        var d = TextTable(header: ["DEVICE SECTION", "INSTANCE", "VERSION", "OFFSET", "BYTES"], rightAligned: [1, 2, 4])
        for sec in st.sections {
            d.rows.append([sec.name, String(sec.instance), String(sec.version), hex(sec.offset), String(sec.length)])
        }
        s += d.render(indent: "  ")
        for (i, its) in st.registers.its.enumerated() {
            s += "  ITS \(i) registers\n"
            var t = TextTable(header: ["REGISTER", "VALUE", "SOURCE"])
            for (name, v, src) in Render.registerRows(its) { t.rows.append([name, hex(v), src]) }
            s += t.render(indent: "    ")
        }
        var r = TextTable(header: ["CPU", "GICR_PROPBASER", "GICR_PENDBASER"], rightAligned: [0])
        for rd in st.registers.redistributors {
            r.rows.append([String(rd.cpu), opt(rd.propbaser.map { hex($0.value.rawValue) }), opt(rd.pendbaser.map { hex($0.value.rawValue) })])
        }
        if !st.registers.redistributors.isEmpty { s += r.render(indent: "  ") }
        return s
    }

    static func streamJSON(_ st: MigrationStream) -> JSONValue {
        .object([
            "machine": .optional(st.machine) { .string($0) },
            "pageSize": .uint(st.pageSize),
            "hasJSON": .bool(st.hasJSON),
            "capabilities": .array(st.capabilities.map { .string($0) }),
            "notes": .array(st.notes.map { .string($0) }),
            "ramBlocks": .array(st.blocks.map { b in
                .object(["name": .string(b.name), "bytes": .uint(b.length), "pagesSent": .int(Int64(b.pagesSent)),
                         "gpa": .optional(b.gpa) { .hexString($0) }, "mapping": .string(b.mapping)])
            }),
            "sections": .array(st.sections.map { sec in
                .object(["name": .string(sec.name), "instance": .uint(UInt64(sec.instance)),
                         "version": .uint(UInt64(sec.version)), "offset": .hexString(sec.offset), "bytes": .uint(sec.length)])
            }),
            "its": .array(st.registers.its.map(Render.registersJSON)),
            "redistributors": Render.redistributorsJSON(st.registers.redistributors),
        ])
    }
}
