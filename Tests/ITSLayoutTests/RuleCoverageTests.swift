import Testing
@testable import ITSLayout
import ITSAnalysis

/// A test case for every check rule (issue 18, "One source of truth"): for each `RuleID`, a
/// built guest image in which the rule fires, run through the whole analysis. Adding a rule
/// without an entry here fails `everyRuleFiresOnItsImage`. The other half, that no rule fires
/// on the healthy real fixtures but the ones their READMEs explain, is
/// Tests/itsdumpTests/RealRuleTests.swift.
enum RuleCatalogue {
    typealias Case = @Sendable () throws -> [Finding]

    /// Every finding of the whole analysis (`Analysis.run`) of `s`.
    static func analyse(_ s: @escaping @Sendable () -> Scenario) -> Case { { try s().walk().all } }

    static let cases: [RuleID: Case] = [
        .tableAbsent: analyse(Scenarios.kvmAbsentITT),
        .tableMissing: analyse { Scenarios.deviceBaser(RuleCoverageTests.invalidDeviceBaser) },
        .baserUnusable: analyse { Scenarios.deviceBaser(RuleCoverageTests.reservedPageSize) },
        .l1Misaligned: analyse(Scenarios.qemuMisalignedLevel1),
        .l1Alias: analyse { Scenarios.qemuLevel1Aliases() },
        .idBeyondTyper: analyse(Scenarios.qemuLevel1BeyondTyper),
        .dteSizeBeyondIdbits: analyse(Scenarios.kvmDTESize31),
        .ittBeyondAddressSpace: { RuleCoverageTests.wrappingITT().findings },
        .ittOverlap: analyse(Scenarios.qemuProblems),
        .ittShared: analyse(Scenarios.qemuProblems),
        .iteVirtual: analyse(Scenarios.qemuVirtualAndQEMU62ITEs),
        .qemu62IteResidue: analyse(Scenarios.qemuVirtualAndQEMU62ITEs),
        .lpiOutOfRange: analyse(Scenarios.qemuProblems),
        .lpiDuplicate: analyse(Scenarios.qemuProblems),
        .collectionMissing: analyse(Scenarios.kvmCollectionTableWithAHole),
        .collectionUnmapped: analyse(Scenarios.kvmRestoreRejects),
        .collectionTargetOutOfRange: analyse(Scenarios.kvmRestoreRejects),
        .kvmDuplicateIcid: analyse(Scenarios.kvmRestoreRejects),
        .kvmCteAfterTerminator: analyse(Scenarios.kvmCollectionTableWithAHole),
        .kvmDteUnreachable: analyse(Scenarios.kvmCappedNext),
        .kvmIteUnreachable: analyse(Scenarios.kvmValidAfterNextZero),
        .kvmNextLandsInvalid: analyse(Scenarios.kvmUncappedNextLandingOnAnInvalidEntry),
        .kvmNextLeavesPage: analyse(Scenarios.kvmTwoLevelLeavingPages),
        .kvmRestoreRejects: analyse(Scenarios.kvmRestoreRejects),
        .queueNotDrained: analyse { Scenarios.withWorkedExampleQueue(creadr: 16 * 32, cwriter: 18 * 32) },
        .queuePointerOutOfRange: analyse { Scenarios.withWorkedExampleQueue(creadr: 0xF_FFE0, cwriter: 18 * 32) },
        .lpiDisabled: analyse { Scenarios.withLPIRegisters(Scenarios.lpiState(enabled: false)) },
        .pendingUnrouted: analyse { Scenarios.withLPIRegisters(Scenarios.lpiState(pendingLPI: 9000)) },
        .pendingWrongVcpu: analyse { Scenarios.withLPIRegisters(Scenarios.lpiState(pendingLPI: 8195, pendingCPU: 0)) },
        .pendbaserShared: analyse {
            Scenarios.withLPIRegisters(Scenarios.lpiState(), pend: [Scenarios.pendingTables[0], Scenarios.pendingTables[0]])
        },
        .itsEnabledEmpty: analyse { Scenarios.withLPIRegisters(Scenarios.emptyTables()) },
        .entryAtTableLimit: analyse { Scenarios.qemuSmallFlatTable(deviceID: 511) },
        .unmappedButLive: analyse { Scenarios.unmappedButLive() },
        .findingsCapped: analyse { Scenarios.qemuLevel1Aliases(entries: 1100) },
        .walkLimit: analyse(Scenarios.qemuOverBudget),
    ]
}

