import Testing
@testable import ITSLayout
import ITSAnalysis

/// With two ITSes, each finding is attributed to the ITS whose tables it is about (the JSON
/// documents give it as `its` and `itsBase`).
@Suite struct FindingOwnerTests {
    @Test func eachFindingNamesTheITSItIsAbout() throws {
        // ITS 0: the capped-next scenario (DeviceID 12's DTE is stale: kvm-dte-unreachable).
        let first = Scenarios.kvmCappedNext()
        var b = first.builder
        // ITS 1, elsewhere: one device whose ITE names ICID 7, which no collection holds.
        let dt2: UInt64 = 0x5010_0000, ct2: UInt64 = 0x5100_0000
        b.map(dt2, 65536)
        b.map(ct2, 65536)
        b.kvmCTE(ct2, icid: 0, rd: 0)
        b.kvmDTE(dt2 + 8 * 8, itt: 0x5200_0000, bits: 1, next: 0)
        b.kvmITE(0x5200_0000, lpi: 9000, icid: 7, next: 0)
        let second = tables(.kvm, dt: dt2, ct: ct2)
        let a = try Analysis.run(memory: b.image, registers: RegisterState(its: [first.its, second]), vcpus: 4)
        let owner = a.itsOfFinding
        let stale = try #require(a.findings.first { $0.ruleID == .kvmDteUnreachable })
        let missing = try #require(a.findings.first { $0.ruleID == .collectionMissing })
        #expect(owner[stale] == 0)
        #expect(owner[missing] == 1)
        #expect(a.findings.allSatisfy { owner[$0] != nil })
    }
}
