import CLibDW
import CLibElf
import Glibc

/// One compilation unit of the vmlinux read through a libdw handle of its own, whose
/// `.debug_info` is that unit alone (issue 22). libdw hands out a unit of the whole section only
/// after interning every unit header before it (`__libdw_findcu`): for irq-gic-v3-its.c in the
/// full 6.1 vmlinux, 1,126 headers and as many page faults; this handle has none before it.
///
/// The handle is a second libelf view of the same file (its own read-only mapping) whose
/// `.debug_info` data descriptor is narrowed to [start, end) before libdw reads it. DIE offsets
/// in it are relative to `start`. It is used only for a unit whose DIEs refer to nothing
/// outside it: its abbreviations use no DW_FORM_ref_addr, ref_sig8, GNU_ref_alt or indirect form
/// (an offset into the whole section would mean something else here); otherwise the caller
/// reads the unit through the main handle.
final class UnitReader: @unchecked Sendable {
    let elf: OpaquePointer
    let dwarf: OpaquePointer
    /// The unit header's offset in the whole `.debug_info`, and the offset past its end.
    let start: Dwarf_Off
    let end: Dwarf_Off

    /// Forms whose value is an offset outside the unit, or may be (DWARF 5 §7.5.5).
    static let outsideForms: Set<UInt32> = [UInt32(DW_FORM_ref_addr), UInt32(DW_FORM_ref_sig8), UInt32(DW_FORM_indirect), 0x1F20]

    init?(fd: Int32, start: Dwarf_Off, end: Dwarf_Off) {
        guard end > start, let e = elf_begin(fd, ELF_C_READ_MMAP, nil) else { return nil }
        var shstrndx = 0
        var info: [UnsafeMutablePointer<Elf_Data>] = []
        if elf_getshdrstrndx(e, &shstrndx) == 0 {
            var scn: OpaquePointer? = elf_nextscn(e, nil)
            while let s = scn, info.isEmpty {
                var sh = GElf_Shdr()
                if gelf_getshdr(s, &sh) != nil, sh.sh_type != UInt32(SHT_NOBITS), sh.sh_flags & UInt64(SHF_COMPRESSED) == 0,
                   let n = elf_strptr(e, shstrndx, Int(sh.sh_name)), String(cString: n) == ".debug_info" {
                    // libdw reads the raw descriptor (dwarf_begin_elf's check_section); libelf
                    // keeps the converted one apart, so both are narrowed.
                    info = [elf_rawdata(s, nil), elf_getdata(s, nil)].compactMap { $0 }
                }
                scn = elf_nextscn(e, s)
            }
        }
        guard info.count == 2, info.allSatisfy({ $0.pointee.d_buf != nil && end <= UInt64($0.pointee.d_size) }) else {
            elf_end(e)
            return nil
        }
        for data in info where data.pointee.d_buf != nil {
            data.pointee.d_buf = data.pointee.d_buf + Int(start)
            data.pointee.d_size = Int(end - start)
        }
        guard let d = dwarf_begin_elf(e, DWARF_C_READ, nil) else {
            elf_end(e)
            return nil
        }
        elf = e
        dwarf = d
        self.start = start
        self.end = end
        var cu = Dwarf_Die()
        var next: Dwarf_Off = 0
        var headerSize = 0
        guard dwarf_nextcu(d, 0, &next, &headerSize, nil, nil, nil) == 0, next == end - start,
              dwarf_offdie(d, Dwarf_Off(headerSize), &cu) != nil, Self.refersOnlyInside(&cu) else { return nil }
    }

    deinit {
        dwarf_end(dwarf)
        elf_end(elf)
    }

    /// The unit's root DIE.
    var root: Dwarf_Die? {
        var next: Dwarf_Off = 0
        var headerSize = 0
        var cu = Dwarf_Die()
        guard dwarf_nextcu(dwarf, 0, &next, &headerSize, nil, nil, nil) == 0, dwarf_offdie(dwarf, Dwarf_Off(headerSize), &cu) != nil else { return nil }
        return cu
    }

    /// Whether no abbreviation of the unit has a form that reaches outside it.
    static func refersOnlyInside(_ cu: UnsafeMutablePointer<Dwarf_Die>) -> Bool {
        var offset: Dwarf_Off = 0
        for _ in 0..<(1 << 20) {
            var length = 0
            guard let abbrev = dwarf_getabbrev(cu, offset, &length) else { return false }
            if abbrev == OpaquePointer(bitPattern: -1) { return true }  // DWARF_END_ABBREV
            guard length > 0 else { return false }
            var count = 0
            guard dwarf_getattrcnt(abbrev, &count) == 0 else { return false }
            for i in 0..<count {
                var name: UInt32 = 0, form: UInt32 = 0
                var at: Dwarf_Off = 0
                var value: Dwarf_Sword = 0
                // The _data variant: without a place for it, a DW_FORM_implicit_const is an error.
                // An index past the last attribute is -1 (elfutils 0.188 counts one more than
                // there are).
                guard dwarf_getabbrevattr_data(abbrev, i, &name, &form, &value, &at) == 0 else { break }
                guard !outsideForms.contains(form) else { return false }
            }
            offset += Dwarf_Off(length)
        }
        return false
    }
}
