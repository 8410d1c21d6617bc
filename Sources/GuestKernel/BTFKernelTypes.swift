import ITSLayout
import Synchronization

/// The `KernelTypes` of the driver walk from BTF instead of DWARF, with the walk's symbols found
/// in guest memory (`DriverSymbolFinder`): the walk itself is the one `DriverWalker`.
///
/// BTF has no compilation units: where vmlinux holds two structs of one name (`struct
/// its_device`: irq-gic-v3-its.c's and KVM's vgic-its.c's), the driver's is the one that has
/// the members the walk reads (`distinguishing`), as the DWARF path takes the one of
/// `its_nodes`' unit. Two candidates with those members, or none, are an error, never a guess.
public struct BTFKernelTypes: KernelTypes {
    public let btf: BTF
    /// Link-time addresses (runtime − KERNELOFFSET), as a vmlinux's symbol table has them.
    public private(set) var symbols: [String: UInt64]
    /// Every struct and member-struct look-up, kept once made (found or not): the driver walk's
    /// structs are resolved up front (`init`), and the irq walk asks for `irq_desc`, `irq_data`
    /// and their members' structs for each of its candidates and each irq (a layout of
    /// `struct device` or `pci_dev` decodes a hundred members). Shared by the copies of these
    /// types (`with(symbols:)`) and safe across the threads that walk with them.
    private let looked = LayoutCache()
    final class LayoutCache: Sendable {
        let layouts = Mutex<[String: StructLayout?]>([:])
        func get(_ key: String, _ make: () -> StructLayout?) -> StructLayout? {
            if let known = layouts.withLock({ $0[key] }) { return known }
            let made = make()
            put(key, made)
            return made
        }
        /// The first layout kept for a key stays.
        func put(_ key: String, _ layout: StructLayout?) {
            layouts.withLock { if $0[key] == nil { $0[key] = .some(layout) } }
        }
    }
    public let source: String
    public var buildID: String? { nil }
    public var release: String? { nil }

    /// The members that tell the driver's struct from a namesake (irq-gic-v3-its.c, 6.1).
    static let distinguishing: [String: [String]] = [
        "its_device": ["event_map", "itt", "device_id", "entry"],
        "its_node": ["its_device_list", "tables", "phys_base", "entry"],
        "rdists": ["rdist", "prop_table_pa"],
    ]

    /// Checks up front that the structs of the walk resolve, so that a damaged BTF is a named
    /// error here rather than a "missing struct" later.
    public init(btf: BTF, symbols: [String: UInt64], source: String) throws(BTF.Problem) {
        self.btf = btf
        self.symbols = symbols
        self.source = source
        for name in ["its_node", "its_device", "rdists"] {
            guard let l = try resolveStructure(name) else { continue }
            looked.put("struct \(name)", l)
            for m in try btf.members(of: UInt32(truncatingIfNeeded: l.token)) {
                guard let target = try btf.pointee(m.type) else { continue }
                looked.put("\(l.token).\(m.name)", try btf.layout(target))
            }
        }
    }

    /// The same types with the symbols the finder found.
    public func with(symbols: [String: UInt64]) -> BTFKernelTypes {
        var copy = self
        copy.symbols = symbols
        return copy
    }

    public func resolveStructure(_ name: String) throws(BTF.Problem) -> StructLayout? {
        // vmlinux has one or two of each; a BTF with more namesakes than this is not trusted.
        let ids = btf.structures(named: name, limit: 17)
        guard ids.count <= 16 else { return nil }
        var layouts: [StructLayout] = []
        for id in ids {
            let l = try btf.layout(id)
            if (Self.distinguishing[name] ?? []).allSatisfy(l.has) { layouts.append(l) }
        }
        // A forward-declared or duplicate-identical struct can appear twice: same size and members.
        guard let first = layouts.first,
              layouts.allSatisfy({ $0.size == first.size && $0.members.map(\.name) == first.members.map(\.name) })
        else { return nil }
        return first
    }

    public func symbol(_ name: String, near: String?) -> UInt64? { symbols[name] }

    public func structure(_ name: String, inUnitOf variable: String) -> StructLayout? {
        looked.get("struct \(name)") { (try? resolveStructure(name)) ?? nil }
    }

    public func memberStructure(_ layout: StructLayout, _ member: String, inUnitOf variable: String) -> StructLayout? {
        looked.get("\(layout.token).\(member)") {
            guard let members = try? btf.members(of: UInt32(truncatingIfNeeded: layout.token)),
                  let m = members.first(where: { $0.name == member }),
                  let target = (try? btf.pointee(m.type)) ?? nil else { return nil }
            return try? btf.layout(target)
        }
    }
}
