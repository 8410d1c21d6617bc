import Testing
@testable import ITSLayout
import ITSAnalysis

/// Images a hostile guest could write (issue 12's list): each ends with findings and bounded
/// work, never a trap, a hang or a huge allocation.
@Suite struct HostileImageTests {
    let dt: UInt64 = 0x4010_0000, ct: UInt64 = 0x4100_0000

    @Test func kvmLevel1EntriesAliasingOneLevel2Page() throws {
        var b = ImageBuilder()
        b.map(dt, 65536); b.map(ct, 65536)
        b.kvmCTE(ct, icid: 0, rd: 0)
        let l2: UInt64 = 0x4300_0000
        b.map(l2, 65536)
        for i in 0..<UInt64(8) { b.l1(dt + i * 8, page: l2) }
        b.kvmDTE(l2 + 5 * 8, itt: 0x4200_0000, bits: 1, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        let w = try walk(b, tables(.kvm, dt: dt, ct: ct, indirect: true))
        #expect(w.rows == [[5, 0, 8192, 0]])
        #expect(w.findings("l1-alias").count == 7)
    }

    @Test func ittOverLevel2PagesIsReportedOncePerPage() throws {
        var b = ImageBuilder()
        b.map(dt, 65536); b.map(ct, 65536)
        b.qemuCTE(ct, rd: 0)
        let l2a: UInt64 = 0x4300_0000, l2b: UInt64 = 0x4301_0000, far: UInt64 = 0x4800_0000
        b.map(l2a, 3 * 65536)
        b.map(far, 65536)
        // Level-1 entries 0-3 alias page A, 4 is page B (right after A), 5 a page far away.
        for i in 0..<UInt64(4) { b.l1(dt + i * 8, page: l2a) }
        b.l1(dt + 4 * 8, page: l2b)
        b.l1(dt + 5 * 8, page: far)
        // Device 0 (page A, entry 0): a 2^14-entry ITT (12-byte QEMU ITEs: 192 KiB) starting inside page A reaches
        // into page B; device 1 (page A, entry 1): an ITT far from every table.
        b.qemuDTE(l2a, itt: l2a + 0x8000, bits: 14)
        b.qemuDTE(l2a + 8, itt: 0x4400_0000, bits: 1)
        b.map(0x4400_0000, 4096)
        let w = try walk(b, tables(.qemu, dt: dt, ct: ct, indirect: true))
        let overlaps = w.findings("itt-overlap")
        #expect(overlaps.map(\.deviceID) == [DeviceID(0), DeviceID(0)])
        #expect(overlaps.map(\.message) == [
            "device 0x0: ITT 0x43008000-0x43037fff overlaps device level-2 page 0 (0x43000000-0x4300ffff)",
            "device 0x0: ITT 0x43008000-0x43037fff overlaps device level-2 page 4 (0x43010000-0x4301ffff)",
        ])
    }

    @Test func kvmCollectionListOf2To16Entries() throws {
        var b = ImageBuilder()
        b.map(dt, 65536)
        for i in 0..<UInt64(65536) { b.kvmCTE(ct + i * 8, icid: i, rd: i % 4) }
        let w = try walk(b, tables(.kvm, dt: dt, ct: ct, collectionPages: 8))
        #expect(w.tables.collections.count == 65536)
        #expect(w.tables.collections.allSatisfy { $0.status == .live })
        #expect(w.findings.isEmpty)
    }

    @Test func propbaserIDbits31IsBoundedByTheTablesAndTheScanCap() throws {
        var b = ImageBuilder()
        b.map(dt, 65536); b.map(ct, 65536)
        b.qemuCTE(ct, rd: 0)
        b.qemuDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 1)
        b.qemuITE(0x4200_0000, lpi: 0xFF_0000, icid: 0)  // QEMU INTIDs are 24 bits: far beyond 16
        b.map(0x4400_0000, 1 << 17)
        let regs = tables(.qemu, dt: dt, ct: ct)
        let rds = redistributors(1, prop: 0x4500_0000 | 31) { _ in 0x4400_0000 }
        let w = try walk(b, regs, cpus: 1, rds: rds)
        // The LPI is in range for IDbits 31; its property byte lies far outside the dump.
        #expect(w.rows == [[8, 0, 0xFF_0000, 0]])
        #expect(w.graph.routes.first?.enabled == nil)
        #expect(w.findings("table-absent").count == 2)  // property byte and pending byte
        let checks = StateChecks.run(w.tables, graph: w.graph, redistributors: rds, memory: b.image)
        #expect(checks.isEmpty)  // the pending scan reads at most 2^20 LPIs (128 KiB)
    }

    @Test func aHugeAllValidKVMTableStopsAtTheBudget() throws {
        var b = ImageBuilder()
        b.map(ct, 65536)
        // 4 MiB of flat device table, every DTE valid with next = 1 and a 2^16-entry ITT.
        let pages: UInt64 = 64
        b.map(dt, pages * 65536)
        for i in 0..<(pages * 8192) { b.kvmDTE(dt + i * 8, itt: 0x5000_0000, bits: 16, next: 1) }
        var limits = WalkLimits()
        limits.maxBytesRead = 8 << 20
        let w = try walk(b, tables(.kvm, dt: dt, ct: ct, pages: pages), limits: limits)
        #expect(w.findings("walk-limit").count == 1)
        #expect(w.findings("itt-shared").count > 0)
    }
}
