import CLibElf
import Glibc

/// `.symtab`'s data symbols by name, hashed in one pass per run (issue 22): the walks ask for a
/// dozen names, and each used to cost a pass over the 190,000 symbols of a full vmlinux. Only
/// STT_OBJECT symbols and global STT_NOTYPE ones (the linker script's `_text`, `_end`) are
/// indexed: 52,000 of them, in a table of symbol indices (open addressing, at most half full).
/// A static's source file is the STT_FILE entry its local block follows (ELF gABI: locals come
/// first, each file's after its STT_FILE symbol), found by stepping back from it when asked.
///
/// Names are compared in place in `.strtab` (no String per symbol); an offset past the string
/// table or a name without its NUL is not indexed.
struct SymbolIndex {
    let symbols: UnsafeMutablePointer<Elf_Data>
    /// The table itself when it is ELFCLASS64 in the host's byte order as libelf hands it out
    /// (no gelf_getsym call per symbol); nil otherwise.
    let raw64: UnsafeBufferPointer<Elf64_Sym>?
    let strings: UnsafeRawBufferPointer
    let count: Int
    /// Per slot: an entry + 1 in the low 32 bits (0: empty), the name's hash in the high 32
    /// bits, so that a probe reads `.symtab` and `.strtab` only for a likely match. One slot per
    /// hash: the symbols that share it (a kernel has a thousand `__func__.0`, one per file) are
    /// chained through `next`, so that they do not make one long run of slots to probe past.
    /// The slot count is a power of two.
    private var slots: [UInt64]
    /// Per entry: its symbol index, and the entry + 1 next in its chain (0: the end).
    private var entries: [UInt32]
    private var next: [UInt32]

    /// Reads `.symtab` once; `passed(bytes)` is told how far into it the pass has come (the
    /// caller gives those pages back as it goes).
    init?(_ e: OpaquePointer, _ scn: OpaquePointer, _ sh: GElf_Shdr, passed: (Int) -> Void = { _ in }) {
        guard sh.sh_entsize > 0, let data = elf_getdata(scn, nil),
              let strScn = elf_getscn(e, Int(sh.sh_link)), let str = elf_getdata(strScn, nil),
              let base = str.pointee.d_buf else { return nil }
        symbols = data
        strings = UnsafeRawBufferPointer(start: base, count: str.pointee.d_size)
        let total = Int(min(sh.sh_size / sh.sh_entsize, UInt64(UInt32.max - 1)))
        if gelf_getclass(e) == ELFCLASS64, let d = data.pointee.d_buf,
           Int(bitPattern: d) % MemoryLayout<Elf64_Sym>.alignment == 0 {
            let n = min(total, data.pointee.d_size / MemoryLayout<Elf64_Sym>.stride)
            raw64 = UnsafeBufferPointer(start: d.assumingMemoryBound(to: Elf64_Sym.self), count: n)
            count = n
        } else {
            raw64 = nil
            count = total
        }
        var indexed: [(index: UInt32, hash: UInt32)] = []
        for i in 0..<count {
            if i & 8191 == 8191 {
                let (bytes, over) = i.multipliedReportingOverflow(by: Int(clamping: sh.sh_entsize))
                if !over { passed(bytes) }
            }
            guard let sym = Self.symbol(i, raw64, data) else { continue }
            let type = Int32(sym.st_info & 0xF), bind = Int32(sym.st_info >> 4)
            if type == STT_OBJECT || (type == STT_NOTYPE && bind != STB_LOCAL && sym.st_name != 0),
               let h = Self.hash(Int(sym.st_name), strings) {
                indexed.append((UInt32(i), UInt32(truncatingIfNeeded: h)))
            }
        }
        var capacity = 16
        while capacity < indexed.count * 2 { capacity <<= 1 }
        var table = [UInt64](repeating: 0, count: capacity)
        var chain = [UInt32](repeating: 0, count: indexed.count)
        table.withUnsafeMutableBufferPointer { t in
            chain.withUnsafeMutableBufferPointer { n in
                for (e, (_, h)) in indexed.enumerated() {
                    var slot = Int(h) & (capacity - 1)
                    while t[slot] != 0, UInt32(t[slot] >> 32) != h { slot = (slot + 1) & (capacity - 1) }
                    n[e] = UInt32(truncatingIfNeeded: t[slot])
                    t[slot] = UInt64(h) << 32 | UInt64(e + 1)
                }
            }
        }
        slots = table
        entries = indexed.map(\.index)
        next = chain
    }

