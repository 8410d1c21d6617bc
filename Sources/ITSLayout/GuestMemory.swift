/// The one protocol the walkers read through: "these bytes at guest PA, or exactly which range
/// is absent". Readers of ELF cores, raw images, kdump files and migration streams implement it;
/// tests implement it with images they build byte by byte.

public enum MemoryRead: Sendable {
    case bytes([UInt8])
    /// The first absent part of the requested range (a hole, or a range no dump segment covers).
    case absent(GuestRange)
}

public protocol GuestMemory: Sendable {
    /// The guest-physical ranges the dump holds, sorted by start, not overlapping.
    var presentRanges: [GuestRange] { get }
    /// `count` bytes from `address`. `count` is small (callers read at most a page at a time).
    func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead
    func relinquish(_ range: GuestRange)
    /// Why the page at `address` is damaged — the dump says it holds it, but its bytes cannot
    /// be had (a kdump descriptor past the end, data that does not decompress) — or nil.
    /// Distinct from absent, which means the dumper left the page out.
    func damage(at address: GuestPhysicalAddress) -> String?
}

extension GuestMemory {
    /// A hint that a long pass (the VMCOREINFO scan) is done with `range`: a mapped reader may
    /// drop those pages from its resident set. Reading them again still works.
    public func relinquish(_ range: GuestRange) {}

    public func damage(at address: GuestPhysicalAddress) -> String? { nil }

    /// "is not in the dump", or "is damaged in the dump (…)" for a page the dump claims.
    public func absenceText(_ address: GuestPhysicalAddress) -> String {
        damage(at: address).map { "is \($0)" } ?? "is not in the dump"
    }

    public func contains(_ range: GuestRange) -> Bool {
        var cursor = range.start.rawValue
        let end = range.end
        for r in presentRanges where r.start.rawValue <= cursor && cursor < r.end {
            cursor = r.end
            if cursor >= end { return true }
        }
        return cursor >= end
    }
}

/// One piece of a read, as a reader answers for the address where the piece starts.
public enum MemoryPiece {
    /// Bytes present (at least one, at most what was asked).
    case bytes(ArraySlice<UInt8>)
    /// This many bytes that read as zeros (a short p_filesz, a zero page).
    case zeros(UInt64)
    /// This many bytes are not in the dump.
    case absent(UInt64)
}

/// Assembles a read of `count` bytes from pieces: every reader walks its own structure
/// (segments, blocks, pages) and answers one piece at a time.
public func assembleRead(_ address: GuestPhysicalAddress, count: Int,
                         piece: (_ at: UInt64, _ left: UInt64) -> MemoryPiece) -> MemoryRead
{
    var out: [UInt8] = []
    out.reserveCapacity(max(0, count))
    var a = address.rawValue
    var left = UInt64(max(0, count))
    while left > 0 {
        let n: UInt64
        switch piece(a, left) {
        case .bytes(let b):
            guard !b.isEmpty else { return .absent(GuestRange(start: GuestPhysicalAddress(a), length: left)) }
            n = min(UInt64(b.count), left)
            out += b.prefix(Int(n))
        case .zeros(let z):
            guard z > 0 else { return .absent(GuestRange(start: GuestPhysicalAddress(a), length: left)) }
            n = min(z, left)
            out += repeatElement(0, count: Int(n))
        case .absent(let z):
            return .absent(GuestRange(start: GuestPhysicalAddress(a), length: max(1, min(z, left))))
        }
        left -= n
        a &+= n
    }
    return .bytes(out)
}

/// Little-endian loads from a byte array (ITS tables are little-endian, its-formats.md conventions).
extension Array where Element == UInt8 {
    @inlinable
    public func loadLE(at offset: Int, count: Int) -> UInt64 {
        var v: UInt64 = 0
        var i = count - 1
        while i >= 0 {
            v = v << 8 | UInt64(self[offset + i])
            i -= 1
        }
        return v
    }

    public var isAllZero: Bool { allSatisfy { $0 == 0 } }
}

/// A sparse in-memory guest image: pages of bytes keyed by address. Tests and the fuzz-input
/// decoders build tables in it byte by byte.
public struct SparseImage: GuestMemory {
    public static let chunk: UInt64 = 4096
    public private(set) var chunks: [UInt64: [UInt8]] = [:]

    public init() {}

    public var presentRanges: [GuestRange] {
        var out: [GuestRange] = []
        for key in chunks.keys.sorted() {
            if let last = out.last, last.end == key {
                out[out.count - 1].length += Self.chunk
            } else {
                out.append(GuestRange(start: GuestPhysicalAddress(key), length: Self.chunk))
            }
        }
        return out
    }

    /// Makes `range` present (zero-filled where not yet written).
    public mutating func map(_ start: UInt64, length: UInt64) {
        var a = start / Self.chunk * Self.chunk
        while a < start &+ length {
            if chunks[a] == nil { chunks[a] = [UInt8](repeating: 0, count: Int(Self.chunk)) }
            let (n, o) = a.addingReportingOverflow(Self.chunk)
            if o { break }
            a = n
        }
    }

    public mutating func write(_ address: UInt64, bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let (a, o) = address.addingReportingOverflow(UInt64(done))
            if o { return }
            let key = a / Self.chunk * Self.chunk
            let off = Int(a - key)
            let n = min(bytes.count - done, Int(Self.chunk) - off)
            chunks[key, default: [UInt8](repeating: 0, count: Int(Self.chunk))]
                .replaceSubrange(off..<(off + n), with: bytes[done..<(done + n)])
            done += n
        }
    }

    public mutating func write64(_ address: UInt64, _ value: UInt64) {
        write(address, bytes: (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }

    public mutating func write32(_ address: UInt64, _ value: UInt32) {
        write(address, bytes: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) })
    }

    public func read(_ address: GuestPhysicalAddress, count: Int) -> MemoryRead {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var a = address.rawValue
        var left = UInt64(count)
        while left > 0 {
            let key = a / Self.chunk * Self.chunk
            guard let page = chunks[key] else {
                return .absent(GuestRange(start: GuestPhysicalAddress(a), length: min(left, key &+ Self.chunk &- a)))
            }
            let off = Int(a - key)
            let n = Swift.min(UInt64(Int(Self.chunk) - off), left)
            out.append(contentsOf: page[off..<(off + Int(n))])
            left -= n
            let (next, o) = a.addingReportingOverflow(n)
            if o && left > 0 { return .absent(GuestRange(start: GuestPhysicalAddress(0), length: left)) }
            a = next
        }
        return .bytes(out)
    }
}
