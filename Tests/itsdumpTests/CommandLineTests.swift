import Foundation
import Testing
import TextFormats

/// The command line of issue 21: --format and -o FILE in every command, the old --output,
/// -o never over an input, - as standard input, help, typos, --version, and the man page and
/// completions that Documentation/ holds.
enum CommandLineFixture {
    static let core = "fixtures/kvm-basic/core.extract.elf"
    static let regs = "fixtures/kvm-basic/its-regs.json"
    static let args = [core, "--regs", regs]

    /// One run of every command that writes a document, with the arguments it needs.
    static let commands: [(String, [String])] = [
        ("info", [core]),
        ("regs", args),
        ("tables", args),
        ("routes", args),
        ("check", args),
        ("diff", args + ["--expected", "fixtures/kvm-basic/ground-truth.json"]),
        ("explain", args + ["--lpi", "8192"]),
        ("queue", args + ["--last", "3"]),
    ]

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-cl-\(getpid())-\(name)").path
    }

    /// Runs itsdump with `input` on its standard input.
    static func run(_ args: [String], input: Data) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.currentDirectoryURL = Fixtures.packageRoot
        let i = Pipe(), o = Pipe(), e = Pipe()
        p.standardInput = i
        p.standardOutput = o
        p.standardError = e
        try p.run()
        i.fileHandleForWriting.write(input)
        try i.fileHandleForWriting.close()
        let out = o.fileHandleForReading.readDataToEndOfFile()
        let err = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                          stderr: String(decoding: err, as: UTF8.self))
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }
}

@Suite struct CommandLineTests {
    typealias F = CommandLineFixture

    /// --format json and -o FILE: the file holds exactly what standard output gets, and the
    /// document is the command's; --output json (the old name) prints the same.
    @Test(arguments: CommandLineFixture.commands.map(\.0))
    func everyCommandTakesFormatAndOutputFile(command: String) throws {
        let args = try #require(F.commands.first { $0.0 == command }?.1)
        let stdout = try CLI.run([command] + args + ["--format", "json"])
        #expect(stdout.status == 0, "\(stdout.stderr)")
        let doc = try JSONValue.parse(Array(stdout.stdout.utf8))
        #expect(doc["command"]?.stringValue == command)
        #expect(doc["schemaVersion"]?.intValue == (command == "regs" ? 1 : 2))
        let file = F.temporary(command + ".json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let written = try CLI.run([command] + args + ["-f", "json", "-o", file])
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == stdout.stdout)
        let old = try CLI.run([command] + args + ["--output", "json"])
        #expect(old.status == 0 && old.stdout == stdout.stdout)
        let dash = try CLI.run([command] + args + ["--format", "json", "-o", "-"])
        #expect(dash.stdout == stdout.stdout)
        let text = try CLI.run([command] + args + ["--output-file", file])
        #expect(text.status == 0)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == (try CLI.run([command] + args)).stdout)
    }

