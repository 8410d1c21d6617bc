import Testing
@testable import CoreDumpReader
import ITSLayout
import ITSAnalysis

/// The other half of the rule catalogue (Tests/ITSLayoutTests/RuleCoverageTests.swift): on the
/// healthy real stops no rule fires but the ones their READMEs explain. The whole analysis
/// (walk, graph, command queue, state checks) runs on the ELF core with the stop's
/// its-regs.json, and on the migration stream with the registers it carries.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct RealRuleTests {
    /// The rules each stop fires, with the DeviceIDs of their findings. A stop not listed fires
    /// nothing: the READMEs find the tables equal to the ground truth (kvm-basic and
    /// kvm-prepost "Check": nothing outside KVM's restore walk), and every stop's registers
    /// show a drained command queue (GITS_CREADR = GITS_CWRITER).
    static let expected: [String: [RuleID: [UInt32]]] = [
        // kvm-sparse/README.md "Tables": the DTEs of DeviceIDs 256 and 25856 carry KVM's capped
        // `next` (16383, real gap 25600), which leaves their level-2 page; the restore walk goes
        // on with the next level-1 entry. A note: kernels before 54e1881ea051 read past the page
        // (its-formats.md §6.1 (d)).
        "kvm-sparse": [.kvmNextLeavesPage: [256, 25856]],
    ]

    static let members = ["core.elf", "migration.bin"]

    @Test(arguments: Fixtures.stops, members)
    func onlyTheRulesTheREADMEExplainsFire(stop: String, member: String) throws {
        let dump = try Dump.open(try Fixtures.member(stop, member))
        let regs = member == "core.elf" ? try Fixtures.registers(stop) : try #require(dump.registers)
        let a = try Fixtures.analyse(dump.memory, regs, vcpus: dump.vcpuCount)
        // The state checks had what they need: every vCPU's redistributor registers.
        #expect(regs.redistributors.count == dump.vcpuCount && !a.routes.isEmpty)
        #expect(a.queues.allSatisfy { $0 != nil })
        let fired = Dictionary(grouping: a.findings, by: \.ruleID)
            .mapValues { $0.compactMap(\.deviceID?.rawValue).sorted() }
        #expect(fired == Self.expected[stop, default: [:]], "\(a.findings.map(\.message))")
    }

    @Test func everyExplainedStopIsAStop() {
        #expect(Set(Self.expected.keys).isSubset(of: Fixtures.stops))
    }
}
