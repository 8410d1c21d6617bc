import CZlib
import CZstd
import ITSLayout
import Synchronization
import TextFormats

/// A qcow2 image (versions 2 and 3) and its internal snapshots (qemu/qemu
/// docs/interop/qcow2.txt; QEMU's block/qcow2.h, qcow2-snapshot.c). HMP `savevm`, QMP
/// `snapshot-save` and libvirt's internal snapshots store the VM state — a migration stream —
/// in the snapshot's own L1/L2 tables, beyond the virtual disk: `vmState(of:)` is that stream
/// as a `ByteSource`, read cluster by cluster, never copied.
public final class Qcow2Image: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var index: Int
        public var id: String
        public var name: String
        /// Host time when the snapshot was taken (seconds since the Epoch, nanoseconds).
        public var dateSeconds: UInt32
        public var dateNanoseconds: UInt32
        /// Guest time: how long the VM had run (QEMU_CLOCK_VIRTUAL).
        public var vmClockNanoseconds: UInt64
        /// 0: a disk-only snapshot. The extra data's 64-bit size wins over the 32-bit field.
        public var vmStateSize: UInt64
        /// The virtual disk size when the snapshot was taken (the header's when not stored).
        public var diskSize: UInt64
        /// -1 without record/replay; nil when not stored.
        public var icount: Int64?
        public var l1TableOffset: UInt64
        public var l1Size: UInt32
        /// Where the entry lies in the image, and its size (padding included).
        public var entryOffset: UInt64
        public var entryBytes: UInt64
    }

    public enum Compression: UInt8, Sendable {
        case deflate = 0, zstd = 1
        public var name: String { self == .deflate ? "deflate (zlib)" : "zstd" }
    }

    public let file: any ByteSource
    public let version: UInt32
    public let clusterBits: UInt32
    public var clusterSize: UInt64 { 1 << UInt64(clusterBits) }
    /// Virtual disk size.
    public let size: UInt64
    public let extendedL2: Bool
    public let compression: Compression
    public let hasBackingFile: Bool
    public let snapshots: [Snapshot]
    /// Header flags worth saying (dirty, corrupt, backing file).
    public let notes: [String]
    let activeL1: (offset: UInt64, size: UInt32)
    let snapshotTable: (offset: UInt64, bytes: UInt64)

    static let magic: UInt32 = 0x5146_49FB  // "QFI\xfb"
    /// QEMU's limits (block/qcow2.h): QCOW_MAX_SNAPSHOTS, QCOW_MAX_SNAPSHOT_EXTRA_DATA,
    /// QCOW_MAX_SNAPSHOTS_SIZE, QCOW_MAX_L1_SIZE; cluster_bits MIN_CLUSTER_BITS..MAX_CLUSTER_BITS.
    static let maxSnapshots: UInt32 = 65536
    static let maxExtraData: UInt32 = 1024
    static let maxSnapshotTableBytes: UInt64 = 64 << 20
    static let maxL1Bytes: UInt64 = 32 << 20
    static let clusterBitsRange: ClosedRange<UInt32> = 9...21
    /// L1E_OFFSET_MASK / L2E_OFFSET_MASK: bits 9–55 (qcow2.txt "Cluster mapping").
    static let offsetMask: UInt64 = 0x00FF_FFFF_FFFF_FE00
    static let compressedFlag: UInt64 = 1 << 62
    static let zeroFlag: UInt64 = 1

    public static func matches(_ file: any ByteSource) -> Bool { file.be32(0) == magic }

    public init(file: any ByteSource) throws(DumpError) {
        self.file = file
        let path = file.path
        func bad(_ at: UInt64?, _ why: String) -> DumpError { .malformed(path: path, offset: at, reason: why) }
        guard file.be32(0) == Self.magic, let version = file.be32(4), let backingOffset = file.be64(8),
              let clusterBits = file.be32(20), let size = file.be64(24), let crypt = file.be32(32),
              let l1Size = file.be32(36), let l1Offset = file.be64(40), let nbSnapshots = file.be32(60),
              let snapshotsOffset = file.be64(64)
        else { throw bad(0, "qcow2 header cut short (72 bytes expected)") }
        guard version == 2 || version == 3 else {
            throw .notADump(path: path, reason: "qcow2 version \(version): only versions 2 and 3 are read")
        }
        guard Self.clusterBitsRange.contains(clusterBits) else {
            throw bad(20, "qcow2 cluster_bits \(clusterBits) is out of range (9 to 21: 512-byte to 2 MiB clusters)")
        }
        let clusterSize = UInt64(1) << UInt64(clusterBits)
        var incompatible: UInt64 = 0
        var compressionType: UInt8 = 0
        if version == 3 {
            guard let inc = file.be64(72), let headerLength = file.be32(100) else {
                throw bad(0, "qcow2 version 3 header cut short (104 bytes expected)")
            }
            guard headerLength >= 104, UInt64(headerLength) <= clusterSize else {
                throw bad(100, "qcow2 header_length \(headerLength): at least 104 and at most one cluster expected")
            }
            incompatible = inc
            if headerLength > 104 { compressionType = file.u8(104) ?? 0 }
        }
        if crypt != 0 {
            throw .notADump(path: path, reason: "an encrypted qcow2 image (\(crypt == 1 ? "AES" : crypt == 2 ? "LUKS" : "method \(crypt)")): its VM state cannot be read without the key; decrypt it first (qemu-img convert --object secret,… --image-opts … -O qcow2 plain.qcow2 keeps no internal snapshot, so loadvm it in QEMU and dump again)")
        }
        if incompatible & 0x4 != 0 {
            throw .notADump(path: path, reason: "a qcow2 image with an external data file (incompatible feature bit 2): such images hold no internal snapshot (qcow2.txt) and their data is not in this file")
        }
        let unknown = incompatible & ~0x1B
        guard unknown == 0 else {
            throw bad(72, "qcow2 incompatible feature bits 0x\(String(unknown, radix: 16)) are unknown: the image cannot be read safely")
        }
        guard compressionType <= 1 else { throw bad(104, "qcow2 compression_type \(compressionType) is unknown (0 zlib, 1 zstd)") }
        guard (incompatible & 0x8 != 0) == (compressionType != 0) else {
            throw bad(104, "qcow2 compression_type \(compressionType) disagrees with the compression-type feature bit")
        }
        extendedL2 = incompatible & 0x10 != 0
        if extendedL2, clusterBits < 14 {
            throw bad(20, "qcow2 extended L2 entries need clusters of at least 16 KiB (cluster_bits \(clusterBits))")
        }
        var notes: [String] = []
        if incompatible & 0x1 != 0 { notes.append("the image is marked dirty (refcounts may be stale; the L1/L2 tables are read as they are)") }
        if incompatible & 0x2 != 0 { notes.append("the image is marked corrupt by QEMU: its tables are read with every bound checked") }
        hasBackingFile = backingOffset != 0
        if hasBackingFile { notes.append("the image has a backing file: unallocated clusters read as zeros here (the backing file is not consulted; a VM state lives in the image itself)") }
        self.version = version
        self.clusterBits = clusterBits
        self.size = size
        self.compression = compressionType == 1 ? .zstd : .deflate
        activeL1 = (l1Offset, l1Size)

        // Snapshot table (qcow2.txt "Snapshots"): entries back to back, each padded to 8 bytes.
        guard nbSnapshots <= Self.maxSnapshots else { throw bad(60, "qcow2 nb_snapshots \(nbSnapshots) exceeds QEMU's limit of 65536") }
        var snapshots: [Snapshot] = []
        var at = snapshotsOffset
        if nbSnapshots > 0 {
            guard snapshotsOffset % clusterSize == 0, snapshotsOffset >= clusterSize, snapshotsOffset < file.size else {
                throw bad(64, "qcow2 snapshot table offset 0x\(String(snapshotsOffset, radix: 16)) is not a cluster of the file past the header")
            }
        }
        for i in 0..<Int(nbSnapshots) {
            let entryAt = at
            guard let l1Off = file.be64(at), let l1n = file.be32(at + 8), let idLen = file.be16(at + 12),
                  let nameLen = file.be16(at + 14), let dateS = file.be32(at + 16), let dateNs = file.be32(at + 20),
                  let clock = file.be64(at + 24), let vmss32 = file.be32(at + 32), let extraLen = file.be32(at + 36)
            else { throw bad(at, "qcow2 snapshot table entry \(i) runs past the end of the file") }
            guard extraLen <= Self.maxExtraData else {
                throw bad(at + 36, "qcow2 snapshot \(i): \(extraLen) bytes of extra data (at most 1024)")
            }
            let extraAt = at + 40
            let idAt = extraAt + UInt64(extraLen)
            let nameAt = idAt + UInt64(idLen)
            let end = (nameAt + UInt64(nameLen) + 7) / 8 * 8
            guard end - snapshotsOffset <= Self.maxSnapshotTableBytes else {
                throw bad(at, "qcow2 snapshot table larger than QEMU's limit of 64 MiB")
            }
            guard let idBytes = file.bytes(at: idAt, count: Int(idLen)), let nameBytes = file.bytes(at: nameAt, count: Int(nameLen)),
                  end <= file.size || nameAt + UInt64(nameLen) <= file.size
            else { throw bad(at, "qcow2 snapshot table entry \(i) runs past the end of the file") }
            var s = Snapshot(index: i, id: String(decoding: idBytes, as: UTF8.self), name: String(decoding: nameBytes, as: UTF8.self),
                             dateSeconds: dateS, dateNanoseconds: dateNs, vmClockNanoseconds: clock,
                             vmStateSize: UInt64(vmss32), diskSize: size, icount: nil,
                             l1TableOffset: l1Off, l1Size: l1n, entryOffset: entryAt, entryBytes: end - entryAt)
            if extraLen >= 8, let v = file.be64(extraAt) { s.vmStateSize = v }
            if extraLen >= 16, let v = file.be64(extraAt + 8) { s.diskSize = v }
            if extraLen >= 24, let v = file.be64(extraAt + 16) { s.icount = Int64(bitPattern: v) }
            snapshots.append(s)
            at = end
        }
        snapshotTable = (snapshotsOffset, at - snapshotsOffset)
        self.snapshots = snapshots
        self.notes = notes

        // The table must not overlap the header cluster nor any L1 table it or the header
        // names: a table written over metadata would be read as something else.
        if snapshotTable.bytes > 0 {
            let table = (snapshotsOffset, snapshotTable.bytes)
            var others: [(String, UInt64, UInt64)] = [("the header cluster", 0, clusterSize)]
            if l1Size > 0 { others.append(("the active L1 table", l1Offset, UInt64(l1Size) * 8)) }
            for s in snapshots where s.l1Size > 0 {
                others.append(("the L1 table of snapshot \(s.id)", s.l1TableOffset, UInt64(s.l1Size) * 8))
            }
            for (what, off, len) in others where Self.overlap(table, (off, len)) {
                throw bad(snapshotsOffset, "qcow2 snapshot table (0x\(String(snapshotsOffset, radix: 16)), \(table.1) bytes) overlaps \(what) at 0x\(String(off, radix: 16))")
            }
        }
    }

    static func overlap(_ a: (UInt64, UInt64), _ b: (UInt64, UInt64)) -> Bool {
        let (aEnd, o1) = a.0.addingReportingOverflow(a.1)
        let (bEnd, o2) = b.0.addingReportingOverflow(b.1)
        return a.0 < (o2 ? .max : bEnd) && b.0 < (o1 ? .max : aEnd)
    }

    /// The snapshot `spec` names (ID first, then name); without one, the only snapshot with a
    /// VM state.
    public func snapshot(named spec: String?) throws(DumpError) -> Snapshot {
        let withState = snapshots.filter { $0.vmStateSize > 0 }
        // At most 20 named in a message, each name cut to 64 characters (a table may hold 65536).
        var listing = snapshots.isEmpty ? "none" : snapshots.prefix(20).map {
            "\(escapedName(String($0.id.prefix(64)))) \"\(escapedName(String($0.name.prefix(64))))\" (\(utcDateText(UInt64($0.dateSeconds))) UTC, VM clock \(vmClockText($0.vmClockNanoseconds)), \($0.vmStateSize > 0 ? "VM state \($0.vmStateSize) bytes" : "disk only"))"
        }.joined(separator: ", ")
        if snapshots.count > 20 { listing += " and \(snapshots.count - 20) more (itsdump info lists them)" }
        guard let spec else {
            if withState.count == 1 { return withState[0] }
            throw .badArgument(withState.isEmpty
                ? "\(file.path): no internal snapshot with a VM state in this qcow2 image (snapshots: \(listing)); make one with savevm, or virsh snapshot-create-as of a running VM"
                : "\(file.path): \(withState.count) snapshots have a VM state; choose one with --snapshot ID|NAME (snapshots: \(listing))")
        }
        guard let s = snapshots.first(where: { $0.id == spec }) ?? snapshots.first(where: { $0.name == spec }) else {
            throw .badArgument("\(file.path): no snapshot with ID or name \"\(escapedName(String(spec.prefix(64))))\" (snapshots: \(listing))")
        }
        guard s.vmStateSize > 0 else {
            throw .badArgument("\(file.path): snapshot \(escapedName(String(s.id.prefix(64)))) \"\(escapedName(String(s.name.prefix(64))))\" is disk-only: it holds no VM state (no RAM, no registers)")
        }
        return s
    }

    /// The VM state of `snapshot` (QEMU's `qcow2_vm_state_offset`: the first L1 entry past the
    /// disk), its tables checked before the first byte is read.
    public func vmState(of snapshot: Snapshot) throws(DumpError) -> Qcow2VMState {
        try Qcow2VMState(image: self, snapshot: snapshot)
    }
}

