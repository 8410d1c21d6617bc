import Foundation
import Glibc
import Testing
import TextFormats
import GuestKernel
@testable import CoreDumpReader
@testable import ITSLayout

/// Issue 17: ELF cores, the state file, the file reader and the one escaping function against
/// hostile or changing inputs.
@Suite struct HostileFileTests {
    func write(_ bytes: [UInt8], _ name: String = "f") throws -> String {
        let url = try temporaryDirectory().appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func core(notes: Int = 1) -> ELFBuilder {
        var b = ELFBuilder()
        b.segments = [.init(paddr: 0x4000_0000, memsz: 4096, data: [UInt8](repeating: 0xAB, count: 4096))]
        b.notes = (0..<notes).map { .init(name: "CORE", type: 1, desc: [UInt8](repeating: UInt8($0 & 0xFF), count: 16)) }
        return b
    }

    @Test func manyPTNotesOverOneNoteAreaAreReadOnce() throws {
        // 20,000 PT_NOTE headers over the same 3,000 notes (96 KiB): read once, not 20,000 times.
        var bytes = core(notes: 3000).build()
        let phoff = 64 + 128, nbAt = phoff + 2 * 56
        let noteHeader = Array(bytes[phoff..<(phoff + 56)])
        let extra = 20_000
        // Append the copies after the file and point e_phoff at a new table: PT_NOTE × extra + the PT_LOAD.
        let table = [UInt8]((0..<extra).flatMap { _ in noteHeader }) + Array(bytes[(phoff + 56)..<(phoff + 112)])
        let newPhoff = bytes.count
        bytes += table
        bytes.replaceSubrange(32..<40, with: ELFBuilder.le(UInt64(newPhoff), 8))
        bytes.replaceSubrange(56..<58, with: ELFBuilder.le(UInt64(extra + 1), 2))
        #expect(nbAt > 0)
        let clock = ContinuousClock(), t0 = clock.now
        let c = try ELFCore(file: MappedFile(path: write(bytes)))
        #expect(c.notes.count == 3000)
        #expect(c.vcpuCount == 3000)
        #expect(clock.now - t0 < .seconds(10))
    }

    @Test func anELFCutInsideItsProgramHeadersSaysSo() throws {
        let bytes = core().build()
        let cut = 64 + 128 + 56 + 20  // inside the second program header
        #expect { _ = try ELFCore(file: MappedFile(path: write(Array(bytes.prefix(cut))))) } throws: { e in
            "\(e)".contains("truncated program headers (file ends at \(cut), headers need \(64 + 128 + 2 * 56))")
        }
    }

    @Test func moreThan65534RangesAreWrittenWithPNXNUMAndReadBack() throws {
        let ranges = (0..<70_000).map { i in
            ELFCoreWriter.Range(address: GuestPhysicalAddress(0x4000_0000 + UInt64(i) * 0x2000), bytes: [UInt8(i & 0xFF), UInt8(i >> 8 & 0xFF)])
        }
        let image = ELFCoreWriter.image(notes: [ELFCore.Note(name: "CORE", type: 1, descriptor: [1, 2, 3, 4], fileOffset: 0)], ranges: ranges)
        #expect(image.loadLE(at: 56, count: 2) == 0xFFFF)  // e_phnum = PN_XNUM
        let shoff = Int(image.loadLE(at: 40, count: 8))
        #expect(image.loadLE(at: shoff + 44, count: 4) == 70_001)  // sh_info of section header 0
        let c = try ELFCore(file: MappedFile(path: write(image)))
        #expect(c.segments.count == 70_000)
        #expect(c.notes.count == 1)
        guard case .bytes(let b) = c.read(GuestPhysicalAddress(0x4000_0000 + 69_999 * 0x2000), count: 2) else { Issue.record("absent"); return }
        #expect(b == [UInt8(69_999 & 0xFF), UInt8(69_999 >> 8 & 0xFF)])
    }

    @Test func vmcoreinfoWithCRLFLineEndsReadsAsWithLF() {
        let crlf = "OSRELEASE=6.1.0-56-arm64\r\nPAGESIZE=4096\r\nSYMBOL(swapper_pg_dir)=ffff800009e7d000\r\n"
        let lf = crlf.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(parseVMCOREINFO(crlf).map { "\($0.key)=\($0.value)" } == parseVMCOREINFO(lf).map { "\($0.key)=\($0.value)" })
        #expect(parseVMCOREINFO(crlf).count == 3)
        let v = VMCOREINFO(text: crlf, source: "test")
        #expect(v["PAGESIZE"] == "4096" && v["OSRELEASE"] == "6.1.0-56-arm64")
    }

