import Foundation
import Testing
import ITSAnalysis

/// KVM's debugfs as a view inside `diff A B` (issue 19, view 4): `--debugfs-b` decides like the
/// guest driver's records, `--debugfs-a` is evidence of what KVM held at A.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct DiffDebugfsTests {
    static let scenario = Fixtures.shared.appendingPathComponent("kvm-prepost")

    func diff(debugfsA: String?, debugfsB: String?) throws -> (status: Int32, verdicts: [[Int]: [String: Any]]) {
        var args = ["diff", try Fixtures.member("kvm-prepost/a", "core.elf"), try Fixtures.member("kvm-prepost/b", "core.elf"),
                    "--regs-a", Self.scenario.appendingPathComponent("a/its-regs.json").path,
                    "--regs-b", Self.scenario.appendingPathComponent("b/its-regs.json").path, "--format", "json"]
        if let debugfsA { args += ["--debugfs-a", debugfsA] }
        if let debugfsB { args += ["--debugfs-b", debugfsB] }
        let r = try CLI.run(args)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        var out: [[Int]: [String: Any]] = [:]
        for v in try #require(top["verdicts"] as? [[String: Any]]) {
            out[[try #require(v["deviceID"] as? Int), try #require(v["eventID"] as? Int)]] = v
        }
        return (r.status, out)
    }

    static func debugfsEvidence(_ v: [String: Any]?) -> [[String: Any]] {
        ((v?["evidence"] as? [[String: Any]]) ?? []).filter { $0["view"] as? String == "debugfs" }
    }

    /// Both stops' vgic-state.txt agree with their tables: every verdict stays what the
    /// README's changes make it, and each carries both debugfs views' word.
    @Test func bothSidesDebugfsJoinEveryVerdictAndChangeNone() throws {
        let r = try diff(debugfsA: Self.scenario.appendingPathComponent("a/vgic-state.txt").path,
                         debugfsB: Self.scenario.appendingPathComponent("b/vgic-state.txt").path)
        #expect(r.status == 1)
        let want = try VerdictTests.expectedVerdicts("kvm-prepost")
        #expect(Set(r.verdicts.keys) == Set(want.keys))
        for (k, v) in want {
            let got = r.verdicts[k]
            #expect(got?["verdict"] as? String == v.rawValue, "\(k)")
            let texts = Self.debugfsEvidence(got).compactMap { $0["text"] as? String }
            #expect(texts.contains { $0.hasPrefix("vgic-state of A ") } && texts.contains { $0.hasPrefix("vgic-state of B ") }, "\(k): \(texts)")
        }
        // DeviceID 8 (unbound): KVM held its LPIs at A, not at B.
        let unbound = Self.debugfsEvidence(r.verdicts[[8, 0]])
        #expect(unbound.map { $0["holds"] as? Bool } == [false, true])
    }

    /// B's vgic-state edited to say LPI 8194 (DeviceID 0x18, event 0, moved by MOVI to vCPU 2)
    /// targets vCPU 1: B's debugfs now disagrees with B's tables, and the key is no longer a
    /// plain guest-moved; A's debugfs alone, which is evidence only, changes no verdict.
    @Test func bsDebugfsDisagreeingWithBsTablesDecidesAVerdict() throws {
        let original = try String(contentsOf: Self.scenario.appendingPathComponent("b/vgic-state.txt"), encoding: .utf8)
        let line = try #require(original.split(separator: "\n").first { $0.hasPrefix("       LPI 8194      2 ") })
        let edited = original.replacingOccurrences(of: String(line), with: String(line).replacingOccurrences(of: "LPI 8194      2 ", with: "LPI 8194      1 "))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-vgic-b-\(getpid()).txt")
        try edited.write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }

        let plain = try diff(debugfsA: nil, debugfsB: nil)
        #expect(plain.verdicts[[0x18, 0]]?["verdict"] as? String == "guest-moved")
        let r = try diff(debugfsA: nil, debugfsB: path.path)
        let j = r.verdicts[[0x18, 0]]
        // The queue's MOVI agrees with the tables, B's debugfs does not: nothing decides.
        #expect(j?["verdict"] as? String == "unexplained")
        #expect(Self.debugfsEvidence(j).first?["vcpu"] as? Int == 1)
        #expect((j?["summary"] as? String)?.contains(": another vcpu in vgic-state of B, the queue's in the tables") == true)
        // The same file given as A's view is evidence only.
        let asA = try diff(debugfsA: path.path, debugfsB: nil)
        #expect(asA.verdicts.mapValues { $0["verdict"] as? String } == plain.verdicts.mapValues { $0["verdict"] as? String })
    }

    @Test func debugfsFilesNeedTwoDumpsAndADebugfsText() throws {
        let one = try CLI.run(["diff", try Fixtures.member("kvm-prepost/b", "core.elf"), "--expected", "guest-kernel",
                               "--debugfs-b", Self.scenario.appendingPathComponent("b/vgic-state.txt").path])
        #expect(one.status == 2 && one.stderr.contains("--debugfs-a/--debugfs-b join KVM's debugfs into diff A B"))
        let notText = try diff2(debugfsB: Self.scenario.appendingPathComponent("b/its-regs.json").path)
        #expect(notText.status == 2 && notText.stderr.contains("not a KVM debugfs vgic-state or vgic-its-state text"))
    }

    func diff2(debugfsB: String) throws -> (status: Int32, stderr: String) {
        let r = try CLI.run(["diff", try Fixtures.member("kvm-prepost/a", "core.elf"), try Fixtures.member("kvm-prepost/b", "core.elf"),
                             "--regs-a", Self.scenario.appendingPathComponent("a/its-regs.json").path,
                             "--regs-b", Self.scenario.appendingPathComponent("b/its-regs.json").path, "--debugfs-b", debugfsB])
        return (r.status, r.stderr)
    }
}

/// `diff A B` of two ELF cores with no flag: each side's registers come from its guest kernel
/// (zero configuration), and B's driver records join the verdicts as with --vmlinux.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct ZeroConfigDiffTests {
    @Test func diffOfTwoCoresWithNoFlagJoinsBsDriverRecords() throws {
        let r = try CLI.run(["diff", try Fixtures.member("kvm-prepost/a", "core.elf"), try Fixtures.member("kvm-prepost/b", "core.elf"),
                             "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try #require(top["verdicts"] as? [[String: Any]])
        let want = try VerdictTests.expectedVerdicts("kvm-prepost")
        var got: [[Int]: String] = [:]
        for v in rows { got[[try #require(v["deviceID"] as? Int), try #require(v["eventID"] as? Int)]] = v["verdict"] as? String }
        #expect(got == want.mapValues(\.rawValue))
        #expect(top["lost"] as? Bool == false)
        // Every verdict carries the driver's word: DeviceID 8's events freed, the others held.
        for v in rows {
            let driver = ((v["evidence"] as? [[String: Any]]) ?? []).filter { $0["view"] as? String == "driver" }
            #expect(driver.count == 1)
            #expect(driver.first?["holds"] as? Bool == (v["deviceID"] as? Int != 8))
        }
    }
}
