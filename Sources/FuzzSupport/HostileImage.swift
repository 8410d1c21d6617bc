import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis
/// An arbitrary guest image and register values decoded from a byte string: the walker fuzz
/// target's input format (Fuzz/), and how its findings are replayed as unit tests. The first
/// 64 bytes are GITS_BASER0, GITS_BASER1, GITS_TYPER, GITS_CBASER, CREADR | CWRITER << 32,
/// GICR_PROPBASER, GICR_PENDBASER and the format (bit 0: 0 KVM, 1 QEMU); the rest is guest
/// memory laid at each table base and at every address the first 512 bytes' words point to.
public struct HostileImage: Sendable {
    public var registers: RegisterState
    public var image: SparseImage
    public var format: ITSFormat

    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 64 else { return nil }
        let w = (0..<8).map { bytes.loadLE(at: $0 * 8, count: 8) }
        format = w[7] & 1 == 0 ? .kvm : .qemu
        var its = ITSRegisterState()
        let p = Provenance(.flag, "hostile image")
        its.baser[0] = Sourced(GITSBaser(rawValue: w[0]), p)
        its.baser[1] = Sourced(GITSBaser(rawValue: w[1]), p)
        its.typer = Sourced(GITSTyper(rawValue: w[2]), p)
        its.cbaser = Sourced(GITSCBaser(rawValue: w[3]), p)
        its.creadr = Sourced(GITSCommandOffset(rawValue: w[4] & 0xFFFFF), p)
        its.cwriter = Sourced(GITSCommandOffset(rawValue: w[4] >> 32 & 0xFFFFF), p)
        its.iidr = Sourced(GITSIIDR(rawValue: format == .kvm ? 0x4B00_043B : 0x43B), p)
        var rd = RedistributorState(cpu: 0)
        rd.propbaser = Sourced(GICRPropBaser(rawValue: w[5]), p)
        rd.pendbaser = Sourced(GICRPendBaser(rawValue: w[6]), p)
        registers = RegisterState(its: [its], redistributors: [rd])
        image = SparseImage()
        let body = Array(bytes[64...])
        guard !body.isEmpty else { return }
        for b in [GITSBaser(rawValue: w[0]).physicalAddress.rawValue, GITSBaser(rawValue: w[1]).physicalAddress.rawValue,
                  GICRPropBaser(rawValue: w[5]).physicalAddress.rawValue] {
            image.write(b, bytes: Array(body.prefix(65536)))
        }
        var i = 0
        while i + 8 <= min(body.count, 512) {
            let v = body.loadLE(at: i, count: 8)
            let level2 = Level1Entry.addressField.inPlace(v)
            let qemuITT = QEMUFormat.DTE.ittAddress.extract(v) << 8
            let kvmITT = KVMFormat.DTE.ittAddress.extract(v) << 8
            for a in [level2, qemuITT, kvmITT] where a != 0 && image.chunks.count < 64 {
                image.write(a, bytes: Array(body.prefix(4096)))
            }
            i += 8
        }
    }

    /// Everything a `check` does (`Analysis.run`): walk, graph, command queue, state checks.
    @discardableResult
    public func analyse(limits: WalkLimits = WalkLimits()) -> [Finding] {
        (try? Analysis.run(memory: image, registers: registers, format: format, vcpus: 4, limits: limits))?.findings ?? []
    }
}
