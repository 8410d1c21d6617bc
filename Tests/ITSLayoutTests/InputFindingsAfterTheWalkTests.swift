import Synchronization
import Testing
@testable import ITSLayout
import ITSAnalysis

/// `Analysis.run` asks for the inputs' own findings after the walk: a large kdump knows it is
/// cut short only once a page the walk read is gone (issue 22, target 4).
@Suite struct InputFindingsAfterTheWalkTests {
    /// A guest image that counts the reads made through it.
    final class CountingMemory: GuestMemory, Sendable {
        let image: SparseImage
        let reads = Atomic<Int>(0)
        init(_ image: SparseImage) { self.image = image }
        var presentRanges: [GuestRange] { image.presentRanges }
        func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
            reads.add(1, ordering: .relaxed)
            return image.read(address, count: count)
        }
    }

    @Test func theInputsFindingsAreAskedForAfterTheWalkRead() throws {
        let s = Scenarios.kvmCappedNext()
        let memory = CountingMemory(s.builder.image)
        var readsWhenAsked = -1
        let a = try Analysis.run(memory: memory, registers: RegisterState(its: [s.its]), vcpus: 4,
                                 inputFindings: { () -> [Finding] in
                                     readsWhenAsked = memory.reads.load(ordering: .relaxed)
                                     return [Finding(.dumpIncomplete, "cut after \(readsWhenAsked) reads")]
                                 }())
        #expect(readsWhenAsked > 0 && readsWhenAsked == memory.reads.load(ordering: .relaxed))
        #expect(a.inputFindings.map(\.ruleID) == [.dumpIncomplete])
        #expect(a.findings.contains { $0.ruleID == .dumpIncomplete && $0.message == "cut after \(readsWhenAsked) reads" })
    }
}
