import CoreDumpReader
import GuestKernel
import ITSLayout

/// The zero-configuration path (issue 20): with no register source and no --vmlinux, the
/// driver's view from the dump alone — kallsyms, the kernel's BTF (in guest RAM, or --btf) and
/// the driver's data symbols found and validated in the kernel image (`ZeroConfigKernel`).
extension KernelView {
    /// --vmlinux when given (it wins), else the zero-configuration path.
    static func load(session: Session, input: InputOptions) throws -> KernelView {
        if let vmlinux = input.vmlinux { return try load(session: session, vmlinux: vmlinux, vmcoreinfoFile: input.vmcoreinfo) }
        return try loadZeroConfig(session: session, btf: input.btf, vmcoreinfoFile: input.vmcoreinfo)
    }

    /// Ways to give registers, for the message when the zero-configuration path fails.
    static let registerWays = "give --regs FILE.json (the state file, see README), --baser N=0x… flags, a migration stream (or --regs-from it), --vmlinux FILE (the guest's debug vmlinux) or --btf FILE (its /sys/kernel/btf/vmlinux)"

    static func loadZeroConfig(session: Session, btf: String?, vmcoreinfoFile: String?) throws -> KernelView {
        var tried: [String] = []
        func fail(_ why: String) -> DumpError {
            .badArgument("no ITS registers and no driver view: \((tried + [why]).joined(separator: "; ")); \(registerWays)")
        }
        let info: VMCOREINFO
        let inBackground: ZeroConfigKernel.InBackground = { work in
            let b = Background(work)
            return { b.value }
        }
        do { info = try vmcoreinfo(session: session, file: vmcoreinfoFile, inBackground: btf == nil ? inBackground : nil) } catch {
            throw fail("VMCOREINFO: neither a note, --vmcoreinfo nor a scan of guest RAM gave it")
        }
        tried.append("VMCOREINFO from \(info.source)")
        let space: KernelAddressSpace
        do { space = try KernelAddressSpace(info, memory: session.memory) } catch { throw fail("VMCOREINFO (\(info.source)): \(error)") }
        var file: (bytes: [UInt8], path: String)?
        if let btf {
            let f = try MappedFile(path: btf)
            guard f.size <= BTF.maxBytes, let bytes = f.bytes(at: 0, count: Int(f.size)) else {
                throw DumpError.notADump(path: btf, reason: "not a BTF file of a kernel (more than \(BTF.maxBytes >> 20) MiB, or unreadable)")
            }
            file = (bytes, btf)
        }
        let kernel: ZeroConfigKernel
        do {
            kernel = try ZeroConfigKernel.load(vmcoreinfo: info, space: space, memory: session.memory, btfFile: file, cpus: session.vcpuCount,
                                               irqSymbols: false, inBackground: inBackground)
        } catch {
            throw fail(error.description)
        }
        var view: DriverView
        do {
            view = try DriverWalker.walk(types: kernel.types, space: space, memory: session.memory, cpus: kernel.cpus)
        } catch {
            throw fail("the driver walk: \(error)")
        }
        if view.lpiIDBits == nil { view.lpiIDBits = kernel.lpiIDBits(space: space, memory: session.memory) }
        view.vmcoreinfoSource = info.source
        let via = kernel.btfSource.hasPrefix("BTF in guest RAM") ? "BTF in guest RAM and kallsyms" : "\(kernel.btfSource) and kallsyms"
        var k = KernelView(vmcoreinfo: info, view: view, baseTypeSource: "guest kernel: \(kernel.summary)", via: via)
        // The irq descriptors through the same type source (a type it lacks is a problem, not
        // an error), their symbols found and the walk made on a thread of its own while the
        // tables are walked: only the names need them.
        let memory = session.memory
        k.irqWalk = Background { [view] in
            let full = kernel.withIRQSymbols(space: space, memory: memory)
            var irqs = IRQWalker.walk(types: full.types, space: space, memory: memory, driver: view)
            if !full.irqProblems.isEmpty { irqs.problems = full.irqProblems + irqs.problems }
            return (irqs, "guest kernel: \(full.summary)")
        }
        return k
    }
}
