import ITSLayout

/// Bytes of the guest kernel by virtual address, for the readers that decode the kernel's own
/// tables (kallsyms, `.BTF`, instructions). A closure, so that the decoders run on a dump
/// (`KernelImageMemory`) and on bytes a test or a fuzzer builds alike.
public typealias KernelBytes = (_ va: UInt64, _ count: Int) -> [UInt8]?
/// The same, for a reader kept by a value that crosses threads (a BTF read a piece at a time).
public typealias SendableKernelBytes = @Sendable (_ va: UInt64, _ count: Int) -> [UInt8]?

/// Reads kernel-image addresses of a dump: PA = VA − kimage_voffset (input-formats.md §6.3),
/// the image being contiguous in physical memory. One read of the dump each (an ELF core hands
/// over the array it read the file into: the kernel image's megabytes of kallsyms and BTF are
/// copied once, from the file), then dropped from a mapped dump's resident pages
/// (`relinquish`): they are read once and need not stay resident twice.
public struct KernelImageMemory: Sendable {
    public let space: KernelAddressSpace
    public let memory: any GuestMemory
    public init(space: KernelAddressSpace, memory: any GuestMemory) {
        self.space = space
        self.memory = memory
    }

    public func read(_ va: UInt64, _ count: Int) -> [UInt8]? {
        guard count >= 0, count <= 64 << 20 else { return nil }
        let start = space.image(va)
        guard case .bytes(let b) = memory.read(start, count: count), b.count == count else { return nil }
        if count >= 4096 { memory.relinquish(GuestRange(start: start, length: UInt64(count))) }
        return b
    }
}

/// The result of one `Kallsyms.lookupWithEnds` pass and the names it looked for.
public struct KallsymsLookup: Sendable {
    public var names: Set<String>
    public var symbols: [String: [(symbol: Kallsyms.Symbol, end: UInt64?)]]
}

/// The kernel's compressed symbol table, decoded from guest memory at the addresses VMCOREINFO
/// publishes (`SYMBOL(kallsyms_names)` …, kernel/crash_core.c; Debian's 6.1 has them). Layout
/// from scripts/kallsyms.c and kernel/kallsyms.c (6.1 and later):
///
/// - `kallsyms_num_syms`: a 32-bit count (`.long`; a `PTR` before 6.1-era cleanups, whose low
///   half is the same little-endian count);
/// - `kallsyms_names`: per symbol a length, then that many token indexes. Since 6.1 (commit
///   73bbb94466fd, "support big kernel symbols") a length ≥ 0x80 takes two bytes: low 7 bits,
///   then the rest. The first expanded character is the symbol's type (`t`, `T`, `d`, …);
/// - `kallsyms_token_table`: 256 NUL-terminated strings, `kallsyms_token_index`: 256 u16
///   offsets into it;
/// - `kallsyms_offsets`: one 32-bit value per symbol. With `kallsyms_relative_base`
///   (CONFIG_KALLSYMS_BASE_RELATIVE, the only mode since 6.11) the address is base + (u32)
///   offset; arm64 never has CONFIG_KALLSYMS_ABSOLUTE_PERCPU (an x86 option). Kernels that
///   dropped `kallsyms_relative_base` (offsets from `_text`, 6.15+) are anchored on `_stext`,
///   whose runtime address VMCOREINFO gives; `kallsyms_addresses` (kernels without
///   BASE_RELATIVE) holds absolute 64-bit addresses.
///
/// Addresses come out as runtime VAs (KASLR included): the base is relocated at boot like every
/// other kernel pointer. Every count, length and index is bounded by the bytes read.
public struct Kallsyms {
    public enum Problem: Error, CustomStringConvertible, Sendable, Equatable {
        case missing(String)
        case unreadable(String, UInt64)
        case countBeyondBound(UInt64)
        case tokenIndexOutsideTable(token: Int, offset: UInt64)
        case nameTooLong(symbol: Int, length: Int)
        case anchorNotFound(String)

