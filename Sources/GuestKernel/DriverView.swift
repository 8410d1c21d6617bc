import ITSLayout
/// What the guest's ITS driver believes (Linux irq-gic-v3-its.c, input-formats.md §5): its
/// ITSes with the GITS_BASER values it programmed, its devices with their events, LPIs and
/// collections, and the LPI tables of the redistributors.
public struct DriverView: Sendable {
    public struct Device: Sendable {
        public var address: UInt64
        public var deviceID: DeviceID
        public var nrItes: UInt32
        public var ittAddress: GuestPhysicalAddress?
        public var lpiBase: UInt32
        public var nrLPIs: UInt32
        /// Allocated events: (EventID, LPI, collection index = CPU).
        public var events: [(eventID: EventID, lpi: LPI, cpu: UInt16)]
        public var shared: Bool
    }
    public struct Collection: Sendable {
        public var cpu: Int
        public var targetAddress: UInt64
        public var colID: UInt16
    }
    public struct ITS: Sendable {
        public var nodeAddress: UInt64
        public var physBase: UInt64
        public var basers: [UInt64]
        public var typer: UInt64
        public var commandQueue: GuestPhysicalAddress?
        public var commandWriteOffset: UInt64?
        /// `its_node.flags`: ITS_FLAGS_CMDQ_NEEDS_FLUSHING (bit 0) when the ITS refused an
        /// inner-shareable command queue.
        public var flags: UInt64?
        public var devices: [Device]
        public var collections: [Collection]
    }
    public struct Route: Sendable, Hashable {
        public var its: Int
        public var deviceID: DeviceID
        public var eventID: EventID
        public var lpi: LPI
        public var icid: ICID
        public var cpu: UInt32
    }

    public var its: [ITS] = []
    public var propTable: GuestPhysicalAddress?
    /// `lpi_id_bits`, when it is a number of LPI ID bits (14–32).
    public var lpiIDBits: UInt64?
    /// `gic_rdists->flags`: RDIST_FLAGS_PROPBASE_NEEDS_FLUSHING (bit 0) when the
    /// redistributors refused inner-shareable LPI tables.
    public var rdistFlags: UInt64?
    public var pendingTables: [(cpu: UInt32, address: GuestPhysicalAddress)] = []
    public var cpus: Int = 0
    /// Pointers that led outside the dump, lists cut at their bound: reported, not fatal.
    public var problems: [String] = []
    public var vmcoreinfoSource: String = ""

    public var routes: [Route] {
        var out: [Route] = []
        for (i, n) in its.enumerated() {
            let byCPU = Dictionary(n.collections.map { ($0.cpu, $0) }, uniquingKeysWith: { first, _ in first })
            for d in n.devices {
                for e in d.events {
                    let col = byCPU[Int(e.cpu)]
                    out.append(Route(its: i, deviceID: d.deviceID, eventID: e.eventID, lpi: e.lpi,
                                     icid: ICID(UInt32(col?.colID ?? e.cpu)), cpu: UInt32(e.cpu)))
                }
            }
        }
        return out.sorted { ($0.its, $0.deviceID, $0.eventID) < ($1.its, $1.deviceID, $1.eventID) }
    }

