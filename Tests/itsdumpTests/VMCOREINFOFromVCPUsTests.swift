import Foundation
@testable import GuestKernel
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// VMCOREINFO without its note (issue 20): the vCPUs' registers place the kernel image, kallsyms
/// is found past the PC, and vmcoreinfo_append_str's pointers lead to the text. On every real
/// ELF core the text found equals the note QEMU wrote (tcg stops) or what the scan of RAM finds
/// (kvm stops, no note); hostile registers and memory end in nil, never a trap.
@Suite(.serialized) struct VMCOREINFOFromVCPUsTests {
    static func cpus(_ d: Dump) -> [VCPURegisters] {
        d.reader.extractNotes.filter { $0.name == "CORE" && $0.type == 1 }.compactMap { VCPURegisters(prstatus: $0.descriptor) }
    }

    static func pairs(_ v: VMCOREINFO) -> [String] { v.pairs.map { "\($0.key)=\($0.value)" } }

    @Test(arguments: Fixtures.stops)
    func theTextFoundIsTheNotesOrTheScans(stop: String) throws {
        let d = try Dump.open(try Fixtures.member(stop, "core.elf"))
        let cpus = Self.cpus(d)
        #expect(cpus.count == d.vcpuCount)
        let found = try #require(VMCOREINFOFromVCPUs.locate(cpus: cpus, memory: d.memory), "\(stop)")
        #expect(found.source.contains("the kernel image placed by the vCPUs' registers and kallsyms"))
        if let note = d.vmcoreinfo {
            #expect(found.pairs.map { "\($0.key)=\($0.value)" } == note.map { "\($0.key)=\($0.value)" }, "\(stop)")
        } else {
            let scanned = try #require(VMCOREINFO.scan(d.memory))
            #expect(Self.pairs(found) == Self.pairs(scanned), "\(stop)")
        }
        // The kallsyms pass made on the way covers the zero-configuration path's names, and
        // gives System.map-6.1.0-56-arm64's addresses plus the KERNELOFFSET of the text found
        // (which is the note's or the scan's, above).
        let lookup = try #require(found.kallsymsLookup)
        #expect(lookup.names.isSuperset(of: ZeroConfigKernel.wantedSymbols))
        let kaslr = try #require(found.number("KERNELOFFSET"))
        for (name, link) in Self.systemMap {
            #expect(lookup.symbols[name]?.map(\.symbol.address) == [link &+ kaslr], "\(stop) \(name)")
        }
        #expect(lookup.symbols["its_nodes"] == nil)  // a data symbol: not in 6.1's kallsyms
    }

    /// Text symbols of the fixtures' kernel, from its System.map (kernel/System.map-6.1.0-56-arm64.zst).
    static let systemMap: [String: UInt64] = [
        "its_save_disable": 0xffff_8000_0860_5e90, "lpi_write_config": 0xffff_8000_0860_53d0,
        "irq_to_desc": 0xffff_8000_0812_66e0, "btf_parse_vmlinux": 0xffff_8000_0827_39a0,
        "vmcoreinfo_append_str": 0xffff_8000_0818_6224,
    ]

