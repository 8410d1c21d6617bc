import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

@Suite struct MigrationStreamTests {
    let b0: UInt64 = 0xF907_0000_425A_0600, b1: UInt64 = 0xBC07_0000_425B_0600

    /// A complete small stream: main RAM of 4 pages and a 2-page flash block.
    func sample(json: Bool = false) -> StreamBuilder {
        var s = StreamBuilder()
        s.header()
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", 4 * 4096), ("virt.flash0", 2 * 4096)])
        s.eos()
        s.footer(id: 2)
        s.sectionPart(id: 2)
        s.page("mach-virt.ram", offset: 0, bytes: [1, 2, 3])
        s.zero(nil, offset: 0x1000)  // CONTINUE
        s.page("virt.flash0", offset: 0x1000, bytes: [0xF1])
        s.page("mach-virt.ram", offset: 0x2000, bytes: [9])
        s.page(nil, offset: 0, bytes: [4, 5, 6])  // sent again: the last copy wins
        s.eos()
        s.footer(id: 2)
        s.sectionPart(id: 2, end: true)
        s.zero(nil, offset: 0x3000, fill: 0)
        s.eos()
        s.footer(id: 2)
        s.gic(id: 11, props: [0x425C_078F, 0x425C_078F], pends: [0x425D_0780, 0x425E_0780])
        s.its(id: 12, ctlr: 0x8000_0001, iidr: 0x4B00_043B, baser: [b0, b1, 0, 0, 0, 0, 0, 0])
        s.device(id: 13, name: "timer", bytes: 24)
        let desc = """
            {"page_size": 4096, "devices": [{"name": "timer", "instance_id": 0, "vmsd_name": "timer", "version": 1,
              "fields": [{"name": "ticks", "array_len": 3, "type": "uint64", "size": 8}]},
             {"name": "arm_gicv3_its", "instance_id": 0, "vmsd_name": "arm_gicv3_its", "version": 0,
              "fields": [{"name": "ctlr", "type": "uint32", "size": 4}, {"name": "iidr", "type": "uint32", "size": 4},
                         {"name": "cbaser", "type": "uint64", "size": 8}, {"name": "cwriter", "type": "uint64", "size": 8},
                         {"name": "creadr", "type": "uint64", "size": 8}, {"name": "baser", "array_len": 8, "type": "uint64", "size": 8}]},
             {"name": "arm_gicv3", "instance_id": 0, "vmsd_name": "arm_gicv3", "version": 1,
              "fields": [{"name": "dist", "type": "buffer", "size": 10344},
                {"name": "cpu", "index": 0, "type": "struct", "struct": {"vmsd_name": "arm_gicv3_cpu", "version": 1,
                  "fields": [{"name": "a", "type": "buffer", "size": 20}, {"name": "gicr_propbaser", "type": "uint64", "size": 8},
                             {"name": "gicr_pendbaser", "type": "uint64", "size": 8}, {"name": "b", "type": "buffer", "size": 236}],
                  "subsections": [{"vmsd_name": "arm_gicv3_cpu/sre_el1", "version": 1, "fields": [{"name": "icc_sre_el1", "type": "uint64", "size": 8}]}]}},
                {"name": "cpu", "index": 1, "type": "struct", "struct": {"vmsd_name": "arm_gicv3_cpu", "version": 1,
                  "fields": [{"name": "a", "type": "buffer", "size": 20}, {"name": "gicr_propbaser", "type": "uint64", "size": 8},
                             {"name": "gicr_pendbaser", "type": "uint64", "size": 8}, {"name": "b", "type": "buffer", "size": 236}]}}],
              "subsections": [{"vmsd_name": "arm_gicv3/gicd_state_shift_bug", "version": 1, "fields": [{"name": "x", "type": "bool", "size": 1}]}]}]}
            """
        s.eof(json: json ? desc : nil)
        return s
    }

    func open(_ s: StreamBuilder, blocks: [String: UInt64] = [:]) throws -> MigrationStream {
        let url = try temporaryDirectory().appendingPathComponent("vm.mig")
        try s.write(url)
        return try MigrationStream(file: MappedFile(path: url.path), ramBlocks: blocks)
    }

    func bytes(_ m: MigrationStream, _ a: UInt64, _ n: Int) -> [UInt8]? {
        if case .bytes(let b) = m.read(GuestPhysicalAddress(a), count: n) { return b }
        return nil
    }

