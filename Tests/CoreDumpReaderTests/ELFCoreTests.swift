import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout
import GuestKernel

@Suite struct ELFCoreTests {
    func prstatus(_ cpu: UInt32) -> ELFBuilder.Note {
        var d = [UInt8](repeating: 0, count: 392)
        d[32] = UInt8(cpu + 1)
        return ELFBuilder.Note(name: "CORE", type: 1, desc: d)
    }

    func sample() -> ELFBuilder {
        var b = ELFBuilder()
        b.notes = [prstatus(0), ELFBuilder.Note(name: "CORE", type: 2, desc: [UInt8](repeating: 0, count: 528)),
                   prstatus(1), prstatus(2),
                   ELFBuilder.Note(name: "VMCOREINFO", type: 0,
                                   desc: Array("OSRELEASE=6.1.0-56-arm64\nPAGESIZE=4096\nNUMBER(PHYS_OFFSET)=0x40000000\nKERNELOFFSET=8000\n".utf8))]
        // RAM at 0x40000000: 2 pages in the file, 4 in memory (the rest reads as zeros).
        var ram = [UInt8](repeating: 0, count: 8192)
        for i in 0..<8 { ram[0x1000 + i] = UInt8(0x11 * (i + 1)) }
        ram[8191] = 0xEE
        b.segments = [ELFBuilder.Segment(paddr: 0x4000_0000, memsz: 16384, data: ram),
                      ELFBuilder.Segment(paddr: 0x090A_0000, memsz: 4096, data: [UInt8](repeating: 0x5A, count: 4096))]
        return b
    }

    @Test func readsQEMU72CoresWithEhsize8AndSectionsFirst() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("core.elf")
        try sample().write(to: url)
        let core = try ELFCore(file: MappedFile(path: url.path))
        #expect(core.segments.count == 2)
        #expect(core.vcpuCount == 3)
        #expect(core.vmcoreinfoText.map(parseVMCOREINFO)?.first { $0.key == "OSRELEASE" }?.value == "6.1.0-56-arm64")
        #expect(core.presentRanges == [GuestRange(start: GuestPhysicalAddress(0x090A_0000), length: 4096),
                                       GuestRange(start: GuestPhysicalAddress(0x4000_0000), length: 16384)])
        guard case .bytes(let b) = core.read(GuestPhysicalAddress(0x4000_1000), count: 8) else {
            Issue.record("expected bytes"); return
        }
        #expect(b.loadLE(at: 0, count: 8) == 0x8877_6655_4433_2211)
        // Across the end of p_filesz: the last file byte, then zeros up to p_memsz.
        guard case .bytes(let z) = core.read(GuestPhysicalAddress(0x4000_1FFF), count: 3) else {
            Issue.record("expected bytes"); return
        }
        #expect(z == [0xEE, 0, 0])
        guard case .absent(let r) = core.read(GuestPhysicalAddress(0x4000_3FFC), count: 8) else {
            Issue.record("expected absent"); return
        }
        #expect(r.start == GuestPhysicalAddress(0x4000_4000))
        guard case .absent = core.read(GuestPhysicalAddress(0x1000), count: 1) else {
            Issue.record("expected absent"); return
        }
    }

    @Test func readsPNXNUMCounts() throws {
        var b = sample()
        b.pnXnum = true
        let url = try temporaryDirectory().appendingPathComponent("xnum.elf")
        try b.write(to: url)
        let core = try ELFCore(file: MappedFile(path: url.path))
        #expect(core.segments.count == 2)
    }

    @Test func aTruncatedDumpIsANamedError() throws {
        var b = sample()
        b.extraFileSize = 1 << 30
        let url = try temporaryDirectory().appendingPathComponent("cut.elf")
        try b.write(to: url)
        #expect {
            _ = try ELFCore(file: MappedFile(path: url.path))
        } throws: { e in
            "\(e)".contains("past the end of the") && "\(e)".contains("truncated")
        }
    }

    @Test(arguments: [
        ([UInt8](), "empty"), (Array("hello world, not a dump".utf8), "not a recognised dump"),
        ([0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0], "ELFCLASS64"),
        ([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0xFF, count: 56), "ELF"),
    ])
    func badFilesAreNamedErrors(bytes: [UInt8], expected: String) throws {
        let url = try temporaryDirectory().appendingPathComponent("bad")
        try Data(bytes).write(to: url)
        #expect {
            _ = try Dump.open(url.path)
        } throws: { e in
            e is DumpError && "\(e)".contains(expected) || (bytes.isEmpty && "\(e)".contains("not a recognised dump"))
        }
    }

    @Test func rawImagesMapAtTheirGivenAddress() throws {
        let url = try temporaryDirectory().appendingPathComponent("ram.img")
        try Data((0..<8192).map { UInt8(truncatingIfNeeded: $0) }).write(to: url)
        let d = try Dump.open(url.path + "@0x40000000")
        #expect(d.kind == .raw)
        guard case .bytes(let b) = d.memory.read(GuestPhysicalAddress(0x4000_0101), count: 2) else {
            Issue.record("expected bytes"); return
        }
        #expect(b == [1, 2])
        guard case .absent(let r) = d.memory.read(GuestPhysicalAddress(0x4000_1FFF), count: 4) else {
            Issue.record("expected absent"); return
        }
        #expect(r.start == GuestPhysicalAddress(0x4000_2000) && r.length == 3)
        #expect(throws: DumpError.self) { try Dump.open(url.path + "@nowhere") }
        #expect(throws: DumpError.self) { try Dump.open(url.path + "@0xffffffffffffff00") }
        // Two ranges that overlap are refused.
        let first = try Dump.open(url.path + "@0x40000000"), second = try Dump.open(url.path + "@0x40001000")
        #expect(throws: DumpError.self) { try CompositeMemory([first.memory, second.memory]) }
    }

    @Test func extractWriterOutputReadsBack() throws {
        let url = try temporaryDirectory().appendingPathComponent("x.elf")
        let note = ELFCore.Note(name: "VMCOREINFO", type: 0, descriptor: Array("A=1\n".utf8), fileOffset: 0)
        try ELFCoreWriter.write(path: url.path, notes: [note],
                                ranges: [.init(address: GuestPhysicalAddress(0x4200_0000), bytes: [1, 2, 3, 4])])
        let core = try ELFCore(file: MappedFile(path: url.path))
        #expect(core.vmcoreinfoText == "A=1\n")
        guard case .bytes(let b) = core.read(GuestPhysicalAddress(0x4200_0000), count: 4) else {
            Issue.record("expected bytes"); return
        }
        #expect(b == [1, 2, 3, 4])
    }
}