/// Snapshot names come from the file: printable ASCII, the rest escaped.
func escapedName(_ s: String) -> String {
    String(s.unicodeScalars.flatMap { c -> [Character] in
        c.value >= 0x20 && c.value < 0x7F && c != "\\" && c != "\"" ? [Character(c)] : Array("\\u{\(String(c.value, radix: 16))}")
    })
}

/// The VM state of one internal snapshot as bytes: offset 0 is the stream's first byte. Every
/// L2 table and data cluster it uses is checked when it is opened (inside the file, cluster
/// aligned, not a table, not used twice); reads then go through the tables cluster by cluster.
public final class Qcow2VMState: ByteSource, @unchecked Sendable {
    public let image: Qcow2Image
    public let snapshot: Qcow2Image.Snapshot
    public let path: String
    public let size: UInt64
    /// Where the VM state starts in the snapshot's virtual address space.
    public let virtualOffset: UInt64
    /// Clusters of the VM state by kind (standard data, compressed, zero, unallocated).
    public let dataClusters: Int
    public let compressedClusters: Int
    public let zeroClusters: Int
    public let unallocatedClusters: Int
    public let notes: [String]
    /// L2 table offset (0: unallocated) of each L1 entry the VM state spans, from the first.
    let l2Tables: [UInt64]
    let l1First: UInt64
    let l2Bits: UInt64
    let entryBytes: UInt64
    let file: any ByteSource
    let clusterBits: UInt64
    private struct Cache {
        var cluster: UInt64 = .max
        var bytes: [UInt8] = []
        var error: String?
    }
    private let cache = Mutex(Cache())

