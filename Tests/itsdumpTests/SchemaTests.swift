import Foundation
import Testing
import TextFormats
import CoreDumpReader

/// Documentation/schema holds a JSON Schema (draft 2020-12) for every document itsdump writes;
/// these tests validate the golden outputs and the documents of every real fixture stop.
enum Schemas {
    static let folder = Fixtures.packageRoot.appendingPathComponent("Documentation/schema")
    static let validator = Result { try SchemaValidator(folder: folder) }

    /// The schema of a document: its `command` names it.
    static func schemaName(_ doc: JSONValue) -> String? {
        doc["command"]?.stringValue.map { $0 + ".schema.json" }
    }

    /// Every failure of one command's JSON output against its schema, with the command.
    static func failures(of args: [String]) throws -> [String] {
        let r = try CLI.run(args)
        guard r.status != 2 else { return ["itsdump \(args.joined(separator: " ")) failed: \(r.stderr)"] }
        return try failures(ofDocument: r.stdout, what: "itsdump " + args.joined(separator: " "))
    }

    static func failures(ofDocument text: String, what: String) throws -> [String] {
        let doc = try JSONValue.parse(Array(text.utf8))
        guard let name = schemaName(doc) else { return ["\(what): no \"command\" key"] }
        return try validator.get().validate(doc, against: name).map { "\(what) against \(name): \($0)" }
    }
}

@Suite struct SchemaTests {
    @Test func everySchemaIsDraft202012AndEveryDocumentHasOne() throws {
        let v = try Schemas.validator.get()
        for name in ["routes", "tables", "check", "diff", "explain", "queue", "driver", "info", "regs", "extract"] {
            let s = try #require(v.schemas[name + ".schema.json"], "no schema for \(name)")
            #expect(s["$schema"]?.stringValue == "https://json-schema.org/draft/2020-12/schema")
        }
    }

    @Test func everyGoldenJSONOutputValidates() throws {
        let jsons = CLI.goldenCommands.filter { $0.0.hasSuffix(".json") }
        #expect(jsons.count >= 3)
        for (name, _) in jsons {
            let text = try String(contentsOf: CLI.golden.appendingPathComponent(name), encoding: .utf8)
            let f = try Schemas.failures(ofDocument: text, what: name)
            #expect(f.isEmpty, "\(f.prefix(5).joined(separator: "\n"))")
        }
    }

    @Test func checkRulesListValidates() throws {
        let f = try Schemas.failures(of: ["check", "--rules", "--format", "json"])
        #expect(f.isEmpty, "\(f.prefix(5).joined(separator: "\n"))")
    }

    /// `inputs[].kind` is an enumeration: exactly the ids of the dump formats itsdump reads
    /// (Dump.formats, recognised by content) and of raw images (FILE@GPA).
    @Test func theInputKindsOfTheSchemaAreTheDumpFormats() throws {
        let common = try #require(try Schemas.validator.get().schemas["common.schema.json"])
        let kinds = common["$defs"]?["inputKind"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let ids = Dump.formats.map { $0.kind.id } + [RawImage.kind.id]
        #expect(Set(kinds) == Set(ids), "common.schema.json inputKind is not Dump.formats plus raw images")
        #expect(kinds.count == ids.count)
    }

    @Test func theExtractSummaryValidates() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-schema-\(getpid()).elf").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let f = try Schemas.failures(of: ["extract", "fixtures/kvm-basic/core.extract.elf", "--regs", "fixtures/kvm-basic/its-regs.json",
                                          "-o", out, "--format", "json"])
        #expect(f.isEmpty, "\(f.prefix(5).joined(separator: "\n"))")
    }

    /// The validator is not a rubber stamp: documents with a wrong type, a missing key, an
    /// unknown key or a value outside an enumeration fail.
    @Test(arguments: [
        ("schemaVersion", JSONValue.string("1")),
        ("routes", .object([:])),
        ("unexpected", .int(1)),
    ])
    func aBrokenDocumentFails(key: String, value: JSONValue) throws {
        let text = try String(contentsOf: CLI.golden.appendingPathComponent("routes-tcg-basic.json"), encoding: .utf8)
        guard case .object(var o) = try JSONValue.parse(Array(text.utf8)) else { Issue.record("not an object"); return }
        o[key] = value
        #expect(!(try Schemas.validator.get().validate(.object(o), against: "routes.schema.json")).isEmpty)
        o[key] = nil
        if key != "unexpected" {
            #expect(!(try Schemas.validator.get().validate(.object(o), against: "routes.schema.json")).isEmpty, "missing \(key) passes")
        }
    }

    @Test func aRouteRowWithABadAddressOrSeverityFails() throws {
        let text = try String(contentsOf: CLI.golden.appendingPathComponent("routes-kvm-sparse.json"), encoding: .utf8)
        guard case .object(var o) = try JSONValue.parse(Array(text.utf8)),
              case .array(var findings) = o["findings"], case .object(var f) = findings.first else {
            Issue.record("routes-kvm-sparse.json has no finding"); return
        }
        f["severity"] = .string("fatal")
        findings[0] = .object(f)
        o["findings"] = .array(findings)
        #expect(!(try Schemas.validator.get().validate(.object(o), against: "routes.schema.json")).isEmpty)
        f["severity"] = .string("note")
        f["address"] = .string("0X43510800")
        findings[0] = .object(f)
        o["findings"] = .array(findings)
        #expect(!(try Schemas.validator.get().validate(.object(o), against: "routes.schema.json")).isEmpty)
    }
}

