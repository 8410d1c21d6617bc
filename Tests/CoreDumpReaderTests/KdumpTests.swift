import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

@Suite struct KdumpTests {
    func builder(_ c: KdumpBuilder.Compression) -> KdumpBuilder {
        var b = KdumpBuilder()
        b.compression = c
        for pfn in 256..<264 {
            var page = [UInt8](repeating: 0, count: 4096)
            for i in stride(from: 0, to: 4096, by: 64) { page[i] = UInt8(truncatingIfNeeded: pfn + i / 64) }
            page[7] = 0x77
            b.pages[pfn] = page
        }
        b.pages[300] = [UInt8](repeating: 0, count: 4096)  // a zero page, stored raw
        return b
    }

    func open(_ bytes: [UInt8]) throws -> KdumpFile {
        let url = try temporaryDirectory().appendingPathComponent("dump")
        try Data(bytes).write(to: url)
        return try KdumpFile(file: MappedFile(path: url.path))
    }

    @Test(arguments: KdumpBuilder.Compression.allCases, [false, true])
    func everyCompressionInBothContainers(c: KdumpBuilder.Compression, flattened: Bool) throws {
        let b = builder(c)
        let k = try open(flattened ? b.flattened() : b.plain())
        #expect(k.container == (flattened ? .flattened : .plain))
        #expect(k.blockSize == 4096 && k.headerVersion == 6 && k.nrCPUs == 2 && k.physBase == 0x100000)
        #expect(k.vmcoreinfoText == "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n")
        #expect(k.presentRanges == [GuestRange(start: GuestPhysicalAddress(0x100000), length: 8 * 4096),
                                    GuestRange(start: GuestPhysicalAddress(300 * 4096), length: 4096)])
        for pfn in 256..<264 {
            guard case .bytes(let got) = k.read(GuestPhysicalAddress(UInt64(pfn) * 4096), count: 4096) else {
                Issue.record("PFN \(pfn) absent"); continue
            }
            #expect(got == b.pages[pfn])
        }
        // A read across two blocks.
        guard case .bytes(let across) = k.read(GuestPhysicalAddress(257 * 4096 - 2), count: 10) else { Issue.record("absent"); return }
        #expect(Array(across) == Array(b.pages[256]![4094...] + b.pages[257]![0..<8]))
    }

    @Test func anExcludedPageIsAbsent() throws {
        var b = builder(.zlib)
        b.excluded = [258]
        let k = try open(b.plain())
        guard case .absent(let r) = k.read(GuestPhysicalAddress(258 * 4096 + 8), count: 8) else { Issue.record("expected absent"); return }
        #expect(r.start == GuestPhysicalAddress(258 * 4096 + 8))
        guard case .bytes(let next) = k.read(GuestPhysicalAddress(259 * 4096), count: 8) else { Issue.record("259 absent"); return }
        #expect(next == Array(b.pages[259]![0..<8]))
        #expect(k.presentRanges.first?.length == 2 * 4096)
    }

    @Test func aDescriptorPastTheEndIsAnAbsentPageNotACrash() throws {
        var b = builder(.zstd)
        b.corruptDescriptorOf = 260
        let k = try open(b.plain())
        guard case .absent = k.read(GuestPhysicalAddress(260 * 4096), count: 8) else { Issue.record("expected absent"); return }
        guard case .bytes = k.read(GuestPhysicalAddress(261 * 4096), count: 8) else { Issue.record("261 absent"); return }
    }

    @Test func aTruncatedFlattenedRecordIsANamedError() throws {
        // The builder writes the records last first: cut inside the first, no header was written.
        let full = builder(.zlib).flattened()
        #expect { _ = try open(Array(full.prefix(4096 + 16 + 100))) } throws: {
            "\($0)".contains("cut short (no end marker) before its disk_dump_header")
        }
    }

    @Test func aBitmapLargerThanTheFileIsANamedError() throws {
        var b = builder(.zlib)
        b.bitmapBlocks = 2
        var bytes = b.plain()
        bytes.replaceSubrange(436..<440, with: KdumpBuilder.le(1 << 20, 4))  // bitmap_blocks
        #expect { _ = try open(bytes) } throws: { "\($0)".contains("bitmaps") }
    }

    @Test(arguments: [(0, "KDUMP"), (428, "block_size")])
    func headerDamageIsANamedError(at: Int, message: String) throws {
        var bytes = builder(.zlib).plain()
        bytes.replaceSubrange(at..<(at + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect { _ = try open(bytes) } throws: { "\($0)".contains(message) }
    }

    @Test func dumpOpenRecognisesKdumpByContent() throws {
        let url = try temporaryDirectory().appendingPathComponent("vmcore.elf")  // the name does not matter
        try Data(builder(.lzo).flattened()).write(to: url)
        let d = try Dump.open(url.path)
        #expect(d.kind == .kdump)
        #expect(d.vcpuCount == 2)
        #expect(d.vmcoreinfo?.first?.value == "6.1.0-test")
    }
}
