import Foundation
import Testing
import GuestKernel

/// Runs the built `itsdump` binary, as a user would, from the package root.
enum CLI {
    static let binary: String = {
        let fm = FileManager.default
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here.appendingPathComponent("itsdump"),
                          here.deletingLastPathComponent().appendingPathComponent("itsdump"),
                          Fixtures.packageRoot.appendingPathComponent(".build/debug/itsdump")]
        where fm.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        return Fixtures.packageRoot.appendingPathComponent(".build/debug/itsdump").path
    }()

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ args: [String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = Fixtures.packageRoot
        // Help is wrapped to the terminal's width: the goldens are 80 columns, whatever runs them.
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "80"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// The golden outputs, from the test bundle (Package.swift copies Golden/ into it).
    static let golden = Bundle.module.url(forResource: "Golden", withExtension: nil)
        ?? Fixtures.packageRoot.appendingPathComponent("Tests/itsdumpTests/Golden")

    /// Every line of Golden/commands.txt: a file name and the arguments that produce it. An
    /// unreadable list is no list: `goldenListIsThere` fails rather than zero cases passing.
    static var goldenCommands: [(String, [String])] {
        let text = (try? String(contentsOf: golden.appendingPathComponent("commands.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            let words = line.split(separator: " ").map(String.init)
            return (words[0], Array(words.dropFirst()))
        }
    }
}

@Suite struct CLITests {
    @Test func goldenListIsThere() {
        #expect(CLI.goldenCommands.count >= 10, "Golden/commands.txt is missing or nearly empty")
    }

    @Test(arguments: CLI.goldenCommands.map(\.0))
    func outputMatchesGolden(name: String) throws {
        let args = try #require(CLI.goldenCommands.first { $0.0 == name }?.1)
        let r = try CLI.run(args)
        // `diff` of two different stops exits 1, like diff(1) (README "Exit status").
        #expect(r.status == (name.hasPrefix("diff-") ? 1 : 0), "\(r.stderr)")
        let want = try String(contentsOf: CLI.golden.appendingPathComponent(name), encoding: .utf8)
        #expect(r.stdout == want, "itsdump \(args.joined(separator: " ")) differs from Golden/\(name); run scripts/update-golden.sh only if the change is intended")
    }

    /// `regs -o json` from flags alone writes null for the registers no source gave, and the
    /// file it writes is a `--regs` file that gives the same routes.
    @Test func aStateFileFromFlagsHasNullsAndReadsBack() throws {
        // The extract without its ITSDUMP note: the flags are the only source.
        let ex = try Fixtures.withoutRegistersNote("fixtures/tcg-basic/core.extract.elf")
        defer { try? FileManager.default.removeItem(atPath: ex) }
        let flags = ["--baser", "0=0xf9070000425a0600", "--baser", "1=0xbc070000425b0600", "--typer", "0x1f0001efb1"]
        let r = try CLI.run(["regs", ex] + flags + ["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let baser = try #require((top["its"] as? [[String: Any]])?.first?["baser"] as? [Any])
        #expect(baser.count == 8)
        #expect(baser[0] as? String == "0xf9070000425a0600" && baser[1] as? String == "0xbc070000425b0600")
        #expect(baser[2...].allSatisfy { $0 is NSNull })
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-flags-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(r.stdout.utf8).write(to: file)
        let a = try CLI.run(["routes", ex, "--regs", file.path])
        let b = try CLI.run(["routes", ex] + flags)
        #expect(a.status == 0 && a.stdout.contains("routes on"))
        func rows(_ s: String) -> [Substring] { s.split(separator: "\n").filter { $0.hasPrefix("  0  0x") } }
        #expect(!rows(a.stdout).isEmpty && rows(a.stdout) == rows(b.stdout))
    }

    @Test func jsonIsStableAndCarriesTheDocumentedFields() throws {
        let r = try CLI.run(["routes", "fixtures/kvm-prepost/b/core.extract.elf", "--regs", "fixtures/kvm-prepost/b/its-regs.json", "--format", "json"])
        #expect(r.status == 0)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(top["schemaVersion"] as? Int == 2)
        let routes = try #require(top["routes"] as? [[String: Any]])
        #expect(routes.count == 17)
        let first = routes[0]
        for key in ["deviceID", "eventID", "lpi", "icid", "vcpu", "enabled", "priority", "pending", "ittAddress"] {
            #expect(first[key] != nil, "route rows carry \(key)")
        }
        #expect((first["ittAddress"] as? String)?.hasPrefix("0x") == true)  // 64-bit values as "0x…" strings
        #expect(top["findings"] is [Any])
        let its = try #require(top["its"] as? [[String: Any]])
        let regs = try #require(its[0]["registers"] as? [String: Any])
        let baser = try #require(regs["baser"] as? [[String: Any]])
        #expect(baser[0]["source"] as? String == "state file its-regs.json its[0].baser[0]")
        // Sorted keys: the text is byte-for-byte what a second run prints.
        #expect(try CLI.run(["routes", "fixtures/kvm-prepost/b/core.extract.elf", "--regs", "fixtures/kvm-prepost/b/its-regs.json", "--format", "json"]).stdout == r.stdout)
    }

    @Test(arguments: [
        // A raw image with no registers, no VMCOREINFO, no kernel: the zero-configuration path
        // says what it tried and lists the ways to give registers.
        (["routes", "fixtures/tcg-basic/ground-truth.json@0x40000000"], "no ITS registers and no driver view: VMCOREINFO"),
        (["routes", "fixtures/tcg-basic/ground-truth.json@0x40000000"], "give --regs FILE.json"),
        (["routes", "fixtures/tcg-basic/its-regs.json", "--regs", "fixtures/tcg-basic/its-regs.json"], "not a recognised dump"),
        (["routes", "/nonexistent/core.elf", "--regs", "fixtures/tcg-basic/its-regs.json"], "cannot open"),
        (["routes", "fixtures/tcg-basic/core.extract.elf", "--regs", "fixtures/tcg-basic/core.extract.elf"], "not JSON"),
        (["routes", "fixtures/tcg-basic/core.extract.elf", "--baser", "9=0x1"], "indices are 0 to 7"),
        (["routes", "fixtures/tcg-basic/core.extract.elf", "--baser", "nonsense"], "baser"),
        (["routes", "fixtures/tcg-basic/ground-truth.json@0x40000000", "--baser", "0=0xf9070000425a0600"], "cannot tell the table format"),
        (["routes"], "give a DUMP"),
        (["frobnicate"], "frobnicate"),
    ])
    func unusableInputExitsWithStatus2AndOneMessage(args: [String], message: String) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func helpExitsZero() throws {
        let r = try CLI.run(["routes", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("GITS_BASER"))
    }

    @Test func extractOfAnExtractGivesTheSameRoutes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("small.elf").path
        let regs = ["--regs", "fixtures/kvm-sparse/its-regs.json"]
        #expect(try CLI.run(["extract", "fixtures/kvm-sparse/core.extract.elf"] + regs + ["-o", out]).status == 0)
        let a = try CLI.run(["routes", "fixtures/kvm-sparse/core.extract.elf"] + regs + ["--format", "json"])
        let b = try CLI.run(["routes", out] + regs + ["--format", "json"])
        // Keys are sorted, so the routes array is the text between "routes" and "schemaVersion".
        func routes(_ s: String) -> Substring? {
            guard let r = s.range(of: "\"routes\": ["), let e = s.range(of: "\"schemaVersion\"") else { return nil }
            return s[r.lowerBound..<e.lowerBound]
        }
        #expect(routes(a.stdout) != nil && routes(a.stdout) == routes(b.stdout))
    }
}

@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct CLIKernelTests {
    @Test func aDumpWithoutVMCOREINFOSaysWhatToPass() throws {
        // The bundled KVM extract holds the ITS tables only: no VMCOREINFO note, none in its RAM.
        let r = try CLI.run(["driver", "fixtures/kvm-basic/core.extract.elf", "--vmlinux", try Fixtures.vmlinux.get()])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no VMCOREINFO") && r.stderr.contains("--vmcoreinfo"), "\(r.stderr)")
    }
}
