import CoreDumpReader
import Foundation
import FuzzSupport
import ITSAnalysis
import ITSLayout

/// One function per parser: each takes the fuzzer's bytes and must end without a crash, a
/// hang or a large allocation; errors and findings are the expected outcomes.
public enum FuzzTargets {
    /// Inputs that are files go through a real file (the readers map files).
    static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        // A plain write: FileManager.createFile writes atomically with two fsyncs (12 ms an input).
        // On tmpfs when there is one: on ext4, truncating the previous input's file flushed it
        // to disk at close (auto_da_alloc), a fifth of each input's time.
        let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let path = "\(folder)/itsdump-fuzz-\(getpid()).bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        body(path)
    }

    /// Walks every ITS the registers describe and builds the graph. The walk's own bounds are
    /// fuzz-walker's business: here it reads at most 256 KiB, so that the time an input takes
    /// measures the parser (see `bounded`).
    static func walkAll(_ memory: any GuestMemory, _ regs: RegisterState, maxBytesRead: UInt64 = 256 << 10) {
        var limits = WalkLimits()
        limits.maxBytesRead = maxBytesRead
        limits.maxEntries = 1 << 10
        let first = RegisterState(its: Array(regs.its.prefix(4)), redistributors: regs.redistributors)
        _ = try? Analysis.run(memory: memory, registers: first, vcpus: 4, limits: limits)
    }

    /// Reads 16 bytes before, at, and across the start and end of the first 64 ranges a reader
    /// says it holds, and asks for damage there: every segment lookup and edge of a reader.
    static func probeEdges(_ memory: any GuestMemory) {
        for r in memory.presentRanges.prefix(64) {
            for a in [r.start.rawValue &- 8, r.start.rawValue, r.end &- 8, r.end &- 16, r.end] {
                _ = memory.read(GuestPhysicalAddress(a), count: 16)
                _ = memory.damage(at: GuestPhysicalAddress(a))
            }
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
                // The ELF reader's memory is what is fuzzed here, not the walk (fuzz-walker's):
                // reads at and across the edges of every range it holds, then a walk of 16 KiB
                // (a 256 KiB walk cost 40x the executions a second, for the walk's coverage).
                probeEdges(d.memory)
                walkAll(d.memory, defaultRegisters(.kvm), maxBytesRead: 16 << 10)
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
            guard let s = try? MigrationStream(file: ByteArraySource(bytes, path: "fuzz-input")) else { return }
            _ = s.presentRanges
            walkAll(s, s.streamRegisters)
        }
    }

    public static func kdump(_ bytes: [UInt8]) {
        bounded(bytes.count) {
            // An input whose last byte is odd is read as a large dump is: the bitmap indexed only
            // as far as look-ups need, the whole-dump check after the walk (as `Analysis.run`
            // asks), `info`'s whole-bitmap answers last.
            let lazy = (bytes.last ?? 0) & 1 == 1
            guard let k = try? KdumpFile(file: ByteArraySource(bytes, path: "fuzz-input"),
                                         eagerBitmapBytes: lazy ? 0 : KdumpFile.eagerBitmapBytes) else { return }
            if !lazy { _ = k.incompleteReason }
            _ = k.damage(at: GuestPhysicalAddress(0x425A_0000))
            walkAll(k, defaultRegisters(.kvm))
            if lazy {
                _ = k.incompleteReason
                _ = (k.presentRanges, k.dumpablePages, k.missingRanges)
            }
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

extension FuzzTargets {
    /// The qcow2 layer (issue 23): header (versions, features, cluster_bits), snapshot table,
    /// each snapshot's L1/L2 tables and VM state clusters (standard, extended L2 subclusters,
    /// deflate/zstd compressed), then every byte of the VM state up to 64 KiB read through the
    /// byte source (in 64 KiB reads, and at cluster-straddling offsets), and its last byte.
    /// The migration stream over it is fuzz-stream's (its 4 MiB read window per input would
    /// cut the rate fortyfold).
    public static func qcow2(_ bytes: [UInt8]) {
        guard let image = try? Qcow2Image(file: ByteArraySource(bytes, path: "fuzz.qcow2")) else { return }
        for s in image.snapshots.prefix(4) {
            guard let v = try? image.vmState(of: s) else { continue }
            var buf = [UInt8](repeating: 0, count: 65536)
            var off: UInt64 = 0
            while off < min(v.size, 64 << 10) {
                let n = v.read(into: &buf, at: off)
                if n == 0 { break }
                off += UInt64(n)
            }
            _ = v.bytes(at: v.size / 2 &- 100, count: 1000)
            _ = v.be64(v.size &- 8)
            _ = v.readError
        }
        _ = try? image.snapshot(named: nil)
        _ = try? image.snapshot(named: "1")
    }
}