    static let badRedistributors: [(String, String)] = [
        (#"[{"cpu": -1, "propbaser": "0x1"}]"#, "redistributors[0].cpu: -1 is not a non-negative integer"),
        (#"[{"cpu": 1.5}]"#, "redistributors[0].cpu: 1.5 is not a non-negative integer"),
        (#"[{"cpu": "two"}]"#, "redistributors[0].cpu: \"two\" is not a non-negative integer"),
        (#"[{"cpu": 1}, {"cpu": 2}, {"cpu": 1}]"#, "redistributors[2].cpu 1 is given twice (redistributors[0] has it too)"),
        (#"[{"cpu": 70000}]"#, "redistributors[0].cpu 70000 is out of range (0 to 65535)"),
    ]

    @Test(arguments: badRedistributors)
    func aBadOrRepeatedCPUIsAnErrorNamingTheEntry(redistributors: String, message: String) throws {
        let text = #"{"schemaVersion": 1, "its": [], "redistributors": "# + redistributors + "}"
        #expect { _ = try RegisterStateFile.parse(Array(text.utf8), path: "regs.json") } throws: { e in
            "\(e)".contains(message)
        }
    }

    @Test func stateFileCountsAreBounded() throws {
        let its = (0...RegisterStateFile.maxITSes).map { _ in #"{"baser": []}"# }.joined(separator: ",")
        #expect { _ = try RegisterStateFile.parse(Array(#"{"its": [\#(its)]}"#.utf8), path: "r") } throws: {
            "\($0)".contains("257 ITS entries: at most 256 are read")
        }
    }

    @Test func aFileThatShrinksWhileReadIsAnErrorNotACrash() throws {
        let path = try write([UInt8](repeating: 7, count: 1 << 20))
        let f = try MappedFile(path: path)
        #expect(f.bytes(at: 0, count: 16) == [UInt8](repeating: 7, count: 16))
        try f.checkUnchanged()
        #expect(truncate(path, 4096) == 0)
        // Past the new end: no SIGBUS (nothing is mapped), a short read remembered.
        #expect(f.bytes(at: 512 << 10, count: 4096) == nil)
        #expect(f.be64(900 << 10) == nil)
        #expect { try f.checkUnchanged() } throws: { e in
            "\(e)".contains("the file changed while it was read") && "\(e)".contains("1048576 were there when it was opened")
        }
    }

    @Test func aFileRewrittenInPlaceIsSeen() throws {
        let path = try write([UInt8](repeating: 7, count: 8192))
        let f = try MappedFile(path: path)
        _ = f.bytes(at: 0, count: 8)
        usleep(20_000)
        try Data([UInt8](repeating: 9, count: 16384)).write(to: URL(fileURLWithPath: path))
        #expect { try f.checkUnchanged() } throws: { "\($0)".contains("changed while it was read") }
    }

    @Test(arguments: [("fifo", "a FIFO"), ("dir", "a directory"), ("/dev/null", "a character device")])
    func nonRegularFilesAreRefusedWithoutBlocking(kind: String, message: String) throws {
        var path = kind
        if kind == "fifo" {
            path = try temporaryDirectory().appendingPathComponent("pipe").path
            #expect(mkfifo(path, 0o600) == 0)
        } else if kind == "dir" {
            path = try temporaryDirectory().path
        }
        #expect { _ = try MappedFile(path: path) } throws: { "\($0)".contains(message) && "\($0)".contains("not a regular file") }
    }

    @Test func theEscapingFunctionLeavesNoControlOrBidiCharacter() {
        let hostile = "ok\u{1B}]0;owned\u{07}\u{9B}2J\u{202E}txt\u{2066}\r\n\tend\u{7F}"
        let e = TerminalText.escape(hostile)
        #expect(e == #"ok\x1b]0;owned\x07\x9b2J\u{202e}txt\u{2066}\x0d\x0a\x09end\x7f"#)
        #expect(TerminalText.escape("a\nb\tc\u{1B}", keepLayout: true) == "a\nb\tc\\x1b")
        #expect(TerminalText.escape("plain — ünïcode") == "plain — ünïcode")
        let long = String(repeating: "x", count: 200)
        #expect(TerminalText.cut(long) == String(repeating: "x", count: 80) + "…")
        // JSON escapes them too (as \u sequences, still JSON).
        #expect(JSONValue.quote("a\u{1B}b\u{202E}c\u{85}") == #""a\u001bb\u202ec\u0085""#)
    }
}

/// A JSON file of another kind given as `--regs` is refused by name, never read as an empty
/// state (an extract's own note would then stand in for the registers asked for).
@Suite struct StateFileKindTests {
    @Test(arguments: ["{}", #"{"interrupts": []}"#, #"{"command": "routes", "routes": []}"#])
    func aJSONFileWithoutStateArraysIsNotAStateFile(text: String) {
        #expect {
            _ = try RegisterStateFile.parse(Array(text.utf8), path: "other.json")
        } throws: { "\($0)".contains("not a register state file") }
    }

    @Test func redistributorsAloneAreAStateFile() throws {
        let s = try RegisterStateFile.parse(Array(#"{"redistributors": [{"cpu": 0, "pendbaser": "0x425d0780"}]}"#.utf8), path: "r.json")
        #expect(s.its.isEmpty && s.redistributors.first?.pendbaser?.value.rawValue == 0x425D_0780)
    }
}
