import ITSLayout

/// Writes a small ELF core (ELF64, little-endian, EM_AARCH64, ET_CORE) holding the given notes
/// and guest-memory ranges: `itsdump extract`'s output, readable by itsdump and by any ELF tool.
public enum ELFCoreWriter {
    public struct Range: Sendable {
        public var address: GuestPhysicalAddress
        public var bytes: [UInt8]
        public init(address: GuestPhysicalAddress, bytes: [UInt8]) {
            self.address = address
            self.bytes = bytes
        }
    }

    public static func image(notes: [ELFCore.Note], ranges: [Range], machine: UInt16 = 183) -> [UInt8] {
        var noteBytes: [UInt8] = []
        for n in notes {
            let name = Array(n.name.utf8) + [0]
            noteBytes += le(UInt64(name.count), 4) + le(UInt64(n.descriptor.count), 4) + le(UInt64(n.type), 4)
            noteBytes += name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
            noteBytes += n.descriptor + [UInt8](repeating: 0, count: (4 - n.descriptor.count % 4) % 4)
        }
        let phnum = ranges.count + 1
        let phoff: UInt64 = 64
        // 65,535 or more program headers: e_phnum = PN_XNUM (0xffff) and the real count in
        // section header 0's sh_info (gABI "Extended numbering"; QEMU's dump.c writes the same,
        // input-formats.md §1.5). That one section header follows the program headers.
        let extended = phnum >= 0xFFFF
        let shoff: UInt64 = extended ? phoff + UInt64(phnum) * 56 : 0
        var offset = phoff + UInt64(phnum) * 56 + (extended ? 64 : 0)
        var out: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        out += le(4, 2) + le(UInt64(machine), 2) + le(1, 4)  // ET_CORE, machine, EV_CURRENT
        out += le(0, 8) + le(phoff, 8) + le(shoff, 8)  // e_entry, e_phoff, e_shoff
        out += le(0, 4) + le(64, 2) + le(56, 2) + le(extended ? 0xFFFF : UInt64(phnum), 2)
            + le(64, 2) + le(extended ? 1 : 0, 2) + le(0, 2)
        // PT_NOTE
        out += le(4, 4) + le(0, 4) + le(offset, 8) + le(0, 8) + le(0, 8)
            + le(UInt64(noteBytes.count), 8) + le(UInt64(noteBytes.count), 8) + le(0, 8)
        offset += UInt64(noteBytes.count)
        for r in ranges {
            let n = UInt64(r.bytes.count)
            out += le(1, 4) + le(0, 4) + le(offset, 8) + le(r.address.rawValue, 8) + le(r.address.rawValue, 8)
                + le(n, 8) + le(n, 8) + le(0, 8)
            offset += n
        }
        if extended {  // section header 0: SHT_NULL, sh_info = the program header count
            out += [UInt8](repeating: 0, count: 44) + le(UInt64(phnum), 4) + [UInt8](repeating: 0, count: 16)
        }
        out += noteBytes
        for r in ranges { out += r.bytes }
        return out
    }

    public static func write(path: String, notes: [ELFCore.Note], ranges: [Range]) throws(DumpError) {
        try FileOutput.create(path: path, bytes: image(notes: notes, ranges: ranges))
    }

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] {
        (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
    }
}