    /// The registers the driver programmed, for the table walk (provenance "guest kernel").
    public var registers: RegisterState {
        var state = RegisterState()
        for n in its {
            var r = ITSRegisterState()
            let p = { (f: String) in Provenance(.guestKernel, "its_node@\(hex(n.nodeAddress)).\(f)") }
            r.base = Sourced(GuestPhysicalAddress(n.physBase), p("phys_base"))
            r.typer = Sourced(GITSTyper(rawValue: n.typer), p("typer"))
            for (i, v) in n.basers.prefix(8).enumerated() { r.baser[i] = Sourced(GITSBaser(rawValue: v), p("tables[\(i)].val")) }
            if let q = n.commandQueue {
                // The driver allocates a 64 KiB queue (ITS_CMD_QUEUE_SZ): Valid | PA[51:12] | Size 15,
                // RaWaWb inner shareable, or non-shareable nC where the ITS refused that and the
                // driver set ITS_FLAGS_CMDQ_NEEDS_FLUSHING (its_probe_one, Linux 6.1).
                let f = GITSCBaser.Fields.self
                var v = f.valid.insert(1, into: f.size.insert(15, into: f.physicalAddress.inPlace(q.rawValue)))
                if let flags = n.flags {
                    let refused = flags & 1 == 1
                    v = f.innerCache.insert(refused ? 1 : 7, into: f.shareability.insert(refused ? 0 : 1, into: v))
                }
                r.cbaser = Sourced(GITSCBaser(rawValue: v), p("cmd_base"))
                if let w = n.commandWriteOffset {
                    r.cwriter = Sourced(GITSCommandOffset(rawValue: w), p("cmd_write"))
                }
            }
            state.its.append(r)
        }
        // its_cpu_init_lpis writes both RaWaWb inner shareable, or non-shareable nC after the
        // redistributor refused (RDIST_FLAGS_PROPBASE_NEEDS_FLUSHING): InnerCache and Shareability.
        func tableAttributes(_ innerCache: BitField, _ shareability: BitField, _ v: UInt64) -> UInt64 {
            guard let flags = rdistFlags else { return v }
            let refused = flags & 1 == 1
            return innerCache.insert(refused ? 1 : 7, into: shareability.insert(refused ? 0 : 1, into: v))
        }
        for c in 0..<cpus {
            var rd = RedistributorState(cpu: UInt32(c))
            if let prop = propTable {
                // IDbits is the number of ID bits − 1; PA[51:12] (its-formats.md, GICR_PROPBASER).
                let f = GICRPropBaser.Fields.self
                let idBits = (lpiIDBits ?? 16) &- 1
                rd.propbaser = Sourced(GICRPropBaser(rawValue: tableAttributes(f.innerCache, f.shareability,
                                                                               f.idBits.insert(idBits, into: f.physicalAddress.inPlace(prop.rawValue)))),
                                       Provenance(.guestKernel, "gic_rdists->prop_table_pa"))
            }
            if let pend = pendingTables.first(where: { $0.cpu == UInt32(c) }) {
                let f = GICRPendBaser.Fields.self
                rd.pendbaser = Sourced(GICRPendBaser(rawValue: tableAttributes(f.innerCache, f.shareability, pend.address.rawValue)),
                                       Provenance(.guestKernel, "rdist[\(c)].pend_page"))
            }
            state.redistributors.append(rd)
        }
        return state
    }
}

public enum DriverWalkError: ToolError {
    case missing(String)
    public var description: String {
        switch self { case .missing(let what): what }
    }
}

/// Walks the driver's structures through a type source and the kernel's address space. Every
/// offset comes from the type source; lists are walked with a bound and a visited set.
public enum DriverWalker {
    static let maxListEntries = 1 << 16
    /// Bounds on the whole walk, far above any real system (a few ITSes, thousands of devices,
    /// tens of thousands of MSIs) and low enough that a guest whose lists all lead to one
    /// another cannot make the walk quadratic: beyond them the walk is cut and says so.
    public static let maxITSNodes = 256
    public static let maxDevices = 1 << 16
    public static let maxEvents = 1 << 20
    public static let maxCollections = 1 << 16
    public static let maxBitmapWords = 1 << 21

    public static func walk(types: any KernelTypes, space: KernelAddressSpace, memory: any GuestMemory,
                            cpus dumpCPUs: Int?) throws(DriverWalkError) -> DriverView
    {
        var w = try DriverWalk(types: types, space: space, memory: memory)
        w.readGlobals(dumpCPUs: dumpCPUs)
        let head = space.runtime(w.itsNodesLink)
        for nodeEntry in w.r.list(head: head, at: space.image(head), what: "its_nodes", limit: maxITSNodes, problems: &w.view.problems) {
            try w.node(at: nodeEntry &- (try w.off(w.node, "entry")))
        }
        w.readRedistributors()
        return w.view
    }
}

/// One walk of the driver's structures: the layouts it reads through, the view it builds and
/// the counts that bound the whole walk. One method per structure (its_node, its_device with
/// its event bitmap, gic_rdists).
struct DriverWalk {
    let types: any KernelTypes
    let space: KernelAddressSpace
    let r: Reader
    let itsNodesLink: UInt64
    let node: StructLayout, device: StructLayout, eventMap: StructLayout, baser: StructLayout, collection: StructLayout
    /// `shared` (an its_device shared by several PCI functions): a kernel without the member is
    /// said so once, and its devices read as not shared, never through another member.
    let sharedOffset: UInt64?
    var view = DriverView()
    var devices = 0, events = 0, collections = 0, bitmapWords = 0, eventsCut = false, bitmapsCut = false

