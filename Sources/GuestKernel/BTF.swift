import ITSLayout

/// BPF Type Format, the kernel's compact type information (include/uapi/linux/btf.h,
/// Documentation/bpf/btf.rst): a 24-byte header (magic 0xEB9F, version 1, flags, hdr_len,
/// type_off/type_len and str_off/str_len relative to the header's end), the type section (one
/// `struct btf_type` per id from 1, each followed by its kind's extra data) and the string
/// section. Every kind of the current format is parsed (INT … ENUM64); types are resolved only
/// as far as a struct layout needs, with every id, name offset and chain checked and bounded.
public struct BTF: Sendable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case int = 1, pointer, array, structure, union, enumeration, forward, typedef, volatile, const, restrict
        case function, functionPrototype, variable, dataSection, float, declarationTag, typeTag, enumeration64

        /// Bytes after the 12-byte `struct btf_type` (btf.rst §2.2).
        func extraBytes(vlen: Int) -> Int {
            switch self {
            case .int, .variable, .declarationTag: 4
            case .array: 12
            case .structure, .union, .dataSection, .enumeration64: vlen * 12
            case .enumeration, .functionPrototype: vlen * 8
            case .pointer, .forward, .typedef, .volatile, .const, .restrict, .function, .float, .typeTag: 0
            }
        }
    }

    public enum Problem: Error, CustomStringConvertible, Sendable, Equatable {
        case truncated(what: String, need: UInt64, have: UInt64)
        case badHeader(String)
        case unknownKind(id: Int, kind: UInt8)
        case typeIDOutOfRange(id: UInt32, count: Int)
        case nameOffsetOutOfRange(id: Int, offset: UInt32)
        case cyclicTypeChain(id: UInt32)
        case memberPastSize(structure: String, member: String, end: UInt64, size: UInt64)
        case tooManyTypes(Int)
        case tooManyMembers(id: UInt32)
        case nameTooLong(offset: UInt32)
        case unreadableName(offset: UInt32)

        public var description: String {
            switch self {
            case .truncated(let w, let n, let h): "BTF: \(w) needs \(n) bytes, \(h) are there (truncated)"
            case .badHeader(let s): "BTF: \(s)"
            case .unknownKind(let id, let k): "BTF: type \(id) has unknown kind \(k)"
            case .typeIDOutOfRange(let id, let n): "BTF: type id \(id) is beyond the table's \(n) types"
            case .nameOffsetOutOfRange(let id, let o): "BTF: type \(id)'s name offset \(o) is past the string section"
            case .cyclicTypeChain(let id): "BTF: the type chain from id \(id) does not end (a cycle)"
            case .memberPastSize(let s, let m, let e, let z): "BTF: struct \(s)'s member \(m) ends at byte \(e), past the struct's size \(z)"
            case .tooManyTypes(let n): "BTF: more than \(n) types (a bound of itsdump)"
            case .tooManyMembers(let id): "BTF: struct \(id) has more than \(BTF.maxMembers) members, nested ones included (a bound of itsdump)"
            case .nameTooLong(let o): "BTF: the name at string offset \(o) has no NUL in \(BTF.maxNameBytes) bytes (a bound of itsdump)"
            case .unreadableName(let o): "BTF: the name at string offset \(o) is not in the dump"
            }
        }
    }

    public static let magic: UInt16 = 0xEB9F
    /// A vmlinux has about 130,000 types; a bound far above, below which the index stays
    /// within 4 MiB.
    public static let maxTypes = 1 << 20
    /// A BTF larger than this is not a kernel's (6.1 arm64: 4.6 MiB).
    public static let maxBytes: UInt64 = 64 << 20
    /// Type chains (typedef → const → pointer …) are a handful long; beyond this, a cycle.
    static let maxChain = 64

    /// One type as its `struct btf_type` says, decoded when asked for (`entry`).
    public struct TypeEntry: Sendable {
        public var kind: Kind
        public var kindFlag: Bool
        var vlen16: UInt16
        public var nameOffset: UInt32
        /// `size` for INT, STRUCT, UNION, ENUM, DATASEC, FLOAT; `type` for the others.
        public var sizeOrType: UInt32
        var extra32: UInt32
        public var vlen: Int { Int(vlen16) }
        /// Offset of the extra data in `bytes`.
        public var extra: Int { Int(extra32) }
    }

    /// The BTF's bytes: in memory whole (a file, a test's), or in guest memory, read a piece
    /// at a time (`init(at:count:read:)`): the index pass streams through 256 KiB at a time,
    /// and a look-up reads the entries, members and names it needs. A vmlinux's 4.6 MiB are
    /// never in memory at once: fresh pages cost more than the reading (on a 2-vCPU guest, a
    /// 4.6 MiB buffer's page faults took 1 to 5 ms, the copy 0.5 ms).
    let storage: Storage
    struct Storage: Sendable {
        let whole: [UInt8]?
        let base: UInt64
        let count: Int
        let read: SendableKernelBytes?

        /// `n` bytes from `p`, or nil outside the BTF or where guest memory does not give them.
        func bytes(_ p: Int, _ n: Int) -> [UInt8]? {
            guard p >= 0, n >= 0, p <= count, count - p >= n else { return nil }
            if let whole { return Array(whole[p..<(p + n)]) }
            return read?(base &+ UInt64(p), n).flatMap { $0.count == n ? $0 : nil }
        }

        /// A little-endian u32 at `p` (0 where it cannot be read: `init` read it once).
        func u32(_ p: Int) -> UInt32 {
            if let whole, p >= 0, p + 4 <= whole.count { return BTF.u32(whole, p) }
            return bytes(p, 4).map { UInt32($0.loadLE(at: 0, count: 4)) } ?? 0
        }
    }

    /// All of the BTF's bytes (what a test or `--btf` gave; read whole from guest memory).
    public var bytes: [UInt8] { storage.whole ?? storage.bytes(0, storage.count) ?? [] }
    /// The BTF's length in bytes.
    public var byteCount: Int { storage.count }
    let stringsStart: Int
    let stringsLength: Int
    /// The index is lazy: where each type starts (4 bytes per type: ~0.5 MiB for a vmlinux's
    /// ~130,000, which a walk needing a dozen of them would otherwise decode whole), and the ids
    /// of the structs and unions, the only types looked up by name.
    let offsets: [UInt32]
    let aggregates: [UInt32]
    /// The aggregates grouped by a hash of their names' first 64 bytes: the ids of bucket b are
    /// `bucketIDs[bucketStarts[b] ..< bucketStarts[b + 1]]`, ascending. A look-up by name reads
    /// one bucket instead of comparing every aggregate's name (the irq walk asks a dozen names).
    /// Built in O(n) by counting, so names that all hash alike cost a long bucket, never a
    /// quadratic build.
    let bucketStarts: [UInt32]
    let bucketIDs: [UInt32]
    /// Type ids run from 1 to `typeCount`.
    public var typeCount: Int { offsets.count }

    /// Every type, decoded as it is visited: types[i] is type id i + 1.
    public struct Types: RandomAccessCollection, Sendable {
        let btf: BTF
        public var startIndex: Int { 0 }
        public var endIndex: Int { btf.offsets.count }
        public subscript(i: Int) -> TypeEntry { btf.entry(at: Int(btf.offsets[i])) }
    }
    public var types: Types { Types(btf: self) }

    /// Parses the header and walks every type once, checking its kind and that its extra data
    /// fits; names and references are checked when used.
    public init(bytes: [UInt8]) throws(Problem) {
        try self.init(storage: Storage(whole: bytes, base: 0, count: bytes.count, read: nil))
    }

    /// The BTF of `count` bytes at kernel VA `address`, read through `read` as `init(bytes:)`
    /// reads an array: 256 KiB at a time for the index, a piece at a time for a look-up.
    public init(at address: UInt64, count: Int, read: @escaping SendableKernelBytes) throws(Problem) {
        try self.init(storage: Storage(whole: nil, base: address, count: count, read: read))
    }

    /// The index pass's window over a BTF in guest memory.
    static let window = 64 << 10

    init(storage: Storage) throws(Problem) {
        self.storage = storage
        let total = storage.count
        guard UInt64(total) <= Self.maxBytes else { throw .badHeader("\(total) bytes, more than a kernel's BTF (\(Self.maxBytes >> 20) MiB)") }
        guard total >= 24, let header = storage.bytes(0, 24) else { throw .truncated(what: "the header", need: 24, have: UInt64(total)) }
        guard header.loadLE(at: 0, count: 2) == UInt64(Self.magic) else { throw .badHeader("magic is not 0xEB9F") }
        guard header[2] == 1 else { throw .badHeader("version \(header[2]), not 1") }
        let headerLength = header.loadLE(at: 4, count: 4)
        guard headerLength >= 24, headerLength <= UInt64(total) else { throw .badHeader("hdr_len \(headerLength)") }
        let typeOff = header.loadLE(at: 8, count: 4), typeLen = header.loadLE(at: 12, count: 4)
        let strOff = header.loadLE(at: 16, count: 4), strLen = header.loadLE(at: 20, count: 4)
        // All four are u32: their sums fit a UInt64.
        let typesEnd = headerLength + typeOff + typeLen, stringsEnd = headerLength + strOff + strLen
        guard typesEnd <= UInt64(total) else { throw .truncated(what: "the type section", need: typesEnd, have: UInt64(total)) }
        guard stringsEnd <= UInt64(total) else { throw .truncated(what: "the string section", need: stringsEnd, have: UInt64(total)) }
        stringsStart = Int(headerLength + strOff)
        stringsLength = Int(strLen)
        /// [from, from + n) or more, as an array and where it starts: the whole array when there
        /// is one, else a window read from guest memory.
        func chunk(_ from: Int, atLeast n: Int, upTo end: Int) throws(Problem) -> (start: Int, bytes: [UInt8]) {
            if let whole = storage.whole { return (0, whole) }
            let length = min(max(n, Self.window), end - from)
            guard length >= n, let b = storage.bytes(from, length) else {
                throw .truncated(what: "the bytes at \(from) in guest memory", need: UInt64(n), have: 0)
            }
            return (from, b)
        }
        var p = Int(headerLength + typeOff)
        let end = Int(typesEnd)
        // At least 12 bytes per type: capacity for every type the section can hold, which no
        // append outgrows (reserved, not touched: a vmlinux fills 110,000 of 235,000). The
        // kind decides the extra data by table, not by a branch per kind: the kinds of
        // consecutive types do not repeat.
        var offsets: [UInt32] = []
        offsets.reserveCapacity(min((end - p) / 12, Self.maxTypes))
        var aggregates: [UInt32] = [], aggregateNames: [UInt32] = []
        var count = 0
        let fixed = Self.fixedExtra.span, perEntry = Self.extraPerEntry.span
        // What the next type needs whole in a window: its 12 bytes, then its extra data too.
        var need = 12
        while p < end {
            let (from, window) = try chunk(p, atLeast: min(need, end - p), upTo: end)
            let span = window.span
            let stop = from + window.count
            need = 12
            // The types that lie whole in this window; the one it cuts starts the next.
            while p < end {
                guard count < Self.maxTypes else { throw .tooManyTypes(Self.maxTypes) }
                guard end - p >= 12 else { throw .truncated(what: "type \(count + 1)", need: 12, have: UInt64(end - p)) }
                guard stop - p >= 12 else { break }
                let q = p - from
                let info = UInt32(span[q + 4]) | UInt32(span[q + 5]) << 8 | UInt32(span[q + 6]) << 16 | UInt32(span[q + 7]) << 24
                let rawKind = Int(info >> 24 & 0x1F)
                let f = Int(fixed[rawKind])
                guard f >= 0 else { throw .unknownKind(id: count + 1, kind: UInt8(rawKind)) }
                let extra = f + Int(info & 0xFFFF) * Int(perEntry[rawKind])
                guard end - p - 12 >= extra else {
                    throw .truncated(what: "type \(count + 1)", need: UInt64(12 + extra), have: UInt64(end - p))
                }
                guard stop - p - 12 >= extra else {
                    // Cut by the window's end (or longer than a window: 65,535 members): the
                    // next window starts with it, whole.
                    need = 12 + extra
                    break
                }
                offsets.append(UInt32(p))
                count += 1
                if rawKind == 4 || rawKind == 5 {
                    aggregates.append(UInt32(count))
                    aggregateNames.append(UInt32(span[q]) | UInt32(span[q + 1]) << 8 | UInt32(span[q + 2]) << 16 | UInt32(span[q + 3]) << 24)
                }
                p += 12 + extra
            }
            // A window holds the type it was read for (`chunk` reads at least `need`).
            guard p > from || p == end || need > 12 else {
                throw .truncated(what: "type \(count + 1)", need: UInt64(need), have: UInt64(stop - p))
            }
        }
        self.offsets = offsets
        self.aggregates = aggregates
        var buckets = 1
        while buckets < aggregates.count { buckets <<= 1 }
        let mask = UInt32(buckets - 1)
        // The names are hashed in the order they lie in the string section (a counting sort by
        // 4 KiB page), not in type order: forward through 2 MiB, a window at a time from guest
        // memory, instead of jumping about it.
        let pages = Int(strLen) / 4096 + 1
        var pageStarts = [UInt32](repeating: 0, count: pages + 1)
        for n in aggregateNames { pageStarts[min(Int(n >> 12), pages - 1) + 1] += 1 }
        for k in 0..<pages { pageStarts[k + 1] += pageStarts[k] }
        var order = [UInt32](repeating: 0, count: aggregates.count)
        for (i, n) in aggregateNames.enumerated() {
            let k = min(Int(n >> 12), pages - 1)
            order[Int(pageStarts[k])] = UInt32(i)
            pageStarts[k] += 1
        }
        var bucketOf = [UInt32](repeating: 0, count: aggregates.count)
        var starts = [UInt32](repeating: 0, count: buckets + 1)
        let stringsEndInt = Int(stringsEnd)
        var window: (start: Int, bytes: [UInt8]) = (0, [])
        for i in order {
            let nameOffset = aggregateNames[Int(i)]
            var h = Self.nameHash([])
            if Int(nameOffset) < stringsLength {
                let at = stringsStart + Int(nameOffset)
                let want = min(64, stringsEndInt - at)
                if at < window.start || at + want > window.start + window.bytes.count {
                    // From the page's start: the names of one page come in any order.
                    let from = max(stringsStart, at & ~4095)
                    window = try chunk(from, atLeast: at + want - from, upTo: stringsEndInt)
                }
                h = Self.nameHash(window.bytes.span, stringsStart: at - window.start, stringsLength: want, 0)
            }
            let b = h & mask
            bucketOf[Int(i)] = b
            starts[Int(b) + 1] += 1
        }
        for b in 0..<buckets { starts[b + 1] += starts[b] }
        var fill = starts
        var ids = [UInt32](repeating: 0, count: aggregates.count)
        for (i, id) in aggregates.enumerated() {
            let b = Int(bucketOf[i])
            ids[Int(fill[b])] = id
            fill[b] += 1
        }
        bucketStarts = starts
        bucketIDs = ids
    }

    /// Bytes after the 12-byte `struct btf_type` by raw kind: fixed + vlen × per entry
    /// (`Kind.extraBytes`, as tables for the index pass); −1 marks a kind that does not exist.
    static let fixedExtra: [Int8] = (0..<32).map { k in
        Kind(rawValue: UInt8(k)).map { Int8($0.extraBytes(vlen: 0)) } ?? -1
    }
    static let extraPerEntry: [Int8] = (0..<32).map { k in
        Kind(rawValue: UInt8(k)).map { Int8($0.extraBytes(vlen: 1) - $0.extraBytes(vlen: 0)) } ?? 0
    }

    /// FNV-1a of a name's first 64 bytes (to its NUL or the end of the strings; an offset past
    /// them hashes as the empty name): bounded, whatever the string section holds. The one hash
    /// of the name index, for its build and its look-ups.
    static func nameHash(_ bytes: borrowing Span<UInt8>, stringsStart: Int, stringsLength: Int, _ offset: UInt32) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        guard Int(offset) < stringsLength else { return h }
        let start = stringsStart + Int(offset)
        for i in start..<min(stringsStart + stringsLength, start + 64) {
            let c = bytes[i]
            if c == 0 { break }
            h = (h ^ UInt32(c)) &* 16_777_619
        }
        return h
    }

    /// The same hash of a name looked up.
    static func nameHash(_ name: [UInt8]) -> UInt32 {
        nameHash(name.span, stringsStart: 0, stringsLength: name.count, 0)
    }

    /// A little-endian u32 (the index pass reads one per type).
    @inline(__always)
    static func u32(_ b: [UInt8], _ p: Int) -> UInt32 {
        UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24
    }

    /// The entry of a type id (1…count); id 0 is void.
    public func entry(_ id: UInt32) throws(Problem) -> TypeEntry {
        guard id >= 1, Int(id) <= offsets.count else { throw .typeIDOutOfRange(id: id, count: offsets.count) }
        return entry(at: Int(offsets[Int(id) - 1]))
    }

    /// The type at `p`, a start `init` recorded (its kind is known and its extra data fits).
    func entry(at p: Int) -> TypeEntry {
        let b = storage.bytes(p, 12) ?? [UInt8](repeating: 0, count: 12)
        let info = UInt32(b.loadLE(at: 4, count: 4))
        return TypeEntry(kind: Kind(rawValue: UInt8(info >> 24 & 0x1F)) ?? .int, kindFlag: info >> 31 != 0,
                         vlen16: UInt16(info & 0xFFFF), nameOffset: UInt32(b.loadLE(at: 0, count: 4)),
                         sizeOrType: UInt32(b.loadLE(at: 8, count: 4)), extra32: UInt32(p + 12))
    }

    /// A NUL-terminated string of the string section.
    /// A name longer than this is not a kernel's (KSYM_NAME_LEN is 512).
    static let maxNameBytes = 1024

    public func string(_ offset: UInt32, of id: Int = 0) throws(Problem) -> String {
        guard Int(offset) < stringsLength else { throw .nameOffsetOutOfRange(id: id, offset: offset) }
        let start = stringsStart + Int(offset), end = min(stringsStart + stringsLength, start + Self.maxNameBytes)
        if let whole = storage.whole {
            // The section may end without a NUL: its end ends the name.
            guard let stop = whole[start..<end].firstIndex(of: 0) ?? (end == stringsStart + stringsLength ? end : nil) else {
                throw .nameTooLong(offset: offset)
            }
            return String(decoding: whole[start..<stop], as: UTF8.self)
        }
        // 64 bytes (up to the page's end when that is all guest memory gives), then more while
        // there is no NUL; never a part of a name.
        var text: [UInt8] = []
        var at = start
        while at < end {
            let n = min(at == start ? 64 : 1024, end - at)
            guard let b = storage.bytes(at, n) ?? storage.bytes(at, min(n, 4096 - Int((storage.base &+ UInt64(at)) & 4095))) else {
                throw .unreadableName(offset: offset)
            }
            if let nul = b.firstIndex(of: 0) { return String(decoding: text + b[..<nul], as: UTF8.self) }
            text += b
            at += b.count
        }
        guard end == stringsStart + stringsLength else { throw .nameTooLong(offset: offset) }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether type `index` (0-based) is named `name`, without building a String per type.
    func nameEquals(_ index: Int, _ name: [UInt8]) -> Bool {
        let o = Int(storage.u32(Int(offsets[index])))
        guard o < stringsLength, stringsLength - o > name.count, let b = storage.bytes(stringsStart + o, name.count + 1) else { return false }
        return b[name.count] == 0 && b.prefix(name.count).elementsEqual(name)
    }

    /// Ids of the struct (or union) types named `name`.
    /// Ids of the struct (or union) types named `name`. With a `limit`, at most that many, from
    /// at most 4,096 of the bucket's (a guest's BTF can give a million aggregates one hash, and
    /// a look-up by halves of a window-read BTF costs two guest reads each).
    public func structures(named name: String, limit: Int = .max) -> [UInt32] {
        let n = Array(name.utf8)
        let b = Int(Self.nameHash(n) & UInt32(bucketStarts.count - 2))
        var out: [UInt32] = []
        for id in bucketIDs[Int(bucketStarts[b])..<Int(bucketStarts[b + 1])].prefix(limit == .max ? .max : 4096)
        where nameEquals(Int(id) - 1, n) {
            out.append(id)
            if out.count >= limit { break }
        }
        return out
    }

    /// A type's size in bytes, through typedefs, qualifiers and arrays (btf.rst §2.2).
    public func size(of id: UInt32) throws(Problem) -> UInt64 {
        var id = id
        var multiplier: UInt64 = 1
        for _ in 0..<Self.maxChain {
            if id == 0 { return 0 }
            let t = try entry(id)
            switch t.kind {
            case .int, .structure, .union, .enumeration, .enumeration64, .float, .dataSection:
                let (size, over) = multiplier.multipliedReportingOverflow(by: UInt64(t.sizeOrType))
                return over ? .max : size
            case .pointer: return multiplier &* 8
            case .array:
                let n = UInt64(storage.u32(t.extra + 8))
                let (m, over) = multiplier.multipliedReportingOverflow(by: n)
                multiplier = over ? UInt64.max : m
                id = storage.u32(t.extra)
            case .typedef, .volatile, .const, .restrict, .typeTag, .declarationTag, .variable:
                id = t.sizeOrType
            case .forward, .function, .functionPrototype: return 0
            }
        }
        throw .cyclicTypeChain(id: id)
    }

    public struct Member: Sendable {
        public var name: String
        public var type: UInt32
        /// Bit offset from the start of the struct; a bitfield has a width.
        public var bitOffset: UInt64
        public var bitfieldSize: UInt64?
    }

    /// The members of a struct or union; anonymous struct/union members are flattened into
    /// their parent, at their offset, as C lets them be named. At most `maxMembers` in all,
    /// nested anonymous members included (a guest's BTF could nest 65,535 × 65,535 …).
    public func members(of id: UInt32) throws(Problem) -> [Member] {
        var budget = Self.maxMembers
        return try members(of: id, depth: 0, budget: &budget)
    }
    static let maxMembers = 1 << 16

    func members(of id: UInt32, depth: Int, budget: inout Int) throws(Problem) -> [Member] {
        guard depth < 8 else { throw .cyclicTypeChain(id: id) }
        let t = try entry(id)
        guard t.kind == .structure || t.kind == .union else { return [] }
        var out: [Member] = []
        // The member array at once (checked to fit when the index was made).
        guard let all = storage.bytes(t.extra, t.vlen * 12) else {
            throw .truncated(what: "the members of type \(id)", need: UInt64(t.vlen * 12), have: 0)
        }
        for i in 0..<t.vlen {
            budget -= 1
            guard budget >= 0 else { throw .tooManyMembers(id: id) }
            let m = i * 12
            let nameOff = UInt32(all.loadLE(at: m, count: 4))
            let type = UInt32(all.loadLE(at: m + 4, count: 4))
            let raw = all.loadLE(at: m + 8, count: 4)
            // With kind_flag, offset = bitfield_size << 24 | bit_offset (btf.rst §2.2.4).
            let bitOffset = t.kindFlag ? raw & 0xFF_FFFF : raw
            let bits = t.kindFlag && raw >> 24 != 0 ? raw >> 24 : nil
            let name = try string(nameOff, of: Int(id))
            if name.isEmpty, let inner = try? resolve(type), [.structure, .union].contains(try entry(inner).kind) {
                for var sub in try members(of: inner, depth: depth + 1, budget: &budget) {
                    sub.bitOffset &+= bitOffset
                    out.append(sub)
                }
                continue
            }
            out.append(Member(name: name, type: type, bitOffset: bitOffset, bitfieldSize: bits))
        }
        return out
    }

    /// Through typedefs, qualifiers and tags to the type they name.
    public func resolve(_ id: UInt32) throws(Problem) -> UInt32 {
        var id = id
        for _ in 0..<Self.maxChain {
            if id == 0 { return 0 }
            let t = try entry(id)
            switch t.kind {
            case .typedef, .volatile, .const, .restrict, .typeTag: id = t.sizeOrType
            default: return id
            }
        }
        throw .cyclicTypeChain(id: id)
    }

    /// The struct a member's type leads to through pointers, arrays, typedefs and qualifiers.
    public func pointee(_ id: UInt32) throws(Problem) -> UInt32? {
        var id = id
        for _ in 0..<Self.maxChain {
            id = try resolve(id)
            if id == 0 { return nil }
            let t = try entry(id)
            switch t.kind {
            case .structure, .union: return id
            case .pointer: id = t.sizeOrType
            case .array: id = storage.u32(t.extra)
            default: return nil
            }
        }
        throw .cyclicTypeChain(id: id)
    }

    /// A struct's layout in the walk's terms; every member must lie inside the struct.
    public func layout(_ id: UInt32) throws(Problem) -> StructLayout {
        let t = try entry(id)
        let name = try string(t.nameOffset, of: Int(id))
        let size = UInt64(t.sizeOrType)
        var layoutMembers: [StructLayout.Member] = []
        for m in try self.members(of: id) {
            let bytes: UInt64
            if let bits = m.bitfieldSize { bytes = (bits + m.bitOffset % 8 + 7) / 8 } else { bytes = try self.size(of: m.type) }
            let offset = m.bitOffset / 8
            let (end, over) = offset.addingReportingOverflow(bytes)
            // A flexible array member (size 0) may sit at the very end.
            guard !over, end <= size else { throw .memberPastSize(structure: name, member: m.name, end: over ? .max : end, size: size) }
            layoutMembers.append(.init(name: m.name, offset: offset, size: bytes))
        }
        return StructLayout(name: name, size: size, members: layoutMembers, token: UInt64(id))
    }
}

