import ITSLayout

/// The container the kernel keeps its irq descriptors in (CONFIG_SPARSE_IRQ), keyed by irq
/// number (kernel/irq/irqdesc.c):
///
/// - 6.1 … 6.4: `static RADIX_TREE(irq_desc_tree, GFP_KERNEL)`, an XArray
///   (include/linux/xarray.h): `xa_head` is NULL, the entry of index 0, or an internal entry
///   (low bits 10, above 4096) naming an `xa_node` whose 64 slots cover `1 << shift` indices each;
/// - 6.5+ (Linux 721255b9826b, "genirq: Use a maple tree for interrupt descriptor
///   management"): `static struct maple_tree sparse_irqs` (MT_FLAGS_ALLOC_RANGE), every
///   descriptor stored as the range [irq, irq] (irq_insert_desc). lib/maple_tree.c,
///   include/linux/maple_tree.h: `ma_root` is NULL, the entry of index 0, or a root node
///   (xa_mk_node: low bits 10, above 4096); a node pointer (an "enode") carries its type in
///   bits 3–6 (mt_mk_node: `node | type << 3 | MAPLE_ENODE_NULL`), the node itself is 256-byte
///   aligned (MAPLE_NODE_MASK); `maple_leaf_64` and `maple_range_64` nodes are a
///   `struct maple_range_64` (parent, 15 pivots, 16 slots, `meta` in the last slot),
///   `maple_arange_64` ones a `struct maple_arange_64` (parent, 9 pivots, 10 slots, 10 gaps,
///   `meta`), `maple_dense` ones `struct maple_node`'s 31 slots, one index each. Slot i covers
///   (pivot[i−1], pivot[i]] (the node's min for i = 0, its max past the last pivot); how many
///   slots are used is ma_data_end's rule: `meta.end` for arange nodes and for range nodes
///   whose last pivot is 0, the last pivot's slot when that pivot is the node's max, else all.
///
/// Both walks are bounded (nodes, depth, entries), visit each node once (a cycle is cut and
/// said), and every offset comes from the type source; what they cannot read is a problem.
public enum IRQDescriptorTree: String, Sendable, CaseIterable {
    case radix = "irq_desc_tree"
    case maple = "sparse_irqs"

    /// The kernel variable that holds the tree.
    public var symbol: String { rawValue }
    public var description: String { self == .radix ? "irq_desc_tree (radix tree)" : "sparse_irqs (maple tree)" }

    /// One stored descriptor pointer and the irq numbers its slot covers.
    public struct Entry: Sendable, Equatable {
        public var first: UInt64
        public var last: UInt64
        public var pointer: UInt64
    }

    public struct Walk: Sendable {
        public var entries: [Entry] = []
        public var problems: [String] = []
    }

    /// Far above any real system's irq count.
    public static let maxEntries = 1 << 16
    /// Nodes one walk reads: 4096 radix nodes hold 262,144 irqs, 4096 maple leaves 65,536.
    public static let maxNodes = 1 << 12
    /// XA_CHUNK_SHIFT: 6 bits of the index per radix level.
    static let xaChunkShift: UInt64 = 6
    static let xaChunkSize = 64
    /// `struct xa_node` (include/linux/xarray.h, unchanged since 4.20): shift, offset, count,
    /// nr_values, parent, array, a list_head, then the slots. Used when the type source lacks
    /// the struct (Debian's 6.1 irqdesc.c unit only declares it).
    static let xaNodeSlotsFallback: UInt64 = 40
    /// MAPLE_HEIGHT_MAX.
    static let mapleHeightMax = 31
    /// MAPLE_NODE_SLOTS on 64-bit: a dense node's slots after its parent pointer.
    static let mapleDenseSlots = 31

    /// Offsets of the tree's structs, from the type source.
    public struct Layout: Sendable {
        /// `xarray.xa_head` or `maple_tree.ma_root`.
        var root: UInt64
        var xaShift: UInt64 = 0, xaSlots: UInt64 = 0
        /// maple_range_64 (leaf_64, range_64) and maple_arange_64: pivots, slots, pivot count, meta.
        var range: (pivot: UInt64, slot: UInt64, pivots: Int, meta: UInt64)?
        var arange: (pivot: UInt64, slot: UInt64, pivots: Int, meta: UInt64)?
        var denseSlot: UInt64 = 8
        var metaEnd: UInt64 = 0

        /// The 64-bit layout of include/linux/maple_tree.h (6.5+: ma_root after the lock and
        /// ma_flags; maple_range_64: parent, 15 pivots from 8, 16 slots from 128, meta in the last;
        /// maple_arange_64: 9 pivots from 8, 10 slots from 80, 10 gaps from 160, meta at 240), for
        /// the fuzzer, whose type source (6.1's reduced debug info) has no `sparse_irqs`.
        public static let maple64 = Layout(root: 8, range: (8, 128, 15, 248), arange: (8, 80, 9, 240))

