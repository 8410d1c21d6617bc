import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout
import ITSAnalysis

/// explain's lookups (found and not found), the route filters and the per-vCPU summary on the
/// real snapshots.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct LookupFilterTests {
    func open(_ stop: String) throws -> (Dump, Analysis) {
        let d = try Dump.open(try Fixtures.member(stop, "migration.bin"))
        return (d, try Fixtures.analyse(d.memory, try #require(d.registers), vcpus: d.vcpuCount))
    }

    @Test func theUnboundDeviceIsNotFoundAtItsClearedDTESlot() throws {
        let (d, a) = try open("kvm-prepost/b")
        // kvm-prepost/README.md: DTE slot of DeviceID 8 at 0x43530040, 0x0 at b (KVM cleared it).
        let l = try #require(Lookup.explain(a, memory: d.memory, device: DeviceID(8), event: EventID(0)).first)
        #expect(!l.found)
        let dte = try #require(l.steps.first { $0.step == "dte" })
        #expect(dte.address == GuestPhysicalAddress(0x4353_0040) && dte.raw == [0])
        #expect(l.steps.first { $0.step == "level-1" }?.raw == [0x8000_0000_4353_0000])
        #expect(l.reason == "the DTE's valid bit is clear: DeviceID 0x8 is not mapped")
        #expect(dte.text.hasSuffix("valid bit clear"))
    }

    @Test func anEventBeyondTheITTAndADeviceBeyondTheTableSayWhy() throws {
        let (d, a) = try open("kvm-prepost/b")
        // DeviceID 256 has a 1-bit ITT (2 entries) at b: DTE 0x820000000871aec0.
        let beyond = try #require(Lookup.explain(a, memory: d.memory, device: DeviceID(256), event: EventID(2)).first)
        #expect(!beyond.found && beyond.reason == "EventID 2 is beyond the ITT (2 entries)")
        #expect(beyond.steps.first { $0.step == "dte" }?.raw == [0x8200_0000_0871_aec0])
        // The device table reaches 2^16 DeviceIDs (GITS_TYPER.Devbits 16 for KVM's 0x1ef71).
        let far = try #require(Lookup.explain(a, memory: d.memory, device: DeviceID(0x10000), event: EventID(0)).first)
        #expect(!far.found && far.reason?.contains("beyond the device table") == true)
    }

    @Test func explainingADeviceExplainsAllItsEvents() throws {
        let (d, a) = try open("kvm-prepost/b")
        let all = Lookup.explain(a, memory: d.memory, device: DeviceID(16), event: nil)
        #expect(all.map(\.eventID?.rawValue) == [0, 1, 2, 3, 4] && all.allSatisfy(\.found))
        // README: DeviceID 16 EventIDs 0-4 are LPIs 8206-8210.
        #expect(all.map { $0.route?.lpi.rawValue } == [8206, 8207, 8208, 8209, 8210])
        #expect(Lookup.explain(a, lpi: LPI(8214)).map { [$0.deviceID.rawValue, $0.eventID?.rawValue ?? 99] } == [[256, 0]])
    }

    @Test(arguments: Fixtures.stops)
    func thePerVCPUSummaryCountsTheGroundTruthsRoutes(stop: String) throws {
        let (_, a) = try open(stop)
        var want: [Int: Int] = [:]
        for r in try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop)) { want[r[3], default: 0] += 1 }
        let got = VCPUSummary.of(a.routes)
        #expect(Dictionary(uniqueKeysWithValues: got.map { (Int($0.vcpu ?? 9999), $0.routed) }) == want)
        #expect(got.map(\.vcpu) == got.map(\.vcpu).sorted { ($0 ?? .max) < ($1 ?? .max) })
        // Every routed LPI of the fixtures is enabled (Linux enables each on request_irq).
        #expect(got.allSatisfy { $0.enabled == $0.routed })
    }

    @Test func filtersCombineAndMatchEitherSideOfAVerdict() throws {
        let (_, a) = try open("kvm-prepost/b")
        let names = { (r: RoutingGraph.Route) in DeviceIdentity.bdf(r.deviceID) }
        func count(_ f: RouteFilter) -> Int { a.routes.filter { f.matches($0, bdf: names($0), irq: nil) }.count }
        #expect(count(RouteFilter()) == 17)
        #expect(count(RouteFilter(devices: [DeviceID(24)])) == 5)
        #expect(count(RouteFilter(bdfs: ["00:03.0"])) == 5)
        // README: DeviceID 24 at b: vCPUs 2, 3, 0, 1, 2.
        #expect(count(RouteFilter(devices: [DeviceID(24)], vcpus: [2])) == 2)
        #expect(count(RouteFilter(lpis: [LPI(8214)])) == 1)
        #expect(count(RouteFilter(irqs: [36])) == 0, "no irq is known without --vmlinux")
        let (_, before) = try open("kvm-prepost/a")
        let d = RouteDiff.compare(before: before.tables, after: a.tables, graphsBefore: before.graphs, graphsAfter: a.graphs,
                                  registersBefore: before.registers, registersAfter: a.registers)
        let v = Verdicts.judge(diff: d, before: before, after: a)
        // vCPU 1 at a or b: 24/0 (1→2), 24/3 (0→1), 24/4 (1→2), 40/0 (0→1), 256/1 (1→3), 512/2 (0→1).
        let onOne = v.judgements.filter { RouteFilter(vcpus: [1]).matches($0, bdf: nil, irq: nil) }
        #expect(onOne.map { [$0.key.deviceID.rawValue, $0.key.eventID.rawValue] } == [[24, 0], [24, 3], [24, 4], [40, 0], [256, 1], [512, 2]])
    }
}

