import Testing
@testable import ITSLayout
import GuestKernel

/// The driver walk (issue 11) on guest images built here, through a type source that gives the
/// 6.1 layouts of input-formats.md §5.3–§5.6: what a hostile or an older guest can put in
/// memory that the real snapshots do not show.
struct DriverWalkTests {
    /// The members the walk reads, at their 6.1 offsets (§5.3, §5.4, §5.5, §5.6).
    struct Types61: KernelTypes {
        /// A kernel whose `struct its_device` has no `shared` member.
        var withoutShared = false
        static let itsNodes: UInt64 = 0xffff_8000_09dc_3560
        static let gicRdists: UInt64 = 0xffff_8000_09dc_3580
        static let perCPUOffset: UInt64 = 0xffff_8000_09dc_4000
        func symbol(_ name: String, near: String?) -> UInt64? {
            ["its_nodes": Self.itsNodes, "gic_rdists": Self.gicRdists, "__per_cpu_offset": Self.perCPUOffset][name]
        }
        func layout(_ name: String, _ size: UInt64, _ m: [(String, UInt64)]) -> StructLayout {
            StructLayout(name: name, size: size, members: m.map { .init(name: $0.0, offset: $0.1, size: 8) }, token: 0)
        }
        func structure(_ name: String, inUnitOf variable: String) -> StructLayout? {
            switch name {
            case "its_node": layout(name, 384, [("entry", 40), ("phys_base", 72), ("cmd_base", 80), ("cmd_write", 88), ("tables", 96),
                                                ("collections", 288), ("typer", 312), ("its_device_list", 336)])
            case "its_device": layout(name, 104, [("entry", 0), ("event_map", 24), ("itt", 80), ("nr_ites", 88), ("device_id", 92)]
                                      + (withoutShared ? [] : [("shared", 96)]))
            case "rdists": layout(name, 48, [("rdist", 0), ("prop_table_pa", 8)])
            default: nil
            }
        }
        func memberStructure(_ layout: StructLayout, _ member: String, inUnitOf variable: String) -> StructLayout? {
            switch member {
            case "event_map": self.layout("event_lpi_map", 56, [("lpi_map", 0), ("col_map", 8), ("lpi_base", 16), ("nr_lpis", 24)])
            case "tables": self.layout("its_baser", 24, [("base", 0), ("val", 8)])
            case "collections": self.layout("its_collection", 16, [("target_address", 0), ("col_id", 8)])
            case "rdist": self.layout("", 56, [("pend_page", 16)])
            default: nil
            }
        }
        var buildID: String? { nil }
        var release: String? { nil }
    }

    /// 48-bit VA, 4K pages, RAM from 0x40000000; kernel image VA − kimage_voffset = PA (§6.3).
    static let kimageVoffset: UInt64 = 0xffff_7fff_c800_0000
    static func info(_ extra: String = "") -> VMCOREINFO {
        VMCOREINFO(text: """
            OSRELEASE=5.10.0-test
            PAGESIZE=4096
            NUMBER(VA_BITS)=48
            NUMBER(kimage_voffset)=0x\(String(kimageVoffset, radix: 16))
            NUMBER(PHYS_OFFSET)=0x40000000
            KERNELOFFSET=0
            \(extra)
            """, source: "test")
    }
    /// Linear-map VA of a PA (§6.4).
    static func lin(_ pa: UInt64) -> UInt64 { 0xffff_0000_0000_0000 + pa - 0x4000_0000 }
    static func img(_ va: UInt64) -> UInt64 { va - kimageVoffset }

