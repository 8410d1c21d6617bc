@testable import ITSLayout
import ITSAnalysis

/// Builds guest images byte by byte from the layouts in its-formats.md, independently of the
/// decoders under test.
struct ImageBuilder {
    var image = SparseImage()

    // QEMU ≥ 7.0 (its-formats.md §1.11)
    mutating func qemuDTE(_ at: UInt64, itt: UInt64, bits: UInt64) {
        image.write64(at, 1 | (bits - 1) << 1 | (itt >> 8) << 6)
    }
    mutating func qemuITE(_ at: UInt64, lpi: UInt64, icid: UInt64) {
        image.write64(at, 1 | 1 << 1 | lpi << 2 | icid << 32)
        image.write32(at + 8, 0)
    }
    mutating func qemuCTE(_ at: UInt64, rd: UInt64) { image.write64(at, 1 | rd << 1) }

    // KVM ABI 0 (its-formats.md §1.10)
    mutating func kvmDTE(_ at: UInt64, itt: UInt64, bits: UInt64, next: UInt64) {
        image.write64(at, 1 << 63 | next << 49 | (itt >> 8) << 5 | (bits - 1))
    }
    mutating func kvmITE(_ at: UInt64, lpi: UInt64, icid: UInt64, next: UInt64) {
        image.write64(at, next << 48 | lpi << 16 | icid)
    }
    mutating func kvmCTE(_ at: UInt64, icid: UInt64, rd: UInt64) { image.write64(at, 1 << 63 | rd << 16 | icid) }

    mutating func l1(_ at: UInt64, page: UInt64) { image.write64(at, 1 << 63 | page) }

    /// Maps `bytes` of zeros at `at` (a table that exists but is empty).
    mutating func map(_ at: UInt64, _ bytes: UInt64) { image.map(at, length: bytes) }

    /// Writes 4-word commands into the queue at `queue`, from slot `from` on (its-formats.md §2.1).
    mutating func commands(_ queue: UInt64, from: UInt64 = 0, _ cmds: [[UInt64]]) {
        for (i, c) in cmds.enumerated() {
            for (w, v) in c.enumerated() { image.write64(queue + (from + UInt64(i)) * 32 + UInt64(w) * 8, v) }
        }
    }
}

/// GITS_BASER for a table (its-formats.md §1.6).
func baser(type: UInt64, base: UInt64, page: UInt64, indirect: Bool = false, pages: UInt64 = 1) -> UInt64 {
    let code: UInt64 = page == 4096 ? 0 : page == 16384 ? 1 : 2
    let addr = page == 65536 ? (base & 0x0000_FFFF_FFFF_0000) | ((base >> 48) & 0xF) << 12 : base & 0x0000_FFFF_FFFF_F000
    return 1 << 63 | (indirect ? 1 << 62 : 0) | type << 56 | 7 << 48 | addr | code << 8 | (pages - 1)
}

func registers(_ format: ITSFormat, device: UInt64, collection: UInt64) -> ITSRegisterState {
    var r = ITSRegisterState()
    let p = Provenance(.flag, "test")
    r.typer = Sourced(GITSTyper(rawValue: format == .kvm ? 0x1EF71 : 0x1F_0001_EFB1), p)
    r.baser[0] = Sourced(GITSBaser(rawValue: device), p)
    r.baser[1] = Sourced(GITSBaser(rawValue: collection), p)
    return r
}

/// GITS_BASER0 (device table at `dt`) and GITS_BASER1 (collection table at `ct`) of one format.
func tables(_ format: ITSFormat, dt: UInt64, ct: UInt64, page: UInt64 = 65536, indirect: Bool = false,
            pages: UInt64 = 1, collectionPages: UInt64 = 1) -> ITSRegisterState
{
    registers(format, device: baser(type: 1, base: dt, page: page, indirect: indirect, pages: pages),
              collection: baser(type: 4, base: ct, page: page, pages: collectionPages))
}

/// `r` with a one-page (128-slot) command queue at `queue`, GITS_CREADR and GITS_CWRITER
/// given as byte offsets (its-formats.md §1.5).
func withQueue(_ r: ITSRegisterState, at queue: UInt64, creadr: UInt64, cwriter: UInt64) -> ITSRegisterState {
    var r = r
    let p = Provenance(.flag, "test")
    r.cbaser = Sourced(GITSCBaser(rawValue: 1 << 63 | queue), p)
    r.creadr = Sourced(GITSCommandOffset(rawValue: creadr), p)
    r.cwriter = Sourced(GITSCommandOffset(rawValue: cwriter), p)
    return r
}

func redistributors(_ n: Int, prop: UInt64? = nil, pend: (Int) -> UInt64? = { _ in nil }) -> [RedistributorState] {
    (0..<n).map { c in
        var r = RedistributorState(cpu: UInt32(c))
        let p = Provenance(.flag, "test")
        if let prop { r.propbaser = Sourced(GICRPropBaser(rawValue: prop), p) }
        if let v = pend(c) { r.pendbaser = Sourced(GICRPendBaser(rawValue: v), p) }
        return r
    }
}

struct Walked {
    var tables: ITSTables
    var graph: RoutingGraph
    var analysis: Analysis
    /// Every finding of the whole analysis: the walk's, the graph's, the queue's and the state checks'.
    var all: [Finding] { analysis.findings }
    /// (DeviceID, EventID, LPI, vCPU) of every route.
    var rows: [[UInt64?]] {
        graph.routes.map { [UInt64($0.deviceID.rawValue), UInt64($0.eventID.rawValue), UInt64($0.lpi.rawValue), $0.vcpu.map(UInt64.init)] }
    }
    var findings: [Finding] { tables.findings + graph.findings }
    func rules() -> Set<String> { Set(findings.map(\.rule)) }
    func findings(_ rule: String) -> [Finding] { findings.filter { $0.rule == rule } }
}

func walk(_ b: ImageBuilder, _ regs: ITSRegisterState, cpus: Int = 4,
          rds: [RedistributorState] = [], limits: WalkLimits = WalkLimits()) throws -> Walked
{
    let a = try Analysis.run(memory: b.image, registers: RegisterState(its: [regs], redistributors: rds),
                             vcpus: cpus, limits: limits)
    return Walked(tables: a.tables[0], graph: a.graphs[0], analysis: a)
}

/// A built guest image with the registers that describe it: what the image tests and the
/// rule catalogue (RuleCoverageTests) share.
struct Scenario {
    var builder: ImageBuilder
    var its: ITSRegisterState
    var cpus = 4
    var rds: [RedistributorState] = []
    var limits = WalkLimits()

    func walk() throws -> Walked { try ITSLayoutTests.walk(builder, its, cpus: cpus, rds: rds, limits: limits) }
}
