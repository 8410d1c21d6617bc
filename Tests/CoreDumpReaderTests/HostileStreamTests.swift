import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Issue 17, migration streams: cost follows the bytes given, QEMU's description as QEMU
/// writes it, the fallback without it, repeated sections, and RAM blocks that wrap.
@Suite struct HostileStreamTests {
    let b0: UInt64 = 0xF907_0000_425A_0600, b1: UInt64 = 0xBC07_0000_425B_0600

    func open(_ s: StreamBuilder, blocks: [String: UInt64] = [:]) throws -> MigrationStream {
        let url = try temporaryDirectory().appendingPathComponent("vm.mig")
        try s.write(url)
        return try MigrationStream(file: MappedFile(path: url.path), ramBlocks: blocks)
    }

    func ramSection(_ s: inout StreamBuilder, length: UInt64, pages: [(UInt64, UInt8)]) {
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", length)])
        s.eos()
        s.footer(id: 2)
        s.sectionPart(id: 2, end: true)
        for (i, (page, byte)) in pages.enumerated() { s.page(i == 0 ? "mach-virt.ram" : nil, offset: page * 4096, bytes: [byte]) }
        s.eos()
        s.footer(id: 2)
    }

    @Test func thePageIndexHoldsThePagesSentNotTheHighestPageNamed() throws {
        // A 1 PiB block (the largest accepted) with three pages, the first near its top, sent
        // out of order and one twice: the index holds 3 entries, the last copy wins.
        var s = StreamBuilder()
        s.header()
        let top: UInt64 = (1 << 50) / 4096 - 1
        ramSection(&s, length: 1 << 50, pages: [(top, 0xA1), (0, 0xB2), (1 << 20, 0xC3), (top, 0xD4)])
        s.gic(id: 11, props: [0x425C_078F], pends: [0x425D_0780])
        s.its(id: 12, ctlr: 1, iidr: 0, baser: [b0, b1, 0, 0, 0, 0, 0, 0])
        s.eof()
        let m = try open(s)
        #expect(m.blocks[0].pages.count == 3)
        #expect(m.blocks[0].pagesSent == 4)
        func byte(_ page: UInt64) -> UInt8? {
            if case .bytes(let b) = m.read(GuestPhysicalAddress(0x4000_0000 + page * 4096), count: 1) { return b.first }
            return nil
        }
        #expect(byte(top) == 0xD4 && byte(0) == 0xB2 && byte(1 << 20) == 0xC3)
        #expect(byte(5) == nil)
    }

    /// migration/vmstate.c writes "index" for struct arrays of more than one element only: a
    /// 1-vCPU guest's arm_gicv3 has one plain "cpu" struct (QEMU 7.2's description).
    @Test func aOneVCPUDescriptionWithoutIndexGivesOneRedistributor() throws {
        var s = StreamBuilder()
        s.header()
        ramSection(&s, length: 4096, pages: [(0, 1)])
        s.gic(id: 11, props: [0x425C_078F], pends: [0x425D_0780])
        s.its(id: 12, ctlr: 1, iidr: 0x4B00_043B, baser: [b0, b1, 0, 0, 0, 0, 0, 0])
        s.eof(json: """
            {"page_size": 4096, "devices": [
             {"name": "arm_gicv3_its", "instance_id": 0, "vmsd_name": "arm_gicv3_its", "version": 0,
              "fields": [{"name": "ctlr", "type": "uint32", "size": 4}, {"name": "iidr", "type": "uint32", "size": 4},
                         {"name": "cbaser", "type": "uint64", "size": 8}, {"name": "cwriter", "type": "uint64", "size": 8},
                         {"name": "creadr", "type": "uint64", "size": 8}, {"name": "baser", "array_len": 8, "type": "uint64", "size": 8}]},
             {"name": "arm_gicv3", "instance_id": 0, "vmsd_name": "arm_gicv3", "version": 1,
              "fields": [{"name": "gicd_ctlr", "type": "uint32", "size": 4}, {"name": "dist", "type": "buffer", "size": 10340},
                {"name": "cpu", "type": "struct", "struct": {"vmsd_name": "arm_gicv3_cpu", "version": 1,
                  "fields": [{"name": "a", "type": "buffer", "size": 20}, {"name": "gicr_propbaser", "type": "uint64", "size": 8},
                             {"name": "gicr_pendbaser", "type": "uint64", "size": 8}, {"name": "b", "type": "buffer", "size": 236}],
                  "subsections": [{"vmsd_name": "arm_gicv3_cpu/sre_el1", "version": 1, "fields": [{"name": "icc_sre_el1", "type": "uint64", "size": 8}]}]}, "size": 272}],
              "subsections": [{"vmsd_name": "arm_gicv3/gicd_state_shift_bug", "version": 1, "fields": [{"name": "x", "type": "bool", "size": 1}]}]}]}
            """)
        let m = try open(s)
        #expect(m.hasJSON)
        #expect(m.gicCPUs == 1)
        #expect(m.streamRegisters.redistributors.map(\.cpu) == [0])
        #expect(m.streamRegisters.redistributors.first?.propbaser?.value.rawValue == 0x425C_078F)
        #expect(m.streamRegisters.redistributors.first?.pendbaser?.value.rawValue == 0x425D_0780)
        #expect(m.streamRegisters.its.first?.iidr?.value.rawValue == 0x4B00_043B)
    }

