import Foundation
import ITSAnalysis
import Testing
import TextFormats

/// Review of the filters and debugfs inputs merged with issue 22 (hostile and newcomer use).
@Suite struct ReviewArgumentTests {
    /// `--bdf` takes a PCI address in hex with or without leading zeros; half an address or a
    /// device/function out of range is refused instead of silently matching nothing.
    @Test func bdfIsParsedNotJustSplit() {
        #expect(RouteFilter.canonicalBDF("1:0.0") == "0000:01:00.0")
        #expect(RouteFilter.canonicalBDF("00:02.0") == "0000:00:02.0")
        #expect(RouteFilter.canonicalBDF("0000:00:1F.7") == "0000:00:1f.7")
        #expect(RouteFilter.canonicalBDF("1:2:3.4") == "0001:02:03.4")
        for bad in ["00:01", "0000:00:01", "00:20.0", "00:01.8", "100:00.0", "a:b:c:d.0", ":01.0", "00:01.", "zz"] {
            #expect(RouteFilter.canonicalBDF(bad) == nil, "\(bad)")
        }
    }

    /// kvm-basic's DeviceID 8 is 00:01.0: `--bdf 0:1.0` selects its five routes (ground-truth.json: LPIs 8193–8197).
    @Test func shortBDFSelectsTheDevice() throws {
        let r = try CLI.run(["routes", "fixtures/kvm-basic/core.extract.elf", "--format", "json", "--bdf", "0:1.0"])
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let routes = try #require(top["routes"] as? [[String: Any]])
        #expect(routes.map { $0["lpi"] as? Int } == [8193, 8194, 8195, 8196, 8197])
        #expect(routes.allSatisfy { $0["bdf"] as? String == "0000:00:01.0" })
    }

    /// Negative numbers reach validation ("not a number") instead of "Missing value"; an LPI
    /// below 8192 and half a BDF are refused; all exit 2 with one message.
    @Test func oddFilterValuesAreRefusedClearly() throws {
        for args in [["--device", "-1"], ["--vcpu", "-1"], ["--lpi", "-1"], ["--irq", "-5"]] {
            let r = try CLI.run(["routes", "fixtures/kvm-basic/core.extract.elf"] + args)
            #expect(r.status == 2, "\(args)")
            #expect(!r.stderr.contains("Missing value") && r.stderr.contains(args[1]), "\(args): \(r.stderr)")
        }
        for args in [["--lpi", "100"], ["--bdf", "00:01"], ["--bdf", "00:01.8"]] {
            let r = try CLI.run(["routes", "fixtures/kvm-basic/core.extract.elf"] + args)
            #expect(r.status == 2 && r.stdout.isEmpty, "\(args)")
            #expect(r.stderr.contains(args[1]), "\(args): \(r.stderr)")
        }
    }

    /// A binary file (an ELF core given as --debugfs-b by mistake: its guest RAM holds
    /// "vgic_model:" from a cached kvm.ko) is no debugfs text; the fixture's vgic-state is.
    @Test func debugfsTextHasNoNUL() throws {
        let real = try String(contentsOf: Fixtures.shared.appendingPathComponent("kvm-prepost/b/vgic-state.txt"), encoding: .utf8)
        #expect(VGICState.looksLike(real))
        #expect(!VGICState.looksLike("\u{7F}ELF\u{2}\u{1}\u{1}\u{0}" + real))
        #expect(!VGICITSState.looksLike("\u{0}Device ID: 0x8\nEVENT_ID\n"))
        #expect(VGICITSState.looksLike("Device ID: 0x8\nEVENT_ID\n"))
    }
}

/// `diff A B` with a filter counts, and exits on, only the route changes it selects (kvm-prepost:
/// DeviceID 0x10, virtio-blk with managed queues, did not change between a and b; DeviceID 0x18
/// moved its 5 MSIs: its README).
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct ReviewDiffFilterTests {
    func diff(_ filters: [String]) throws -> (status: Int32, changes: [[String: Any]]) {
        let scenario = Fixtures.shared.appendingPathComponent("kvm-prepost")
        let r = try CLI.run(["diff", try Fixtures.member("kvm-prepost/a", "core.elf"), try Fixtures.member("kvm-prepost/b", "core.elf"),
                             "--regs-a", scenario.appendingPathComponent("a/its-regs.json").path,
                             "--regs-b", scenario.appendingPathComponent("b/its-regs.json").path, "--format", "json"] + filters)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        return (r.status, try #require(top["changes"] as? [[String: Any]], "\(top.keys)"))
    }

    @Test func diffFiltersChooseTheChangesAndTheExitStatus() throws {
        let all = try diff([])
        #expect(all.status == 1 && all.changes.count == 14)
        let unchanged = try diff(["--device", "0x10"])
        #expect(unchanged.status == 0 && unchanged.changes.isEmpty)
        let moved = try diff(["--device", "0x18"])
        #expect(moved.status == 1 && moved.changes.count == 5)
    }
}

/// `diff --expected` with a "routes" array none of whose elements is a route row was read as
/// "expect no route" (19 unexplained verdicts, exit 1); it is refused, saying why.
@Test func routeArrayWithoutRowsIsRefused() throws {
    for (text, count) in [(#"{"routes": [5]}"#, 1), (#"{"routes": [{"x": 1}, {"deviceID": "8", "eventID": 0}]}"#, 2)] {
        #expect(throws: JSONParseError.self) { try ExpectedRow.stream(Array(text.utf8)) }
        do { _ = try ExpectedRow.stream(Array(text.utf8)) } catch {
            #expect(error.reason.contains("none of the array's \(count) element(s) is a route row"), "\(error)")
            #expect(ExpectedRow.mismatch(Array(text.utf8), error).hasPrefix("route JSON whose rows cannot be used"))
        }
    }
    // One usable row among junk is still read (elements that are no rows are skipped).
    #expect(try ExpectedRow.stream(Array(#"{"routes": [5, {"deviceID": 8, "eventID": 1}]}"#.utf8)).map(\.deviceID) == [8])
    #expect(try ExpectedRow.stream(Array(#"{"routes": []}"#.utf8)).isEmpty)
}