@Suite struct RuleCoverageTests {
    /// Rules about the dump file itself, not the guest's tables: they fire on files built by the
    /// reader tests, named here (a rule in neither list fails below).
    static let testedOnFiles: [RuleID: String] = [
        .dumpIncomplete: "HostileKdumpTests.aFileCutShortListsItsMissingRanges (a kdump cut short, plain and flattened)",
    ]

    @Test(arguments: RuleID.allCases)
    func everyRuleFiresOnItsImage(rule: RuleID) throws {
        if Self.testedOnFiles[rule] != nil {
            #expect(RuleCatalogue.cases[rule] == nil, "\(rule.rawValue) is listed twice")
            return
        }
        let build = try #require(RuleCatalogue.cases[rule], "no image in RuleCatalogue fires \(rule.rawValue)")
        let fired = try build().filter { $0.ruleID == rule }
        #expect(!fired.isEmpty, "\(rule.rawValue) does not fire on its image")
        #expect(fired.allSatisfy { $0.severity == rule.severity && $0.rule == rule.rawValue })
    }

    // MARK: The five rules no test named before: each fires for the reason its `shows` says

    /// GITS_BASER0 of Type 1 with Valid clear (its-formats.md §1.6).
    static let invalidDeviceBaser = baser(type: 1, base: Scenarios.dt, page: 65536) & ~(1 << 63)
    /// GITS_BASER0 with Page_Size 3, reserved (its-formats.md §1.6).
    static let reservedPageSize = baser(type: 1, base: Scenarios.dt, page: 65536) | 3 << 8
    /// GITS_BASER0 with Entry_Size 15 (16-byte entries; KVM's and QEMU's DTEs are 8 bytes).
    static let sixteenByteEntries = baser(type: 1, base: Scenarios.dt, page: 65536) & ~(0x1F << 48) | 15 << 48

    @Test func noValidDeviceBaserIsATableMissing() throws {
        let w = try Scenarios.deviceBaser(Self.invalidDeviceBaser).walk()
        #expect(w.tables.deviceTable == nil && w.tables.collectionTable != nil)
        #expect(w.all.map(\.rule) == ["table-missing"])
        #expect(w.all.first?.message.hasPrefix("no valid GITS_BASER of Type 1 ") == true)
    }

    @Test func aReservedPageSizeOrAForeignEntrySizeMakesTheBaserUnusable() throws {
        let page = try Scenarios.deviceBaser(Self.reservedPageSize).walk()
        #expect(page.tables.deviceTable == nil)
        #expect(page.all.map(\.rule) == ["baser-unusable"])  // unusable, not missing
        #expect(page.all.first?.message == "GITS_BASER0 0x8107000040100300: Page_Size 3 is reserved")
        let entry = try Scenarios.deviceBaser(Self.sixteenByteEntries).walk()
        #expect(entry.tables.deviceTable == nil)
        #expect(entry.all.map(\.message) == ["GITS_BASER0 0x810f000040100200: Entry_Size is 16 bytes, the format's entries are 8"])
    }

    @Test func aMisalignedLevel1EntryIsReadAsItsAlignedPage() throws {
        let w = try Scenarios.qemuMisalignedLevel1().walk()
        #expect(w.all.map(\.rule) == ["l1-misaligned"])
        #expect(w.all.first?.address == GuestPhysicalAddress(Scenarios.dt))
        #expect(w.rows == [[5, 0, 8192, 0]])
        #expect(w.tables.devices.first?.address == GuestPhysicalAddress(0x4040_0000 + 5 * 8))
    }

