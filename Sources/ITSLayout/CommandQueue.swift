/// The ITS command queue (its-formats.md §2): a ring of 32-byte commands at GITS_CBASER.
/// Commands from CREADR up to CWRITER are not yet processed; the slots before CREADR (going
/// backwards, wrapping) hold the most recent processed ones until they are overwritten.
public struct ITSCommand: Sendable, Hashable {
    public enum State: String, Sendable { case pending, processed }

    public var slot: Int
    public var address: GuestPhysicalAddress
    public var words: [UInt64]
    public var state: State

    public var opcode: UInt8 { UInt8(words[0] & 0xFF) }

    /// §2.2.
    public var name: String {
        switch opcode {
        case 0x01: "MOVI"
        case 0x03: "INT"
        case 0x04: "CLEAR"
        case 0x05: "SYNC"
        case 0x08: "MAPD"
        case 0x09: "MAPC"
        case 0x0A: "MAPTI"
        case 0x0B: "MAPI"
        case 0x0C: "INV"
        case 0x0D: "INVALL"
        case 0x0E: "MOVALL"
        case 0x0F: "DISCARD"
        case 0x21: "VMOVI"
        case 0x22: "VMOVP"
        case 0x23: "VSGI"
        case 0x25: "VSYNC"
        case 0x29: "VMAPP"
        case 0x2A: "VMAPTI"
        case 0x2B: "VMAPI"
        case 0x2D: "VINVALL"
        case 0x2E: "INVDB"
        default: "unknown(0x\(String(opcode, radix: 16)))"
        }
    }

    public var deviceID: DeviceID? {
        [0x01, 0x03, 0x04, 0x08, 0x0A, 0x0B, 0x0C, 0x0F].contains(opcode) ? DeviceID(UInt32(words[0] >> 32)) : nil
    }
    public var eventID: EventID? {
        [0x01, 0x03, 0x04, 0x0A, 0x0B, 0x0C, 0x0F].contains(opcode) ? EventID(UInt32(truncatingIfNeeded: words[1])) : nil
    }
    public var icid: ICID? {
        [0x01, 0x09, 0x0A, 0x0B, 0x0D].contains(opcode) ? ICID(UInt32(words[2] & 0xFFFF)) : nil
    }

    /// The command's fields in §2.3's words (RDbase as the field value: a processor number when PTA = 0).
    public var description: String {
        let w = words
        let dev = "DeviceID \(hex(w[0] >> 32))"
        let ev = "EventID \(UInt32(truncatingIfNeeded: w[1]))"
        switch opcode {
        case 0x08:
            let valid = w[2] >> 63 & 1 == 1
            return "\(dev), \(valid ? "V=1, ITT \(hex((w[2] >> 8 & ((1 << 44) - 1)) << 8)), \((w[1] & 0x1F) + 1) EventID bits" : "V=0 (unmap)")"
        case 0x09:
            let valid = w[2] >> 63 & 1 == 1
            return "ICID \(w[2] & 0xFFFF) → RDbase \(w[2] >> 16 & 0xF_FFFF_FFFF), V=\(valid ? 1 : 0)"
        case 0x0A: return "\(dev), \(ev) → LPI \(w[1] >> 32), ICID \(w[2] & 0xFFFF)"
        case 0x0B: return "\(dev), \(ev) (LPI = EventID), ICID \(w[2] & 0xFFFF)"
        case 0x01: return "\(dev), \(ev) → ICID \(w[2] & 0xFFFF)"
        case 0x03, 0x04, 0x0C, 0x0F: return "\(dev), \(ev)"
        case 0x0D: return "ICID \(w[2] & 0xFFFF)"
        case 0x05: return "RDbase \(w[2] >> 16 & 0xF_FFFF_FFFF)"
        case 0x0E: return "RDbase \(w[2] >> 16 & 0xF_FFFF_FFFF) → \(w[3] >> 16 & 0xF_FFFF_FFFF)"
        default: return w.map { hex64($0) }.joined(separator: " ")
        }
    }
}

public struct CommandQueue: Sendable {
    public var base: GuestPhysicalAddress
    public var slots: Int
    public var readSlot: Int
    public var writeSlot: Int
    /// Commands not yet processed, oldest first.
    public var pending: [ITSCommand]
    /// Processed commands still in the ring, oldest first (all-zero slots skipped).
    public var history: [ITSCommand]
    public var findings: [Finding]

    public var drained: Bool { readSlot == writeSlot }

    /// Reads the ring, or nil when CBASER/CREADR/CWRITER are unknown or CBASER is not valid.
    public static func read(_ regs: ITSRegisterState, memory: any GuestMemory) -> CommandQueue? {
        guard let cb = regs.cbaser?.value, cb.valid, let r = regs.creadr?.value, let w = regs.cwriter?.value else { return nil }
        let slots = Int(cb.queueBytes / 32)
        var findings = FindingList()
        var readSlot = Int(r.offset / 32), writeSlot = Int(w.offset / 32)
        if readSlot >= slots || writeSlot >= slots {
            findings.add("queue-pointer-out-of-range") { Finding("queue-pointer-out-of-range", address: cb.physicalAddress,
                "GITS_CREADR \(hex(r.rawValue)) or GITS_CWRITER \(hex(w.rawValue)) points past the \(cb.queueBytes)-byte command queue") }
            readSlot %= max(1, slots)
            writeSlot %= max(1, slots)
        }
        var ring: [UInt8] = []
        switch memory.read(cb.physicalAddress, count: Int(cb.queueBytes)) {
        case .bytes(let b): ring = b
        case .absent(let range):
            findings.add("table-absent") { Finding("table-absent", address: cb.physicalAddress,
                "command queue: guest page \(range.start) \(memory.absenceText(range.start))") }
            return CommandQueue(base: cb.physicalAddress, slots: slots, readSlot: readSlot, writeSlot: writeSlot,
                                pending: [], history: [], findings: findings.all)
        }
        func command(_ s: Int, _ state: ITSCommand.State) -> ITSCommand {
            ITSCommand(slot: s, address: GuestPhysicalAddress(cb.physicalAddress.rawValue + UInt64(s) * 32),
                       words: (0..<4).map { ring.loadLE(at: s * 32 + $0 * 8, count: 8) }, state: state)
        }
        var pending: [ITSCommand] = []
        var s = readSlot
        while s != writeSlot {
            pending.append(command(s, .pending))
            s = (s + 1) % slots
        }
        var history: [ITSCommand] = []
        s = writeSlot
        repeat {
            let c = command(s, .processed)
            if c.words.contains(where: { $0 != 0 }) { history.append(c) }
            s = (s + 1) % slots
        } while s != readSlot
        if !pending.isEmpty {
            findings.add("queue-not-drained") { Finding("queue-not-drained", address: cb.physicalAddress,
                "\(pending.count) command(s) between GITS_CREADR and GITS_CWRITER were not processed: the tables predate them\(r.flag ? " (CREADR.Stalled is set: processing stopped on an error)" : "")") }
        }
        return CommandQueue(base: cb.physicalAddress, slots: slots, readSlot: readSlot, writeSlot: writeSlot,
                            pending: pending, history: history, findings: findings.all)
    }
}
