import Foundation
@testable import GuestKernel
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// The look-up by halves of kallsyms_seqs_of_names against the pass over every name, on the
/// real kallsyms of tcg-basic (Debian's 6.1 has the table): the same symbols, addresses and
/// ends for the zero-configuration path's names and for 400 names taken from the table, and
/// a table made wrong is never believed.
@Suite(.serialized) struct KallsymsSortedNamesTests {
    static func real() throws -> (Kallsyms, KernelBytes) {
        let d = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let info = VMCOREINFO(pairs: try #require(d.vmcoreinfo), source: "note")
        let space = try KernelAddressSpace(info, memory: d.memory)
        let read = KernelImageMemory(space: space, memory: d.memory).read
        return (try Kallsyms(try Kallsyms.Addresses(info), read: read), read)
    }

    static func same(_ a: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]], _ b: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { k, v in
            v.map(\.symbol) == b[k]?.map(\.symbol) && v.map(\.end) == b[k]?.map(\.end)
        }
    }

    @Test func theSortedTablesAreFoundAndAgreeWithEveryName() throws {
        let (k, _) = try Self.real()
        let s = try #require(k.sortedNames())
        #expect(s.markers.count == (k.count + 255) / 256)
        let wanted = ZeroConfigKernel.wantedSymbols
        let sorted = try #require(try k.lookupBySortedNames(wanted))
        let every = try k.lookupEveryName(wanted)
        #expect(Self.same(sorted, every))
        #expect(sorted["its_save_disable"]?.first?.symbol.type == "t")
        // Ground truth: System.map-6.1.0-56-arm64 plus tcg-basic's KERNELOFFSET (0x39cfdde00000).
        let known = try #require(try k.lookupBySortedNames(Set(VMCOREINFOFromVCPUsTests.systemMap.keys)))
        for (name, link) in VMCOREINFOFromVCPUsTests.systemMap {
            #expect(known[name]?.map(\.symbol.address) == [link &+ 0x39cf_dde0_0000], "\(name)")
        }
        // 400 names spread over the table, statics that share a name among them.
        var sample: Set<String> = []
        var i = 0
        try k.forEach { s in
            if i % 125 == 0 { sample.insert(s.name) }
            i += 1
            return true
        }
        #expect(sample.count > 350)
        let a = try #require(try k.lookupBySortedNames(sample)), b = try k.lookupEveryName(sample)
        #expect(Self.same(a, b))
        #expect(a.count == sample.count)
        // Names that are not there, before the first and after the last.
        let absent: Set<String> = ["", "\u{1}", "~~~", "its_nodes", "zzzzzz_not_a_symbol"]
        #expect(try k.lookupBySortedNames(absent)?.isEmpty == true)
    }

    /// Tables made wrong: seqs that point past the symbols, seqs out of order, markers that do
    /// not start at 0. The look-up reads every name instead, and finds what it finds.
    @Test func wrongTablesAreNotBelieved() throws {
        let (k, read) = try Self.real()
        let s = try #require(k.sortedNames())
        let n = UInt64(k.count)
        func with(_ patch: @escaping (UInt64, Int, inout [UInt8]) -> Void) throws -> Kallsyms {
            let patched: KernelBytes = { va, c in
                guard var b = read(va, c) else { return nil }
                patch(va, c, &b)
                return b
            }
            return try Kallsyms(k.addresses, read: patched)
        }
        func put(_ at: UInt64, _ value: [UInt8]) -> (UInt64, Int, inout [UInt8]) -> Void {
            { va, c, b in
                for (j, v) in value.enumerated() where at + UInt64(j) >= va && at + UInt64(j) < va + UInt64(c) { b[Int(at + UInt64(j) - va)] = v }
            }
        }
        // A seq at the symbol count: a problem, so every name is read; the answer is the same.
        let pastEnd = try with(put(s.seqs + 3 * (n / 2), [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]))
        #expect(Self.same(try pastEnd.lookupWithEnds(ZeroConfigKernel.wantedSymbols), try k.lookupEveryName(ZeroConfigKernel.wantedSymbols)))
        // Out of order: the first entry is the last one's (the greatest name); the sample of
        // 32 names, the first among them, sees it.
        let greatest = try #require(read(s.seqs + 3 * (n - 1), 3))
        let disorder = try with(put(s.seqs, greatest))
        #expect(disorder.sortedNames() == nil)
        #expect(Self.same(try disorder.lookupWithEnds(["its_save_disable"]), try k.lookupEveryName(["its_save_disable"])))
        // Markers that do not start at 0.
        let markers = s.namesEnd
        let badMarkers = try with(put(markers, [1, 0, 0, 0]))
        #expect(badMarkers.sortedNames() == nil)
        #expect(Self.same(try badMarkers.lookupWithEnds(["its_save_disable", "_etext"]), try k.lookupEveryName(["its_save_disable", "_etext"])))
    }
}
