@testable import CoreDumpReader
import Foundation
import Glibc
import ITSLayout
import Testing

/// Runs `itsdump` under /usr/bin/timeout with posix_spawn and reaps it with wait4, so that the
/// child's own peak RSS is measured (ru_maxrss of the reaped process tree), stdin optional.
enum MeasuredRun {
    struct Result { var status: Int32; var stdout: [UInt8]; var stderr: String; var peakKiB: Int }

    static func run(_ args: [String], stdin: String? = nil, limitFileKiB: Int? = nil, seconds: Int = 120) throws -> Result {
        let dir = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                              appropriateFor: URL(fileURLWithPath: "/tmp"), create: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path, err = dir.appendingPathComponent("err").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The RSS is measured by a small python3 that spawns the command and reaps it with
        // os.wait4: a process exec'd straight from this (large) test process would carry the
        // test's own high-water mark in its ru_maxrss.
        let rssFile = dir.appendingPathComponent("rss").path
        var argv = ["/usr/bin/python3", "-c", measure, rssFile, "/usr/bin/timeout", "-s", "KILL", String(seconds), CLI.binary] + args
        if let limitFileKiB {  // RLIMIT_FSIZE through the shell's ulimit (in 1 KiB blocks)
            argv = ["/bin/sh", "-c", "ulimit -f \(limitFileKiB) && exec \"$@\"", "sh"] + argv
        }
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, &cargs, environ)
        guard rc == 0 else { throw FixtureError(message: "posix_spawn: \(rc)") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let peak = (try? String(contentsOfFile: rssFile, encoding: .utf8)).flatMap { Int($0) } ?? Int.max
        return Result(status: code, stdout: (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))) ?? [],
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", peakKiB: peak)
    }

    static let measure = """
        import os, subprocess, sys
        p = subprocess.Popen(sys.argv[2:])
        _, status, ru = os.wait4(p.pid, 0)
        open(sys.argv[1], "w").write(str(ru.ru_maxrss))
        code = os.waitstatus_to_exitcode(status)
        sys.exit(code if code >= 0 else 128 - code)
        """
}

/// Issue 17 through the command line: exit statuses, messages, memory of a child run, inputs
/// untouched, and no control character from a file on the terminal.
@Suite(.serialized) struct HostileCLITests {
    let extract = Fixtures.packageRoot.appendingPathComponent("fixtures/tcg-basic/core.extract.elf").path
    let regs = Fixtures.packageRoot.appendingPathComponent("fixtures/tcg-basic/its-regs.json").path
    var root: URL { Fixtures.packageRoot }

    func scratch() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    static let kinds = ["fifo", "directory", "device"]

