import Foundation
import Testing
import GuestKernel
@testable import KernelDWARF
@testable import CoreDumpReader
import ITSLayout

/// The look-ups by index of issue 22 (target 5): a static's unit through `.debug_aranges`, the
/// hashed `.symtab`, and the VMCOREINFO scan ended at the kernel image. Ground truth: the
/// reduced vmlinux's notes (vmlinux-6.1.0-56-arm64.its.debug.md: unit offsets and symbols),
/// the TCG cores' VMCOREINFO notes, and `.debug_aranges` sets built byte by byte after DWARF 5
/// §6.1.2.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1"))
struct DWARFIndexTests {
    static func types() throws -> DWARFKernelTypes { try DWARFKernelTypes(path: try Fixtures.vmlinux.get()) }

    /// (variable, its file, the unit header's offset in the reduced .debug_info per the notes).
    static let statics: [(String, String, UInt64)] = [
        ("its_nodes", "irq-gic-v3-its.c", 0x0017_5E26),
        ("gic_rdists", "irq-gic-v3-its.c", 0x0017_5E26),
        ("irq_desc_tree", "irqdesc.c", 0x000D_EFCA),
    ]

    @Test func theUnitFoundThroughAddressRangesIsTheUnitFoundByName() throws {
        for (variable, file, unit) in Self.statics {
            let t = try Self.types()
            let sym = try #require(t.lookup(variable)?.first)
            #expect(sym.file == file)
            let fileSymbol = try #require(sym.fileSymbol)
            let byRanges = try #require(t.unitByAddressRanges(file: file, fileSymbol: fileSymbol))
            #expect(byRanges.unit == unit, "\(variable)")
            // A fresh reader, so that the walk by name starts from nothing interned.
            let fresh = try Self.types()
            let byName = try #require(fresh.unitByName(file))
            #expect(byName.unit == unit, "\(variable)")
        }
    }

    /// The unit read through a handle of its own (UnitReader) gives the notes' layouts, also
    /// through a member (a DIE token of that handle read back).
    @Test func layoutsThroughTheUnitsOwnHandleAreTheNotes() throws {
        let t = try Self.types()
        let node = try #require(t.structure("its_node", inUnitOf: "its_nodes"))
        #expect(t.readers.map(\.start) == [0x0017_5E26])
        func offsets(_ s: StructLayout?) -> [String: UInt64] {
            Dictionary((s?.members ?? []).map { ($0.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        }
        #expect(node.size == 384)
        let n = offsets(node)
        #expect([n["entry"], n["base"], n["phys_base"], n["cmd_base"], n["cmd_write"], n["tables"], n["collections"],
                 n["typer"], n["its_device_list"], n["flags"]] == [40, 56, 72, 80, 88, 96, 288, 312, 336, 352])
        let device = try #require(t.structure("its_device", inUnitOf: "its_nodes"))
        #expect(device.size == 104)
        let d = offsets(device)
        #expect([d["entry"], d["its"], d["event_map"], d["itt"], d["nr_ites"], d["device_id"], d["shared"]] == [0, 16, 24, 80, 88, 92, 96])
        let map = try #require(t.memberStructure(device, "event_map", inUnitOf: "its_nodes"))
        #expect(map.size == 56)
        let m = offsets(map)
        #expect([m["lpi_map"], m["col_map"], m["lpi_base"], m["nr_lpis"]] == [0, 8, 16, 24])
        #expect(t.memberStructure(node, "tables", inUnitOf: "its_nodes")?.size == 24)
        #expect(t.memberStructure(node, "collections", inUnitOf: "its_nodes")?.size == 16)
        // gic_rdists is in the same unit: the same handle, no second one.
        #expect(t.structure("rdists", inUnitOf: "gic_rdists") != nil)
        #expect(t.readers.count == 1)
    }

    @Test func symbolsComeFromTheHashedTableWithTheirFiles() throws {
        let t = try Self.types()
        #expect(t.lookup("its_nodes")?.map(\.value) == [0xFFFF_8000_09DC_3560])
        #expect(t.lookup("gic_rdists")?.map(\.value) == [0xFFFF_8000_09FE_3078])
        // Two statics of one name, told apart by their STT_FILE (notes: GICv3 and GICv2).
        let gic = try #require(t.lookup("gic_data"))
        #expect(Set(gic.map { "\($0.file ?? "-")@\(String($0.value, radix: 16))" })
                == ["irq-gic-v3.c@ffff800009cc2390", "irq-gic.c@ffff800009cc1d40"])
        // Globals have no file; the linker script's NOTYPE symbols are addresses, not objects.
        #expect(t.lookup("vmcoreinfo_data")?.map(\.value) == [0xFFFF_8000_09FA_6FA0])
        #expect(t.lookup("vmcoreinfo_data")?.first?.file == nil)
        #expect(t.address(of: "_text") == 0xFFFF_8000_0800_0000)
        #expect(t.address(of: "swapper_pg_dir") == 0xFFFF_8000_0965_8000)
        #expect(t.symbol("swapper_pg_dir", near: nil) == nil)
        #expect(t.lookup("no_such_symbol_anywhere") == nil)
        // 557 statics share this name (one per file, `readelf -sW`): one hash, one chain.
        #expect(t.lookup("__func__.0")?.count == 557)
        // Asked again, the same answer (the cache).
        #expect(t.lookup("its_nodes")?.map(\.value) == [0xFFFF_8000_09DC_3560])
    }