    /// The first read failure (a compressed cluster that does not decompress): the stream
    /// reader sees a short read; `Dump.open` reports this instead.
    public var readError: String? { cache.withLock { $0.error } }

    init(image: Qcow2Image, snapshot s: Qcow2Image.Snapshot) throws(DumpError) {
        self.image = image
        snapshot = s
        file = image.file
        let path = image.file.path
        self.path = "\(path) (VM state of snapshot \(escapedName(String(s.id.prefix(64)))) \"\(escapedName(String(s.name.prefix(64))))\")"
        func bad(_ at: UInt64?, _ why: String) -> DumpError { .malformed(path: path, offset: at, reason: "snapshot \(s.id): \(why)") }
        let cb = UInt64(image.clusterBits)
        clusterBits = cb
        let clusterSize = image.clusterSize
        entryBytes = image.extendedL2 ? 16 : 8
        l2Bits = cb - (image.extendedL2 ? 4 : 3)
        let shift = cb + l2Bits  // bytes one L1 entry maps: at most 2^(21+18)
        let perL1 = UInt64(1) << shift
        // size_to_l1(disk_size): ceil, without overflow.
        let first = s.diskSize / perL1 + (s.diskSize % perL1 == 0 ? 0 : 1)
        l1First = first
        guard first < UInt64(1) << (64 - shift) else { throw bad(nil, "disk size \(s.diskSize) puts the VM state past 2^64") }
        virtualOffset = first << shift
        size = s.vmStateSize
        guard size > 0 else { throw bad(nil, "a disk-only snapshot: no VM state") }
        let l1Bytes = UInt64(s.l1Size) * 8
        guard l1Bytes <= Qcow2Image.maxL1Bytes else { throw bad(s.entryOffset + 8, "L1 table of \(s.l1Size) entries exceeds QEMU's 32 MiB limit") }
        guard s.l1TableOffset % clusterSize == 0, s.l1TableOffset >= clusterSize,
              s.l1TableOffset <= image.file.size, image.file.size - s.l1TableOffset >= l1Bytes
        else {
            throw bad(s.entryOffset, "L1 table at 0x\(String(s.l1TableOffset, radix: 16)) (\(s.l1Size) entries) is not a cluster-aligned table inside the \(image.file.size)-byte file")
        }
        // L1 entries the VM state spans: [first, last].
        let lastByte = (size - 1)
        let spanEntries = lastByte / perL1 + 1
        guard first < UInt64(s.l1Size), spanEntries <= UInt64(s.l1Size) - first else {
            throw bad(s.entryOffset, "the VM state (\(size) bytes from virtual offset 0x\(String(virtualOffset, radix: 16))) runs past the snapshot's L1 table of \(s.l1Size) entries (it maps \(UInt64(s.l1Size) &* perL1) bytes)")
        }
        let totalClusters = (size - 1) / clusterSize + 1
        // Metadata clusters the data must not reuse (a "cycle": data read as table and table as data).
        var metadata: [UInt64: String] = [0: "the header"]
        func markTable(_ off: UInt64, _ bytes: UInt64, _ what: String) {
            // Only tables inside the file are marked (the L1 table was checked; an empty
            // snapshot table may name any offset).
            guard bytes > 0, off < image.file.size, bytes <= image.file.size - off else { return }
            var c = off / clusterSize
            let end = (off + bytes + clusterSize - 1) / clusterSize
            while c < end, metadata.count < 1 << 20 { metadata[c * clusterSize] = what; c += 1 }
        }
        markTable(s.l1TableOffset, l1Bytes, "the snapshot's L1 table")
        markTable(image.snapshotTable.offset, image.snapshotTable.bytes, "the snapshot table")
        var tables: [UInt64] = []
        for i in 0..<spanEntries {
            let at = s.l1TableOffset + (first + i) * 8
            guard let e = image.file.be64(at) else { throw bad(at, "L1 table cut short") }
            let l2 = e & Qcow2Image.offsetMask
            if l2 != 0 {
                guard l2 % clusterSize == 0 else { throw bad(at, "L1 entry 0x\(String(e, radix: 16)): L2 table offset not cluster-aligned") }
                guard l2 <= image.file.size, image.file.size - l2 >= clusterSize else {
                    throw bad(at, "L1 entry 0x\(String(e, radix: 16)): L2 table at 0x\(String(l2, radix: 16)) lies past the end of the \(image.file.size)-byte file")
                }
                if let other = metadata[l2] {
                    throw bad(at, "L1 entry \(first + i) points its L2 table at 0x\(String(l2, radix: 16)), which is \(other): shared or cyclic clusters")
                }
                metadata[l2] = "the L2 table of L1 entry \(first + i)"
            }
            tables.append(l2)
        }
        l2Tables = tables
        // Every cluster of the VM state: its kind, and a standard one's host cluster checked.
        var used: [UInt64: UInt64] = [:]
        var usedCompressed: [UInt64: UInt64] = [:]
        var counts = (data: 0, compressed: 0, zero: 0, unallocated: 0)
        let l2Mask = (UInt64(1) << l2Bits) - 1
        var c: UInt64 = 0
        while c < totalClusters {
            let l2 = tables[Int(c >> l2Bits)]
            if l2 == 0 {
                // A whole unallocated L2 table: step to its end (the loop runs per L1 entry here).
                let skip = min(totalClusters - c, (UInt64(1) << l2Bits) - (c & l2Mask))
                counts.unallocated += Int(skip)
                c += skip
                continue
            }
            defer { c += 1 }
            let at = l2 + (c & l2Mask) * entryBytes
            guard let e = image.file.be64(at) else { throw bad(at, "L2 table cut short") }
            let bitmap = image.extendedL2 ? (image.file.be64(at + 8) ?? 0) : 0
            let inCluster = min(clusterSize, size - c * clusterSize)
            switch Self.classify(e, bitmap: bitmap, extended: image.extendedL2, clusterBits: cb) {
            case .unallocated: counts.unallocated += 1
            case .zero: counts.zero += 1
            case .compressed(let off, let len):
                guard off < image.file.size else {
                    throw bad(at, "compressed cluster \(c) of the VM state at 0x\(String(off, radix: 16)) (\(len) bytes) lies past the end of the file")
                }
                // Compressed clusters may share a sector, never a start: one stored cluster
                // read as many would multiply the VM state without bound.
                if let prior = usedCompressed[off] {
                    throw bad(at, "the compressed data at 0x\(String(off, radix: 16)) is both cluster \(prior) and cluster \(c) of the VM state: shared clusters")
                }
                usedCompressed[off] = c
                counts.compressed += 1
            case .standard(let host, _):
                guard host % clusterSize == 0 else { throw bad(at, "L2 entry 0x\(String(e, radix: 16)): data cluster offset not cluster-aligned") }
                guard host <= image.file.size, image.file.size - host >= inCluster else {
                    throw bad(at, "cluster \(c) of the VM state at 0x\(String(host, radix: 16)) lies past the end of the \(image.file.size)-byte file")
                }
                if let other = metadata[host] {
                    throw bad(at, "cluster \(c) of the VM state at 0x\(String(host, radix: 16)) is also \(other): shared or cyclic clusters")
                }
                if let prior = used[host] {
                    throw bad(at, "host cluster 0x\(String(host, radix: 16)) holds both cluster \(prior) and cluster \(c) of the VM state: shared clusters")
                }
                used[host] = c
                counts.data += 1
            case .invalid(let why):
                throw bad(at, "L2 entry 0x\(String(e, radix: 16)) of VM state cluster \(c): \(why)")
            }
        }
        dataClusters = counts.data
        compressedClusters = counts.compressed
        zeroClusters = counts.zero
        unallocatedClusters = counts.unallocated
        var notes = ["the VM state of internal snapshot \(escapedName(String(s.id.prefix(64)))) \"\(escapedName(String(s.name.prefix(64))))\" (taken \(utcDateText(UInt64(s.dateSeconds))) UTC, VM clock \(vmClockText(s.vmClockNanoseconds)), \(size) bytes)"]
        notes += image.notes
        if counts.unallocated > 0 || counts.zero > 0 {
            notes.append("\(counts.unallocated + counts.zero) of the VM state's \(totalClusters) clusters are unallocated or zero and read as zeros: QEMU writes every byte of a VM state, so the stream may be damaged there")
        }
        if counts.compressed > 0 {
            notes.append("\(counts.compressed) of the VM state's \(totalClusters) clusters are \(image.compression.name)-compressed")
        }
        // Without compression every byte of the VM state is a byte of the file.
        if counts.compressed == 0, size > image.file.size {
            throw bad(s.entryOffset, "the VM state claims \(size) bytes, more than the whole \(image.file.size)-byte image holds uncompressed")
        }
        self.notes = notes
    }

