import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Issue 22, target 4: a dumpable bitmap over `KdumpFile.eagerBitmapBytes` (a 1 TiB guest of
/// 4 KiB blocks: 32 MiB) is read only as far as lookups need, and the dump is checked whole only
/// when something asks (`info`) or a sign says it is cut: no end marker, the dumper's flag, or a
/// page read whose descriptor or data is past the end. Each test opens its file with
/// `eagerBitmapBytes: 0` (the large-bitmap behaviour on a small file) and, where the answer
/// should not depend on it, with the default too.
@Suite struct KdumpLazyBitmapTests {
    func open(_ bytes: [UInt8], eager: UInt64 = 0) throws -> KdumpFile {
        let url = try temporaryDirectory().appendingPathComponent("dump")
        try Data(bytes).write(to: url)
        return try KdumpFile(file: MappedFile(path: url.path), eagerBitmapBytes: eager)
    }

    func page(_ pfn: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 4096)
        for i in stride(from: 0, to: 4096, by: 256) { p[i] = UInt8(truncatingIfNeeded: pfn >> (i / 256)) }
        p[1] = 0xCD
        return p
    }

    func range(_ pfn: UInt64, _ n: UInt64) -> GuestRange { GuestRange(start: GuestPhysicalAddress(pfn * 4096), length: n * 4096) }

    /// 128 bitmap blocks: each bitmap 256 KiB, 2,097,152 PFNs, 64 rank blocks of 32,768 PFNs
    /// (512 words); the index grows 128 KiB of bitmap (32 rank blocks) per read.
    let far = [256, 257, 32768, 1_500_000, 2_000_000]

    func farBuilder() -> KdumpBuilder {
        var b = KdumpBuilder()
        b.compression = .none
        b.bitmapBlocks = 128
        for pfn in far + [258] { b.pages[pfn] = page(pfn) }
        b.excluded = [258]
        return b
    }

    @Test(arguments: [false, true])
    func aLookupIndexesTheBitmapOnlyUpToItsPFN(flattened: Bool) throws {
        let b = farBuilder()
        let bytes = flattened ? b.flattened() : b.plain()
        let k = try open(bytes)
        #expect(k.dumpBitmap.indexedBlocks == 0)
        guard case .bytes(let low) = k.read(GuestPhysicalAddress(257 * 4096), count: 4096) else { Issue.record("257 absent"); return }
        #expect(Array(low) == page(257))
        // One 128 KiB read: rank blocks 0…31 (PFNs below 1,048,576), the other half untouched.
        #expect(k.dumpBitmap.indexedBlocks == 32)
        #expect(k.descriptorIndex(32768) == 2)
        #expect(k.descriptorIndex(258) == nil)
        #expect(k.dumpBitmap.indexedBlocks == 32)
        // A lookup far up extends the index to the end once; the ranks are those of PFN order.
        #expect(k.descriptorIndex(2_000_000) == 4)
        #expect(k.dumpBitmap.indexedBlocks == 64)
        #expect(k.descriptorIndex(1_500_000) == 3)
        for pfn in far {
            guard case .bytes(let got) = k.read(GuestPhysicalAddress(UInt64(pfn) * 4096), count: 4096) else {
                Issue.record("PFN \(pfn) absent"); continue
            }
            #expect(Array(got) == page(pfn))
        }
        // What needs the whole bitmap reads it when asked, the same as at open.
        let eager = try open(bytes, eager: KdumpFile.eagerBitmapBytes)
        #expect(eager.dumpBitmap.indexedBlocks == 64)
        #expect(k.dumpablePages == far.count && eager.dumpablePages == far.count)
        let present = [range(256, 2), range(32768, 1), range(1_500_000, 1), range(2_000_000, 1)]
        #expect(k.presentRanges == present && eager.presentRanges == present)
        #expect(k.incompleteReason == nil && k.missingRanges.isEmpty)
    }

    @Test func ranksFromTheLazyIndexAreThoseOfPFNOrderAcrossEveryBoundary() throws {
        // Every 97th PFN around the first rank-block boundary (32,768) and around the end of
        // the first 128 KiB read (1,048,576); looked up out of order, the highest first.
        var b = KdumpBuilder()
        b.compression = .zlib
        b.bitmapBlocks = 128
        let dumped = Array(stride(from: 32_000, to: 34_000, by: 97)) + Array(stride(from: 1_048_000, to: 1_049_500, by: 97))
        for pfn in dumped { b.pages[pfn] = page(pfn) }
        let k = try open(b.plain())
        for (rank, pfn) in dumped.enumerated().reversed() {
            #expect(k.descriptorIndex(UInt64(pfn)) == UInt64(rank), "PFN \(pfn)")
            #expect(k.descriptorIndex(UInt64(pfn + 1)) == nil, "PFN \(pfn + 1)")
            guard case .bytes(let got) = k.read(GuestPhysicalAddress(UInt64(pfn) * 4096), count: 4096) else {
                Issue.record("PFN \(pfn) absent"); continue
            }
            #expect(Array(got) == page(pfn))
        }
        #expect(k.dumpablePages == dumped.count)
    }

    /// The dump of `farBuilder` cut inside the data of its 4th page (PFN 1,500,000).
    func cutFar() throws -> (KdumpFile, [GuestRange]) {
        let full = farBuilder().plain()
        let data = (2 + 128) * 4096 + far.count * 24
        let k = try open(Array(full.prefix(data + 3 * 4096 + 100)))
        return (k, [range(1_500_000, 1), range(2_000_000, 1)])
    }

    @Test func aLargeDumpCutShortIsSaidOnceAPageReadIsGone() throws {
        let (k, gone) = try cutFar()
        // Nothing read that is gone, no end marker to miss, no flag: not known yet.
        #expect(k.incompleteReason == nil)
        guard case .bytes = k.read(GuestPhysicalAddress(32768 * 4096), count: 8) else { Issue.record("32768 absent"); return }
        #expect(k.incompleteReason == nil)
        #expect(k.dumpBitmap.indexedBlocks == 32)
        // The first read of a page that is gone: damaged, and the whole dump is checked.
        guard case .absent = k.read(GuestPhysicalAddress(2_000_000 * 4096), count: 8) else { Issue.record("2000000 read"); return }
        #expect(k.damage(at: GuestPhysicalAddress(2_000_000 * 4096))?.contains("run past the end") == true)
        let why = try #require(k.incompleteReason)
        #expect(why.contains("2 range(s), 8192 bytes, that the dump lists have no data"), "\(why)")
        #expect(k.missingRanges == gone)
        let d = Dump(kind: .kdump, path: "cut.kdump", reader: k)
        #expect(d.inputFindings.map(\.ruleID) == [.dumpIncomplete])
        #expect(d.inputFindings.first?.address == GuestPhysicalAddress(1_500_000 * 4096))
    }

    @Test func aLargeDumpCutShortIsAlwaysSaidByInfo() throws {
        let (k, gone) = try cutFar()
        let text = k.details.text
        #expect(text.contains("the dump is incomplete: 2 range(s), 8192 bytes"), "\(text)")
        #expect(text.contains("MISSING START"))
        #expect(k.missingRanges == gone)
        #expect(Dump(kind: .kdump, path: "cut.kdump", reader: k).inputFindings.map(\.ruleID) == [.dumpIncomplete])
        // Opened with a whole check at open, the same file says so before any read.
        let eager = try open(Array(farBuilder().plain().prefix((2 + 128) * 4096 + far.count * 24 + 3 * 4096 + 100)),
                             eager: KdumpFile.eagerBitmapBytes)
        #expect(eager.missingRanges == gone && eager.incompleteReason != nil)
    }

    @Test func aLargeFlattenedDumpWithoutItsEndMarkerIsSaidAtOpen() throws {
        let f = farBuilder().flattened()
        let k = try open(Array(f.prefix(f.count - 16)))
        let why = try #require(k.incompleteReason)
        #expect(why.contains("no end marker"), "\(why)")
    }

    @Test func aLargeCompleteDumpWithOneDamagedDescriptorIsNotCalledIncomplete() throws {
        // The descriptor of PFN 256 points past the end; the last one and its data are there.
        var b = farBuilder()
        b.corruptDescriptorOf = 256
        let k = try open(b.plain())
        #expect(k.damage(at: GuestPhysicalAddress(256 * 4096))?.contains("past the end") == true)
        #expect(k.incompleteReason == nil)
        #expect(k.missingRanges.isEmpty)
        guard case .bytes = k.read(GuestPhysicalAddress(2_000_000 * 4096), count: 8) else { Issue.record("absent"); return }
    }
}
