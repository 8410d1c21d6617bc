import Foundation
import Testing
import ITSLayout

/// Documentation/ holds what the output cites. These tests keep the two together: the rule
/// table of check-rules.md is RuleID.allCases, and every file and section a user-visible text
/// of Sources/ cites exists in the repository.
enum Docs {
    static let root = Fixtures.packageRoot.appendingPathComponent("Documentation")

    static func read(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
    }

    /// The Markdown table of every rule, in RuleID order, as check-rules.md shows it.
    static var rulesTable: String {
        var s = "| rule | severity | what the snapshot shows | source |\n|---|---|---|---|\n"
        for r in RuleID.allCases {
            let shows = r.shows.replacingOccurrences(of: "|", with: "\\|")
            s += "| `\(r.rawValue)` | \(r.severity.rawValue) | \(shows) | \(r.source.replacingOccurrences(of: "Documentation/", with: "")) |\n"
        }
        return s
    }

    static let begin = "<!-- rules:begin -->\n", end = "<!-- rules:end -->"

    /// Whether `file` (Markdown) has a heading for `section`: "1.10" matches "### 1.10 …",
    /// "6" matches "## 6. …", a word matches "## Word".
    static func hasSection(_ file: String, _ section: String) -> Bool {
        file.split(separator: "\n").contains { line in
            guard line.hasPrefix("#") else { return false }
            let title = line.drop { $0 == "#" }.drop { $0 == " " }
            let first = title.split(separator: " ").first.map(String.init) ?? ""
            return first == section || first == section + "." || title == section
        }
    }

    /// Every "NAME.md" a string literal of Sources/ names (comments left out), with the
    /// sections ("§1.6", "§6.1 (a)", "§Bounds") that follow it, and where it was found.
    static func citations() throws -> [(cite: String, file: String, sections: [String], at: String)] {
        let sources = Fixtures.packageRoot.appendingPathComponent("Sources")
        var out: [(String, String, [String], String)] = []
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") } ?? []
        let cite = /([A-Za-z0-9_\/.-]+\.md)((?:[ ,;]*§[A-Za-z0-9.]+(?: \([a-z]\))?)*)/
        for f in files.sorted() {
            let text = try String(contentsOf: sources.appendingPathComponent(f), encoding: .utf8)
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                if code.hasPrefix("//") { continue }
                // Only what is inside string literals: the part before a trailing comment.
                let literal = code.components(separatedBy: " // ").first ?? code
                guard literal.contains("\"") else { continue }
                for m in literal.matches(of: cite) {
                    let sections = String(m.2).matches(of: /§([A-Za-z0-9.]+)/).map { String($0.1).trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
                    out.append((String(m.0), String(m.1), sections, "\(f):\(n + 1)"))
                }
            }
        }
        return out
    }
}

@Suite struct DocumentationTests {
    @Test func rulesPageListsEveryRuleWithItsSeverity() throws {
        let page = try Docs.read("check-rules.md")
        let start = try #require(page.range(of: Docs.begin), "check-rules.md has no \(Docs.begin)")
        let stop = try #require(page.range(of: Docs.end), "check-rules.md has no \(Docs.end)")
        let block = String(page[start.upperBound..<stop.lowerBound])
        if ProcessInfo.processInfo.environment["ITSDUMP_UPDATE_DOCS"] == "1", block != Docs.rulesTable {
            let updated = page.replacingCharacters(in: start.upperBound..<stop.lowerBound, with: Docs.rulesTable)
            try updated.write(to: Docs.root.appendingPathComponent("check-rules.md"), atomically: true, encoding: .utf8)
            return
        }
        #expect(block == Docs.rulesTable, "check-rules.md's rule table is not RuleID.allCases: run scripts/update-docs.sh")
        // Read back from the page itself: one row per rule, with its severity.
        let rows = block.split(separator: "\n").dropFirst(2).map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(rows.count == RuleID.allCases.count)
        for r in RuleID.allCases {
            let row = rows.first { $0.first == "`\(r.rawValue)`" }
            #expect(row?[1] == r.severity.rawValue, "check-rules.md: \(r.rawValue) is not listed as \(r.severity.rawValue)")
        }
    }

