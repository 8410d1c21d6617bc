import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Issue 22: the dumpable bitmap read in place, a rank index every 512 words (32,768 PFNs):
/// lookups on both sides of the index's boundaries, runs across words, and the missing-range
/// scan skipped only for a dump written to its end.
@Suite struct KdumpRankTests {
    /// Dumped PFNs: a run across a word boundary (60…69), the last PFN before a rank block and
    /// the first of the next (32767, 32768), one far out (100000); excluded 65, RAM but not dumped.
    let dumped = [256, 32767, 32768, 33000, 100_000] + Array(60..<65) + Array(66..<70)

    func builder() -> KdumpBuilder {
        var b = KdumpBuilder()
        b.compression = .none  // data of the k-th dumped PFN at descriptors + 14 × 24 + k × 4096
        b.bitmapBlocks = 8  // 131,072 bits: PFNs up to 100,000
        for pfn in dumped + [65] {
            var page = [UInt8](repeating: 0, count: 4096)
            for i in stride(from: 0, to: 4096, by: 512) { page[i] = UInt8(truncatingIfNeeded: pfn >> (i / 512)) }
            page[1] = 0xAB
            b.pages[pfn] = page
        }
        b.excluded = [65]
        return b
    }

    func open(_ bytes: [UInt8]) throws -> KdumpFile {
        let url = try temporaryDirectory().appendingPathComponent("dump")
        try Data(bytes).write(to: url)
        return try KdumpFile(file: MappedFile(path: url.path))
    }

    func range(_ pfn: UInt64, _ n: UInt64) -> GuestRange { GuestRange(start: GuestPhysicalAddress(pfn * 4096), length: n * 4096) }

    @Test(arguments: [false, true])
    func everyDumpedPageReadsBackAcrossRankBlocks(flattened: Bool) throws {
        let b = builder()
        let k = try open(flattened ? b.flattened() : b.plain())
        #expect(k.dumpablePages == dumped.count)
        #expect(k.presentRanges == [range(60, 5), range(66, 4), range(256, 1), range(32767, 2), range(33000, 1), range(100_000, 1)])
        // Descriptor indices are ranks: the builder writes descriptors in PFN order.
        for (rank, pfn) in dumped.sorted().enumerated() {
            #expect(k.descriptorIndex(UInt64(pfn)) == UInt64(rank))
            guard case .bytes(let got) = k.read(GuestPhysicalAddress(UInt64(pfn) * 4096), count: 4096) else {
                Issue.record("PFN \(pfn) absent"); continue
            }
            #expect(Array(got) == b.pages[pfn])
        }
        for pfn: UInt64 in [0, 59, 65, 70, 32766, 32769, 99_999, 100_001, 131_071, 1 << 40] {
            #expect(k.descriptorIndex(pfn) == nil, "PFN \(pfn)")
        }
        #expect(k.missingRanges.isEmpty)
    }

    @Test func aCompleteDumpWithOneDamagedDescriptorSaysSoWhenThePageIsRead() throws {
        // The last descriptor and its data are in the file: the dump was written to its end,
        // and its descriptors are not scanned; the one pointing past the end is damaged.
        var b = builder()
        b.corruptDescriptorOf = 256
        let k = try open(b.plain())
        #expect(k.missingRanges.isEmpty)
        #expect(k.damage(at: GuestPhysicalAddress(256 * 4096))?.contains("past the end") == true)
        guard case .bytes = k.read(GuestPhysicalAddress(32768 * 4096), count: 8) else { Issue.record("32768 absent"); return }
    }

    @Test func aDumpCutInItsDataOrItsDescriptorsListsWhatIsGone() throws {
        // Descriptors start after 2 header blocks and 8 bitmap blocks (40960), the data after
        // the 14 descriptors: dumped PFNs in order are 60…64, 66…69, 256, 32767, 32768, 33000, 100000.
        let full = builder().plain()
        let data = 10 * 4096 + 14 * 24
        // Cut inside the data of the 8th page (PFN 68): 60…67 read, the rest is missing.
        let inData = try open(Array(full.prefix(data + 7 * 4096 + 100)))
        #expect(inData.missingRanges == [range(68, 2), range(256, 1), range(32767, 2), range(33000, 1), range(100_000, 1)])
        guard case .bytes(let b) = inData.read(GuestPhysicalAddress(67 * 4096), count: 4096) else { Issue.record("67 absent"); return }
        #expect(Array(b) == builder().pages[67])
        // Cut after 7 descriptors: no page's data is there, every run is missing.
        let inDescriptors = try open(Array(full.prefix(10 * 4096 + 7 * 24 + 10)))
        #expect(inDescriptors.missingRanges == inDescriptors.presentRanges)
        #expect(inDescriptors.presentRanges.count == 6)
    }
}