        public var description: String {
            switch self {
            case .missing(let k): "kallsyms: VMCOREINFO lacks \(k)"
            case .unreadable(let what, let va): "kallsyms: \(what) at \(hex(va)) is not in the dump"
            case .countBeyondBound(let n): "kallsyms: kallsyms_num_syms is \(n), beyond itsdump's bound of \(Kallsyms.maxSymbols) symbols"
            case .tokenIndexOutsideTable(let t, let o): "kallsyms: kallsyms_token_index[\(t)] = \(o) points outside kallsyms_token_table"
            case .nameTooLong(let s, let n): "kallsyms: symbol \(s) has a name of \(n) tokens or bytes, beyond KSYM_NAME_LEN (512)"
            case .anchorNotFound(let s): "kallsyms: no kallsyms_relative_base and no \(s) in the table to anchor the offsets"
            }
        }
    }

    /// Far above any kernel (a 6.1 arm64 KALLSYMS_ALL build has about 200,000).
    public static let maxSymbols: UInt64 = 1 << 21
    static let maxNamesakes = 16
    /// KSYM_NAME_LEN is 512 since 6.1; a name is at most that many tokens.
    static let maxNameTokens = 512

    public struct Addresses: Sendable {
        public var names, numSyms, tokenTable, tokenIndex: UInt64
        public var offsets: UInt64?
        public var relativeBase: UInt64?
        public var absoluteAddresses: UInt64?
        /// SYMBOL(_stext): the anchor when there is no relative base.
        public var stext: UInt64?

        public init(names: UInt64, numSyms: UInt64, tokenTable: UInt64, tokenIndex: UInt64, offsets: UInt64?,
                    relativeBase: UInt64?, absoluteAddresses: UInt64?, stext: UInt64?) {
            (self.names, self.numSyms, self.tokenTable, self.tokenIndex) = (names, numSyms, tokenTable, tokenIndex)
            (self.offsets, self.relativeBase, self.absoluteAddresses, self.stext) = (offsets, relativeBase, absoluteAddresses, stext)
        }

        public init(_ v: VMCOREINFO) throws(Problem) {
            func need(_ k: String) throws(Problem) -> UInt64 {
                guard let a = v.number("SYMBOL(\(k))") else { throw .missing("SYMBOL(\(k))") }
                return a
            }
            self.init(names: try need("kallsyms_names"), numSyms: try need("kallsyms_num_syms"),
                      tokenTable: try need("kallsyms_token_table"), tokenIndex: try need("kallsyms_token_index"),
                      offsets: v.number("SYMBOL(kallsyms_offsets)"), relativeBase: v.number("SYMBOL(kallsyms_relative_base)"),
                      absoluteAddresses: v.number("SYMBOL(kallsyms_addresses)"), stext: v.number("SYMBOL(_stext)"))
            guard offsets != nil || absoluteAddresses != nil else { throw .missing("SYMBOL(kallsyms_offsets)") }
        }
    }

    public struct Symbol: Sendable, Equatable {
        public var index: Int
        public var name: String
        /// The nm-style type: `t`/`T` text, `d`/`D` data, …
        public var type: Character
        public var address: UInt64
    }

    public let count: Int
    /// The 256 tokens, flat: token t is tokenBytes[tokenStart[t]..<tokenStart[t] + tokenLength[t]].
    let tokenBytes: [UInt8]
    let tokenStart: [Int]
    let tokenLength: [Int]
    let addresses: Addresses
    let read: KernelBytes
    /// base for kallsyms_offsets (nil with absolute addresses).
    var base: UInt64?
    /// kallsyms_seqs_of_names and kallsyms_markers, when the kernel has them (found once).
    var sorted: SortedNames?

