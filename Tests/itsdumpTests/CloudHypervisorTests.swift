import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Cloud Hypervisor snapshot directories built from the real KVM stops (their RAM from core.elf,
/// their registers from its-regs.json, laid out as input-formats.md §7.1 and Cloud Hypervisor's
/// source say): every state.json generation gives the ground truth's routes with no flags; the
/// cloud-hypervisor#8638 signature is reported; hostile state.json files end in one clear error.
@Suite(.serialized) struct CloudHypervisorTests {
    static let stops = ["kvm-basic", "kvm-sparse", "kvm-prepost/a", "kvm-prepost/b"]

    struct Case: CustomTestStringConvertible, Sendable {
        var stop: String
        var generation: CloudHypervisorBuilder.Generation
        var testDescription: String { "\(stop) \(generation)" }
    }
    static let cases = stops.flatMap { s in CloudHypervisorBuilder.Generation.allCases.map { Case(stop: s, generation: $0) } }

    /// The stop's builder (RAM ranges of core.elf from 0x40000000, split in two so that the file
    /// holds two ranges) and its memory-ranges file, written once per stop.
    static func builder(_ stop: String) throws -> (CloudHypervisorBuilder, URL) {
        let core = try Dump.open(try Fixtures.member(stop, "core.elf"))
        var b = CloudHypervisorBuilder()
        for r in core.memory.presentRanges where r.start.rawValue >= 0x4000_0000 {
            let half = r.length / 2 / 65536 * 65536
            b.ranges += half > 0 ? [(r.start.rawValue, half), (r.start.rawValue + half, r.length - half)] : [(r.start.rawValue, r.length)]
        }
        b.registers = try Fixtures.registers(stop)
        b.vcpus = try #require(core.vcpuCount)
        let file = try Fixtures.unpacked.get().appendingPathComponent(stop).appendingPathComponent("ch-memory-ranges")
        if !FileManager.default.fileExists(atPath: file.path) {
            try CloudHypervisorBuilder.writeMemoryRanges(core.memory, b.ranges, to: file)
        }
        return (b, file)
    }

    static func directory(_ name: String) throws -> URL {
        try Fixtures.unpacked.get().appendingPathComponent("cloud-hypervisor").appendingPathComponent(name)
    }

    @Test(arguments: cases)
    func everyGenerationGivesTheGroundTruthWithNoFlags(c: Case) throws {
        var (b, mem) = try Self.builder(c.stop)
        b.generation = c.generation
        let dir = try Self.directory("\(c.stop.replacingOccurrences(of: "/", with: "-"))-\(c.generation)")
        try b.write(to: dir, memoryFile: mem)
        let d = try Dump.open(dir.path)
        #expect(d.kind == .cloudHypervisor)
        let ch = try #require(d.cloudHypervisor)
        #expect(ch.generation == [.kvmWrapped: .kvmWrapped, .stateString: .stateString, .byteArray: .byteArray][c.generation])
        #expect(ch.vcpuCount == b.vcpus && d.vcpuCount == b.vcpus)
        #expect(ch.ranges.map { [$0.gpa, $0.length] } == b.ranges.map { [$0.0, $0.1] })
        #expect(ch.skipped.isEmpty)
        // Registers exactly (GITS_BASER0 exceeds 2^53), with their provenance.
        let want = try Fixtures.registers(c.stop)
        let regs = try #require(d.registers)
        #expect(regs.its.first?.baser.map { $0?.value } == want.its.first?.baser.map { $0?.value })
        #expect(regs.its.first?.iidr?.value.rawValue == 0x4B00_043B && regs.its.first?.typer == nil)
        #expect(regs.its.first?.cbaser?.value == want.its.first?.cbaser?.value)
        #expect(regs.its.first?.cwriter?.value == want.its.first?.cwriter?.value && regs.its.first?.creadr?.value == want.its.first?.creadr?.value)
        #expect(regs.its.first?.baser[0]?.provenance == Provenance(.stateFile, "state.json gic-v3-its.its_baser[0]"))
        #expect(regs.redistributors.map { $0.pendbaser?.value } == want.redistributors.map { $0.pendbaser?.value })
        #expect(regs.redistributors.map { $0.propbaser?.value } == want.redistributors.map { $0.propbaser?.value })
        // ITS base: 0x8ff0000 − n·0x20000 − 0x20000.
        #expect(regs.its.first?.base?.value.rawValue == 0x08FF_0000 - UInt64(b.vcpus) * 0x2_0000 - 0x2_0000)
        let w = try Fixtures.walk(d.memory, regs, vcpus: d.vcpuCount)
        #expect(w.tables.first?.format == .kvm)
        #expect(Fixtures.routeRows(w.graphs) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(c.stop))))
        // The state.json alone names the same snapshot.
        let viaState = try Dump.open(dir.appendingPathComponent("state.json").path)
        #expect(viaState.cloudHypervisor?.ranges == ch.ranges)
        // Recognised by content, not by name.
        let renamed = dir.appendingPathComponent("copy-of-state")
        try? FileManager.default.removeItem(at: renamed)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("state.json"), to: renamed)
        let viaCopy = try #require(try Dump.open(renamed.path).cloudHypervisor)
        #expect(viaCopy.registers.its.first?.baser.map { $0?.value } == ch.registers.its.first?.baser.map { $0?.value })
        #expect(viaCopy.registers.its.first?.baser[0]?.provenance.detail == "copy-of-state gic-v3-its.its_baser[0]")
    }

    @Test func routesAndCheckOnADirectoryNeedNoFlags() throws {
        let (b, mem) = try Self.builder("kvm-prepost/b")
        let dir = try Self.directory("cli-kvm-prepost-b")
        try b.write(to: dir, memoryFile: mem)
        let r = try CLI.run(["routes", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("17 routes on 6 devices"), "\(r.stdout)")
        #expect(r.stdout.contains("state file state.json gic-v3-its.its_baser[0]"))
        #expect(r.stdout.contains("Cloud Hypervisor snapshot \(dir.path)"))
        let c = try CLI.run(["check", dir.path])
        #expect(c.status == 0 && c.stdout.contains("findings: none"), "\(c.stdout)")
        let info = try CLI.run(["info", dir.path, "--format", "json"])
        #expect(info.status == 0 && info.stdout.contains("\"generation\": \"v46 or later"), "\(info.stdout)")
        let schema = try Schemas.failures(ofDocument: info.stdout, what: "info of a Cloud Hypervisor directory")
        #expect(schema.isEmpty, "\(schema.prefix(5).joined(separator: "\n"))")
        let routesJSON = try CLI.run(["routes", dir.path, "--format", "json"])
        let routesSchema = try Schemas.failures(ofDocument: routesJSON.stdout, what: "routes of a Cloud Hypervisor directory")
        #expect(routesSchema.isEmpty, "\(routesSchema.prefix(5).joined(separator: "\n"))")
        // The ELF core of the same stop, with its registers at the ITS base Cloud Hypervisor's layout gives.
        let core = try Fixtures.member("kvm-prepost/b", "core.elf")
        let regs = try String(contentsOf: Fixtures.shared.appendingPathComponent("kvm-prepost/b/its-regs.json"), encoding: .utf8)
        let moved = dir.deletingLastPathComponent().appendingPathComponent("kvm-prepost-b-regs-at-ch-base.json")
        try Data(regs.replacingOccurrences(of: "\"base\": \"0x8080000\"", with: "\"base\": \"0x8f50000\"").utf8).write(to: moved)
        let d = try CLI.run(["diff", dir.path, core, "--regs-b", moved.path])
        #expect(d.status == 0 && d.stdout.contains("no differences"), "\(d.stdout)\(d.stderr)")
        #expect(d.stdout.contains("which the VMM runs when it stops the VM (QEMU on a stop, Cloud Hypervisor on a pause)"))
    }

    @Test func everyRedistributorCopiedFromVCPU0IsReportedAsPendbaserShared() throws {
        var (b, mem) = try Self.builder("kvm-basic")
        b.rdistFromVCPU0 = true  // cloud-hypervisor#8638
        let dir = try Self.directory("kvm-basic-8638")
        try b.write(to: dir, memoryFile: mem)
        let d = try Dump.open(dir.path)
        #expect(Set(d.registers?.redistributors.map { $0.pendbaser?.value.rawValue } ?? []) == [0x425D_0780])
        let c = try CLI.run(["check", dir.path])
        #expect(c.status == 1, "\(c.stdout)\(c.stderr)")
        #expect(c.stdout.contains("pendbaser-shared"))
    }

    @Test func rangesThatASharedFileHoldsAreNamedWithTheirFILEAtGPA() throws {
        var (b, mem) = try Self.builder("kvm-basic")
        b.extraMappings = [(0x1_0000_0000, 1 << 30, "mem1", 0x800_0000)]
        for g in CloudHypervisorBuilder.Generation.allCases {
            b.generation = g
            let dir = try Self.directory("kvm-basic-shared-\(g)")
            try b.write(to: dir, memoryFile: mem)
            let ch = try #require(try Dump.open(dir.path).cloudHypervisor)
            #expect(ch.skipped == [.init(gpa: 0x1_0000_0000, length: 1 << 30, zone: "mem1", fileOffset: 0x800_0000)])
            #expect(ch.notes.contains { $0.contains("guest RAM 0x100000000..0x13fffffff (memory zone mem1) is not in memory-ranges") && $0.contains("FILE@0xf8000000") })
        }
        // The backing file given as the note says joins the directory's RAM (a sparse file here).
        let backing = try Self.directory("mem1-backing.raw")
        _ = FileManager.default.createFile(atPath: backing.path, contents: nil)
        let h = try FileHandle(forWritingTo: backing)
        try h.truncate(atOffset: 0x800_0000 + (1 << 30))
        try h.close()
        let r = try CLI.run(["routes", try Self.directory("kvm-basic-shared-kvmWrapped").path, "\(backing.path)@0xf8000000", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"kind\": \"raw\"") && r.stdout.contains("\"kind\": \"cloud-hypervisor\""))
        try? FileManager.default.removeItem(at: backing)
    }

    /// The message a hostile state.json ends with (through the CLI: one line, status 2).
    func failure(_ name: String, _ state: String, memory: URL? = nil) throws -> String {
        let dir = try Self.directory("hostile-\(name)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(state.utf8).write(to: dir.appendingPathComponent("state.json"))
        let mem = dir.appendingPathComponent("memory-ranges")
        try? FileManager.default.removeItem(at: mem)
        if let memory { try FileManager.default.linkItem(at: memory, to: mem) }
        let r = try CLI.run(["routes", dir.path])
        #expect(r.status == 2, "\(name): \(r.stdout)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
        return r.stderr
    }

    @Test func hostileStateFilesEndInOneClearError() throws {
        var (b, mem) = try Self.builder("kvm-basic")
        #expect(try failure("deep", String(repeating: "[", count: 100_000)).contains("JSON nests deeper than 256 levels"))
        #expect(try failure("notjson", "{\"snapshots\": 12").contains("not JSON"))
        #expect(try failure("nosnapshots", "{\"a\": 1}").contains("no \"snapshots\" object at the top"))
        #expect(try failure("v28", "{\"id\": \"vm\", \"snapshots\": {}, \"snapshot_data\": {}}").contains("v28 or earlier"))
        b.gicStateOverride = "this is not JSON"
        #expect(try failure("gicstring", b.stateJSON, memory: mem).contains("the gic-v3-its state is not JSON"))
        b.gicStateOverride = "{\"Kvm\": {\"its_baser\": [1,2,3]}}"
        #expect(try failure("basers", b.stateJSON, memory: mem).contains("gic-v3-its.its_ctlr: a u64 JSON integer expected"))
        b.gicStateOverride = nil
        // rdist too short for the cpu-manager's vCPUs.
        var short = b
        short.vcpus = 2
        var text = short.stateJSON
        text = text.replacingOccurrences(of: "\"cpu-manager\":{\"snapshots\":{", with: "\"cpu-manager\":{\"snapshots\":{\"7\":{},\"8\":{},")
        #expect(try failure("rdist", text, memory: mem).contains("gic-v3-its.rdist holds 48 words: 4 vCPUs need 96 (24 per vCPU)"))
        // A BASER through a double is refused, not rounded.
        var g = b
        g.gicStateOverride = g.gicState.replacingOccurrences(of: "\"its_ctlr\":2147483649", with: "\"its_ctlr\":2147483649.0")
        #expect(try failure("double", g.stateJSON, memory: mem).contains("gic-v3-its.its_ctlr: a u64 JSON integer expected, found 2147483649.0"))
        // Memory ranges that overlap, or that the file does not hold.
        var o = b
        o.ranges = [(0x4000_0000, 0x100_0000), (0x40F0_0000, 0x100_0000)]
        #expect(try failure("overlap", o.stateJSON, memory: mem).contains("memory ranges overlap: 0x40000000 (+16777216) and 0x40f00000"))
        var big = b
        big.ranges = b.ranges + [(0x1_0000_0000, 1 << 30)]
        #expect(try failure("exceed", big.stateJSON, memory: mem).contains("ranges add up to \(b.ranges.reduce(0) { $0 + $1.1 } + (1 << 30)) bytes, the file holds \(b.ranges.reduce(0) { $0 + $1.1 })"))
        #expect(try failure("nomemory", b.stateJSON).contains("memory-ranges: cannot open"))
        var huge = b
        huge.ranges = (0..<70_000).map { (0x4000_0000 + UInt64($0) * 4096, 4096) }
        #expect(try failure("huge", huge.stateJSON, memory: mem).contains("70000 memory ranges (at most 65536)"))
        var tooBig = Data(b.stateJSON.utf8)
        tooBig += Data(repeating: 0x20, count: 17 << 20)
        #expect(try failure("toolarge", String(decoding: tooBig, as: UTF8.self)).contains("too large for a Cloud Hypervisor state.json"))
        // A directory without state.json.
        let empty = try Self.directory("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let r = try CLI.run(["routes", empty.path])
        #expect(r.status == 2 && r.stderr.contains("not a Cloud Hypervisor snapshot directory: it has no state.json"))
        // v29–v38 memory manager bytes that claim more items than they hold.
        var v = b
        v.generation = .byteArray
        var bytes = v.memoryManagerVersionize
        bytes.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        let st = v.stateJSON.replacingOccurrences(of: v.data(v.memoryManagerVersionize, text: nil), with: v.data(bytes, text: nil))
        #expect(try failure("versionize", st, memory: mem).contains("memory_ranges.data claims 4294967295 items"))
    }
}