    @Test func dashOWithAFormatNameIsRefused() throws {
        for args in [["routes"] + F.args + ["-o", "json"], ["extract"] + F.args + ["-o", "json"]] {
            let r = try CLI.run(args)
            #expect(r.status == 2)
            #expect(r.stderr.contains("-o names an output file; did you mean --format json?"), "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: Fixtures.packageRoot.appendingPathComponent("json").path))
    }

    /// -o never replaces an input: not the dump, not the state file, not through a link.
    @Test func theOutputIsNeverAnInput() throws {
        let before = try F.bytes(F.core), regsBefore = try F.bytes(F.regs)
        let link = F.temporary("link.elf")
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: Fixtures.packageRoot.appendingPathComponent(F.core).path)
        defer { try? FileManager.default.removeItem(atPath: link) }
        for args in [["routes"] + F.args + ["-o", F.core], ["routes"] + F.args + ["-o", F.regs],
                     ["routes"] + F.args + ["-o", link], ["extract"] + F.args + ["-o", F.core], ["extract"] + F.args + ["-o", link]] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.contains("never writes over its inputs"), "\(r.stderr)")
        }
        #expect(try F.bytes(F.core) == before && (try F.bytes(F.regs)) == regsBefore)
    }

    @Test func extractWritesItsFileAtomicallyAndSaysWhatItHolds() throws {
        let out = F.temporary("extract.elf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try CLI.run(["extract"] + F.args + ["--output-file", out, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try JSONValue.parse(Array(r.stdout.utf8))
        #expect(doc["command"]?.stringValue == "extract" && doc["path"]?.stringValue == out)
        let size = try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int
        #expect(size != nil && size ?? 0 > doc["bytes"]?.intValue ?? Int.max)
        // No temporary file is left beside it.
        let folder = (out as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".itsdump-cl-\(getpid())") }
        #expect(leftovers.isEmpty)
        // The extract reads back with the same routes as its input.
        let a = try CLI.run(["routes", out, "--regs", F.regs, "-q"]), b = try CLI.run(["routes"] + F.args + ["-q"])
        #expect(a.status == 0 && a.stdout == b.stdout)
    }

    @Test func theTableFormatIsAbi() throws {
        let kvm = try CLI.run(["routes"] + F.args + ["--abi", "kvm", "-q"])
        #expect(kvm.status == 0 && kvm.stdout.contains("15 routes on 5 devices"))
        let old = try CLI.run(["routes"] + F.args + ["--format", "kvm"])
        #expect(old.status == 2 && old.stderr.contains("the table format is --abi kvm"), "\(old.stderr)")
    }

    @Test func dashReadsTheStateFileAndTheExpectedViewFromStandardInput() throws {
        let regs = try Data(contentsOf: Fixtures.packageRoot.appendingPathComponent(F.regs))
        let a = try F.run(["routes", F.core, "--regs", "-", "-q"], input: regs)
        let b = try CLI.run(["routes"] + F.args + ["-q"])
        #expect(a.status == 0 && a.stdout == b.stdout, "\(a.stderr)")
        let truth = try Data(contentsOf: Fixtures.packageRoot.appendingPathComponent("fixtures/kvm-basic/ground-truth.json"))
        let d = try F.run(["diff"] + F.args + ["--expected", "-", "-q"], input: truth)
        #expect(d.status == 0 && d.stdout.contains("no differences"), "\(d.stdout)\(d.stderr)")
    }

    /// -q keeps what the command found and drops the inputs, registers and freshness.
    @Test func quietDropsTheHeaderAndFreshness() throws {
        let full = try CLI.run(["check"] + F.args), quiet = try CLI.run(["check"] + F.args + ["-q"])
        #expect(full.stdout.contains("GITS_BASER0") && full.stdout.contains("freshness"))
        #expect(!quiet.stdout.contains("GITS_BASER0") && !quiet.stdout.contains("freshness") && !quiet.stdout.contains("input:"))
        #expect(quiet.stdout == "ITS 0: 5 devices, 15 routes\nfindings: none\nverdicts: every view agrees\n")
    }

    @Test func registerFlagsAreOneGroupShownByHelpRegisters() throws {
        let help = try CLI.run(["routes", "--help"])
        #expect(help.status == 0 && !help.stdout.contains("--baser") && help.stdout.contains("itsdump help registers"))
        let hidden = try CLI.run(["routes", "--help-hidden"])
        #expect(hidden.stdout.contains("--baser <N=0x…>") && hidden.stdout.contains("--pendbaser <CPU=0x…>"))
        let topic = try CLI.run(["help", "registers"])
        #expect(topic.status == 0)
        for flag in ["--baser", "--typer", "--iidr", "--ctlr", "--cbaser", "--cwriter", "--creadr", "--its-base", "--propbaser", "--pendbaser"] {
            #expect(topic.stdout.contains(flag), "help registers lacks \(flag)")
        }
    }

    @Test(arguments: [("rotues", "routes"), ("chekc", "check"), ("tabels", "tables"), ("dif", "diff"), ("explian", "explain")])
    func aMistypedCommandGetsASuggestion(typo: String, command: String) throws {
        let r = try CLI.run([typo, F.core])
        #expect(r.status == 2)
        #expect(r.stderr.contains("did you mean '\(command)'"), "\(r.stderr)")
    }

    @Test func checkRulesNeedsNoDump() throws {
        let r = try CLI.run(["check", "--rules"])
        #expect(r.status == 0 && r.stdout.contains("pending-wrong-vcpu"))
    }

    @Test func diffSaysWhatItGotWhenTheDumpsAreNotTwo() throws {
        let r = try CLI.run(["diff", "a", "b", "c"])
        #expect(r.status == 2 && r.stderr.contains("got 3 DUMP argument(s): a, b, c"), "\(r.stderr)")
    }

    /// The commit is looked up only when --version is asked for (BuildIdentity.versionLineIfAsked),
    /// also after a command name.
    @Test func versionAfterACommandIsTheSameLine() throws {
        let root = try CLI.run(["--version"])
        let after = try CLI.run(["routes", "--version"])
        #expect(root.status == 0 && root.stdout.hasPrefix("0.1.0 (git commit ") && !root.stdout.contains("unknown"))
        #expect(after.status == 0 && after.stdout == root.stdout)
    }

    /// --version names the commit of the checkout the binary was built in.
    @Test func versionNamesTheGitCommit() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0 && r.stdout.hasPrefix("0.1.0 (git commit "))
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", Fixtures.packageRoot.path, "rev-parse", "HEAD"]
        let o = Pipe()
        git.standardOutput = o
        git.standardError = Pipe()
        try git.run()
        let head = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        git.waitUntilExit()
        try #require(git.terminationStatus == 0, "not a git checkout")
        #expect(r.stdout == "0.1.0 (git commit \(head.prefix(12)))\n")
    }
}

