import ITSLayout

/// `kallsyms_seqs_of_names` (scripts/kallsyms.c from 6.2, and Debian's 6.1): every symbol's
/// index in the order of its name (the type character left out, byte order), 3 bytes each,
/// big-endian, which kernel/kallsyms.c's `kallsyms_lookup_names` searches by halves. With
/// `kallsyms_markers` (where every 256th symbol's name starts in `kallsyms_names`) one name is
/// expanded from its block of 256: a look-up of thirty names reads a few dozen blocks of a few
/// KiB, not the whole names table (6.1 arm64: 0.8 MiB, 50,000 names).
///
/// Neither table is in VMCOREINFO. They are placed by scripts/kallsyms.c's layouts, every
/// table 8-aligned: up to 6.3, names, markers (u32), seqs, token table; from 6.4, names,
/// markers, token table, token index, offsets, relative base, seqs. A layout is taken when its
/// markers start at 0, rise, and the names of the last block end where the markers begin, and
/// 32 names sampled across its seqs are in order; a seq at or past the symbol count is a
/// problem. Else, or on any problem, the look-up reads every name (`lookupEveryName`), which
/// names what is wrong.
extension Kallsyms {
    struct SortedNames {
        /// Offsets in kallsyms_names of symbols 0, 256, 512, …
        let markers: [UInt64]
        /// Where kallsyms_names ends: the markers' start.
        let namesEnd: UInt64
        /// kallsyms_seqs_of_names, read an entry at a time (a look-up reads ~16 per name).
        let seqs: UInt64
    }

    /// A block of 256 names is at most this large: a kernel's are a few KiB (6.1 arm64: 4 KiB);
    /// 256 names of the longest are 131 KiB, which no kernel has and the cache would hold
    /// dozens of.
    static let maxBlockBytes = 64 << 10

    func sortedNames() -> SortedNames? {
        guard count >= 256, addresses.absoluteAddresses == nil else { return nil }
        let n = UInt64(count), m = (n + 255) / 256
        var layouts: [(markers: UInt64, seqs: UInt64)] = []
        let table = addresses.tokenTable
        if table > 3 * n + 4 * m + 16 {
            let seqs = (table - 3 * n) & ~7
            layouts.append(((seqs - 4 * m) & ~7, seqs))
        }
        if let rb = addresses.relativeBase, table > 4 * m + 8 {
            layouts.append(((table - 4 * m) & ~7, (rb &+ 8 &+ 7) & ~7))
        }
        for l in layouts {
            guard l.markers > addresses.names, let raw = read(l.markers, Int(4 * m)), raw.count == Int(4 * m) else { continue }
            let markers = (0..<Int(m)).map { raw.loadLE(at: 4 * $0, count: 4) }
            let namesEnd = l.markers
            guard markers[0] == 0, zip(markers, markers.dropFirst()).allSatisfy({ $0 < $1 && $1 - $0 <= UInt64(Self.maxBlockBytes) }),
                  let last = markers.last, addresses.names &+ last < namesEnd, namesEnd - (addresses.names &+ last) <= UInt64(Self.maxBlockBytes) + 8,
                  let block = read(addresses.names &+ last, Int(namesEnd - (addresses.names &+ last))),
                  let end = Self.skipNames(block, Int(n - 256 * (m - 1))), block.count - end < 8 else { continue }
            let sorted = SortedNames(markers: markers, namesEnd: namesEnd, seqs: l.seqs)
            var blocks: [Int: [UInt8]] = [:]
            var previous: [UInt8] = []
            var ordered = true
            for k in 0..<32 {
                guard let i = try? seq((count - 1) * k / 31, in: sorted), let name = try? self.name(i, in: sorted, blocks: &blocks),
                      !name.dropFirst().lexicographicallyPrecedes(previous) else { ordered = false; break }
                previous = Array(name.dropFirst())
            }
            if ordered { return sorted }
        }
        return nil
    }

    /// Entry `k` of kallsyms_seqs_of_names: a symbol index, below the count.
    func seq(_ k: Int, in s: SortedNames) throws(Problem) -> Int {
        let at = s.seqs &+ 3 * UInt64(k)
        guard let b = read(at, 3), b.count == 3 else { throw .unreadable("kallsyms_seqs_of_names", at) }
        let i = Int(b[0]) << 16 | Int(b[1]) << 8 | Int(b[2])
        guard i < count else { throw .unreadable("kallsyms_seqs_of_names", at) }
        return i
    }

