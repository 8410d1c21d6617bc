import CoreDumpReader
import Foundation
import ITSLayout

/// One function per parser: each takes the fuzzer's bytes and must end without a crash, a
/// hang or a large allocation; errors and findings are the expected outcomes.
public enum FuzzTargets {
    /// Inputs that are files go through a real file (the readers map files).
    static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        // A plain write: FileManager.createFile writes atomically with two fsyncs (12 ms an input).
        let path = "/tmp/itsdump-fuzz-\(getpid()).bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        body(path)
    }

    /// Walks every ITS the registers describe and builds the graph. The walk's own bounds are
    /// fuzz-walker's business: here it reads at most 256 KiB, so that the time an input takes
    /// measures the parser (see `bounded`).
    static func walkAll(_ memory: any GuestMemory, _ regs: RegisterState) {
        var limits = WalkLimits()
        limits.maxBytesRead = 256 << 10
        limits.maxEntries = 1 << 10
        for (i, its) in regs.its.enumerated().prefix(4) {
            guard let t = try? ITSWalker.walk(memory: memory, registers: its, itsIndex: i, limits: limits) else { continue }
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
        bounded(bytes.count) {
            withFile(bytes) { path in
                guard let d = try? Dump.open(path) else { return }
                walkAll(d.memory, defaultRegisters(.kvm))
            }
        }
    }

    public static func raw(_ bytes: [UInt8]) {
        withFile(bytes) { path in
            guard let d = try? Dump.open(path + "@0x425a0000") else { return }
            walkAll(d.memory, defaultRegisters(.qemu))
        }
    }

    /// Through an in-memory ByteSource: no file per input (the readers take any ByteSource).
    public static func stream(_ bytes: [UInt8]) {
        bounded(bytes.count) {
            guard let s = try? MigrationStream(file: MemoryBytes(bytes)) else { return }
            _ = s.presentRanges
            walkAll(s, s.registers)
        }
    }

    public static func kdump(_ bytes: [UInt8]) {
        bounded(bytes.count) {
            guard let k = try? KdumpFile(file: MemoryBytes(bytes)) else { return }
            _ = k.incompleteReason
            _ = k.damage(at: GuestPhysicalAddress(0x425A_0000))
            walkAll(k, defaultRegisters(.kvm))
        }
    }

    /// Cost must follow the bytes given: an input that takes more CPU than 0.25 s + 20 µs per
    /// byte (1.6 s for 64 KiB, under ASAN) is a finding, as libFuzzer's -timeout cannot scale
    /// with the input. CPU time, not wall time: a loaded machine does not make findings.
    static func bounded(_ size: Int, _ body: () -> Void) {
        let t0 = cpuNanos()
        body()
        let spent = cpuNanos() &- t0
        let limit = 250_000_000 + UInt64(size) * 20_000
        if spent > limit {
            fatalError("slow input: \(spent / 1_000_000) ms of CPU for \(size) bytes (limit \(limit / 1_000_000) ms)")
        }
    }

    static func cpuNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func regs(_ bytes: [UInt8]) {
        _ = try? RegisterStateFile.parse(bytes, path: "fuzz.json")
    }

    public static func debugfs(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = VGICState.parse(text)
        _ = VGICITSState.parse(text)
    }

    /// The walkers over an arbitrary guest image plus arbitrary register values (both formats,
    /// flat and two-level, every page size): ITSLayout's HostileImage decodes the bytes.
    public static func walker(_ bytes: [UInt8]) {
        var limits = WalkLimits()
        limits.maxBytesRead = 256 << 10
        limits.maxEntries = 1 << 10
        HostileImage(bytes)?.analyse(limits: limits)
    }
}

/// The fuzzer's bytes as a ByteSource (what a qcow2 container's VM state is to the readers).
final class MemoryBytes: ByteSource, @unchecked Sendable {
    let data: [UInt8]
    init(_ data: [UInt8]) { self.data = data }
    var path: String { "fuzz-input" }
    var size: UInt64 { UInt64(data.count) }
    func read(into buffer: inout [UInt8], at offset: UInt64) -> Int {
        guard offset < size else { return 0 }
        let n = min(buffer.count, data.count - Int(offset))
        buffer.replaceSubrange(0..<n, with: data[Int(offset)..<(Int(offset) + n)])
        return n
    }
    func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, offset <= size, UInt64(count) <= size - offset else { return nil }
        return Array(data[Int(offset)..<(Int(offset) + count)])
    }
}
