import ITSLayout

/// The irq descriptor walk's data symbols (`irq_desc_tree` or `sparse_irqs`, and
/// `its_irq_chip`) in a dump whose kallsyms holds text symbols only (no CONFIG_KALLSYMS_ALL,
/// as Debian's 6.1): found as `DriverSymbolFinder` finds `its_nodes`, from the ADRP + ADD pairs
/// of functions kallsyms lists, and each candidate kept only if the guest's data holds the
/// invariants the kernel maintains:
///
/// - the tree: `irq_to_desc`, `irq_get_next_irq` and `__irq_get_desc_lock` (kernel/irq/irqdesc.c,
///   not `__init`) take its address (`radix_tree_lookup(&irq_desc_tree, irq)`; 6.5+
///   `mtree_load(&sparse_irqs, irq)`). A candidate read as the tree must hold at least one
///   descriptor, and every descriptor must sit under its own irq number
///   (`desc->irq_data.irq`) and point back to itself (`desc->irq_data.common ==
///   &desc->irq_common_data`, as desc_set_defaults sets it);
/// - `its_irq_chip`: its_irq_domain_alloc (a driver function `DriverSymbolFinder` already
///   decodes) passes `&its_irq_chip` to irq_domain_set_hwirq_and_chip; the candidate must be
///   a `struct irq_chip` whose `name` is "ITS" (irq-gic-v3-its.c; the driver's other chips
///   are "GICv4-vpe", "GICv4.1-sgi"). GCC often reaches it from a section anchor (ADRP of
///   the anchor, then ADD of the offset), which no ADRP pair shows: then `IRQWalker` takes
///   the chip of the irq_data levels whose chip_data is one of the driver's its_devices
///   (6.1's Debian kernel: that way).
///
/// Two different candidates that pass are ambiguous and none is taken; a symbol not found
/// leaves the irq walk to say so (the routes are unaffected: only their names are missing).
public enum IRQSymbolFinder {
    /// kernel/irq/irqdesc.c functions (6.1 and 6.5+) that address the descriptor tree.
    public static let irqFunctions = ["irq_to_desc", "irq_get_next_irq", "__irq_get_desc_lock"]
    /// The symbols it finds (one of the two trees), in the order `ZeroConfigKernel.summary` names them.
    public static let dataSymbols = ["irq_desc_tree", "sparse_irqs", "its_irq_chip"]

    /// What was found (symbol → address and method) and what could not be.
    public struct Result: Sendable {
        public var found: [String: DriverSymbolFinder.Found] = [:]
        public var problems: [String] = []
    }

    /// `treeCandidates`: ADRP targets of `irqFunctions`; `chipCandidates`: those of the driver's
    /// functions (and kallsyms' data symbols, when it has them).
    public static func find(treeCandidates: [(address: UInt64, method: String)], chipCandidates: [(address: UInt64, method: String)],
                            types: any KernelTypes, space: KernelAddressSpace, memory: any GuestMemory) -> Result {
        var out = Result()
        var trees: [UInt64: (IRQDescriptorTree, String)] = [:]
        for c in treeCandidates where trees[c.address] == nil {
            for tree in IRQDescriptorTree.allCases where validateTree(tree, variable: c.address, types: types, space: space, memory: memory) != nil {
                trees[c.address] = (tree, c.method)
            }
        }
        if trees.count == 1, let (address, (tree, method)) = trees.first {
            out.found[tree.symbol] = .init(address: address, method: method + ", validated")
        } else {
            out.problems.append(trees.isEmpty
                ? "none of the \(treeCandidates.count) candidate addresses (ADRP references in \(irqFunctions.joined(separator: ", "))) holds a valid irq_desc_tree or sparse_irqs: no irq numbers or names"
                : "\(trees.count) candidates pass as the irq descriptor tree (\(trees.keys.sorted().map(hex).joined(separator: ", "))): ambiguous, not guessed; no irq numbers or names")
        }
        // its_irq_chip: when no candidate passes, IRQWalker takes it from the irq_data levels
        // that belong to the driver's its_devices (it has the driver's records).
        var chips: [UInt64: String] = [:]
        for c in chipCandidates where chips[c.address] == nil && isITSChip(c.address, types: types, space: space, memory: memory) {
            chips[c.address] = c.method
        }
        if chips.count == 1, let (address, method) = chips.first {
            out.found["its_irq_chip"] = .init(address: address, method: method + ", validated")
        }
        return out
    }

    /// The number of descriptors of `tree` read as the variable at runtime VA `variable`, when
    /// each sits under its own irq and points back to itself; nil otherwise.
    public static func validateTree(_ tree: IRQDescriptorTree, variable: UInt64, types: any KernelTypes,
                                    space: KernelAddressSpace, memory: any GuestMemory) -> Int? {
        let unit = tree.symbol
        guard case .success(let layout) = IRQDescriptorTree.Layout.of(tree, types: types),
              let desc = types.structure("irq_desc", inUnitOf: unit),
              let data = types.memberStructure(desc, "irq_data", inUnitOf: unit),
              let dataOff = desc.offset("irq_data"), let commonOff = desc.offset("irq_common_data"),
              let irqOff = data.offset("irq"), let backOff = data.offset("common") else { return nil }
        let r = DriverWalker.Reader(space: space, memory: memory)
        let walk = tree.walk(variable: variable, layout: layout, reader: r)
        guard walk.problems.isEmpty, !walk.entries.isEmpty else { return nil }
        for e in walk.entries {
            guard e.first == e.last, let irq = r.u32(e.pointer &+ dataOff &+ irqOff), UInt64(irq) == e.first,
                  r.u64(e.pointer &+ dataOff &+ backOff) == e.pointer &+ commonOff else { return nil }
        }
        return walk.entries.count
    }

    /// Whether runtime VA `address` (in the image, or any kernel VA when `image` is false) is a
    /// `struct irq_chip` named "ITS".
    public static func isITSChip(_ address: UInt64, types: any KernelTypes, space: KernelAddressSpace, memory: any GuestMemory,
                                 image: Bool = true) -> Bool {
        guard let chip = types.structure("irq_chip", inUnitOf: "its_nodes"), let nameOff = chip.offset("name") else { return false }
        let r = DriverWalker.Reader(space: space, memory: memory)
        let at = address &+ nameOff
        guard let p = image ? r.u64(space.image(at).rawValue, physical: true) : r.u64(at), p != 0 else { return false }
        return IRQWalker.rawString(r, p) == Array("ITS".utf8)
    }
}