extension BTF {
    /// The BTF whose header is the 24 bytes at `header[i...]`, read whole from `address` and parsed:
    /// magic, version 1, flags 0, hdr_len 24, sections that fit, a type section that parses.
    static func parse(header: [UInt8], _ i: Int, address: UInt64, read: @escaping SendableKernelBytes) -> BTF? {
        guard let total = length(header: header, i),
              let btf = try? BTF(at: address, count: Int(total), read: read), btf.typeCount > 0 else { return nil }
        return btf
    }

    /// The whole BTF's length if `header[i...]` is a header `parse` reads on: magic, version 1,
    /// flags 0, hdr_len 24, a type section inside a total of at most `maxBytes`.
    static func length(header: [UInt8], _ i: Int) -> UInt64? {
        guard i >= 0, header.count - i >= 24, header[i] == 0x9F, header[i + 1] == 0xEB, header[i + 2] == 1, header[i + 3] == 0,
              header.loadLE(at: i + 4, count: 4) == 24 else { return nil }
        let total = 24 + header.loadLE(at: i + 16, count: 4) + header.loadLE(at: i + 20, count: 4)
        let typesEnd = 24 + header.loadLE(at: i + 8, count: 4) + header.loadLE(at: i + 12, count: 4)
        guard total <= maxBytes, typesEnd <= total, total > 24 else { return nil }
        return total
    }