/// The man page and completion scripts in Documentation/ are what the code generates.
@Suite struct ManualAndCompletionTests {
    @Test(arguments: [("bash", "itsdump.bash"), ("zsh", "_itsdump"), ("fish", "itsdump.fish")])
    func theCompletionScriptIsTheCheckedInOne(shell: String, file: String) throws {
        let r = try CLI.run(["--generate-completion-script", shell])
        #expect(r.status == 0)
        let checkedIn = try String(contentsOf: Docs.root.appendingPathComponent("completions/\(file)"), encoding: .utf8)
        #expect(r.stdout == checkedIn, "Documentation/completions/\(file) is stale: run scripts/update-docs.sh")
    }

    /// `itsdump routes <TAB>` completes file names, as does --regs, --vmlinux, --expected, -o.
    @Test(arguments: [["routes"], ["routes", "--regs"], ["routes", "--vmlinux"], ["diff", "x", "--expected"], ["routes", "-o"], ["extract", "-o"]])
    func bashCompletesFileNames(words: [String]) throws {
        let script = Docs.root.appendingPathComponent("completions/itsdump.bash").path
        let line = (["itsdump"] + words + ["core.ex"]).joined(separator: " ")
        let out = try Self.shellOutput("/bin/bash", ["--norc", "-c", """
            source '\(script)'
            COMP_WORDS=(\(line)); COMP_CWORD=\(words.count + 1); COMP_LINE='\(line)'; COMP_POINT=${#COMP_LINE}
            _itsdump itsdump core.ex '\(words.last ?? "itsdump")'
            printf '%s\\n' "${COMPREPLY[@]}"
            """])
        #expect(out == "core.extract.elf\n", "itsdump \(words.joined(separator: " ")) core.ex<TAB>: \(out)")
    }