    struct Guest {
        var image = SparseImage()
        /// One its_node at `node` (PA) whose device list holds `devices` (PAs of its_device).
        mutating func node(_ node: UInt64, next: UInt64, devices: [UInt64]) {
            image.write64(node + 40, next)
            image.write64(node + 72, 0x0808_0000)
            image.write64(node + 96 + 8, 0xf907_0000_4259_0600)
            let head = DriverWalkTests.lin(node + 336)
            let links = devices.map { DriverWalkTests.lin($0) }
            image.write64(node + 336, links.first ?? head)
            for (i, d) in devices.enumerated() { image.write64(d, i + 1 < links.count ? links[i + 1] : head) }
        }
        mutating func device(_ d: UInt64, id: UInt32, nrItes: UInt32, lpiBase: UInt64, nrLPIs: UInt32, bitmap: UInt64, colMap: UInt64) {
            image.write64(d + 24, DriverWalkTests.lin(bitmap))
            image.write64(d + 32, DriverWalkTests.lin(colMap))
            image.write64(d + 40, lpiBase)
            image.write32(d + 48, nrLPIs)
            image.write32(d + 88, nrItes)
            image.write32(d + 92, id)
        }
        func walk(_ info: VMCOREINFO = DriverWalkTests.info(), cpus: Int = 2, types: Types61 = Types61()) throws -> DriverView {
            let space = try KernelAddressSpace(info, memory: image)
            return try DriverWalker.walk(types: types, space: space, memory: image, cpus: cpus)
        }
    }

    @Test func aSmallDriverStateAndA510PendingPage() throws {
        var g = Guest()
        let headPA = Self.img(Types61.itsNodes)
        g.image.write64(headPA, Self.lin(0x4251_fa00 + 40))
        g.node(0x4251_fa00, next: Types61.itsNodes, devices: [0x4327_4180])
        g.device(0x4327_4180, id: 0x18, nrItes: 2, lpiBase: 8193, nrLPIs: 2, bitmap: 0x4400_0000, colMap: 0x4400_0100)
        g.image.write64(0x4400_0000, 0b11)
        g.image.write(0x4400_0100, bytes: [1, 0, 0, 0])
        // gic_rdists → rdists with the per-CPU pointer; CPU c's rdist at percpu + __per_cpu_offset[c].
        g.image.write64(Self.img(Types61.gicRdists), Self.lin(0x4500_0000))
        g.image.write64(0x4500_0000, 0xffff_8000_0981_ba90)
        g.image.write64(0x4500_0008, 0x425b_0000)
        for c in 0..<UInt64(2) {
            let rd: UInt64 = 0x4600_0000 + c * 0x1000
            g.image.write64(Self.img(Types61.perCPUOffset) + c * 8, Self.lin(rd) &- 0xffff_8000_0981_ba90)
            // The 5.4–5.10 vmemmap (−VMEMMAP_SIZE − 2 MiB = 0xfffffdffffe00000 at 48 bits, 4K):
            // vmemmap = that − (PHYS_OFFSET >> 12) × 64; the page of PA 0x425c0000 + c × 64K.
            let pfn = (0x425c_0000 + c * 0x10000) >> 12
            g.image.write64(rd + 16, 0xffff_fdff_ffe0_0000 - 0x40000 * 64 + pfn * 64)
            g.image.map(0x425c_0000 + c * 0x10000, length: 0x1000)
        }
        let v = try g.walk()
        #expect(v.its.count == 1 && v.its[0].physBase == 0x0808_0000 && v.its[0].basers == [0xf907_0000_4259_0600, 0, 0, 0, 0, 0, 0, 0])
        #expect(v.routes.map { [$0.deviceID.rawValue, $0.eventID.rawValue, $0.lpi.rawValue, $0.cpu] } == [[0x18, 0, 8193, 1], [0x18, 1, 8194, 0]])
        #expect(v.propTable == GuestPhysicalAddress(0x425b_0000))
        // No NUMBER(VMEMMAP_START): the 5.11+ candidate lands 8 TiB away, outside RAM; the
        // 5.4–5.10 one in it.
        #expect(v.pendingTables.map(\.address.rawValue) == [0x425c_0000, 0x425d_0000])
        // With the 6.1 export, the §5.7 worked example: pend_page fffffc0000097000 → 0x425c0000.
        let s61 = try KernelAddressSpace(Self.info("NUMBER(VMEMMAP_START)=0xfffffc0000000000"), memory: g.image)
        #expect(s61.pagePointer(0xffff_fc00_0009_7000) == GuestPhysicalAddress(0x425c_0000))
        #expect(v.problems.isEmpty)
    }

