import CZlib
import CZstd
import Foundation

/// Builds qcow2 images byte by byte after qemu/qemu docs/interop/qcow2.txt (big-endian): a
/// header (version 2 or 3), for each snapshot its VM state clusters (standard, or compressed
/// with raw deflate / zstd as QEMU writes them), its L2 tables and L1 table, then the snapshot
/// table. `layout` says where everything went, so that tests can corrupt one field.
struct Qcow2Builder {
    enum Compress { case none, deflate, zstd }
    struct Snap {
        var id: String
        var name: String
        var vmState: [UInt8]
        /// Overrides the stored VM state size (hostile images).
        var claimedSize: UInt64? = nil
    }
    struct Layout {
        var l1: [UInt64] = []          // per snapshot: L1 table offset
        var l2: [[UInt64]] = []        // per snapshot: L2 table offsets
        var data: [[UInt64]] = []      // per snapshot: data cluster (or compressed) offsets
        var snapshotTable: UInt64 = 0
        var l2EntryOffsets: [[UInt64]] = []  // per snapshot, per VM state cluster: where its L2 entry is
    }

    var version: UInt32 = 3
    var clusterBits: UInt32 = 12
    var diskSize: UInt64 = 1 << 20
    var extendedL2 = false
    var compress = Compress.none
    var crypt: UInt32 = 0
    var extraIncompatible: UInt64 = 0
    var snapshots: [Snap] = []
    /// Extended L2: subclusters of the first VM state cluster marked "reads as zeros" (their
    /// bytes must be zero in the VM state) instead of allocated.
    var zeroSubclusters: Set<Int> = []
    private(set) var layout = Layout()

    var clusterSize: Int { 1 << Int(clusterBits) }
    var l2Bits: UInt64 { UInt64(clusterBits) - (extendedL2 ? 4 : 3) }