    /// A vmlinux whose `.debug_aranges` is garbage, cut, or says another unit: the unit is found
    /// by name as before, and the layouts are the same.
    @Test(arguments: ["garbage", "zeros", "huge length", "wrong unit"])
    func damagedAddressRangesFallBackToTheUnitHeaders(damage: String) throws {
        let path = try Fixtures.vmlinux.get()
        let original = try Self.types()
        let aranges = try #require(DWARFKernelTypes.sectionRange(original.elf, ".debug_aranges"))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let range = aranges.offset..<(aranges.offset + aranges.size)
        switch damage {
        case "garbage":
            var x: UInt32 = 0x1234_5678
            for i in range { x = x &* 1_664_525 &+ 1_013_904_223; bytes[i] = UInt8(truncatingIfNeeded: x >> 24) }
        case "zeros":
            for i in range { bytes[i] = 0 }
        case "huge length":
            for i in 0..<4 { bytes[aranges.offset + i] = 0xF0 }
        default:
            // Every set's debug_info_offset (after unit_length and version) names unit 0.
            var p = aranges.offset
            while p + 16 <= range.upperBound {
                let length = Int(bytes[p]) | Int(bytes[p + 1]) << 8 | Int(bytes[p + 2]) << 16 | Int(bytes[p + 3]) << 24
                for i in 6..<10 { bytes[p + i] = 0 }
                p += 4 + length
            }
        }
        let out = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("vmlinux-aranges-\(damage.replacingOccurrences(of: " ", with: "-"))")
        try Data(bytes).write(to: out)
        defer { try? FileManager.default.removeItem(at: out) }
        let t = try DWARFKernelTypes(path: out.path)
        let sym = try #require(t.lookup("its_nodes")?.first)
        let fileSymbol = try #require(sym.fileSymbol)
        #expect(t.unitByAddressRanges(file: "irq-gic-v3-its.c", fileSymbol: fileSymbol) == nil)
        let node = try #require(t.structure("its_node", inUnitOf: "its_nodes"))
        #expect(node.size == 384 && node.offset("its_device_list") == 336)
        #expect(t.structure("its_device", inUnitOf: "its_nodes")?.size == 104)
        #expect(t.structure("irq_desc", inUnitOf: "irq_desc_tree")?.size == original.structure("irq_desc", inUnitOf: "irq_desc_tree")?.size)
    }

    /// The scan with the vmlinux's pointers finds the text the full scan finds, and it does so
    /// within the first 16 MiB of RAM (the kernel image; kvm-basic's text lies 45 MiB in).
    @Test(arguments: Fixtures.stops)
    func theScanEndsAtTheKernelImage(stop: String) throws {
        let d = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let types = try Self.types()
        let pointers = try #require(types.vmcoreinfoPointers)
        let full = try #require(VMCOREINFO.scan(d.memory))
        let bounded = try #require(VMCOREINFO.scan(d.memory, maxPages: 4096, pointers: pointers))
        #expect(bounded.source == full.source)
        #expect(bounded.pairs.map(\.key) == full.pairs.map(\.key) && bounded.pairs.map(\.value) == full.pairs.map(\.value))
        if let pairs = d.vmcoreinfo {
            #expect(pairs.first { $0.key == "KERNELOFFSET" }?.value == bounded["KERNELOFFSET"])
        }
        if stop == "kvm-basic" {
            #expect(bounded.source == "found in guest RAM at 0x42d23000")
            #expect(VMCOREINFO.scan(d.memory, maxPages: 4096) == nil)
        }
    }

