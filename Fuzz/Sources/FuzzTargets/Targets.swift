import CoreDumpReader
import Foundation
import ITSLayout

/// One function per parser: each takes the fuzzer's bytes and must end without a crash, a
/// hang or a large allocation; errors and findings are the expected outcomes.
public enum FuzzTargets {
    /// Inputs that are files go through a real file (the readers map files).
    static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        let path = "/tmp/itsdump-fuzz-\(getpid()).bin"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        body(path)
    }

    /// Walks every ITS the registers describe and builds the graph: reads every byte it can.
    static func walkAll(_ memory: any GuestMemory, _ regs: RegisterState) {
        for (i, its) in regs.its.enumerated() {
            guard let t = try? ITSWalker.walk(memory: memory, registers: its, itsIndex: i) else { continue }
            let g = RoutingGraph.build(t, redistributors: regs.redistributors, memory: memory, vcpuCount: 4)
            let q = CommandQueue.read(its, memory: memory)
            _ = StateChecks.run(t, graph: g, redistributors: regs.redistributors, memory: memory, queue: q)
        }
    }

    static func defaultRegisters(_ format: ITSFormat) -> RegisterState {
        var its = ITSRegisterState()
        let p = Provenance(.flag, "fuzz")
        its.typer = Sourced(GITSTyper(rawValue: format == .kvm ? 0x1EF71 : 0x1F_0001_EFB1), p)
        its.baser[0] = Sourced(GITSBaser(rawValue: 0xF907_0000_425A_0600), p)
        its.baser[1] = Sourced(GITSBaser(rawValue: 0xBC07_0000_425B_0600), p)
        var rd = RedistributorState(cpu: 0)
        rd.propbaser = Sourced(GICRPropBaser(rawValue: 0x425C_078F), p)
        rd.pendbaser = Sourced(GICRPendBaser(rawValue: 0x425D_0780), p)
        return RegisterState(its: [its], redistributors: [rd])
    }

    public static func elf(_ bytes: [UInt8]) {
        withFile(bytes) { path in
            guard let d = try? Dump.open(path) else { return }
            walkAll(d.memory, defaultRegisters(.kvm))
        }
    }

    public static func raw(_ bytes: [UInt8]) {
        withFile(bytes) { path in
            guard let d = try? Dump.open(path + "@0x425a0000") else { return }
            walkAll(d.memory, defaultRegisters(.qemu))
        }
    }

    public static func stream(_ bytes: [UInt8]) {
        withFile(bytes) { path in
            guard let f = try? MappedFile(path: path), let s = try? MigrationStream(file: f) else { return }
            walkAll(s, s.registers)
        }
    }

    public static func kdump(_ bytes: [UInt8]) {
        withFile(bytes) { path in
            guard let f = try? MappedFile(path: path), let k = try? KdumpFile(file: f) else { return }
            walkAll(k, defaultRegisters(.kvm))
        }
    }

    public static func regs(_ bytes: [UInt8]) {
        _ = try? RegisterStateFile.parse(bytes, path: "fuzz.json")
    }

    public static func debugfs(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = VGICState.parse(text)
        _ = VGICITSState.parse(text)
    }

    /// The walkers over an arbitrary guest image plus arbitrary register values: the first 64
    /// bytes choose GITS_BASER0/1, GITS_TYPER, CBASER, CREADR/CWRITER, PROPBASER, PENDBASER and
    /// the format; the rest is guest memory at the addresses those registers name (a page at
    /// each table base and at each address an entry points to is mapped from the data).
    public static func walker(_ bytes: [UInt8]) {
        guard bytes.count >= 64 else { return }
        let w = (0..<8).map { bytes.loadLE(at: $0 * 8, count: 8) }
        let format: ITSFormat = w[7] & 1 == 0 ? .kvm : .qemu
        var its = ITSRegisterState()
        let p = Provenance(.flag, "fuzz")
        its.baser[0] = Sourced(GITSBaser(rawValue: w[0]), p)
        its.baser[1] = Sourced(GITSBaser(rawValue: w[1]), p)
        its.typer = Sourced(GITSTyper(rawValue: w[2]), p)
        its.cbaser = Sourced(GITSCBaser(rawValue: w[3]), p)
        its.creadr = Sourced(GITSCommandOffset(rawValue: w[4] & 0xFFFFF), p)
        its.cwriter = Sourced(GITSCommandOffset(rawValue: w[4] >> 32 & 0xFFFFF), p)
        var rd = RedistributorState(cpu: 0)
        rd.propbaser = Sourced(GICRPropBaser(rawValue: w[5]), p)
        rd.pendbaser = Sourced(GICRPendBaser(rawValue: w[6]), p)
        // Guest memory: the data after the header, laid at each table base, repeated.
        var image = SparseImage()
        let body = Array(bytes[64...])
        let bases = [GITSBaser(rawValue: w[0]).physicalAddress.rawValue, GITSBaser(rawValue: w[1]).physicalAddress.rawValue,
                     GICRPropBaser(rawValue: w[5]).physicalAddress.rawValue]
        for b in bases where !body.isEmpty {
            image.write(b, bytes: Array(body.prefix(65536)))
        }
        // Level-1 entries and DTEs in the body point elsewhere: map a page of the body at each.
        for i in stride(from: 0, to: min(body.count, 512) - 7, by: 8) where body.count >= 8 {
            let v = body.loadLE(at: i, count: 8)
            let mask44: UInt64 = (1 << 44) - 1
            let level2: UInt64 = v & 0x000F_FFFF_FFFF_F000
            let qemuITT: UInt64 = (v >> 6 & mask44) << 8
            let kvmITT: UInt64 = (v >> 5 & mask44) << 8
            for a in [level2, qemuITT, kvmITT] where a != 0 {
                if image.chunks.count < 64 { image.write(a, bytes: Array(body.prefix(4096))) }
            }
        }
        var regs = RegisterState(its: [its], redistributors: [rd])
        regs.its[0].iidr = Sourced(GITSIIDR(rawValue: format == .kvm ? 0x4B00_043B : 0x43B), p)
        var limits = WalkLimits()
        limits.maxBytesRead = 1 << 20
        limits.maxEntries = 1 << 14
        for (i, s) in regs.its.enumerated() {
            guard let t = try? ITSWalker.walk(memory: image, registers: s, itsIndex: i, format: format, limits: limits) else { continue }
            let g = RoutingGraph.build(t, redistributors: regs.redistributors, memory: image, vcpuCount: 4)
            let q = CommandQueue.read(s, memory: image)
            _ = StateChecks.run(t, graph: g, redistributors: regs.redistributors, memory: image, queue: q)
        }
    }
}
