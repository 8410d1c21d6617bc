import Foundation
import Synchronization
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// The lazy rank index and the whole-bitmap pass share their state behind a Mutex: lookups
/// from many threads at once, each extending the index to a different block while others ask
/// for the whole bitmap, give the ranks and ranges of PFN order, the same as one by one.
@Suite struct KdumpConcurrentLookupTests {
    /// 128 bitmap blocks of 4 KiB (2,097,152 PFNs, 64 rank blocks): one dumped PFN at the start
    /// of every 8th rank block and one at its end, so that lookups stop at many block boundaries.
    let dumped: [Int] = stride(from: 0, to: 64, by: 8).flatMap { [$0 * 32768 + 5, $0 * 32768 + 32767] }

    @Test func lookupsFromManyThreadsGiveTheRanksOfPFNOrder() throws {
        var b = KdumpBuilder()
        b.compression = .none
        b.bitmapBlocks = 128
        for pfn in dumped { b.pages[pfn] = [UInt8](repeating: UInt8(truncatingIfNeeded: pfn >> 15), count: 4096) }
        let url = try temporaryDirectory().appendingPathComponent("dump")
        try Data(b.plain()).write(to: url)
        let expectedRuns = dumped.map { GuestRange(start: GuestPhysicalAddress(UInt64($0) * 4096), length: 4096) }
        for _ in 0..<8 {
            let k = try KdumpFile(file: MappedFile(path: url.path), eagerBitmapBytes: 0)
            let wrong = Mutex<[String]>([])
            // From the top down, so that most threads find the index short and extend it.
            let order = Array(dumped.enumerated().reversed())
            DispatchQueue.concurrentPerform(iterations: order.count * 2) { i in
                let (rank, pfn) = order[i % order.count]
                if i % 5 == 0, k.presentRanges != expectedRuns { wrong.withLock { $0.append("present ranges") } }
                if k.descriptorIndex(UInt64(pfn)) != UInt64(rank) { wrong.withLock { $0.append("rank of \(pfn)") } }
                if k.descriptorIndex(UInt64(pfn) + 1) != nil { wrong.withLock { $0.append("PFN \(pfn + 1) dumped") } }
                guard case .bytes(let got) = k.read(GuestPhysicalAddress(UInt64(pfn) * 4096), count: 4096),
                      Array(got) == [UInt8](repeating: UInt8(truncatingIfNeeded: pfn >> 15), count: 4096) else {
                    wrong.withLock { $0.append("page \(pfn)") }
                    return
                }
            }
            #expect(wrong.withLock { $0 } == [])
            #expect(k.dumpBitmap.indexedBlocks == 64)
            #expect(k.dumpablePages == dumped.count && k.missingRanges.isEmpty && k.incompleteReason == nil)
        }
    }
}