    init(types: any KernelTypes, space: KernelAddressSpace, memory: any GuestMemory) throws(DriverWalkError) {
        func need(_ s: StructLayout?, _ name: String) throws(DriverWalkError) -> StructLayout {
            guard let s else { throw .missing("the debug info has no struct \(name) in irq-gic-v3-its.c's unit: pass a vmlinux with DWARF for this kernel") }
            return s
        }
        guard let link = types.symbol("its_nodes", near: nil) else {
            throw .missing("the vmlinux has no symbol its_nodes (irq-gic-v3-its.c): is this an arm64 kernel with the GICv3 ITS driver?")
        }
        self.types = types
        self.space = space
        r = Reader(space: space, memory: memory)
        itsNodesLink = link
        node = try need(types.structure("its_node", inUnitOf: "its_nodes"), "its_node")
        device = try need(types.structure("its_device", inUnitOf: "its_nodes"), "its_device")
        eventMap = try need(types.memberStructure(device, "event_map", inUnitOf: "its_nodes"), "event_lpi_map")
        sharedOffset = device.offset("shared")
        if sharedOffset == nil {
            view.problems.append("struct its_device has no member shared in this kernel's types: its devices are taken as not shared")
        }
        baser = try need(types.memberStructure(node, "tables", inUnitOf: "its_nodes"), "its_baser")
        collection = try need(types.memberStructure(node, "collections", inUnitOf: "its_nodes"), "its_collection")
    }

    func off(_ s: StructLayout, _ m: String) throws(DriverWalkError) -> UInt64 {
        guard let o = s.offset(m) else { throw .missing("struct \(s.name) has no member \(m) in this kernel's debug info") }
        return o
    }

    /// nr_cpu_ids (else the dump's vCPUs) and lpi_id_bits.
    mutating func readGlobals(dumpCPUs: Int?) {
        let cpus = types.symbol("nr_cpu_ids", near: nil).flatMap { r.u32(space.image(space.runtime($0))) }.map(Int.init) ?? dumpCPUs ?? 0
        view.cpus = min(cpus, 4096)
        if let l = types.symbol("lpi_id_bits", near: "its_nodes"), let v = r.u32(space.image(space.runtime(l))) {
            if (14...32).contains(v) {
                view.lpiIDBits = UInt64(v)
            } else {
                view.problems.append("lpi_id_bits is \(v), not a number of LPI ID bits (14-32); GICR_PROPBASER.IDbits is taken as 15 (16 bits)")
            }
        }
    }

    /// One its_node: its registers, its collections and its device list.
    mutating func node(at n: UInt64) throws(DriverWalkError) {
        var its = DriverView.ITS(nodeAddress: n, physBase: r.u64(n &+ (try off(node, "phys_base"))) ?? 0, basers: [],
                                 typer: r.u64(n &+ (try off(node, "typer"))) ?? 0, devices: [], collections: [])
        let tables = try off(node, "tables"), valOff = try off(baser, "val")
        // Sizes and offsets come from the debug info, a file the user gave: wrapping arithmetic.
        for i in 0..<UInt64(8) { its.basers.append(r.u64(n &+ tables &+ i &* baser.size &+ valOff) ?? 0) }
        its.flags = node.offset("flags").flatMap { r.u64(n &+ $0) }
        if let cmd = r.u64(n &+ (try off(node, "cmd_base"))), let pa = space.physical(cmd) {
            its.commandQueue = pa
            if let w = r.u64(n &+ (try off(node, "cmd_write"))), w >= cmd, w - cmd < 65536 { its.commandWriteOffset = w - cmd }
        }
        if let cols = r.u64(n &+ (try off(node, "collections"))), cols != 0 {
            try readCollections(cols, of: n, into: &its)
        }
        let devHead = n &+ (try off(node, "its_device_list"))
        if let devHeadPA = space.physical(devHead) {
            let devList = r.list(head: devHead, at: devHeadPA, what: "its_device_list of its_node \(hex(n))",
                                 limit: DriverWalker.maxDevices - devices, problems: &view.problems)
            devices += devList.count
            for devEntry in devList {
                if let dev = try self.device(at: devEntry &- (try off(device, "entry"))) { its.devices.append(dev) }
            }
        }
        its.devices.sort { $0.deviceID < $1.deviceID }
        view.its.append(its)
    }