    @Test(arguments: kinds)
    func nonRegularFilesAreRefusedBeforeAnythingBlocks(kind: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var path = "/dev/zero"
        var words = "a character device"
        if kind == "fifo" {
            path = dir.appendingPathComponent("pipe").path
            #expect(mkfifo(path, 0o600) == 0)
            words = "a FIFO"
        } else if kind == "directory" {
            path = dir.path
            words = "a directory"
        }
        for args in [["routes", path], ["routes", "\(path)@0x40000000"], ["routes", extract, "--regs", path],
                     ["diff", extract, "--regs", regs, "--expected", path],
                     ["driver", extract, "--vmlinux", path], ["driver", extract, "--vmlinux", path, "--vmcoreinfo", path]] {
            let r = try MeasuredRun.run(args, seconds: 20)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(words) && r.stderr.contains("not a regular file"), "\(args): \(r.stderr)")
        }
    }

    @Test func standardInputServesAsTheStateFileWithTheSameCap() throws {
        let viaFile = try MeasuredRun.run(["routes", extract, "--regs", regs, "--output", "json"])
        let viaStdin = try MeasuredRun.run(["routes", extract, "--regs", "-", "--output", "json"], stdin: regs)
        #expect(viaFile.status == 0 && viaStdin.status == 0, "\(viaStdin.stderr)")
        let routes = { (b: [UInt8]) in (try? JSONSerialization.jsonObject(with: Data(b)) as? [String: Any])?["routes"] as? [[String: Any]] }
        #expect(routes(viaStdin.stdout)?.count == routes(viaFile.stdout)?.count)
        #expect((routes(viaFile.stdout)?.count ?? 0) > 10)
        // And as the expected side of diff: the ground truth from standard input.
        let truth = Fixtures.packageRoot.appendingPathComponent("fixtures/tcg-basic/ground-truth.json").path
        let diff = try MeasuredRun.run(["diff", extract, "--regs", regs, "--expected", "-"], stdin: truth)
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(String(decoding: diff.stdout, as: UTF8.self).contains("route rows from standard input"))
        #expect(String(decoding: diff.stdout, as: UTF8.self).contains("no differences"))
    }

    @Test func fileControlledStringsReachTheTerminalEscaped() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let core = dir.appendingPathComponent("evil.elf").path
        let vmcoreinfo = "OSRELEASE=6.1\u{1B}]0;owned\u{07}\u{202E}gnp.exe\nPAGESIZE=4096\u{9B}2J\n"
        let notes = [ELFCore.Note(name: "EVIL\u{1B}[2J", type: 7, descriptor: [1, 2, 3, 4], fileOffset: 0),
                     ELFCore.Note(name: "VMCOREINFO", type: 0, descriptor: Array(vmcoreinfo.utf8), fileOffset: 0)]
        try Data(ELFCoreWriter.image(notes: notes, ranges: [.init(address: GuestPhysicalAddress(0x4000_0000), bytes: [0])])).write(to: URL(fileURLWithPath: core))
        let r = try MeasuredRun.run(["info", core])
        #expect(r.status == 0, "\(r.stderr)")
        let text = String(decoding: r.stdout, as: UTF8.self)
        let forbidden: Set<UInt32> = [0x1B, 0x07, 0x9B, 0x202E]
        #expect(!text.unicodeScalars.contains { forbidden.contains($0.value) })
        #expect(text.contains(#"EVIL\x1b[2J/7"#), "\(text)")
        #expect(text.contains(#"OSRELEASE=6.1\x1b]0;owned\x07\u{202e}gnp.exe"#), "\(text)")
        #expect(text.contains(#"PAGESIZE=4096\x9b2J"#))
        let json = try MeasuredRun.run(["info", core, "--output", "json"])
        #expect(!String(decoding: json.stdout, as: UTF8.self).unicodeScalars.contains { forbidden.contains($0.value) })
        #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout))) != nil)

        // An error message echoing a state-file value: escaped and cut to 80 characters.
        let bad = dir.appendingPathComponent("regs.json").path
        let value = #"\u001b[31m"# + String(repeating: "A", count: 300)  // a JSON escape: the parsed value holds ESC
        try Data(#"{"its": [{"ctlr": "\#(value)", "baser": []}]}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let e = try MeasuredRun.run(["routes", extract, "--regs", bad])
        #expect(e.status == 2)
        #expect(!e.stderr.unicodeScalars.contains { $0.value == 0x1B })
        // The value is echoed as JSON text (ESC as \u001b), cut to 80 characters.
        #expect(e.stderr.contains(#"its[0].ctlr: "\u001b[31m"# + String(repeating: "A", count: 69) + "… is not"), "\(e.stderr)")
    }

    /// Every way of naming an input as the output: the same path, a symlink, a hard link, the
    /// state file; exit 2, the input byte-identical.
    @Test func extractNeverWritesOverAnInput() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let core = dir.appendingPathComponent("core.elf").path
        let state = dir.appendingPathComponent("regs.json").path
        try FileManager.default.copyItem(atPath: extract, toPath: core)
        try FileManager.default.copyItem(atPath: regs, toPath: state)
        let link = dir.appendingPathComponent("link.elf").path, hard = dir.appendingPathComponent("hard.elf").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: core)
        #expect(Glibc.link(core, hard) == 0)
        let before = try bytes(core), stateBefore = try bytes(state)
        for out in [core, link, hard, state, "\(dir.path)/../\(dir.lastPathComponent)/core.elf"] {
            let r = try MeasuredRun.run(["extract", core, "--regs", state, "-o", out])
            #expect(r.status == 2, "\(out): \(r.stderr)")
            #expect(r.stderr.contains("never writes over its inputs"), "\(r.stderr)")
        }
        let raw = try MeasuredRun.run(["extract", "\(core)@0x40000000", "--regs", state, "-o", hard])
        #expect(raw.status == 2 && raw.stderr.contains("same file"))
        #expect(try bytes(core) == before && bytes(state) == stateBefore)
    }

    @Test func extractIsAtomicOnAFullDiskOrAFileSizeLimit() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("out.elf").path
        try Data("previous extract".utf8).write(to: URL(fileURLWithPath: target))
        // RLIMIT_FSIZE of 8 KiB: the write fails (EFBIG), the previous file stays whole.
        let r = try MeasuredRun.run(["extract", extract, "--regs", regs, "-o", target], limitFileKiB: 8)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write") && r.stderr.contains("unchanged"), "\(r.stderr)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "previous extract")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.elf"])
        // /dev/full (and any non-regular output) is refused: rename would replace the node.
        let full = try MeasuredRun.run(["extract", extract, "--regs", regs, "-o", "/dev/full"])
        #expect(full.status == 2 && full.stderr.contains("not a regular file"), "\(full.stderr)")
        var st = stat()
        #expect(stat("/dev/full", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
        // Without a limit the same command replaces it whole.
        let ok = try MeasuredRun.run(["extract", extract, "--regs", regs, "-o", target])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try bytes(target).prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.elf"])
    }

    /// Spawns itsdump with stdout and stderr to files in `dir`, for a test that must signal it.
    static func spawn(_ args: [String], in dir: URL) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir.appendingPathComponent("stdout").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, dir.appendingPathComponent("stderr").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = [CLI.binary] + args
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, CLI.binary, &actions, nil, &cargs, environ)
        guard rc == 0 else { throw FixtureError(message: "posix_spawn: \(rc)") }
        return pid
    }

    static func reap(_ pid: pid_t) -> (exited: Bool, code: Int32, signal: Int32) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return ((status & 0x7F) == 0, (status >> 8) & 0xFF, status & 0x7F)
    }

    /// SIGKILL at any moment of an extract (before, while and after it writes): the file at the
    /// output path is the previous one or the whole new one, never a part; whatever is left
    /// besides is a temporary file, never under the output's name. The kill times sweep 0 to
    /// ~60 ms, past the run's own length, so both outcomes are met.
    @Test(.tags(.realSnapshots)) func extractKilledAtAnyMomentLeavesThePreviousFileOrTheWholeNewOne() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let core = try Fixtures.member("tcg-basic", "core.elf")
        let reference = dir.appendingPathComponent("reference.elf").path
        let made = try MeasuredRun.run(["extract", core, "--regs", regs, "-o", reference])
        #expect(made.status == 0, "\(made.stderr)")
        let whole = try bytes(reference)
        let target = dir.appendingPathComponent("out.elf").path
        let previous = Data("previous extract".utf8)
        for i in 0..<24 {
            try previous.write(to: URL(fileURLWithPath: target))
            let pid = try Self.spawn(["extract", core, "--regs", regs, "-o", target], in: dir)
            usleep(UInt32(i * 2500))
            kill(pid, SIGKILL)
            let end = Self.reap(pid)
            let now = try bytes(target)
            #expect(now == previous || now == whole, "kill after \(i * 2500) µs: \(now.count) bytes at the output path")
            #expect(end.exited ? end.code == 0 : end.signal == SIGKILL)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            for leftover in names where !["reference.elf", "out.elf", "stdout", "stderr"].contains(leftover) {
                #expect(leftover.hasPrefix(".out.elf") || leftover.hasPrefix("out.elf."), "\(leftover)")
                try FileManager.default.removeItem(atPath: dir.appendingPathComponent(leftover).path)
            }
        }
    }

    /// A dump cut short while `routes` reads it (a dump still being copied): exit 0 when the run
    /// was over first, otherwise exit 2 with a message; never a signal (SIGBUS) or a trap.
    @Test(.tags(.realSnapshots)) func aDumpCutShortDuringARunEndsWithAMessageNeverASignal() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let core = try Fixtures.member("kvm-basic", "core.elf")
        let copy = dir.appendingPathComponent("core.elf").path
        for i in 0..<12 {
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: core, toPath: copy)
            let pid = try Self.spawn(["routes", copy, "--regs", Fixtures.shared.appendingPathComponent("kvm-basic/its-regs.json").path, "--format", "json"], in: dir)
            usleep(UInt32(i * 6000))
            #expect(truncate(copy, off_t(1 << 20)) == 0)
            let end = Self.reap(pid)
            let err = (try? String(contentsOfFile: dir.appendingPathComponent("stderr").path, encoding: .utf8)) ?? ""
            #expect(end.exited, "cut after \(i * 6000) µs: signal \(end.signal)")
            #expect(end.code == 0 || end.code == 2, "cut after \(i * 6000) µs: exit \(end.code): \(err)")
            if end.code == 0 { #expect(err.isEmpty, "\(err)") }
            if end.code == 2 {
                // Cut before the run opened it: "past the end of the …-byte file (truncated dump?)";
                // cut while it read: "the file changed while it was read".
                #expect(err.contains("changed while it was read") || err.contains("truncated"), "\(err)")
                #expect(err.split(separator: "\n").count == 1, "\(err)")
            }
        }
    }

    /// The bundled extract re-written with every range cut into pages plus one-byte ranges far
    /// above the RAM, past 65,535 program headers: routes on it equal routes on the extract.
    @Test func routesOnAPNXNUMExtractEqualRoutesOnItsSource() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try ELFCore(file: MappedFile(path: extract))
        var ranges: [ELFCoreWriter.Range] = []
        for s in source.segments {
            var a = s.physicalAddress
            while a < s.physicalAddress + s.memorySize {
                let n = min(4096, s.physicalAddress + s.memorySize - a)
                if case .bytes(let b) = source.read(GuestPhysicalAddress(a), count: Int(n)) {
                    ranges.append(.init(address: GuestPhysicalAddress(a), bytes: b))
                }
                a += n
            }
        }
        var pad: UInt64 = 0x80_0000_0000
        while ranges.count < 70_000 { ranges.append(.init(address: GuestPhysicalAddress(pad), bytes: [0x5A])); pad += 0x2000 }
        let big = dir.appendingPathComponent("xnum.elf").path
        try Data(ELFCoreWriter.image(notes: source.notes, ranges: ranges)).write(to: URL(fileURLWithPath: big))
        let a = try MeasuredRun.run(["routes", extract, "--regs", regs, "--output", "json"])
        let b = try MeasuredRun.run(["routes", big, "--regs", regs, "--output", "json"])
        #expect(a.status == 0 && b.status == 0, "\(b.stderr)")
        let routes = { (r: MeasuredRun.Result) in
            (try? JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])?["routes"] as? NSArray
        }
        #expect((routes(a)?.count ?? 0) > 10 && routes(a)?.isEqual(to: (routes(b) as? [Any]) ?? []) == true)
    }

    @Test func aRAMBlockMappingThatWrapsIsExitStatus2() throws {
        let stream = try Fixtures.member("kvm-basic", "migration.bin")
        let r = try MeasuredRun.run(["routes", stream, "--ram-block", "ram0@0xfffffffffff00000"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--ram-block ram0@0xfffffffffff00000: its 134217728 bytes wrap past the top"), "\(r.stderr)")
    }

    /// QEMU 7.2's real streams with the JSON description cut off: the fallback reads the ITS and
    /// GIC sections (skipping gicd_no_migration_shift_bug) and the routes are the same.
    @Test(arguments: ["kvm-basic", "tcg-basic"])
    func theRealStreamsWithoutTheirDescriptionGiveTheSameRoutes(stop: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stream = try Fixtures.member(stop, "migration.bin")
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: stream)))
        // The description: 0x06, be32 length, then the JSON that ends the file (§4.7).
        let tail = data.suffix(1 << 20)
        let brace = try #require(tail.indices.last { tail[$0] == 0x06 && $0 + 5 < data.count && data[$0 + 5] == UInt8(ascii: "{") })
        let cut = dir.appendingPathComponent("nodesc.mig").path
        try Data(data[..<brace]).write(to: URL(fileURLWithPath: cut))
        let full = try MeasuredRun.run(["routes", stream, "--output", "json"])
        let without = try MeasuredRun.run(["routes", cut, "--output", "json"])
        #expect(full.status == 0 && without.status == 0, "\(without.stderr)")
        let obj = { (r: MeasuredRun.Result) in try? JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any] }
        // `device` (issue 19) names the QEMU device from the section names, which a stream
        // without its description cannot all read: compared without it.
        let routes = { (r: MeasuredRun.Result) in
            ((obj(r)?["routes"] as? [[String: Any]])?.map { $0.filter { $0.key != "device" } }).map { $0 as NSArray }
        }
        #expect(routes(full) != nil && routes(full)?.isEqual(to: (routes(without) as? [Any]) ?? []) == true)
        #expect((obj(without)?["routes"] as? [Any])?.count == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))).count)
        let info = try MeasuredRun.run(["info", cut])
        #expect(String(decoding: info.stdout, as: UTF8.self).contains("JSON description: no"))
    }

    @Test func aKdumpCutShortSaysSoInInfoRoutesAndCheck() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kdump = try Fixtures.member("tcg-kdump", "core.kdump-zlib")
        let data = try Data(contentsOf: URL(fileURLWithPath: kdump))
        let cut = dir.appendingPathComponent("cut.kdump").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let regs = Fixtures.shared.appendingPathComponent("tcg-kdump/its-regs.json").path
        let info = try MeasuredRun.run(["info", cut])
        let text = String(decoding: info.stdout, as: UTF8.self)
        #expect(info.status == 0 && text.contains("the dump is incomplete") && text.contains("MISSING START"), "\(text)")
        let routes = try MeasuredRun.run(["routes", cut, "--regs", regs])
        #expect(String(decoding: routes.stdout, as: UTF8.self).contains("dump-incomplete"))
        let check = try MeasuredRun.run(["check", cut, "--regs", regs])
        #expect(check.status == 1)
        #expect(String(decoding: check.stdout, as: UTF8.self).contains("the dump is incomplete"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: kdump)) == data)
    }

    @Test func aTruncatedVmlinuxIsSaidToBeTruncated() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let vmlinux = try Fixtures.vmlinux.get()
        let data = try Data(contentsOf: URL(fileURLWithPath: vmlinux))
        let cut = dir.appendingPathComponent("vmlinux").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let core = try Fixtures.member("tcg-basic", "core.elf")
        let r = try MeasuredRun.run(["driver", core, "--vmlinux", cut])
        #expect(r.status == 2)
        #expect(r.stderr.contains("truncated or damaged vmlinux") && !r.stderr.contains("no DWARF"), "\(r.stderr)")
    }

    /// 32 MiB of route rows (with duplicated keys): peak memory a small multiple of the bytes.
    @Test func expectedRowsAreStreamedAndDuplicateKeysReportedOnce() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("rows.json").path
        var text = #"{"schemaVersion": 1, "routes": ["#
        let row = #"{"deviceID": 999999, "eventID": %d, "lpi": 8192, "vcpu": 0, "padding": "................................"}"#
        var n = 0
        var body: [String] = []
        while text.utf8.count + body.count * 100 < 32 << 20 {
            body.append(String(format: row, n % 1000))
            n += 1
        }
        text += body.joined(separator: ",") + "]}"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let bytes = text.utf8.count
        let r = try MeasuredRun.run(["diff", extract, "--regs", regs, "--expected", path])
        #expect(r.status == 1)
        let out = String(decoding: r.stdout, as: UTF8.self)
        #expect(out.contains("note: DeviceID 999999 EventID 0 appears more than once"))
        #expect(out.components(separatedBy: "DeviceID 999999 EventID 7 appears").count == 2)
        #expect(out.contains("900 more keys appear more than once"))
        #expect(r.peakKiB * 1024 < 3 * bytes + 64 << 20, "peak \(r.peakKiB) KiB for \(bytes) bytes")
    }

    @Test func aStreamClaimingAHugeBlockWithFewPagesStaysSmall() throws {
        // A 1 PiB block with pages at its top and bottom: memory follows the pages sent.
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        func str8(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }
        var s = be(0x5145_564D, 4) + be(3, 4)
        s += [0x07] + be(8, 4) + Array("virt-7.2".utf8)
        s += [0x04] + be(2, 4) + str8("ram") + be(0, 4) + be(4, 4)
        s += be(1 << 50 | 0x004, 8) + str8("mach-virt.ram") + be(1 << 50, 8) + be(0x010, 8)
        s += [0x03] + be(2, 4)  // SECTION_END of the RAM section: the pages
        for (i, page) in [(1 << 38) - 1, 0, 1 << 30, 12345].enumerated() {
            s += be(UInt64(page) << 12 | 0x008 | (i == 0 ? 0 : 0x020), 8) + (i == 0 ? str8("mach-virt.ram") : []) + [UInt8](repeating: 0x42, count: 4096)
        }
        s += be(0x010, 8) + [0x00]
        let path = dir.appendingPathComponent("huge.mig").path
        try Data(s).write(to: URL(fileURLWithPath: path))
        let r = try MeasuredRun.run(["info", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: r.stdout, as: UTF8.self).contains("mach-virt.ram  1125899906842624           4"), "\(String(decoding: r.stdout, as: UTF8.self))")
        #expect(r.peakKiB < 128 << 10, "peak \(r.peakKiB) KiB")
    }
}

/// Inputs fuzz-stream, fuzz-kdump and fuzz-elf found (Fuzz/README.md), replayed.
@Suite struct ParserFuzzReproducerTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reproducers")

    /// fuzz-kdump, 2026-12-07: a 21 KiB flattened file whose sub-header puts a 16 MiB note area
    /// in a hole (read as zeros): 1.4 million empty notes, an 80 MiB array. The note area must
    /// be bytes of the file, and an all-zero note header ends the list.
    @Test func aNoteAreaInAFlattenedHoleCostsNothing() throws {
        let path = Self.folder.appendingPathComponent("fuzz-kdump-oom-d3e0e061fcd6cf2d57ef8dba0eada573e2ff7e4d").path
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        let k = try KdumpFile(file: MappedFile(path: path))
        #expect(k.notes.count <= size / 12)
        let r = try MeasuredRun.run(["info", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.peakKiB < 128 << 10, "peak \(r.peakKiB) KiB")
    }
}
