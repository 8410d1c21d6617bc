import Testing
@testable import ITSLayout

@Suite struct QEMUImageTests {
    @Test(arguments: [UInt64(4096), 16384, 65536])
    func flatDeviceTableEveryPageSize(page: UInt64) throws {
        var b = ImageBuilder()
        let dt: UInt64 = 0x4010_0000, ct: UInt64 = 0x4020_0000
        b.map(dt, page)
        b.map(ct, page)
        b.qemuCTE(ct + 0 * 8, rd: 0)
        b.qemuCTE(ct + 1 * 8, rd: 3)
        b.qemuDTE(dt + 0x8 * 8, itt: 0x4030_0000, bits: 2)
        b.qemuITE(0x4030_0000 + 0 * 12, lpi: 8192, icid: 1)
        b.qemuITE(0x4030_0000 + 3 * 12, lpi: 8195, icid: 0)
        b.qemuDTE(dt + 0x10 * 8, itt: 0x4030_0100, bits: 1)
        b.qemuITE(0x4030_0100 + 1 * 12, lpi: 9000, icid: 1)
        let w = try walk(b, tables(.qemu, dt: dt, ct: ct, page: page))
        #expect(w.rows == [[8, 0, 8192, 3], [8, 3, 8195, 0], [16, 1, 9000, 3]])
        #expect(w.tables.deviceTable?.reachableIDs == page / 8)
        #expect(w.findings.isEmpty)
        #expect(w.graph.routes[1].iteAddress == GuestPhysicalAddress(0x4030_0024))
        #expect(w.graph.routes[0].dteAddress == GuestPhysicalAddress(dt + 0x40))
    }

    @Test(arguments: [UInt64(4096), 16384, 65536])
    func twoLevelDeviceTableEveryPageSize(page: UInt64) throws {
        let far = 2 * (page / 8) + 7
        let w = try Scenarios.qemuTwoLevel(page: page).walk()
        // Level-1 entry 2 starts at DeviceID 2 × (page / 8), inside the 16 DeviceID bits for
        // every page size (a level-1 entry beyond them: RuleCoverageTests, id-beyond-typer).
        #expect(w.rows == [[5, 0, 8200, 2], [far, 1, 8201, 2]])
        #expect(w.tables.deviceLevel1.map(\.index) == [0, 2])
        #expect(w.findings.isEmpty)
    }

    @Test func lpiStateFromPropertyAndTargetPendingTable() throws {
        var b = ImageBuilder()
        let dt: UInt64 = 0x4010_0000, ct: UInt64 = 0x4020_0000
        b.map(dt, 65536); b.map(ct, 65536)
        b.qemuCTE(ct + 1 * 8, rd: 1)
        b.qemuDTE(dt + 8 * 8, itt: 0x4030_0000, bits: 1)
        b.qemuITE(0x4030_0000, lpi: 8195, icid: 1)
        b.qemuITE(0x4030_0000 + 12, lpi: 8196, icid: 1)
        // Example G/H: property table 0x4050_0000, pending tables per CPU.
        b.image.write(0x4050_0000 + 3, bytes: [0xA3])
        b.image.write(0x4050_0000 + 4, bytes: [0xA2])
        b.map(0x4060_0000, 8192)
        b.map(0x4070_0000, 8192)
        b.image.write(0x4070_0000 + 8195 / 8, bytes: [1 << 3])  // CPU 1's table: LPI 8195 pending
        b.image.write(0x4060_0000 + 8196 / 8, bytes: [1 << 4])  // CPU 0's: not the target
        let rds = redistributors(2, prop: 0x4050_078F) { $0 == 0 ? 0x4060_0780 : 0x4070_0780 }
        let w = try walk(b, tables(.qemu, dt: dt, ct: ct), cpus: 2, rds: rds)
        #expect(w.graph.routes.map(\.enabled) == [true, false])
        #expect(w.graph.routes.map(\.priority) == [0xA0, 0xA0])
        #expect(w.graph.routes.map(\.pending) == [true, false])
        #expect(w.findings.isEmpty)
    }

    @Test func problemsAreFindingsNotCrashes() throws {
        let w = try Scenarios.qemuProblems().walk()
        // Device 5's ITT (52-bit address field: it cannot wrap) is not in the dump either.
        #expect(w.findings("table-absent").map(\.deviceID) == [DeviceID(1), DeviceID(5)])
        #expect(w.findings("table-absent").first?.message.contains("0x70000000") == true)
        #expect(w.findings("itt-overlap").map(\.deviceID) == [DeviceID(2)])
        #expect(w.findings("itt-shared").map(\.deviceID) == [DeviceID(4)])
        #expect(w.findings("collection-missing").map(\.address) == [GuestPhysicalAddress(0x4030_0000), GuestPhysicalAddress(0x4030_0000)])
        #expect(w.findings("lpi-out-of-range").count == 2)
        #expect(w.findings("collection-target-out-of-range").map(\.icid) == [ICID(1)])
        #expect(w.findings("dte-size-beyond-idbits").map(\.deviceID) == [DeviceID(5)])
        // The shared ITT maps LPIs 8192 and 100 twice.
        #expect(w.findings("lpi-duplicate").map(\.lpi) == [LPI(8192), LPI(100)])
    }

    @Test func level1EntriesAliasingOneLevel2PageAreWalkedOnce() throws {
        let w = try Scenarios.qemuLevel1Aliases().walk()
        #expect(w.rows == [[3, 0, 8192, 0]])
        #expect(w.findings("l1-alias").count == 127)
    }

    @Test func virtualITEsAndQEMU62ResidueAreReported() throws {
        let w = try Scenarios.qemuVirtualAndQEMU62ITEs().walk()
        #expect(w.rows == [[8, 0, 8195, 1]])
        #expect(w.rules() == ["qemu62-ite-residue", "ite-virtual"])
    }

    @Test func hugeTablesOutsideTheDumpEndQuickly() throws {
        var b = ImageBuilder()
        b.map(0x4000_0000, 4096)
        // BASER Size 255 with 64K pages (16 MiB each), nothing present, PA bits 51:48 set.
        let dt = baser(type: 1, base: 0x000F_0000_1000_0000, page: 65536, indirect: true, pages: 256)
        let ct = baser(type: 4, base: 0x000F_0000_2000_0000, page: 65536, pages: 256)
        let w = try walk(b, registers(.qemu, device: dt, collection: ct))
        #expect(w.rows.isEmpty)
        #expect(w.findings("table-absent").count == 2)
        #expect(w.tables.deviceTable?.base == GuestPhysicalAddress(0x000F_0000_1000_0000))
    }

    @Test func walkBudgetEndsWithAFinding() throws {
        let w = try Scenarios.qemuOverBudget().walk()
        #expect(w.findings("walk-limit").count == 1)
    }

    @Test func aCollectionTableOf2To16ValidEntries() throws {
        var b = ImageBuilder()
        let dt: UInt64 = 0x4010_0000, ct: UInt64 = 0x4100_0000
        b.map(dt, 65536)
        for i in 0..<UInt64(65536) { b.qemuCTE(ct + i * 8, rd: i % 4) }
        let w = try walk(b, tables(.qemu, dt: dt, ct: ct, collectionPages: 8))
        #expect(w.tables.collections.count == 65536)
        #expect(w.findings.isEmpty)
    }
}