    /// The node's per-CPU collections (one its_collection per CPU).
    mutating func readCollections(_ cols: UInt64, of n: UInt64, into its: inout DriverView.ITS) throws(DriverWalkError) {
        for c in 0..<view.cpus {
            guard collections < DriverWalker.maxCollections else {
                view.problems.append("its_node \(hex(n)): more than \(DriverWalker.maxCollections) collections in all; the rest are not read (a bound of itsdump)")
                break
            }
            collections += 1
            let base = cols &+ UInt64(c) &* collection.size
            guard let t = r.u64(base &+ (try off(collection, "target_address"))),
                  let id = r.u16(base &+ (try off(collection, "col_id"))) else {
                view.problems.append("its_node \(hex(n)): collection of CPU \(c) at \(hex(base)) is not in the dump")
                continue
            }
            its.collections.append(.init(cpu: c, targetAddress: t, colID: id))
        }
    }

    /// One its_device and its events, or nil when it is not in the dump.
    mutating func device(at d: UInt64) throws(DriverWalkError) -> DriverView.Device? {
        let em = d &+ (try off(device, "event_map"))
        guard let id = r.u32(d &+ (try off(device, "device_id"))), let nrItes = r.u32(d &+ (try off(device, "nr_ites"))),
              let lpiBase = r.u64(em &+ (try off(eventMap, "lpi_base"))), let nrLPIs = r.u32(em &+ (try off(eventMap, "nr_lpis"))) else {
            view.problems.append("its_device at \(hex(d)) is not in the dump")
            return nil
        }
        var dev = DriverView.Device(address: d, deviceID: DeviceID(id), nrItes: nrItes, ittAddress: nil,
                                    lpiBase: UInt32(truncatingIfNeeded: lpiBase), nrLPIs: nrLPIs, events: [],
                                    shared: sharedOffset.flatMap { r.u8(d &+ $0) }.map { $0 != 0 } ?? false)
        // its_build_mapd_cmd: the ITS gets ALIGN(virt_to_phys(itt), 256).
        if let itt = r.u64(d &+ (try off(device, "itt"))), let pa = space.physical(itt),
           case (let up, false) = pa.rawValue.addingReportingOverflow(255) {
            dev.ittAddress = GuestPhysicalAddress(up & ~255)
        }
        if let bitmap = r.u64(em &+ (try off(eventMap, "lpi_map"))), let colMap = r.u64(em &+ (try off(eventMap, "col_map"))) {
            readEvents(of: &dev, bitmap: bitmap, colMap: colMap, lpiBase: lpiBase,
                       count: min(UInt64(nrLPIs), UInt64(nrItes), 1 << 16))
        }
        return dev
    }

    /// The allocated events of a device's lpi_map, each with the CPU of its col_map entry.
    /// The bitmap in one read when it is contiguous in the dump, else word by word; its words
    /// count against a bound of the whole walk.
    mutating func readEvents(of dev: inout DriverView.Device, bitmap: UInt64, colMap: UInt64, lpiBase: UInt64, count: UInt64) {
        let words = Int((count + 63) / 64)
        guard bitmapWords + words <= DriverWalker.maxBitmapWords else {
            if !bitmapsCut {
                view.problems.append("device \(dev.deviceID): more than \(DriverWalker.maxBitmapWords) words of event bitmaps in all; the rest are not read (a bound of itsdump)")
                bitmapsCut = true
            }
            return
        }
        bitmapWords += words
        let whole = r.bytes(bitmap, words * 8)
        for w in 0..<UInt64(words) {
            guard var bits = whole?.loadLE(at: Int(w * 8), count: 8) ?? r.u64(bitmap &+ w * 8) else {
                view.problems.append("device \(dev.deviceID): event bitmap at \(hex(bitmap)) is not in the dump")
                return
            }
            // col_map for this word's 64 events, only when one is allocated: at most 128 bytes
            // per allocated event, whatever the device claims.
            let cols = bits == 0 ? nil : r.bytes(colMap &+ w * 128, Int(min(64, count &- w * 64)) * 2)
            while bits != 0 {
                let e = w * 64 + UInt64(bits.trailingZeroBitCount)
                bits &= bits - 1
                guard e < count else { return }
                guard events < DriverWalker.maxEvents else {
                    if !eventsCut {
                        view.problems.append("device \(dev.deviceID): more than \(DriverWalker.maxEvents) events in all; the rest are not read (a bound of itsdump)")
                        eventsCut = true
                    }
                    return
                }
                events += 1
                let cpu = cols.map { UInt16($0.loadLE(at: Int(e % 64) * 2, count: 2)) } ?? r.u16(colMap &+ e * 2) ?? 0xFFFF
                dev.events.append((EventID(UInt32(e)), LPI(UInt32(truncatingIfNeeded: lpiBase &+ e)), cpu))
            }
        }
    }

