import ITSLayout
import TextFormats

/// A device section's layout from the stream's JSON VM description (Documentation/input-formats.md §4.6,
/// §4.7), walked over the stream the way QEMU's scripts/analyze-migration.py reads it: fields
/// in order (`size` × `array_len`, structs recursively), then the listed subsections, each
/// behind its 0x05 marker. It yields every leaf field's name and file offset.
struct VMStateLayout {
    struct Leaf { var path: String; var offset: UInt64; var size: UInt64 }

    /// One walk of a section. Nesting and work are bounded: a description is data from the
    /// file too, and an `array_len` of 10^6 inside another would be 10^12 steps.
    struct Walk {
        static let maxDepth = 16
        /// Field elements visited in one section (the real arm_gicv3 of 4 vCPUs visits ~2,300).
        static let maxSteps = 1 << 18
        var leaves: [String: Leaf] = [:]
        var steps = 0

        mutating func walk(_ desc: JSONValue, cursor: inout StreamCursor, prefix: String = "", depth: Int = 0) throws(DumpError) {
            guard depth < Self.maxDepth else {
                throw .malformed(path: cursor.file.path, offset: cursor.offset, reason: "the JSON description nests deeper than \(Self.maxDepth) levels")
            }
            for field in desc["fields"]?.arrayValue ?? [] {
                let name = field["name"]?.stringValue ?? "?"
                // vmstate.c writes array_len only for more than one element (vmsd_desc_field_start).
                let count = max(1, field["array_len"]?.intValue ?? 1)
                let indexed = field["index"]?.intValue
                for i in 0..<count {
                    steps += 1
                    guard steps <= Self.maxSteps else {
                        throw .malformed(path: cursor.file.path, offset: cursor.offset, reason: "the JSON description of this section has more than \(Self.maxSteps) fields (at \(TerminalText.cut(prefix + name)), array_len \(count))")
                    }
                    var path = prefix + name
                    if let indexed { path += "[\(indexed)]" } else if field["array_len"] != nil { path += "[\(i)]" }
                    if field["type"]?.stringValue == "struct", let sub = field["struct"], sub.objectValue != nil {
                        try walk(sub, cursor: &cursor, prefix: path + ".", depth: depth + 1)
                    } else {
                        let size = UInt64(max(0, field["size"]?.intValue ?? 0))
                        if leaves[path] == nil { leaves[path] = Leaf(path: path, offset: cursor.offset, size: size) }
                        try cursor.skip(size, "field \(TerminalText.cut(path))")
                    }
                }
            }
            for sub in desc["subsections"]?.arrayValue ?? [] {
                let want = sub["vmsd_name"]?.stringValue ?? "?"
                steps += 1
                guard steps <= Self.maxSteps else {
                    throw .malformed(path: cursor.file.path, offset: cursor.offset, reason: "the JSON description of this section has more than \(Self.maxSteps) fields")
                }
                // Subsections are optional in the stream: QEMU writes one only when its
                // .needed says so, and the description lists those it wrote.
                guard try cursor.u8("subsection marker") == 0x05 else {
                    throw .malformed(path: cursor.file.path, offset: cursor.offset - 1, reason: "subsection \(TerminalText.cut(want)) expected (0x05) but not found")
                }
                let len = try cursor.u8("subsection name length")
                let name = try cursor.string(Int(len), "subsection name")
                _ = try cursor.be32("subsection version")
                let tail = name.split(separator: "/").last.map(String.init) ?? name
                try walk(sub, cursor: &cursor, prefix: prefix + tail + ".", depth: depth + 1)
            }
        }
    }
}