    @Test(arguments: [false, true])
    func pagesZeroPagesContinueAndLastCopyWins(json: Bool) throws {
        let m = try open(sample(json: json))
        #expect(m.hasJSON == json)
        #expect(m.machine == "virt-7.2" && m.pageSize == 4096)
        #expect(m.blocks.map(\.name) == ["mach-virt.ram", "virt.flash0"])
        #expect(m.blocks.map(\.pagesSent) == [5, 1])
        #expect(bytes(m, 0x4000_0000, 4) == [4, 5, 6, 0])  // the second copy
        #expect(bytes(m, 0x4000_1000, 4) == [0, 0, 0, 0])  // zero page
        #expect(bytes(m, 0x4000_2000, 2) == [9, 0])
        #expect(bytes(m, 0x4000_3FFF, 1) == [0])
        // flash is listed but not mapped; the main RAM is.
        #expect(m.presentRanges == [GuestRange(start: GuestPhysicalAddress(0x4000_0000), length: 16384)])
        guard case .absent = m.read(GuestPhysicalAddress(0x4000_4000), count: 1) else { Issue.record("expected absent"); return }
        // --ram-block maps another block.
        let mapped = try open(sample(json: json), blocks: ["virt.flash0": 0])
        #expect(bytes(mapped, 0x1000, 1) == [0xF1])
    }

    @Test(arguments: [false, true])
    func registersComeFromTheGICSections(json: Bool) throws {
        let m = try open(sample(json: json))
        #expect(m.streamRegisters.its.count == 1)
        let its = m.streamRegisters.its[0]
        #expect(its.baser[0]?.value.rawValue == b0 && its.baser[1]?.value.rawValue == b1)
        #expect(its.baser[0]?.provenance == Provenance(.migrationStream, "arm_gicv3_its[0].baser[0]"))
        #expect(its.iidr?.value.rawValue == 0x4B00_043B && its.ctlr?.value.rawValue == 0x8000_0001)
        #expect(its.cbaser?.value.rawValue == 0xB800_0000_4259_040F && its.creadr?.value.rawValue == 0x20)
        #expect(its.typer == nil)
        #expect(m.gicCPUs == 2)
        #expect(m.streamRegisters.redistributors.map { $0.pendbaser?.value.rawValue } == [0x425D_0780, 0x425E_0780])
        #expect(m.streamRegisters.redistributors.map { $0.propbaser?.value.rawValue } == [0x425C_078F, 0x425C_078F])
        #expect(m.sections.map(\.name) == ["arm_gicv3", "arm_gicv3_its"] + (json ? ["timer"] : []))
    }

    @Test func unknownSectionWithoutJSONAfterTheGICIsANote() throws {
        let m = try open(sample(json: false))
        #expect(m.notes.contains { $0.contains("stopped at device section \"timer\"") })
    }

    @Test func unknownSectionWithoutJSONBeforeTheGICIsANamedError() throws {
        var s = StreamBuilder()
        s.header()
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", 4096)])
        s.eos()
        s.footer(id: 2)
        s.device(id: 3, name: "mystery", bytes: 10)
        s.eof()
        #expect { _ = try open(s) } throws: { "\($0)".contains("\"mystery\"") && "\($0)".contains("JSON") }
    }

    @Test func everyPrefixOfAStreamIsANamedErrorOrTheStream() throws {
        let full = sample(json: true).out
        let eofAt = try #require(full.lastIndex(of: 0x06)) - 1  // the EOF byte before VMDESCRIPTION
        // Without its JSON (cut off), the stream is read up to the `timer` section, which the
        // fallback layouts cannot skip: any prefix reaching that section's header parses.
        let timerHeader: [UInt8] = [0x04] + StreamBuilder.be(13, 4) + StreamBuilder.str8("timer")
        let timerAt = try #require((0..<full.count).first { full[$0...].starts(with: timerHeader) })
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("cut.mig")
        var cuts = Array(stride(from: 0, to: full.count, by: 7)) + [8, 9, 13, 50, eofAt, eofAt + 1]
        cuts += (0..<40).map { timerAt - 20 + $0 }
        for n in Set(cuts) where n < full.count {
            try Data(full.prefix(n)).write(to: url)
            let result = Result { () throws -> Int in
                try MigrationStream(file: MappedFile(path: url.path)).streamRegisters.its.count
            }
            switch result {
            case .success(let count):
                // Only a stream cut after its EOF byte is complete (the JSON is then missing).
                #expect(n >= timerAt + timerHeader.count + 8, "prefix \(n) parsed")
                #expect(count == 1)
            case .failure(let error):
                let text = String(describing: error)
                #expect(error is DumpError, "prefix \(n): \(text)")
                #expect(text.contains("cut short") || text.contains("not a QEMU") || text.contains("section"), "prefix \(n): \(text)")
            }
        }
    }

    @Test(arguments: [
        ([0x51, 0x45, 0x56, 0x4E, 0, 0, 0, 3], "not a QEMU migration stream"),
        ([0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 2], "version 2"),
        ([0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 4], "version 4"),
    ] as [([UInt8], String)])
    func wrongMagicOrVersion(head: [UInt8], message: String) throws {
        var s = StreamBuilder()
        s.out = head + [0]
        let url = try temporaryDirectory().appendingPathComponent("bad.mig")
        try s.write(url)
        #expect { _ = try MigrationStream(file: MappedFile(path: url.path)) } throws: { "\($0)".contains(message) }
    }

