import Foundation
import GuestKernel
import KernelDWARF
import Testing
@testable import CoreDumpReader
@testable import ITSLayout
import ITSAnalysis

/// A real dump with some guest-physical bytes replaced: the "built copy of a real core" of the
/// verdict tests (a cleared ITE, a cleared DTE valid bit, a retargeted collection, a freed
/// device written back).
struct PatchedMemory: GuestMemory {
    let base: any GuestMemory
    let patches: [(address: UInt64, bytes: [UInt8])]

    var presentRanges: [GuestRange] { base.presentRanges }

    func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        guard case .bytes(var b) = base.read(address, count: count) else { return base.read(address, count: count) }
        let start = address.rawValue
        for p in patches {
            for (i, byte) in p.bytes.enumerated() {
                let a = p.address + UInt64(i)
                if a >= start && a < start + UInt64(b.count) { b[Int(a - start)] = byte }
            }
        }
        return .bytes(b)
    }

    static func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct VerdictTests {
    func analyse(_ stop: String, _ member: String) throws -> Analysis {
        let d = try Dump.open(try Fixtures.member(stop, member))
        let regs = try #require(member == "core.elf" ? try Fixtures.registers(stop) : d.registers)
        return try Fixtures.analyse(d.memory, regs, vcpus: d.vcpuCount)
    }

    func driver(_ stop: String, memory: (any GuestMemory)? = nil) throws -> DriverView {
        let d = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let info: VMCOREINFO
        if let pairs = d.vmcoreinfo {
            info = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
        } else {
            info = try #require(VMCOREINFO.scan(d.memory))
        }
        let m = memory ?? d.memory
        return try DriverWalker.walk(types: try DWARFKernelTypes(path: try Fixtures.vmlinux.get()),
                                     space: try KernelAddressSpace(info, memory: m), memory: m, cpus: d.vcpuCount)
    }

    /// The verdict each ground-truth change must get, from the fixtures' READMEs: an interrupt
    /// gone with its device (unbound) is `guest-unmapped`; one whose LPI changed (the device was
    /// unbound and bound again, new ITT) is `remapped`; one whose vCPU alone changed (written to
    /// smp_affinity_list: MOVI) is `guest-moved`.
    static func expectedVerdicts(_ scenario: String) throws -> [[Int]: Verdict] {
        func rows(_ stop: String) throws -> [[Int]: [Int]] {
            var out: [[Int]: [Int]] = [:]
            for r in try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent("\(scenario)/\(stop)")) { out[[r[0], r[1]]] = [r[2], r[3]] }
            return out
        }
        let a = try rows("a"), b = try rows("b")
        var out: [[Int]: Verdict] = [:]
        for k in Set(a.keys).union(b.keys) {
            switch (a[k], b[k]) {
            case (_?, nil): out[k] = .guestUnmapped
            case (nil, _?): out[k] = .guestMapped
            case (let x?, let y?) where x[0] != y[0]: out[k] = .remapped
            case (let x?, let y?) where x[1] != y[1]: out[k] = .guestMoved
            default: break
            }
        }
        return out
    }

    static func verdicts(_ v: Verdicts) -> [[Int]: Verdict] {
        Dictionary(uniqueKeysWithValues: v.judgements.map { ([Int($0.key.deviceID.rawValue), Int($0.key.eventID.rawValue)], $0.verdict) })
    }

    @Test(arguments: ["kvm-prepost", "tcg-prepost"], ["migration.bin", "core.elf"])
    func everyPrePostChangeGetsTheVerdictTheREADMEExplains(scenario: String, member: String) throws {
        let a = try analyse("\(scenario)/a", member), b = try analyse("\(scenario)/b", member)
        let d = RouteDiff.compare(before: a.tables, after: b.tables, graphsBefore: a.graphs, graphsAfter: b.graphs,
                                  registersBefore: a.registers, registersAfter: b.registers)
        let v = Verdicts.judge(diff: d, before: a, after: b)
        let want = try Self.expectedVerdicts(scenario)
        #expect(!want.isEmpty)
        #expect(Self.verdicts(v) == want)
        #expect(!v.anyLost)
        // Every guest-unmapped key names the MAPD V=0 of its device: its raw words say so.
        for j in v.judgements where j.verdict == .guestUnmapped {
            let q = try #require(j.evidence.first { $0.view == .queue })
            let w = try #require(q.words)
            #expect(w[0] & 0xFF == 0x08 && w[0] >> 32 == UInt64(j.key.deviceID.rawValue) && w[2] >> 63 == 0)
            #expect(q.command == "MAPD" && q.state == "processed")
        }
        // Every remapped key gives both ITTs: the one before and the one the queue's MAPD V=1 set.
        for j in v.judgements where j.verdict == .remapped {
            let before = try #require(j.before?.ittAddress), after = try #require(j.tables?.ittAddress)
            #expect(before != after)
            #expect(j.evidence.contains { $0.view == .otherSnapshot && $0.ittAddress == before })
            #expect(j.evidence.contains { $0.view == .queue && $0.command == "MAPD" && $0.ittAddress == after })
        }
        // Every guest-moved key names the MOVI that put it in its new collection.
        for j in v.judgements where j.verdict == .guestMoved {
            let q = try #require(j.evidence.first { $0.view == .queue })
            #expect(q.command == "MOVI" && q.icid == j.tables?.icid)
        }
    }

    @Test func theUnboundKVMDeviceIsGuestUnmappedBySlot117AndTheReboundOneHasBothITTs() throws {
        let a = try analyse("kvm-prepost/a", "migration.bin"), b = try analyse("kvm-prepost/b", "migration.bin")
        let d = RouteDiff.compare(before: a.tables, after: b.tables, graphsBefore: a.graphs, graphsAfter: b.graphs,
                                  registersBefore: a.registers, registersAfter: b.registers)
        let v = Verdicts.judge(diff: d, before: a, after: b)
        // kvm-prepost/README.md and issue 19: the guest's MAPD V=0 of DeviceID 8 is in slot 117.
        for j in v.judgements where j.key.deviceID == DeviceID(8) {
            #expect(j.verdict == .guestUnmapped)
            #expect(j.evidence.first { $0.view == .queue }?.slot == 117)
        }
        // README: the old ITT of DeviceID 256 at 0x43995400, the new one at 0x438d7600.
        for j in v.judgements where j.key.deviceID == DeviceID(256) {
            #expect(j.verdict == .remapped)
            #expect(j.before?.ittAddress == GuestPhysicalAddress(0x4399_5400) && j.tables?.ittAddress == GuestPhysicalAddress(0x438d_7600))
        }
    }

    @Test(arguments: ["kvm-prepost", "tcg-prepost"])
    func withTheDriverOfBTheMovesAndUnbindsAgreeWithItsRecords(scenario: String) throws {
        let a = try analyse("\(scenario)/a", "core.elf"), b = try analyse("\(scenario)/b", "core.elf")
        let d = RouteDiff.compare(before: a.tables, after: b.tables, graphsBefore: a.graphs, graphsAfter: b.graphs,
                                  registersBefore: a.registers, registersAfter: b.registers)
        let v = Verdicts.judge(diff: d, before: a, after: b, intents: [.driver(try driver("\(scenario)/b"))])
        #expect(Self.verdicts(v) == (try Self.expectedVerdicts(scenario)))
        for j in v.judgements where j.verdict == .guestUnmapped {
            #expect(j.evidence.contains { $0.view == .driver && $0.holds == false })
        }
        for j in v.judgements where j.verdict == .guestMoved || j.verdict == .remapped {
            #expect(j.evidence.contains { $0.view == .driver && $0.holds == true && $0.vcpu == j.tables?.vcpu })
        }
    }

    @Test(arguments: Fixtures.stops)
    func everyRealStopIsConsistentWithItsQueueAndItsDriver(stop: String) throws {
        let s = try analyse(stop, "migration.bin")
        #expect(Verdicts.judge(s).differing.map(\.summary) == [])
        let c = try analyse(stop, "core.elf")
        let v = Verdicts.judge(c, intents: [.driver(try driver(stop))])
        #expect(v.differing.map(\.summary) == [])
        #expect(v.judgements.count == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))).count)
    }

    // MARK: built copies of kvm-prepost/b

    func patchedB(_ patches: (Analysis) throws -> [(address: UInt64, bytes: [UInt8])]) throws -> (Analysis, Analysis, DriverView) {
        let dump = try Dump.open(try Fixtures.member("kvm-prepost/b", "core.elf"))
        let regs = try Fixtures.registers("kvm-prepost/b")
        let original = try Fixtures.analyse(dump.memory, regs, vcpus: dump.vcpuCount)
        let memory = PatchedMemory(base: dump.memory, patches: try patches(original))
        let patched = try Fixtures.analyse(memory, regs, vcpus: dump.vcpuCount)
        return (original, patched, try driver("kvm-prepost/b", memory: memory))
    }

    func route(_ a: Analysis, _ d: UInt32, _ e: UInt32) throws -> RoutingGraph.Route {
        try #require(a.routes.first { $0.deviceID == DeviceID(d) && $0.eventID == EventID(e) })
    }

    @Test func anITEClearedWhileTheDriverHoldsItAndNoCommandUnmappedItIsLost() throws {
        let (orig, patched, drv) = try patchedB { a in [(try route(a, 16, 0).iteAddress.rawValue, PatchedMemory.le(0))] }
        #expect(patched.routes.count == orig.routes.count - 1)
        for intents in [[], [Verdicts.IntentView.driver(drv)]] {
            let v = Verdicts.judge(patched, intents: intents)
            #expect(v.differing.map { [Int($0.key.deviceID.rawValue), Int($0.key.eventID.rawValue)] } == [[16, 0]])
            let j = try #require(v.differing.first)
            #expect(j.verdict == .lost && v.anyLost)
            // The queue's MAPTI of the event, never undone.
            #expect(j.evidence.contains { $0.view == .queue && $0.command == "MAPTI" })
            #expect(intents.isEmpty || j.evidence.contains { $0.view == .driver && $0.holds == true && $0.lpi == LPI(8206) })
        }
        // diff b b': the same verdict.
        let d = RouteDiff.compare(before: orig.tables, after: patched.tables, graphsBefore: orig.graphs, graphsAfter: patched.graphs,
                                  registersBefore: orig.registers, registersAfter: patched.registers)
        #expect(Verdicts.judge(diff: d, before: orig, after: patched).judgements.map(\.verdict) == [.lost])
    }

    @Test func aDTEWhoseValidBitIsClearedLosesEveryEventOfTheDevice() throws {
        let (_, patched, drv) = try patchedB { a in
            let r = try route(a, 16, 0)
            let raw = try #require(a.tables[0].devices.first { $0.deviceID == DeviceID(16) }?.dte.raw)
            return [(r.dteAddress.rawValue, PatchedMemory.le(raw & ~(UInt64(1) << 63)))]
        }
        let v = Verdicts.judge(patched, intents: [.driver(drv)])
        #expect(v.differing.map(\.key.eventID.rawValue) == [0, 1, 2, 3, 4])
        #expect(v.differing.allSatisfy { $0.verdict == .lost && $0.key.deviceID == DeviceID(16) })
    }

    @Test func aCollectionRetargetedInTheTableOnlyIsLostToTheWrongVCPU() throws {
        let (_, patched, drv) = try patchedB { a in
            let c = try #require(a.tables[0].liveCollections[ICID(1)])
            let moved = (c.cte.raw & ~(UInt64(0xF_FFFF_FFFF) << 16)) | (UInt64(2) << 16)
            return [(c.address.rawValue, PatchedMemory.le(moved))]
        }
        let onICID1 = patched.routes.filter { $0.icid == ICID(1) }
        #expect(!onICID1.isEmpty && onICID1.allSatisfy { $0.vcpu == 2 })
        // KVM's debugfs at b (vgic-state.txt) still says vCPU 1 for those LPIs.
        let vgic = VGICState.parse(try String(contentsOf: Fixtures.shared.appendingPathComponent("kvm-prepost/b/vgic-state.txt"), encoding: .utf8))
        for intents in [[], [Verdicts.IntentView.driver(drv)], [Verdicts.IntentView.vgicState(vgic, routes: patched.routes)]] {
            let v = Verdicts.judge(patched, intents: intents)
            #expect(v.differing.map { [$0.key.deviceID.rawValue, $0.key.eventID.rawValue] } == onICID1.map { [$0.deviceID.rawValue, $0.eventID.rawValue] })
            #expect(v.differing.allSatisfy { $0.verdict == .lost })
            if intents.isEmpty {
                // The queue's last MAPC of ICID 1 says RDbase 1.
                #expect(v.differing.allSatisfy { j in j.evidence.contains { $0.command == "MAPC" && $0.icid == ICID(1) } })
            }
        }
    }

    @Test func aFreedDeviceLeftValidInTheTableIsStale() throws {
        // kvm-prepost/README.md: DeviceID 8's DTE and ITT at a, which KVM cleared before b.
        let written: [(address: UInt64, bytes: [UInt8])] = [
            (UInt64(0x4353_0040), PatchedMemory.le(0x8010_0000_085b_0240)),
            (UInt64(0x42d8_1200), PatchedMemory.le(0x0001_0000_2016_0002)),
            (UInt64(0x42d8_1208), PatchedMemory.le(0x0000_0000_2017_0003)),
        ]
        let (_, patched, drv) = try patchedB { _ in written }
        #expect(patched.routes.filter { $0.deviceID == DeviceID(8) }.count == 2)
        let v = Verdicts.judge(patched, intents: [.driver(drv)])
        #expect(v.differing.map(\.verdict) == [Verdict.stale, Verdict.stale])
        for j in v.differing {
            #expect(j.key.deviceID == DeviceID(8))
            #expect(j.evidence.contains { $0.view == .queue && $0.slot == 117 && $0.command == "MAPD" })
            #expect(j.evidence.contains { $0.view == .driver && $0.holds == false })
        }
        #expect(!v.anyLost)
    }

    // MARK: the other verdicts, each from a built copy of kvm-prepost/b against itself

    /// diff b' b'': both sides are kvm-prepost/b's core with its registers, each with patches.
    func diffB(before: [(address: UInt64, bytes: [UInt8])], after: [(address: UInt64, bytes: [UInt8])],
               withoutQueue: Bool = false, cwriterAfter: UInt64? = nil) throws -> Verdicts {
        let dump = try Dump.open(try Fixtures.member("kvm-prepost/b", "core.elf"))
        var regs = try Fixtures.registers("kvm-prepost/b")
        if withoutQueue { regs.its[0].cbaser = nil }
        var regsAfter = regs
        if let w = cwriterAfter {
            regsAfter.its[0].cwriter = Sourced(GITSCommandOffset(rawValue: w), Provenance(.flag, "test"))
            regsAfter.its[0].creadr = Sourced(GITSCommandOffset(rawValue: w), Provenance(.flag, "test"))
        }
        let a = try Fixtures.analyse(PatchedMemory(base: dump.memory, patches: before), regs, vcpus: dump.vcpuCount)
        let b = try Fixtures.analyse(PatchedMemory(base: dump.memory, patches: after), regsAfter, vcpus: dump.vcpuCount)
        let d = RouteDiff.compare(before: a.tables, after: b.tables, graphsBefore: a.graphs, graphsAfter: b.graphs,
                                  registersBefore: a.registers, registersAfter: b.registers)
        return Verdicts.judge(diff: d, before: a, after: b)
    }

    /// DeviceID 16 EventID 0: LPI 8206 on vCPU 1 (README); its pending bit and property byte.
    func lpi8206() throws -> (pending: UInt64, property: UInt64, ite: UInt64) {
        let regs = try Fixtures.registers("kvm-prepost/b")
        let pend = try #require(regs.redistributors.first { $0.cpu == 1 }?.pendbaser?.value.physicalAddress.rawValue)
        let prop = try #require(regs.redistributors.first?.propbaser?.value.physicalAddress.rawValue)
        let dump = try Dump.open(try Fixtures.member("kvm-prepost/b", "core.elf"))
        let a = try Fixtures.analyse(dump.memory, regs, vcpus: dump.vcpuCount)
        return (pend + 8206 / 8, prop + 8206 - 8192, try route(a, 16, 0).iteAddress.rawValue)
    }

    @Test func aPendingBitGoneIsPendingLostAndANewOneIsPendingRaised() throws {
        let p = try lpi8206()
        // Byte 8206 / 8 = 1025 of vCPU 1's pending table, bit 8206 % 8 = 6 (its-formats.md §1.8).
        let set: [(address: UInt64, bytes: [UInt8])] = [(p.pending, [1 << 6])]
        #expect(try diffB(before: set, after: []).judgements.map(\.verdict) == [.pendingLost])
        #expect(try diffB(before: [], after: set).judgements.map(\.verdict) == [.pendingRaised])
    }

    @Test func anEnableBitChangedIsGuestReconfiguredOnlyWithAnINVInTheQueue() throws {
        let p = try lpi8206()
        // Property byte 0xa0 | enable → 0xa0: disabled in the later snapshot.
        let disabled: [(address: UInt64, bytes: [UInt8])] = [(p.property, [0xa0])]
        let plain = try diffB(before: [], after: disabled)
        #expect(plain.judgements.map(\.verdict) == [.unexplained], "\(plain.judgements.map(\.summary))")
        #expect(plain.judgements.first?.summary.hasSuffix("no INV/INVALL in the queue since the earlier snapshot") == true)
        // An INV of (16, 0) in slot 128 of the later ring, with GITS_CWRITER/CREADR one slot on
        // (0x1020): a command since the earlier snapshot. The boot-time INVALLs of every
        // collection (slots before 128) do not count.
        let inv: [(address: UInt64, bytes: [UInt8])] = [(0x4259_1000, PatchedMemory.le(0x0C | (16 << 32))), (0x4259_1008, PatchedMemory.le(0))]
        let v = try diffB(before: [], after: disabled + inv, cwriterAfter: 0x1020)
        #expect(v.judgements.map(\.verdict) == [.guestReconfigured])
        #expect(v.judgements.first?.evidence.contains { $0.command == "INV" && $0.slot == 128 } == true, "\(v.judgements.map(\.summary))")
    }

    @Test func aRouteTheEarlierSnapshotLackedIsGuestMappedByItsMAPTI() throws {
        let p = try lpi8206()
        let v = try diffB(before: [(p.ite, PatchedMemory.le(0))], after: [])
        #expect(v.judgements.map(\.verdict) == [.guestMapped])
        // kvm-prepost/b's queue: MAPTI DeviceID 0x10 EventID 0 → LPI 8206 in slot 45.
        #expect(v.judgements.first?.evidence.contains { $0.command == "MAPTI" && $0.slot == 45 } == true)
    }

    @Test func aCollectionChangeNoViewExplainsIsUnexplained() throws {
        let p = try lpi8206()
        let dump = try Dump.open(try Fixtures.member("kvm-prepost/b", "core.elf"))
        guard case .bytes(let b) = dump.memory.read(GuestPhysicalAddress(p.ite), count: 8) else { Issue.record("ITE absent"); return }
        // KVM ITE: ICID in bits [15:0] (its-formats.md §1.10): ICID 1 → 2, LPI and next kept.
        let moved = (b.loadLE(at: 0, count: 8) & ~UInt64(0xFFFF)) | 2
        // With the queue, its last word (MAPTI/MOVI: ICID 1) says the table is wrong: lost.
        #expect(try diffB(before: [], after: [(p.ite, PatchedMemory.le(moved))]).judgements.map(\.verdict) == [.lost])
        // Without a queue, driver or debugfs: nothing decides.
        let v = try diffB(before: [], after: [(p.ite, PatchedMemory.le(moved))], withoutQueue: true)
        #expect(v.judgements.map(\.verdict) == [.unexplained])
    }

    @Test(arguments: ["kvm-prepost", "tcg-prepost"])
    func theCLIOnThePrePostStreamsExitsAsDocumented(scenario: String) throws {
        let a = try Fixtures.member("\(scenario)/a", "migration.bin"), b = try Fixtures.member("\(scenario)/b", "migration.bin")
        // diff exits 1 on differences (like diff(1)); none of them is lost.
        let d = try CLI.run(["diff", a, b])
        #expect(d.status == 1 && d.stdout.contains("; no route lost") && !d.stdout.contains("  lost "))
        let j = try CLI.run(["diff", a, b, "--format", "json"])
        let top = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(top["lost"] as? Bool == false)
        #expect((top["verdicts"] as? [[String: Any]])?.count == (top["changes"] as? [Any])?.count)
        // check on each stop: every view agrees, exit 0.
        for stop in [a, b] {
            let c = try CLI.run(["check", stop])
            #expect(c.status == 0 && c.stdout.contains("verdicts: every view agrees"))
        }
    }

    @Test func anIntentViewTheQueueContradictsIsUnexplainedNotLost() throws {
        // b's tables against a's vgic-state: KVM's LPIs still on the old vCPUs, while b's queue
        // holds the MOVIs that moved them (README: 10 moved MSIs; the unbound/rebound LPIs
        // 8214/8215 changed owner and 8216/8217 are only in a's view).
        let b = try analyse("kvm-prepost/b", "core.elf")
        let vgic = VGICState.parse(try String(contentsOf: Fixtures.shared.appendingPathComponent("kvm-prepost/a/vgic-state.txt"), encoding: .utf8))
        let v = Verdicts.judge(b, intents: [.vgicState(vgic, routes: b.routes)])
        let moved = v.differing.filter { j in j.evidence.contains { $0.command == "MOVI" } }
        #expect(moved.count == 10 && moved.allSatisfy { $0.verdict == .unexplained })
        #expect(!v.anyLost)
    }

    @Test func checkAndDiffExitOneWhenARouteIsLost() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-verdict-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = "fixtures/kvm-prepost/b/core.extract.elf", regs = "fixtures/kvm-prepost/b/its-regs.json"
        let copy = dir.appendingPathComponent("lost.elf").path
        var bytes = [UInt8](try Data(contentsOf: Fixtures.packageRoot.appendingPathComponent(source)))
        // Clear the ITE of DeviceID 16 EventID 0 in the copy's file bytes.
        let core = try ELFCore(file: try MappedFile(path: Fixtures.packageRoot.appendingPathComponent(source).path))
        let a = try Fixtures.analyse(core, try RegisterStateFile.load(path: Fixtures.packageRoot.appendingPathComponent(regs).path), vcpus: 4)
        let ite = try route(a, 16, 0).iteAddress.rawValue
        let seg = try #require(core.segments.first { $0.physicalAddress <= ite && ite + 8 <= $0.physicalAddress + $0.fileSize })
        let off = Int(seg.fileOffset + (ite - seg.physicalAddress))
        for i in 0..<8 { bytes[off + i] = 0 }
        try Data(bytes).write(to: URL(fileURLWithPath: copy))

        #expect(try CLI.run(["check", source, "--regs", regs]).status == 0)
        let check = try CLI.run(["check", copy, "--regs", regs])
        #expect(check.status == 1)
        #expect(check.stdout.contains("lost") && check.stdout.contains("device 0x10 0000:00:02.0"))
        let json = try CLI.run(["check", copy, "--regs", regs, "--format", "json"])
        #expect(json.status == 1 && json.stdout.contains("\"verdict\": \"lost\""))
        let diff = try CLI.run(["diff", source, copy, "--regs", regs])
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("lost") && diff.stdout.contains("routes LOST"))
    }

    @Test func everyVerdictHasARowAndTheHeadlineComesFirst() {
        #expect(Verdict.allCases.first == .lost)
        #expect(Set(Verdict.allCases.map(\.rawValue)).count == Verdict.allCases.count)
        for v in Verdict.allCases { #expect(!v.source.isEmpty && !v.meaning.isEmpty) }
        #expect(Verdict.lost.severity == .error && Verdict.pendingLost.severity == .warning)
    }

    /// ground-truth.json: TCG rows carry `bdf`; KVM rows name their irq, which one device's
    /// `msiIrqs` lists with its `bdf`. No fixture has an aliased DeviceID (a bridge's).
    @Test(arguments: Fixtures.stops + ["tcg-savevm"])
    func theBDFFromTheDeviceIDEqualsTheGroundTruthOfEveryInterrupt(stop: String) throws {
        let data = try Data(contentsOf: Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("ground-truth.json"))
        let top = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var byIRQ: [Int: String] = [:]
        for d in (top["devices"] as? [[String: Any]]) ?? [] {
            for irq in (d["msiIrqs"] as? [Int]) ?? [] { byIRQ[irq] = d["bdf"] as? String }
        }
        let rows = try #require(top["interrupts"] as? [[String: Any]])
        #expect(!rows.isEmpty)
        for r in rows {
            let id = try #require(r["deviceID"] as? Int), irq = try #require(r["irq"] as? Int)
            let want = try #require((r["bdf"] as? String) ?? byIRQ[irq])
            #expect(DeviceIdentity.bdf(DeviceID(UInt32(id))) == want)
        }
    }

    @Test(arguments: [(8, "0000:00:01.0"), (0x100, "0000:01:00.0"), (0x28, "0000:00:05.0"), (0x6501, "0000:65:00.1")])
    func theBDFOfADeviceIDUnderTheIdentityMapping(id: UInt32, bdf: String) {
        #expect(DeviceIdentity.bdf(DeviceID(id)) == bdf)
    }
}

/// The README's diff section starts with the verdicts table: one row per verdict, with its severity.
@Suite struct VerdictDocTests {
    @Test func theREADMEsDiffSectionStartsWithTheVerdictsTable() throws {
        let readme = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n### `diff`\n").dropFirst().first)
        let body = try #require(section.components(separatedBy: "\n## ").first)
        let table = body.split(separator: "\n").filter { $0.hasPrefix("| `") }
        #expect(table.count == Verdict.allCases.count)
        for (row, v) in zip(table, Verdict.allCases) {
            #expect(row.hasPrefix("| `\(v.rawValue)` | \(v.severity.rawValue) |"), "\(row)")
        }
    }
}