    func gicAndITS(_ s: inout StreamBuilder, shiftBugName: String = "arm_gicv3/gicd_no_migration_shift_bug") {
        s.gic(id: 11, props: [0x425C_078F, 0x425C_078F], pends: [0x425D_0780, 0x425E_0780])
        // StreamBuilder writes gicd_state_shift_bug; QEMU 7.2 writes gicd_no_migration_shift_bug.
        let old = StreamBuilder.str8("arm_gicv3/gicd_state_shift_bug"), new = StreamBuilder.str8(shiftBugName)
        if let at = (0..<s.out.count).last(where: { s.out[$0...].starts(with: old) }) { s.out.replaceSubrange(at..<(at + old.count), with: new) }
        s.its(id: 12, ctlr: 1, iidr: 0, baser: [b0, b1, 0, 0, 0, 0, 0, 0])
    }

    /// Two RAM pages, then QEMU 7.2's arm_gicv3 (2 CPUs) and arm_gicv3_its; no EOF yet.
    func qemu72() -> StreamBuilder {
        var s = StreamBuilder()
        s.header()
        ramSection(&s, length: 8192, pages: [(0, 1)])
        gicAndITS(&s)
        return s
    }

    @Test func withoutTheDescriptionQEMU72sShiftBugSubsectionIsSkipped() throws {
        var s = qemu72()
        s.eof()
        let m = try open(s)
        #expect(!m.hasJSON && m.gicCPUs == 2)
        #expect(m.streamRegisters.its.first?.baser[1]?.value.rawValue == b1)
    }

    @Test func aDamagedDescriptionIsSaidWithItsOffsetAndTheFallbackReads() throws {
        var s = qemu72()
        let eofAt = s.out.count
        s.eof(json: "{\"page_size\": 4096, \"devices\": [{\"name\": \"arm_gicv3\", \"fields\": []}]}")
        s.out.removeLast(10)  // the description is cut short: its length says more
        let m = try open(s)
        #expect(!m.hasJSON)
        let note = try #require(m.notes.first { $0.contains("damaged") })
        #expect(note.contains("JSON VM description at file offset 0x\(String(eofAt + 1, radix: 16))"))
        #expect(m.streamRegisters.its.first?.baser[0]?.value.rawValue == b0 && m.gicCPUs == 2)

        // When the fallback cannot read a section, the error says the description is damaged.
        var t = StreamBuilder()
        t.header()
        ramSection(&t, length: 4096, pages: [(0, 1)])
        gicAndITS(&t, shiftBugName: "arm_gicv3/some_future_state")
        t.eof(json: "{\"devices\": [}")
        #expect { _ = try open(t) } throws: { e in
            let text = "\(e)"
            return text.contains("unknown subsection arm_gicv3/some_future_state") && text.contains("JSON VM description") && text.contains("is damaged (not JSON")
        }
    }

    @Test func aDeviceSectionSentTwiceIsReadOnceTheLaterCopyWinning() throws {
        var s = StreamBuilder()
        s.header()
        ramSection(&s, length: 4096, pages: [(0, 1)])
        s.its(id: 12, ctlr: 1, iidr: 0, baser: [0x1111, 0, 0, 0, 0, 0, 0, 0])
        gicAndITS(&s)
        s.eof()
        let m = try open(s)
        #expect(m.streamRegisters.its.count == 1)
        #expect(m.streamRegisters.its.first?.baser[0]?.value.rawValue == b0)
        #expect(m.sections.filter { $0.name == "arm_gicv3_its" }.count == 1)
        #expect(m.notes.contains { $0.contains("\"arm_gicv3_its\" instance 0 appears twice") && $0.contains("later copy") })
    }

    @Test func aRAMBlockThatWrapsPast2To64IsAnArgumentError() throws {
        var s = qemu72()
        s.eof()
        #expect { _ = try open(s, blocks: ["mach-virt.ram": UInt64.max - 4095]) } throws: { e in
            guard case DumpError.badArgument(let m) = e else { return false }
            return m.contains("--ram-block mach-virt.ram@0xfffffffffffff000") && m.contains("wrap past the top")
        }
    }

    @Test func aMappedRAMPageAreaBeforeItsHeaderIsAnErrorNamingTheOffset() throws {
        var s = StreamBuilder()
        s.header(caps: ["mapped-ram"])
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.out += StreamBuilder.be(4096 | 0x004, 8) + StreamBuilder.str8("mach-virt.ram") + StreamBuilder.be(4096, 8)
        // pages_offset 0: the page area would be the stream's own first bytes.
        s.out += StreamBuilder.be(1, 4) + StreamBuilder.be(4096, 8) + StreamBuilder.be(0, 8) + StreamBuilder.be(0, 8)
        let headerEnd = s.out.count
        s.out += [UInt8](repeating: 0, count: 8192)
        #expect { _ = try open(s) } throws: { e in
            let t = "\(e)"
            return t.contains("at file offset 0x\(String(headerEnd, radix: 16))") && t.contains("points back")
        }
    }

    @Test func nestedArrayLengthsInTheDescriptionAreBoundedWork() throws {
        var s = StreamBuilder()
        s.header()
        ramSection(&s, length: 4096, pages: [(0, 1)])
        s.sectionStart(id: 13, name: "bomb", version: 1, full: true)
        s.footer(id: 13)
        s.eof(json: """
            {"devices": [{"name": "bomb", "instance_id": 0, "fields": [{"name": "a", "array_len": 1000000, "type": "struct",
              "struct": {"fields": [{"name": "b", "array_len": 1000000, "type": "struct", "struct": {"fields": [{"name": "c", "size": 0}]}}]}}]}]}
            """)
        let clock = ContinuousClock()
        let t0 = clock.now
        #expect { _ = try open(s) } throws: { "\($0)".contains("more than 262144 fields") }
        #expect(clock.now - t0 < .seconds(5))
    }
}