    /// kvm-basic (no note): `driver` names the way it found VMCOREINFO, at the page the scan
    /// finds it in (the note buffer, text at +24), and its routes are the ground truth.
    @Test func kvmBasicDriverSaysHowVMCOREINFOWasFound() throws {
        let core = try Fixtures.member("kvm-basic", "core.elf")
        // The dump's own bytes: an ELF note named VMCOREINFO at 0x42d26000, whose text (+24)
        // is the text the scan of RAM finds (its data page, 0x42d23000).
        let d = try Dump.open(core)
        guard case .bytes(let head) = d.memory.read(GuestPhysicalAddress(0x42d2_6000), count: 24) else { Issue.record("no page"); return }
        #expect(Array(head[0..<4]) == [0x0B, 0, 0, 0] && Array(head[12..<22]) == Array("VMCOREINFO".utf8))
        let scanned = try #require(VMCOREINFO.scan(d.memory))
        #expect(scanned.source == "found in guest RAM at 0x42d23000")
        #expect(Self.pairs(try #require(VMCOREINFO.text(atPage: 0x42d2_6000, memory: d.memory))) == Self.pairs(scanned))
        let r = try CLI.run(["driver", core])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("VMCOREINFO: found in guest RAM at 0x42d26018 through the pointer at 0xffffb6cab6da6f90 (ADRP in vmcoreinfo_append_str), the kernel image placed by the vCPUs' registers and kallsyms"))
    }

    /// The PRSTATUS layout (input-formats.md §1.4): x29 at 112 + 29 × 8, sp, pc, pstate after x30.
    @Test func prstatusLayout() {
        var d = [UInt8](repeating: 0, count: 392)
        func put(_ at: Int, _ v: UInt64) { for i in 0..<8 { d[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(112 + 29 * 8, 0x29); put(360, 0x5b); put(368, 0xffff_8000_0800_0000); put(376, 0x3c5)
        #expect(VCPURegisters(prstatus: d) == VCPURegisters(x29: 0x29, sp: 0x5b, pc: 0xffff_8000_0800_0000, pstate: 0x3c5))
        #expect(VCPURegisters(prstatus: d)?.inKernel == true)
        put(376, 0x3c0)  // EL0
        #expect(VCPURegisters(prstatus: d)?.inKernel == false)
        #expect(VCPURegisters(prstatus: Array(d.prefix(383))) == nil)
    }

    /// Registers of no use: user space, a PC outside the image, a kernel PC in a dump that
    /// holds no kernel. Each ends in nil, and the real core's own registers, with the PC moved
    /// within the text, still find the text.
    @Test func hostileRegisters() throws {
        let d = try Dump.open(try Fixtures.member("kvm-basic", "core.elf"))
        var cpus = Self.cpus(d)
        let user = cpus.map { VCPURegisters(x29: $0.x29, sp: $0.sp, pc: 0x0000_aaaa_0000_1000, pstate: 0) }
        #expect(VMCOREINFOFromVCPUs.locate(cpus: user, memory: d.memory) == nil)
        let nowhere = cpus.map { _ in VCPURegisters(x29: 0, sp: 0, pc: 0xffff_ffff_ffff_fffc, pstate: 5) }
        #expect(VMCOREINFOFromVCPUs.locate(cpus: nowhere, memory: d.memory) == nil)
        #expect(VMCOREINFOFromVCPUs.locate(cpus: [], memory: d.memory) == nil)
        // CPU 0's frame record alone (no WFI before the moved PC) places the image.
        cpus[0].pc &+= 0x1000
        let moved = try #require(VMCOREINFOFromVCPUs.locate(cpus: [cpus[0]], memory: d.memory))
        #expect(moved.number("NUMBER(kimage_voffset)") == VMCOREINFO.scan(d.memory)?.number("NUMBER(kimage_voffset)"))
        #expect(moved.number("NUMBER(kimage_voffset)") == 0xffff_b6ca_74c0_0000)
    }

    /// Guest memory built to pass every cheap check: a WFI before the PC in every 2 MiB slot
    /// and ascending words everywhere else. At most `maxSearches` slots are searched, each
    /// bounded by the range: nil, in bounded time.
    @Test func hostileMemoryIsBounded() {
        var image = SparseImage()
        let base: UInt64 = 0x4000_0000, size: UInt64 = 8 << 20
        image.map(base, length: size)
        var a = base
        while a < base + size {
            image.write32(a, UInt32(truncatingIfNeeded: (a - base) / 4))
            a += 4
        }
        let pc: UInt64 = 0xffff_8000_0812_3454
        var slot = base | (pc & 0x1F_FFFF)
        while slot < base + size {
            image.write32(slot - 4, 0xD503_207F)
            slot += 2 << 20
        }
        let cpu = VCPURegisters(x29: 0, sp: 0, pc: pc, pstate: 5)
        #expect(VMCOREINFOFromVCPUs.locate(cpus: [cpu], memory: image) == nil)
    }
}

extension VMCOREINFOFromVCPUsTests {
    /// The review's hang: a candidate `kallsyms_relative_base` planted every 64 bytes past the
    /// PC, those whose offsets lie in RAM passing their checks, each with 2^20 names of zero
    /// tokens to walk (1 MiB) before the token table fails. The search's budget (32 candidates,
    /// 64 MiB of names) ends it: nil, where tens of thousands of candidates would have walked
    /// tens of GiB.
    @Test func plantedBasesSpendTheBudgetNotHours() {
        var image = SparseImage()
        let base: UInt64 = 0x4000_0000, size: UInt64 = 8 << 20
        image.map(base, length: size)
        let pc: UInt64 = 0xffff_8000_0812_3454
        let pcPA = base | (pc & 0x1F_FFFF)
        image.write32(pcPA - 4, 0xD503_207F)
        var cell = (pcPA + 65536) & ~63
        while cell + 64 <= base + size {
            image.write64(cell, pc & ~0xFFFF)        // the base: 64 KiB-aligned, below the PC
            image.write32(cell + 8, 1 << 20)        // kallsyms_num_syms
            image.write32(cell + 60, 0x1_0000)      // the last offset, read just before a base
            cell += 64
        }
        let cpu = VCPURegisters(x29: 0, sp: 0, pc: pc, pstate: 5)
        #expect(VMCOREINFOFromVCPUs.locate(cpus: [cpu], memory: image) == nil)
        // The planted bases do reach the names walk, and the budget is what stops them.
        var budget = VMCOREINFOFromVCPUs.Budget()
        let read: (UInt64, Int) -> [UInt8]? = { pa, n in
            guard case .bytes(let b) = image.read(GuestPhysicalAddress(pa), count: n), b.count == n else { return nil }
            return b
        }
        let voffset = pc &- pcPA
        let found = VMCOREINFOFromVCPUs.kallsymsTables(voffset: voffset, pc: pc, pcPA: pcPA, memory: image, read: read,
                                                      kernelBytes: { read($0 &- voffset, $1) }, budget: &budget)
        #expect(found == nil)
        #expect(budget.candidates == 0 || budget.nameBytes == 0, "candidates left \(budget.candidates), name bytes left \(budget.nameBytes)")
    }
}
