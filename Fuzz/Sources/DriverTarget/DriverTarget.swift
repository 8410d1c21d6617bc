import CoreDumpReader
import Foundation
import FuzzSupport
import GuestKernel
import KernelDWARF
import ITSLayout
import Synchronization

/// The guest-kernel walk (issue 11) over an arbitrary guest image, with the real 6.1 debug info
/// (the reduced vmlinux of ../shared/fixtures/kernel, path in ITSDUMP_FUZZ_VMLINUX); the input
/// format is ITSLayout.HostileKernelImage's.
public enum DriverTarget {
    /// The type source, loaded once; lookups memoised so that each input costs only its walk.
    static let types: Memo = {
        guard let path = ProcessInfo.processInfo.environment["ITSDUMP_FUZZ_VMLINUX"] else {
            FileHandle.standardError.write(Data("fuzz-driver: set ITSDUMP_FUZZ_VMLINUX to the guest's debug vmlinux (run.sh does)\n".utf8))
            exit(2)
        }
        do { return Memo(try DWARFKernelTypes(path: path)) } catch {
            FileHandle.standardError.write(Data("fuzz-driver: \(path): \(error)\n".utf8))
            exit(2)
        }
    }()

    /// `ITSLayout.HostileKernelImage`: the driver walk, then what `diff --expected guest-kernel`
    /// does with it (the tables walked with the registers the driver programmed, compared).
    public static func run(_ bytes: [UInt8]) {
        _ = HostileKernelImage(bytes).analyse(types: types)
    }

    /// Seed mode: the walk over a real core, recorded as an input of the format above.
    public static func seed(core: String, to out: String, tables: Bool) throws {
        let dump = try Dump.open(core)
        guard let pairs = dump.vmcoreinfo else { throw DumpError.badArgument("\(core) has no VMCOREINFO note") }
        let text = Array(pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n").utf8)
        let recorder = Recorder(dump.memory)
        let space = try KernelAddressSpace(VMCOREINFO(text: String(decoding: text, as: UTF8.self), source: "seed"), memory: recorder)
        let real = try DriverWalker.walk(types: types, space: space, memory: recorder, cpus: 4)
        let realTables = tables ? HostileKernelImage.tableRoutes(real, memory: recorder, cpus: 4) : []
        var seed = [UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text
        for (start, length) in recorder.ranges() {
            // Records hold at most 65535 bytes: longer reads (a 64 KiB table page) are split.
            for a in stride(from: start, to: start + UInt64(length), by: 65535) {
                let n = Int(min(65535, start + UInt64(length) - a))
                guard case .bytes(let b) = dump.memory.read(GuestPhysicalAddress(a), count: n) else { continue }
                seed += (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * $0)) } + [UInt8(n & 0xFF), UInt8(n >> 8)] + b
            }
        }
        // The seed must give the walk the real dump gives.
        guard let cut = HostileKernelImage(seed).analyse(types: types), cut.view.routes == real.routes,
              cut.view.pendingTables.map(\.address) == real.pendingTables.map(\.address), !tables || cut.tableRoutes == realTables else {
            throw DumpError.badArgument("the seed cut from \(core) does not reproduce its driver walk")
        }
        FileHandle.standardError.write(Data("fuzz-driver: seed \(out): \(seed.count) bytes, \(real.routes.count) routes, \(real.pendingTables.count) pending tables, \(realTables.count) routes through the tables\n".utf8))
        guard FileManager.default.createFile(atPath: out, contents: Data(seed)) else {
            throw DumpError.badArgument("cannot write \(out)")
        }
    }
}

/// Memoises a type source: the walk asks the same few questions for every input.
final class Memo: KernelTypes, Sendable {
    let base: DWARFKernelTypes
    let symbols = Mutex<[String: UInt64?]>([:])
    let structs = Mutex<[String: StructLayout?]>([:])
    init(_ base: DWARFKernelTypes) { self.base = base }
    func symbol(_ name: String, near: String?) -> UInt64? {
        let key = "\(name)|\(near ?? "")"
        if let v = symbols.withLock({ $0[key] }) { return v }
        let v = base.symbol(name, near: near)
        symbols.withLock { $0[key] = .some(v) }
        return v
    }
    func structure(_ name: String, inUnitOf variable: String) -> StructLayout? {
        let key = "s|\(name)|\(variable)"
        if let v = structs.withLock({ $0[key] }) { return v }
        let v = base.structure(name, inUnitOf: variable)
        structs.withLock { $0[key] = .some(v) }
        return v
    }
    func memberStructure(_ layout: StructLayout, _ member: String, inUnitOf variable: String) -> StructLayout? {
        let key = "m|\(layout.token)|\(member)|\(variable)"
        if let v = structs.withLock({ $0[key] }) { return v }
        let v = base.memberStructure(layout, member, inUnitOf: variable)
        structs.withLock { $0[key] = .some(v) }
        return v
    }
    var buildID: String? { base.buildID }
    var release: String? { base.release }
}

/// Remembers every range a walk read (merged), to cut a seed from a real dump.
final class Recorder: GuestMemory, Sendable {
    let memory: any GuestMemory
    let reads = Mutex<[(UInt64, Int)]>([])
    init(_ memory: any GuestMemory) { self.memory = memory }
    var presentRanges: [GuestRange] { memory.presentRanges }
    func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        let r = memory.read(address, count: count)
        if case .bytes = r { reads.withLock { $0.append((address.rawValue, count)) } }
        return r
    }
    /// Sorted and merged where they touch.
    func ranges() -> [(UInt64, Int)] {
        var out: [(UInt64, Int)] = []
        for (a, n) in reads.withLock({ $0 }).sorted(by: { $0.0 < $1.0 }) {
            if let last = out.last, a <= last.0 + UInt64(last.1) {
                out[out.count - 1].1 = max(last.1, Int(a - last.0) + n)
            } else {
                out.append((a, n))
            }
        }
        return out
    }
}
