import CoreDumpReader
import ITSLayout

/// `info` for the two snapshot containers: a qcow2 image's internal snapshots and the VM
/// state read, and a Cloud Hypervisor snapshot directory's ranges, vCPUs and registers.
extension Info {
    static func qcow2Text(_ v: Qcow2VMState) -> String {
        let img = v.image
        var s = "  qcow2 version \(img.version), cluster size \(img.clusterSize), virtual disk \(img.size) bytes, compression \(img.compression.name), extended L2: \(img.extendedL2 ? "yes" : "no")\n"
        var t = TextTable(header: ["", "ID", "NAME", "DATE (UTC)", "VM CLOCK", "VM STATE BYTES"], rightAligned: [5])
        for sn in img.snapshots {
            t.rows.append([sn == v.snapshot ? "*" : "", escapedText(sn.id), escapedText(sn.name),
                           utcDateText(UInt64(sn.dateSeconds)), vmClockText(sn.vmClockNanoseconds), String(sn.vmStateSize)])
        }
        s += t.render(indent: "  ")
        s += "  VM state read (*): \(v.size) bytes at virtual offset \(hex(v.virtualOffset)) of snapshot \(escapedText(v.snapshot.id)): \(v.dataClusters) data, \(v.compressedClusters) compressed, \(v.zeroClusters) zero, \(v.unallocatedClusters) unallocated clusters\n"
        for n in v.notes { s += "  note: \(n)\n" }
        return s
    }

    static func qcow2JSON(_ v: Qcow2VMState) -> JSONValue {
        let img = v.image
        return .object([
            "version": .uint(UInt64(img.version)), "clusterSize": .uint(img.clusterSize), "virtualSize": .uint(img.size),
            "compression": .string(img.compression == .zstd ? "zstd" : "deflate"), "extendedL2": .bool(img.extendedL2),
            "snapshots": .array(img.snapshots.map { sn in
                .object(["id": .string(sn.id), "name": .string(sn.name), "dateSeconds": .uint(UInt64(sn.dateSeconds)),
                         "dateNanoseconds": .uint(UInt64(sn.dateNanoseconds)), "vmClockNanoseconds": .uint(sn.vmClockNanoseconds),
                         "vmStateBytes": .uint(sn.vmStateSize), "diskSize": .uint(sn.diskSize), "read": .bool(sn == v.snapshot)])
            }),
            "vmState": .object([
                "snapshot": .string(v.snapshot.id), "bytes": .uint(v.size), "virtualOffset": .hexString(v.virtualOffset),
                "dataClusters": .int(Int64(v.dataClusters)), "compressedClusters": .int(Int64(v.compressedClusters)),
                "zeroClusters": .int(Int64(v.zeroClusters)), "unallocatedClusters": .int(Int64(v.unallocatedClusters)),
            ]),
            "notes": .array(v.notes.map { .string($0) }),
        ])
    }

    static func cloudHypervisorText(_ ch: CloudHypervisorSnapshot) -> String {
        var s = "  Cloud Hypervisor \(ch.generation.rawValue); state \(ch.stateFile), RAM \(ch.memory?.path ?? "none")\n"
        var t = TextTable(header: ["MEMORY RANGE GPA", "END", "BYTES", "FILE OFFSET"], rightAligned: [2])
        for r in ch.ranges { t.rows.append([hex(r.gpa), hex(r.gpa + r.length - 1), String(r.length), hex(r.fileOffset)]) }
        s += t.render(indent: "  ")
        for n in ch.notes { s += "  note: \(n)\n" }
        return s + registersText(ch.registers)
    }

    /// Each ITS's registers with their sources, then each CPU's PROPBASER and PENDBASER.
    static func registersText(_ state: RegisterState) -> String {
        var s = ""
        for (i, its) in state.its.enumerated() {
            s += "  ITS \(i) registers\n"
            var t = TextTable(header: ["REGISTER", "VALUE", "SOURCE"])
            for (name, v, src) in Render.registerRows(its) { t.rows.append([name, hex(v), src]) }
            s += t.render(indent: "    ")
        }
        var r = TextTable(header: ["CPU", "GICR_PROPBASER", "GICR_PENDBASER"], rightAligned: [0])
        for rd in state.redistributors {
            r.rows.append([String(rd.cpu), opt(rd.propbaser.map { hex($0.value.rawValue) }), opt(rd.pendbaser.map { hex($0.value.rawValue) })])
        }
        if !state.redistributors.isEmpty { s += r.render(indent: "  ") }
        return s
    }

    static func cloudHypervisorJSON(_ ch: CloudHypervisorSnapshot) -> JSONValue {
        .object([
            "generation": .string(ch.generation.rawValue), "stateFile": .string(ch.stateFile),
            "memoryFile": .optional(ch.memory) { .string($0.path) },
            "ranges": .array(ch.ranges.map { .object(["gpa": .hexString($0.gpa), "bytes": .uint($0.length), "fileOffset": .hexString($0.fileOffset)]) }),
            "skipped": .array(ch.skipped.map {
                .object(["gpa": .hexString($0.gpa), "bytes": .uint($0.length), "zone": .string($0.zone), "fileOffset": .hexString($0.fileOffset)])
            }),
            "notes": .array(ch.notes.map { .string($0) }),
            "its": .array(ch.registers.its.map(Render.registersJSON)),
            "redistributors": Render.redistributorsJSON(ch.registers.redistributors),
        ])
    }

    /// Names from the file, escaped for a terminal.
    static func escapedText(_ s: String) -> String {
        String(s.unicodeScalars.flatMap { c -> [Character] in
            c.value >= 0x20 && !(0x7F...0x9F).contains(c.value) ? [Character(c)] : Array("\\u{\(String(c.value, radix: 16))}")
        })
    }
}