    enum Cluster: Equatable {
        case unallocated, zero
        case compressed(offset: UInt64, bytes: UInt64)
        /// `subclusters`: with extended L2, (allocated, reads-as-zero) bitmaps; else nil.
        case standard(host: UInt64, subclusters: (UInt32, UInt32)?)
        case invalid(String)

        static func == (a: Cluster, b: Cluster) -> Bool {
            switch (a, b) {
            case (.unallocated, .unallocated), (.zero, .zero): true
            case let (.compressed(x, y), .compressed(p, q)): x == p && y == q
            case let (.standard(h, s), .standard(k, t)): h == k && s?.0 == t?.0 && s?.1 == t?.1
            case let (.invalid(x), .invalid(y)): x == y
            default: false
            }
        }
    }

    /// One L2 entry (qcow2.txt "Cluster mapping", "Extended L2 Entries"). Bit 63 (COPIED) is
    /// only kept accurate in the active tables: ignored.
    static func classify(_ e: UInt64, bitmap: UInt64, extended: Bool, clusterBits: UInt64) -> Cluster {
        if e & Qcow2Image.compressedFlag != 0 {
            // Compressed Clusters Descriptor, x = 62 - (cluster_bits - 8).
            let x = 62 - (clusterBits - 8)
            let offset = e & ((UInt64(1) << x) - 1)
            let sectors = (e & ((UInt64(1) << 62) - 1)) >> x
            // QEMU qcow2_parse_compressed_l2_entry: (sectors + 1) · 512 − (offset & 511).
            let bytes = (sectors + 1) * 512 - (offset & 511)
            if extended, bitmap != 0 { return .invalid("a compressed cluster with a subcluster bitmap") }
            return .compressed(offset: offset, bytes: bytes)
        }
        let host = e & Qcow2Image.offsetMask
        if extended {
            let alloc = UInt32(truncatingIfNeeded: bitmap), zero = UInt32(truncatingIfNeeded: bitmap >> 32)
            if alloc & zero != 0 { return .invalid("subclusters both allocated and reading as zeros") }
            if alloc != 0, host == 0 { return .invalid("allocated subclusters without a host cluster") }
            if alloc == 0 { return zero == 0 ? .unallocated : .zero }  // unallocated subclusters read as zeros too
            return .standard(host: host, subclusters: (alloc, zero))
        }
        if e & Qcow2Image.zeroFlag != 0 { return .zero }
        return host == 0 ? .unallocated : .standard(host: host, subclusters: nil)
    }