    /// Where `names` names from the start of `bytes` end, or nil when they run past it.
    static func skipNames(_ bytes: [UInt8], _ names: Int) -> Int? {
        walkNames(bytes, names).flatMap { $0.walked == names ? $0.end : nil }
    }

    /// At most `names` length-prefixed names from the start of `bytes` (a length ≥ 0x80 takes
    /// two bytes: Cursor.nameLength): how many lie whole in it, and where they end; nil at a
    /// length beyond KSYM_NAME_LEN.
    static func walkNames(_ bytes: [UInt8], _ names: Int) -> (end: Int, walked: Int)? {
        let b = bytes.span
        var p = 0, walked = 0
        while walked < names, p < b.count {
            var length = Int(b[p]), prefix = 1
            if length & 0x80 != 0 {
                guard p + 1 < b.count else { break }
                length = length & 0x7F | Int(b[p + 1]) << 7
                prefix = 2
            }
            guard length <= maxNameTokens else { return nil }
            guard b.count - p - prefix >= length else { break }
            p += prefix + length
            walked += 1
        }
        return (p, walked)
    }

    /// Symbol `index`'s expanded name, the type character first, from its block (read once).
    func name(_ index: Int, in s: SortedNames, blocks: inout [Int: [UInt8]]) throws(Problem) -> [UInt8] {
        let b = index >> 8
        // At most 256 blocks kept (a look-up of thirty names reads ~150).
        if blocks.count >= 256, blocks[b] == nil { blocks.removeAll(keepingCapacity: true) }
        if blocks[b] == nil {
            let start = addresses.names &+ s.markers[b]
            let end = b + 1 < s.markers.count ? addresses.names &+ s.markers[b + 1] : s.namesEnd
            guard let block = read(start, Int(end - start)) else { throw .unreadable("kallsyms_names", start) }
            blocks[b] = block
        }
        let block = blocks[b] ?? []
        guard let at = Self.skipNames(block, index & 255), at < block.count else { throw .unreadable("kallsyms_names", addresses.names &+ s.markers[b]) }
        var length = Int(block[at]), p = at + 1
        if length & 0x80 != 0, p < block.count {
            length = length & 0x7F | Int(block[p]) << 7
            p += 1
        }
        guard length <= Self.maxNameTokens, block.count - p >= length else { throw .nameTooLong(symbol: index, length: length) }
        var name: [UInt8] = []
        for k in p..<(p + length) { try expand(Int(block[k]), into: &name, symbol: index) }
        return name
    }

    /// The look-up by halves of `kallsyms_seqs_of_names`: each wanted name's symbols (statics
    /// share names; at most `maxNamesakes`), in table order. Nil without the tables.
    func lookupBySortedNames(_ wanted: Set<String>) throws(Problem) -> [String: [(symbol: Symbol, end: UInt64?)]]? {
        guard let s = sorted else { return nil }
        var blocks: [Int: [UInt8]] = [:]
        var out: [String: [(symbol: Symbol, end: UInt64?)]] = [:]
        for w in wanted.sorted() {
            let key = Array(w.utf8)
            func nameAt(_ k: Int) throws(Problem) -> [UInt8] { try name(try seq(k, in: s), in: s, blocks: &blocks) }
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                if try nameAt(mid).dropFirst().lexicographicallyPrecedes(key) { lo = mid + 1 } else { hi = mid }
            }
            var found: [(Int, Character)] = []
            while lo < count, found.count < Self.maxNamesakes {
                let name = try nameAt(lo)
                guard name.count >= 2, name.dropFirst().elementsEqual(key) else { break }
                found.append((try seq(lo, in: s), Character(Unicode.Scalar(name[0]))))
                lo += 1
            }
            for (i, type) in found.sorted(by: { $0.0 < $1.0 }) {
                out[w, default: []].append(try symbolWithEnd(i, name: w, type: type))
            }
        }
        return out
    }

    /// Symbol `i` with its end: where the next higher address starts (kallsyms_lookup_size_offset);
    /// aliases share an address, so look a bounded way ahead.
    func symbolWithEnd(_ i: Int, name: String, type: Character) throws(Problem) -> (symbol: Symbol, end: UInt64?) {
        let address = try self.address(at: i)
        var end: UInt64?
        var j = i + 1
        while end == nil, j < count, j <= i + 64 {
            let a = try self.address(at: j)
            if a > address { end = a }
            j += 1
        }
        return (Symbol(index: i, name: name, type: type, address: address), end)
    }
}