    public init(_ addresses: Addresses, read: @escaping KernelBytes) throws(Problem) {
        self.addresses = addresses
        self.read = read
        guard let n = read(addresses.numSyms, 4) else { throw .unreadable("kallsyms_num_syms", addresses.numSyms) }
        let num = n.loadLE(at: 0, count: 4)
        guard num <= Self.maxSymbols else { throw .countBeyondBound(num) }
        count = Int(num)
        guard let index = read(addresses.tokenIndex, 512) else { throw .unreadable("kallsyms_token_index", addresses.tokenIndex) }
        let starts = (0..<256).map { index.loadLE(at: $0 * 2, count: 2) }
        // scripts/kallsyms.c emits kallsyms_token_index right after kallsyms_token_table: that
        // is where the table ends (6.1: 840 bytes). Otherwise it ends with its last token, at
        // most 64 KiB (u16 offsets) plus a token's bound.
        let follows = addresses.tokenIndex > addresses.tokenTable && addresses.tokenIndex - addresses.tokenTable <= 65536
        let tableBytes = follows ? Int(addresses.tokenIndex - addresses.tokenTable) : min(Int(starts.max() ?? 0), 65535) + 256
        guard let table = read(addresses.tokenTable, tableBytes) else {
            throw .unreadable("kallsyms_token_table", addresses.tokenTable)
        }
        var tokenStart: [Int] = [], tokenLength: [Int] = []
        for (t, s) in starts.enumerated() {
            guard Int(s) < table.count, let end = table[Int(s)...].firstIndex(of: 0) else {
                throw .tokenIndexOutsideTable(token: t, offset: s)
            }
            tokenStart.append(Int(s))
            tokenLength.append(end - Int(s))
        }
        self.tokenBytes = table
        self.tokenStart = tokenStart
        self.tokenLength = tokenLength
        if addresses.offsets != nil {
            if let rb = addresses.relativeBase {
                guard let b = read(rb, 8) else { throw .unreadable("kallsyms_relative_base", rb) }
                base = b.loadLE(at: 0, count: 8)
            } else {
                guard let stext = addresses.stext else { throw .missing("SYMBOL(kallsyms_relative_base) or SYMBOL(_stext)") }
                var found: UInt64?
                try forEach { s throws(Problem) in
                    if s.name == "_stext" { found = s.address; return false }
                    return true
                }
                guard let off = found else { throw .anchorNotFound("_stext") }
                base = stext &- off
            }
        }
        sorted = sortedNames()
    }

    /// Sequential reads of a table in 64 KiB pieces.
    struct Cursor {
        let read: KernelBytes
        let what: String
        var address: UInt64
        var buffer: [UInt8] = []
        var position = 0
        init(read: @escaping KernelBytes, what: String, address: UInt64) {
            self.read = read
            self.what = what
            self.address = address
        }
        @inline(__always)
        mutating func next() throws(Problem) -> UInt8 {
            if position == buffer.count { try refill() }
            let b = buffer[position]
            position += 1
            return b
        }

        /// A symbol's length prefix: one byte, or two for 0x80 and more (6.1's big symbols).
        mutating func nameLength(symbol i: Int) throws(Problem) -> Int {
            var length = Int(try next())
            if length & 0x80 != 0 { length = length & 0x7F | Int(try next()) << 7 }
            guard length <= Kallsyms.maxNameTokens else { throw .nameTooLong(symbol: i, length: length) }
            return length
        }

        /// Skips `n` bytes.
        mutating func skip(_ n: Int) throws(Problem) {
            var left = n
            while left > 0 {
                if position == buffer.count { try refill() }
                let step = min(left, buffer.count - position)
                position += step
                left -= step
            }
        }

        @inline(never)
        mutating func refill() throws(Problem) {
            // 64 KiB, else what is left of the page, else smaller pieces: a table can end
            // where the memory given ends.
            var got: [UInt8]?
            for size in [65536, 4096 - Int(address % 4096), 512, 64, 8, 1] where got == nil { got = read(address, size) }
            guard let b = got, !b.isEmpty else { throw .unreadable(what, address) }
            buffer = b
            position = 0
            address &+= UInt64(b.count)
        }
    }

    /// Appends token `t`; KSYM_NAME_LEN bounds the expanded name too.
    @inline(__always)
    func expand(_ t: Int, into name: inout [UInt8], symbol i: Int) throws(Problem) {
        let s = tokenStart[t], n = tokenLength[t]
        guard name.count + n <= Self.maxNameTokens + 1 else { throw .nameTooLong(symbol: i, length: name.count + n) }
        for k in s..<s + n { name.append(tokenBytes[k]) }
    }

    /// The address of symbol `i` (0 ≤ i < count).
    public func address(at i: Int) throws(Problem) -> UInt64 {
        if let abs = addresses.absoluteAddresses {
            let va = abs &+ UInt64(i) &* 8
            guard let b = read(va, 8) else { throw .unreadable("kallsyms_addresses", va) }
            return b.loadLE(at: 0, count: 8)
        }
        let table = addresses.offsets ?? 0
        let va = table &+ UInt64(i) &* 4
        guard let b = read(va, 4) else { throw .unreadable("kallsyms_offsets", va) }
        return (base ?? 0) &+ b.loadLE(at: 0, count: 4)
    }