@Suite struct RegisterStateFileTests {
    @Test func readsTheDocumentedSchema() throws {
        let json = """
            {"schemaVersion": 1, "source": "x", "extra": true,
             "its": [{"base": "0x8080000", "typer": "0x1ef71", "iidr": "0x4b00043b",
                      "baser": ["0xf9070000425a0600", "0xbc070000425b0600", "0x0", "0x0", "0x0", "0x0", "0x0", "0x0"]}],
             "redistributors": [{"cpu": 1, "propbaser": "0x425c078f", "pendbaser": "0x425e0780"}]}
            """
        let s = try RegisterStateFile.parse(Array(json.utf8), path: "/x/regs.json")
        #expect(s.its.count == 1)
        #expect(s.its[0].baser[0]?.value.rawValue == 0xF907_0000_425A_0600)
        #expect(s.its[0].baser[0]?.provenance == Provenance(.stateFile, "regs.json its[0].baser[0]"))
        #expect(s.its[0].typer?.value.ittEntrySize == 8)
        #expect(s.its[0].cbaser == nil)
        #expect(s.redistributors.map(\.cpu) == [1])
        #expect(s.redistributors[0].pendbaser?.value.physicalAddress == GuestPhysicalAddress(0x425E_0000))
    }

    @Test(arguments: [
        ("[]", "JSON object"), ("{\"schemaVersion\": 2, \"its\": []}", "schemaVersion"),
        ("{\"its\": [{\"typer\": \"0x1\"}]}", "baser"), ("{\"its\": [{\"baser\": [\"zz\"]}]}", "baser[0]"),
        ("{\"its\": [{\"baser\": [\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\",\"0\"]}]}", "9 values"), ("not json", "not JSON"),
    ])
    func badStateFilesAreNamedErrors(text: String, expected: String) {
        #expect {
            _ = try RegisterStateFile.parse(Array(text.utf8), path: "regs.json")
        } throws: { e in "\(e)".contains(expected) }
    }

    @Test func flagsOverrideTheFile() {
        var file = RegisterState(its: [ITSRegisterState()], redistributors: [RedistributorState(cpu: 0)])
        file.its[0].baser[0] = Sourced(GITSBaser(rawValue: 1), Provenance(.stateFile, "f"))
        file.its[0].baser[1] = Sourced(GITSBaser(rawValue: 2), Provenance(.stateFile, "f"))
        var flags = RegisterState(its: [ITSRegisterState()])
        flags.its[0].baser[1] = Sourced(GITSBaser(rawValue: 3), Provenance(.flag, "--baser 1"))
        file.overlay(flags)
        #expect(file.its[0].baser[0]?.value.rawValue == 1)
        #expect(file.its[0].baser[1]?.value.rawValue == 3)
        #expect(file.its[0].baser[1]?.provenance.kind == .flag)
    }
}
