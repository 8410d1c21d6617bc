import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a small ELF core with only the pages the ITS walk reads.",
        discussion: """
            The extract holds the device and collection tables, level-2 pages, ITTs and the \
            property and pending bytes the routes use (whole 4 KiB pages), plus the input's ELF \
            notes and the registers used (an ITSDUMP note). `itsdump routes` on the extract, with \
            no flags, equals `routes` on the full dump: share a bug without sharing the guest's memory.
            """)

    @OptionGroup var input: InputOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the extract.", valueName: "FILE"))
    var out: String

    /// Every file this run reads: an output that is one of them (same device and inode,
    /// through symlinks and hard links) would destroy the input it is made from.
    var inputPaths: [String] {
        let dumps = input.dumps.map { spec -> String in
            if FileOutput.exists(spec) { return spec }
            return spec.lastIndex(of: "@").map { String(spec[..<$0]) } ?? spec
        }
        return dumps + [input.regs, input.regsFrom, input.vmlinux, input.vmcoreinfo].compactMap { $0 }.filter { $0 != "-" }
    }

    func run() throws {
        if let target = FileIdentity(path: out) {
            for p in inputPaths where FileIdentity(path: p) == target {
                throw DumpError.badArgument("-o \(out) is the input \(p) (same file): extract never writes over its inputs; choose another output path")
            }
        }
        let session = try Session(input)
        let a = try session.analyse(input)
        // What the analysis reads besides the walk: the command queue ring and the scanned part
        // of every pending table (StateChecks).
        var extra: [GuestRange] = a.queues.compactMap { $0.map { GuestRange(start: $0.base, length: UInt64($0.slots) * 32) } }
        for rd in a.registers.redistributors {
            guard let pend = rd.pendbaser?.value, let prop = (rd.propbaser ?? a.registers.redistributors.first?.propbaser)?.value else { continue }
            let limit = min(prop.intidLimit, StateChecks.maxPendingLPIs)
            if limit > 8192 { extra.append(GuestRange(start: pend.physicalAddress, length: limit / 8)) }
        }
        var wanted = Set(a.tables.flatMap(\.touchedPages) + a.graphs.flatMap(\.touchedPages))
        for r in extra where r.length > 0 {
            var p = r.start.rawValue / 4096 * 4096
            while p < r.end {
                if session.memory.contains(GuestRange(start: GuestPhysicalAddress(p), length: 4096)) { wanted.insert(p) }
                p += 4096
            }
        }
        let pages = wanted.sorted()
        var ranges: [ELFCoreWriter.Range] = []
        var i = 0
        while i < pages.count {
            var j = i
            while j + 1 < pages.count, pages[j + 1] == pages[j] + 4096 { j += 1 }
            let start = GuestPhysicalAddress(pages[i])
            if case .bytes(let b) = session.memory.read(start, count: (j - i + 1) * 4096) {
                ranges.append(ELFCoreWriter.Range(address: start, bytes: b))
            }
            i = j + 1
        }
        // The input's notes (vCPU registers, VMCOREINFO): an ELF core's PT_NOTE or a kdump file's
        // sub-header. A migration stream has none: save its registers with `itsdump regs`.
        // Plus the registers used, with their provenance, in itsdump's own note (an input's
        // older ITSDUMP note is replaced).
        var state = RegisterStateFile.document(a.registers).objectValue ?? [:]
        state["provenance"] = .object(RegistersNote.provenance(a.registers))
        let notes = session.dumps.flatMap(\.reader.extractNotes).filter { $0.name != RegistersNote.name }
            + [RegistersNote.note(json: Array(JSONValue.object(state).render().utf8))]
        try ELFCoreWriter.write(path: out, notes: notes, ranges: ranges)
        let bytes = ranges.reduce(0) { $0 + $1.bytes.count }
        emit("wrote \(out): \(ranges.count) ranges, \(bytes) bytes of guest memory (\(pages.count) pages), \(notes.count) notes\n")
    }
}
