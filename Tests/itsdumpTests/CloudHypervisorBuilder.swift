import Foundation
@testable import CoreDumpReader
@testable import ITSLayout

/// Builds Cloud Hypervisor snapshot directories (input-formats.md §7.1, from cloud-hypervisor's
/// vm-migration/src/lib.rs, vmm/src/memory_manager.rs, hypervisor/src/kvm/aarch64/gic/) from a
/// real KVM stop: RAM from its core.elf, registers from its its-regs.json. No Cloud Hypervisor
/// binary runs here; the layout is taken from its source.
struct CloudHypervisorBuilder {
    enum Generation: CaseIterable, Sendable { case kvmWrapped, stateString, byteArray }

    var generation = Generation.kvmWrapped
    /// (gpa, length) in memory-ranges order.
    var ranges: [(UInt64, UInt64)] = []
    var registers = RegisterState()
    var vcpus = 0
    /// cloud-hypervisor#8638: every vCPU's redistributor state saved from vCPU 0.
    var rdistFromVCPU0 = false
    /// Extra guest RAM mappings (a shared-file zone whose RAM is not in memory-ranges).
    var extraMappings: [(gpa: UInt64, size: UInt64, zone: String, fileOffset: UInt64)] = []
    /// Replaces the GIC state text (hostile cases).
    var gicStateOverride: String? = nil

    func u64s(_ v: [UInt64]) -> String { "[" + v.map(String.init).joined(separator: ",") + "]" }

    var gicState: String {
        if let gicStateOverride { return gicStateOverride }
        let its = registers.its.first ?? ITSRegisterState()
        var rdist = [UInt64](repeating: 0, count: 24 * vcpus)
        for i in 0..<vcpus {
            let src = registers.redistributor(cpu: UInt32(rdistFromVCPU0 ? 0 : i))
            let prop = src?.propbaser?.value.rawValue ?? 0, pend = src?.pendbaser?.value.rawValue ?? 0
            rdist[7 * i + 0] = 0  // GICR_STATUSR
            rdist[7 * i + 1] = 0  // GICR_WAKER
            rdist[7 * i + 2] = prop & 0xFFFF_FFFF
            rdist[7 * i + 3] = prop >> 32
            rdist[7 * i + 4] = pend & 0xFFFF_FFFF
            rdist[7 * i + 5] = pend >> 32
            rdist[7 * i + 6] = 1  // GICR_CTLR.EnableLPIs
        }
        let body = """
            {"dist":\(u64s([UInt64](repeating: 0, count: 200))),"rdist":\(u64s(rdist)),"icc":\(u64s([UInt64](repeating: 0, count: 9 * vcpus))),\
            "gicd_ctlr":\(0x12),"its_ctlr":\(its.ctlr?.value.rawValue ?? 0),"its_iidr":\(its.iidr?.value.rawValue ?? 0),\
            "its_cbaser":\(its.cbaser?.value.rawValue ?? 0),"its_cwriter":\(its.cwriter?.value.rawValue ?? 0),\
            "its_creadr":\(its.creadr?.value.rawValue ?? 0),"its_baser":\(u64s(its.baser.map { $0?.value.rawValue ?? 0 }))}
            """
        return generation == .kvmWrapped ? "{\"Kvm\":\(body)}" : body
    }

    var mappings: [(gpa: UInt64, size: UInt64, zone: String, fileOffset: UInt64)] {
        ranges.map { ($0.0, $0.1, "mem0", 0) } + extraMappings
    }

    var memoryManagerJSON: String {
        let data = ranges.map { "{\"gpa\":\($0.0),\"length\":\($0.1)}" }.joined(separator: ",")
        let maps = mappings.enumerated().map { i, m in
            "{\"slot\":\(i),\"gpa\":\(m.gpa),\"size\":\(m.size),\"zone_id\":\"\(m.zone)\",\"virtio_mem\":false,\"file_offset\":\(m.fileOffset)}"
        }.joined(separator: ",")
        return """
            {"memory_ranges":{"data":[\(data)]},"guest_ram_mappings":[\(maps)],"start_of_device_area":\(0x1_0000_0000),\
            "boot_ram":\(ranges.reduce(0) { $0 + $1.1 }),"current_ram":\(ranges.reduce(0) { $0 + $1.1 }),"arch_mem_regions":[],\
            "hotplug_slots":[],"next_memory_slot":\(mappings.count),"selected_slot":0,"next_hotplug_slot":0}
            """
    }