    @Test func oversizeBlockLengthIsANamedErrorWithoutAllocation() throws {
        var s = StreamBuilder()
        s.header()
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", 1 << 62)])
        s.eos()
        #expect { _ = try open(s) } throws: { "\($0)".contains("oversize") }
    }

    @Test func anIdstrLongerThanTheFileIsCutShort() throws {
        var s = StreamBuilder()
        s.header()
        s.out += [0x04] + StreamBuilder.be(5, 4) + [0xFF] + Array("short".utf8)
        #expect { _ = try open(s) } throws: { "\($0)".contains("cut short") }
    }

    @Test func unsupportedPageEncodingsAreNamed() throws {
        var s = StreamBuilder()
        s.header()
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", 4096)])
        s.eos()
        s.footer(id: 2)
        s.sectionPart(id: 2)
        s.out += StreamBuilder.be(0x040, 8) + StreamBuilder.str8("mach-virt.ram") + [1, 0, 0]
        #expect { _ = try open(s) } throws: { "\($0)".contains("XBZRLE") }
    }

    @Test func mappedRAMIsReadAtItsFixedOffsets() throws {
        var s = StreamBuilder()
        s.header(caps: ["mapped-ram"])
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.out += StreamBuilder.be(3 * 4096 | 0x004, 8) + StreamBuilder.str8("mach-virt.ram") + StreamBuilder.be(3 * 4096, 8)
        let bitmapAt: UInt64 = 0x1000, pagesAt: UInt64 = 0x100000
        s.out += StreamBuilder.be(1, 4) + StreamBuilder.be(4096, 8) + StreamBuilder.be(bitmapAt, 8) + StreamBuilder.be(pagesAt, 8)
        // The writer seeks past the page area; the rest of the stream follows it.
        var file = s.out
        file += [UInt8](repeating: 0, count: Int(pagesAt) + 3 * 4096 - file.count)
        file[Int(bitmapAt)] = 0b101  // pages 0 and 2 written, page 1 a zero page
        file[Int(pagesAt)] = 0xAA
        file[Int(pagesAt) + 4096] = 0xBB  // not in the bitmap: must read as zero
        file[Int(pagesAt) + 2 * 4096 + 5] = 0xCC
        var tail = StreamBuilder()
        tail.eos()
        tail.footer(id: 2)
        tail.gic(id: 11, props: [0x425C_078F], pends: [0x425D_0780])
        tail.its(id: 12, ctlr: 1, iidr: 0, baser: [b0, b1, 0, 0, 0, 0, 0, 0])
        tail.eof()
        s.out = file + tail.out
        let m = try open(s)
        #expect(bytes(m, 0x4000_0000, 1) == [0xAA])
        #expect(bytes(m, 0x4000_1000, 1) == [0])
        #expect(bytes(m, 0x4000_2005, 1) == [0xCC])
        #expect(m.streamRegisters.its.first?.baser[0]?.value.rawValue == b0)
    }

    func virshSave(format: UInt32, payload: [UInt8]) -> [UInt8] {
        let xml = Array("<domain type='kvm'/>\0".utf8) + [UInt8](repeating: 0, count: 100)
        func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
        var h = Array("LibvirtQemudSave".utf8) + le(2) + le(UInt32(xml.count)) + le(0) + le(format) + le(0)
        h += [UInt8](repeating: 0, count: 56)
        return h + xml + payload
    }

    @Test func virshSaveImagesAreReadThroughTheirHeader() throws {
        var s = StreamBuilder()
        s.out = virshSave(format: 0, payload: sample(json: true).out)
        let m = try open(s)
        #expect(m.libvirtHeader && m.streamStart == 92 + 121)
        #expect(bytes(m, 0x4000_0000, 3) == [4, 5, 6])
        #expect(m.streamRegisters.its.first?.baser[1]?.value.rawValue == b1)
    }

    @Test func compressedVirshSaveNamesTheCompressorAndTheCommand() throws {
        var s = StreamBuilder()
        s.out = virshSave(format: 1, payload: [0x1F, 0x8B, 8, 0])
        #expect { _ = try open(s) } throws: { "\($0)".contains("gzip-compressed") && "\($0)".contains("gzip -dc > vm.mig") }
    }

    @Test(arguments: [0, -4096, 3000, 1 << 40])
    func anImpossibleJSONPageSizeIsIgnoredWithANote(pageSize: Int) throws {
        var s = StreamBuilder()
        s.header()
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", 4096)])
        s.eos()
        s.footer(id: 2)
        s.eof(json: "{\"page_size\": \(pageSize), \"devices\": []}")
        let m = try open(s)
        #expect(m.pageSize == 4096)
        #expect(m.notes.contains { $0.contains("page_size") })
    }
}
