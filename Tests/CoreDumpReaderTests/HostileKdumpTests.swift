import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Issue 17, kdump: a page the dump claims but cannot give is "damaged" (with its file offset
/// and why), never "not in the dump"; a file cut short says what is missing; a tiny file's
/// headers cannot make the reader allocate or loop beyond the file's size.
@Suite struct HostileKdumpTests {
    /// PFNs 256…263 and 300, 4 KiB blocks: descriptors from 16384 (4 blocks of headers and
    /// bitmaps), one per dumped PFN in order.
    func builder(_ c: KdumpBuilder.Compression = .zlib) -> KdumpBuilder {
        var b = KdumpBuilder()
        b.compression = c
        for pfn in 256..<264 { b.pages[pfn] = [UInt8](repeating: UInt8(pfn & 0xFF), count: 4096) }
        b.pages[300] = [UInt8](repeating: 0, count: 4096)
        b.excluded = [261]
        return b
    }
    let descriptors = 16384

    func open(_ bytes: [UInt8]) throws -> KdumpFile {
        let url = try temporaryDirectory().appendingPathComponent("dump")
        try Data(bytes).write(to: url)
        return try KdumpFile(file: MappedFile(path: url.path))
    }

    /// Descriptor `index` rewritten: (offset, size, flags) where given.
    func patch(_ bytes: inout [UInt8], index: Int, offset: UInt64? = nil, size: UInt64? = nil, flags: UInt64? = nil) {
        let at = descriptors + index * 24
        if let offset { bytes.replaceSubrange(at..<(at + 8), with: KdumpBuilder.le(offset, 8)) }
        if let size { bytes.replaceSubrange((at + 8)..<(at + 12), with: KdumpBuilder.le(size, 4)) }
        if let flags { bytes.replaceSubrange((at + 12)..<(at + 16), with: KdumpBuilder.le(flags, 4)) }
    }

    static let damages: [(String, String)] = [
        ("offset0", "data offset 0"),
        ("pastEnd", "run past the end of the"),
        ("oversize", "says 8193 bytes of data for a 4096-byte block"),
        ("conflicting", "conflicting compression flags 0x3"),
        ("unknown", "unknown compression flags 0x41"),
        ("garbage", "does not decompress to exactly one 4096-byte block"),
    ]

    @Test(arguments: damages)
    func aClaimedPageThatCannotBeReadIsDamagedWithItsOffset(kind: String, why: String) throws {
        var bytes = builder().plain()
        // PFN 258 is descriptor 2 (261 is excluded, so it has none).
        let at = UInt64(descriptors + 2 * 24)
        let dataAt = bytes[(descriptors + 48)..<(descriptors + 56)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        switch kind {
        case "offset0": patch(&bytes, index: 2, offset: 0)
        case "pastEnd": patch(&bytes, index: 2, offset: UInt64(bytes.count) - 4)
        case "oversize": patch(&bytes, index: 2, size: 8193)
        case "conflicting": patch(&bytes, index: 2, flags: 0x3)
        case "unknown": patch(&bytes, index: 2, flags: 0x41)
        default: bytes.replaceSubrange(Int(dataAt)..<Int(dataAt + 8), with: [UInt8](repeating: 0xEE, count: 8))
        }
        let k = try open(bytes)
        let damage = try #require(k.damage(at: GuestPhysicalAddress(258 * 4096 + 16)))
        #expect(damage.contains(why), "\(damage)")
        let offset = ["pastEnd", "garbage"].contains(kind) ? (kind == "pastEnd" ? UInt64(bytes.count) - 4 : dataAt) : at
        #expect(damage.hasPrefix("damaged at file offset 0x\(String(offset, radix: 16)):"), "\(damage)")
        // Its neighbours read; the excluded PFN is "not in the dump", not damaged.
        guard case .bytes(let b) = k.read(GuestPhysicalAddress(259 * 4096), count: 2) else { Issue.record("259"); return }
        #expect(b == [3, 3])
        #expect(k.damage(at: GuestPhysicalAddress(261 * 4096)) == nil)
        guard case .absent = k.read(GuestPhysicalAddress(261 * 4096), count: 1) else { Issue.record("261"); return }

        // A finding built on the damaged page says so: a command queue there.
        var its = ITSRegisterState()
        let p = Provenance(.flag, "test")
        its.cbaser = Sourced(GITSCBaser(rawValue: 1 << 63 | 258 * 4096), p)
        its.creadr = Sourced(GITSCommandOffset(rawValue: 0), p)
        its.cwriter = Sourced(GITSCommandOffset(rawValue: 0), p)
        let q = try #require(CommandQueue.read(its, memory: k))
        let f = try #require(q.findings.first { $0.rule == "table-absent" })
        #expect(f.message.contains("guest page 0x102000 is damaged at file offset 0x\(String(offset, radix: 16))"), "\(f.message)")
    }

    @Test(arguments: [false, true])
    func aFileCutShortListsItsMissingRanges(flattened: Bool) throws {
        let b = builder(.none)
        let full = flattened ? b.flattened() : b.plain()
        // Plain: cut inside the data of PFN 260 (data follows the 9 × 24 descriptor bytes in PFN
        // order). Flattened: the end marker is gone (the builder writes the header record last).
        let cut = flattened ? full.count - 16 : descriptors + 9 * 24 + 4 * 4096 + 100
        let k = try open(Array(full.prefix(cut)))
        let why = try #require(k.incompleteReason)
        if flattened {
            #expect(why.contains("no end marker"))
        } else {
            #expect(k.missingRanges == [GuestRange(start: GuestPhysicalAddress(260 * 4096), length: 4096),
                                        GuestRange(start: GuestPhysicalAddress(262 * 4096), length: 2 * 4096),
                                        GuestRange(start: GuestPhysicalAddress(300 * 4096), length: 4096)])
            #expect(why.contains("3 range(s), 16384 bytes"))
            #expect(k.damage(at: GuestPhysicalAddress(262 * 4096))?.contains("past the end") == true)
        }
        guard case .bytes = k.read(GuestPhysicalAddress(256 * 4096), count: 8) else { Issue.record("256 absent"); return }
        // The rule dump-incomplete (RuleCoverageTests names this test for it): the opened dump
        // gives the finding, at the first missing range.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-cut-\(getpid())-\(flattened).kdump")
        try Data(full.prefix(cut)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let findings = try Dump.open(url.path).inputFindings
        #expect(findings.map(\.ruleID) == [.dumpIncomplete])
        #expect(findings.allSatisfy { $0.severity == RuleID.dumpIncomplete.severity && $0.message.contains("the dump is incomplete") })
        if !flattened { #expect(findings.first?.address == GuestPhysicalAddress(260 * 4096)) }
    }

    @Test func aTinyFileClaimingHugeNotesAndBitmapsCostsNothing() throws {
        var bytes = builder().plain()
        // sub-header: note area of 16 MiB and VMCOREINFO of 1 MiB at offsets inside the file.
        bytes.replaceSubrange((4096 + 56)..<(4096 + 64), with: KdumpBuilder.le(16 << 20, 8))
        bytes.replaceSubrange((4096 + 40)..<(4096 + 48), with: KdumpBuilder.le(1 << 20, 8))
        let k = try open(bytes)
        #expect(k.notes.isEmpty && k.vmcoreinfo == nil)

        // Flattened: one record far out makes the plain size 1 TiB; the 64 MiB of bitmaps the
        // header then claims are not in the file.
        var f = Array("makedumpfile".utf8) + [UInt8](repeating: 0, count: 4) + StreamBuilder.be(1, 8) + StreamBuilder.be(1, 8)
        f += [UInt8](repeating: 0, count: 4096 - f.count)
        var header = Array(builder().plain()[0..<8192])
        header.replaceSubrange(436..<440, with: KdumpBuilder.le(1 << 15, 4))  // bitmap_blocks: 2 × 64 MiB
        f += StreamBuilder.be(0, 8) + StreamBuilder.be(UInt64(header.count), 8) + header
        f += StreamBuilder.be(1 << 40, 8) + StreamBuilder.be(1, 8) + [0]
        f += StreamBuilder.be(UInt64.max, 8) + StreamBuilder.be(UInt64.max, 8)
        #expect { _ = try open(f) } throws: { "\($0)".contains("bitmaps") && "\($0)".contains("do not fit") }
    }

    @Test func flattenedRecordsStackedOnOneOffsetAreResolvedOnceTheLastWinning() throws {
        let plain = builder(.none).plain()
        var f = Array("makedumpfile".utf8) + [UInt8](repeating: 0, count: 4) + StreamBuilder.be(1, 8) + StreamBuilder.be(1, 8)
        f += [UInt8](repeating: 0, count: 4096 - f.count)
        f += StreamBuilder.be(0, 8) + StreamBuilder.be(UInt64(plain.count), 8) + plain
        // 2,000 one-byte records over the first data byte of PFN 256, the last one 0x5A.
        let dataAt = UInt64(descriptors + 8 * 24)
        for i in 0..<2000 { f += StreamBuilder.be(dataAt, 8) + StreamBuilder.be(1, 8) + [i == 1999 ? 0x5A : 0x11] }
        f += StreamBuilder.be(UInt64.max, 8) + StreamBuilder.be(UInt64.max, 8)
        let k = try open(f)
        let source = try #require(k.source as? FlattenedSource)
        #expect(source.records.count == 3)
        guard case .bytes(let b) = k.read(GuestPhysicalAddress(256 * 4096), count: 2) else { Issue.record("absent"); return }
        #expect(b == [0x5A, 0])
    }
}