    /// Whether a header `parse` reads on is at `address` (24 bytes read, not the BTF).
    static func headerAt(_ address: UInt64, read: KernelBytes) -> Bool {
        read(address, 24).flatMap { length(header: $0, 0) } != nil
    }

    /// The BTF at `address` exactly (an address the kernel's own code names: `__start_BTF`, or
    /// the ADRP+ADD pair with which `btf_parse_vmlinux` takes it), validated as `locate` does.
    public static func at(_ address: UInt64, read: @escaping SendableKernelBytes) -> BTF? {
        guard let header = read(address, 24) else { return nil }
        return parse(header: header, 0, address: address, read: read)
    }

    /// Finds `.BTF` in kernel memory: the first 4-byte aligned header (magic, version 1, flags 0,
    /// hdr_len 24) in [start, start + length) whose sections fit and whose type section parses.
    /// The linker places `.BTF` in the image's read-only data (include/asm-generic/vmlinux.lds.h,
    /// `BTF` after RO_DATA's sections), so the scan starts at `_etext` when kallsyms gives it.
    /// Reads the range in 64 KiB windows (a copy each, in memory the allocator reuses); returns
    /// the address and the parsed BTF.
    public static func locate(start: UInt64, length: UInt64, read: @escaping SendableKernelBytes) -> (address: UInt64, btf: BTF)? {
        let window: UInt64 = 65536
        var at = start & ~3
        let stop = start &+ length
        while at < stop {
            let n = Int(min(window, stop - at))
            guard let chunk = read(at, n) else {
                at &+= window
                continue
            }
            var i = 0
            while i + 24 <= chunk.count {
                if chunk[i] == 0x9F, chunk[i + 1] == 0xEB, let btf = parse(header: chunk, i, address: at &+ UInt64(i), read: read) {
                    return (at &+ UInt64(i), btf)
                }
                i += 4
            }
            // Windows overlap by a header's length, so that none is cut at a window's end.
            let advance = UInt64(n) == window ? window - 24 : UInt64(n)
            guard case (let next, false) = at.addingReportingOverflow(advance) else { return nil }
            at = next
        }
        return nil
    }
}
