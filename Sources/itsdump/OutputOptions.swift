import ArgumentParser
import CoreDumpReader
import TextFormats

/// How and where a command writes its output: `--format text|json|dot` (`-f`), `-o FILE`
/// (`--output-file`; `-` is standard output), `-q`. The old `--output FORMAT` stays, hidden,
/// for scripts written against it; `-o json` with no file of that name is refused, since it
/// used to mean the format.
struct OutputOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: ArgumentHelp(
        "Output format: text (aligned, for people), json (stable, for scripts; schemas in Documentation/schema) or dot (Graphviz; routes only).",
        valueName: "text|json|dot"), completion: .list(OutputFormat.allCases.map(\.rawValue)))
    var format: String?

    @Option(name: .customLong("output"), help: ArgumentHelp(
        "The former name of --format (text|json|dot), kept for scripts.", valueName: "FORMAT", visibility: .hidden))
    var legacyFormat: OutputFormat?

    @Option(name: [.customShort("o"), .customLong("output-file")], help: ArgumentHelp(
        "Write the output to FILE instead of standard output (- is standard output): whole or not at all, never over an input.",
        valueName: "FILE"), completion: .file())
    var outputFile: String?

    @Flag(name: [.short, .long], help: "Text output without the input lines, register tables and freshness lines.")
    var quiet = false

    /// The format chosen by --format or --output (validated), text by default.
    var chosen: OutputFormat {
        format.flatMap(OutputFormat.init(rawValue:)) ?? legacyFormat ?? .text
    }

    func validate() throws {
        if let format {
            guard let f = OutputFormat(rawValue: format) else {
                if ["kvm", "qemu"].contains(format) {
                    throw ValidationError("--format chooses the output format (text, json or dot); the table format is --abi \(format)")
                }
                throw ValidationError("--format \(format): give text, json or dot")
            }
            if let legacyFormat, legacyFormat != f {
                throw ValidationError("--format \(format) and --output \(legacyFormat.rawValue) disagree; --output is the old name of --format: give one")
            }
        }
        try Self.refuseFormatAsFile(outputFile)
    }

    /// `-o json` meant the format before -o named a file: refuse it unless such a file exists.
    static func refuseFormatAsFile(_ path: String?) throws {
        if let path, OutputFormat(rawValue: path) != nil, !FileOutput.exists(path) {
            throw ValidationError("-o names an output file; did you mean --format \(path)?")
        }
    }

    var renderer: any Renderer {
        switch chosen {
        case .text: TextRenderer(quiet: quiet)
        case .json: JSONRenderer()
        case .dot: DOTRenderer()
        }
    }

    /// Renders `report` in the chosen format and writes it to standard output or to -o FILE
    /// (never over one of `inputs`, the files the command read).
    func write(_ report: Report, inputs: [String]) throws {
        if let produce = (renderer as? any StreamingRenderer)?.streamed(report) {
            try deliver(produce, inputs: inputs)
            return
        }
        guard let s = renderer.render(report) else {
            throw UsageError("\(report.command) has no \(chosen.rawValue) output; use text or json")
        }
        if let path = outputFile, path != "-" {
            // The same bytes as standard output gets (emit): guest bytes escaped.
            try OutputFile.write(Array(TerminalText.escape(s, keepLayout: true).utf8), to: path, inputs: inputs)
        } else {
            emit(s)
        }
    }
}

extension OutputOptions {
    /// Output written as it is produced: to standard output 64 KiB at a time, or to -o FILE
    /// through a temporary file put in place when complete (never over one of `inputs`).
    func deliver(_ produce: (inout ByteOutput) -> Void, inputs: [String]) throws {
        if let path = outputFile, path != "-" {
            try OutputFile.checkNotAnInput(path, inputs: inputs)
            let file = try NewOutputFile(path: path)
            var out = ByteOutput { file.write($0) }
            produce(&out)
            out.flush()
            try file.commit()
        } else {
            // A closed pipe ends the output quietly (`itsdump routes … | head`), as emit does.
            var out = ByteOutput { OutputFile.writeStandardOutput($0) }
            produce(&out)
            out.flush()
        }
    }
}

/// File names a command reads, for the check that -o never replaces one: a raw image's
/// `FILE@GPA` names FILE.
enum InputPath {
    static func file(of spec: String) -> String {
        if FileOutput.exists(spec) { return spec }
        guard let at = spec.lastIndex(of: "@") else { return spec }
        return String(spec[..<at])
    }
}
