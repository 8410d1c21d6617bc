import CoreDumpReader
import ITSAnalysis
import ITSLayout
import Testing

/// `explain` finds each lookup's route by binary search (`Analysis.route`), not by building
/// every route per lookup: `explain --device` of one device with 1,000 events among 200,000
/// routes took 154 s in a debug build (review finding). The search must find exactly what the
/// linear search found.
@Suite struct RouteByKeyTests {
    /// kvm-basic's ground truth: DeviceID 8 EventID 1 is LPI 8194 on vCPU 1.
    @Test func everyRouteOfKvmBasicIsFoundByItsKey() throws {
        let dump = try Dump.open(try Fixtures.member("kvm-basic", "core.elf"))
        let a = try Fixtures.analyse(dump.memory, try Fixtures.registers("kvm-basic"), vcpus: dump.vcpuCount)
        // Every (DeviceID, EventID) of ground-truth.json, with its LPI and vCPU.
        let truth = try Fixtures.groundTruth(Fixtures.packageRoot.appendingPathComponent("fixtures/kvm-basic"))
        #expect(a.routes.count == truth.count && truth.count == 15)
        for row in truth {
            let r = try #require(a.route(its: 0, device: DeviceID(UInt32(row[0])), event: EventID(UInt32(row[1]))))
            #expect(r.lpi == LPI(UInt32(row[2])) && r.vcpu == UInt32(row[3]))
        }
        for r in a.routes {
            let found = try #require(a.route(its: r.itsIndex, device: r.deviceID, event: r.eventID))
            #expect(found.lpi == r.lpi && found.iteAddress == r.iteAddress && found.vcpu == r.vcpu && found.pending == r.pending)
        }
        let r = try #require(a.route(its: 0, device: DeviceID(8), event: EventID(1)))
        #expect(r.lpi == LPI(8194) && r.vcpu == 1)
        #expect(a.route(its: 0, device: DeviceID(8), event: EventID(99)) == nil)
        #expect(a.route(its: 0, device: DeviceID(9), event: EventID(1)) == nil)
        #expect(a.route(its: 1, device: DeviceID(8), event: EventID(1)) == nil)
        #expect(a.route(its: 0, device: DeviceID(UInt32.max), event: EventID(UInt32.max)) == nil)
    }
}
