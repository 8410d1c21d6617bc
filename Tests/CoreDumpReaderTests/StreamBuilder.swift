import Foundation

/// Builds QEMU migration streams byte by byte after input-formats.md §4 (big-endian), with the
/// sections itsdump reads: RAM (MEM_SIZE list, PAGE, ZERO, CONTINUE, EOS), `arm_gicv3_its`
/// and `arm_gicv3` in their known layouts, EOF and optionally the JSON description.
struct StreamBuilder {
    var out: [UInt8] = []
    var pageSize = 4096

    static func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func str8(_ s: String) -> [UInt8] { [UInt8(s.utf8.count)] + Array(s.utf8) }

    mutating func header(version: UInt64 = 3, machine: String = "virt-7.2", caps: [String] = []) {
        out += Self.be(0x5145_564D, 4) + Self.be(version, 4)
        out += [0x07] + Self.be(UInt64(machine.utf8.count), 4) + Array(machine.utf8)
        out += [0x05] + Self.str8("configuration/target-page-bits") + Self.be(1, 4) + Self.be(12, 4)
        if !caps.isEmpty {
            out += [0x05] + Self.str8("configuration/capabilities") + Self.be(1, 4) + Self.be(UInt64(caps.count), 4)
            for c in caps { out += Self.str8(c) }
        }
    }

    mutating func sectionStart(id: UInt64, name: String, instance: UInt64 = 0, version: UInt64, full: Bool = false) {
        out += [full ? 0x04 : 0x01] + Self.be(id, 4) + Self.str8(name) + Self.be(instance, 4) + Self.be(version, 4)
    }
    mutating func sectionPart(id: UInt64, end: Bool = false) { out += [end ? 0x03 : 0x02] + Self.be(id, 4) }
    mutating func footer(id: UInt64) { out += [0x7E] + Self.be(id, 4) }

    mutating func memSize(_ blocks: [(String, UInt64)]) {
        out += Self.be(blocks.reduce(0) { $0 + $1.1 } | 0x004, 8)
        for (n, l) in blocks { out += Self.str8(n) + Self.be(l, 8) }
    }
    mutating func page(_ block: String?, offset: UInt64, bytes: [UInt8]) {
        out += Self.be(offset | 0x008 | (block == nil ? 0x020 : 0), 8)
        if let block { out += Self.str8(block) }
        out += bytes + [UInt8](repeating: 0, count: pageSize - bytes.count)
    }
    mutating func zero(_ block: String?, offset: UInt64, fill: UInt8 = 0) {
        out += Self.be(offset | 0x002 | (block == nil ? 0x020 : 0), 8)
        if let block { out += Self.str8(block) }
        out += [fill]
    }
    mutating func eos() { out += Self.be(0x010, 8) }

    /// `arm_gicv3_its` (§5.1): ctlr, iidr, cbaser, cwriter, creadr, baser[8].
    mutating func its(id: UInt64, ctlr: UInt64, iidr: UInt64, baser: [UInt64]) {
        sectionStart(id: id, name: "arm_gicv3_its", version: 0, full: true)
        out += Self.be(ctlr, 4) + Self.be(iidr, 4) + Self.be(0xB800_0000_4259_040F, 8) + Self.be(0x20, 8) + Self.be(0x20, 8)
        for b in baser { out += Self.be(b, 8) }
        footer(id: id)
    }

    /// `arm_gicv3` (§5.2): distributor state, then per CPU the 272-byte record (PROPBASER at
    /// +20, PENDBASER at +28), with a `sre_el1` subsection on the first CPU.
    mutating func gic(id: UInt64, props: [UInt64], pends: [UInt64]) {
        sectionStart(id: id, name: "arm_gicv3", version: 1, full: true)
        out += [UInt8](repeating: 0, count: 10344)
        for (i, (p, q)) in zip(props, pends).enumerated() {
            var rec = [UInt8](repeating: 0, count: 272)
            rec.replaceSubrange(20..<28, with: Self.be(p, 8))
            rec.replaceSubrange(28..<36, with: Self.be(q, 8))
            out += rec
            if i == 0 { out += [0x05] + Self.str8("arm_gicv3_cpu/sre_el1") + Self.be(1, 4) + Self.be(0x7, 8) }
        }
        out += [0x05] + Self.str8("arm_gicv3/gicd_state_shift_bug") + Self.be(1, 4) + [1]
        footer(id: id)
    }

    mutating func device(id: UInt64, name: String, bytes: Int) {
        sectionStart(id: id, name: name, version: 1, full: true)
        out += [UInt8](repeating: 0xAB, count: bytes)
        footer(id: id)
    }

    mutating func eof(json: String? = nil) {
        out += [0x00]
        if let json { out += [0x06] + Self.be(UInt64(json.utf8.count), 4) + Array(json.utf8) }
    }

    func write(_ url: URL) throws { try Data(out).write(to: url) }
}