    /// Standard output of a shell run in fixtures/kvm-basic (a bundled extract to complete).
    static func shellOutput(_ shell: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: shell)
        p.currentDirectoryURL = Fixtures.packageRoot.appendingPathComponent("fixtures/kvm-basic")
        p.arguments = arguments
        let o = Pipe()
        p.standardOutput = o
        p.standardError = Pipe()
        try p.run()
        let out = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return out
    }

    static func shell(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// fish (scripts/setup.sh installs it): `complete -C` lists what TAB offers.
    @Test(.enabled(if: shell("fish") != nil, "fish is not installed (scripts/setup.sh installs it)"),
          arguments: ["itsdump routes core.ex", "itsdump routes --regs core.ex", "itsdump extract x -o core.ex"])
    func fishCompletesFileNames(line: String) throws {
        let out = try Self.shellOutput(try #require(Self.shell("fish")),
                                       ["--no-config", "-c", "source '\(Docs.root.appendingPathComponent("completions/itsdump.fish").path)'; complete -C '\(line)'"])
        #expect(out == "core.extract.elf\n", "\(line)<TAB>: \(out)")
    }

    /// zsh loads _itsdump from its fpath; here: it is a #compdef file zsh parses.
    @Test(.enabled(if: shell("zsh") != nil, "zsh is not installed (scripts/setup.sh installs it)"))
    func zshParsesItsCompletion() throws {
        let file = Docs.root.appendingPathComponent("completions/_itsdump").path
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("#compdef itsdump\n"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.shell("zsh")))
        p.arguments = ["-n", file]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func bashCompletesCommandNames() throws {
        let script = Docs.root.appendingPathComponent("completions/itsdump.bash").path
        let out = try Self.shellOutput("/bin/bash", ["--norc", "-c", """
            source '\(script)'
            COMP_WORDS=(itsdump r); COMP_CWORD=1; COMP_LINE='itsdump r'; COMP_POINT=${#COMP_LINE}
            _itsdump itsdump r itsdump
            printf '%s\\n' "${COMPREPLY[@]}"
            """])
        #expect(Set(out.split(separator: "\n")) == ["regs", "routes", "registers"])
    }

    /// The man page's full regeneration needs the generate-manual plugin (scripts/update-docs.sh
    /// --check, run by scripts/test.sh); here every command and every visible option of the
    /// command definitions must be in the checked-in page.
    @Test func theManPageNamesEveryCommandAndOption() throws {
        let page = try String(contentsOf: Docs.root.appendingPathComponent("itsdump.1"), encoding: .utf8)
        // ".It Fl f , -format Ar text|json|dot": each option's names, one item line each.
        let items = page.split(separator: "\n").filter { $0.hasPrefix(".It Fl") }.map { " " + $0 + " " }
        let r = try CLI.run(["--experimental-dump-help"])
        let root = try #require(try JSONValue.parse(Array(r.stdout.utf8))["command"])
        let commands = root["subcommands"]?.arrayValue ?? []
        #expect(commands.count >= 10)
        for c in commands where c["shouldDisplay"] != .bool(false) {
            let name = c["commandName"]?.stringValue ?? ""
            guard name != "help" else { continue }
            #expect(page.contains(".It Em \(name)"), "itsdump.1 lacks the command \(name): run scripts/update-docs.sh")
            if let abstract = c["abstract"]?.stringValue { #expect(page.contains(abstract), "itsdump.1: \(name)'s abstract") }
            for a in c["arguments"]?.arrayValue ?? [] where a["shouldDisplay"] != .bool(false) {
                for n in a["names"]?.arrayValue ?? [] where n["kind"]?.stringValue == "long" {
                    let flag = n["name"]?.stringValue ?? ""
                    #expect(items.contains { $0.contains(" -\(flag) ") }, "itsdump.1 lacks \(name) --\(flag): run scripts/update-docs.sh")
                }
            }
        }
    }

    /// scripts/install.sh PREFIX puts the binary, the man page and the three completions where
    /// shells and man look, and the installed binary still names its commit.
    @Test func installPutsEveryFileInPlace() throws {
        let prefix = CommandLineFixture.temporary("prefix")
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Fixtures.packageRoot.appendingPathComponent("scripts/install.sh").path, prefix]
        var env = ProcessInfo.processInfo.environment
        env["ITSDUMP_BIN"] = CLI.binary
        p.environment = env
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        for (installed, source) in [("share/man/man1/itsdump.1", "itsdump.1"),
                                    ("share/bash-completion/completions/itsdump", "completions/itsdump.bash"),
                                    ("share/zsh/site-functions/_itsdump", "completions/_itsdump"),
                                    ("share/fish/vendor_completions.d/itsdump.fish", "completions/itsdump.fish")] {
            #expect(FileManager.default.contentsEqual(atPath: prefix + "/" + installed, andPath: Docs.root.appendingPathComponent(source).path), "\(installed)")
        }
        let v = Process()
        v.executableURL = URL(fileURLWithPath: prefix + "/bin/itsdump")
        v.arguments = ["--version"]
        v.currentDirectoryURL = URL(fileURLWithPath: "/")
        let o = Pipe()
        v.standardOutput = o
        try v.run()
        let version = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        v.waitUntilExit()
        #expect(version == (try CLI.run(["--version"])).stdout)
    }
}
