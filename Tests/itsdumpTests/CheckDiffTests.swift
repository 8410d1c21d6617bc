import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout
import ITSAnalysis

/// `diff`, `check` and `diff --expected` on the real snapshots.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct CheckDiffTests {
    struct Expect: Hashable, Comparable {
        var kind: String
        var device: Int
        var event: Int
        var vcpu: Int?
        static func < (a: Expect, b: Expect) -> Bool { (a.device, a.event, a.kind) < (b.device, b.event, b.kind) }
    }

    /// What the two ground-truth files say changed, keyed by (DeviceID, EventID).
    static func groundTruthChanges(_ scenario: String) throws -> [Expect] {
        func rows(_ stop: String) throws -> [[Int]: [Int]] {
            var out: [[Int]: [Int]] = [:]
            for r in try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent("\(scenario)/\(stop)")) {
                out[[r[0], r[1]]] = [r[2], r[3]]
            }
            return out
        }
        let a = try rows("a"), b = try rows("b")
        var out: [Expect] = []
        for k in Set(a.keys).union(b.keys) {
            switch (a[k], b[k]) {
            case (_?, nil): out.append(Expect(kind: "removed", device: k[0], event: k[1], vcpu: nil))
            case (nil, let y?): out.append(Expect(kind: "added", device: k[0], event: k[1], vcpu: y[1]))
            case (let x?, let y?) where x != y: out.append(Expect(kind: "changed", device: k[0], event: k[1], vcpu: y[1]))
            default: break
            }
        }
        return out.sorted()
    }

    static func changes(_ d: RouteDiff) -> [Expect] {
        d.changes.map { c in
            Expect(kind: c.kind.rawValue, device: Int(c.key.deviceID.rawValue), event: Int(c.key.eventID.rawValue),
                   vcpu: c.after?.vcpu.map(Int.init))
        }.sorted()
    }

    func analyse(_ path: String, regs: RegisterState?) throws -> ([ITSTables], [RoutingGraph], RegisterState) {
        let d = try Dump.open(path)
        let r = try #require(regs ?? d.registers)
        let w = try Fixtures.walk(d.memory, r, vcpus: d.vcpuCount)
        return (w.tables, w.graphs, r)
    }

    @Test(arguments: ["kvm-prepost", "tcg-prepost"], ["migration.bin", "core.elf"])
    func diffOfThePrePostPairReportsExactlyTheGroundTruthChanges(scenario: String, member: String) throws {
        let useRegs = member == "core.elf"
        let a = try analyse(try Fixtures.member("\(scenario)/a", member), regs: useRegs ? try Fixtures.registers("\(scenario)/a") : nil)
        let b = try analyse(try Fixtures.member("\(scenario)/b", member), regs: useRegs ? try Fixtures.registers("\(scenario)/b") : nil)
        let d = RouteDiff.compare(before: a.0, after: b.0, graphsBefore: a.1, graphsAfter: b.1,
                                  registersBefore: a.2, registersAfter: b.2)
        let want = try Self.groundTruthChanges(scenario)
        #expect(!want.isEmpty)
        #expect(Self.changes(d) == want)
        #expect(d.collections.isEmpty)
    }

    @Test func theReboundDeviceIsMatchedByDeviceAndEventNotByLPI() throws {
        let a = try analyse(try Fixtures.member("kvm-prepost/a", "migration.bin"), regs: nil)
        let b = try analyse(try Fixtures.member("kvm-prepost/b", "migration.bin"), regs: nil)
        let d = RouteDiff.compare(before: a.0, after: b.0, graphsBefore: a.1, graphsAfter: b.1, registersBefore: a.2, registersAfter: b.2)
        // kvm-prepost/README.md: DeviceID 256 took over LPIs 8214/8215 (and the vCPUs 2/3) of DeviceID 8.
        let rebound = d.changes.filter { $0.key.deviceID == DeviceID(256) }
        #expect(rebound.map(\.kind) == [.changed, .changed])
        #expect(rebound.map { $0.after?.lpi.rawValue } == [8214, 8215] && rebound.map { $0.before?.lpi.rawValue } == [8216, 8217])
        #expect(d.changes.filter { $0.key.deviceID == DeviceID(8) }.map(\.kind) == [.removed, .removed])
        // --ignore vcpu,icid leaves only the presence and LPI changes.
        let narrow = RouteDiff.compare(before: a.1.flatMap(\.routes), after: b.1.flatMap(\.routes), ignoring: [.vcpu, .icid])
        #expect(narrow.count == 4)
    }

    @Test func theCLIDiffExitsOneOnDifferencesAndZeroOnItself() throws {
        let a = try Fixtures.member("kvm-prepost/a", "migration.bin"), b = try Fixtures.member("kvm-prepost/b", "migration.bin")
        let r = try CLI.run(["diff", a, b, "--format", "json"])
        #expect(r.status == 1)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let changes = try #require(top["changes"] as? [[String: Any]])
        #expect(changes.count == 14)
        let removed = try #require(changes.first { ($0["deviceID"] as? Int) == 8 })
        #expect(removed["kind"] as? String == "removed" && removed["after"] is NSNull)
        #expect((removed["before"] as? [String: Any])?["lpi"] as? Int == 8214)
        let same = try CLI.run(["diff", a, a])
        #expect(same.status == 0 && same.stdout.contains("no differences"))
        let cores = try CLI.run(["diff", try Fixtures.member("tcg-prepost/a", "core.elf"), try Fixtures.member("tcg-prepost/b", "core.elf"),
                                 "--regs-a", Fixtures.shared.appendingPathComponent("tcg-prepost/a/its-regs.json").path,
                                 "--regs-b", Fixtures.shared.appendingPathComponent("tcg-prepost/b/its-regs.json").path, "--format", "json"])
        #expect(cores.status == 1)
        // The guest kernel's records give each core's registers: the same changes.
        let kernel = try CLI.run(["diff", try Fixtures.member("tcg-prepost/a", "core.elf"), try Fixtures.member("tcg-prepost/b", "core.elf"),
                                  "--vmlinux", try Fixtures.vmlinux.get(), "--format", "json"])
        #expect(kernel.status == 1, "\(kernel.stderr)")
        func changeList(_ s: String) throws -> NSArray {
            try #require((try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])?["changes"] as? NSArray)
        }
        #expect(try changeList(kernel.stdout).count > 0 && changeList(kernel.stdout).isEqual(try changeList(cores.stdout)))
        // With no register source and no --vmlinux, the zero-configuration path (issue 20).
        let zero = try CLI.run(["diff", try Fixtures.member("tcg-prepost/a", "core.elf"), try Fixtures.member("tcg-prepost/b", "core.elf"), "--format", "json"])
        #expect(zero.status == 1, "\(zero.stderr)")
        #expect(try changeList(zero.stdout).isEqual(try changeList(cores.stdout)))
        // A side that has nothing to give registers: one message, the ways listed.
        let noRegs = try CLI.run(["diff", "fixtures/tcg-basic/ground-truth.json@0x40000000", b])
        #expect(noRegs.status == 2 && noRegs.stderr.contains("no ITS registers") && noRegs.stderr.contains("--regs FILE.json"), "\(noRegs.stderr)")
    }

    @Test(arguments: ["kvm-basic", "kvm-sparse", "kvm-prepost/a", "kvm-prepost/b"])
    func kvmsOwnViewAgreesWithTheTables(stop: String) throws {
        let (_, graphs, _) = try analyse(try Fixtures.member(stop, "migration.bin"), regs: nil)
        let text = try String(contentsOf: Fixtures.shared.appendingPathComponent("\(stop)/vgic-state.txt"), encoding: .utf8)
        let v = VGICState.parse(text)
        #expect(v.model == "GICv3" && v.lpis.count == v.nrLPIs && v.lpis.count == graphs.flatMap(\.routes).count)
        let d = ExpectedDiff.against(v, routes: graphs.flatMap(\.routes), ignoring: [])
        #expect(d.differences.isEmpty, "\(d.differences)")
    }

    /// Writes `text` as an expected-state file beside `core`, runs `diff --expected` on it with
    /// JSON output, expects exit 1, and returns the differences.
    func diffAgainstCopy(core: String, regs: String, name: String, _ text: String) throws -> [[String: Any]] {
        let url = URL(fileURLWithPath: core).deletingLastPathComponent().appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        let r = try CLI.run(["diff", core, "--regs", regs, "--expected", url.path, "--format", "json"])
        #expect(r.status == 1)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require(top["differences"] as? [[String: Any]])
    }

    @Test func aChangedTargetInVGICStateIsReportedWithExitOne() throws {
        let core = try Fixtures.member("kvm-basic", "core.elf")
        let regs = Fixtures.shared.appendingPathComponent("kvm-basic/its-regs.json").path
        let text = try String(contentsOf: Fixtures.shared.appendingPathComponent("kvm-basic/vgic-state.txt"), encoding: .utf8)
        let ok = try CLI.run(["diff", core, "--regs", regs, "--expected", Fixtures.shared.appendingPathComponent("kvm-basic/vgic-state.txt").path])
        #expect(ok.status == 0 && ok.stdout.contains("no differences"))
        // LPI 8195 targets vCPU 2; the copy says 0.
        let edited = text.replacingOccurrences(of: "       LPI 8195      2 ", with: "       LPI 8195      0 ")
        #expect(edited != text)
        let diffs = try diffAgainstCopy(core: core, regs: regs, name: "vgic-state-edited.txt", edited)
        #expect(diffs.count == 1)
        #expect(diffs.first?["lpi"] as? Int == 8195 && diffs.first?["field"] as? String == "vcpu")
        #expect(diffs.first?["tables"] as? String == "2" && diffs.first?["expected"] as? String == "0")
    }

    /// Route-row JSON (the fixtures' ground truth: an `interrupts` array) read by the tool's own
    /// JSON parser: no difference on the real file, exactly the edited row on a copy.
    @Test func groundTruthJSONAsExpectedState() throws {
        let core = try Fixtures.member("tcg-basic", "core.elf")
        let regs = Fixtures.shared.appendingPathComponent("tcg-basic/its-regs.json").path
        let truth = Fixtures.shared.appendingPathComponent("tcg-basic/ground-truth.json")
        let ok = try CLI.run(["diff", core, "--regs", regs, "--expected", truth.path])
        #expect(ok.status == 0 && ok.stdout.contains("no differences"), "\(ok.stdout)")
        // Device 8 event 1 (LPI 8195) is on vCPU 3; the copy says 1.
        let text = try String(contentsOf: truth, encoding: .utf8)
        let row = #""deviceID": 8,\s*"eventID": 1,\s*"lpi": 8195,\s*"vcpu": 3"#
        let edited = text.replacingOccurrences(of: row, with: #""deviceID": 8, "eventID": 1, "lpi": 8195, "vcpu": 1"#, options: .regularExpression)
        #expect(edited != text)
        let diffs = try diffAgainstCopy(core: core, regs: regs, name: "ground-truth-edited.json", edited)
        #expect(diffs.count == 1)
        #expect(diffs.first?["deviceID"] as? Int == 8 && diffs.first?["eventID"] as? Int == 1)
        #expect(diffs.first?["expected"] as? String == "1" && diffs.first?["tables"] as? String == "3")
        // Not JSON at all: one clear message, exit 2.
        let url = URL(fileURLWithPath: core).deletingLastPathComponent().appendingPathComponent("ground-truth-edited.json")
        try Data("{\"interrupts\": [1,]}".utf8).write(to: url)
        let bad = try CLI.run(["diff", core, "--regs", regs, "--expected", url.path])
        #expect(bad.status == 2 && bad.stderr.contains("not JSON: unexpected character at byte 18"), "\(bad.stderr)")
    }

    @Test(arguments: Fixtures.stops)
    func checkFindsNoErrorOnAHealthySnapshot(stop: String) throws {
        let r = try CLI.run(["check", try Fixtures.member(stop, "migration.bin"), "--format", "json"])
        #expect(r.status == 0, "\(r.stdout)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let findings = try #require(top["findings"] as? [[String: Any]])
        #expect(findings.allSatisfy { $0["severity"] as? String != "error" })
        // Freshness as enumerations (the prose is in "text"): every real stop drained its queue.
        let fresh = try #require((top["freshness"] as? [[String: Any]])?.first)
        #expect(fresh["queue"] as? String == "drained")
        #expect(fresh["tablesWrittenBy"] as? String == (stop.hasPrefix("kvm") ? "kvm-save" : "qemu-live"))
        #expect((fresh["text"] as? [String: Any])?["queue"] as? String != nil)
    }

    /// Copies a bundled extract and rewrites the 8-byte word at guest PA `gpa` (through its PT_LOAD).
    func patchedExtract(_ stop: String, gpa: UInt64, _ change: (UInt64) -> UInt64) throws -> String {
        let src = Fixtures.bundled.appendingPathComponent("\(stop)/core.extract.elf").path
        let core = try ELFCore(file: MappedFile(path: src))
        let seg = try #require(core.segments.first { $0.physicalAddress <= gpa && gpa < $0.physicalAddress + $0.fileSize })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: src)))
        let off = Int(seg.fileOffset + (gpa - seg.physicalAddress))
        let v = change(bytes.loadLE(at: off, count: 8))
        for i in 0..<8 { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-patched-\(UUID().uuidString).elf")
        try Data(bytes).write(to: out)
        return out.path
    }

    @Test(arguments: [("kvm-basic", UInt64(0x4340_4608)), ("tcg-basic", UInt64(0x42F6_160C))])
    func anITEWhoseICIDHasNoCollectionIsAnErrorAtItsAddress(stop: String, ite: UInt64) throws {
        // kvm-basic: device 8 event 1 (0x0001000020020001); tcg-basic: device 8 event 1 (ICID in ITE_L[47:32]).
        let path = try patchedExtract(stop, gpa: ite) { v in
            stop.hasPrefix("kvm") ? (v & ~0xFFFF) | 9 : (v & ~(UInt64(0xFFFF) << 32)) | (9 << 32)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try CLI.run(["check", path, "--regs", Fixtures.bundled.appendingPathComponent("\(stop)/its-regs.json").path, "--format", "json"])
        #expect(r.status == 1)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let errors = try #require(top["findings"] as? [[String: Any]]).filter { $0["severity"] as? String == "error" }
        #expect(errors.contains { $0["rule"] as? String == "collection-missing" && $0["address"] as? String == hex(ite)
            && $0["icid"] as? Int == 9 && $0["deviceID"] as? Int == 8 && $0["eventID"] as? Int == 1 })
    }

    @Test func explainWalksEveryStepWithAddresses() throws {
        let r = try CLI.run(["explain", "fixtures/kvm-sparse/core.extract.elf", "--regs", "fixtures/kvm-sparse/its-regs.json",
                             "--device", "0x6500", "--event", "1"])
        #expect(r.status == 0)
        for line in ["level-1 entry 3 at 0x425a0018 = 0x80000000439d0000", "DTE at 0x439d2800 = 0xfffe0000085ba841",
                     "reached by KVM's restore walk", "ITE at 0x42dd4208 = 0x0001000020080002", "LPI 8200, ICID 2",
                     "CTE for ICID 2 at 0x425b0010", "target: vCPU 2", "property byte at 0x425c0008", "pending bit: byte 0x425f0401 bit 0"] {
            #expect(r.stdout.contains(line), "missing: \(line)")
        }
        let byLPI = try CLI.run(["explain", "fixtures/kvm-sparse/core.extract.elf", "--regs", "fixtures/kvm-sparse/its-regs.json", "--lpi", "8200"])
        #expect(byLPI.stdout.contains("DeviceID 0x6500 EventID 1"))
    }

    @Test func queueDecodesTheRing() throws {
        let r = try CLI.run(["queue", try Fixtures.member("kvm-basic", "migration.bin"), "--last", "200", "--format", "json"])
        #expect(r.status == 0)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let q = try #require((top["queues"] as? [[String: Any]])?.first)
        #expect(q["readSlot"] as? Int == 81 && q["writeSlot"] as? Int == 81)  // CREADR = CWRITER = 0xa20
        let commands = try #require(q["commands"] as? [[String: Any]])
        #expect(commands.count == 81)
        // The guest mapped every device it routes: a MAPD V=1 for each DeviceID of kvm-basic.
        let mapd = Set(commands.filter { $0["command"] as? String == "MAPD" }.compactMap { $0["deviceID"] as? Int })
        #expect(mapd.isSuperset(of: [8, 16, 24, 32, 256]))
        // Every MAPTI names a (DeviceID, EventID) of the ground truth.
        let gt = Set(try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent("kvm-basic")).map { [$0[0], $0[1]] })
        let mapti = commands.filter { $0["command"] as? String == "MAPTI" }.compactMap { c -> [Int]? in
            guard let d = c["deviceID"] as? Int, let e = c["eventID"] as? Int else { return nil }
            return [d, e]
        }
        #expect(!mapti.isEmpty && Set(mapti).isSubset(of: gt))
    }
}
