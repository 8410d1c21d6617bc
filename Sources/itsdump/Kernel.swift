import ArgumentParser
import CoreDumpReader
import GuestKernel
import KernelDWARF
import ITSLayout
import TextFormats
import ITSAnalysis

/// The guest kernel's view of a session: VMCOREINFO (a dump note, --vmcoreinfo, or found in
/// RAM), the address space it describes, and the driver walk through --vmlinux's debug info.
struct KernelView {
    let vmcoreinfo: VMCOREINFO
    let view: DriverView
    /// Where the types and symbols came from: "FILE (build ID …)", or the zero-config summary
    /// (with the irq walk's symbols once its thread is done).
    var typeSource: String { irqWalk?.value.typeSource ?? baseTypeSource }
    let baseTypeSource: String
    /// The zero-configuration path: how types and symbols were found, for every provenance.
    var via: String? = nil
    /// Linux irq numbers, action names and requesting devices of the ITS's LPIs (IRQWalker);
    /// on the zero-configuration path walked on a thread of its own while the tables are.
    var irqs: IRQView {
        get { irqWalk?.value.irqs ?? walkedIRQs }
        set {
            walkedIRQs = newValue
            irqWalk = nil
        }
    }
    var walkedIRQs = IRQView()
    var irqWalk: Background<(irqs: IRQView, typeSource: String)>?

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
        let info = try vmcoreinfo(session: session, file: vmcoreinfoFile, pointers: types.vmcoreinfoPointers)
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
        var k = KernelView(vmcoreinfo: info, view: view, baseTypeSource: "debug info: \(types.path) (build ID \(types.buildID ?? "unknown"))")
        k.irqs = IRQWalker.walk(types: types, space: space, memory: session.memory, driver: view)
        return k
    }

    static func addressSpace(_ info: VMCOREINFO, session: Session) throws -> KernelAddressSpace {
        do {
            return try KernelAddressSpace(info, memory: session.memory)
        } catch {
            throw DumpError.badArgument("VMCOREINFO (\(info.source)): \(error); pass --vmcoreinfo FILE with the guest's full VMCOREINFO")
        }
    }

    /// VMCOREINFO from --vmcoreinfo, the dump's note or sub-header, or found in guest RAM (up
    /// to the kernel image, with a vmlinux's `pointers`).
    static func vmcoreinfo(session: Session, file vmcoreinfoFile: String?, pointers: VMCOREINFOPointers? = nil,
                           inBackground: ZeroConfigKernel.InBackground? = nil) throws -> VMCOREINFO {
        var info: VMCOREINFO?
        if let f = vmcoreinfoFile {
            let bytes = try MappedFile.readSmall(path: f, maxBytes: 1 << 20, allowStandardInput: false)
            guard bytes.count < 1 << 20 else { throw DumpError.notADump(path: f, reason: "too large for a VMCOREINFO text") }
            info = VMCOREINFO(text: String(decoding: bytes, as: UTF8.self), source: "--vmcoreinfo \(f)")
        } else if let d = session.dumps.first(where: { $0.vmcoreinfo != nil }), let pairs = d.vmcoreinfo {
            info = VMCOREINFO(pairs: pairs, source: d.kind == .kdump ? "kdump sub-header of \(d.path)" : "ELF note of \(d.path)")
        } else {
            // The vCPUs' registers place the kernel image, whose kallsyms and code lead to the
            // text; the scan of RAM (ending at the image with a vmlinux's pointers) is what is left.
            let cpus = session.dumps.flatMap(\.reader.extractNotes)
                .filter { $0.name == "CORE" && $0.type == 1 }.compactMap { VCPURegisters(prstatus: $0.descriptor) }
            info = VMCOREINFOFromVCPUs.locate(cpus: cpus, memory: session.memory, inBackground: inBackground)
                ?? VMCOREINFO.scan(session.memory, pointers: pointers)
        }
        guard let info else {
            throw DumpError.badArgument("no VMCOREINFO: the dump has no VMCOREINFO note and none was found in guest RAM; pass --vmcoreinfo FILE (the guest's /sys/kernel/vmcoreinfo text, or the VMCOREINFO of another dump of the same boot)")
        }
        return info
    }
}

struct Driver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver",
        abstract: "The guest ITS driver's own view, read through the kernel's debug info.",
        discussion: """
            Walks its_nodes -> each its_node (ITS base, the GITS_BASER values the driver \
            programmed, the command queue) -> its_device_list (DeviceID, ITT, LPI base, allocated \
            events, per-event collection) and gic_rdists (property and pending tables), with \
            struct layouts from --vmlinux's DWARF and addresses translated through VMCOREINFO. \
            `diff DUMP --expected guest-kernel --vmlinux FILE` compares it with the tables.

            Example (Debian: the vmlinux of linux-image-RELEASE-dbg):
              itsdump driver core.elf --vmlinux /usr/lib/debug/boot/vmlinux-6.1.0-56-arm64
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let session = try Session(input)
        let k = try KernelView.load(session: session, input: input)
        try output.write(.driver(session, k), inputs: input.inputPaths)
    }
}
