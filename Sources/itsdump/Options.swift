import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

/// `N=0x…`: an index and a 64-bit value (`--baser 0=0x…`, `--pendbaser 2=0x…`).
struct IndexedValue: ExpressibleByArgument, Sendable {
    var index: Int
    var value: UInt64
    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let i = Int(parts[0]), i >= 0, let v = parseInteger(String(parts[1])) else {
            return nil
        }
        index = i
        value = v
    }
}

/// A 64-bit register value, hex with 0x or decimal.
struct RegisterValue: ExpressibleByArgument, Sendable {
    var value: UInt64
    init?(argument: String) {
        guard let v = parseInteger(argument) else { return nil }
        value = v
    }
}

/// `NAME@GPA` for `--ram-block`.
struct RAMBlockMapping: ExpressibleByArgument, Sendable {
    var name: String
    var gpa: UInt64
    init?(argument: String) {
        guard let at = argument.lastIndex(of: "@"), let v = parseInteger(String(argument[argument.index(after: at)...])) else {
            return nil
        }
        name = String(argument[..<at])
        gpa = v
        if name.isEmpty { return nil }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, dot
}

extension ITSFormat: ExpressibleByArgument {}

struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The snapshot, recognised by content: an ELF core (dump-guest-memory, virsh dump --memory-only), a kdump-compressed dump (virsh dump --format kdump-*), a QEMU migration stream or virsh save image, a qcow2 image with an internal snapshot (savevm), a Cloud Hypervisor snapshot directory, or raw RAM images as FILE@GPA (repeatable; offset 0 of FILE is guest-physical address GPA).",
        valueName: "DUMP"), completion: .file())
    var dumps: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "The internal snapshot of a qcow2 DUMP to read, by ID or name (HMP `info snapshots`, `qemu-img snapshot -l`). Default: the only one with a VM state.",
        valueName: "NAME|ID"))
    var snapshot: String?

    @Option(name: .long, help: ArgumentHelp(
        "Register state file (JSON: what `itsdump regs --format json` writes; - reads standard input). ELF cores, kdump files and raw images hold guest RAM only: GITS_BASER, GITS_TYPER and the redistributor registers live in the ITS and must come from here, from the register flags (`itsdump help registers`), --vmlinux, or a migration stream.",
        valueName: "FILE.json"), completion: .file())
    var regs: String?

    @Option(name: .long, help: ArgumentHelp(
        "Take the registers from this migration stream (its arm_gicv3_its and arm_gicv3 sections) while the RAM comes from DUMP, e.g. an ELF core of the same stop.",
        valueName: "STREAM"), completion: .file())
    var regsFrom: String?

    @Option(name: .long, help: ArgumentHelp(
        "Map a migration stream's RAM block at a guest-physical address, e.g. ram0@0x40000000. Default: mach-virt.ram (or a virt machine's only RAM block) at 0x40000000, pvtime at 0x90a0000; other blocks are listed by info but not mapped. Repeatable.",
        valueName: "NAME@GPA"))
    var ramBlock: [RAMBlockMapping] = []

    @OptionGroup(title: "Register flags (ITS 0): shown by --help-hidden and `itsdump help registers`", visibility: .hidden)
    var flags: RegisterFlags

    @Option(name: .long, help: ArgumentHelp(
        "The guest kernel's debug vmlinux (DWARF): the driver's records give the registers when no other source does, and `driver` / `diff --expected guest-kernel` read them.",
        valueName: "FILE"), completion: .file())
    var vmlinux: String?

    @Option(name: .long, help: ArgumentHelp(
        "A BTF file of the guest kernel (a copy of its /sys/kernel/btf/vmlinux), for a dump whose in-memory .BTF is missing or damaged: the zero-configuration path then reads types from it.",
        valueName: "FILE"), completion: .file())
    var btf: String?

    @Option(name: .long, help: ArgumentHelp(
        "The guest's VMCOREINFO text, when the dump carries no VMCOREINFO note and the scan of guest RAM finds none.",
        valueName: "FILE"), completion: .file())
    var vmcoreinfo: String?

    @Option(name: .long, help: ArgumentHelp(
        "Table entry format: kvm (KVM's ITS table ABI rev 0) or qemu (QEMU's emulated ITS). Default: from GITS_TYPER.ITT_entry_size, else GITS_IIDR.",
        valueName: "kvm|qemu"))
    var abi: ITSFormat?

    /// Every file this command reads (the output must not replace one of them).
    var inputPaths: [String] {
        dumps.map(InputPath.file(of:)) + [regs, regsFrom, vmlinux, btf, vmcoreinfo].compactMap { $0 }
    }

    var ramBlocks: [String: UInt64] {
        Dictionary(ramBlock.map { ($0.name, $0.gpa) }, uniquingKeysWith: { _, b in b })
    }

    /// The registers of `--regs-from STREAM`, or nil without the option.
    func registersFrom() throws -> RegisterState? {
        guard let regsFrom else { return nil }
        let d = try Dump.open(regsFrom, ramBlocks: ramBlocks, snapshot: snapshot)
        guard let r = d.registers else {
            throw DumpError.badArgument("--regs-from \(regsFrom): a \(d.kind.rawValue) carries no registers; give a migration stream, a qcow2 internal snapshot or a Cloud Hypervisor snapshot")
        }
        return r
    }

    /// The register flags as a state. `--propbaser` is every CPU's: of the vCPUs the dump
    /// says, or as many as `knownCPUs` (the redistributors other sources gave).
    func flagRegisters(vcpuCount: Int?, knownCPUs: Int) -> RegisterState {
        var fromFlags = RegisterState()
        var its = ITSRegisterState()
        func p(_ f: String) -> Provenance { Provenance(.flag, f) }
        let given: [(ITSRegister, UInt64?)] = [
            (.base, flags.itsBase?.value), (.ctlr, flags.ctlr?.value), (.iidr, flags.iidr?.value), (.typer, flags.typer?.value),
            (.cbaser, flags.cbaser?.value), (.cwriter, flags.cwriter?.value), (.creadr, flags.creadr?.value),
        ] + flags.baser.map { (.baser($0.index), $0.value) }
        for (r, value) in given { if let value { its[r] = Sourced(value, p(r.flag)) } }
        if its != ITSRegisterState() { fromFlags.its = [its] }
        var cpus = Set(flags.pendbaser.map { UInt32($0.index) })
        if flags.propbaser != nil {
            let n = max(vcpuCount ?? 0, knownCPUs)
            for c in 0..<n { cpus.insert(UInt32(c)) }
        }
        for c in cpus.sorted() {
            var rd = RedistributorState(cpu: c)
            if let v = flags.propbaser { rd.propbaser = Sourced(GICRPropBaser(rawValue: v.value), p("--propbaser")) }
            if let v = flags.pendbaser.last(where: { UInt32($0.index) == c }) {
                rd.pendbaser = Sourced(GICRPendBaser(rawValue: v.value), p("--pendbaser \(c)"))
            }
            fromFlags.redistributors.append(rd)
        }
        return fromFlags
    }
}