    @Test func theLastDeviceIDAndTheLastEventIDAreAtTheTableLimit() throws {
        // A 4 KiB flat table holds DeviceIDs 0-511 (its-formats.md §1.7).
        let last = try Scenarios.qemuSmallFlatTable(deviceID: 511).walk()
        #expect(last.tables.deviceTable?.reachableIDs == 512)
        #expect(last.all.map(\.rule) == ["entry-at-table-limit"])
        #expect(last.all.first?.deviceID == DeviceID(511) && last.all.first?.eventID == nil)
        #expect(try Scenarios.qemuSmallFlatTable(deviceID: 510).walk().all.isEmpty)
        // EventID 65535 of an ITT of 2^16 entries: the last EventID KVM's ITS (IDbits 16) supports.
        let event = try Scenarios.kvmDTESize31().walk().all.filter { $0.ruleID == .entryAtTableLimit }
        #expect(event.map(\.eventID) == [EventID(65535)] && event.map(\.deviceID) == [DeviceID(8)])
    }

    /// The ITT geometry of a DTE whose ITT starts 256 bytes below the top of the 64-bit
    /// address space: 32 QEMU ITEs (384 bytes) wrap past it.
    static func wrappingITT() -> (entries: UInt64, extent: GuestRange, findings: [Finding]) {
        var walk = Walk(memory: SparseImage(), registers: Scenarios.qemu(), format: .qemu, limits: WalkLimits())
        let dte = DeviceTableEntry(raw: 0, valid: true, ittAddress: GuestPhysicalAddress(0xFFFF_FFFF_FFFF_FF00),
                                   eventIDBits: 5, next: nil)
        let g = walk.ittGeometry(DeviceID(8), GuestPhysicalAddress(Scenarios.dt + 64), dte)
        return (g.entries, g.extent, walk.findings.all)
    }

    @Test func anITTWrappingPastTheTopIsReportedAndNotRead() {
        let w = Self.wrappingITT()
        #expect(w.findings.map(\.rule) == ["itt-beyond-address-space"])
        #expect(w.findings.first?.deviceID == DeviceID(8))
        #expect(w.entries == 0 && w.extent.length == 0)
    }

    /// Why the rule above is fired through the walk's ITT geometry, not through a guest image:
    /// no DTE either format writes can name such an ITT. The ITT address field ends at PA bit
    /// 51 (its-formats.md §1.10 ITT_addr [48:5], §1.11 ITT_addr [49:6], both × 256) and an ITT
    /// holds at most 2^32 entries, so the largest ITT ends below 2^53.
    @Test(arguments: ITSFormat.allCases)
    func noDTECanNameAWrappingITT(format: ITSFormat) {
        let dte = format.decodeDTE(.max)
        #expect(dte.ittAddress.rawValue < 1 << 52)
        #expect(dte.ittAddress.adding((UInt64(1) << 32) * format.iteSize - 1) != nil)
    }

    @Test func aLevel1EntryBeyondTheDeviceIDBitsIsNeverIndexed() throws {
        let w = try Scenarios.qemuLevel1BeyondTyper().walk()
        #expect(w.all.map(\.rule) == ["id-beyond-typer"])
        #expect(w.all.first?.address == GuestPhysicalAddress(Scenarios.dt + 8 * 8))
        #expect(w.rows == [[5, 0, 8192, 0]])  // DeviceID 65541 is not a route
    }

    @Test func aRuleOverItsCapSaysHowManyMore() throws {
        let w = try Scenarios.qemuLevel1Aliases(entries: 1100).walk()
        #expect(w.findings("l1-alias").count == Finding.maxPerRule)
        #expect(w.findings("findings-capped").count == 1)
        // The rule's id, not the Swift case name ("l1Alias").
        #expect(w.findings("findings-capped").map(\.message) == ["99 more l1-alias finding(s) not listed (1099 in all)"])
    }
}