/// The layouts of the two sections itsdump needs, for streams without a JSON description
/// (its-formats.md §5.1, §5.2): QEMU 7.2 … 9.x field lists.
enum KnownSectionLayouts {
    /// `arm_gicv3_its` (version 0): 96 bytes, no subsections.
    static func its(cursor: inout StreamCursor) throws(DumpError) -> [String: VMStateLayout.Leaf] {
        var leaves: [VMStateLayout.Leaf] = []
        for (name, size) in [("ctlr", 4), ("iidr", 4), ("cbaser", 8), ("cwriter", 8), ("creadr", 8)] as [(String, UInt64)] {
            leaves.append(.init(path: name, offset: cursor.offset, size: size))
            try cursor.skip(size, "arm_gicv3_its.\(name)")
        }
        for n in 0..<8 {
            leaves.append(.init(path: "baser[\(n)]", offset: cursor.offset, size: 8))
            try cursor.skip(8, "arm_gicv3_its.baser[\(n)]")
        }
        return Dictionary(leaves.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// `arm_gicv3` (version 1): distributor state, then one `arm_gicv3_cpu` record per CPU. The
    /// CPU count is not in the stream: records are read until the section footer or a
    /// top-level `arm_gicv3/` subsection.
    static func gic(cursor: inout StreamCursor, sectionID: UInt32) throws(DumpError) -> [String: VMStateLayout.Leaf] {
        // gicd_ctlr 4, gicd_statusr 8, 7 bitmaps of 32 words, gicd_ipriority 1020,
        // gicd_irouter 1020 × 8, gicd_nsacr 64 words.
        try cursor.skip(4 + 8 + 7 * 128 + 1020 + 8160 + 256, "arm_gicv3 distributor state")
        var leaves: [VMStateLayout.Leaf] = []
        var cpu = 0
        while true {
            if cursor.peek() == 0x7E, cursor.file.be32(cursor.offset + 1) == sectionID { break }
            if cursor.peek() == 0x05, let len = cursor.file.u8(cursor.offset + 1),
               let name = cursor.file.bytes(at: cursor.offset + 2, count: Int(len)),
               String(decoding: name, as: UTF8.self).hasPrefix("arm_gicv3/") { break }
            guard cpu < 4096 else {
                throw .malformed(path: cursor.file.path, offset: cursor.offset, reason: "arm_gicv3: no end of the CPU records found")
            }
            let start = cursor.offset
            leaves.append(.init(path: "cpu[\(cpu)].gicr_ctlr", offset: start + 4, size: 4))
            leaves.append(.init(path: "cpu[\(cpu)].gicr_propbaser", offset: start + 20, size: 8))
            leaves.append(.init(path: "cpu[\(cpu)].gicr_pendbaser", offset: start + 28, size: 8))
            try cursor.skip(272, "arm_gicv3 cpu[\(cpu)]")
            while cursor.peek() == 0x05 {
                let mark = cursor.offset
                _ = try cursor.u8("subsection")
                let len = try cursor.u8("subsection name length")
                let name = try cursor.string(Int(len), "subsection name")
                guard name.hasPrefix("arm_gicv3_cpu/") else { cursor.offset = mark; break }
                _ = try cursor.be32("subsection version")
                // ich_apr[3][4], ich_hcr_el2, ich_lr_el2[16], ich_vmcr_el2 / icc_sre_el1 /
                // gicr_vpropbaser, gicr_vpendbaser / gicr_inmir0.
                let sizes: [String: UInt64] = ["arm_gicv3_cpu/virt": 240, "arm_gicv3_cpu/sre_el1": 8,
                                               "arm_gicv3_cpu/gicv4": 16, "arm_gicv3_cpu/nmi": 4]
                guard let size = sizes[name] else {
                    throw .malformed(path: cursor.file.path, offset: mark, reason: "arm_gicv3: unknown subsection \(TerminalText.cut(name)) and no JSON description to skip it")
                }
                try cursor.skip(size, name)
            }
            cpu += 1
        }
        while cursor.peek() == 0x05 {
            _ = try cursor.u8("subsection")
            let len = try cursor.u8("subsection name length")
            let name = try cursor.string(Int(len), "subsection name")
            _ = try cursor.be32("subsection version")
            // gicd_no_migration_shift_bug: QEMU 2.12+ (hw/intc/arm_gicv3_common.c), one bool,
            // written by every QEMU since (the real 7.2 streams of the fixtures carry it).
            let sizes: [String: UInt64] = ["arm_gicv3/gicd_no_migration_shift_bug": 1, "arm_gicv3/gicd_state_shift_bug": 1,
                                           "arm_gicv3/gicd_nmi": 128]
            guard let size = sizes[name] else {
                throw .malformed(path: cursor.file.path, offset: cursor.offset, reason: "arm_gicv3: unknown subsection \(TerminalText.cut(name)) and no JSON description to skip it")
            }
            try cursor.skip(size, name)
        }
        return Dictionary(leaves.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
