import CoreDumpReader
import ITSAnalysis
import ITSLayout
import TextFormats

/// `extract --format json` (Documentation/schema/extract.schema.json): what an extract holds.
extension JSONRenderer {
    func extract(_ r: ExtractReport) -> String? { extractDocument(r).render() }

    func extractDocument(_ r: ExtractReport) -> JSONValue {
        var o = header("extract")
        o["path"] = .string(r.path)
        o["ranges"] = .int(Int64(r.ranges))
        o["bytes"] = .int(Int64(r.bytes))
        o["pages"] = .int(Int64(r.pages))
        o["notes"] = .int(Int64(r.notes))
        return .object(o)
    }
}

extension TextRenderer {
    func extract(_ r: ExtractReport) -> String? {
        "wrote \(r.path == "-" ? "the extract to standard output" : TerminalText.escape(r.path)): \(r.ranges) ranges, \(r.bytes) bytes of guest memory (\(r.pages) pages), \(r.notes) notes\n"
    }
}