        /// The layout of `tree`'s structs, or the names of those the type source lacks.
        public static func of(_ tree: IRQDescriptorTree, types: any KernelTypes) -> Result<Layout, Missing> {
            let unit = tree.symbol
            switch tree {
            case .radix:
                guard let xa = types.structure("xarray", inUnitOf: unit), let head = xa.offset("xa_head") else {
                    return .failure(Missing(names: ["struct xarray"]))
                }
                var l = Layout(root: head)
                let node = types.structure("xa_node", inUnitOf: unit)
                l.xaShift = node?.offset("shift") ?? 0
                l.xaSlots = node?.offset("slots") ?? xaNodeSlotsFallback
                return .success(l)
            case .maple:
                func node(_ name: String) -> (pivot: UInt64, slot: UInt64, pivots: Int, meta: UInt64)? {
                    guard let s = types.structure(name, inUnitOf: unit), let p = s.offset("pivot"), let sl = s.offset("slot"),
                          sl > p, (sl - p) % 8 == 0, (sl - p) / 8 < 64, let m = s.offset("meta") else { return nil }
                    return (p, sl, Int((sl - p) / 8), m)
                }
                let tree = types.structure("maple_tree", inUnitOf: unit)
                let range = node("maple_range_64"), arange = node("maple_arange_64")
                guard let root = tree?.offset("ma_root"), let range, let arange else {
                    let found = [("maple_tree", tree?.offset("ma_root") != nil), ("maple_range_64", range != nil), ("maple_arange_64", arange != nil)]
                    return .failure(Missing(names: found.filter { !$0.1 }.map { "struct \($0.0) (or its members)" }))
                }
                var l = Layout(root: root)
                l.range = range
                l.arange = arange
                l.denseSlot = types.structure("maple_node", inUnitOf: unit)?.offset("slot") ?? 8
                if let r = types.structure("maple_range_64", inUnitOf: unit),
                   let meta = types.memberStructure(r, "meta", inUnitOf: unit), let end = meta.offset("end") {
                    l.metaEnd = end
                }
                return .success(l)
            }
        }
    }

    public struct Missing: Error, Sendable { public var names: [String] }


    /// `walk` for callers outside GuestKernel (the fuzzer).
    public func walk(variable: UInt64, layout: Layout, space: KernelAddressSpace, memory: any GuestMemory) -> Walk {
        walk(variable: variable, layout: layout, reader: DriverWalker.Reader(space: space, memory: memory))
    }

    /// Every descriptor pointer of the tree whose variable is at runtime VA `variable` (in the
    /// kernel image).
    func walk(variable: UInt64, layout: Layout, reader r: DriverWalker.Reader) -> Walk {
        var w = Walk()
        let at = variable &+ layout.root
        guard let root = r.u64(r.space.image(at).rawValue, physical: true) else {
            w.problems.append("\(symbol) at \(hex(at)) is not in the dump")
            return w
        }
        guard root != 0 else { return w }
        // Not a node: the one entry of index 0 (both trees keep a lone index 0 in the root).
        guard root & 3 == 2, root > 4096 else {
            if root & 3 == 0 { w.entries.append(Entry(first: 0, last: 0, pointer: root)) }
            return w
        }
        switch self {
        case .radix: radix(root &- 2, layout, r, &w)
        case .maple: maple(root &- 2, layout, r, &w)
        }
        return w
    }

    private func add(_ e: Entry, _ w: inout Walk) -> Bool {
        guard w.entries.count < Self.maxEntries else {
            w.problems.append("\(symbol): more than \(Self.maxEntries) descriptors; cut (a bound of itsdump)")
            return false
        }
        w.entries.append(e)
        return true
    }

