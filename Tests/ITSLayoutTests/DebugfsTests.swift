import Testing
@testable import ITSLayout
import ITSAnalysis

/// KVM debugfs texts written by the tests after its-formats.md §4.
@Suite struct DebugfsTests {
    static let header = "Distributor\n===========\nvgic_model:\tGICv3\nnr_spis:\t256\nnr_lpis:\t3\nenabled:\t1\n\nP=pending_latch, L=line_level, A=active\nE=enabled, H=hw, C=config (level=1, edge=0)\nG=group\n"
    static func row(_ typ: String, _ id: Int, _ tgt: Int, _ flags: String, pri: Int = 160) -> String {
        let pad = { (s: String, n: Int) in String(repeating: " ", count: max(0, n - s.count)) + s }
        return "       \(typ) \(pad(String(id), 4))     \(pad(String(tgt), 2)) \(flags) \(pad("0", 8)) \(pad("0", 8))  \(pad("0", 2)) \(pad(String(pri), 3))      \(pad("-1", 2)) "
    }
    static let spiHeader = "\nSPI  0 TYP   ID TGT_ID PLAEHCG     HWID   TARGET SRC PRI VCPU_ID\n----------------------------------------------------------------\n"

    @Test func linux61WithFreedRows() {
        // ≤ 6.9: LPIs in list order after the SPIs, under the SPI header; "LPI n freed" possible.
        let text = Self.header + Self.spiHeader + Self.row("SPI", 32, 0, "0000100") + "\n"
            + Self.row("LPI", 8193, 2, "1001001", pri: 160) + "\n" + Self.row("LPI", 8192, 3, "0000001") + "\n"
            + "       LPI 8194 freed\n"
        #expect(VGICState.looksLike(text) && !VGICITSState.looksLike(text))
        let v = VGICState.parse(text)
        #expect(v.model == "GICv3" && v.nrSPIs == 256 && v.nrLPIs == 3 && v.enabled == true)
        #expect(v.lpis.map(\.intid) == [8193, 8192])
        #expect(v.lpis.map(\.targetVCPU) == [2, 3])
        #expect(v.lpis.map(\.pending) == [true, false] && v.lpis.map(\.enabled) == [true, false])
        #expect(v.lpis.map(\.priority) == [160, 160])
        #expect(v.freed == [8194])
    }

    @Test func linux610EndlessOutputIsCutWithANote() {
        var text = Self.header + Self.spiHeader
        for _ in 0..<10_000 { text += Self.row("SPI", 287, -1, "0000000") + "\n" }
        let v = VGICState.parse(text)
        #expect(v.lpis.isEmpty)
        #expect(v.notes.count == 1 && v.notes[0].contains("repeats endlessly"))
    }

    @Test func linux612AscendingLPIsWithNegativeTargets() {
        let text = Self.header + Self.spiHeader + Self.row("LPI", 8192, -1, "0000001") + "\n" + Self.row("LPI", 8200, 1, "0001001") + "\n"
        let v = VGICState.parse(text)
        #expect(v.lpis.map(\.intid) == [8192, 8200] && v.lpis.map(\.targetVCPU) == [-1, 1])
    }

    @Test func vgicITSStateRows() {
        let text = """

            Device ID: 0x8, Event ID Range: [0 - 7]
            EVENT_ID    INTID  HWINTID   TARGET   COL_ID HW
            -----------------------------------------------
                   0     8193        0        0        0  0
                   1     8194        0 4294967295        5  0

            Device ID: 0x6500, Event ID Range: [0 - 3]
            EVENT_ID    INTID  HWINTID   TARGET   COL_ID HW
            -----------------------------------------------
                   2     8201        0        3        3  0
            """
        #expect(VGICITSState.looksLike(text))
        let v = VGICITSState.parse(text)
        #expect(v.rows.map(\.deviceID) == [DeviceID(8), DeviceID(8), DeviceID(0x6500)])
        #expect(v.rows.map(\.lpi) == [LPI(8193), LPI(8194), LPI(8201)])
        #expect(v.rows[1].target == 0xFFFF_FFFF && v.rows[1].icid == ICID(5))
    }

    func route(_ d: UInt32, _ e: UInt32, lpi: UInt32, vcpu: UInt32?) -> RoutingGraph.Route {
        RoutingGraph.Route(itsIndex: 0, itsBase: nil, deviceID: DeviceID(d), eventID: EventID(e), lpi: LPI(lpi), icid: ICID(vcpu ?? 9),
                           target: vcpu.map(UInt64.init), vcpu: vcpu, enabled: true, priority: 0xA0, pending: false,
                           dteAddress: GuestPhysicalAddress(0), ittAddress: GuestPhysicalAddress(0),
                           iteAddress: GuestPhysicalAddress(0x1000 + UInt64(e) * 8), collectionAddress: nil)
    }

