import Foundation
import Testing

/// Issue 19's review findings on the command line, on the bundled extracts: each bad use is one
/// clear line and exit status 2; each message says what was given and what is expected.
@Suite struct ReviewFindingTests {
    static let kvmBasic = "fixtures/kvm-basic/core.extract.elf"
    static let kvmRegs = "fixtures/kvm-basic/its-regs.json"

    @Test func helpOnAnUnknownCommandExits2WithTheCommands() throws {
        let r = try CLI.run(["help", "nosuch"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("itsdump: help: 'nosuch' is not a command; the commands are info, regs, tables, routes"))
        let near = try CLI.run(["help", "rotues"])
        #expect(near.status == 2 && near.stderr.contains("did you mean 'routes'?"))
        #expect(try CLI.run(["help", "routes"]).status == 0)
    }

    @Test func aNegativeQueueLastSaysTheValueMustBeNonNegative() throws {
        let r = try CLI.run(["queue", Self.kvmBasic, "--regs", Self.kvmRegs, "--last", "-1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--last takes a number ≥ 0"))
        #expect(!r.stderr.contains("Missing value"))
    }

    @Test func extractToStandardOutputSaysSo() throws {
        let r = try CLI.run(["extract", Self.kvmBasic, "--regs", Self.kvmRegs, "-o", "-"])
        #expect(r.status == 0)
        #expect(r.stderr.hasPrefix("wrote the extract to standard output: "))
        #expect(r.stdout.hasPrefix("\u{7F}ELF"))
    }

    @Test func checkRulesWithADumpIsAnError() throws {
        let r = try CLI.run(["check", "--rules", Self.kvmBasic])
        #expect(r.status == 2)
        #expect(r.stderr == "itsdump: --rules lists the rules and verdicts and reads no DUMP: give either --rules or the DUMP\n")
        #expect(try CLI.run(["check", "--rules"]).status == 0)
    }

    /// A register state file and another command's JSON given as --expected: named as what
    /// they are, with what --expected reads.
    @Test func expectedJSONOfAnotherKindSaysWhatItIs() throws {
        let regs = try CLI.run(["diff", Self.kvmBasic, "--regs", Self.kvmRegs, "--expected", Self.kvmRegs])
        #expect(regs.status == 2)
        #expect(regs.stderr.contains("its-regs.json: a register state file (its-regs.json, `itsdump regs --format json`): give it with --regs; expected route JSON: an object with a \"routes\" array"))
        #expect(!regs.stderr.contains("not JSON"))
        let check = try CLI.run(["check", Self.kvmBasic, "--regs", Self.kvmRegs, "--format", "json"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-check-\(getpid()).json")
        try check.stdout.write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let other = try CLI.run(["diff", Self.kvmBasic, "--regs", Self.kvmRegs, "--expected", path.path])
        #expect(other.status == 2 && other.stderr.contains("the JSON of `itsdump check`, which has no route rows"))
        let broken = try CLI.run(["diff", Self.kvmBasic, "--regs", Self.kvmRegs, "--expected", "Documentation/schema/check.schema.json"])
        #expect(broken.status == 2 && broken.stderr.contains("a JSON object with the keys"))
    }

    /// A JSON array given as --expected is named as one; a debugfs file over 64 MiB given to
    /// --debugfs-b says that only its first 64 MiB were read (the endless vgic-state of 6.10).
    @Test func expectedArrayAndLongDebugfsAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-review-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let array = dir.appendingPathComponent("rows.json")
        try " [ ]\n".write(to: array, atomically: true, encoding: .utf8)
        let r = try CLI.run(["diff", Self.kvmBasic, "--regs", Self.kvmRegs, "--expected", array.path])
        #expect(r.status == 2)
        #expect(r.stderr == "itsdump: \(array.path): a JSON array; expected route JSON: an object with a \"routes\" array (`itsdump routes --format json`) or an \"interrupts\" array (a fixture's ground-truth.json), or KVM's debugfs vgic-state or vgic-its-state text\n")
        let long = dir.appendingPathComponent("vgic-state")
        #expect(FileManager.default.createFile(atPath: long.path, contents: nil))
        let h = try FileHandle(forWritingTo: long)
        try h.truncate(atOffset: (64 << 20) + 1)
        try h.close()
        let d = try CLI.run(["diff", Self.kvmBasic, Self.kvmBasic, "--regs-a", Self.kvmRegs, "--regs-b", Self.kvmRegs, "--debugfs-b", long.path])
        #expect(d.status == 2)
        #expect(d.stderr.hasPrefix("itsdump: \(long.path): read the first 64 MiB only\nitsdump: \(long.path): not a KVM debugfs vgic-state or vgic-its-state text (what --debugfs-b reads)"))
        // --expected reads the same way and says so before what it found.
        let e = try CLI.run(["diff", Self.kvmBasic, "--regs", Self.kvmRegs, "--expected", long.path])
        #expect(e.status == 2)
        #expect(e.stderr.hasPrefix("itsdump: \(long.path): read the first 64 MiB only\nitsdump: \(long.path): not a KVM debugfs vgic-state or vgic-its-state text, nor route JSON"))
    }

    /// `routes -`: a dump is read at any offset, so a pipe cannot be one; the message says so
    /// (it said "cannot open: No such file or directory").
    @Test func aDumpFromStandardInputIsRefusedByName() throws {
        let r = try CLI.run(["routes", "-", "--regs", Self.kvmRegs])
        #expect(r.status == 2)
        #expect(r.stderr == "itsdump: -: a dump cannot come from standard input (itsdump reads a dump at any offset); give the file's path\n")
    }

    /// Standard output appended to the dump being read (`>> DUMP`, `extract -o - >> DUMP`):
    /// refused before a byte is written; the dump is unchanged.
    @Test(arguments: [["routes"], ["extract", "-o", "-"]])
    func standardOutputThatIsAnInputIsRefused(command: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-stdout-\(getpid())-\(command.count)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let dump = dir.appendingPathComponent("core.elf")
        try FileManager.default.copyItem(at: Fixtures.packageRoot.appendingPathComponent(Self.kvmBasic), to: dump)
        let before = try Data(contentsOf: dump)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = [command[0], dump.path, "--regs", Self.kvmRegs] + command.dropFirst()
        p.currentDirectoryURL = Fixtures.packageRoot
        let out = try FileHandle(forWritingTo: dump)
        try out.seekToEnd()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try out.close()
        #expect(p.terminationStatus == 2)
        #expect(e == "itsdump: \(dump.path): standard output is this input (the same file): itsdump never writes over its inputs; redirect the output elsewhere\n")
        #expect(try Data(contentsOf: dump) == before)
    }
}
