import Foundation
import Testing
@testable import ITSLayout
import FuzzSupport

/// Inputs the fuzzers found (Fuzz/README.md), replayed with the default limits.
@Suite struct FuzzReproducerTests {
    static let folder = Bundle.module.url(forResource: "Reproducers", withExtension: nil)
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reproducers")
    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("fuzz-walker-") }.sorted()
    }

    /// A moved folder must not turn the parameterised test below into zero passing cases.
    @Test func reproducersAreThere() {
        #expect(!Self.files.isEmpty)
    }

    @Test(arguments: files)
    func walkerReproducerEndsQuicklyWithFindings(file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent(file)))
        let h = try #require(HostileImage(bytes))
        let findings = h.analyse()
        let perRule = Dictionary(grouping: findings, by: \.rule).mapValues(\.count)
        // Rows are bounded: each of the walk, the graph and the state checks lists at most
        // 1000 findings per rule and says how many more there were.
        #expect(perRule.values.allSatisfy { $0 <= 3 * Finding.maxPerRule + 3 })
        #expect(perRule["findings-capped"] != nil)
        #expect(findings.count < 20 * Finding.maxPerRule)
    }
}
