import Foundation
import GuestKernel
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// Zero configuration (issue 20) on every real stop: no register source, no --vmlinux — types
/// from the BTF in guest RAM, symbols from kallsyms and the driver's ADRP references.
@Suite(.serialized) struct ZeroConfigTests {
    /// (DeviceID, EventID, LPI, vCPU) of a `routes -o json` output.
    func routeRows(_ json: String) throws -> [[Int]] {
        let top = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try #require(top["routes"] as? [[String: Any]]).map { x in ["deviceID", "eventID", "lpi", "vcpu"].map { (x[$0] as? Int) ?? -1 } }
            .sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The register values of `regs -o json` (the state file format) against its-regs.json:
    /// BASERs, CBASER, and each vCPU's PROPBASER and PENDBASER, raw values.
    func expectRegisters(_ json: String, stop: String, input: String) throws {
        let path = Fixtures.shared.appendingPathComponent(stop).appendingPathComponent("its-regs.json").path
        let got = try RegisterStateFile.parse(Array(json.utf8), path: "regs output")
        let want = try RegisterStateFile.load(path: path)
        let g = try #require(got.its.first), w = try #require(want.its.first)
        #expect(g.baser.map { $0?.value } == w.baser.map { $0?.value }, "\(input)")
        #expect(g.cbaser?.value == w.cbaser?.value, "\(input)")
        #expect(got.redistributors.map(\.cpu) == want.redistributors.map(\.cpu), "\(input)")
        #expect(got.redistributors.map { $0.propbaser?.value } == want.redistributors.map { $0.propbaser?.value }, "\(input)")
        #expect(got.redistributors.map { $0.pendbaser?.value } == want.redistributors.map { $0.pendbaser?.value }, "\(input)")
    }

    func expectZeroConfig(_ inputs: [String], stop: String) throws {
        let routes = try CLI.run(["routes"] + inputs + ["--format", "json"])
        #expect(routes.status == 0, "\(inputs): \(routes.stderr)")
        #expect(try routeRows(routes.stdout) == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))), "\(inputs)")
        #expect(routes.stdout.contains("via BTF in guest RAM and kallsyms"))
        let regs = try CLI.run(["regs"] + inputs + ["--format", "json"])
        #expect(regs.status == 0, "\(inputs): \(regs.stderr)")
        try expectRegisters(regs.stdout, stop: stop, input: inputs.joined(separator: " "))
    }

    @Test(arguments: Fixtures.stops)
    func routesAndRegistersWithNoFlagsFromTheELFCore(stop: String) throws {
        try expectZeroConfig([try Fixtures.member(stop, "core.elf")], stop: stop)
    }

    @Test func routesAndRegistersWithNoFlagsFromTheKdumpFile() throws {
        try expectZeroConfig([try Fixtures.member("tcg-kdump", "core.kdump-zlib")], stop: "tcg-kdump")
    }

    /// Raw images carry no notes: VMCOREINFO is found in RAM, the CPUs from __per_cpu_offset.
    @Test(arguments: Fixtures.stops)
    func routesAndRegistersWithNoFlagsFromRawImages(stop: String) throws {
        let path = try Fixtures.member(stop, "core.elf")
        let core = try #require(try Dump.open(path).elf)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("raw-zeroconf")
        let specs = try Fixtures.rawImages(of: core, into: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        try expectZeroConfig(specs, stop: stop)
    }

    /// The driver's view from BTF equals the one from the reduced debug vmlinux's DWARF,
    /// field by field (the JSON has no word of where the types came from).
    @Test(arguments: Fixtures.stops)
    func driverWithoutVmlinuxEqualsDriverWithIt(stop: String) throws {
        let core = try Fixtures.member(stop, "core.elf")
        let zero = try CLI.run(["driver", core, "--format", "json"])
        let dwarf = try CLI.run(["driver", core, "--vmlinux", try Fixtures.vmlinux.get(), "--format", "json"])
        #expect(zero.status == 0 && dwarf.status == 0, "\(zero.stderr)\(dwarf.stderr)")
        #expect(Self.withoutIRQNames(zero.stdout) == Self.withoutIRQNames(dwarf.stdout))
        #expect(zero.stdout.contains("\"deviceID\""))
        let text = try CLI.run(["driver", core])
        #expect(text.stdout.contains("(ADRP in ") && text.stdout.contains("validated"))
    }

    @Test func driverFromTheKdumpFileEqualsDriverWithVmlinux() throws {
        let dump = try Fixtures.member("tcg-kdump", "core.kdump-zlib")
        let zero = try CLI.run(["driver", dump, "--format", "json"])
        let dwarf = try CLI.run(["driver", dump, "--vmlinux", try Fixtures.vmlinux.get(), "--format", "json"])
        #expect(zero.status == 0 && Self.withoutIRQNames(zero.stdout) == Self.withoutIRQNames(dwarf.stdout), "\(zero.stderr)")
    }

    /// The driver document without `irqSource`, the one field that says how the irq walk's
    /// symbols were found (the zero-configuration path: irq_desc_tree from irq_to_desc's ADRP
    /// pair, its_irq_chip from the driver's its_devices); the irq numbers and names are equal.
    static func withoutIRQNames(_ json: String) -> NSDictionary? {
        guard var o = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return nil }
        #expect((o["irqSource"] as? String)?.hasPrefix("irq_desc_tree (radix tree)") == true)
        #expect((o["routes"] as? [[String: Any]])?.allSatisfy { $0["irq"] is Int } == true)
        o["irqSource"] = nil
        return o as NSDictionary
    }

    /// The symbols found equal System.map's plus KERNELOFFSET (tcg-basic: KASLR on).
    @Test func foundSymbolsAreSystemMapsPlusKernelOffset() throws {
        let d = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let pairs = try #require(d.vmcoreinfo)
        let info = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
        let space = try KernelAddressSpace(info, memory: d.memory)
        let k = try ZeroConfigKernel.load(vmcoreinfo: info, space: space, memory: d.memory, btfFile: nil, cpus: d.vcpuCount)
        // System.map-6.1.0-56-arm64: its_nodes, gic_rdists, __per_cpu_offset, irq_desc_tree
        // (its_irq_chip, reached from a section anchor, is not among the ADRP pairs' targets).
        #expect(k.types.symbols == ["its_nodes": 0xffff_8000_09dc_3560, "gic_rdists": 0xffff_8000_09fe_3078,
                                    "__per_cpu_offset": 0xffff_8000_09cc_3010, "irq_desc_tree": 0xffff_8000_09d5_8d30])
        #expect(k.found["irq_desc_tree"]?.method == "ADRP in irq_to_desc, validated")
        // kallsyms: a text symbol of System.map, at its address + KERNELOFFSET (0x39cfdde00000).
        let kallsyms = try Kallsyms(try Kallsyms.Addresses(info), read: KernelImageMemory(space: space, memory: d.memory).read)
        let found = try kallsyms.lookup(["its_save_disable", "_stext", "_etext"])
        #expect(found["its_save_disable"]?.map(\.address) == [0xffff_8000_0860_5e90 &+ 0x39cf_dde0_0000])
        #expect(found["its_save_disable"]?.first?.type == "t")
        #expect(found["_stext"]?.first?.address == info.number("SYMBOL(_stext)"))
        // .BTF at __start_BTF (System.map 0xffff8000091b075c) + KERNELOFFSET, taken from the GOT
        // slot that btf_parse_vmlinux loads (__start_BTF is weak), in kernel read-only data.
        let start = 0xffff_8000_091b_075c &+ 0x39cf_dde0_0000 as UInt64
        let prefix = "BTF in guest RAM at \(hex(start)) (GOT slot 0x"
        #expect(k.btfSource.hasPrefix(prefix) && k.btfSource.hasSuffix(" of btf_parse_vmlinux)"))
        // The scan of the image's read-only data, the fallback, finds the same BTF.
        let scanned = BTF.locate(start: found["_etext"]?.first?.address ?? 0, length: 128 << 20,
                                 read: KernelImageMemory(space: space, memory: d.memory).read)
        #expect(scanned?.address == start && scanned?.btf.typeCount == k.types.btf.typeCount)
        #expect(k.cpus == 4)
    }

    /// The bundled extracts carry their registers (ITSDUMP note): `routes` with no flags gives
    /// the ground truth, and the note's values are its-regs.json's.
    @Test(arguments: Fixtures.stops)
    func bundledExtractsNeedNoFlags(stop: String) throws {
        let dir = Fixtures.bundled.appendingPathComponent(stop)
        let extract = dir.appendingPathComponent("core.extract.elf").path
        let r = try CLI.run(["routes", extract, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try routeRows(r.stdout) == (try Fixtures.groundTruth(dir)))
        #expect(r.stdout.contains("extract note core.extract.elf its[0].baser[0]: state file its-regs.json"))
        let regs = try CLI.run(["regs", extract, "--format", "json"])
        try expectRegisters(regs.stdout, stop: stop, input: extract)
    }

    /// extract after the zero-configuration path: the note keeps the guest-kernel provenance and
    /// `routes small.elf` with no flags equals `routes` on the full dump.
    @Test func extractOfAZeroConfigRunReadsBackAlone() throws {
        let core = try Fixtures.member("kvm-sparse", "core.elf")
        let out = URL(fileURLWithPath: core).deletingLastPathComponent().appendingPathComponent("zero.extract.elf").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let w = try CLI.run(["extract", core, "-o", out])
        #expect(w.status == 0, "\(w.stderr)")
        let full = try CLI.run(["routes", core, "--format", "json"]), small = try CLI.run(["routes", out, "--format", "json"])
        let smallRows = try routeRows(small.stdout), fullRows = try routeRows(full.stdout)
        #expect(small.status == 0 && smallRows == fullRows, "\(small.stderr)")
        #expect(small.stdout.contains("via BTF in guest RAM and kallsyms") && small.stdout.contains("extract note zero.extract.elf"))
        let notes = try #require(try Dump.open(out).elf).notes.filter { $0.name == RegistersNote.name }
        #expect(notes.count == 1 && notes.first?.type == 1)
    }
}
