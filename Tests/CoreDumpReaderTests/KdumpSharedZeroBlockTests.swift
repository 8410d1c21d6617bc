import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// A plain kdump as QEMU's dump.c writes it (input-formats.md §2.6): zero pages share one
/// block written first in the data area, so the last descriptor — the top of RAM, zero —
/// points at the start of the data. Cut inside the data of the pages after it, the dump is
/// incomplete: its last descriptor's data being in the file says nothing (review finding:
/// `missingRanges` was empty, `info` silent, and `routes` listed the table pages as damaged
/// without a dump-incomplete finding).
@Suite struct KdumpSharedZeroBlockTests {
    /// PFN 100 zero (its block is the shared one, first in the data), 101…104 not, 105…108
    /// zero and pointing at PFN 100's block. Uncompressed: descriptors at 16384 (4 blocks of
    /// headers and bitmaps), 9 of them, data from 16600, PFN 100 + k at 16600 + k × 4096.
    func bytes() -> [UInt8] {
        var b = KdumpBuilder()
        b.compression = .none
        for pfn in 100...108 {
            b.pages[pfn] = (101...104).contains(pfn) ? [UInt8](repeating: UInt8(pfn), count: 4096) : [UInt8](repeating: 0, count: 4096)
        }
        var bytes = b.plain()
        for index in 5...8 { bytes.replaceSubrange((16384 + index * 24)..<(16384 + index * 24 + 8), with: KdumpBuilder.le(16600, 8)) }
        return bytes
    }

    func open(_ bytes: [UInt8], eager: UInt64 = KdumpFile.eagerBitmapBytes,
              readBack: UInt64 = KdumpFile.readBackAtOpen) throws -> KdumpFile {
        let url = try temporaryDirectory().appendingPathComponent("dump")
        try Data(bytes).write(to: url)
        return try KdumpFile(file: MappedFile(path: url.path), eagerBitmapBytes: eager, readBackAtOpen: readBack)
    }

    let pages103and104 = GuestRange(start: GuestPhysicalAddress(103 * 4096), length: 2 * 4096)

    @Test func aCompleteDumpWithAZeroTopIsComplete() throws {
        let k = try open(bytes())
        #expect(k.missingRanges.isEmpty)
        #expect(k.incompleteReason == nil)
        guard case .bytes(let top) = k.read(GuestPhysicalAddress(108 * 4096), count: 4096) else { Issue.record("108 absent"); return }
        #expect(Array(top) == [UInt8](repeating: 0, count: 4096))
    }

    @Test func aDumpCutInTheDataBeforeItsZeroTopListsWhatIsGone() throws {
        // Cut 100 bytes into PFN 103's data: 103 and 104 are gone; 105…108 read the shared block.
        let cut = Array(bytes().prefix(16600 + 3 * 4096 + 100))
        let k = try open(cut)
        #expect(k.missingRanges == [pages103and104])
        #expect(k.incompleteReason == "1 range(s), 8192 bytes, that the dump lists have no data in the 28988-byte file")
        guard case .bytes(let top) = k.read(GuestPhysicalAddress(108 * 4096), count: 4096) else { Issue.record("108 absent"); return }
        #expect(Array(top) == [UInt8](repeating: 0, count: 4096))
    }

    @Test func aLargeDumpCutSoSaysOnceAPageReadIsGone() throws {
        // The large-bitmap behaviour: unchecked at open, checked whole once a read finds the cut.
        let k = try open(Array(bytes().prefix(16600 + 3 * 4096 + 100)), eager: 0)
        #expect(k.incompleteReason == nil)
        #expect(k.damage(at: GuestPhysicalAddress(104 * 4096)) == "damaged at file offset 0x80d8: its 4096 bytes of data run past the end of the 28988-byte file")
        #expect(k.incompleteReason == "1 range(s), 8192 bytes, that the dump lists have no data in the 28988-byte file")
        #expect(k.missingRanges == [pages103and104])
    }

    /// The check at open reads back over the descriptors sharing the zero block only so far
    /// (`KdumpFile.readBackAtOpen`; a 64 GiB guest zero at the top has a million of them): the
    /// last descriptor (PFN 108) shares it, and so do 107, 106 and 105 before PFN 104's.
    @Test(arguments: [(3, false), (4, true)])
    func theReadBackAtOpenIsBounded(readBack: UInt64, decidedAtOpen: Bool) throws {
        let why = "1 range(s), 8192 bytes, that the dump lists have no data in the 28988-byte file"
        let cut = try open(Array(bytes().prefix(16600 + 3 * 4096 + 100)), readBack: readBack)
        // Within the bound the cut is found at open; past it, as for a large bitmap, once a
        // page read finds it.
        #expect(cut.incompleteReason == (decidedAtOpen ? why : nil))
        #expect(cut.damage(at: GuestPhysicalAddress(104 * 4096)) != nil)
        #expect(cut.incompleteReason == why)
        #expect(cut.missingRanges == [pages103and104])
        // A complete dump is complete either way, and asked, the whole check says so.
        let whole = try open(bytes(), readBack: readBack)
        #expect(whole.incompleteReason == nil)
        #expect(whole.missingRanges.isEmpty)
        #expect(whole.incompleteReason == nil)
    }
}
