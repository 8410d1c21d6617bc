import Testing
@testable import ITSLayout

/// KVM's restore walk (its-formats.md §1.10) on images built entry by entry.
@Suite struct KVMImageTests {
    let dt: UInt64 = 0x4010_0000
    let ct: UInt64 = 0x4100_0000

    func regs(pages: UInt64 = 1, indirect: Bool = false) -> ITSRegisterState {
        registers(.kvm, device: baser(type: 1, base: dt, page: 65536, indirect: indirect, pages: pages),
                  collection: baser(type: 4, base: ct, page: 65536))
    }

    func withCollections() -> ImageBuilder {
        var b = ImageBuilder()
        b.map(ct, 65536)
        for i in 0..<UInt64(4) { b.kvmCTE(ct + i * 8, icid: i, rd: i) }
        return b
    }

    @Test func cappedNextLandsShortAndTheWalkStepsOn() throws {
        var b = withCollections()
        b.map(dt, 4 * 65536)  // flat, 32768 DTEs
        b.kvmDTE(dt + 10 * 8, itt: 0x4200_0000, bits: 1, next: KVMFormat.maxDeviceOffset)  // real gap 19990
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 1, next: 0)
        b.kvmDTE(dt + 20000 * 8, itt: 0x4200_0100, bits: 2, next: 0)
        b.kvmITE(0x4200_0100, lpi: 8193, icid: 2, next: 2)
        b.kvmITE(0x4200_0100 + 2 * 8, lpi: 8194, icid: 3, next: 0)
        // Skipped by the capped jump: stale, never restored.
        b.kvmDTE(dt + 12 * 8, itt: 0x4200_0200, bits: 1, next: 1)
        b.kvmITE(0x4200_0200, lpi: 8195, icid: 0, next: 0)
        let w = try walk(b, regs(pages: 4))
        #expect(w.rows == [[10, 0, 8192, 1], [20000, 0, 8193, 2], [20000, 2, 8194, 3]])
        #expect(w.findings("kvm-dte-unreachable").map(\.deviceID) == [DeviceID(12)])
        #expect(w.tables.devices.first { $0.deviceID == DeviceID(12) }?.status == .stale)
        #expect(!w.rules().contains("kvm-next-lands-invalid"))
    }

    @Test func validEntriesAfterNextZeroAreStale() throws {
        var b = withCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 2, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        b.kvmITE(0x4200_0000 + 3 * 8, lpi: 8199, icid: 1, next: 0)  // after next = 0
        b.kvmDTE(dt + 16 * 8, itt: 0x4200_0100, bits: 1, next: 0)  // after next = 0
        b.kvmITE(0x4200_0100, lpi: 8200, icid: 0, next: 0)
        let w = try walk(b, regs())
        #expect(w.rows == [[8, 0, 8192, 0]])
        #expect(w.findings("kvm-dte-unreachable").map(\.deviceID) == [DeviceID(16)])
        #expect(w.findings("kvm-ite-unreachable").map(\.address) == [GuestPhysicalAddress(0x4200_0018)])
        let d8 = w.tables.devices.first { $0.deviceID == DeviceID(8) }
        #expect(d8?.itt.map(\.status) == [.live, .stale])
    }

    @Test func collectionTableWithAHoleEndsAtTheHole() throws {
        var b = ImageBuilder()
        b.map(ct, 65536)
        b.map(dt, 65536)
        b.kvmCTE(ct + 0, icid: 0, rd: 0)
        b.kvmCTE(ct + 8, icid: 1, rd: 1)
        b.kvmCTE(ct + 24, icid: 2, rd: 2)  // slot 2 is the terminator
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 1, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 1, next: 1)
        b.kvmITE(0x4200_0008, lpi: 8193, icid: 2, next: 0)
        let w = try walk(b, regs())
        #expect(w.tables.collections.map(\.status) == [.live, .live, .ignored])
        #expect(w.findings("kvm-cte-after-terminator").map(\.icid) == [ICID(2)])
        #expect(w.rows == [[8, 0, 8192, 1], [8, 1, 8193, nil]])
        #expect(w.findings("collection-missing").map(\.address) == [GuestPhysicalAddress(0x4200_0008)])
        #expect(w.findings("kvm-restore-rejects").map(\.eventID) == [EventID(1)])
    }

    @Test func twoLevelWalkLeavesPagesAndSkipsInvalidLevel1Entries() throws {
        var b = withCollections()
        b.map(dt, 65536)
        let l2a: UInt64 = 0x4300_0000, l2b: UInt64 = 0x4400_0000
        b.map(l2a, 65536); b.map(l2b, 65536)
        b.l1(dt + 0, page: l2a)
        b.l1(dt + 3 * 8, page: l2b)  // DeviceIDs 24576..32767
        b.kvmDTE(l2a + 256 * 8, itt: 0x4200_0000, bits: 1, next: KVMFormat.maxDeviceOffset)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 3, next: 0)
        b.kvmDTE(l2b + (25856 - 24576) * 8, itt: 0x4200_0100, bits: 1, next: 0)
        b.kvmITE(0x4200_0100, lpi: 8193, icid: 0, next: 0)
        let w = try walk(b, regs(indirect: true))
        #expect(w.rows == [[256, 0, 8192, 3], [25856, 0, 8193, 0]])
        #expect(w.findings("kvm-next-leaves-page").map(\.deviceID) == [DeviceID(256)])
        #expect(w.findings.allSatisfy { $0.severity == .note })
    }

    @Test func uncappedNextLandingOnAnInvalidEntryIsReported() throws {
        var b = withCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 1, next: 4)  // lands on 12: invalid
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        b.kvmDTE(dt + 16 * 8, itt: 0x4200_0100, bits: 1, next: 0)
        b.kvmITE(0x4200_0100, lpi: 8193, icid: 0, next: 0)
        let w = try walk(b, regs())
        #expect(w.rows == [[8, 0, 8192, 0], [16, 0, 8193, 0]])
        #expect(w.findings("kvm-next-lands-invalid").map(\.deviceID) == [DeviceID(12)])
    }

    @Test func restoreRejectsAndUnmappedCollections() throws {
        var b = ImageBuilder()
        b.map(ct, 65536)
        b.map(dt, 65536)
        b.kvmCTE(ct + 0, icid: 0, rd: 0)
        b.kvmCTE(ct + 8, icid: 5, rd: KVMFormat.collectionNotMapped)
        b.kvmCTE(ct + 16, icid: 0, rd: 1)  // duplicate ICID
        b.kvmCTE(ct + 24, icid: 6, rd: 77)  // beyond 4 vCPUs
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 1, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 5, next: 1)
        b.kvmITE(0x4200_0008, lpi: 42, icid: 0, next: 0)  // pINTID < 8192: restore fails
        let w = try walk(b, regs())
        #expect(w.rows == [[8, 0, 8192, nil]])
        #expect(w.findings("collection-unmapped").map(\.icid) == [ICID(5)])
        #expect(w.findings("kvm-duplicate-icid").map(\.address) == [GuestPhysicalAddress(ct + 16)])
        #expect(w.findings("collection-target-out-of-range").map(\.icid) == [ICID(6)])
        #expect(w.findings("kvm-restore-rejects").map(\.lpi) == [LPI(42)])
    }

    @Test func absentITTIsAFindingAndTheWalkGoesOn() throws {
        var b = withCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x7700_0000, bits: 1, next: 8)
        b.kvmDTE(dt + 16 * 8, itt: 0x4200_0000, bits: 1, next: 0)
        b.kvmITE(0x4200_0000, lpi: 8192, icid: 0, next: 0)
        let w = try walk(b, regs())
        #expect(w.rows == [[16, 0, 8192, 0]])
        #expect(w.findings("table-absent").map(\.deviceID) == [DeviceID(8)])
    }

    @Test func aDTESize31IsClampedToTheITSEventIDBits() throws {
        var b = withCollections()
        b.map(dt, 65536)
        b.kvmDTE(dt + 8 * 8, itt: 0x4200_0000, bits: 32, next: 0)
        b.map(0x4200_0000, 65536 * 8)
        b.kvmITE(0x4200_0000 + 65535 * 8, lpi: 9000, icid: 1, next: 0)
        let w = try walk(b, regs())
        #expect(w.findings("dte-size-beyond-idbits").map(\.deviceID) == [DeviceID(8)])
        #expect(w.rows == [[8, 65535, 9000, 1]])
        #expect(w.tables.devices.first?.ittEntries == 65536)
    }
}
