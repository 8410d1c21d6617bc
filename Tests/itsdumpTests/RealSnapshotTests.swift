import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout
import TextFormats

/// Every real stop of ../shared/fixtures: the routes equal the ground truth collected inside
/// the guest, from the ELF core, from raw images cut from it, and from the bundled extract.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct RealSnapshotTests {
    @Test(arguments: Fixtures.stops)
    func elfCoreRoutesEqualGroundTruth(stop: String) throws {
        let dump = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let walked = try Fixtures.walk(dump.memory, try Fixtures.registers(stop), vcpus: dump.vcpuCount)
        let want = try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))
        #expect(!want.isEmpty)
        #expect(Fixtures.routeRows(walked.graphs) == want)
        // A healthy snapshot: nothing above a note.
        let serious = (walked.tables.flatMap(\.findings) + walked.graphs.flatMap(\.findings)).filter { $0.severity != .note }
        #expect(serious.isEmpty, "\(serious)")
        // LPI state was read for every route: QEMU/KVM guests enable every LPI they route.
        #expect(walked.graphs.flatMap(\.routes).allSatisfy { $0.enabled == true && $0.priority == 0xA0 && $0.pending != nil })
    }

    @Test(arguments: Fixtures.stops)
    func rawImagesCutFromTheCoreGiveTheSameRoutes(stop: String) throws {
        let path = try Fixtures.member(stop, "core.elf")
        let dump = try Dump.open(path)
        let core = try #require(dump.elf)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("raw")
        let specs = try Fixtures.rawImages(of: core, into: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let memory = try CompositeMemory(try specs.map { s throws(DumpError) in try Dump.open(s).memory })
        let walked = try Fixtures.walk(memory, try Fixtures.registers(stop), vcpus: nil)
        #expect(Fixtures.routeRows(walked.graphs) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))))
    }

    @Test(arguments: Fixtures.stops)
    func bundledExtractsGiveTheGroundTruth(stop: String) throws {
        let dir = Fixtures.bundled.appendingPathComponent(stop)
        let dump = try Dump.open(dir.appendingPathComponent("core.extract.elf").path)
        let regs = try RegisterStateFile.load(path: dir.appendingPathComponent("its-regs.json").path)
        let walked = try Fixtures.walk(dump.memory, regs, vcpus: dump.vcpuCount)
        #expect(Fixtures.routeRows(walked.graphs) == (try Fixtures.groundTruth(dir)))
        // The extract is small: only the pages the walk reads.
        let size = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("core.extract.elf").path)[.size] as? Int ?? 0
        #expect(size < 1 << 20)
    }

    @Test func kvmSparseWalksThreeLevel2PagesWithCappedNexts() throws {
        let dump = try Dump.open(try Fixtures.member("kvm-sparse", "core.elf"))
        let walked = try Fixtures.walk(dump.memory, try Fixtures.registers("kvm-sparse"), vcpus: dump.vcpuCount)
        let t = try #require(walked.tables.first)
        #expect(t.format == .kvm)
        // kvm-sparse/README.md "Tables".
        #expect(t.deviceLevel1.map(\.index) == [0, 3, 6])
        #expect(t.deviceLevel1.map(\.entry.raw) == [0x8000_0000_4351_0000, 0x8000_0000_439D_0000, 0x8000_0000_43A7_0000])
        let dte = Dictionary(uniqueKeysWithValues: t.devices.map { ($0.deviceID.rawValue, $0.dte) })
        #expect(dte[256]?.raw == 0xFFFE_0000_084E_E640 && dte[256]?.next == 16383)
        #expect(dte[25856]?.raw == 0xFFFE_0000_085B_A841 && dte[25856]?.ittAddress == GuestPhysicalAddress(0x42DD_4200))
        #expect(dte[51456]?.next == 0)
        #expect(t.devices.allSatisfy { $0.status == .live })
        #expect(t.findings.filter { $0.rule == "kvm-next-leaves-page" }.compactMap(\.deviceID) == [DeviceID(256), DeviceID(25856)])
    }

    @Test func kvmBasicTablesMatchItsREADME() throws {
        let dump = try Dump.open(try Fixtures.member("kvm-basic", "core.elf"))
        let walked = try Fixtures.walk(dump.memory, try Fixtures.registers("kvm-basic"), vcpus: dump.vcpuCount)
        let t = try #require(walked.tables.first)
        // kvm-basic/README.md "What the tables contain".
        #expect(t.deviceLevel1.map(\.entry.raw) == [0x8000_0000_4352_0000])
        #expect(t.devices.map(\.dte.raw) == [0x8010_0000_0868_08C2, 0x8010_0000_086D_F7C2, 0x8010_0000_085A_5380,
                                             0x81C0_0000_084F_69C0, 0x8000_0000_085A_5040])
        #expect(t.devices[0].itt.map { $0.ite.raw[0] } == [0x0001_0000_2001_0000, 0x0001_0000_2002_0001, 0x0001_0000_2003_0002,
                                                            0x0001_0000_2004_0003, 0x0000_0000_2005_0000])
        #expect(t.collections.map(\.cte.rdBase) == [0, 1, 2, 3])
        #expect(dump.vcpuCount == 4)
        #expect(dump.memory.presentRanges.count == 2)  // RAM and the pvtime page
    }

    @Test func tcgCoresCarryVMCOREINFOAndKVMCoresDoNot() throws {
        let tcg = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let info = try #require(tcg.vmcoreinfo)
        #expect(info.first { $0.key == "OSRELEASE" }?.value == "6.1.0-56-arm64")
        #expect(info.first { $0.key == "NUMBER(PHYS_OFFSET)" }?.value == "0x40000000")
        let kvm = try Dump.open(try Fixtures.member("kvm-basic", "core.elf"))
        #expect(kvm.vmcoreinfo == nil)
    }
}

/// Our JSON reader against Foundation's on every JSON file of the real fixtures.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct FixtureJSONTests {
    func same(_ ours: JSONValue, _ theirs: Any) -> Bool {
        switch ours {
        case .object(let o):
            guard let t = theirs as? [String: Any], t.count == o.count else { return false }
            return o.allSatisfy { k, v in t[k].map { same(v, $0) } ?? false }
        case .array(let a):
            guard let t = theirs as? [Any], t.count == a.count else { return false }
            return zip(a, t).allSatisfy { same($0, $1) }
        case .string(let s): return (theirs as? String) == s
        case .uint(let v): return (theirs as? NSNumber)?.uint64Value == v
        case .int(let v): return (theirs as? NSNumber)?.int64Value == v
        case .double(let v): return (theirs as? NSNumber)?.doubleValue == v
        case .bool(let b): return (theirs as? Bool) == b
        case .null: return theirs is NSNull
        }
    }

    @Test func everyFixtureJSONFileParsesAsFoundationReadsIt() throws {
        let files = FileManager.default.enumerator(atPath: Fixtures.shared.path)!
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }
        #expect(files.count >= 16)  // ground-truth.json and its-regs.json of 8 stops, at least
        for f in files {
            let data = try Data(contentsOf: Fixtures.shared.appendingPathComponent(f))
            let ours = try JSONValue.parse([UInt8](data))
            let theirs = try JSONSerialization.jsonObject(with: data)
            #expect(same(ours, theirs), "\(f)")
        }
    }
}
