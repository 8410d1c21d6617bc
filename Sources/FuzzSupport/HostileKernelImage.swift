import ITSLayout
import TextFormats
import GuestKernel
import ITSAnalysis
/// A guest image and VMCOREINFO decoded from a byte string: the guest-kernel fuzz target's input
/// format (Fuzz/README.md, `fuzz-driver`), and how its findings are replayed as tests. A
/// little-endian u16 n, then n bytes of VMCOREINFO text (n = 0: none, `analyse` scans the image
/// for it, input-formats.md §6.2), then records `[u64 PA][u16 length][bytes]` laid into a sparse
/// image; every field is clamped to the bytes present, at most 4096 records. Without the text,
/// the first record's bytes are also read as up to 4 vCPUs' registers (32 bytes each: x29, sp,
/// pc, pstate) for `VMCOREINFOFromVCPUs`, tried before the scan.
public struct HostileKernelImage: Sendable {
    public var vmcoreinfo: VMCOREINFO?
    public var image: SparseImage
    public var vcpus: [VCPURegisters] = []

    public init(_ bytes: [UInt8]) {
        var at = 0
        func take(_ n: Int) -> ArraySlice<UInt8> {
            let k = max(0, min(n, bytes.count - at))
            defer { at += k }
            return bytes[at..<(at + k)]
        }
        func le(_ s: ArraySlice<UInt8>) -> UInt64 { Array(s).loadLE(at: 0, count: s.count) }
        let text = take(Int(le(take(2))))
        vmcoreinfo = text.isEmpty ? nil : VMCOREINFO(text: String(decoding: text, as: UTF8.self), source: "hostile image")
        image = SparseImage()
        var records = 0
        while at < bytes.count, records < 4096 {
            let pa = le(take(8))
            let record = Array(take(Int(le(take(2)))))
            image.write(pa, bytes: record)
            if records == 0, vmcoreinfo == nil {
                vcpus = stride(from: 0, to: min(record.count / 32, 4) * 32, by: 32).map { o in
                    VCPURegisters(x29: record.loadLE(at: o, count: 8), sp: record.loadLE(at: o + 8, count: 8),
                                  pc: record.loadLE(at: o + 16, count: 8), pstate: record.loadLE(at: o + 24, count: 8))
                }
            }
            records += 1
        }
    }

    public struct Result: Sendable {
        public var view: DriverView
        /// The routes of the tables walked with the registers the driver programmed.
        public var tableRoutes: [RoutingGraph.Route]
        public var diff: ExpectedDiff
        /// The irq descriptor walk (issue 19), and the maple walk over `irq_desc_tree`'s bytes
        /// read as a 6.5+ `sparse_irqs`: both must end, bounded, whatever the image holds.
        public var irqs: IRQView
        public var mapleEntries: Int
    }

    /// What `diff --expected guest-kernel` does: the driver walk, the tables walked with the
    /// registers it gives, and the driver's mappings compared with their routes. Nil when
    /// VMCOREINFO is absent or unusable, or the types lack what the walk needs.
    public func analyse(types: any KernelTypes, cpus: Int = 4) -> Result? {
        guard let info = vmcoreinfo ?? VMCOREINFOFromVCPUs.locate(cpus: vcpus, memory: image) ?? VMCOREINFO.scan(image),
              let space = try? KernelAddressSpace(info, memory: image),
              let view = try? DriverWalker.walk(types: types, space: space, memory: image, cpus: cpus) else { return nil }
        let routes = Self.tableRoutes(view, memory: image, cpus: cpus)
        let irqs = IRQWalker.walk(types: types, space: space, memory: image, driver: view)
        let maple = types.symbol("irq_desc_tree", near: nil).map {
            IRQDescriptorTree.maple.walk(variable: space.runtime($0), layout: .maple64, space: space, memory: image).entries.count
        } ?? 0
        return Result(view: view, tableRoutes: routes,
                        diff: ExpectedDiff.against(view, source: "hostile image", routes: routes, ignoring: []), irqs: irqs, mapleEntries: maple)
    }

    /// The routes of the tables walked with the registers the driver's records give.
    public static func tableRoutes(_ view: DriverView, memory: any GuestMemory, cpus: Int) -> [RoutingGraph.Route] {
        ((try? Analysis.run(memory: memory, registers: view.registers, vcpus: cpus))?.routes) ?? []
    }
}
