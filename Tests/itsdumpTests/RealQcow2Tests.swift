import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// The real internal snapshot of ../shared/fixtures/tcg-savevm (HMP `savevm stop1`, QEMU 7.2):
/// its VM state read through the snapshot's tables gives the ground truth's routes, the same as
/// the migration stream of the same stop, and every RAM page equals the ELF core's.
@Suite(.serialized) struct RealQcow2Tests {
    static let stop = "tcg-savevm"

    /// tcg-savevm unpacked beside the other stops (not in `Fixtures.stops`: only this suite reads it).
    static let dir: Result<URL, FixtureError> = {
        let root: URL
        switch Fixtures.unpacked {
        case .success(let d): root = d
        case .failure(let e): return .failure(e)
        }
        let out = root.appendingPathComponent(stop)
        let archive = Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("snapshot.tar.zst")
        try? FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "zstd -d -q --long=28 -c '\(archive.path)' | tar x -C '\(out.path)'"]
        do { try p.run() } catch { return .failure(FixtureError(message: "cannot run zstd/tar: \(error)")) }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? .success(out) : .failure(FixtureError(message: "unpacking \(archive.path) failed"))
    }()

    static func member(_ name: String) throws -> String { try dir.get().appendingPathComponent(name).path }

    @Test func theSnapshotsVMStateGivesTheGroundTruthAndTheStreamsRoutes() throws {
        let q = try Dump.open(try Self.member("snapshot.qcow2"))
        #expect(q.kind == .qcow2)
        let v = try #require(q.qcow2)
        // tcg-savevm/README.md "where the VM state is".
        #expect(v.image.version == 3 && v.image.clusterBits == 16 && v.image.size == 67_108_864)
        #expect(v.image.snapshots.count == 1)
        #expect(v.snapshot.id == "1" && v.snapshot.name == "stop1" && v.snapshot.vmClockNanoseconds == 32_707_855_576)
        #expect(v.snapshot.vmStateSize == 54_138_536 && v.snapshot.diskSize == 67_108_864 && v.snapshot.icount == -1)
        #expect(v.snapshot.l1TableOffset == 0x340_0000 && v.snapshot.l1Size == 2 && v.snapshot.entryOffset == 0x341_0000)
        #expect(v.virtualOffset == 0x2000_0000)
        #expect(v.dataClusters == 827 && v.compressedClusters == 0 && v.zeroClusters == 0 && v.unallocatedClusters == 0)
        #expect(v.bytes(at: 0, count: 8) == [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3])
        let stream = try #require(q.stream)
        #expect(stream.sections.count == 27)
        #expect(stream.blocks.map(\.name) == ["mach-virt.ram", "virt.flash0", "virt.flash1", "/rom@etc/acpi/tables",
                                              "0000:00:01.0/virtio-net-pci.rom", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp"])
        // Registers: its-regs.json's, but GITS_IIDR, which QEMU 7.2 migrates as 0 (README).
        let regs = try #require(q.registers)
        let want = try RegisterStateFile.load(path: Fixtures.shared.appendingPathComponent(Self.stop).appendingPathComponent("its-regs.json").path)
        #expect(regs.its.first?.baser.map { $0?.value } == want.its.first?.baser.map { $0?.value })
        #expect(regs.its.first?.cbaser?.value == want.its.first?.cbaser?.value && regs.its.first?.iidr?.value.rawValue == 0)
        #expect(regs.redistributors.map { $0.pendbaser?.value } == want.redistributors.map { $0.pendbaser?.value })

        let fromQcow2 = try Fixtures.walk(q.memory, regs, vcpus: q.vcpuCount)
        #expect(Fixtures.routeRows(fromQcow2.graphs) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(Self.stop))))
        #expect(Fixtures.routeRows(fromQcow2.graphs).count == 14)
        let m = try Dump.open(try Self.member("migration.bin"))
        let fromStream = try Fixtures.walk(m.memory, try #require(m.registers), vcpus: m.vcpuCount)
        #expect(fromQcow2.graphs.flatMap(\.routes) == fromStream.graphs.flatMap(\.routes))
    }

    @Test func everyRAMPageReadThroughTheImageEqualsTheELFCores() throws {
        let q = try Dump.open(try Self.member("snapshot.qcow2"))
        let core = try Dump.open(try Self.member("core.elf"))
        #expect(q.memory.presentRanges == [GuestRange(start: GuestPhysicalAddress(0x4000_0000), length: 201_326_592)])
        var differ: [UInt64] = []
        var compared = 0
        var pa: UInt64 = 0x4000_0000
        while pa < 0x4C00_0000 {
            let a = q.memory.read(GuestPhysicalAddress(pa), count: 65536)
            let b = core.memory.read(GuestPhysicalAddress(pa), count: 65536)
            if case .bytes(let x) = a, case .bytes(let y) = b {
                if x != y { differ.append(pa) }
            } else {
                differ.append(pa)
            }
            compared += 16
            pa += 65536
        }
        #expect(compared == 49152)  // README: 49152 pages compared
        #expect(differ.isEmpty, "differ at \(differ.prefix(5).map { hex($0) })")
    }

    @Test func theCLITakesTheImageLikeAnyOtherDump() throws {
        let qcow2 = try Self.member("snapshot.qcow2"), mig = try Self.member("migration.bin")
        let a = try CLI.run(["routes", qcow2, "--format", "json"])
        let b = try CLI.run(["routes", mig, "--format", "json"])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)")
        func withoutInputs(_ s: String) -> String {
            s.split(separator: "\n").filter { !$0.contains("\"kind") && !$0.contains("\"path\"") }.joined(separator: "\n")
        }
        #expect(withoutInputs(a.stdout) == withoutInputs(b.stdout))
        #expect(a.stdout.contains("\"kind\": \"qcow2\"") && a.stdout.contains("\"kindName\": \"qcow2 internal snapshot\""))
        // Both documents, and info's, validate against their schemas (Documentation/schema).
        let infoJSON = try CLI.run(["info", qcow2, "--format", "json"])
        for (doc, what) in [(a.stdout, "routes qcow2"), (b.stdout, "routes mig"), (infoJSON.stdout, "info qcow2")] {
            let f = try Schemas.failures(ofDocument: doc, what: what)
            #expect(f.isEmpty, "\(f.prefix(5).joined(separator: "\n"))")
        }
        let d = try CLI.run(["diff", qcow2, mig])
        #expect(d.status == 0 && d.stdout.contains("no differences"), "\(d.stdout)\(d.stderr)")
        let c = try CLI.run(["check", qcow2, "--snapshot", "stop1"])
        #expect(c.status == 0 && c.stdout.contains("findings: none"), "\(c.stdout)\(c.stderr)")
        let info = try CLI.run(["info", qcow2])
        #expect(info.status == 0)
        #expect(info.stdout.contains("*  1   stop1  2026-12-07 00:05:38  00:00:32.707        54138536"), "\(info.stdout)")
        #expect(info.stdout.contains("54138536 bytes at virtual offset 0x20000000 of snapshot 1: 827 data, 0 compressed, 0 zero, 0 unallocated clusters"))
        let bad = try CLI.run(["routes", qcow2, "--snapshot", "stop2"])
        #expect(bad.status == 2 && bad.stderr.contains("no snapshot with ID or name \"stop2\" (snapshots: 1 \"stop1\" (2026-12-07 00:05:38 UTC, VM clock 00:00:32.707, VM state 54138536 bytes))"), "\(bad.stderr)")
        let r = try CLI.run(["routes", qcow2])
        #expect(r.stdout.contains("note: the VM state of internal snapshot 1 \"stop1\" (taken 2026-12-07 00:05:38 UTC, VM clock 00:00:32.707, 54138536 bytes)"))
        let dir = URL(fileURLWithPath: qcow2).deletingLastPathComponent()
        let out = dir.appendingPathComponent("extract-from-qcow2.elf").path
        let x = try CLI.run(["extract", qcow2, "--out", out])
        #expect(x.status == 0, "\(x.stderr)")
        let back = try CLI.run(["routes", out, "--regs-from", qcow2, "--format", "json"])
        #expect(back.status == 0)
        // `device` names the QEMU device from a stream's section names: the image has them, the
        // extract (an ELF core) does not.
        func routes(_ s: String) throws -> NSArray? {
            let rows = (try JSONSerialization.jsonObject(with: Data(s.utf8)) as? NSDictionary)?["routes"] as? [[String: Any]]
            return rows.map { $0.map { r in r.filter { $0.key != "device" } } as NSArray }
        }
        let fromExtract = try #require(try routes(back.stdout)), fromImage = try #require(try routes(a.stdout))
        #expect(fromExtract.count == 14 && fromExtract == fromImage)
    }
}