    @Test func everyRuleSourceIsADocumentationSection() throws {
        for r in RuleID.allCases {
            #expect(r.source.hasPrefix("Documentation/"), "\(r.rawValue): source \(r.source) is not in Documentation/")
        }
    }

    /// No user-visible text cites a file that is not in the repository, nor a section its
    /// page lacks (the tables output shows each layout's source; check --rules each rule's).
    @Test func everyCitedFileAndSectionExists() throws {
        let cites = try Docs.citations()
        #expect(cites.count >= 40, "the citations of Sources/ were not found")
        for c in cites {
            let path = Fixtures.packageRoot.appendingPathComponent(c.file).path
            #expect(c.file.hasPrefix("Documentation/") || c.file == "README.md", "\(c.at): \(c.cite) is not a repository document")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                Issue.record("\(c.at): \(c.file) does not exist")
                continue
            }
            for s in c.sections {
                #expect(Docs.hasSection(text, s), "\(c.at): \(c.file) has no section \(s)")
            }
        }
    }

    @Test func everyRegisterAndEntryLayoutCitesDocumentation() {
        var layouts = ITSRegister.allCases.compactMap(\.layout) + RedistributorRegister.allCases.compactMap(\.layout)
        for f in [ITSFormat.kvm, .qemu] {
            layouts += [f.deviceEntryLayout, f.collectionEntryLayout] + f.iteLayouts
        }
        #expect(layouts.count >= 15)
        for l in layouts {
            #expect(l.source.hasPrefix("Documentation/its-formats.md §"), "\(l.name): \(l.source)")
        }
    }
}

/// The ```console blocks of a page: "$ itsdump ARGS" and the standard output that follows.
enum ConsoleBlocks {
    struct Block { var args: [String]; var output: String; var range: Range<String.Index> }

    static func blocks(in page: String) -> [Block] {
        var out: [Block] = []
        var rest = page.startIndex..<page.endIndex
        while let open = page.range(of: "```console\n", range: rest),
              let close = page.range(of: "```\n", range: open.upperBound..<page.endIndex) {
            let body = String(page[open.upperBound..<close.lowerBound])
            let first = body.prefix { $0 != "\n" }
            let output = String(body.dropFirst(first.count + 1))
            let words = first.split(separator: " ").map(String.init)
            if words.count > 2, words[0] == "$", words[1] == "itsdump" {
                out.append(Block(args: Array(words.dropFirst(2)), output: output, range: open.upperBound..<close.lowerBound))
            }
            rest = close.upperBound..<page.endIndex
        }
        return out
    }

    /// The page with each block's output replaced by what the command prints now.
    static func regenerated(_ page: String) throws -> String {
        var page = page
        for b in blocks(in: page).reversed() {
            let r = try CLI.run(b.args)
            page.replaceSubrange(b.range, with: "$ itsdump " + b.args.joined(separator: " ") + "\n" + r.stdout)
        }
        return page
    }
}

@Suite struct TroubleshootingPageTests {
    @Test func everyExampleIsTheRealOutputOfItsCommand() throws {
        let name = "troubleshooting.md"
        let page = try Docs.read(name)
        let blocks = ConsoleBlocks.blocks(in: page)
        #expect(blocks.count == 5, "one example per question")
        if ProcessInfo.processInfo.environment["ITSDUMP_UPDATE_DOCS"] == "1" {
            try ConsoleBlocks.regenerated(page).write(to: Docs.root.appendingPathComponent(name), atomically: true, encoding: .utf8)
            return
        }
        for b in blocks {
            let r = try CLI.run(b.args)
            #expect(r.status != 2, "itsdump \(b.args.joined(separator: " ")): \(r.stderr)")
            #expect(r.stdout == b.output, "troubleshooting.md: the output of itsdump \(b.args.joined(separator: " ")) changed: run scripts/update-docs.sh")
        }
    }
}