    /// Pointers that lead nowhere (another build's addresses) leave the scan to go on.
    @Test func wrongPointersLeaveTheFullScan() throws {
        let d = try Dump.open(try Fixtures.member("kvm-basic", "core.elf"))
        let types = try Self.types()
        var p = try #require(types.vmcoreinfoPointers)
        p.data &+= 0x1000
        p.note = nil
        #expect(VMCOREINFO.scan(d.memory, pointers: p)?.source == "found in guest RAM at 0x42d23000")
        p.release = "6.1.0-99-arm64"
        #expect(VMCOREINFO.scan(d.memory, pointers: p)?.source == "found in guest RAM at 0x42d23000")
    }
}

/// `.debug_aranges` read by hand (AddressRanges), on sets built after DWARF 5 §6.1.2.
@Suite struct AddressRangesTests {
    /// One set: unit_length, version 2, debug_info_offset, address_size 8, segment size 0,
    /// padding to 16, tuples, the (0, 0) end.
    static func set(unit: UInt32, _ ranges: [(UInt64, UInt64)], version: UInt16 = 2, dwarf64: Bool = false) -> [UInt8] {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let header = dwarf64 ? 12 : 4
        var body = le(UInt64(version), 2) + le(UInt64(unit), dwarf64 ? 8 : 4) + [8, 0]
        while (header + body.count) % 16 != 0 { body.append(0) }
        for (a, l) in ranges + [(0, 0)] { body += le(a, 8) + le(l, 8) }
        return (dwarf64 ? [0xFF, 0xFF, 0xFF, 0xFF] + le(UInt64(body.count), 8) : le(UInt64(body.count), 4)) + body
    }

    func unit(_ address: UInt64, _ bytes: [UInt8]) -> UInt64? {
        bytes.withUnsafeBytes { AddressRanges.unit(containing: address, in: $0, bigEndian: false) }
    }

    @Test func theSetHoldingTheAddressNamesItsUnit() {
        let s = Self.set(unit: 0x10, [(0x1000, 0x100), (0x3000, 0x10)]) + Self.set(unit: 0x2000, [(0x2000, 0x800)], dwarf64: true)
            + Self.set(unit: 0x9999, [(0x5000, 0x10)], version: 3) + Self.set(unit: 0x4000, [(0x5000, 0x10)])
        #expect(unit(0x1000, s) == 0x10)
        #expect(unit(0x10FF, s) == 0x10)
        #expect(unit(0x1100, s) == nil)
        #expect(unit(0x300F, s) == 0x10)
        #expect(unit(0x27FF, s) == 0x2000)
        // A set of an unknown version is skipped, not read.
        #expect(unit(0x5000, s) == 0x4000)
    }

    @Test func cutOrDamagedSectionsNeverTrapAndNeverInvent() {
        let s = Self.set(unit: 0x10, [(0x1000, 0x100)]) + Self.set(unit: 0x20, [(0x2000, 0x100)])
        // Every prefix: the first set's answer once it is whole, else nothing.
        let first = Self.set(unit: 0x10, [(0x1000, 0x100)]).count
        for n in 0...s.count {
            let cut = Array(s.prefix(n))
            #expect(unit(0x1000, cut) == (n >= first ? 0x10 : nil))
            #expect(unit(0x2000, cut) == (n == s.count ? 0x20 : nil))
        }
        // Lengths past the end, reserved lengths, a 64-bit length past 2^63.
        #expect(unit(0x1000, [0xF0, 0xFF, 0xFF, 0xFF] + s) == nil)
        #expect(unit(0x1000, [0x00, 0x00, 0x00, 0x80] + s) == nil)
        #expect(unit(0x1000, [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x80] + s) == nil)
        // Zero-length sets move on by their header.
        #expect(unit(0x1000, [0, 0, 0, 0, 0, 0, 0, 0] + s) == 0x10)
        // An address size of 3 is skipped.
        var odd = s
        odd[10] = 3
        #expect(unit(0x1000, odd) == nil)
        #expect(unit(0x2000, odd) == 0x20)
    }
}