    /// A kernel whose its_device has no `shared`: the walk says so and reads no other member in
    /// its place (offset 0 is the list link, which is never zero).
    @Test func aMissingSharedMemberIsANamedProblemNotAnotherMember() throws {
        var g = Guest()
        g.image.write64(Self.img(Types61.itsNodes), Self.lin(0x4251_fa00 + 40))
        g.node(0x4251_fa00, next: Types61.itsNodes, devices: [0x4327_4180])
        g.device(0x4327_4180, id: 0x18, nrItes: 2, lpiBase: 8193, nrLPIs: 2, bitmap: 0x4400_0000, colMap: 0x4400_0100)
        g.image.write64(0x4400_0000, 0b11)
        g.image.write(0x4400_0100, bytes: [1, 0, 0, 0])
        g.image.write(0x4327_4180 + 96, bytes: [1])
        let with = try g.walk()
        #expect(with.its[0].devices.map(\.shared) == [true])
        #expect(!with.problems.contains { $0.contains("shared") })
        let without = try g.walk(types: Types61(withoutShared: true))
        #expect(without.its[0].devices.map(\.shared) == [false])
        #expect(without.problems.contains("struct its_device has no member shared in this kernel's types: its devices are taken as not shared"))
        #expect(without.routes.count == 2)
    }

    @Test func listsThatLeadIntoOneAnotherAreBoundedForTheWholeWalk() throws {
        // 300 ITS nodes, each of whose device lists runs through the same 1000 devices and never
        // comes back (a cycle through device 1); every device claims 65536 events, all allocated.
        var g = Guest()
        let headPA = Self.img(Types61.itsNodes)
        let nodes = (0..<UInt64(300)).map { 0x5000_0000 + $0 * 0x200 }
        let devs = (0..<UInt64(1000)).map { 0x5100_0000 + $0 * 0x80 }
        g.image.write64(headPA, Self.lin(nodes[0] + 40))
        for (i, n) in nodes.enumerated() {
            g.node(n, next: i + 1 < nodes.count ? Self.lin(nodes[i + 1] + 40) : Types61.itsNodes, devices: [])
            g.image.write64(n + 336, Self.lin(devs[0]))
        }
        for (i, d) in devs.enumerated() {
            g.device(d, id: UInt32(i), nrItes: 1 << 16, lpiBase: 8192, nrLPIs: 1 << 16, bitmap: 0x5200_0000, colMap: 0x5300_0000)
            g.image.write64(d, Self.lin(devs[(i + 1) % devs.count]))
        }
        g.image.write(0x5200_0000, bytes: [UInt8](repeating: 0xFF, count: 8192))
        g.image.map(0x5300_0000, length: 1 << 17)
        let v = try g.walk()
        #expect(v.its.count == DriverWalker.maxITSNodes)
        #expect(v.its.reduce(0) { $0 + $1.devices.count } == DriverWalker.maxDevices)
        #expect(v.its.reduce(0) { $0 + $1.devices.reduce(0) { $0 + $1.events.count } } == DriverWalker.maxEvents)
        for cut in ["its_nodes: more entries than the walk's bound allows; cut after 256",
                    "more than 1048576 events in all", "more than 2097152 words of event bitmaps in all"] {
            #expect(v.problems.contains { $0.contains(cut) }, "\(cut)")
        }
        #expect(v.problems.count < 400)
    }

    @Test func aVMCOREINFOWithAnImpossiblePageStructSizeIsRefused() {
        #expect(throws: KernelAddressSpace.Problem.self) {
            _ = try KernelAddressSpace(Self.info("SIZE(page)=0"), memory: SparseImage())
        }
    }

    @Test func theRAMScanStopsAtTheTopOfTheAddressSpace() {
        var image = SparseImage()
        image.map(0xffff_ffff_ffff_f000, length: 0x1000)
        image.write(0x4000_0000, bytes: Array("OSRELEASE=6.1\nPAGESIZE=4096\nNUMBER(PHYS_OFFSET)=0x40000000\n".utf8))
        #expect(VMCOREINFO.scan(image)?.source == "found in guest RAM at 0x40000000")
    }
}