    /// The L2 entry of VM state cluster `c`.
    private func entry(_ c: UInt64) -> Cluster {
        let l2 = l2Tables[Int(c >> l2Bits)]
        guard l2 != 0 else { return .unallocated }
        let at = l2 + (c & ((UInt64(1) << l2Bits) - 1)) * entryBytes
        guard let e = file.be64(at) else { return .invalid("L2 table cut short") }
        let bitmap = entryBytes == 16 ? (file.be64(at + 8) ?? 0) : 0
        return Self.classify(e, bitmap: bitmap, extended: entryBytes == 16, clusterBits: clusterBits)
    }

    /// Bytes [inner, inner + n) of VM state cluster `c`, or nil (the reason kept in `readError`).
    private func clusterBytes(_ c: UInt64, _ inner: UInt64, _ n: Int) -> [UInt8]? {
        let clusterSize = UInt64(1) << clusterBits
        switch entry(c) {
        case .unallocated, .zero: return [UInt8](repeating: 0, count: n)
        case .invalid(let why): return fail("VM state cluster \(c): \(why)")
        case .standard(let host, nil): return file.bytes(at: host + inner, count: n)
        case .standard(let host, let sub?):
            // 32 subclusters per cluster; each answers for its own bytes.
            let subBits = clusterBits - 5
            var out: [UInt8] = []
            out.reserveCapacity(n)
            var o = inner
            while out.count < n {
                let i = o >> subBits
                let k = min(UInt64(n - out.count), ((i + 1) << subBits) - o)
                if sub.0 >> i & 1 == 1 {
                    guard let b = file.bytes(at: host + o, count: Int(k)) else { return nil }
                    out += b
                } else {
                    out += repeatElement(0, count: Int(k))
                }
                o += k
            }
            return out
        case .compressed(let off, let len):
            return cache.withLock { st -> [UInt8]? in
                if st.cluster != c {
                    let avail = min(len, file.size - min(off, file.size))
                    guard let input = file.bytes(at: off, count: Int(avail)),
                          let out = Self.inflate(input, size: Int(clusterSize), zstd: image.compression == .zstd)
                    else {
                        if st.error == nil {
                            st.error = "VM state cluster \(c): the \(image.compression.name)-compressed cluster at 0x\(String(off, radix: 16)) (\(len) bytes) does not decompress to \(clusterSize) bytes"
                        }
                        return nil
                    }
                    st.cluster = c
                    st.bytes = out
                }
                return Array(st.bytes[Int(inner)..<(Int(inner) + n)])
            }
        }
    }

