import ArgumentParser
import CoreDumpReader
import GuestKernel
import ITSLayout

/// The guest kernel's view of a session: VMCOREINFO (a dump note, --vmcoreinfo, or found in
/// RAM), the address space it describes, and the driver walk through --vmlinux's debug info.
struct KernelView {
    let vmcoreinfo: VMCOREINFO
    let view: DriverView
    /// Where the types and symbols came from: "FILE (build ID …)", or the zero-config summary.
    let typeSource: String
    /// The zero-configuration path: how types and symbols were found, for every provenance.
    var via: String? = nil

    /// The registers the driver programmed; on the zero-configuration path each provenance
    /// also says "via BTF in guest RAM and kallsyms" (or --btf's file).
    var registers: RegisterState {
        var state = view.registers
        guard let via else { return state }
        func mark<V>(_ v: inout Sourced<V>?) { v?.provenance.detail += " via \(via)" }
        for i in state.its.indices {
            mark(&state.its[i].base); mark(&state.its[i].typer); mark(&state.its[i].cbaser); mark(&state.its[i].cwriter)
            for b in 0..<8 { mark(&state.its[i].baser[b]) }
        }
        for i in state.redistributors.indices { mark(&state.redistributors[i].propbaser); mark(&state.redistributors[i].pendbaser) }
        return state
    }

    static func load(session: Session, vmlinux: String, vmcoreinfoFile: String?) throws -> KernelView {
        let types = try DWARFKernelTypes(path: vmlinux)
        let info = try vmcoreinfo(session: session, file: vmcoreinfoFile)
        // The debug info must be this kernel's: build ID first, release otherwise.
        if let want = info["BUILD-ID"], let have = types.buildID, want != have {
            throw DumpError.badArgument("\(vmlinux) is another build: its build ID \(have) is not the guest's \(want) (VMCOREINFO BUILD-ID); pass the debug vmlinux of release \(info["OSRELEASE"] ?? "?")")
        }
        if info["BUILD-ID"] == nil || types.buildID == nil, let want = info["OSRELEASE"], let have = types.release, want != have {
            throw DumpError.badArgument("\(vmlinux) is release \(have), the guest runs \(want) (VMCOREINFO OSRELEASE)")
        }
        let space = try addressSpace(info, session: session)
        var view = try DriverWalker.walk(types: types, space: space, memory: session.memory, cpus: session.vcpuCount)
        view.vmcoreinfoSource = info.source
        return KernelView(vmcoreinfo: info, view: view, typeSource: "debug info: \(types.path) (build ID \(types.buildID ?? "unknown"))")
    }

    static func addressSpace(_ info: VMCOREINFO, session: Session) throws -> KernelAddressSpace {
        do {
            return try KernelAddressSpace(info, memory: session.memory)
        } catch {
            throw DumpError.badArgument("VMCOREINFO (\(info.source)): \(error); pass --vmcoreinfo FILE with the guest's full VMCOREINFO")
        }
    }

    /// VMCOREINFO from --vmcoreinfo, the dump's note or sub-header, or found in guest RAM.
    static func vmcoreinfo(session: Session, file vmcoreinfoFile: String?) throws -> VMCOREINFO {
        var info: VMCOREINFO?
        if let f = vmcoreinfoFile {
            let file = try MappedFile(path: f)
            guard file.size < 1 << 20 else { throw DumpError.notADump(path: f, reason: "too large for a VMCOREINFO text") }
            info = VMCOREINFO(text: String(decoding: file.bytes(at: 0, count: Int(file.size)) ?? [], as: UTF8.self), source: "--vmcoreinfo \(f)")
        } else if let d = session.dumps.first(where: { $0.vmcoreinfo != nil }), let pairs = d.vmcoreinfo {
            info = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
                              source: d.kind == .kdump ? "kdump sub-header of \(d.path)" : "ELF note of \(d.path)")
        } else {
            info = VMCOREINFO.scan(session.memory)
        }
        guard let info else {
            throw DumpError.badArgument("no VMCOREINFO: the dump has no VMCOREINFO note and none was found in guest RAM; pass --vmcoreinfo FILE (the guest's /sys/kernel/vmcoreinfo text, or the VMCOREINFO of another dump of the same boot)")
        }
        return info
    }
}

struct Driver: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The guest ITS driver's own view, read through the kernel's debug info.",
        discussion: """
            Walks its_nodes → each its_node (ITS base, the GITS_BASER values the driver \
            programmed, the command queue) → its_device_list (DeviceID, ITT, LPI base, allocated \
            events, per-event collection) and gic_rdists (property and pending tables), with \
            struct layouts from --vmlinux's DWARF and addresses translated through VMCOREINFO.
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard output.output != .dot else { throw ValidationError("driver has no dot output; use text or json") }
    }

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks)
        let k = try KernelView.load(session: session, input: input)
        let v = k.view
        if output.output == .json {
            emit(JSONValue.object([
                "schemaVersion": .int(1), "command": .string("driver"), "inputs": Routes.inputsJSON(session),
                "vmcoreinfo": .string(v.vmcoreinfoSource), "cpus": .int(Int64(v.cpus)),
                "propTable": .optional(v.propTable) { .hexString($0.rawValue) },
                "pendingTables": .array(v.pendingTables.map { .object(["cpu": .uint(UInt64($0.cpu)), "address": .hexString($0.address.rawValue)]) }),
                "its": .array(v.its.map { n in
                    .object([
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
                }),
                "routes": .array(v.routes.map { r in
                    .object(["its": .int(Int64(r.its)), "deviceID": .uint(UInt64(r.deviceID.rawValue)), "eventID": .uint(UInt64(r.eventID.rawValue)),
                             "lpi": .uint(UInt64(r.lpi.rawValue)), "icid": .uint(UInt64(r.icid.rawValue)), "vcpu": .uint(UInt64(r.cpu))])
                }),
                "problems": .array(v.problems.map { .string($0) }),
            ]).render())
            return
        }
        var s = "input: \(session.inputLines.joined(separator: "; "))\nVMCOREINFO: \(v.vmcoreinfoSource) (OSRELEASE \(k.vmcoreinfo["OSRELEASE"] ?? "?"))\n"
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
        s += "\(v.routes.count) mappings the driver holds\n"
        for p in v.problems { s += "problem: \(p)\n" }
        emit(s)
    }
}
