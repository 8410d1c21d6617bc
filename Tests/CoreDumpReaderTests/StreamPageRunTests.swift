import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Issue 22: the stream's page index as runs of consecutive pages (one file offset or fill byte
/// per run), pages sent again in a later iteration winning over the runs they cut.
@Suite struct StreamPageRunTests {
    enum Sent { case data(UInt8), zero(UInt8) }

    func open(_ pages: [(UInt64, Sent)]) throws -> MigrationStream {
        var s = StreamBuilder()
        s.header()
        s.sectionStart(id: 2, name: "ram", version: 4)
        s.memSize([("mach-virt.ram", 64 * 4096)])
        s.eos()
        s.footer(id: 2)
        s.sectionPart(id: 2, end: true)
        for (i, (page, sent)) in pages.enumerated() {
            let name = i == 0 ? "mach-virt.ram" : nil
            switch sent {
            case .data(let b): s.page(name, offset: page * 4096, bytes: [b, b])
            case .zero(let f): s.zero(name, offset: page * 4096, fill: f)
            }
        }
        s.eos()
        s.footer(id: 2)
        s.gic(id: 11, props: [0x425C_078F], pends: [0x425D_0780])
        s.its(id: 12, ctlr: 1, iidr: 0, baser: [0xF907_0000_425A_0600, 0xBC07_0000_425B_0600, 0, 0, 0, 0, 0, 0])
        s.eof()
        let url = try temporaryDirectory().appendingPathComponent("vm.mig")
        try s.write(url)
        return try MigrationStream(file: MappedFile(path: url.path))
    }

    /// The first two bytes of a page, or nil when it is not in the stream.
    func head(_ m: MigrationStream, _ page: UInt64) -> [UInt8]? {
        guard case .bytes(let b) = m.read(GuestPhysicalAddress(0x4000_0000 + page * 4096), count: 2) else { return nil }
        return Array(b)
    }

    /// Pages 0…9 data, 10…14 zero, 15…19 filled with 7, 20…29 data: four runs.
    var inOrder: [(UInt64, Sent)] {
        (0..<10).map { ($0, .data(UInt8($0))) } + (10..<15).map { ($0, .zero(0)) }
            + (15..<20).map { ($0, .zero(7)) } + (20..<30).map { ($0, .data(UInt8($0))) }
    }

    @Test func pagesSentInOrderAreFourRuns() throws {
        let m = try open(inOrder)
        #expect(m.blocks[0].pages.runs.count == 4)
        #expect(m.blocks[0].pages.count == 30 && m.blocks[0].pagesSent == 30)
        for p: UInt64 in 0..<10 { #expect(head(m, p) == [UInt8(p), UInt8(p)]) }
        for p: UInt64 in 10..<15 { #expect(head(m, p) == [0, 0]) }
        for p: UInt64 in 15..<20 { #expect(head(m, p) == [7, 7]) }
        for p: UInt64 in 20..<30 { #expect(head(m, p) == [UInt8(p), UInt8(p)]) }
        #expect(head(m, 30) == nil && head(m, 63) == nil)
    }

    @Test func aLaterIterationWinsOverTheRunsItCuts() throws {
        // Resent: 3…5 with new data, 12 as data, 25 as a zero page, 29 twice, 40 once.
        let again: [(UInt64, Sent)] = [(3, .data(0xE3)), (4, .data(0xE4)), (5, .data(0xE5)), (12, .data(0xCC)),
                                       (25, .zero(0)), (40, .data(0x40)), (29, .data(0xA1)), (29, .zero(9))]
        let m = try open(inOrder + again)
        #expect(m.blocks[0].pages.count == 31 && m.blocks[0].pagesSent == 38)
        var want: [UInt64: [UInt8]] = [:]
        for (p, sent) in inOrder + again {
            switch sent {
            case .data(let b): want[p] = [b, b]
            case .zero(let f): want[p] = [f, f]
            }
        }
        for p: UInt64 in 0..<64 { #expect(head(m, p) == want[p], "page \(p)") }
        // Disjoint and sorted.
        let runs = m.blocks[0].pages.runs
        #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.first + $0.count <= $1.first })
    }
}
