import Foundation
import Testing
import GuestKernel
@testable import KernelDWARF
import ITSLayout

/// The type reader on DWARF 4 and DWARF 5 (issue 11: kernels 5.10 … 6.12 come with either). No
/// DWARF 4 kernel is at hand, so Tests/itsdumpTests/DWARF/build.sh builds a two-unit stand-in
/// (its.c, vgic.c: two different `struct its_device`, two static `gic_data`) with both;
/// offsets are x86-64 LP64 by hand.
@Suite struct DWARFVersionTests {
    static func types(_ v: Int) throws -> DWARFKernelTypes {
        let url = try #require(Bundle.module.url(forResource: "types-dwarf\(v)", withExtension: "elf", subdirectory: "DWARF"))
        return try DWARFKernelTypes(path: url.path)
    }

    func offsets(_ s: StructLayout?) -> [String: UInt64] {
        Dictionary((s?.members ?? []).map { ($0.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
    }

    @Test(arguments: [4, 5])
    func layoutsResolveThroughTheVariablesUnit(version: Int) throws {
        let t = try Self.types(version)
        let device = try #require(t.structure("its_device", inUnitOf: "its_nodes"))
        #expect(device.size == 72)
        #expect(offsets(device) == ["entry": 0, "its": 16, "event_map": 24, "itt": 48, "nr_ites": 56, "device_id": 60, "shared": 64])
        let map = t.memberStructure(device, "event_map", inUnitOf: "its_nodes")
        #expect(map?.size == 24)
        #expect(offsets(map) == ["lpi_map": 0, "col_map": 8, "lpi_base": 16, "nr_lpis": 20])

        let node = try #require(t.structure("its_node", inUnitOf: "its_nodes"))
        #expect(node.size == 280)
        // The anonymous union's members are its_node's own.
        #expect(offsets(node) == ["lock": 0, "flags": 8, "entry": 16, "base": 32, "phys_base": 40, "tables": 48,
                                  "collections": 240, "its_device_list": 248, "cbaser_save": 264, "numa_node": 264,
                                  "device_ids": 272])
        // Through an array and through a pointer.
        #expect(offsets(t.memberStructure(node, "tables", inUnitOf: "its_nodes")) == ["base": 0, "val": 8, "order": 16, "psz": 20])
        #expect(t.memberStructure(node, "collections", inUnitOf: "its_nodes")?.size == 16)

        // KVM's struct its_device, reached through a static of vgic.c.
        let kvm = try #require(t.structure("its_device", inUnitOf: "vgic_its_dev"))
        #expect(offsets(kvm) == ["dev_list": 0, "itt_head": 16, "num_eventid_bits": 32, "itt_addr": 40, "device_id": 48])
    }

    @Test(arguments: [4, 5])
    func staticsWithOneNameAreToldApartByTheirFile(version: Int) throws {
        let t = try Self.types(version)
        let all = try #require(t.lookup("gic_data"))
        #expect(all.map(\.file) == ["its.c", "vgic.c"])
        #expect(t.symbol("gic_data", near: "its_nodes") == all[0].value)
        #expect(t.symbol("gic_data", near: "vgic_its_dev") == all[1].value)
        #expect(t.symbol("its_nodes", near: nil) == 0x403000)
        #expect(t.buildID?.count == 40)
    }
}
