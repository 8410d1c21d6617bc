import Testing
@testable import ITSLayout

/// KVM's restore walk (its-formats.md §1.10) on images built entry by entry.
@Suite struct KVMImageTests {
    @Test func cappedNextLandsShortAndTheWalkStepsOn() throws {
        let w = try Scenarios.kvmCappedNext().walk()
        #expect(w.rows == [[10, 0, 8192, 1], [20000, 0, 8193, 2], [20000, 2, 8194, 3]])
        #expect(w.findings("kvm-dte-unreachable").map(\.deviceID) == [DeviceID(12)])
        #expect(w.tables.devices.first { $0.deviceID == DeviceID(12) }?.status == .stale)
        #expect(!w.rules().contains("kvm-next-lands-invalid"))
    }

    @Test func validEntriesAfterNextZeroAreStale() throws {
        let w = try Scenarios.kvmValidAfterNextZero().walk()
        #expect(w.rows == [[8, 0, 8192, 0]])
        #expect(w.findings("kvm-dte-unreachable").map(\.deviceID) == [DeviceID(16)])
        #expect(w.findings("kvm-ite-unreachable").map(\.address) == [GuestPhysicalAddress(0x4200_0018)])
        let d8 = w.tables.devices.first { $0.deviceID == DeviceID(8) }
        #expect(d8?.itt.map(\.status) == [.live, .stale])
    }

    @Test func collectionTableWithAHoleEndsAtTheHole() throws {
        let w = try Scenarios.kvmCollectionTableWithAHole().walk()
        #expect(w.tables.collections.map(\.status) == [.live, .live, .ignored])
        #expect(w.findings("kvm-cte-after-terminator").map(\.icid) == [ICID(2)])
        #expect(w.rows == [[8, 0, 8192, 1], [8, 1, 8193, nil]])
        #expect(w.findings("collection-missing").map(\.address) == [GuestPhysicalAddress(0x4200_0008)])
        #expect(w.findings("kvm-restore-rejects").map(\.eventID) == [EventID(1)])
    }

    @Test func twoLevelWalkLeavesPagesAndSkipsInvalidLevel1Entries() throws {
        let w = try Scenarios.kvmTwoLevelLeavingPages().walk()
        #expect(w.rows == [[256, 0, 8192, 3], [25856, 0, 8193, 0]])
        #expect(w.findings("kvm-next-leaves-page").map(\.deviceID) == [DeviceID(256)])
        #expect(w.findings.allSatisfy { $0.severity == .note })
    }

    @Test func uncappedNextLandingOnAnInvalidEntryIsReported() throws {
        let w = try Scenarios.kvmUncappedNextLandingOnAnInvalidEntry().walk()
        #expect(w.rows == [[8, 0, 8192, 0], [16, 0, 8193, 0]])
        #expect(w.findings("kvm-next-lands-invalid").map(\.deviceID) == [DeviceID(12)])
    }

    @Test func restoreRejectsAndUnmappedCollections() throws {
        let w = try Scenarios.kvmRestoreRejects().walk()
        #expect(w.rows == [[8, 0, 8192, nil]])
        #expect(w.findings("collection-unmapped").map(\.icid) == [ICID(5)])
        #expect(w.findings("kvm-duplicate-icid").map(\.address) == [GuestPhysicalAddress(Scenarios.kvmCT + 16)])
        #expect(w.findings("collection-target-out-of-range").map(\.icid) == [ICID(6)])
        #expect(w.findings("kvm-restore-rejects").map(\.lpi) == [LPI(42)])
    }

    @Test func absentITTIsAFindingAndTheWalkGoesOn() throws {
        let w = try Scenarios.kvmAbsentITT().walk()
        #expect(w.rows == [[16, 0, 8192, 0]])
        #expect(w.findings("table-absent").map(\.deviceID) == [DeviceID(8)])
    }

    @Test func aDTESize31IsClampedToTheITSEventIDBits() throws {
        let w = try Scenarios.kvmDTESize31().walk()
        #expect(w.findings("dte-size-beyond-idbits").map(\.deviceID) == [DeviceID(8)])
        #expect(w.rows == [[8, 65535, 9000, 1]])
        #expect(w.tables.devices.first?.ittEntries == 65536)
    }
}
