/// `.debug_aranges` (DWARF 4 and 5 §6.1.2): for each compilation unit, the address ranges of its
/// code. Read here directly (issue 22): `dwarf_addrdie` builds libdw's table of every range of
/// every unit first (168 MiB for the full 6.1 vmlinux); one pass over the section's bytes finds
/// the one unit. The kernel's sets cover code, not data: a static's unit is found through a
/// function of the same file (DWARFKernelTypes.unit(of:)).
///
/// The bytes are the vmlinux's: every length is checked against the section, a set that is cut
/// or of an unknown version ends the search or is skipped, and each step moves forward.
enum AddressRanges {
    /// The `.debug_info` offset of the unit header whose ranges hold `address`, or nil (not
    /// covered, or the section is damaged before a set that holds it).
    static func unit(containing address: UInt64, in section: UnsafeRawBufferPointer, bigEndian: Bool) -> UInt64? {
        let n = section.count
        func load(_ at: Int, _ size: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<size {
                let byte = UInt64(section[at + (bigEndian ? i : size - 1 - i)])
                v = v << 8 | byte
            }
            return v
        }
        var p = 0
        while n - p >= 4 {
            // unit_length: 32-bit DWARF, or 0xffffffff and a 64-bit length (§7.4).
            var length = load(p, 4)
            var header = 4, offsetSize = 4
            if length == 0xFFFF_FFFF {
                guard n - p >= 12 else { return nil }
                length = load(p + 4, 8)
                header = 12
                offsetSize = 8
            } else if length >= 0xFFFF_FFF0 {
                return nil
            }
            guard length <= UInt64(n - p - header) else { return nil }
            let setStart = p, end = p + header + Int(length)
            defer { p = end }
            var q = p + header
            // version (2), debug_info_offset, address_size, segment_selector_size.
            guard end - q >= 2 + offsetSize + 2, load(q, 2) == 2 else { continue }
            q += 2
            let unit = load(q, offsetSize)
            q += offsetSize
            let addressSize = Int(section[q]), segmentSize = Int(section[q + 1])
            q += 2
            guard addressSize == 4 || addressSize == 8, segmentSize <= 8 else { continue }
            // The first tuple starts at a multiple of the tuple's size from the set's start.
            let tuple = segmentSize + 2 * addressSize
            q = setStart + (q - setStart + tuple - 1) / tuple * tuple
            while q <= end - tuple {
                let start = load(q + segmentSize, addressSize)
                let size = load(q + segmentSize + addressSize, addressSize)
                if start == 0, size == 0, segmentSize == 0 || load(q, segmentSize) == 0 { break }
                if address >= start, address - start < size { return unit }
                q += tuple
            }
        }
        return nil
    }
}