    private func fail(_ why: String) -> [UInt8]? {
        cache.withLock { if $0.error == nil { $0.error = why } }
        return nil
    }

    /// QEMU's qcow2_co_decompress: raw deflate (window bits −12, no zlib header) or zstd frames;
    /// success once the output cluster is full (the input may run on into the next cluster's data).
    static func inflate(_ input: [UInt8], size: Int, zstd: Bool) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: size)
        let ok: Bool = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return false }
                if zstd {
                    guard let ctx = ZSTD_createDCtx() else { return false }
                    defer { ZSTD_freeDCtx(ctx) }
                    var inb = ZSTD_inBuffer(src: s, size: src.count, pos: 0)
                    var outb = ZSTD_outBuffer(dst: d, size: size, pos: 0)
                    while outb.pos < size {
                        let before = (inb.pos, outb.pos)
                        let r = ZSTD_decompressStream(ctx, &outb, &inb)
                        if ZSTD_isError(r) != 0 { return false }
                        if before == (inb.pos, outb.pos) { return false }  // no progress: input ended
                    }
                    return true
                }
                var strm = z_stream()
                guard inflateInit2_(&strm, -12, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
                defer { inflateEnd(&strm) }
                strm.next_in = UnsafeMutablePointer(mutating: s)
                strm.avail_in = uInt(src.count)
                strm.next_out = d
                strm.avail_out = uInt(size)
                let r = CZlib.inflate(&strm, Z_FINISH)
                return (r == Z_STREAM_END || r == Z_BUF_ERROR) && strm.avail_out == 0
            }
        }
        return ok ? out : nil
    }

    // MARK: ByteSource

    public func bytes(at offset: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, offset <= size, size - offset >= UInt64(count) else { return count == 0 && offset <= size ? [] : nil }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var o = offset
        let clusterSize = UInt64(1) << clusterBits
        while out.count < count {
            let c = o >> clusterBits
            let inner = o & (clusterSize - 1)
            let n = Int(min(UInt64(count - out.count), clusterSize - inner))
            guard let b = clusterBytes(c, inner, n) else { return nil }
            out += b
            o += UInt64(n)
        }
        return out
    }

    public func read(into buffer: inout [UInt8], at offset: UInt64) -> Int {
        guard offset < size else { return 0 }
        let want = Int(min(UInt64(buffer.count), size - offset))
        var done = 0
        let clusterSize = UInt64(1) << clusterBits
        while done < want {
            let o = offset + UInt64(done)
            let inner = o & (clusterSize - 1)
            let n = Int(min(UInt64(want - done), clusterSize - inner))
            guard let b = clusterBytes(o >> clusterBits, inner, n) else { break }
            buffer.replaceSubrange(done..<(done + n), with: b)
            done += n
        }
        return done
    }

    public func release(_ offset: UInt64, _ count: UInt64) {}
    public func release(below offset: UInt64) {}
}