    static func symbol(_ index: Int, _ raw64: UnsafeBufferPointer<Elf64_Sym>?, _ data: UnsafeMutablePointer<Elf_Data>) -> GElf_Sym? {
        if let raw64 { return index >= 0 && index < raw64.count ? raw64[index] : nil }
        var sym = GElf_Sym()
        return gelf_getsym(data, Int32(truncatingIfNeeded: index), &sym) != nil ? sym : nil
    }

    /// FNV-1a of the NUL-terminated name at `offset` in `.strtab`, or nil when it has no end there.
    static func hash(_ offset: Int, _ strings: UnsafeRawBufferPointer) -> UInt64? {
        guard offset >= 0, offset < strings.count else { return nil }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var i = offset
        while i < strings.count {
            let b = strings[i]
            if b == 0 { return h }
            h = (h ^ UInt64(b)) &* 0x100_0000_01B3
            i += 1
        }
        return nil
    }

    static func hash(_ name: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    func name(_ offset: Int, equals wanted: [UInt8]) -> Bool {
        guard offset >= 0, offset <= strings.count, strings.count - offset > wanted.count else { return false }
        for (k, b) in wanted.enumerated() where strings[offset + k] != b { return false }
        return strings[offset + wanted.count] == 0
    }

    func symbol(_ index: Int) -> GElf_Sym? { Self.symbol(index, raw64, symbols) }

    /// The indexed symbols called `name`, in `.symtab` order.
    func indices(of name: String) -> [Int] {
        let wanted = Array(name.utf8)
        guard !slots.isEmpty else { return [] }
        let h = UInt32(truncatingIfNeeded: Self.hash(wanted))
        var found: [Int] = []
        var slot = Int(h) & (slots.count - 1)
        while slots[slot] != 0 {
            guard UInt32(slots[slot] >> 32) == h else {
                slot = (slot + 1) & (slots.count - 1)
                continue
            }
            var e = Int(slots[slot] & 0xFFFF_FFFF)
            while e > 0, e <= entries.count {
                let i = Int(entries[e - 1])
                if let sym = symbol(i), self.name(Int(sym.st_name), equals: wanted) { found.append(i) }
                e = Int(next[e - 1])
            }
            break
        }
        return found.sorted()
    }

    /// The STT_FILE symbol whose block holds local symbol `index`.
    func fileSymbol(before index: Int) -> Int? {
        var i = index - 1
        while i > 0 {
            if let s = symbol(i), Int32(s.st_info & 0xF) == STT_FILE { return i }
            i -= 1
        }
        return nil
    }

    func string(_ offset: Int) -> String? {
        guard Self.hash(offset, strings) != nil else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: strings[offset...])
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Addresses of the first `limit` defined functions of the file block that starts at STT_FILE
    /// symbol `file` (its code is what `.debug_aranges` covers).
    func functions(inFileBlock file: Int, limit: Int) -> [UInt64] {
        var out: [UInt64] = []
        var i = file + 1
        while i < count, out.count < limit {
            guard let s = symbol(i) else { break }
            let type = Int32(s.st_info & 0xF)
            if type == STT_FILE || Int32(s.st_info >> 4) != STB_LOCAL { break }
            if type == STT_FUNC, s.st_shndx != UInt16(SHN_UNDEF), s.st_value != 0 { out.append(s.st_value) }
            i += 1
        }
        return out
    }
}
