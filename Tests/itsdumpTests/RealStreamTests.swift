import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// The migration stream of every real stop: its registers equal `its-regs.json` (GITS_TYPER is
/// not migrated; the TCG streams carry IIDR 0, fixtures README), its routes equal the ELF
/// core's and the ground truth, and every page the walk reads is the same in both dumps.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct RealStreamTests {
    @Test(arguments: Fixtures.stops)
    func streamRegistersEqualTheRegisterFile(stop: String) throws {
        let dump = try Dump.open(try Fixtures.member(stop, "migration.bin"))
        let stream = try #require(dump.stream)
        let want = try Fixtures.registers(stop)
        let got = stream.streamRegisters
        #expect(got.its.count == want.its.count)
        for (g, w) in zip(got.its, want.its) {
            #expect(g.baser.map { $0?.value } == w.baser.map { $0?.value })
            #expect(g.ctlr?.value == w.ctlr?.value && g.cbaser?.value == w.cbaser?.value)
            #expect(g.cwriter?.value == w.cwriter?.value && g.creadr?.value == w.creadr?.value)
            #expect(g.typer == nil)
            if stop.hasPrefix("tcg") {
                #expect(g.iidr?.value.rawValue == 0)
            } else {
                #expect(g.iidr?.value == w.iidr?.value)
            }
            #expect(g.baser[0]?.provenance.kind == .migrationStream)
        }
        #expect(got.redistributors.map(\.cpu) == want.redistributors.map(\.cpu))
        #expect(got.redistributors.map { $0.propbaser?.value } == want.redistributors.map { $0.propbaser?.value })
        #expect(got.redistributors.map { $0.pendbaser?.value } == want.redistributors.map { $0.pendbaser?.value })
        #expect(stream.hasJSON && stream.machine == "virt-7.2" && stream.pageSize == 4096)
    }

    @Test(arguments: Fixtures.stops)
    func streamRoutesEqualTheCoreAndTheGroundTruth(stop: String) throws {
        let stream = try Dump.open(try Fixtures.member(stop, "migration.bin"))
        let regs = try #require(stream.registers)
        let fromStream = try Fixtures.walk(stream.memory, regs, vcpus: stream.vcpuCount)
        let core = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let fromCore = try Fixtures.walk(core.memory, try Fixtures.registers(stop), vcpus: core.vcpuCount)
        #expect(Fixtures.routeRows(fromStream.graphs) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))))
        #expect(fromStream.graphs.flatMap(\.routes) == fromCore.graphs.flatMap(\.routes).map { r in
            var r = r
            r.itsBase = GuestPhysicalAddress(0x0808_0000)  // the state file gives it; the stream infers it
            return r
        })
        // The format was inferred from the migrated IIDR.
        #expect(fromStream.tables.first?.format == (stop.hasPrefix("kvm") ? .kvm : .qemu))
        // Every page the walk read is byte-identical in the two dumps.
        let pages = Fixtures.pagesRead(fromCore)
        #expect(pages.count > 10)
        #expect(Fixtures.differingPages(pages, core.memory, stream.memory).isEmpty)
    }

    @Test func theKVMStreamsNameTheirRAMAfterTheMemoryBackend() throws {
        let stream = try #require(try Dump.open(try Fixtures.member("kvm-basic", "migration.bin")).stream)
        let ram = try #require(stream.blocks.first { $0.name == "ram0" })
        #expect(ram.gpa == 0x4000_0000 && ram.mapping.hasPrefix("inferred"))
        #expect(stream.blocks.first { $0.name == "pvtime" }?.gpa == 0x090A_0000)
        #expect(stream.blocks.first { $0.name == "virt.flash0" }?.gpa == nil)
        let tcg = try #require(try Dump.open(try Fixtures.member("tcg-basic", "migration.bin")).stream)
        #expect(tcg.blocks.first { $0.name == "mach-virt.ram" }?.gpa == 0x4000_0000)
    }

    @Test func routesOnAStreamNeedNoFlagsAndRegsWritesAStateFile() throws {
        let mig = try Fixtures.member("kvm-prepost/b", "migration.bin")
        let r = try CLI.run(["routes", mig])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("migration stream arm_gicv3_its[0].baser[0]"))
        #expect(r.stdout.contains("17 routes on 6 devices"))
        let dir = URL(fileURLWithPath: mig).deletingLastPathComponent()
        let regs = try CLI.run(["regs", mig, "--format", "json"])
        #expect(regs.status == 0)
        let file = dir.appendingPathComponent("regs-from-stream.json")
        try Data(regs.stdout.utf8).write(to: file)
        let core = try Fixtures.member("kvm-prepost/b", "core.elf")
        let a = try CLI.run(["routes", core, "--regs", file.path, "--format", "json"])
        let b = try CLI.run(["routes", core, "--regs-from", mig, "--format", "json"])
        #expect(a.status == 0 && b.status == 0)
        func routes(_ s: String) -> Substring? {
            guard let x = s.range(of: "\"routes\": ["), let y = s.range(of: "\"schemaVersion\"") else { return nil }
            return s[x.lowerBound..<y.lowerBound]
        }
        #expect(routes(a.stdout) != nil && routes(a.stdout) == routes(b.stdout))
        let info = try CLI.run(["info", mig])
        #expect(info.stdout.contains("arm_gicv3_its") && info.stdout.contains("ram0"))
    }

    @Test func aTruncatedRealStreamExitsWithStatus2() throws {
        let mig = try Fixtures.member("tcg-basic", "migration.bin")
        let cut = URL(fileURLWithPath: mig).deletingLastPathComponent().appendingPathComponent("cut.mig")
        let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: mig))
        try Data(h.readData(ofLength: 5_000_123)).write(to: cut)
        try h.close()
        let r = try CLI.run(["routes", cut.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("cut short"), "\(r.stderr)")
    }
}
