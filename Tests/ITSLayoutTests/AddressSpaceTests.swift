import Testing
@testable import ITSLayout
import GuestKernel

/// input-formats.md §6: VMCOREINFO parsing, the linear map, and page-table walks for every granule.
@Suite struct AddressSpaceTests {
    func info(pageSize: UInt64, vaBits: UInt64, swapper: UInt64) -> VMCOREINFO {
        VMCOREINFO(text: """
            OSRELEASE=6.1.0-test
            PAGESIZE=\(pageSize)
            SYMBOL(swapper_pg_dir)=\(String(swapper, radix: 16))
            NUMBER(VA_BITS)=\(vaBits)
            NUMBER(kimage_voffset)=0xffff7fffc7e00000
            NUMBER(PHYS_OFFSET)=0x40000000
            KERNELOFFSET=0
            """, source: "test")
    }

    @Test func vmcoreinfoNumbersAreDecimalOrHexAsTheKernelWritesThem() {
        let v = info(pageSize: 4096, vaBits: 48, swapper: 0xFFFF_8000_0965_8000)
        #expect(v.number("PAGESIZE") == 4096 && v.number("NUMBER(VA_BITS)") == 48)
        #expect(v.number("NUMBER(kimage_voffset)") == 0xFFFF_7FFF_C7E0_0000)
        #expect(v.number("SYMBOL(swapper_pg_dir)") == 0xFFFF_8000_0965_8000)
        #expect(v.number("KERNELOFFSET") == 0)
    }

    /// Builds the TTBR1 tables for one VA → PA page mapping, level by level, after §6.5.
    func mapped(pageSize: UInt64, vaBits: UInt64, va: UInt64, pa: UInt64, block: Bool = false) throws -> KernelAddressSpace {
        var b = ImageBuilder()
        let swapperVA: UInt64 = 0xFFFF_8000_0965_0000
        let kimage: UInt64 = 0xFFFF_7FFF_C7E0_0000
        var table = swapperVA &- kimage  // PA of swapper_pg_dir
        let shift = UInt64(pageSize.trailingZeroBitCount), bits = shift - 3
        let levels = (vaBits - shift + bits - 1) / bits
        var next = table + 0x10_0000
        for level in 0..<levels {
            let below = levels - 1 - level
            let s = shift + bits * below
            let top = level == 0 ? (vaBits - shift - 1) % bits + 1 : bits
            let index = (va >> s) & ((1 << top) - 1)
            b.map(table, pageSize)
            if below == 1 && block {
                b.image.write64(table + index * 8, (pa & ~((UInt64(1) << s) - 1)) | 0x701)  // block
                break
            } else if below == 0 {
                b.image.write64(table + index * 8, pa | 0x703)  // page
            } else {
                b.image.write64(table + index * 8, next | 0x1000_0000_0000_0003)  // table (bit 60 set: masked)
                table = next
                next += pageSize
            }
        }
        return try KernelAddressSpace(info(pageSize: pageSize, vaBits: vaBits, swapper: swapperVA), memory: b.image)
    }

    @Test(arguments: [(UInt64(4096), UInt64(48)), (4096, 39), (16384, 47), (16384, 48), (65536, 42), (65536, 48)])
    func pageTableWalkForEveryGranule(pageSize: UInt64, vaBits: UInt64) throws {
        let va: UInt64 = (0 &- (UInt64(1) << (vaBits - 1))) | 0x1234_5000 & ~(pageSize - 1) | 0x123
        let pa: UInt64 = 0x4321_0000 / pageSize * pageSize
        let s = try mapped(pageSize: pageSize, vaBits: vaBits, va: va, pa: pa)
        #expect(s.walk(va) == GuestPhysicalAddress(pa | 0x123))
        #expect(s.walk(va &+ pageSize) == nil)  // the next page is not mapped
    }

    @Test func blockMappingsAtTheLevelAboveThePage() throws {
        let va: UInt64 = 0xFFFF_8000_0830_1234
        let s = try mapped(pageSize: 4096, vaBits: 48, va: va, pa: 0x4800_0000, block: true)
        #expect(s.walk(va) == GuestPhysicalAddress(0x4800_0000 | (va & 0x1F_FFFF)))  // 2 MiB block
    }

    @Test func linearMapAndImageAndVmemmap() throws {
        let s = try KernelAddressSpace(info(pageSize: 4096, vaBits: 48, swapper: 0xFFFF_8000_0965_8000), memory: SparseImage())
        // §6.7: linear-map and kernel-image examples.
        #expect(s.physical(0xFFFF_0000_0251_FA00) == GuestPhysicalAddress(0x4251_FA00))
        #expect(s.image(0xFFFF_8000_09DC_3560) == GuestPhysicalAddress(0x41FC_3560))
        // §5.7: pend_page fffffc0000097000 → 0x425c0000 (vmemmap 4K/48, 64-byte struct page).
        #expect(s.pagePointer(0xFFFF_FC00_0009_7000) == GuestPhysicalAddress(0x425C_0000))
        #expect(s.pagePointer(0xFFFF_FC00_0009_7400) == GuestPhysicalAddress(0x425D_0000))
    }

    @Test func scanFindsTheDataPageAndTheNoteForm() {
        var b = ImageBuilder()
        b.map(0x4000_0000, 3 * 4096)
        let text = Array("OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(PHYS_OFFSET)=0x40000000\n".utf8)
        b.image.write(0x4000_2000 + 24, bytes: text)
        b.image.write(0x4000_2000, bytes: [0x0B, 0, 0, 0, UInt8(text.count), 0, 0, 0, 0, 0, 0, 0] + Array("VMCOREINFO".utf8) + [0, 0])
        #expect(VMCOREINFO.scan(b.image)?.source == "found in guest RAM at 0x40002018")
        b.image.write(0x4000_1000, bytes: text)
        #expect(VMCOREINFO.scan(b.image)?.source == "found in guest RAM at 0x40001000")
        // A PHYS_OFFSET outside the dump's RAM is a stale copy: not taken.
        var c = ImageBuilder()
        c.map(0x4000_0000, 4096)
        c.image.write(0x4000_0000, bytes: Array("OSRELEASE=x\nPAGESIZE=4096\nNUMBER(PHYS_OFFSET)=0x80000000\n".utf8))
        #expect(VMCOREINFO.scan(c.image) == nil)
    }

    @Test(arguments: ["PAGESIZE=0", "PAGESIZE=12345", "NUMBER(TCR_EL1_T1SZ)=99", "NUMBER(VA_BITS)=64"])
    func impossibleVMCOREINFOValuesAreErrorsNotTraps(line: String) {
        let text = "KERNELOFFSET=0\nNUMBER(kimage_voffset)=0x1\nNUMBER(PHYS_OFFSET)=0x40000000\nNUMBER(VA_BITS)=48\nPAGESIZE=4096\n" + line + "\n"
        var v = VMCOREINFO(text: text, source: "test")
        // The later line wins for a repeated key.
        let key = String(line.split(separator: "=")[0])
        v.pairs.removeAll { $0.key == key && $0.value != String(line.split(separator: "=")[1]) }
        #expect(throws: KernelAddressSpace.Problem.self) { try KernelAddressSpace(v, memory: SparseImage()) }
    }
}
