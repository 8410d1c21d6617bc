import Foundation
import GuestKernel
import Testing
@testable import CoreDumpReader
@testable import ITSLayout
import KernelDWARF
import FuzzSupport

/// The guest kernel's view (issue 11) on every real 6.1 snapshot, with the reduced debug vmlinux.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct GuestKernelTests {
    func view(_ memory: any GuestMemory, vmcoreinfo: VMCOREINFO, cpus: Int?) throws -> DriverView {
        let types = try DWARFKernelTypes(path: try Fixtures.vmlinux.get())
        let space = try KernelAddressSpace(vmcoreinfo, memory: memory)
        return try DriverWalker.walk(types: types, space: space, memory: memory, cpus: cpus)
    }

    func vmcoreinfo(_ d: Dump) throws -> VMCOREINFO {
        if let pairs = d.vmcoreinfo {
            return VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
        }
        return try #require(VMCOREINFO.scan(d.memory))
    }

    @Test(arguments: Fixtures.stops)
    func theDriverViewEqualsTheGroundTruthAndItsRegisters(stop: String) throws {
        let d = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let v = try view(d.memory, vmcoreinfo: try vmcoreinfo(d), cpus: d.vcpuCount)
        #expect(v.problems.isEmpty, "\(v.problems)")
        let rows = v.routes.map { [Int($0.deviceID.rawValue), Int($0.eventID.rawValue), Int($0.lpi.rawValue), Int($0.cpu)] }
            .sorted { $0.lexicographicallyPrecedes($1) }
        #expect(rows == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))))
        let want = try Fixtures.registers(stop)
        let got = v.registers
        #expect(got.its.first?.baser.map { $0?.value } == want.its.first?.baser.map { $0?.value })
        #expect(got.its.first?.base?.value == GuestPhysicalAddress(0x0808_0000))
        #expect(got.its.first?.baser[0]?.provenance.kind == .guestKernel)
        // The property and pending table addresses equal the address fields of PROPBASER/PENDBASER.
        #expect(got.redistributors.map(\.cpu) == want.redistributors.map(\.cpu))
        #expect(got.redistributors.map { $0.propbaser?.value.physicalAddress } == want.redistributors.map { $0.propbaser?.value.physicalAddress })
        #expect(got.redistributors.map { $0.pendbaser?.value.physicalAddress } == want.redistributors.map { $0.pendbaser?.value.physicalAddress })
        #expect(got.its.first?.cbaser?.value.physicalAddress == want.its.first?.cbaser?.value.physicalAddress)
    }

    @Test(arguments: Fixtures.stops)
    func routesWithVmlinuxAndNoRegisterFlagsEqualTheGroundTruth(stop: String) throws {
        let r = try CLI.run(["routes", try Fixtures.member(stop, "core.elf"), "--vmlinux", try Fixtures.vmlinux.get(), "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try #require(top["routes"] as? [[String: Any]]).map { x in ["deviceID", "eventID", "lpi", "vcpu"].map { (x[$0] as? Int) ?? -1 } }
            .sorted { $0.lexicographicallyPrecedes($1) }
        #expect(rows == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))))
        #expect(r.stdout.contains("guest kernel its_node@"))
        let diff = try CLI.run(["diff", try Fixtures.member(stop, "core.elf"), "--regs", Fixtures.shared.appendingPathComponent("\(stop)/its-regs.json").path,
                                "--expected", "guest-kernel", "--vmlinux", try Fixtures.vmlinux.get()])
        #expect(diff.status == 0, "\(diff.stdout)")
        #expect(diff.stdout.contains("no differences"))
        // With no register source at all the driver's own BASERs drive the walk it is compared with.
        let alone = try CLI.run(["diff", try Fixtures.member(stop, "core.elf"), "--expected", "guest-kernel", "--vmlinux", try Fixtures.vmlinux.get()])
        #expect(alone.status == 0 && alone.stdout.contains("no differences"), "\(alone.stdout)\(alone.stderr)")
        #expect(alone.stdout.contains("guest kernel its_node@"))
    }

    /// TCG cores carry a VMCOREINFO note, KVM cores do not: the RAM scan finds the same text,
    /// in cores and in raw images cut from them.
    @Test(arguments: ["tcg-basic", "kvm-basic"])
    func vmcoreinfoFromTheNoteAndFromTheRAMScanAgree(stop: String) throws {
        let path = try Fixtures.member(stop, "core.elf")
        let d = try Dump.open(path)
        let scanned = try #require(VMCOREINFO.scan(d.memory))
        #expect(scanned.source.hasPrefix("found in guest RAM"))
        #expect(scanned["OSRELEASE"] == "6.1.0-56-arm64" && scanned["BUILD-ID"] == "0ed29847cba3cbd9114b826b3a1ad39dd624ffa0")
        if let pairs = d.vmcoreinfo {
            let note = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
            #expect(note["KERNELOFFSET"] == scanned["KERNELOFFSET"] && note["NUMBER(kimage_voffset)"] == scanned["NUMBER(kimage_voffset)"])
        } else {
            #expect(stop.hasPrefix("kvm"))
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("raw-gk")
        let specs = try Fixtures.rawImages(of: try #require(d.elf), into: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let memory = try CompositeMemory(try specs.map { s throws(DumpError) in try Dump.open(s).memory })
        let fromRaw = try #require(VMCOREINFO.scan(memory))
        #expect(fromRaw["KERNELOFFSET"] == scanned["KERNELOFFSET"])
        let v = try view(memory, vmcoreinfo: fromRaw, cpus: 4)
        #expect(v.routes.count == (try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent(stop))).count)
    }

    /// Writes `bytes` at guest PA `gpa` of a copy of a real core (through its PT_LOAD).
    func patchedCore(_ stop: String, _ patches: [(UInt64, [UInt8])]) throws -> String {
        let src = try Fixtures.member(stop, "core.elf")
        let core = try ELFCore(file: MappedFile(path: src))
        let out = URL(fileURLWithPath: src).deletingLastPathComponent().appendingPathComponent("patched.elf").path
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.copyItem(atPath: src, toPath: out)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        for (gpa, bytes) in patches {
            let seg = try #require(core.segments.first { $0.physicalAddress <= gpa && gpa < $0.physicalAddress + $0.fileSize })
            try h.seek(toOffset: seg.fileOffset + gpa - seg.physicalAddress)
            try h.write(contentsOf: bytes)
        }
        try h.close()
        return out
    }

    func diffAgainstDriver(_ path: String, _ stop: String) throws -> [[String: Any]] {
        let r = try CLI.run(["diff", path, "--regs", Fixtures.shared.appendingPathComponent("\(stop)/its-regs.json").path,
                             "--expected", "guest-kernel", "--vmlinux", try Fixtures.vmlinux.get(), "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require(top["differences"] as? [[String: Any]])
    }

    @Test func aClearedITEIsAMappingOnlyTheDriverHolds() throws {
        // tcg-basic: device 0x10 event 1 (LPI 8215) at ITT 0x42f61200 + 12.
        let path = try patchedCore("tcg-basic", [(0x42F6_120C, [UInt8](repeating: 0, count: 12))])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let d = try diffAgainstDriver(path, "tcg-basic")
        #expect(d.count == 1)
        #expect(d.first?["kind"] as? String == "only-in-expected" && d.first?["deviceID"] as? Int == 16 && d.first?["eventID"] as? Int == 1)
    }

    @Test func aRetargetedCollectionChangesExactlyItsRoutes() throws {
        // tcg-basic: ICID 2's CTE (collection table 0x425b0000 + 2·8) → processor 1 instead of 2.
        let path = try patchedCore("tcg-basic", [(0x425B_0010, [0x03, 0, 0, 0, 0, 0, 0, 0])])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let d = try diffAgainstDriver(path, "tcg-basic")
        let gt = try Fixtures.groundTruth(Fixtures.shared.appendingPathComponent("tcg-basic")).filter { $0[3] == 2 }
        #expect(d.count == gt.count)
        #expect(d.allSatisfy { $0["kind"] as? String == "changed" && $0["field"] as? String == "vcpu" && $0["tables"] as? String == "1" && $0["expected"] as? String == "2" })
    }

    @Test func aStaleDTEIsADeviceTheDriverDoesNotKnow() throws {
        // tcg-basic: a valid DTE for DeviceID 0x38 in level-2 page 0x? sharing device 0x8's ITT.
        let d0 = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let regs = try Fixtures.registers("tcg-basic")
        let t = try ITSWalker.walk(memory: d0.memory, registers: regs.its[0], itsIndex: 0)
        let dte8 = try #require(t.devices.first { $0.deviceID == DeviceID(8) })
        let slot = dte8.address.rawValue + (0x38 - 8) * 8
        let raw = dte8.dte.raw
        let path = try patchedCore("tcg-basic", [(slot, (0..<8).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) })])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let d = try diffAgainstDriver(path, "tcg-basic")
        #expect(d.count == 3)
        #expect(d.allSatisfy { $0["kind"] as? String == "only-in-tables" && $0["deviceID"] as? Int == 0x38 })
    }

    @Test func missingOrWrongDebugInfoIsAClearError() throws {
        let core = try Fixtures.member("tcg-basic", "core.elf")
        // Not a vmlinux at all.
        let notELF = try CLI.run(["driver", core, "--vmlinux", Fixtures.shared.appendingPathComponent("tcg-basic/its-regs.json").path])
        #expect(notELF.status == 2 && notELF.stderr.contains("debug vmlinux"))
        // An ELF without DWARF: the core itself.
        let noDWARF = try CLI.run(["driver", core, "--vmlinux", core])
        #expect(noDWARF.status == 2 && noDWARF.stderr.contains("DWARF"), "\(noDWARF.stderr)")
        // Another build: VMCOREINFO with a different BUILD-ID.
        let dir = URL(fileURLWithPath: core).deletingLastPathComponent()
        let other = dir.appendingPathComponent("vmcoreinfo-other.txt")
        try "OSRELEASE=6.1.0-99-arm64\nBUILD-ID=00112233445566778899aabbccddeeff00112233\nPAGESIZE=4096\n".write(to: other, atomically: true, encoding: .utf8)
        let wrong = try CLI.run(["driver", core, "--vmlinux", try Fixtures.vmlinux.get(), "--vmcoreinfo", other.path])
        #expect(wrong.status == 2 && wrong.stderr.contains("another build"), "\(wrong.stderr)")
        // A VMCOREINFO without the translation keys.
        let thin = dir.appendingPathComponent("vmcoreinfo-thin.txt")
        try "OSRELEASE=6.1.0-56-arm64\nPAGESIZE=4096\n".write(to: thin, atomically: true, encoding: .utf8)
        let missing = try CLI.run(["driver", core, "--vmlinux", try Fixtures.vmlinux.get(), "--vmcoreinfo", thin.path])
        #expect(missing.status == 2 && missing.stderr.contains("KERNELOFFSET"), "\(missing.stderr)")
        // A VMCOREINFO whose struct page size is impossible (it divides pointers: not a trap).
        let d = try Dump.open(core)
        let text = try #require(d.vmcoreinfo).map { $0.key == "SIZE(page)" ? "SIZE(page)=0" : "\($0.key)=\($0.value)" }.joined(separator: "\n")
        let zero = dir.appendingPathComponent("vmcoreinfo-page0.txt")
        try text.write(to: zero, atomically: true, encoding: .utf8)
        let page0 = try CLI.run(["driver", core, "--vmlinux", try Fixtures.vmlinux.get(), "--vmcoreinfo", zero.path])
        #expect(page0.status == 2 && page0.stderr.contains("impossible SIZE(page) 0"), "\(page0.stderr)")
    }

    /// Kernels before NUMBER(VMEMMAP_START) was exported: the layout candidates find the same
    /// pending tables (here the 5.11+ one; DriverWalkTests shows the 5.4-5.10 one).
    @Test(arguments: ["tcg-basic", "kvm-basic"])
    func withoutVMEMMAPSTARTThePendingTablesAreTheSame(stop: String) throws {
        let d = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let full = try vmcoreinfo(d)
        #expect(full.number("NUMBER(VMEMMAP_START)") == 0xffff_fc00_0000_0000)
        let without = VMCOREINFO(text: full.pairs.filter { $0.key != "NUMBER(VMEMMAP_START)" }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
                                 source: "test")
        let space = try KernelAddressSpace(without, memory: d.memory)
        #expect(space.vmemmapStarts == [0xffff_fc00_0000_0000, 0xffff_fdff_ffe0_0000])
        let a = try view(d.memory, vmcoreinfo: full, cpus: d.vcpuCount).pendingTables.map(\.address)
        let b = try view(d.memory, vmcoreinfo: without, cpus: d.vcpuCount).pendingTables.map(\.address)
        #expect(a.count == d.vcpuCount && a == b)
        #expect(a == (try Fixtures.registers(stop)).redistributors.compactMap { $0.pendbaser?.value.physicalAddress })
    }

    /// Inputs fuzz-driver found (Fuzz/README.md), replayed through the same path with the real
    /// debug info: they end, with the problem named.
    @Test func driverFuzzReproducersEndWithTheProblemNamed() throws {
        let folder = try #require(Bundle.module.url(forResource: "Reproducers", withExtension: nil))
        let types = try DWARFKernelTypes(path: try Fixtures.vmlinux.get())
        // lpi_id_bits = 0 in guest memory: PROPBASER.IDbits was computed as 0 − 1.
        let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent("fuzz-driver-crash-dc00a86bbedd26313bb72d116d914dbd35d012d8")))
        let a = try #require(HostileKernelImage(bytes).analyse(types: types))
        #expect(a.view.lpiIDBits == nil)
        #expect(a.view.problems.contains("lpi_id_bits is 0, not a number of LPI ID bits (14-32); GICR_PROPBASER.IDbits is taken as 15 (16 bits)"), "\(a.view.problems)")
        #expect(a.view.registers.redistributors.allSatisfy { $0.propbaser.map { $0.value.rawValue & 0x1F == 15 } ?? true })
        // The guest-kernel diff carries the walk's problems as notes, as `diff --expected guest-kernel` prints them.
        #expect(a.diff.notes == a.view.problems)
    }

    @Test func pageTableWalkAgreesWithTheLinearMapAndTheImage() throws {
        let d = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let space = try KernelAddressSpace(try vmcoreinfo(d), memory: d.memory)
        let types = try DWARFKernelTypes(path: try Fixtures.vmlinux.get())
        let itsNodes = space.runtime(try #require(types.symbol("its_nodes", near: nil)))
        #expect(space.walk(itsNodes) == space.image(itsNodes))  // §6.7's first check
        let v = try view(d.memory, vmcoreinfo: try vmcoreinfo(d), cpus: 4)
        let node = try #require(v.its.first?.nodeAddress)
        #expect(space.walk(node) == space.physical(node))  // §6.7's second check: linear map
    }
}
