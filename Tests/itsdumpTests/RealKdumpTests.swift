import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// tcg-kdump: the same stop as ELF core and as QEMU kdump-zlib (flattened) dump.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct RealKdumpTests {
    @Test func infoAgreesWithTheELFCore() throws {
        let k = try Dump.open(try Fixtures.member("tcg-kdump", "core.kdump-zlib"))
        let e = try Dump.open(try Fixtures.member("tcg-kdump", "core.elf"))
        #expect(k.kind == .kdump)
        let kd = try #require(k.kdump)
        #expect(kd.container == .flattened && kd.blockSize == 65536 && kd.maxMapnr == 19456 && kd.nrCPUs == 3)
        #expect(kd.physBase == 0x4000_0000 && kd.dumpablePages == 3072)
        #expect(k.memory.presentRanges == e.memory.presentRanges)
        #expect(k.vcpuCount == e.vcpuCount && k.vcpuCount == 3)
        #expect(k.vmcoreinfo.map { $0.map { "\($0.key)=\($0.value)" } } == e.vmcoreinfo.map { $0.map { "\($0.key)=\($0.value)" } })
        #expect(k.vmcoreinfo?.first { $0.key == "OSRELEASE" }?.value == "6.1.0-56-arm64")
    }

    @Test func routesEqualTheELFCoreAndTheGroundTruthAndEveryPageReadIsIdentical() throws {
        let k = try Dump.open(try Fixtures.member("tcg-kdump", "core.kdump-zlib"))
        let e = try Dump.open(try Fixtures.member("tcg-kdump", "core.elf"))
        let regs = try Fixtures.registers("tcg-kdump")
        let fromK = try Fixtures.walk(k.memory, regs, vcpus: k.vcpuCount)
        let fromE = try Fixtures.walk(e.memory, regs, vcpus: e.vcpuCount)
        #expect(fromK.graphs.flatMap(\.routes) == fromE.graphs.flatMap(\.routes))
        #expect(Fixtures.routeRows(fromK.graphs) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent("tcg-kdump"))))
        let pages = Fixtures.pagesRead(fromK)
        #expect(pages.count > 10)
        #expect(Fixtures.differingPages(pages, k.memory, e.memory).isEmpty)
    }

    @Test func everyBlockOfTheDumpEqualsTheELFCore() throws {
        let k = try #require(try Dump.open(try Fixtures.member("tcg-kdump", "core.kdump-zlib")).kdump)
        let e = try Dump.open(try Fixtures.member("tcg-kdump", "core.elf"))
        var blocks = 0
        for r in k.presentRanges {
            var a = r.start.rawValue
            while a < r.end {
                guard case .bytes(let x) = k.read(GuestPhysicalAddress(a), count: 65536),
                      case .bytes(let y) = e.memory.read(GuestPhysicalAddress(a), count: 65536) else {
                    Issue.record("block \(hex(a)) absent"); break
                }
                if x != y { Issue.record("block \(hex(a)) differs") }
                blocks += 1
                a += 65536
            }
        }
        #expect(blocks == 3072)
    }

    @Test func theCLIReadsTheKdumpFileWithoutFlagsForItsKind() throws {
        let path = try Fixtures.member("tcg-kdump", "core.kdump-zlib")
        let r = try CLI.run(["routes", path, "--regs", Fixtures.shared.appendingPathComponent("tcg-kdump/its-regs.json").path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("kdump-compressed dump") && r.stdout.contains("15 routes on 5 devices"))
    }

    @Test func anExtractOfTheKdumpFileKeepsItsNotesAndRoutes() throws {
        let path = try Fixtures.member("tcg-kdump", "core.kdump-zlib")
        let regs = Fixtures.shared.appendingPathComponent("tcg-kdump/its-regs.json").path
        let out = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("kdump-extract.elf").path
        #expect(try CLI.run(["extract", path, "--regs", regs, "-o", out]).status == 0)
        let x = try Dump.open(out)
        #expect(x.vcpuCount == 3 && x.vmcoreinfo?.first { $0.key == "OSRELEASE" }?.value == "6.1.0-56-arm64")
        let w = try Fixtures.walk(x.memory, try Fixtures.registers("tcg-kdump"), vcpus: x.vcpuCount)
        #expect(Fixtures.routeRows(w.graphs) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent("tcg-kdump"))))
    }
}
