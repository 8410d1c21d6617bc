/// The ITS command queue (its-formats.md §2): a ring of 32-byte commands at GITS_CBASER.
/// Commands from CREADR up to CWRITER are not yet processed; the slots before CREADR (going
/// backwards, wrapping) hold the most recent processed ones until they are overwritten.
public struct ITSCommand: Sendable, Hashable {
    public enum State: String, Sendable { case pending, processed }

    public var slot: Int
    public var address: GuestPhysicalAddress
    public var words: [UInt64]
    public var state: State

    /// One field of a 32-byte command: a bit range of one of its four doublewords.
    public struct Field: Sendable, Hashable {
        public let word: Int
        public let bits: BitField
        public init(_ word: Int, _ name: String, _ high: Int, _ low: Int) {
            self.word = word
            bits = BitField(name, high, low)
        }
        public func extract(_ words: [UInt64]) -> UInt64 { word < words.count ? bits.extract(words[word]) : 0 }
    }

    /// The command fields of its-formats.md §2.3 (fields not listed are RES0).
    public enum Fields {
        public static let opcode = Field(0, "CommandID", 7, 0)
        public static let deviceID = Field(0, "DeviceID", 63, 32)
        /// MAPD: EventID bits − 1.
        public static let size = Field(1, "Size", 4, 0)
        public static let eventID = Field(1, "EventID", 31, 0)
        public static let pINTID = Field(1, "pINTID", 63, 32)
        public static let icid = Field(2, "ICID", 15, 0)
        /// MAPD: address bits [51:8] in place.
        public static let ittAddress = Field(2, "ITT_addr", 51, 8)
        /// MAPC, SYNC, MOVALL (from): a processor number when GITS_TYPER.PTA = 0.
        public static let rdBase = Field(2, "RDbase", 51, 16)
        public static let valid = Field(2, "V", 63, 63)
        /// MOVALL (to).
        public static let rdBase2 = Field(3, "RDbase2", 51, 16)
    }

    /// Each physical command's name and fields, after its-formats.md §2.2 and §2.3.
    public static let layouts: [UInt8: (name: String, fields: [Field])] = {
        let f = Fields.self
        let event: [Field] = [f.deviceID, f.eventID]
        return [
            0x08: ("MAPD", [f.deviceID, f.size, f.ittAddress, f.valid]),
            0x09: ("MAPC", [f.icid, f.rdBase, f.valid]),
            0x0A: ("MAPTI", event + [f.pINTID, f.icid]),
            0x0B: ("MAPI", event + [f.icid]),
            0x01: ("MOVI", event + [f.icid]),
            0x0F: ("DISCARD", event),
            0x0C: ("INV", event),
            0x03: ("INT", event),
            0x04: ("CLEAR", event),
            0x0D: ("INVALL", [f.icid]),
            0x05: ("SYNC", [f.rdBase]),
            0x0E: ("MOVALL", [f.rdBase, f.rdBase2]),
        ]
    }()

    /// GICv4 commands (§2.2): named, not decoded.
    static let virtualNames: [UInt8: String] = [
        0x21: "VMOVI", 0x22: "VMOVP", 0x23: "VSGI", 0x25: "VSYNC", 0x29: "VMAPP", 0x2A: "VMAPTI",
        0x2B: "VMAPI", 0x2D: "VINVALL", 0x2E: "INVDB",
    ]

    public var opcode: UInt8 { UInt8(Fields.opcode.extract(words)) }

    /// §2.2.
    public var name: String {
        Self.layouts[opcode]?.name ?? Self.virtualNames[opcode] ?? "unknown(0x\(String(opcode, radix: 16)))"
    }

    /// The command's value of `field`, when its layout has that field.
    public func value(_ field: Field) -> UInt64? {
        guard let layout = Self.layouts[opcode], layout.fields.contains(field) else { return nil }
        return field.extract(words)
    }

    public var deviceID: DeviceID? { value(Fields.deviceID).map { DeviceID(UInt32(truncatingIfNeeded: $0)) } }
    public var eventID: EventID? { value(Fields.eventID).map { EventID(UInt32(truncatingIfNeeded: $0)) } }
    public var icid: ICID? { value(Fields.icid).map { ICID(UInt32(truncatingIfNeeded: $0)) } }

    /// The command's fields in §2.3's words (RDbase as the field value: a processor number when PTA = 0).
    public var description: String {
        let f = Fields.self
        let w = words
        let dev = "DeviceID \(hex(f.deviceID.extract(w)))"
        let ev = "EventID \(f.eventID.extract(w))"
        let icid = "ICID \(f.icid.extract(w))"
        let valid = f.valid.extract(w) == 1
        switch opcode {
        case 0x08:
            return "\(dev), \(valid ? "V=1, ITT \(hex(f.ittAddress.bits.inPlace(w[f.ittAddress.word]))), \(f.size.extract(w) + 1) EventID bits" : "V=0 (unmap)")"
        case 0x09: return "\(icid) → RDbase \(f.rdBase.extract(w)), V=\(valid ? 1 : 0)"
        case 0x0A: return "\(dev), \(ev) → LPI \(f.pINTID.extract(w)), \(icid)"
        case 0x0B: return "\(dev), \(ev) (LPI = EventID), \(icid)"
        case 0x01: return "\(dev), \(ev) → \(icid)"
        case 0x03, 0x04, 0x0C, 0x0F: return "\(dev), \(ev)"
        case 0x0D: return icid
        case 0x05: return "RDbase \(f.rdBase.extract(w))"
        case 0x0E: return "RDbase \(f.rdBase.extract(w)) → \(f.rdBase2.extract(w))"
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
            findings.add(.queuePointerOutOfRange, address: cb.physicalAddress,
                "GITS_CREADR \(hex(r.rawValue)) or GITS_CWRITER \(hex(w.rawValue)) points past the \(cb.queueBytes)-byte command queue")
            readSlot %= max(1, slots)
            writeSlot %= max(1, slots)
        }
        var ring: [UInt8] = []
        switch memory.read(cb.physicalAddress, count: Int(cb.queueBytes)) {
        case .bytes(let b): ring = b
        case .absent(let range):
            findings.add(.tableAbsent, address: cb.physicalAddress,
                "command queue: guest page \(range.start) \(memory.absenceText(range.start))")
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
            findings.add(.queueNotDrained, address: cb.physicalAddress,
                "\(pending.count) command(s) between GITS_CREADR and GITS_CWRITER were not processed: the tables predate them\(r.flag ? " (CREADR.Stalled is set: processing stopped on an error)" : "")")
        }
        return CommandQueue(base: cb.physicalAddress, slots: slots, readSlot: readSlot, writeSlot: writeSlot,
                            pending: pending, history: history, findings: findings.all)
    }
}
