import Foundation
import Testing

/// `check --device/--bdf/--vcpu/--lpi` report, and exit on, only what they select (issue 19's
/// review): the findings as well as the verdicts.
extension CheckDiffTests {
    func check(_ path: String, _ stop: String, _ filters: [String]) throws -> (status: Int32, findings: [[String: Any]], summary: [String: Int]) {
        let r = try CLI.run(["check", path, "--regs", Fixtures.bundled.appendingPathComponent("\(stop)/its-regs.json").path, "--format", "json"] + filters)
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        return (r.status, try #require(top["findings"] as? [[String: Any]]), try #require(top["summary"] as? [String: Int]))
    }

    /// kvm-basic with device 8 event 1's ITE pointing at ICID 9 (no collection): two errors about
    /// (8, 1), LPI 8194 (the bundled extract's route): collection-missing, and
    /// kvm-restore-rejects (KVM's restore refuses an ITE whose collection does not exist).
    @Test func checkFiltersChooseTheFindingsReportedAndTheExitStatus() throws {
        let path = try patchedExtract("kvm-basic", gpa: 0x4340_4608) { v in (v & ~0xFFFF) | 9 }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let all = try check(path, "kvm-basic", [])
        #expect(all.status == 1 && all.summary["error"] == 2)
        for filter in [["--device", "8"], ["--bdf", "00:01.0"], ["--lpi", "8194"], ["--device", "8", "--lpi", "8194"]] {
            let r = try check(path, "kvm-basic", filter)
            #expect(r.status == 1, "\(filter)")
            #expect(r.findings.map { $0["rule"] as? String } == ["collection-missing", "kvm-restore-rejects"], "\(filter)")
            #expect(r.findings.allSatisfy { $0["deviceID"] as? Int == 8 && $0["eventID"] as? Int == 1 }, "\(filter)")
            #expect(r.summary["error"] == 2, "\(filter)")
        }
        // Another device, another LPI of device 8, a vCPU: the error is not about them.
        for filter in [["--device", "0x10"], ["--lpi", "8193"], ["--device", "8", "--lpi", "8193"], ["--vcpu", "1"]] {
            let r = try check(path, "kvm-basic", filter)
            #expect(r.status == 0, "\(filter)")
            #expect(r.findings.isEmpty && r.summary["error"] == 0, "\(filter)")
        }
    }

    /// kvm-sparse's two notes are each about one device (kvm-next-leaves-page, DeviceIDs 0x100
    /// and 0x6500: its README's level-1 entries 0 and 3).
    @Test func checkDeviceFilterKeepsThatDevicesFindingsOnly() throws {
        let path = Fixtures.bundled.appendingPathComponent("kvm-sparse/core.extract.elf").path
        #expect(try check(path, "kvm-sparse", []).findings.count == 2)
        for (device, address) in [("0x100", "0x43510800"), ("0x6500", "0x439d2800")] {
            let r = try check(path, "kvm-sparse", ["--device", device])
            #expect(r.status == 0)
            #expect(r.findings.map { $0["address"] as? String } == [address])
            #expect(r.summary["note"] == 1)
        }
        #expect(try check(path, "kvm-sparse", ["--device", "0x8"]).findings.isEmpty)
    }
}
