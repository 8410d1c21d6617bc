import Glibc
import ITSLayout
import TextFormats

/// A Cloud Hypervisor snapshot (`ch-remote snapshot file://DIR`; input-formats.md §7.1, from
/// cloud-hypervisor's vm-migration/src/lib.rs, vmm/src/memory_manager.rs,
/// hypervisor/src/kvm/aarch64/gic/): `state.json`, a tree of nodes whose state is JSON, and
/// `memory-ranges`, the guest RAM ranges back to back. Cloud Hypervisor pauses the VM with
/// both KVM save calls first (`Gic::pause`), so the tables in RAM are KVM's, as of the pause.
public final class CloudHypervisorSnapshot: GuestMemory, @unchecked Sendable {
    /// How the nodes' state is stored, by release.
    public enum Generation: String, Sendable {
        /// v46 and later: `"snapshot_data": {"state": "<JSON>"}`, the GIC wrapped in `{"Kvm": …}`.
        case kvmWrapped = "v46 or later (state strings, GIC state wrapped in {\"Kvm\": …})"
        /// v39–v45: state strings, the GIC state bare.
        case stateString = "v39 to v45 (state strings)"
        /// v29–v38: `"snapshot_data": [bytes]` (serde_json of `SnapshotData(Vec<u8>)`), the
        /// memory manager's bytes in the versionize encoding.
        case byteArray = "v29 to v38 (state as byte arrays)"
    }

    /// A range of guest RAM and where its bytes are in `memory-ranges`.
    public struct Range: Sendable, Equatable {
        public var gpa, length, fileOffset: UInt64
    }

    /// Guest RAM that is not in `memory-ranges`: a shared backing file holds it (policy
    /// SkipPersisted); the user gives that file as FILE@GPA.
    public struct SkippedRange: Sendable, Equatable {
        public var gpa, length: UInt64
        public var zone: String
        public var fileOffset: UInt64
    }

    public let directory: String
    public let stateFile: String
    public let memory: MappedFile?
    public let generation: Generation
    public let ranges: [Range]
    public let skipped: [SkippedRange]
    public let vcpuCount: Int
    public let registers: RegisterState
    public let notes: [String]
    public let presentRanges: [GuestRange]

    /// state.json larger than this is not one (a real one is well under 1 MiB).
    static let maxStateBytes: UInt64 = 16 << 20
    static let maxRanges = 1 << 16
    /// Memory slots: a zone per NUMA node and hotplug slot, far below this.
    static let maxMappings = 256
    static let maxVCPUs = 4096
    /// aarch64 layout (arch/src/aarch64/layout.rs): RAM at 0x4000_0000; the distributor at
    /// 0x08ff_0000, one 0x2_0000 redistributor frame per vCPU below it, the ITS frame below those.
    static let distributorBase: UInt64 = 0x08FF_0000
    static let redistributorFrame: UInt64 = 0x2_0000
    static let itsFrame: UInt64 = 0x2_0000
    /// GICR registers per vCPU in `rdist` (redist_regs.rs): 7 in the RD frame, 17 in the SGI frame.
    static let rdistWordsPerVCPU = 24

    /// A snapshot directory (or its state.json) at `spec`, or nil when `spec` is neither.
    public static func recognise(_ spec: String) throws(DumpError) -> CloudHypervisorSnapshot? {
        var st = stat()
        guard stat(spec, &st) == 0 else { return nil }
        if st.st_mode & S_IFMT == S_IFDIR {
            let state = spec.hasSuffix("/") ? spec + "state.json" : spec + "/state.json"
            guard FileOutput.exists(state) else {
                throw .notADump(path: spec, reason: "a directory, not a regular file, and not a Cloud Hypervisor snapshot directory: it has no state.json (ch-remote snapshot file://DIR writes config.json, state.json and memory-ranges)")
            }
            return try CloudHypervisorSnapshot(directory: spec, stateFile: state)
        }
        guard st.st_mode & S_IFMT == S_IFREG, looksLikeState(spec) else { return nil }
        let dir = spec.contains("/") ? String(spec[..<(spec.lastIndex(of: "/") ?? spec.endIndex)]) : "."
        return try CloudHypervisorSnapshot(directory: dir.isEmpty ? "/" : dir, stateFile: spec)
    }

