import ITSLayout
import TextFormats

/// What kind of input a dump is: a stable id for scripts ("elf-core") and a name for people
/// ("ELF core"). Each format declares its own in its file.
public struct DumpKind: Hashable, Sendable, CustomStringConvertible {
    public let id: String
    /// The name people read ("ELF core"): in text output and in JSON `inputs[].kind`.
    public let rawValue: String
    public init(id: String, name: String) {
        self.id = id
        rawValue = name
    }
    public var description: String { rawValue }
}

/// What `Dump.open` hands a format: the file, already opened, or a directory (a format whose
/// snapshot is a folder of files).
public enum DumpInput {
    case file(MappedFile)
    case directory(path: String)

    public var path: String {
        switch self {
        case .file(let f): f.path
        case .directory(let p): p
        }
    }
}

/// How the caller wants an input read (command-line options that only some formats use).
public struct DumpOptions: Sendable {
    /// `--ram-block NAME@GPA` for migration streams.
    public var ramBlocks: [String: UInt64] = [:]
    /// `--snapshot ID|NAME`: the internal snapshot of a qcow2 image to read.
    public var snapshot: String?
    /// Called now and then during a long one-pass index, with (bytes done, bytes in all).
    public var progress: (@Sendable (UInt64, UInt64) -> Void)?
    public init(ramBlocks: [String: UInt64] = [:], snapshot: String? = nil,
                progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) {
        self.ramBlocks = ramBlocks
        self.snapshot = snapshot
        self.progress = progress
    }
}

/// One dump format, in one file: how it is recognised (by content, never by extension), and
/// what an opened dump gives. A new format is a new conformance and one line in `Dump.formats`.
public protocol DumpFormat: AnyObject, Sendable {
    static var kind: DumpKind { get }
    /// The member of `info`'s JSON that holds this format's details; present (null) for the
    /// inputs of other formats, so that every document has the same keys.
    static var infoKey: String? { get }
    static func matches(_ input: DumpInput) -> Bool
    static func load(_ input: DumpInput, options: DumpOptions) throws(DumpError) -> any DumpFormat

    var memory: any GuestMemory { get }
    /// vCPUs the dump says the guest had (NT_PRSTATUS notes, a stream's GIC CPUs), if it says.
    var vcpuCount: Int? { get }
    /// VMCOREINFO as key/value pairs, in file order, when the dump carries it.
    var vmcoreinfo: [(key: String, value: String)]? { get }
    /// The ITS and GIC registers, for formats that carry them (a migration stream).
    var registers: RegisterState? { get }
    /// The notes `extract` copies into its ELF core (vCPU registers, VMCOREINFO).
    var extractNotes: [ELFCore.Note] { get }
    /// What the reader inferred or could not do, in plain words.
    var readerNotes: [String] { get }
    /// Format-specific facts for `info`: text lines (indented two spaces) and a JSON member.
    var details: DumpDetails { get }
    /// Why the dump is incomplete (cut short, or marked so by its writer), or nil. A reader may
    /// answer from what it has read so far when a check of the whole dump would cost a pass
    /// over it (a large kdump: `KdumpFile.incompleteReason` says when).
    var incompleteReason: String? { get }
    /// The guest-physical ranges the dump lists but the file does not hold (always exact).
    var missingRanges: [GuestRange] { get }
    /// The QEMU migration stream the input holds (a stream file, a qcow2 snapshot's vmstate),
    /// for what only a stream says (its PCI devices), or nil.
    var migrationStream: MigrationStream? { get }
}

/// A format whose dump is one file read by an `init(file:options:)`: recognised by its first
/// bytes, never a directory.
public protocol FileDumpFormat: DumpFormat, GuestMemory {
    static func matches(_ file: MappedFile) -> Bool
    init(file: MappedFile, options: DumpOptions) throws(DumpError)
}

extension FileDumpFormat {
    public static func matches(_ input: DumpInput) -> Bool {
        if case .file(let f) = input { return matches(f) }
        return false
    }
    public static func load(_ input: DumpInput, options: DumpOptions) throws(DumpError) -> any DumpFormat {
        guard case .file(let f) = input else { throw .notADump(path: input.path, reason: "a directory, not a \(kind.rawValue)") }
        return try Self(file: f, options: options)
    }
    public var memory: any GuestMemory { self }
}

extension DumpFormat {
    public static var infoKey: String? { nil }
    public var vcpuCount: Int? { nil }
    public var vmcoreinfo: [(key: String, value: String)]? { nil }
    public var registers: RegisterState? { nil }
    public var extractNotes: [ELFCore.Note] { [] }
    public var readerNotes: [String] { [] }
    public var details: DumpDetails { DumpDetails() }
    public var incompleteReason: String? { nil }
    public var migrationStream: MigrationStream? { nil }
    public var missingRanges: [GuestRange] { [] }
}