/// "2026-12-07 00:05:38" (UTC) from seconds since the Epoch (civil-from-days, proleptic Gregorian).
public func utcDateText(_ seconds: UInt64) -> String {
    let days = Int64(seconds / 86400), rem = Int64(seconds % 86400)
    let z = days + 719_468
    let era = z / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(y)-\(two(m))-\(two(d)) \(two(rem / 3600)):\(two(rem / 60 % 60)):\(two(rem % 60))"
}

/// QEMU's "info snapshots" VM CLOCK column: hh:mm:ss.mmm.
public func vmClockText(_ ns: UInt64) -> String {
    let ms = ns / 1_000_000
    let s = ms / 1000
    func two(_ v: UInt64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    let frac = ms % 1000
    return "\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60)).\(frac < 10 ? "00" : frac < 100 ? "0" : "")\(frac)"
}

/// A qcow2 image read as a dump (`savevm`, `snapshot-save`, libvirt's internal snapshots): the
/// migration stream in one internal snapshot's VM state, read through `Qcow2VMState`.
public final class Qcow2Snapshot: DumpFormat, @unchecked Sendable {
    public static let kind = DumpKind(id: "qcow2", name: "qcow2 internal snapshot")
    public static let infoKey: String? = "qcow2"
    public let vmState: Qcow2VMState
    public let stream: MigrationStream

    public static func matches(_ input: DumpInput) -> Bool {
        if case .file(let f) = input { return Qcow2Image.matches(f) }
        return false
    }

    public static func load(_ input: DumpInput, options: DumpOptions) throws(DumpError) -> any DumpFormat {
        guard case .file(let file) = input else { throw .notADump(path: input.path, reason: "a directory, not a qcow2 image") }
        let image = try Qcow2Image(file: file)
        let vmState = try image.vmState(of: image.snapshot(named: options.snapshot))
        do {
            return Qcow2Snapshot(vmState: vmState, stream: try MigrationStream(file: vmState, ramBlocks: options.ramBlocks,
                                                                              progress: options.progress))
        } catch {
            // A cluster that would not decompress shows to the stream reader as a short read.
            if let why = vmState.readError { throw .malformed(path: input.path, offset: nil, reason: why) }
            throw error
        }
    }

    init(vmState: Qcow2VMState, stream: MigrationStream) {
        self.vmState = vmState
        self.stream = stream
    }

    public var memory: any GuestMemory { stream }
    public var migrationStream: MigrationStream? { stream }
    public var vcpuCount: Int? { stream.gicCPUs }
    public var registers: RegisterState? { stream.streamRegisters }
    public var readerNotes: [String] { vmState.notes + stream.notes }

    public var details: DumpDetails {
        let v = vmState, img = v.image
        var s = "  qcow2 version \(img.version), cluster size \(img.clusterSize), virtual disk \(img.size) bytes, compression \(img.compression.name), extended L2: \(img.extendedL2 ? "yes" : "no")\n"
        var t = TextTable(header: ["", "ID", "NAME", "DATE (UTC)", "VM CLOCK", "VM STATE BYTES"], rightAligned: [5])
        for sn in img.snapshots {
            t.rows.append([sn == v.snapshot ? "*" : "", TerminalText.escape(sn.id), TerminalText.escape(sn.name),
                           utcDateText(UInt64(sn.dateSeconds)), vmClockText(sn.vmClockNanoseconds), String(sn.vmStateSize)])
        }
        s += t.render(indent: "  ")
        s += "  VM state read (*): \(v.size) bytes at virtual offset \(hex(v.virtualOffset)) of snapshot \(TerminalText.escape(v.snapshot.id)): \(v.dataClusters) data, \(v.compressedClusters) compressed, \(v.zeroClusters) zero, \(v.unallocatedClusters) unallocated clusters\n"
        for n in v.notes { s += "  note: \(n)\n" }
        let json: JSONValue = .object([
            "version": .uint(UInt64(img.version)), "clusterSize": .uint(img.clusterSize), "virtualSize": .uint(img.size),
            "compression": .string(img.compression == .zstd ? "zstd" : "deflate"), "extendedL2": .bool(img.extendedL2),
            "snapshots": .array(img.snapshots.map { sn in
                .object(["id": .string(sn.id), "name": .string(sn.name), "dateSeconds": .uint(UInt64(sn.dateSeconds)),
                         "dateNanoseconds": .uint(UInt64(sn.dateNanoseconds)), "vmClockNanoseconds": .uint(sn.vmClockNanoseconds),
                         "vmStateBytes": .uint(sn.vmStateSize), "diskSize": .uint(sn.diskSize), "read": .bool(sn == v.snapshot)])
            }),
            "vmState": .object([
                "snapshot": .string(v.snapshot.id), "bytes": .uint(v.size), "virtualOffset": .hexString(v.virtualOffset),
                "dataClusters": .int(Int64(v.dataClusters)), "compressedClusters": .int(Int64(v.compressedClusters)),
                "zeroClusters": .int(Int64(v.zeroClusters)), "unallocatedClusters": .int(Int64(v.unallocatedClusters)),
            ]),
            "notes": .array(v.notes.map { .string($0) }),
        ])
        let inner = stream.details
        return DumpDetails(text: s + inner.text, json: inner.json.merging(["qcow2": json]) { a, _ in a }, listsVMCOREINFO: false)
    }
}

extension DumpKind {
    public static var qcow2: DumpKind { Qcow2Snapshot.kind }
}

extension Dump {
    /// The VM state read, when the input is a qcow2 image.
    public var qcow2: Qcow2VMState? { (reader as? Qcow2Snapshot)?.vmState }
}