    /// v29–v38: the memory manager's state in the versionize encoding (little-endian; a Vec
    /// or String as a u64 count then its items), in MemoryManagerSnapshotData's field order.
    var memoryManagerVersionize: [UInt8] {
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        var out = le(UInt64(ranges.count), 8)
        for (g, l) in ranges { out += le(g, 8) + le(l, 8) }
        out += le(UInt64(mappings.count), 8)
        for (i, m) in mappings.enumerated() {
            out += le(UInt64(i), 4) + le(m.gpa, 8) + le(m.size, 8) + le(UInt64(m.zone.utf8.count), 8) + Array(m.zone.utf8) + [0] + le(m.fileOffset, 8)
        }
        out += le(0x1_0000_0000, 8) + le(0, 8) + le(0, 8)  // start_of_device_area, boot_ram, current_ram …
        return out
    }

    /// A node's snapshot_data in this generation.
    func data(_ text: String) -> String { data(Array(text.utf8), text: text) }
    func data(_ bytes: [UInt8], text: String?) -> String {
        switch generation {
        case .byteArray: return "[" + bytes.map(String.init).joined(separator: ",") + "]"
        default: return "{\"state\":\(Self.quote(text ?? ""))}"
        }
    }

    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    var stateJSON: String {
        let cpus = (0..<vcpus).map { "\"\($0)\":{\"snapshots\":{},\"snapshot_data\":\(data("{\"regs\":[]}"))}" }.joined(separator: ",")
        let mm = generation == .byteArray ? data(memoryManagerVersionize, text: nil) : data(memoryManagerJSON)
        return """
            {"snapshots":{"cpu-manager":{"snapshots":{\(cpus)},"snapshot_data":null},\
            "memory-manager":{"snapshots":{},"snapshot_data":\(mm)},\
            "device-manager":{"snapshots":{"gic-v3-its":{"snapshots":{},"snapshot_data":\(data(gicState))},\
            "serial":{"snapshots":{},"snapshot_data":\(data("{\"out\":[]}"))}},"snapshot_data":\(data("{\"device_tree\":{}}"))}},\
            "snapshot_data":\(data("{\"clock\":null,\"common_cpuid\":[]}"))}
            """
    }

    /// Writes `memory-ranges` from `memory`: the ranges back to back, only the non-zero 64 KiB
    /// chunks written (the rest are holes, which read as zeros, as in Cloud Hypervisor's file).
    static func writeMemoryRanges(_ memory: any GuestMemory, _ ranges: [(UInt64, UInt64)], to url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let h = try FileHandle(forWritingTo: url)
        var fileOffset: UInt64 = 0
        for (gpa, length) in ranges {
            var o: UInt64 = 0
            while o < length {
                let n = Int(min(65536, length - o))
                if case .bytes(let b) = memory.read(GuestPhysicalAddress(gpa + o), count: n), b.contains(where: { $0 != 0 }) {
                    try h.seek(toOffset: fileOffset + o)
                    try h.write(contentsOf: b)
                }
                o += UInt64(n)
            }
            fileOffset += length
        }
        try h.truncate(atOffset: fileOffset)
        try h.close()
    }

    /// The directory: state.json, a config.json stub and `memory-ranges` (hard-linked from `memoryFile`).
    func write(to dir: URL, memoryFile: URL?) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(stateJSON.utf8).write(to: dir.appendingPathComponent("state.json"))
        try Data("{\"cpus\":{\"boot_vcpus\":\(vcpus)}}".utf8).write(to: dir.appendingPathComponent("config.json"))
        let mem = dir.appendingPathComponent("memory-ranges")
        try? FileManager.default.removeItem(at: mem)
        if let memoryFile { try FileManager.default.linkItem(at: memoryFile, to: mem) }
    }
}