/// explain, the filters and the per-vCPU summary through the CLI, on the bundled kvm-prepost/b extract.
@Suite struct LookupFilterCLITests {
    static let b = ["fixtures/kvm-prepost/b/core.extract.elf", "--regs", "fixtures/kvm-prepost/b/its-regs.json"]

    @Test func explainingAKeyNotFoundExitsOneAndSaysWhatWasFound() throws {
        let r = try CLI.run(["explain"] + Self.b + ["--device", "8", "--event", "0", "--format", "json"])
        #expect(r.status == 1)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(top["found"] as? Bool == false)
        let l = try #require((top["lookups"] as? [[String: Any]])?.first)
        let dte = try #require((l["steps"] as? [[String: Any]])?.first { $0["step"] as? String == "dte" })
        // kvm-prepost/README.md: DeviceID 8's DTE slot 0x43530040 holds 0 at b.
        #expect(dte["address"] as? String == "0x43530040" && dte["raw"] as? [String] == ["0x0"])
        let text = try CLI.run(["explain"] + Self.b + ["--device", "8", "--event", "0"])
        #expect(text.status == 1 && text.stdout.contains("not routed — the DTE's valid bit is clear"))
    }

    @Test func explainingADeviceWithoutAnEventExplainsEachOfItsEvents() throws {
        let r = try CLI.run(["explain"] + Self.b + ["--device", "0x10", "--format", "json"])
        #expect(r.status == 0)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let lookups = try #require(top["lookups"] as? [[String: Any]])
        #expect(lookups.compactMap { $0["eventID"] as? Int } == [0, 1, 2, 3, 4])
        #expect(lookups.compactMap { ($0["route"] as? [String: Any])?["lpi"] as? Int } == [8206, 8207, 8208, 8209, 8210])
    }

    @Test func routesFiltersAndTheVCPUSummary() throws {
        let r = try CLI.run(["routes"] + Self.b + ["--bdf", "00:03.0", "--vcpu", "2", "--format", "json"])
        #expect(r.status == 0)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let routes = try #require(top["routes"] as? [[String: Any]])
        // README: DeviceID 24 (00:03.0) at b: EventIDs 0..4 on vCPUs 2, 3, 0, 1, 2.
        #expect(routes.compactMap { $0["eventID"] as? Int } == [0, 4])
        let vcpus = try #require(top["vcpus"] as? [[String: Any]])
        #expect(vcpus.count == 1 && vcpus.first?["vcpu"] as? Int == 2 && vcpus.first?["lpis"] as? Int == 2)
        // Unfiltered: DeviceID 16 (vCPUs 1, 0, 1, 2, 3) and the others give 17 LPIs on 4 vCPUs.
        let all = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["routes"] + Self.b + ["--format", "json"]).stdout.utf8)) as? [String: Any])
        #expect((all["vcpus"] as? [[String: Any]])?.compactMap { $0["lpis"] as? Int }.reduce(0, +) == 17)
        #expect(all["vcpuCount"] as? Int == 4)
    }
}