    /// Depth-first over xa_nodes, each slot's index from its node's base and shift.
    private func radix(_ rootNode: UInt64, _ l: Layout, _ r: DriverWalker.Reader, _ w: inout Walk) {
        var stack: [(node: UInt64, base: UInt64, expectedShift: UInt64?)] = [(rootNode, 0, nil)]
        var seen: Set<UInt64> = []
        while let (n, base, expected) = stack.popLast() {
            guard seen.insert(n).inserted else {
                w.problems.append("\(symbol): node \(hex(n)) reached twice; cut")
                continue
            }
            guard seen.count <= Self.maxNodes else {
                w.problems.append("\(symbol): more than \(Self.maxNodes) nodes; cut (a bound of itsdump)")
                return
            }
            guard let shiftByte = r.u8(n &+ l.xaShift), let slots = r.bytes(n &+ l.xaSlots, Self.xaChunkSize * 8) else {
                w.problems.append("\(symbol): node \(hex(n)) is not in the dump")
                continue
            }
            let shift = UInt64(shiftByte)
            // Each level takes 6 bits of the index: a shift that is not a multiple of 6, beyond
            // 64 bits, or not 6 below the parent's is not an XArray.
            guard shift % Self.xaChunkShift == 0, shift < 64, expected == nil || expected == shift else {
                w.problems.append("\(symbol): node \(hex(n)) has shift \(shift)\(expected.map { ", its parent's child must have \($0)" } ?? ""); cut")
                continue
            }
            for s in (0..<Self.xaChunkSize).reversed() {
                let e: UInt64 = slots.loadLE(at: s * 8, count: 8)
                guard e != 0 else { continue }
                let index = base | UInt64(s) << shift
                if e & 3 == 2 {
                    // Internal: a node (above 4096) one level down, else a sibling or retry entry.
                    guard e > 4096 else { continue }
                    guard shift > 0 else {
                        w.problems.append("\(symbol): leaf node \(hex(n)) points to another node; cut")
                        continue
                    }
                    stack.append((e &- 2, index, shift - Self.xaChunkShift))
                } else if e & 3 == 0 {
                    guard add(Entry(first: index, last: index, pointer: e), &w) else { return }
                }
            }
        }
    }

    /// Depth-first over maple nodes, each slot's range from the pivots and its node's range.
    private func maple(_ rootEnode: UInt64, _ l: Layout, _ r: DriverWalker.Reader, _ w: inout Walk) {
        guard let range = l.range, let arange = l.arange else { return }
        var stack: [(enode: UInt64, min: UInt64, max: UInt64, depth: Int)] = [(rootEnode, 0, UInt64.max, 0)]
        var seen: Set<UInt64> = []
        while let (enode, lo, hi, depth) = stack.popLast() {
            let node = enode & ~0xFF
            let type = enode >> 3 & 0xF
            guard seen.insert(node).inserted else {
                w.problems.append("\(symbol): node \(hex(node)) reached twice; cut")
                continue
            }
            guard seen.count <= Self.maxNodes, depth < Self.mapleHeightMax else {
                w.problems.append("\(symbol): more than \(Self.maxNodes) nodes or \(Self.mapleHeightMax) levels; cut (a bound of itsdump)")
                return
            }
            if type == 0 {
                // maple_dense: slot i is index min + i.
                guard let slots = r.bytes(node &+ l.denseSlot, Self.mapleDenseSlots * 8) else {
                    w.problems.append("\(symbol): node \(hex(node)) is not in the dump")
                    continue
                }
                for i in 0..<Self.mapleDenseSlots {
                    let (index, over) = lo.addingReportingOverflow(UInt64(i))
                    guard !over, index <= hi else { break }
                    let e: UInt64 = slots.loadLE(at: i * 8, count: 8)
                    if e != 0, e & 3 == 0 { guard add(Entry(first: index, last: index, pointer: e), &w) else { return } }
                }
                continue
            }
            guard type <= 3 else {
                w.problems.append("\(symbol): node \(hex(node)) has type \(type), not a maple_type; cut")
                continue
            }
            let shape = type == 3 ? arange : range
            guard let pivotBytes = r.bytes(node &+ shape.pivot, shape.pivots * 8),
                  let slots = r.bytes(node &+ shape.slot, (shape.pivots + 1) * 8),
                  let metaEnd = r.u8(node &+ shape.meta &+ l.metaEnd) else {
                w.problems.append("\(symbol): node \(hex(node)) is not in the dump")
                continue
            }
            let pivots = (0..<shape.pivots).map { pivotBytes.loadLE(at: $0 * 8, count: 8) as UInt64 }
            // ma_data_end (lib/maple_tree.c).
            var end: Int
            if type == 3 || pivots[shape.pivots - 1] == 0 { end = Int(metaEnd) } else if pivots[shape.pivots - 1] == hi { end = shape.pivots - 1 } else { end = shape.pivots }
            if end > shape.pivots {
                w.problems.append("\(symbol): node \(hex(node)) says it uses \(end + 1) slots of \(shape.pivots + 1); read as full")
                end = shape.pivots
            }
            let leaf = type == 1
            var first = lo
            for i in 0...end {
                let last = i < shape.pivots ? min(pivots[i], hi) : hi
                guard last >= first else {
                    w.problems.append("\(symbol): node \(hex(node)) slot \(i): pivot \(hex(last)) below the slot's start \(hex(first)); rest of the node cut")
                    break
                }
                let e: UInt64 = slots.loadLE(at: i * 8, count: 8)
                if e != 0 {
                    if leaf {
                        if e & 3 == 0 { guard add(Entry(first: first, last: last, pointer: e), &w) else { return } }
                    } else {
                        stack.append((e, first, last, depth + 1))
                    }
                }
                guard last < hi else { break }
                first = last + 1
            }
        }
    }
}