    @Test func expectedDiffComparesWhatEachViewExpresses() {
        let routes = [route(8, 0, lpi: 8193, vcpu: 0), route(8, 1, lpi: 8194, vcpu: 5)]
        let its = VGICITSState.parse("Device ID: 0x8, Event ID Range: [0 - 7]\n       0     8193        0        0        0  0\n       2     8300        0        1        1  0\n")
        let d = ExpectedDiff.against(its, routes: routes, ignoring: [])
        #expect(d.differences.map(\.kind) == [.onlyInTables, .onlyInExpected])
        let state = VGICState.parse(Self.header + Self.spiHeader + Self.row("LPI", 8193, 1, "1001001") + "\n" + Self.row("LPI", 8194, 5, "0001001") + "\n")
        let s = ExpectedDiff.against(state, routes: routes, ignoring: [])
        #expect(s.differences.map(\.field) == ["vcpu", "pending"])  // LPI 8193: vCPU 0 vs 1; pending false vs true
        #expect(ExpectedDiff.against(state, routes: routes, ignoring: [.vcpu, .pending]).differences.isEmpty)
    }
}

@Suite struct StateCheckTests {
    /// The state checks' findings of the whole analysis of `s`.
    func run(_ s: Scenario) throws -> [String] { try s.walk().analysis.stateFindings.map(\.rule) }

    func run(_ b: ImageBuilder, pend: [UInt64] = Scenarios.pendingTables, ctlr: UInt64 = 1) throws -> [String] {
        try run(Scenarios.withLPIRegisters(b, pend: pend, ctlr: ctlr))
    }

    func image(enabled: Bool = true, pendingLPI: UInt64? = nil, pendingCPU: Int = 1) -> ImageBuilder {
        Scenarios.lpiState(enabled: enabled, pendingLPI: pendingLPI, pendingCPU: pendingCPU)
    }

    @Test func aHealthyImageFiresNothing() throws { #expect(try run(image(pendingLPI: 8195, pendingCPU: 1)).isEmpty) }
    @Test func lpiDisabled() throws { #expect(try run(image(enabled: false)) == ["lpi-disabled"]) }
    @Test func pendingOnTheWrongVCPU() throws { #expect(try run(image(pendingLPI: 8195, pendingCPU: 0)) == ["pending-wrong-vcpu"]) }
    @Test func pendingWithoutRoute() throws { #expect(try run(image(pendingLPI: 9000)) == ["pending-unrouted"]) }
    @Test func sharedPendingTable() throws { #expect(try run(image(), pend: [0x4060_0000, 0x4060_0000]) == ["pendbaser-shared"]) }

    @Test func enabledITSWithEmptyTables() throws {
        let b = Scenarios.emptyTables()
        #expect(try run(b) == ["its-enabled-empty"])
        #expect(try run(b, ctlr: 0).isEmpty)
    }

    @Test func commandQueuePendingAndHistory() throws {
        let s = Scenarios.withWorkedExampleQueue(creadr: 16 * 32, cwriter: 18 * 32)
        var regs = s.its
        let image = s.builder.image
        let queue = try #require(CommandQueue.read(regs, memory: image))
        #expect(queue.slots == 128 && !queue.drained)
        #expect(queue.history.map(\.name) == ["MAPD", "MAPTI"])
        #expect(queue.pending.map(\.name) == ["SYNC", "MAPC"])
        #expect(queue.history[0].description == "DeviceID 0x8, V=1, ITT 0x40a00000, 5 EventID bits")
        #expect(queue.history[1].description == "DeviceID 0x8, EventID 0 → LPI 8192, ICID 2")
        #expect(queue.pending[1].description == "ICID 2 → RDbase 1, V=1")
        #expect(queue.findings.map(\.rule) == ["queue-not-drained"])
        let p = Provenance(.flag, "test")
        regs.cwriter = Sourced(GITSCommandOffset(rawValue: 16 * 32), p)
        #expect(CommandQueue.read(regs, memory: image)?.findings.isEmpty == true)
        regs.creadr = Sourced(GITSCommandOffset(rawValue: 0xF_FFE0), p)
        #expect(CommandQueue.read(regs, memory: image)?.findings.map(\.rule).contains("queue-pointer-out-of-range") == true)
    }

    @Test func aLiveEntryTheHistoryUnmappedIsAnError() throws {
        let f = try Scenarios.unmappedButLive().walk().analysis.stateFindings
        #expect(f.map(\.rule) == ["unmapped-but-live"] && f.first?.address == GuestPhysicalAddress(Scenarios.dt + 64))
        // Without the final MAPD V=0 nothing fires.
        #expect(try run(Scenarios.unmappedButLive(unmapped: false)).isEmpty)
    }
}
