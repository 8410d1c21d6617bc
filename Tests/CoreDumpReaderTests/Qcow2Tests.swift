import Foundation
import Testing
@testable import CoreDumpReader
@testable import ITSLayout

/// qcow2 internal snapshots built byte by byte (qcow2.txt): the VM state read back through the
/// snapshot's L1/L2 tables in every layout, a migration stream inside one opened as a DUMP, the
/// choice of snapshot, and every unusable or hostile image ending in one clear error.
@Suite struct Qcow2Tests {
    /// Bytes that differ in every cluster (a counter mixed with its index).
    static func pattern(_ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13 ^ $0 >> 9) }
    }

    struct Layout: CustomTestStringConvertible, Sendable {
        var version: UInt32
        var clusterBits: UInt32
        var extendedL2: Bool
        var compress: Qcow2Builder.Compress
        var testDescription: String { "v\(version) cluster_bits \(clusterBits)\(extendedL2 ? " extended L2" : "") \(compress)" }
    }

    static let layouts: [Layout] = [
        Layout(version: 2, clusterBits: 9, extendedL2: false, compress: .none),
        Layout(version: 3, clusterBits: 9, extendedL2: false, compress: .none),
        Layout(version: 3, clusterBits: 16, extendedL2: false, compress: .none),
        Layout(version: 3, clusterBits: 14, extendedL2: true, compress: .none),
        Layout(version: 3, clusterBits: 12, extendedL2: false, compress: .deflate),
        Layout(version: 3, clusterBits: 9, extendedL2: false, compress: .zstd),
        Layout(version: 2, clusterBits: 12, extendedL2: false, compress: .deflate),
    ]

    func builder(_ l: Layout, _ vmState: [UInt8]) -> Qcow2Builder {
        var b = Qcow2Builder()
        b.version = l.version
        b.clusterBits = l.clusterBits
        b.extendedL2 = l.extendedL2
        b.compress = l.compress
        b.diskSize = 3 << 20
        b.snapshots = [.init(id: "1", name: "stop1", vmState: vmState)]
        return b
    }

    @Test(arguments: layouts)
    func vmStateReadsBackThroughTheSnapshotTables(layout: Layout) throws {
        // Over two L2 tables with 512-byte clusters (64 entries map 32 KiB), a partial last cluster.
        let want = Self.pattern(40_000 + 123)
        var b = builder(layout, want)
        let image = try Qcow2Image(file: ByteArraySource(b.build(), path: "test.qcow2"))
        #expect(image.version == layout.version && image.clusterBits == layout.clusterBits)
        #expect(image.extendedL2 == layout.extendedL2)
        #expect(image.compression == (layout.compress == .zstd ? .zstd : .deflate))
        let s = try image.snapshot(named: nil)
        #expect(s.id == "1" && s.name == "stop1" && s.vmStateSize == UInt64(want.count))
        let v = try image.vmState(of: s)
        // size_to_l1(3 MiB): the first L1 entry past the disk, shifted by cluster_bits + l2_bits.
        let perL1 = UInt64(1) << (UInt64(layout.clusterBits) * 2 - (layout.extendedL2 ? 4 : 3))
        #expect(v.virtualOffset == (3 << 20 + perL1 - 1) / perL1 * perL1)
        let clusters = (want.count + (1 << layout.clusterBits) - 1) >> layout.clusterBits
        #expect(layout.compress == .none ? v.dataClusters == clusters : v.compressedClusters == clusters)
        #expect(v.bytes(at: 0, count: want.count) == want)
        #expect(v.bytes(at: UInt64(want.count) - 10, count: 11) == nil)
        for (off, n) in [(0, 1), (511, 2), (4095, 700), (33_000, 2000), (want.count - 5, 5)] {
            #expect(v.bytes(at: UInt64(off), count: n) == Array(want[off..<(off + n)]), "at \(off)")
        }
        var buf = [UInt8](repeating: 0xFF, count: 50_000)
        #expect(v.read(into: &buf, at: 100) == want.count - 100)
        #expect(Array(buf[0..<(want.count - 100)]) == Array(want[100...]))
        #expect(v.be32(0) == UInt32(want[0]) << 24 | UInt32(want[1]) << 16 | UInt32(want[2]) << 8 | UInt32(want[3]))
        #expect(v.readError == nil)
    }

    @Test func extendedL2SubclustersMarkedZeroReadAsZeros() throws {
        var want = Self.pattern(3 << 14)
        // Subclusters 3 and 4 of cluster 0 (512 bytes each with 16 KiB clusters) read as zeros.
        for i in (3 * 512)..<(5 * 512) { want[i] = 0 }
        var b = builder(Layout(version: 3, clusterBits: 14, extendedL2: true, compress: .none), want)
        b.zeroSubclusters = [3, 4]
        var img = b.build()
        // Scribble over the host bytes of the zero subclusters: they must not be read.
        let host = Int(b.layout.data[0][0])
        for i in (host + 3 * 512)..<(host + 5 * 512) { img[i] = 0xAA }
        let image = try Qcow2Image(file: ByteArraySource(img))
        let v = try image.vmState(of: image.snapshot(named: nil))
        #expect(v.bytes(at: 0, count: want.count) == want)
    }

    @Test func aStreamInsideAnImageIsADumpWithItsRegistersAndRAM() throws {
        let stream = MigrationStreamTests().sample().out
        for version: UInt32 in [2, 3] {
            for compress in [Qcow2Builder.Compress.none, .deflate, .zstd] where version == 3 || compress != .zstd {
                var b = builder(Layout(version: version, clusterBits: 12, extendedL2: false, compress: compress), stream)
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-qcow2-\(getpid())-\(version)-\(compress).qcow2")
                try Data(b.build()).write(to: url)
                defer { try? FileManager.default.removeItem(at: url) }
                let d = try Dump.open(url.path)
                #expect(d.kind == .qcow2)
                #expect(d.qcow2?.snapshot.name == "stop1")
                #expect(d.registers?.its.first?.baser[0]?.value.rawValue == 0xF907_0000_425A_0600)
                #expect(d.registers?.its.first?.baser[0]?.provenance.kind == .migrationStream)
                #expect(d.vcpuCount == 2)
                guard case .bytes(let page)? = Optional(d.memory.read(GuestPhysicalAddress(0x4000_0000), count: 4)) else {
                    Issue.record("RAM absent"); continue
                }
                #expect(page == [4, 5, 6, 0])
            }
        }
    }

    @Test func theSnapshotIsChosenByIDOrNameAndOnlyOneWithAVMStateIsTheDefault() throws {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "boot", vmState: Self.pattern(5000)), .init(id: "2", name: "stop2", vmState: Self.pattern(7000)),
                       .init(id: "3", name: "disk", vmState: [])]
        let image = try Qcow2Image(file: ByteArraySource(b.build(), path: "test.qcow2"))
        #expect(image.snapshots.map(\.id) == ["1", "2", "3"])
        #expect(image.snapshots.map(\.dateSeconds) == [1_796_601_938, 1_796_601_939, 1_796_601_940])
        #expect(utcDateText(1_796_601_938) == "2026-12-07 00:05:38" && utcDateText(951_868_799) == "2000-02-29 23:59:59")
        #expect(vmClockText(32_707_855_576) == "00:00:32.707")
        #expect(throws: DumpError.self) { try image.snapshot(named: nil) }
        do { _ = try image.snapshot(named: nil) } catch {
            #expect(error.description.contains("2 snapshots have a VM state; choose one with --snapshot"))
            #expect(error.description.contains("1 \"boot\" (2026-12-07 00:05:38 UTC, VM clock 00:00:32.707, VM state 5000 bytes), 2 \"stop2\" (2026-12-07 00:05:39 UTC, VM clock 00:00:32.707, VM state 7000 bytes), 3 \"disk\" (2026-12-07 00:05:40 UTC, VM clock 00:00:32.707, disk only)"))
        }
        #expect(try image.snapshot(named: "2").name == "stop2")
        #expect(try image.snapshot(named: "boot").id == "1")
        let v = try image.vmState(of: image.snapshot(named: "stop2"))
        #expect(v.bytes(at: 0, count: 7000) == Self.pattern(7000))
        do { _ = try image.snapshot(named: "disk"); Issue.record("a disk-only snapshot was chosen") } catch {
            #expect(error.description.contains("disk-only"))
        }
        do { _ = try image.snapshot(named: "nope"); Issue.record("no error") } catch {
            #expect(error.description.contains("no snapshot with ID or name \"nope\""))
        }
        var none = Qcow2Builder()
        do { _ = try Qcow2Image(file: ByteArraySource(none.build())).snapshot(named: nil); Issue.record("no error") } catch {
            #expect(error.description.contains("no internal snapshot with a VM state"))
        }
    }

    /// fuzz-qcow2's first find (a timeout): thousands of snapshots with long names were all
    /// escaped into the message that lists them. At most 20 are named, each cut to 64 characters.
    @Test func aMessageListingSnapshotsStaysShort() throws {
        var b = Qcow2Builder()
        b.snapshots = (0..<300).map { .init(id: "\($0)", name: String(repeating: "n\u{1}", count: 1500), vmState: []) }
        let image = try Qcow2Image(file: ByteArraySource(b.build(), path: "test.qcow2"))
        #expect(image.snapshots.count == 300)
        do { _ = try image.snapshot(named: nil); Issue.record("no error") } catch {
            #expect(error.description.count < 16000, "\(error.description.count) characters")
            #expect(error.description.contains("and 280 more (itsdump info lists them)"))
            #expect(error.description.contains("0 \"n\\u{1}n\\u{1}"))
        }
    }

    /// The message a bad image ends with.
    func failure(_ bytes: [UInt8]) -> String {
        do {
            let image = try Qcow2Image(file: ByteArraySource(bytes, path: "test.qcow2"))
            _ = try image.vmState(of: image.snapshot(named: nil))
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func encryptedImagesAndExternalDataFilesAreRefusedClearly() {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(3000))]
        b.crypt = 2
        #expect(failure(b.build()).contains("an encrypted qcow2 image (LUKS)"))
        b.crypt = 1
        #expect(failure(b.build()).contains("an encrypted qcow2 image (AES)"))
        b.crypt = 0
        b.extraIncompatible = 0x4
        #expect(failure(b.build()).contains("external data file"))
        b.extraIncompatible = 0x20
        #expect(failure(b.build()).contains("incompatible feature bits 0x20 are unknown"))
        b.extraIncompatible = 0x3  // dirty and corrupt: read, and said
        let img = b.build()
        #expect(failure(img) == "no error")
        let notes = (try? Qcow2Image(file: ByteArraySource(img)).notes) ?? []
        #expect(notes.count == 2 && notes[0].contains("dirty") && notes[1].contains("corrupt"))
        let v = try? Qcow2Image(file: ByteArraySource(img)).vmState(of: Qcow2Image(file: ByteArraySource(img)).snapshot(named: nil))
        #expect(v?.notes.first == "the VM state of internal snapshot 1 \"s\" (taken 2026-12-07 00:05:38 UTC, VM clock 00:00:32.707, 3000 bytes)")
        #expect(v?.notes.dropFirst().first?.contains("dirty") == true)
    }

    @Test(arguments: [UInt32(8), 22, 0, 63, 0xFFFF_FFFF])
    func clusterBitsOutOfRangeIsAnError(bits: UInt32) {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(3000))]
        var img = b.build()
        Qcow2Builder.put(UInt64(bits), 4, into: &img, at: 20)
        #expect(failure(img).contains("cluster_bits \(bits) is out of range (9 to 21"))
    }

    @Test func versionsOtherThanTwoAndThreeAndCutHeadersAreRefused() {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(3000))]
        var img = b.build()
        Qcow2Builder.put(4, 4, into: &img, at: 4)
        #expect(failure(img).contains("qcow2 version 4"))
        #expect(failure(Array(b.build().prefix(60))).contains("header cut short"))
        #expect(failure(Array(b.build().prefix(90))).contains("version 3 header cut short"))
    }

    @Test func hostileOffsetsAreClearErrors() {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(9000))]
        let base = b.build()
        let layout = b.layout
        let entry = Int(layout.snapshotTable)
        let l1Entry = Int(layout.l1[0]) + Int(b.vmStateL1Index) * 8
        let end = UInt64(base.count)

        var img = base  // the snapshot's L1 table past the end of the file
        Qcow2Builder.put(end + 4096, 8, into: &img, at: entry)
        #expect(failure(img).contains("is not a cluster-aligned table inside the \(end)-byte file"))
        img = base  // misaligned L1 table
        Qcow2Builder.put(layout.l1[0] + 8, 8, into: &img, at: entry)
        #expect(failure(img).contains("not a cluster-aligned table"))
        img = base  // an L2 table past the end
        Qcow2Builder.put(1 << 63 | (end + 8192), 8, into: &img, at: l1Entry)
        #expect(failure(img).contains("lies past the end of the \(end)-byte file"))
        img = base  // an L2 table at a misaligned offset
        Qcow2Builder.put(layout.l2[0][0] + 512, 8, into: &img, at: l1Entry)
        #expect(failure(img).contains("L2 table offset not cluster-aligned"))
        img = base  // a data cluster past the end
        Qcow2Builder.put(1 << 63 | (end + 4096 * 3), 8, into: &img, at: Int(layout.l2EntryOffsets[0][1]))
        #expect(failure(img).contains("cluster 1 of the VM state at 0x\(String(end + 4096 * 3, radix: 16)) lies past the end"))
        img = base  // the snapshot table (nb_snapshots) running past the end
        Qcow2Builder.put(end - 16, 8, into: &img, at: 64)
        #expect(failure(img).contains("not a cluster of the file"))
        img = base
        Qcow2Builder.put(70_000, 4, into: &img, at: 60)
        #expect(failure(img).contains("nb_snapshots 70000 exceeds"))
        img = base  // extra data larger than QEMU allows
        Qcow2Builder.put(5000, 4, into: &img, at: entry + 36)
        #expect(failure(img).contains("5000 bytes of extra data"))
    }

    @Test func sharedAndCyclicClustersAreErrors() {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(9000))]
        let base = b.build()
        let layout = b.layout
        var img = base  // cluster 2 is cluster 0's host cluster too
        Qcow2Builder.put(1 << 63 | layout.data[0][0], 8, into: &img, at: Int(layout.l2EntryOffsets[0][2]))
        #expect(failure(img).contains("holds both cluster 0 and cluster 2 of the VM state: shared clusters"))
        img = base  // a data cluster that is the L2 table mapping it (a cycle)
        Qcow2Builder.put(1 << 63 | layout.l2[0][0], 8, into: &img, at: Int(layout.l2EntryOffsets[0][1]))
        #expect(failure(img).contains("is also the L2 table of L1 entry"))
        img = base  // a data cluster that is the L1 table
        Qcow2Builder.put(layout.l1[0], 8, into: &img, at: Int(layout.l2EntryOffsets[0][0]))
        #expect(failure(img).contains("is also the snapshot's L1 table"))
        img = base  // the header cluster as data
        Qcow2Builder.put(1 << 63 | 0, 8, into: &img, at: Int(layout.l2EntryOffsets[0][0]))
        #expect(failure(img) == "no error")  // offset 0 without an external data file: unallocated
        // Two clusters read from one compressed cluster.
        var z = Qcow2Builder()
        z.compress = .deflate
        z.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(9000))]
        var zimg = z.build()
        let first = Array(zimg[Int(z.layout.l2EntryOffsets[0][0])..<(Int(z.layout.l2EntryOffsets[0][0]) + 8)])
        zimg.replaceSubrange(Int(z.layout.l2EntryOffsets[0][1])..<(Int(z.layout.l2EntryOffsets[0][1]) + 8), with: first)
        #expect(failure(zimg).contains("the compressed data at 0x\(String(z.layout.data[0][0], radix: 16)) is both cluster 0 and cluster 1 of the VM state: shared clusters"))
        // An L2 table that is the L1 table.
        img = base
        Qcow2Builder.put(layout.l1[0], 8, into: &img, at: Int(layout.l1[0]) + Int(b.vmStateL1Index) * 8)
        #expect(failure(img).contains("which is the snapshot's L1 table: shared or cyclic clusters"))
    }

    @Test func aSnapshotTableOverlappingMetadataIsAnError() {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(3000))]
        var img = b.build()
        // Move the table onto the snapshot's own L1 table: the entry read there names that table.
        let entry = Array(img[Int(b.layout.snapshotTable)..<(Int(b.layout.snapshotTable) + 72)])
        img.replaceSubrange(Int(b.layout.l1[0])..<(Int(b.layout.l1[0]) + 72), with: entry)
        Qcow2Builder.put(b.layout.l1[0], 8, into: &img, at: 64)
        #expect(failure(img).contains("snapshot table (0x\(String(b.layout.l1[0], radix: 16)), 72 bytes) overlaps the L1 table of snapshot 1"))
    }

    @Test func aVMStateLargerThanTheImageOrItsL1TableIsAnError() {
        var b = Qcow2Builder()
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(9000), claimedSize: 1 << 40)]
        #expect(failure(b.build()).contains("runs past the snapshot's L1 table of"))
        // Within the L1 entry's 2 MiB but beyond every byte of the file, with no compression.
        b.snapshots = [.init(id: "1", name: "s", vmState: Self.pattern(9000), claimedSize: 1_500_000)]
        let img = b.build()
        #expect(failure(img).contains("the VM state claims 1500000 bytes, more than the whole \(img.count)-byte image holds uncompressed"))
    }

    @Test func aCompressedClusterThatDoesNotDecompressIsNamed() throws {
        let stream = MigrationStreamTests().sample().out
        for c in [Qcow2Builder.Compress.deflate, .zstd] {
            var b = builder(Layout(version: 3, clusterBits: 12, extendedL2: false, compress: c), stream)
            var img = b.build()
            let at = Int(b.layout.data[0][0])
            for i in at..<(at + 16) { img[i] ^= 0x5A }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-qcow2-bad-\(getpid())-\(c).qcow2")
            try Data(img).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            do { _ = try Dump.open(url.path); Issue.record("no error") } catch {
                #expect(error.description.contains("VM state cluster 0: the \(c == .zstd ? "zstd" : "deflate (zlib)")-compressed cluster at 0x\(String(at, radix: 16))"), "\(error)")
                #expect(error.description.contains("does not decompress to 4096 bytes"))
            }
        }
    }
}
