import Testing
@testable import ITSLayout

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
        let w = try walk(b, registers(.kvm, device: baser(type: 1, base: dt, page: 65536, indirect: true),
                                      collection: baser(type: 4, base: ct, page: 65536)))
        #expect(w.rows == [[5, 0, 8192, 0]])
        #expect(w.findings("l1-alias").count == 7)
    }

    @Test func kvmCollectionListOf2To16Entries() throws {
        var b = ImageBuilder()
        b.map(dt, 65536)
        for i in 0..<UInt64(65536) { b.kvmCTE(ct + i * 8, icid: i, rd: i % 4) }
        let w = try walk(b, registers(.kvm, device: baser(type: 1, base: dt, page: 65536),
                                      collection: baser(type: 4, base: ct, page: 65536, pages: 8)))
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
        let regs = registers(.qemu, device: baser(type: 1, base: dt, page: 65536), collection: baser(type: 4, base: ct, page: 65536))
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
        let w = try walk(b, registers(.kvm, device: baser(type: 1, base: dt, page: 65536, pages: pages),
                                      collection: baser(type: 4, base: ct, page: 65536)), limits: limits)
        #expect(w.findings("walk-limit").count == 1)
        #expect(w.findings("itt-shared").count > 0)
    }
}