    /// Every symbol in table order (sorted by address) until `body` returns false. Addresses are
    /// read in pieces alongside the names.
    public func forEach(_ body: (Symbol) throws(Problem) -> Bool) throws(Problem) {
        try forEachRaw { i, name, address throws(Problem) in
            guard let type = name.first else { return true }
            return try body(Symbol(index: i, name: String(decoding: name.dropFirst(), as: UTF8.self),
                                   type: Character(Unicode.Scalar(type)), address: address))
        }
    }

    /// The same pass with the expanded name as bytes (type character first): no String per
    /// symbol, for the one pass over ~100,000 symbols that looks for a few names.
    public func forEachRaw(_ body: (Int, [UInt8], UInt64) throws(Problem) -> Bool) throws(Problem) {
        var names = Cursor(read: read, what: "kallsyms_names", address: addresses.names)
        let offsetsAt = addresses.absoluteAddresses ?? addresses.offsets ?? 0
        let width = addresses.absoluteAddresses == nil ? 4 : 8
        var offsets = Cursor(read: read, what: addresses.absoluteAddresses == nil ? "kallsyms_offsets" : "kallsyms_addresses", address: offsetsAt)
        var name: [UInt8] = []
        for i in 0..<count {
            let length = try names.nameLength(symbol: i)
            name.removeAll(keepingCapacity: true)
            for _ in 0..<length { try expand(Int(try names.next()), into: &name, symbol: i) }
            var raw: UInt64 = 0
            for b in 0..<width { raw |= UInt64(try offsets.next()) << (8 * UInt64(b)) }
            let address = width == 8 ? raw : (base ?? 0) &+ raw
            guard try body(i, name, address) else { return }
        }
    }

    /// The symbols with these names (statics can share a name), one pass over the table; with
    /// `ends`, each found symbol's end too (where the next higher address starts: a function's
    /// extent, as kallsyms_lookup_size_offset takes it).
    public func lookup(_ wanted: Set<String>) throws(Problem) -> [String: [Symbol]] {
        try lookupWithEnds(wanted).mapValues { $0.map(\.symbol) }
    }

    public func lookupWithEnds(_ wanted: Set<String>) throws(Problem) -> [String: [(symbol: Symbol, end: UInt64?)]] {
        // By halves of kallsyms_seqs_of_names where the kernel has it; a problem there leaves
        // the pass over every name to say what is wrong.
        if let sorted = try? lookupBySortedNames(wanted) { return sorted }
        return try lookupEveryName(wanted)
    }

