import ITSLayout

/// One input: a file recognised by its content, or `FILE@GPA` for a raw RAM image.
public struct Dump: Sendable {
    public enum Kind: String, Sendable {
        case elfCore = "ELF core"
        case raw = "raw RAM image"
        case migrationStream = "QEMU migration stream"
        case kdump = "kdump-compressed dump"
    }

    public let kind: Kind
    public let path: String
    public let memory: any GuestMemory
    /// NT_PRSTATUS notes (ELF); nil where the format does not say.
    public let vcpuCount: Int?
    /// VMCOREINFO as key/value pairs, in file order.
    public let vmcoreinfo: [(key: String, value: String)]?
    /// The ELF core, for `extract` (notes are copied).
    public let elf: ELFCore?
    /// The migration stream, which also carries the ITS and GIC registers.
    public var stream: MigrationStream? = nil
    /// The kdump file.
    public var kdump: KdumpFile? = nil
    /// Registers the input itself carries (a migration stream, or an extract's `ITSDUMP` note), or nil.
    public var registers: RegisterState? { stream?.registers ?? noteRegisters }
    public var noteRegisters: RegisterState? = nil

    /// Opens `spec`: `FILE@GPA` (hex or decimal) is a raw image; anything else is recognised
    /// by content, never by extension.
    public static func open(_ spec: String, ramBlocks: [String: UInt64] = [:],
                            progress: ((UInt64, UInt64) -> Void)? = nil) throws(DumpError) -> Dump {
        if !FileOutput.exists(spec), let at = spec.lastIndex(of: "@") {
            let path = String(spec[..<at])
            let gpaText = String(spec[spec.index(after: at)...])
            guard let gpa = parseInteger(gpaText) else {
                throw .badArgument("\(spec): '\(gpaText)' is not a guest-physical address (write FILE@0x40000000)")
            }
            let raw = try RawImage(file: MappedFile(path: path), base: GuestPhysicalAddress(gpa))
            return Dump(kind: .raw, path: path, memory: raw, vcpuCount: nil, vmcoreinfo: nil, elf: nil)
        }
        let file = try MappedFile(path: spec)
        if ELFCore.matches(file) {
            let core = try ELFCore(file: file)
            var d = Dump(kind: .elfCore, path: spec, memory: core,
                         vcpuCount: core.vcpuCount > 0 ? core.vcpuCount : nil,
                         vmcoreinfo: core.vmcoreinfo.map(parseVMCOREINFO), elf: core)
            d.noteRegisters = try RegistersNote.registers(in: core.notes, path: spec)
            return d
        }
        if KdumpFile.matches(file) {
            let k = try KdumpFile(file: file)
            let prstatus = k.notes.filter { $0.name == "CORE" && $0.type == 1 }.count
            var d = Dump(kind: .kdump, path: spec, memory: k,
                         vcpuCount: prstatus > 0 ? prstatus : (k.nrCPUs > 0 ? Int(k.nrCPUs) : nil),
                         vmcoreinfo: k.vmcoreinfo.map(parseVMCOREINFO), elf: nil)
            d.kdump = k
            return d
        }
        if MigrationStream.matches(file) {
            let s = try MigrationStream(file: file, ramBlocks: ramBlocks, progress: progress)
            var d = Dump(kind: .migrationStream, path: spec, memory: s, vcpuCount: s.gicCPUs, vmcoreinfo: nil, elf: nil)
            d.stream = s
            return d
        }
        throw .notADump(path: spec,
            reason: "not a recognised dump (ELF core, kdump-compressed dump or QEMU migration stream expected, found \(file.bytes(at: 0, count: min(8, Int(file.size))).map { $0.map { hexByte($0) }.joined(separator: " ") } ?? "nothing")); for a raw RAM image write FILE@GPA, e.g. ram.img@0x40000000")
    }
}

/// `KEY=VALUE` lines (input-formats.md §6.1).
public func parseVMCOREINFO(_ text: String) -> [(key: String, value: String)] {
    text.split(separator: "\n").compactMap { line -> (key: String, value: String)? in
        let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return (key: String(parts[0]), value: String(parts[1]))
    }
}
