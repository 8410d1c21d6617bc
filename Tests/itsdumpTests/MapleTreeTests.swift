import Foundation
import Testing
@testable import GuestKernel
@testable import CoreDumpReader
@testable import ITSLayout

/// Kernels ≥ 6.5 keep their irq descriptors in the `sparse_irqs` maple tree (Linux
/// 721255b9826b). No fixture runs such a kernel, so the test builds one: a real 6.1 core
/// (tcg-basic) whose irq → irq_desc pointers, read by the radix-tree walk, are written again as
/// a maple tree (leaf_64 leaves under maple_arange_64 nodes, as MT_FLAGS_ALLOC_RANGE makes
/// them, every offset from the kernel's own BTF, which describes the maple structs since mm
/// uses them in 6.1) into all-zero pages of the dump, with `irq_desc_tree`'s variable
/// rewritten as a `struct maple_tree` and renamed `sparse_irqs`. The maple walk must give
/// exactly the radix walk's irqs, names and devices.
@Suite(.serialized, .tags(.realSnapshots), .enabled(if: realSnapshotsWanted, "ITSDUMP_SKIP_REAL_SNAPSHOTS=1")) struct MapleTreeTests {
    struct Base {
        let memory: any GuestMemory
        let space: KernelAddressSpace
        let kernel: ZeroConfigKernel
        let driver: DriverView
    }

    static func base() throws -> Base {
        let d = try Dump.open(try Fixtures.member("tcg-basic", "core.elf"))
        let pairs = try #require(d.vmcoreinfo)
        let info = VMCOREINFO(text: pairs.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"), source: "note")
        let space = try KernelAddressSpace(info, memory: d.memory)
        let k = try ZeroConfigKernel.load(vmcoreinfo: info, space: space, memory: d.memory, btfFile: nil, cpus: d.vcpuCount)
        let driver = try DriverWalker.walk(types: k.types, space: space, memory: d.memory, cpus: k.cpus)
        return Base(memory: d.memory, space: space, kernel: k, driver: driver)
    }

    /// Writes a maple tree of `entries` (irq → descriptor VA) into zero pages from `pa`.
    struct Builder {
        let range: (pivot: UInt64, slot: UInt64, meta: UInt64)
        let arange: (pivot: UInt64, slot: UInt64, meta: UInt64)
        let metaEnd: UInt64
        let linear: (UInt64) -> UInt64
        var pa: UInt64
        var patches: [(address: UInt64, bytes: [UInt8])] = []
        /// Slots used per node: few, so that the tree has three levels.
        let fanout = 6

        init(types: any KernelTypes, space: KernelAddressSpace, at pa: UInt64) throws {
            let r = try #require(types.structure("maple_range_64", inUnitOf: "sparse_irqs"))
            let a = try #require(types.structure("maple_arange_64", inUnitOf: "sparse_irqs"))
            range = (try #require(r.offset("pivot")), try #require(r.offset("slot")), try #require(r.offset("meta")))
            arange = (try #require(a.offset("pivot")), try #require(a.offset("slot")), try #require(a.offset("meta")))
            metaEnd = try #require(types.memberStructure(r, "meta", inUnitOf: "sparse_irqs")?.offset("end"))
            let pageOffset = 0 &- (UInt64(1) << space.vaBits), physOffset = space.physOffset
            linear = { $0 &- physOffset &+ pageOffset }
            self.pa = pa
        }

        /// One 256-byte node: `slots` (first, last, pointer) under the layout `shape`; returns its VA.
        mutating func node(_ shape: (pivot: UInt64, slot: UInt64, meta: UInt64), _ slots: [(UInt64, UInt64, UInt64)]) -> UInt64 {
            var b = [UInt8](repeating: 0, count: 256)
            func put(_ off: UInt64, _ v: UInt64) { for i in 0..<8 { b[Int(off) + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) } }
            for (i, s) in slots.enumerated() {
                put(shape.pivot + UInt64(i) * 8, s.1)
                put(shape.slot + UInt64(i) * 8, s.2)
            }
            b[Int(shape.meta + metaEnd)] = UInt8(slots.count - 1)
            patches.append((pa, b))
            defer { pa += 256 }
            return linear(pa)
        }

        /// The root's `ma_root` value.
        mutating func tree(_ entries: [(irq: UInt64, desc: UInt64)]) -> UInt64 {
            var ranges: [(UInt64, UInt64, UInt64)] = []
            var cursor: UInt64 = 0
            for e in entries.sorted(by: { $0.irq < $1.irq }) {
                if e.irq > cursor { ranges.append((cursor, e.irq - 1, 0)) }
                ranges.append((e.irq, e.irq, e.desc))
                cursor = e.irq + 1
            }
            ranges.append((cursor, UInt64.max, 0))
            // Leaves (maple_leaf_64 = 1), then maple_arange_64 (3) levels up to one root.
            var level: [(UInt64, UInt64, UInt64)] = stride(from: 0, to: ranges.count, by: fanout).map { i in
                let chunk = Array(ranges[i..<min(i + fanout, ranges.count)])
                return (chunk[0].0, chunk[chunk.count - 1].1, node(range, chunk) | 1 << 3 | 4)
            }
            while level.count > 1 {
                level = stride(from: 0, to: level.count, by: fanout).map { i in
                    let chunk = Array(level[i..<min(i + fanout, level.count)])
                    return (chunk[0].0, chunk[chunk.count - 1].1, node(arange, chunk) | 3 << 3 | 4)
                }
            }
            return level[0].2 | 2
        }
    }

    /// The first run of `count` all-zero pages, from the top of RAM down (free memory).
    static func zeroPages(_ memory: any GuestMemory, count: Int) throws -> UInt64 {
        let top = try #require(memory.presentRanges.last)
        var run = 0
        var p = (top.end - 4096) & ~0xFFF
        while p >= top.start.rawValue {
            if case .bytes(let b) = memory.read(GuestPhysicalAddress(p), count: 4096), b.allSatisfy({ $0 == 0 }) {
                run += 1
                if run == count { return p }
            } else {
                run = 0
            }
            p -= 4096
        }
        throw FixtureError(message: "no \(count) zero pages")
    }

    /// The same kernel with `sparse_irqs` where `irq_desc_tree` was, and a maple tree there.
    static func mapleCopy(_ b: Base) throws -> (types: BTFKernelTypes, memory: PatchedMemory, variable: UInt64, irqs: Int) {
        var symbols = b.kernel.types.symbols
        let removed = symbols.removeValue(forKey: "irq_desc_tree")
        let link = try #require(removed)
        symbols["sparse_irqs"] = link
        let types = b.kernel.types.with(symbols: symbols)
        let variable = b.space.runtime(link)
        let radix = IRQDescriptorTree.radix.walk(variable: variable, layout: try IRQDescriptorTree.Layout.of(.radix, types: b.kernel.types).get(),
                                                 reader: DriverWalker.Reader(space: b.space, memory: b.memory))
        #expect(radix.problems.isEmpty)
        var builder = try Builder(types: types, space: b.space, at: try zeroPages(b.memory, count: 2))
        let root = builder.tree(radix.entries.map { ($0.first, $0.pointer) })
        let rootOff = try #require(types.structure("maple_tree", inUnitOf: "sparse_irqs")?.offset("ma_root"))
        let patches = builder.patches + [(b.space.image(variable &+ rootOff).rawValue, PatchedMemory.le(root))]
        return (types, PatchedMemory(base: b.memory, patches: patches), variable, radix.entries.count)
    }

    @Test func theMapleWalkOfABuiltSparseIrqsEqualsTheRadixWalk() throws {
        let b = try Self.base()
        let radix = IRQWalker.walk(types: b.kernel.types, space: b.space, memory: b.memory, driver: b.driver)
        let m = try Self.mapleCopy(b)
        let maple = IRQWalker.walk(types: m.types, space: b.space, memory: m.memory, driver: b.driver)
        #expect(radix.source.hasPrefix("irq_desc_tree (radix tree)"))
        #expect(maple.source.hasPrefix("sparse_irqs (maple tree)"))
        #expect(maple.problems.isEmpty, "\(maple.problems)")
        // tcg-basic's ground truth: 31 ITS interrupts, each named.
        #expect(radix.irqs.count == 31 && radix.irqs.allSatisfy { !$0.name.isEmpty && $0.deviceID != nil })
        #expect(maple.irqs == radix.irqs)
        // The validation the zero-configuration path applies finds the maple tree, not a radix one.
        #expect(IRQSymbolFinder.validateTree(.maple, variable: m.variable, types: m.types, space: b.space, memory: m.memory) == m.irqs)
        #expect(IRQSymbolFinder.validateTree(.radix, variable: m.variable, types: m.types, space: b.space, memory: m.memory) == nil)
        #expect(IRQSymbolFinder.validateTree(.maple, variable: m.variable, types: m.types, space: b.space, memory: b.memory) == nil)
        // The fuzzer's fixed 64-bit layout is the one the kernel's BTF describes.
        let l = try IRQDescriptorTree.Layout.of(.maple, types: m.types).get(), f = IRQDescriptorTree.Layout.maple64
        let (lr, la, fr, fa) = (try #require(l.range), try #require(l.arange), try #require(f.range), try #require(f.arange))
        #expect(l.root == f.root && l.metaEnd == f.metaEnd && lr == fr && la == fa)
        #expect(IRQDescriptorTree.maple.walk(variable: m.variable, layout: f, space: b.space, memory: m.memory).entries.count == m.irqs)
    }

    /// A maple node that lists itself as its own child ends the walk with a problem, not a loop,
    /// and the tree no longer validates.
    @Test func aMapleNodeThatIsItsOwnChildIsCutNotLooped() throws {
        let b = try Self.base()
        let m = try Self.mapleCopy(b)
        let rootOff = try #require(m.types.structure("maple_tree", inUnitOf: "sparse_irqs")?.offset("ma_root"))
        let rootPA = b.space.image(m.variable &+ rootOff).rawValue
        guard case .bytes(let rb) = m.memory.read(GuestPhysicalAddress(rootPA), count: 8) else { throw FixtureError(message: "root") }
        let rootEnode = rb.loadLE(at: 0, count: 8) &- 2
        let node = rootEnode & ~0xFF
        let arange = try #require(m.types.structure("maple_arange_64", inUnitOf: "sparse_irqs"))
        let slotOff = try #require(arange.offset("slot"))
        let slot0 = try #require(b.space.physical(node &+ slotOff))
        let cyclic = PatchedMemory(base: m.memory, patches: [(slot0.rawValue, PatchedMemory.le(rootEnode))])
        let walk = IRQDescriptorTree.maple.walk(variable: m.variable, layout: try IRQDescriptorTree.Layout.of(.maple, types: m.types).get(),
                                                reader: DriverWalker.Reader(space: b.space, memory: cyclic))
        #expect(walk.problems.contains { $0.contains("reached twice") })
        #expect(IRQSymbolFinder.validateTree(.maple, variable: m.variable, types: m.types, space: b.space, memory: cyclic) == nil)
    }
}