    /// The look-up by one pass over every name.
    public func lookupEveryName(_ wanted: Set<String>) throws(Problem) -> [String: [(symbol: Symbol, end: UInt64?)]] {
        // Wanted names by first character. A name is expanded token by token only while what
        // it has so far begins a wanted name: most of the ~50,000 stop after a token or two
        // (many share a wanted name's first character: `_`, `i`), and no address is read for them.
        var byFirst = [[[UInt8]]](repeating: [], count: 256)
        for w in wanted where !w.isEmpty { byFirst[Int(w.utf8.first ?? 0)].append(Array(w.utf8)) }
        // A name's first three bytes decide for all but ~1,300 of ~50,000 symbols (6.1 arm64):
        // per token, its first three bytes packed with their count (`lead`: after the type
        // character, for a name's first token; `body`: for the tokens after it), then a table
        // of the wanted names' first three bytes, hashed to 4,096 bits (a false hit is decided
        // by the expansion below).
        func packed(_ bytes: ArraySlice<UInt8>) -> UInt32 {
            var v: UInt32 = 0, n: UInt32 = 0
            for c in bytes.prefix(3) { v |= UInt32(c) << (8 * n); n += 1 }
            return v | n << 24
        }
        let lead = (0..<256).map { packed(tokenBytes[tokenStart[$0]..<tokenStart[$0] + tokenLength[$0]].dropFirst()) }
        let body = (0..<256).map { packed(tokenBytes[tokenStart[$0]..<tokenStart[$0] + tokenLength[$0]]) }
        func slot(_ three: UInt32) -> Int { Int((three &* 0x9E37_79B1) >> 20) }
        var prefixes = [Bool](repeating: false, count: 4096)
        var shortWanted = false
        for w in wanted {
            let v = packed(ArraySlice(w.utf8))
            if v >> 24 < 3 { shortWanted = true } else { prefixes[slot(v & 0xFF_FFFF)] = true }
        }
        let table = try namesTable()
        let bytes = table.span
        var out: [String: [(symbol: Symbol, end: UInt64?)]] = [:]
        var name: [UInt8] = []
        var p = 0
        for i in 0..<count {
            guard bytes.count - p >= 2 || (p < bytes.count && bytes[p] < 0x80) else {
                throw .unreadable("kallsyms_names", addresses.names &+ UInt64(p))
            }
            var length = Int(bytes[p])
            p += 1
            if length & 0x80 != 0 {
                length = length & 0x7F | Int(bytes[p]) << 7
                p += 1
            }
            guard length <= Self.maxNameTokens else { throw .nameTooLong(symbol: i, length: length) }
            guard bytes.count - p >= length else { throw .unreadable("kallsyms_names", addresses.names &+ UInt64(p)) }
            let next = p + length
            defer { p = next }
            guard length > 0 else { continue }
            // A first token of the type character alone, or none (a guest's table), decides
            // nothing by its bytes: `lead` counts from the second.
            let unfiltered = tokenLength[Int(bytes[p])] == 0
            var three = lead[Int(bytes[p])]
            var k = p + 1
            while three >> 24 < 3, k < next {
                let more = body[Int(bytes[k])], have = three >> 24, add = min(more >> 24, 3 - have)
                three = (three & 0xFF_FFFF | (more & ((1 << (8 * add)) - 1)) << (8 * have)) & 0xFF_FFFF | (have + add) << 24
                k += 1
            }
            guard unfiltered || (three >> 24 < 3 ? shortWanted : prefixes[slot(three & 0xFF_FFFF)]) else { continue }
            name.removeAll(keepingCapacity: true)
            var live = true
            for k in p..<next {
                try expand(Int(bytes[k]), into: &name, symbol: i)
                // name[0] is the type character; the name proper follows.
                guard name.count >= 2 else { continue }
                let key = name[1...]
                guard byFirst[Int(name[1])].contains(where: { $0.count >= key.count && $0.starts(with: key) }) else {
                    live = false
                    break
                }
            }
            guard live, name.count >= 2 else { continue }
            let key = name.dropFirst()
            guard byFirst[Int(name[1])].contains(where: { $0.elementsEqual(key) }) else { continue }
            let text = String(decoding: key, as: UTF8.self)
            // Statics share a name (two gic_data); a table where thousands do is not trusted
            // further than that, and each match costs reads.
            guard out[text, default: []].count < Self.maxNamesakes else { continue }
            out[text, default: []].append(try symbolWithEnd(i, name: text, type: Character(Unicode.Scalar(name[0]))))
        }
        return out
    }

    /// `kallsyms_names` whole: one read when the token table follows it within 16 MiB
    /// (scripts/kallsyms.c writes the markers and the token table after the names; what follows
    /// the names stays in the array, unread), else read in pieces as its lengths are walked.
    /// Whoever reads it checks each length against the array's end.
    func namesTable() throws(Problem) -> [UInt8] {
        let gap = addresses.tokenTable &- addresses.names
        if addresses.tokenTable > addresses.names, gap <= 16 << 20, let whole = read(addresses.names, Int(gap)) {
            return whole
        }
        var names = Cursor(read: read, what: "kallsyms_names", address: addresses.names)
        var out: [UInt8] = []
        for i in 0..<count {
            // A kernel's names are a few MiB; a guest's table can claim 2^21 names of 512 tokens.
            guard out.count <= 16 << 20 else { throw .unreadable("kallsyms_names (past 16 MiB)", names.address) }
            let length = try names.nameLength(symbol: i)
            if length >= 0x80 { out.append(UInt8(length & 0x7F | 0x80)); out.append(UInt8(length >> 7)) } else { out.append(UInt8(length)) }
            for _ in 0..<length { out.append(try names.next()) }
        }
        return out
    }

}
