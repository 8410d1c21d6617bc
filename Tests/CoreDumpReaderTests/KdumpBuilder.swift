import CLZO
import CSnappy
import CZlib
import CZstd
import Foundation
import GuestKernel

/// Builds makedumpfile diskdump files byte by byte (input-formats.md §2.3–§2.6) with 4 KiB
/// blocks, compressing pages with the same C libraries' compressors.
struct KdumpBuilder {
    enum Compression: UInt32, CaseIterable { case none = 0, zlib = 1, lzo = 2, snappy = 4, zstd = 0x20 }

    let blockSize = 4096
    /// PFN → block contents; PFNs in `excluded` are RAM but not dumped.
    var pages: [Int: [UInt8]] = [:]
    var excluded: Set<Int> = []
    var compression = Compression.zlib
    var vmcoreinfo = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n"
    /// Make one descriptor point this far past the end of the file.
    var corruptDescriptorOf: Int?
    var bitmapBlocks = 2

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    func compress(_ page: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: page.count * 2 + 1024)
        var n = 0
        page.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!
                switch compression {
                case .none: break
                case .zlib:
                    var len = uLongf(dst.count)
                    _ = compress2(d, &len, s, uLong(src.count), 1)
                    n = Int(len)
                case .lzo:
                    var wrk = [UInt8](repeating: 0, count: 1 << 17)
                    var len = lzo_uint(dst.count)
                    _ = wrk.withUnsafeMutableBytes { lzo1x_1_compress(s, lzo_uint(src.count), d, &len, $0.baseAddress) }
                    n = Int(len)
                case .snappy:
                    var len = dst.count
                    _ = s.withMemoryRebound(to: CChar.self, capacity: src.count) { cs in
                        d.withMemoryRebound(to: CChar.self, capacity: dst.count) { snappy_compress(cs, src.count, $0, &len) }
                    }
                    n = len
                case .zstd:
                    n = ZSTD_compress(d, dst.count, s, src.count, 3)
                }
            }
        }
        return compression == .none ? page : Array(out[0..<n])
    }

    /// The plain diskdump file.
    func plain() -> [UInt8] {
        let bs = blockSize
        let maxPFN = (pages.keys.max() ?? 0) + 1
        let bitmapLen = bitmapBlocks * bs / 2
        var noteBlob: [UInt8] = []
        let name = Array("VMCOREINFO".utf8) + [0]
        let desc = Array(vmcoreinfo.utf8)
        noteBlob += Self.le(UInt64(name.count), 4) + Self.le(UInt64(desc.count), 4) + Self.le(0, 4)
        noteBlob += name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
        noteBlob += desc + [UInt8](repeating: 0, count: (4 - desc.count % 4) % 4)
        var header = Array("KDUMP   ".utf8) + Self.le(6, 4) + [UInt8](repeating: 0, count: 412)
        header += Self.le(UInt64(compression.rawValue), 4) + Self.le(UInt64(bs), 4) + Self.le(1, 4)
        header += Self.le(UInt64(bitmapBlocks), 4) + Self.le(UInt64(maxPFN), 4) + Self.le(0, 16) + Self.le(2, 4)
        header += [UInt8](repeating: 0, count: bs - header.count)
        var sub = Self.le(0x100000, 8) + Self.le(1, 4) + Self.le(0, 4) + Self.le(0, 16)
        sub += Self.le(UInt64(bs + 104 + 12 + 12), 8) + Self.le(UInt64(desc.count), 8)  // offset/size_vmcoreinfo
        sub += Self.le(UInt64(bs + 104), 8) + Self.le(UInt64(noteBlob.count), 8)  // offset_note, note_size
        sub += Self.le(0, 16) + Self.le(0, 16) + Self.le(UInt64(maxPFN), 8)
        sub += noteBlob
        sub += [UInt8](repeating: 0, count: bs - sub.count)
        var bm1 = [UInt8](repeating: 0, count: bitmapLen), bm2 = bm1
        for pfn in pages.keys {
            bm1[pfn / 8] |= 1 << (pfn % 8)
            if !excluded.contains(pfn) { bm2[pfn / 8] |= 1 << (pfn % 8) }
        }
        let dumped = pages.keys.filter { !excluded.contains($0) }.sorted()
        let dataStart = (2 + bitmapBlocks) * bs + dumped.count * 24
        var descs: [UInt8] = [], data: [UInt8] = []
        for pfn in dumped {
            let stored = compress(pages[pfn]!)
            var offset = UInt64(dataStart + data.count)
            if pfn == corruptDescriptorOf { offset += 1 << 30 }
            descs += Self.le(offset, 8) + Self.le(UInt64(stored.count), 4)
            descs += Self.le(UInt64(stored.count == bs && compression != .none ? 0 : compression.rawValue), 4) + Self.le(0, 8)
            data += stored
        }
        return header + sub + bm1 + bm2 + descs + data
    }

    /// The same file in makedumpfile's flattened container, as records in shuffled order.
    func flattened() -> [UInt8] {
        let p = plain()
        var out = Array("makedumpfile".utf8) + [UInt8](repeating: 0, count: 4) + StreamBuilder.be(1, 8) + StreamBuilder.be(1, 8)
        out += [UInt8](repeating: 0, count: 4096 - out.count)
        let cuts = [0, 464, blockSize, 3 * blockSize, p.count / 2, p.count]
        var records: [(Int, Int)] = []
        for (a, b) in zip(cuts, cuts.dropFirst()) where a < b { records.append((a, b)) }
        for (a, b) in records.reversed() {
            out += StreamBuilder.be(UInt64(a), 8) + StreamBuilder.be(UInt64(b - a), 8) + Array(p[a..<b])
        }
        return out + StreamBuilder.be(UInt64.max, 8) + StreamBuilder.be(UInt64.max, 8)
    }
}