    static func put(_ v: UInt64, _ n: Int, into out: inout [UInt8], at: Int) {
        if out.count < at + n { out += [UInt8](repeating: 0, count: at + n - out.count) }
        for i in 0..<n { out[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - i))) }
    }

    /// The VM state's first L1 index: size_to_l1(disk_size).
    var vmStateL1Index: UInt64 {
        let per = UInt64(clusterSize) << l2Bits
        return (diskSize + per - 1) / per
    }

    mutating func build() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: clusterSize)
        layout = Layout()
        func allocCluster() -> Int {
            let at = out.count
            out += [UInt8](repeating: 0, count: clusterSize)
            return at
        }
        let cs = clusterSize
        let entryBytes = extendedL2 ? 16 : 8
        var snapEntries: [(l1: UInt64, l1Size: UInt32, s: Snap)] = []
        for s in snapshots {
            var dataOffsets: [UInt64] = []
            var entries: [(UInt64, UInt64)] = []  // (L2 entry, bitmap)
            let clusters = (s.vmState.count + cs - 1) / cs
            var pendingCompressed: [UInt8] = []
            var compressedBase = 0
            for c in 0..<clusters {
                var chunk = Array(s.vmState[(c * cs)..<min(s.vmState.count, (c + 1) * cs)])
                chunk += [UInt8](repeating: 0, count: cs - chunk.count)
                if compress != .none {
                    let packed = compress == .zstd ? Self.zstd(chunk) : Self.rawDeflate(chunk)
                    // Packed one after another from a cluster start plus 100 bytes, so offsets are unaligned.
                    if pendingCompressed.isEmpty { compressedBase = out.count; pendingCompressed = [UInt8](repeating: 0xEE, count: 100) }
                    let off = compressedBase + pendingCompressed.count
                    pendingCompressed += packed
                    let x = 62 - (UInt64(clusterBits) - 8)
                    let sectors = UInt64(((off + packed.count - 1) >> 9) - (off >> 9))
                    entries.append((1 << 62 | sectors << x | UInt64(off), 0))
                    dataOffsets.append(UInt64(off))
                    continue
                }
                let at = allocCluster()
                out.replaceSubrange(at..<(at + cs), with: chunk)
                dataOffsets.append(UInt64(at))
                if extendedL2 {
                    var alloc: UInt64 = 0, zero: UInt64 = 0
                    for i in 0..<32 { if c == 0 && zeroSubclusters.contains(i) { zero |= 1 << UInt64(i) } else { alloc |= 1 << UInt64(i) } }
                    entries.append((UInt64(at) | 1 << 63, alloc | zero << 32))
                } else {
                    entries.append((UInt64(at) | 1 << 63, 0))
                }
            }
            if !pendingCompressed.isEmpty {
                // Round the packed area up to whole clusters.
                let n = (pendingCompressed.count + cs - 1) / cs * cs
                out += pendingCompressed + [UInt8](repeating: 0, count: n - pendingCompressed.count)
            }
            // L2 tables.
            let perL2 = 1 << Int(l2Bits)
            var l2Offsets: [UInt64] = []
            var entryOffsets: [UInt64] = []
            for t in 0..<((entries.count + perL2 - 1) / perL2) {
                let at = allocCluster()
                l2Offsets.append(UInt64(at))
                for i in 0..<min(perL2, entries.count - t * perL2) {
                    let (e, bm) = entries[t * perL2 + i]
                    Self.put(e, 8, into: &out, at: at + i * entryBytes)
                    if extendedL2 { Self.put(bm, 8, into: &out, at: at + i * entryBytes + 8) }
                    entryOffsets.append(UInt64(at + i * entryBytes))
                }
            }
            // L1 table: entries up to the VM state's last.
            let l1Size = Int(vmStateL1Index) + l2Offsets.count
            let l1At = out.count
            out += [UInt8](repeating: 0, count: max(cs, (l1Size * 8 + cs - 1) / cs * cs))
            for (i, l2) in l2Offsets.enumerated() { Self.put(l2 | 1 << 63, 8, into: &out, at: l1At + (Int(vmStateL1Index) + i) * 8) }
            layout.l1.append(UInt64(l1At))
            layout.l2.append(l2Offsets)
            layout.data.append(dataOffsets)
            layout.l2EntryOffsets.append(entryOffsets)
            snapEntries.append((UInt64(l1At), UInt32(l1Size), s))
        }
        // Snapshot table.
        let tableAt = out.count
        layout.snapshotTable = UInt64(tableAt)
        var table: [UInt8] = []
        for (i, e) in snapEntries.enumerated() {
            var t: [UInt8] = []
            let size = e.s.claimedSize ?? UInt64(e.s.vmState.count)
            Self.put(e.l1, 8, into: &t, at: 0)
            Self.put(UInt64(e.l1Size), 4, into: &t, at: 8)
            Self.put(UInt64(e.s.id.utf8.count), 2, into: &t, at: 12)
            Self.put(UInt64(e.s.name.utf8.count), 2, into: &t, at: 14)
            Self.put(1_796_601_938 + UInt64(i), 4, into: &t, at: 16)  // 2026-12-07 00:05:38 UTC
            Self.put(0, 4, into: &t, at: 20)
            Self.put(32_707_855_576, 8, into: &t, at: 24)
            Self.put(size > UInt64(UInt32.max) ? 0 : size, 4, into: &t, at: 32)
            Self.put(version == 3 ? 24 : 0, 4, into: &t, at: 36)
            if version == 3 {
                Self.put(size, 8, into: &t, at: 40)
                Self.put(diskSize, 8, into: &t, at: 48)
                Self.put(UInt64.max, 8, into: &t, at: 56)
            }
            t += Array(e.s.id.utf8) + Array(e.s.name.utf8)
            t += [UInt8](repeating: 0, count: (8 - t.count % 8) % 8)
            table += t
        }
        out += table + [UInt8](repeating: 0, count: (cs - table.count % cs) % cs + (table.isEmpty ? cs : 0))
        // Header.
        var h: [UInt8] = []
        Self.put(0x5146_49FB, 4, into: &h, at: 0)
        Self.put(UInt64(version), 4, into: &h, at: 4)
        Self.put(UInt64(clusterBits), 4, into: &h, at: 20)
        Self.put(diskSize, 8, into: &h, at: 24)
        Self.put(UInt64(crypt), 4, into: &h, at: 32)
        Self.put(UInt64(snapshots.count), 4, into: &h, at: 60)
        Self.put(UInt64(tableAt), 8, into: &h, at: 64)
        if version == 3 {
            var inc = extraIncompatible | (extendedL2 ? 0x10 : 0) | (compress == .zstd ? 0x8 : 0)
            inc |= 0
            Self.put(inc, 8, into: &h, at: 72)
            Self.put(4, 4, into: &h, at: 96)
            Self.put(112, 4, into: &h, at: 100)
            Self.put(compress == .zstd ? 1 : 0, 1, into: &h, at: 104)
            h += [UInt8](repeating: 0, count: 112 - h.count)
        }
        out.replaceSubrange(0..<h.count, with: h)
        return out
    }

    /// Raw deflate, window bits −12, as QEMU's qcow2_compress.
    static func rawDeflate(_ input: [UInt8]) -> [UInt8] {
        var strm = z_stream()
        _ = deflateInit2_(&strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        var out = [UInt8](repeating: 0, count: input.count + 1024)
        var src = input
        let n: Int = src.withUnsafeMutableBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                strm.next_in = s.baseAddress
                strm.avail_in = uInt(s.count)
                strm.next_out = d.baseAddress
                strm.avail_out = uInt(d.count)
                _ = deflate(&strm, Z_FINISH)
                return d.count - Int(strm.avail_out)
            }
        }
        deflateEnd(&strm)
        return Array(out[0..<n])
    }

    static func zstd(_ input: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let n = input.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { d in ZSTD_compress(d.baseAddress, d.count, s.baseAddress, s.count, 3) }
        }
        return Array(out[0..<n])
    }
}