/// Every JSON document of every real fixture stop, against its schema.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1"))
struct RealSchemaTests {
    static let commands = ["routes", "tables", "check", "queue", "regs"]

    @Test(arguments: Fixtures.stops)
    func everyDocumentOfAStopValidates(stop: String) throws {
        let core = try Fixtures.member(stop, "core.elf")
        let regs = Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("its-regs.json").path
        var failures: [String] = []
        for c in Self.commands {
            failures += try Schemas.failures(of: [c, core, "--regs", regs, "--format", "json"])
        }
        failures += try Schemas.failures(of: ["info", core, "--format", "json"])
        let mig = try Fixtures.member(stop, "migration.bin")
        if FileManager.default.fileExists(atPath: mig) {
            failures += try Schemas.failures(of: ["info", mig, "--format", "json"])
            failures += try Schemas.failures(of: ["routes", mig, "--format", "json"])
        }
        let kdump = try Fixtures.member(stop, "core.kdump-zlib")
        if FileManager.default.fileExists(atPath: kdump) {
            failures += try Schemas.failures(of: ["info", kdump, "--format", "json"])
            failures += try Schemas.failures(of: ["check", kdump, "--regs", regs, "--format", "json"])
        }
        failures += try Schemas.failures(of: ["explain", core, "--regs", regs, "--lpi", "8192", "--format", "json"])
        let vgic = Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("vgic-state.txt").path
        if FileManager.default.fileExists(atPath: vgic) {
            failures += try Schemas.failures(of: ["diff", core, "--regs", regs, "--expected", vgic, "--format", "json"])
        }
        #expect(failures.isEmpty, "\(failures.prefix(8).joined(separator: "\n"))")
    }

    @Test(arguments: ["tcg-prepost", "kvm-prepost"])
    func theDiffOfAPairValidates(pair: String) throws {
        let a = try Fixtures.member(pair + "/a", "core.elf"), b = try Fixtures.member(pair + "/b", "core.elf")
        let ra = Fixtures.shared.appendingPathComponent(pair + "/a/its-regs.json").path
        let rb = Fixtures.shared.appendingPathComponent(pair + "/b/its-regs.json").path
        let f = try Schemas.failures(of: ["diff", a, b, "--regs-a", ra, "--regs-b", rb, "--format", "json"])
        #expect(f.isEmpty, "\(f.prefix(8).joined(separator: "\n"))")
    }

    @Test func theDriverDocumentValidates() throws {
        let vmlinux = try Fixtures.vmlinux.get()
        for stop in ["kvm-basic", "tcg-basic"] {
            let core = try Fixtures.member(stop, "core.elf")
            let f = try Schemas.failures(of: ["driver", core, "--vmlinux", vmlinux, "--format", "json"])
            #expect(f.isEmpty, "\(stop): \(f.prefix(8).joined(separator: "\n"))")
            // -o FILE: the same document in the file.
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-driver-\(getpid()).json").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let r = try CLI.run(["driver", core, "--vmlinux", vmlinux, "-f", "json", "-o", file])
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == (try CLI.run(["driver", core, "--vmlinux", vmlinux, "-f", "json"])).stdout)
        }
    }
}