    /// serde_json writes a `Snapshot`'s fields in order: the file starts `{"snapshots":`.
    static func looksLikeState(_ path: String) -> Bool {
        guard let f = try? MappedFile(path: path) else { return false }
        return looksLikeState(f)
    }

    /// The same test on a file already open (`Dump.open` opened it): its first 64 bytes.
    static func looksLikeState(_ f: MappedFile) -> Bool {
        guard let head = f.bytes(at: 0, count: Int(min(f.size, 64))) else { return false }
        let text = head.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        return text.starts(with: Array("{\"snapshots\":".utf8))
    }

    public init(directory: String, stateFile: String) throws(DumpError) {
        self.directory = directory
        self.stateFile = stateFile
        let path = stateFile
        func bad(_ why: String) -> DumpError { .stateFile(path: path, reason: why) }
        let file = try MappedFile(path: stateFile)
        guard file.size <= Self.maxStateBytes else { throw bad("\(file.size) bytes is too large for a Cloud Hypervisor state.json") }
        let top: JSONValue
        do { top = try JSONValue.parse(file.bytes(at: 0, count: Int(file.size)) ?? []) } catch {
            throw bad("not JSON: \(error)")
        }
        guard let nodes = top["snapshots"]?.objectValue else {
            throw bad("no \"snapshots\" object at the top: not a Cloud Hypervisor state.json")
        }
        if top["id"] != nil {
            throw bad("a Cloud Hypervisor v28 or earlier snapshot (nodes with \"id\" and per-section data): not supported; restore it with that release and snapshot again with v29 or later")
        }
        var notes: [String] = []

        // The GIC: device-manager / gic-v3-its.
        guard let gicNode = nodes["device-manager"]?["snapshots"]?["gic-v3-its"] else {
            throw bad("no snapshots[\"device-manager\"].snapshots[\"gic-v3-its\"] node: not an aarch64 snapshot with a GICv3 ITS")
        }
        let (gicRaw, byteArray) = try Self.stateBytes(gicNode, "gic-v3-its", path: path)
        let gicState: JSONValue
        do { gicState = try JSONValue.parse(gicRaw) } catch {
            throw bad("the gic-v3-its state is not JSON: \(error)")
        }
        let its: [String: JSONValue]
        if let wrapped = gicState["Kvm"]?.objectValue {
            its = wrapped
            generation = .kvmWrapped
        } else if let bare = gicState.objectValue, bare["its_baser"] != nil {
            its = bare
            generation = byteArray ? .byteArray : .stateString
        } else {
            throw bad("the gic-v3-its state has neither {\"Kvm\": …} nor its_baser: \(gicState.objectValue.map { "keys " + $0.keys.sorted().joined(separator: ", ") } ?? "not an object")")
        }
        let detailRoot = (stateFile.split(separator: "/").last.map(String.init) ?? stateFile) + " gic-v3-its."
        func p(_ field: String) -> Provenance { Provenance(.stateFile, detailRoot + field) }
        func u64(_ key: String) throws(DumpError) -> UInt64 {
            guard case .uint(let v)? = its[key] else { throw bad("gic-v3-its.\(key): a u64 JSON integer expected, found \(its[key]?.description ?? "nothing")") }
            return v
        }
        var itsState = ITSRegisterState()
        itsState.ctlr = Sourced(GITSCTLR(rawValue: try u64("its_ctlr")), p("its_ctlr"))
        itsState.iidr = Sourced(GITSIIDR(rawValue: try u64("its_iidr")), p("its_iidr"))
        itsState.cbaser = Sourced(GITSCBaser(rawValue: try u64("its_cbaser")), p("its_cbaser"))
        itsState.cwriter = Sourced(GITSCommandOffset(rawValue: try u64("its_cwriter")), p("its_cwriter"))
        itsState.creadr = Sourced(GITSCommandOffset(rawValue: try u64("its_creadr")), p("its_creadr"))
        guard let basers = its["its_baser"]?.arrayValue, basers.count == 8 else {
            throw bad("gic-v3-its.its_baser: 8 u64 values expected")
        }
        for (n, b) in basers.enumerated() {
            guard case .uint(let v) = b else { throw bad("gic-v3-its.its_baser[\(n)]: a u64 JSON integer expected, found \(b)") }
            itsState.baser[n] = Sourced(GITSBaser(rawValue: v), p("its_baser[\(n)]"))
        }
        notes.append("GITS_TYPER is not saved by Cloud Hypervisor (nor by KVM's attribute interface): the table format is KVM's, inferred from GITS_IIDR 0x\(String(itsState.iidr?.value.rawValue ?? 0, radix: 16)) (KVM's is 0x4b00043b)")

        // vCPUs: the cpu-manager's children, one per vCPU; else rdist's length.
        guard let rdist = its["rdist"]?.arrayValue else { throw bad("gic-v3-its.rdist: an array of u32 expected") }
        var vcpus: Int
        if let cpus = nodes["cpu-manager"]?["snapshots"]?.objectValue {
            vcpus = cpus.count
        } else {
            vcpus = rdist.count / Self.rdistWordsPerVCPU
            notes.append("no cpu-manager node: \(vcpus) vCPUs from the length of gic-v3-its.rdist (24 words per vCPU)")
        }
        guard vcpus > 0, vcpus <= Self.maxVCPUs else { throw bad("\(vcpus) vCPUs: 1 to \(Self.maxVCPUs) expected") }
        guard rdist.count >= vcpus * Self.rdistWordsPerVCPU else {
            throw bad("gic-v3-its.rdist holds \(rdist.count) words: \(vcpus) vCPUs need \(vcpus * Self.rdistWordsPerVCPU) (24 per vCPU)")
        }
        func word(_ i: Int) throws(DumpError) -> UInt64 {
            guard case .uint(let v) = rdist[i], v <= UInt64(UInt32.max) else { throw bad("gic-v3-its.rdist[\(i)]: a u32 expected, found \(rdist[i])") }
            return v
        }
        var state = RegisterState()
        // ITS base below the redistributor frames (§7.1).
        let itsBase = Self.distributorBase - UInt64(vcpus) * Self.redistributorFrame - Self.itsFrame
        itsState.base = Sourced(GuestPhysicalAddress(itsBase), Provenance(.inferred, "Cloud Hypervisor aarch64 layout: 0x8ff0000 − \(vcpus) × 0x20000 − 0x20000 (Documentation/input-formats.md §7.1)"))
        state.its = [itsState]
        // rdist: 7 words per vCPU first (STATUSR, WAKER, PROPBASER lo/hi, PENDBASER lo/hi, CTLR).
        for i in 0..<vcpus {
            var rd = RedistributorState(cpu: UInt32(i))
            let prop = try word(7 * i + 2) | word(7 * i + 3) << 32
            let pend = try word(7 * i + 4) | word(7 * i + 5) << 32
            rd.propbaser = Sourced(GICRPropBaser(rawValue: prop), p("rdist[\(7 * i + 2)..\(7 * i + 3)] (vCPU \(i) GICR_PROPBASER)"))
            rd.pendbaser = Sourced(GICRPendBaser(rawValue: pend), p("rdist[\(7 * i + 4)..\(7 * i + 5)] (vCPU \(i) GICR_PENDBASER)"))
            state.redistributors.append(rd)
        }
        registers = state
        vcpuCount = vcpus

        // Memory: the memory manager's memory_ranges, laid back to back in memory-ranges.
        guard let mmNode = nodes["memory-manager"] else { throw bad("no snapshots[\"memory-manager\"] node") }
        let (mmRaw, mmBytes) = try Self.stateBytes(mmNode, "memory-manager", path: path)
        var table: [(UInt64, UInt64)] = []
        var mappings: [(gpa: UInt64, size: UInt64, zone: String, fileOffset: UInt64)] = []
        if mmBytes {
            var r = VersionizeReader(bytes: mmRaw, path: path)
            let n = try r.count("memory_ranges.data")
            for _ in 0..<n { table.append((try r.u64("memory range gpa"), try r.u64("memory range length"))) }
            let m = try r.count("guest_ram_mappings")
            guard m <= Self.maxMappings else { throw bad("memory-manager: \(m) guest RAM mappings (at most \(Self.maxMappings))") }
            for _ in 0..<m {
                _ = try r.u32("slot")
                let gpa = try r.u64("mapping gpa"), size = try r.u64("mapping size")
                let zone = try r.string("zone_id")
                _ = try r.bytes(1, "virtio_mem")
                mappings.append((gpa, size, zone, try r.u64("file_offset")))
            }
        } else {
            let mm: JSONValue
            do { mm = try JSONValue.parse(mmRaw) } catch { throw bad("the memory-manager state is not JSON: \(error)") }
            guard let data = mm["memory_ranges"]?["data"]?.arrayValue else { throw bad("memory-manager: no memory_ranges.data array") }
            guard data.count <= Self.maxRanges else { throw bad("memory-manager: \(data.count) memory ranges (at most \(Self.maxRanges))") }
            for (i, e) in data.enumerated() {
                guard case .uint(let g)? = e["gpa"], case .uint(let l)? = e["length"] else {
                    throw bad("memory-manager memory_ranges.data[\(i)]: {\"gpa\": u64, \"length\": u64} expected")
                }
                table.append((g, l))
            }
            let maps = mm["guest_ram_mappings"]?.arrayValue ?? []
            guard maps.count <= Self.maxMappings else { throw bad("memory-manager: \(maps.count) guest RAM mappings (at most \(Self.maxMappings))") }
            for e in maps {
                guard case .uint(let g)? = e["gpa"], case .uint(let s)? = e["size"] else { continue }
                let off: UInt64 = if case .uint(let o)? = e["file_offset"] { o } else { 0 }
                mappings.append((g, s, e["zone_id"]?.stringValue ?? "?", off))
            }
        }
        var ranges: [Range] = []
        var offset: UInt64 = 0
        for (i, (g, l)) in table.enumerated() {
            let (end, o1) = g.addingReportingOverflow(l)
            let (next, o2) = offset.addingReportingOverflow(l)
            guard l > 0, !o1, !o2 else { throw bad("memory range \(i) (gpa 0x\(String(g, radix: 16)), \(l) bytes) is empty or runs past 2^64") }
            _ = end
            ranges.append(Range(gpa: g, length: l, fileOffset: offset))
            offset = next
        }
        let sorted = ranges.sorted { $0.gpa < $1.gpa }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.gpa + a.length > b.gpa {
            throw bad("memory ranges overlap: 0x\(String(a.gpa, radix: 16)) (+\(a.length)) and 0x\(String(b.gpa, radix: 16))")
        }
        let memPath = directory.hasSuffix("/") ? directory + "memory-ranges" : directory + "/memory-ranges"
        if offset > 0 {
            let m: MappedFile
            do { m = try MappedFile(path: memPath) } catch {
                throw .cannotOpen(path: memPath, reason: "\(error); the memory manager lists \(ranges.count) ranges (\(offset) bytes) in it")
            }
            guard m.size >= offset else {
                throw .malformed(path: memPath, offset: nil, reason: "the memory manager's \(ranges.count) ranges add up to \(offset) bytes, the file holds \(m.size)")
            }
            memory = m
        } else {
            memory = nil
        }
        self.ranges = sorted
        presentRanges = sorted.map { GuestRange(start: GuestPhysicalAddress($0.gpa), length: $0.length) }

        // Guest RAM mappings not covered by memory_ranges: skipped, a shared file holds them.
        var skipped: [SkippedRange] = []
        for mp in mappings where mp.size > 0 {
            var a = mp.gpa
            let end = mp.gpa &+ mp.size
            guard end > a else { continue }
            // The first range ending past `a` (ranges are sorted and do not overlap).
            var lo = 0, hi = sorted.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if sorted[mid].gpa + sorted[mid].length <= a { lo = mid + 1 } else { hi = mid }
            }
            for r in sorted[lo...] {
                guard r.gpa < end else { break }
                if r.gpa > a { skipped.append(SkippedRange(gpa: a, length: r.gpa - a, zone: mp.zone, fileOffset: mp.fileOffset &+ (a - mp.gpa))) }
                a = max(a, r.gpa + r.length)
            }
            if a < end { skipped.append(SkippedRange(gpa: a, length: end - a, zone: mp.zone, fileOffset: mp.fileOffset &+ (a - mp.gpa))) }
        }
        self.skipped = skipped
        for s in skipped {
            notes.append("guest RAM 0x\(String(s.gpa, radix: 16))..0x\(String(s.gpa + s.length - 1, radix: 16)) (memory zone \(escapedName(String(s.zone.prefix(64))))) is not in memory-ranges: Cloud Hypervisor skips RAM that a shared backing file holds; give that file as FILE@0x\(String(s.gpa &- s.fileOffset, radix: 16)) (its offset 0x\(String(s.fileOffset, radix: 16)) is this GPA)")
        }
        notes.append("Cloud Hypervisor \(generation.rawValue) state.json; \(vcpus) vCPUs; ITS base inferred from the aarch64 layout")
        self.notes = notes
    }

    /// A node's state bytes: the JSON text of `{"state": "…"}` (v39+), or the byte array (v29–v38).
    static func stateBytes(_ node: JSONValue, _ name: String, path: String) throws(DumpError) -> ([UInt8], Bool) {
        guard let data = node["snapshot_data"] else {
            throw .stateFile(path: path, reason: "\(name): no snapshot_data")
        }
        if let s = data["state"]?.stringValue { return (Array(s.utf8), false) }
        if let a = data.arrayValue {
            var out: [UInt8] = []
            out.reserveCapacity(a.count)
            for (i, v) in a.enumerated() {
                guard case .uint(let b) = v, b <= 255 else {
                    throw .stateFile(path: path, reason: "\(name): snapshot_data[\(i)] is not a byte")
                }
                out.append(UInt8(b))
            }
            return (out, true)
        }
        throw .stateFile(path: path, reason: "\(name): snapshot_data is neither {\"state\": \"…\"} (v39 and later) nor an array of bytes (v29 to v38)")
    }

    // MARK: GuestMemory

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        assembleRead(address, count: count) { a, left in
            // Ranges are sorted: the last one starting at or below `a`.
            var lo = 0, hi = ranges.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if ranges[mid].gpa <= a { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0, let memory else { return .absent(left) }
            let r = ranges[lo - 1]
            guard a - r.gpa < r.length else { return .absent(left) }
            let n = min(left, r.length - (a - r.gpa))
            guard let b = memory.bytes(at: r.fileOffset + (a - r.gpa), count: Int(n)) else { return .absent(n) }
            return .bytes(b[...])
        }
    }

    public func relinquish(_ range: GuestRange) {
        for r in ranges {
            let lo = max(r.gpa, range.start.rawValue), hi = min(r.gpa + r.length, range.end)
            if lo < hi { memory?.release(r.fileOffset + (lo - r.gpa), hi - lo) }
        }
    }
}

