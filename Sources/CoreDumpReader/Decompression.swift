import CLZO
import CSnappy
import CZlib
import CZstd

/// The page compressions of kdump files (Documentation/input-formats.md §2.7), each through Debian's C
/// library. Every call checks that exactly `size` bytes come out.
enum PageCompression: UInt32, CaseIterable, Sendable {
    case zlib = 0x1
    case lzo = 0x2
    case snappy = 0x4
    case zstd = 0x20

    var name: String {
        switch self {
        case .zlib: "zlib"
        case .lzo: "lzo"
        case .snappy: "snappy"
        case .zstd: "zstd"
        }
    }

    /// nil when the data does not decompress to exactly `size` bytes.
    func decompress(_ input: [UInt8], size: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: size)
        var produced = 0
        let ok: Bool = input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return false }
                switch self {
                case .zlib:
                    var n = uLongf(size)
                    let r = uncompress(d, &n, s, uLong(src.count))
                    produced = Int(n)
                    return r == Z_OK
                case .lzo:
                    guard lzo_init_checked() else { return false }
                    var n = lzo_uint(size)
                    let r = lzo1x_decompress_safe(s, lzo_uint(src.count), d, &n, nil)
                    produced = Int(n)
                    return r == LZO_E_OK
                case .snappy:
                    var n = size
                    let r = s.withMemoryRebound(to: CChar.self, capacity: src.count) { cs in
                        d.withMemoryRebound(to: CChar.self, capacity: size) { cd in
                            snappy_uncompress(cs, src.count, cd, &n)
                        }
                    }
                    produced = n
                    return r == SNAPPY_OK
                case .zstd:
                    let r = ZSTD_decompress(d, size, s, src.count)
                    produced = Int(r)
                    return ZSTD_isError(r) == 0
                }
            }
        }
        return ok && produced == size ? out : nil
    }
}

/// `lzo_init()` is a macro; its function form checks the library's type sizes.
private func lzo_init_checked() -> Bool {
    __lzo_init_v2(UInt32(LZO_VERSION), Int32(MemoryLayout<Int16>.size), Int32(MemoryLayout<Int32>.size),
                  Int32(MemoryLayout<Int>.size), Int32(MemoryLayout<UInt32>.size), Int32(MemoryLayout<lzo_uint>.size),
                  Int32(MemoryLayout<UnsafeMutableRawPointer>.size), Int32(MemoryLayout<UnsafeMutableRawPointer>.size),
                  Int32(MemoryLayout<UnsafeMutableRawPointer>.size), -1) == LZO_E_OK
}
