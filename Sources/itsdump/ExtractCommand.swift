import ArgumentParser
import CoreDumpReader
import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis
import Glibc

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Write a small ELF core with only the pages the ITS walk reads.",
        discussion: """
            The extract holds the device and collection tables, level-2 pages, ITTs, the \
            command queue and the property and pending bytes the analysis uses (whole 4 KiB \
            pages), plus the input's ELF notes and the registers used (an ITSDUMP note). \
            `itsdump routes` on the extract, with no flags, equals `routes` on the full dump: \
            share a bug without sharing the guest's memory. The file is written whole \
            (temporary file, fsync, rename) and never over an input.

            Example:
              itsdump extract core.elf --regs its-regs.json -o small.elf
            """)

    @OptionGroup var input: InputOptions
    @Option(name: [.customShort("o"), .customLong("output-file")], help: ArgumentHelp(
        "Where to write the extract (an ELF core); - writes it to standard output (not a terminal) and the summary to standard error.",
        valueName: "FILE"), completion: .file())
    var outputFile: String?
    @Option(name: .customLong("out"), help: ArgumentHelp("The former name of --output-file, kept for scripts.", visibility: .hidden))
    var legacyOut: String?
    /// The summary is text or JSON; an extract has no graph.
    enum SummaryFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
    @Option(name: [.customShort("f"), .long], help: ArgumentHelp(
        "Format of the summary: text, or json (Documentation/schema/extract.schema.json).", valueName: "text|json"))
    var format: SummaryFormat = .text
    @Option(name: .customLong("output"), help: ArgumentHelp("The former name of --format, kept for scripts.", visibility: .hidden))
    var legacyFormat: SummaryFormat?
    @Flag(name: [.short, .long], help: "No summary.")
    var quiet = false

    /// Where the extract goes (-o, or the old --out).
    var out: String { outputFile ?? legacyOut ?? "" }

    func validate() throws {
        guard (outputFile == nil) != (legacyOut == nil) else {
            throw ValidationError("extract writes an ELF core: give -o FILE (one)")
        }
        try OutputOptions.refuseFormatAsFile(out)
    }

    func run() throws {
        // Before the analysis, so that the refusal comes at once; OutputFile checks again on writing.
        if out != "-" { try OutputFile.checkNotAnInput(out, inputs: input.inputPaths) }
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
        let image = ELFCoreWriter.image(notes: notes, ranges: ranges)
        if out == "-" {
            guard isatty(1) == 0 else { throw UsageError("-o -: standard output is a terminal; an ELF core is binary: redirect it or give a file") }
            OutputFile.writeStandardOutput(image)
        } else {
            try OutputFile.write(image, to: out, inputs: input.inputPaths)
        }
        let report = ExtractReport(path: out, ranges: ranges.count, bytes: ranges.reduce(0) { $0 + $1.bytes.count },
                                   pages: pages.count, notes: notes.count)
        guard !quiet else { return }
        let renderer: any Renderer = (legacyFormat ?? format) == .json ? JSONRenderer() : TextRenderer()
        FileOutput.write(renderer.render(.extract(report)) ?? "", to: out == "-" ? 2 : 1)
    }
}