/// The versionize encoding of v29–v38 (the `versionize` crate, through bincode): integers
/// little-endian, a Vec or String as a u64 count then its items.
struct VersionizeReader {
    let bytes: [UInt8]
    let path: String
    var at = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    mutating func bytes(_ n: Int, _ what: String) throws(DumpError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - at else {
            throw .stateFile(path: path, reason: "memory-manager state (versionize): \(what) runs past its \(bytes.count) bytes")
        }
        defer { at += n }
        return bytes[at..<(at + n)]
    }

    mutating func u64(_ what: String) throws(DumpError) -> UInt64 {
        try bytes(8, what).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func u32(_ what: String) throws(DumpError) -> UInt32 {
        UInt32(try bytes(4, what).reversed().reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// A count of items, each at least 8 bytes: bounded by the bytes left.
    mutating func count(_ what: String) throws(DumpError) -> Int {
        let n = try u64(what + " length")
        guard n <= UInt64(bytes.count - at) / 8, n <= UInt64(CloudHypervisorSnapshot.maxRanges) else {
            throw .stateFile(path: path, reason: "memory-manager state (versionize): \(what) claims \(n) items in \(bytes.count - at) bytes")
        }
        return Int(n)
    }

    mutating func string(_ what: String) throws(DumpError) -> String {
        let n = try u64(what + " length")
        guard n <= 4096 else { throw .stateFile(path: path, reason: "memory-manager state (versionize): \(what) of \(n) bytes") }
        return String(decoding: try bytes(Int(n), what), as: UTF8.self)
    }
}

/// A Cloud Hypervisor snapshot directory (`ch-remote snapshot file://DIR`), or its state.json,
/// read as a dump: RAM from memory-ranges, the registers and vCPUs from state.json.
public final class CloudHypervisorDump: DumpFormat, @unchecked Sendable {
    public static let kind = DumpKind(id: "cloud-hypervisor", name: "Cloud Hypervisor snapshot")
    public static let infoKey: String? = "cloudHypervisor"
    public let snapshot: CloudHypervisorSnapshot

    /// A directory (refused later, by name, when it has no state.json), or a state.json by content.
    public static func matches(_ input: DumpInput) -> Bool {
        switch input {
        case .directory: true
        case .file(let f): CloudHypervisorSnapshot.looksLikeState(f)
        }
    }

    public static func load(_ input: DumpInput, options: DumpOptions) throws(DumpError) -> any DumpFormat {
        guard let s = try CloudHypervisorSnapshot.recognise(input.path) else {
            throw .notADump(path: input.path, reason: "not a Cloud Hypervisor snapshot directory or state.json")
        }
        return CloudHypervisorDump(s)
    }

    init(_ snapshot: CloudHypervisorSnapshot) { self.snapshot = snapshot }

    public var memory: any GuestMemory { snapshot }
    public var vcpuCount: Int? { snapshot.vcpuCount }
    public var registers: RegisterState? { snapshot.registers }
    public var readerNotes: [String] { snapshot.notes }

    public var details: DumpDetails {
        let ch = snapshot
        var s = "  Cloud Hypervisor \(ch.generation.rawValue); state \(ch.stateFile), RAM \(ch.memory?.path ?? "none")\n"
        var t = TextTable(header: ["MEMORY RANGE GPA", "END", "BYTES", "FILE OFFSET"], rightAligned: [2])
        for r in ch.ranges { t.rows.append([hex(r.gpa), hex(r.gpa + r.length - 1), String(r.length), hex(r.fileOffset)]) }
        s += t.render(indent: "  ")
        for n in ch.notes { s += "  note: \(n)\n" }
        s += RegisterText.info(ch.registers)
        let json: JSONValue = .object([
            "generation": .string(ch.generation.rawValue), "stateFile": .string(ch.stateFile),
            "memoryFile": .optional(ch.memory) { .string($0.path) },
            "ranges": .array(ch.ranges.map { .object(["gpa": .hexString($0.gpa), "bytes": .uint($0.length), "fileOffset": .hexString($0.fileOffset)]) }),
            "skipped": .array(ch.skipped.map {
                .object(["gpa": .hexString($0.gpa), "bytes": .uint($0.length), "zone": .string($0.zone), "fileOffset": .hexString($0.fileOffset)])
            }),
            "notes": .array(ch.notes.map { .string($0) }),
            "its": .array(ch.registers.its.map(RegisterJSON.its)),
            "redistributors": RegisterJSON.redistributors(ch.registers.redistributors),
        ])
        return DumpDetails(text: s, json: ["cloudHypervisor": json], listsVMCOREINFO: false)
    }
}

extension DumpKind {
    public static var cloudHypervisor: DumpKind { CloudHypervisorDump.kind }
}

extension Dump {
    /// The snapshot, when the input is a Cloud Hypervisor snapshot.
    public var cloudHypervisor: CloudHypervisorSnapshot? { (reader as? CloudHypervisorDump)?.snapshot }
}
