import Foundation

/// Builds ELF64 little-endian cores byte by byte, laid out as QEMU 7.2's dump-guest-memory
/// writes them (input-formats.md §1.1): ELF header with e_ehsize = 8, two section headers
/// right after it, then program headers, notes, memory, and `.shstrtab` at the end.
struct ELFBuilder {
    struct Segment { var paddr: UInt64; var memsz: UInt64; var data: [UInt8] }
    struct Note { var name: String; var type: UInt32; var desc: [UInt8] }

    var segments: [Segment] = []
    var notes: [Note] = []
    /// Write e_phnum = PN_XNUM and the real count in section header 0's sh_info (§1.5).
    var pnXnum = false
    /// Lie about the first PT_LOAD's file size (a truncated dump).
    var extraFileSize: UInt64 = 0

    static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    func noteBytes() -> [UInt8] {
        var out: [UInt8] = []
        for n in notes {
            let name = Array(n.name.utf8) + [0]
            out += Self.le(UInt64(name.count), 4) + Self.le(UInt64(n.desc.count), 4) + Self.le(UInt64(n.type), 4)
            out += name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
            out += n.desc + [UInt8](repeating: 0, count: (4 - n.desc.count % 4) % 4)
        }
        return out
    }

    func build() -> [UInt8] {
        let phnum = segments.count + 1
        let shoff: UInt64 = 64, phoff: UInt64 = 64 + 2 * 64
        let nb = noteBytes()
        let noteOffset = phoff + UInt64(phnum) * 56
        var dataOffset = noteOffset + UInt64(nb.count)
        let dataTotal = segments.reduce(0) { $0 + UInt64($1.data.count) }
        let shstrOffset = dataOffset + dataTotal
        var out: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        out += Self.le(4, 2) + Self.le(183, 2) + Self.le(1, 4) + Self.le(0, 8) + Self.le(phoff, 8) + Self.le(shoff, 8)
        out += Self.le(0, 4) + Self.le(8, 2) /* e_ehsize: QEMU 7.2 writes 8 */ + Self.le(56, 2)
        out += Self.le(pnXnum ? 0xFFFF : UInt64(phnum), 2) + Self.le(64, 2) + Self.le(2, 2) + Self.le(1, 2)
        // Section header 0 (NULL; sh_info = real phnum with PN_XNUM) and 1 (.shstrtab).
        out += Self.le(0, 4) + Self.le(0, 4) + Self.le(0, 8) + Self.le(0, 8) + Self.le(0, 8) + Self.le(0, 8)
            + Self.le(0, 4) + Self.le(pnXnum ? UInt64(phnum) : 0, 4) + Self.le(0, 8) + Self.le(0, 8)
        out += Self.le(1, 4) + Self.le(3, 4) + Self.le(0, 8) + Self.le(0, 8) + Self.le(shstrOffset, 8) + Self.le(11, 8)
            + Self.le(0, 4) + Self.le(0, 4) + Self.le(1, 8) + Self.le(0, 8)
        out += Self.le(4, 4) + Self.le(0, 4) + Self.le(noteOffset, 8) + Self.le(0, 8) + Self.le(0, 8)
            + Self.le(UInt64(nb.count), 8) + Self.le(UInt64(nb.count), 8) + Self.le(0, 8)
        for (i, s) in segments.enumerated() {
            let filesz = UInt64(s.data.count) + (i == 0 ? extraFileSize : 0)
            out += Self.le(1, 4) + Self.le(0, 4) + Self.le(dataOffset, 8) + Self.le(s.paddr, 8) + Self.le(s.paddr, 8)
                + Self.le(filesz, 8) + Self.le(s.memsz, 8) + Self.le(0, 8)
            dataOffset += UInt64(s.data.count)
        }
        out += nb
        for s in segments { out += s.data }
        out += Array("\0.shstrtab\0".utf8)
        return out
    }

    func write(to url: URL) throws { try Data(build()).write(to: url) }
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("itsdump-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
