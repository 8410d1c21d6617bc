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
    let strings: UnsafeRawBufferPointer
    let count: Int
    /// Symbol index + 1 per slot, 0 for empty; the slot count is a power of two.
    private var slots: [UInt32]

    init?(_ e: OpaquePointer, _ scn: OpaquePointer, _ sh: GElf_Shdr) {
        guard sh.sh_entsize > 0, let data = elf_getdata(scn, nil),
              let strScn = elf_getscn(e, Int(sh.sh_link)), let str = elf_getdata(strScn, nil),
              let base = str.pointee.d_buf else { return nil }
        symbols = data
        strings = UnsafeRawBufferPointer(start: base, count: str.pointee.d_size)
        count = Int(min(sh.sh_size / sh.sh_entsize, UInt64(UInt32.max - 1)))
        var indexed: [UInt32] = []
        for i in 0..<count {
            var sym = GElf_Sym()
            guard gelf_getsym(data, Int32(truncatingIfNeeded: i), &sym) != nil else { continue }
            let type = Int32(sym.st_info & 0xF), bind = Int32(sym.st_info >> 4)
            if type == STT_OBJECT || (type == STT_NOTYPE && bind != STB_LOCAL && sym.st_name != 0) {
                indexed.append(UInt32(i))
            }
        }
        var capacity = 16
        while capacity < indexed.count * 2 { capacity <<= 1 }
        slots = [UInt32](repeating: 0, count: capacity)
        for i in indexed {
            var sym = GElf_Sym()
            guard gelf_getsym(data, Int32(i), &sym) != nil, let h = hash(Int(sym.st_name)) else { continue }
            var slot = h & (capacity - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = i + 1
        }
    }

    /// FNV-1a of the NUL-terminated name at `offset` in `.strtab`, or nil when it has no end there.
    func hash(_ offset: Int) -> Int? {
        guard offset >= 0, offset < strings.count else { return nil }
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        var i = offset
        while i < strings.count {
            let b = strings[i]
            if b == 0 { return Int(truncatingIfNeeded: h) & Int.max }
            h = (h ^ UInt64(b)) &* 0x100_0000_01B3
            i += 1
        }
        return nil
    }

    func hash(_ name: [UInt8]) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in name { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return Int(truncatingIfNeeded: h) & Int.max
    }

    func name(_ offset: Int, equals wanted: [UInt8]) -> Bool {
        guard offset >= 0, offset <= strings.count, strings.count - offset > wanted.count else { return false }
        for (k, b) in wanted.enumerated() where strings[offset + k] != b { return false }
        return strings[offset + wanted.count] == 0
    }

    func symbol(_ index: Int) -> GElf_Sym? {
        guard index >= 0, index < count else { return nil }
        var sym = GElf_Sym()
        return gelf_getsym(symbols, Int32(index), &sym) != nil ? sym : nil
    }

    /// The indexed symbols called `name`, in `.symtab` order.
    func indices(of name: String) -> [Int] {
        let wanted = Array(name.utf8)
        guard !slots.isEmpty else { return [] }
        var found: [Int] = []
        var slot = hash(wanted) & (slots.count - 1)
        while slots[slot] != 0 {
            let i = Int(slots[slot]) - 1
            if let sym = symbol(i), self.name(Int(sym.st_name), equals: wanted) { found.append(i) }
            slot = (slot + 1) & (slots.count - 1)
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
        guard hash(offset) != nil else { return nil }
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