/// The register flags of ITS 0, one group: hidden from each command's help (they would repeat
/// sixty lines there) and shown whole by `--help-hidden` and `itsdump help registers`.
struct RegisterFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "GITS_BASER<N> of ITS 0, e.g. 0=0xf9070000425a0600. A BASER says where a table is (Physical_Address), how big (Size, Page_Size), whether it is two-level (Indirect) and what it holds (Type 1 devices, 4 collections). Repeatable; overrides --regs.",
        valueName: "N=0x…"))
    var baser: [IndexedValue] = []

    @Option(name: .long, help: ArgumentHelp("GITS_TYPER of ITS 0: ITT entry size, DeviceID/EventID bits, PTA.", valueName: "0x…"))
    var typer: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("GITS_IIDR of ITS 0 (0x4b00043b: KVM; 0x43b: QEMU's emulated ITS).", valueName: "0x…"))
    var iidr: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("GITS_CTLR of ITS 0.", valueName: "0x…"))
    var ctlr: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("GITS_CBASER of ITS 0 (command queue).", valueName: "0x…"))
    var cbaser: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("GITS_CWRITER of ITS 0.", valueName: "0x…"))
    var cwriter: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("GITS_CREADR of ITS 0.", valueName: "0x…"))
    var creadr: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("Guest-physical base of ITS 0 (the virt machine's is 0x8080000).", valueName: "0x…"))
    var itsBase: RegisterValue?
    @Option(name: .long, help: ArgumentHelp(
        "GICR_PROPBASER (LPI property table: enable bit and priority of each LPI) for every CPU.", valueName: "0x…"))
    var propbaser: RegisterValue?
    @Option(name: .long, help: ArgumentHelp(
        "GICR_PENDBASER of one CPU (its LPI pending table), e.g. 1=0x425e0780. Repeatable.", valueName: "CPU=0x…"))
    var pendbaser: [IndexedValue] = []

    func validate() throws {
        for b in baser where b.index > 7 {
            throw ValidationError("--baser \(b.index)=…: GITS_BASER indices are 0 to 7")
        }
        for p in pendbaser where p.index > 65535 {
            throw ValidationError("--pendbaser \(p.index)=…: CPU number out of range")
        }
    }
}