    /// gic_rdists → property table and each CPU's pending table (a struct page * in 6.1).
    mutating func readRedistributors() {
        guard let rdLink = types.symbol("gic_rdists", near: "its_nodes"),
              let rdists = types.structure("rdists", inUnitOf: "gic_rdists"),
              let rdPtr = r.u64(space.image(space.runtime(rdLink))), rdPtr != 0
        else {
            view.problems.append("gic_rdists not found or not in the dump: no property or pending table addresses")
            return
        }
        if let o = rdists.offset("prop_table_pa"), let pa = r.u64(rdPtr &+ o) { view.propTable = GuestPhysicalAddress(pa) }
        view.rdistFlags = rdists.offset("flags").flatMap { r.u64(rdPtr &+ $0) }
        guard let o = rdists.offset("rdist"), let percpu = r.u64(rdPtr &+ o),
              let per = types.memberStructure(rdists, "rdist", inUnitOf: "gic_rdists"),
              let offsets = types.symbol("__per_cpu_offset", near: nil) else { return }
        for c in 0..<view.cpus {
            guard let cpuOff = r.u64(space.image(space.runtime(offsets)).rawValue &+ UInt64(c) &* 8, physical: true) else { continue }
            let rd = percpu &+ cpuOff
            if let o = per.offset("pend_page"), let page = r.u64(rd &+ o), page != 0, let pa = space.pagePointer(page) {
                view.pendingTables.append((UInt32(c), pa))
            } else {
                view.problems.append("CPU \(c): its pending table (rdist.pend_page) could not be read")
            }
        }
    }

    /// Reads guest kernel memory by VA (or PA), reporting nothing itself: callers decide.
    struct Reader {
        let space: KernelAddressSpace
        let memory: any GuestMemory

        /// A VA range is translated page by page: only the linear map is contiguous in RAM.
        func bytes(_ a: UInt64, _ n: Int, physical: Bool = false) -> [UInt8]? {
            if physical {
                guard case .bytes(let b) = memory.read(GuestPhysicalAddress(a), count: n) else { return nil }
                return b
            }
            var out: [UInt8] = []
            var va = a, left = UInt64(max(0, n))
            while left > 0 {
                let piece = min(left, space.pageSize - va % space.pageSize)
                guard let pa = space.physical(va), case .bytes(let b) = memory.read(pa, count: Int(piece)) else { return nil }
                if piece == UInt64(n) { return b }
                out += b
                left -= piece
                va &+= piece
            }
            return out
        }
        func u64(_ va: UInt64, physical: Bool = false) -> UInt64? { bytes(va, 8, physical: physical)?.loadLE(at: 0, count: 8) }
        func u64(_ pa: GuestPhysicalAddress) -> UInt64? { u64(pa.rawValue, physical: true) }
        func u32(_ va: UInt64) -> UInt32? { bytes(va, 4).map { UInt32($0.loadLE(at: 0, count: 4)) } }
        func u32(_ pa: GuestPhysicalAddress) -> UInt32? { bytes(pa.rawValue, 4, physical: true).map { UInt32($0.loadLE(at: 0, count: 4)) } }
        func u16(_ va: UInt64) -> UInt16? { bytes(va, 2).map { UInt16($0.loadLE(at: 0, count: 2)) } }
        func u8(_ va: UInt64) -> UInt8? { bytes(va, 1)?.first }

        /// The entries (VAs of their list_head) of a circular kernel list, bounded, cycles cut.
        func list(head: UInt64, at headPA: GuestPhysicalAddress, what: String, limit: Int = DriverWalker.maxListEntries,
                  problems: inout [String]) -> [UInt64] {
            var out: [UInt64] = []
            var seen: Set<UInt64> = [head]
            guard var p = u64(headPA) else {
                problems.append("\(what): the list head at \(headPA) is not in the dump")
                return out
            }
            while p != head {
                if out.count >= limit, limit < DriverWalker.maxListEntries {
                    problems.append("\(what): more entries than the walk's bound allows; cut after \(limit) (a bound of itsdump)")
                    break
                }
                guard out.count < DriverWalker.maxListEntries, seen.insert(p).inserted else {
                    problems.append("\(what): the list does not return to its head (cycle or more than \(DriverWalker.maxListEntries) entries); cut")
                    break
                }
                out.append(p)
                guard let next = u64(p) else {
                    problems.append("\(what): entry at \(hex(p)) is not in the dump; the list is cut there")
                    break
                }
                p = next
            }
            return out
        }
    }
}

extension DriverWalker {
    /// The reader of guest kernel memory the walks share (the irq walk too).
    typealias Reader = DriverWalk.Reader
}