/// What `info` shows of one format beyond RAM ranges, vCPUs and VMCOREINFO.
public struct DumpDetails: Sendable {
    public var text: String = ""
    /// Members of the input's `info` JSON object ("stream", "kdump", "notes").
    public var json: [String: JSONValue] = [:]
    /// Whether `info` lists VMCOREINFO for it (a stream has none to list).
    public var listsVMCOREINFO = true
    public init(text: String = "", json: [String: JSONValue] = [:], listsVMCOREINFO: Bool = true) {
        self.text = text
        self.json = json
        self.listsVMCOREINFO = listsVMCOREINFO
    }
}

/// One input: a file recognised by its content, or `FILE@GPA` for a raw RAM image.
public struct Dump: Sendable {
    /// Every format recognised by content, tried in order.
    public static let formats: [any DumpFormat.Type] = [
        ELFCore.self, KdumpFile.self, MigrationStream.self, Qcow2Snapshot.self, CloudHypervisorDump.self,
    ]

    public let kind: DumpKind
    public let path: String
    public let reader: any DumpFormat

    public var memory: any GuestMemory { reader.memory }
    public var vcpuCount: Int? { reader.vcpuCount }
    public var vmcoreinfo: [(key: String, value: String)]? { reader.vmcoreinfo }
    /// Registers the input itself carries (a migration stream), or nil.
    public var registers: RegisterState? { reader.registers }

    // The readers behind the protocol, for what only one format has (tests, `extract`).
    public var elf: ELFCore? { reader as? ELFCore }
    public var stream: MigrationStream? { reader.migrationStream }
    public var kdump: KdumpFile? { reader as? KdumpFile }

    /// Opens `spec`: `FILE@GPA` (hex or decimal) is a raw image; anything else is recognised
    /// by content, never by extension.
    /// - Parameter snapshot: `--snapshot ID|NAME`, the qcow2 internal snapshot to read.
    public static func open(_ spec: String, ramBlocks: [String: UInt64] = [:], snapshot: String? = nil,
                            progress: (@Sendable (UInt64, UInt64) -> Void)? = nil) throws(DumpError) -> Dump {
        let options = DumpOptions(ramBlocks: ramBlocks, snapshot: snapshot, progress: progress)
        // Dumps are read by offset (page tables, descriptors at the end of a stream): a pipe
        // cannot serve them. (Register and expected-state files do take "-".)
        if spec == "-", !FileOutput.exists(spec) {
            throw .badArgument("-: a dump cannot come from standard input (itsdump reads a dump at any offset); give the file's path")
        }
        if !FileOutput.exists(spec), let at = spec.lastIndex(of: "@") {
            let path = String(spec[..<at])
            let gpaText = String(spec[spec.index(after: at)...])
            guard let gpa = parseInteger(gpaText) else {
                throw .badArgument("\(spec): '\(gpaText)' is not a guest-physical address (write FILE@0x40000000)")
            }
            let raw = try RawImage(file: MappedFile(path: path), base: GuestPhysicalAddress(gpa))
            return Dump(kind: RawImage.kind, path: path, reader: raw)
        }
        let input: DumpInput
        if FileOutput.isDirectory(spec) {
            input = .directory(path: spec)
        } else {
            let file = try MappedFile(path: spec)
            input = .file(file)
        }
        for format in formats where format.matches(input) {
            return try open(format, input, path: spec, options: options)
        }
        guard case .file(let file) = input else {
            throw .notADump(path: spec, reason: "a directory, and not a snapshot directory itsdump reads")
        }
        let names = formats.map { $0.kind.rawValue }.joined(separator: ", ")
        throw .notADump(path: spec,
            reason: "not a recognised dump (\(names) expected, found \(file.bytes(at: 0, count: min(8, Int(file.size))).map { $0.map { hexByte($0) }.joined(separator: " ") } ?? "nothing")); for a raw RAM image write FILE@GPA, e.g. ram.img@0x40000000")
    }
}

extension Dump {
    /// One format's reader over `input` (apart, so that the loop over formats stays simple).
    static func open<F: DumpFormat>(_ format: F.Type, _ input: DumpInput, path: String,
                                    options: DumpOptions) throws(DumpError) -> Dump {
        Dump(kind: F.kind, path: path, reader: try F.load(input, options: options))
    }
}

extension Dump {
    /// What the input itself says is wrong with it, as findings: a dump cut short lists its
    /// missing ranges, so that routes and check never read as "complete RAM, no routes, exit 0".
    public var inputFindings: [Finding] {
        guard let why = reader.incompleteReason else { return [] }
        return [Finding(.dumpIncomplete, address: reader.missingRanges.first?.start,
                        "\(TerminalText.cut(path)): the dump is incomplete: \(why)")]
    }
}

/// `KEY=VALUE` lines (Documentation/input-formats.md §6.1).
public func parseVMCOREINFO(_ text: String) -> [(key: String, value: String)] { keyValueLines(text) }
