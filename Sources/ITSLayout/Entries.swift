/// Decoded table entries, common to both formats. Each format (KVMFormat.swift,
/// QEMUFormat.swift) says how its raw words map onto these.

/// A device table entry: DeviceID → ITT.
public struct DeviceTableEntry: Sendable, Hashable {
    public var raw: UInt64
    public var valid: Bool
    public var ittAddress: GuestPhysicalAddress
    /// Number of EventID bits (the Size field + 1); the ITT holds 2^bits entries.
    public var eventIDBits: UInt64
    /// KVM ABI 0 only: DeviceID offset of the next valid DTE, 0 = last (its-formats.md §1.10).
    public var next: UInt64?
}

/// A collection table entry: ICID → target.
public struct CollectionTableEntry: Sendable, Hashable {
    public var raw: UInt64
    public var valid: Bool
    /// KVM stores the ICID in the entry (the table is packed); QEMU indexes by ICID.
    public var icid: ICID?
    /// RDbase: a processor number (PTA = 0) or a redistributor address [51:16] (PTA = 1).
    public var rdBase: UInt64
}

/// An interrupt translation entry: EventID → LPI, ICID.
public struct InterruptTranslationEntry: Sendable, Hashable {
    /// ITE_L (QEMU) or the one word (KVM), and QEMU's ITE_H: kept inline, since a million
    /// entries each with a heap array of words cost ~50 MiB (issue 22).
    public var rawLow: UInt64
    public var rawHigh: UInt64?
    /// The entry's words: one for KVM, ITE_L and ITE_H for QEMU.
    public var raw: [UInt64] { rawHigh.map { [rawLow, $0] } ?? [rawLow] }
    public var valid: Bool
    public var lpi: LPI
    public var icid: ICID
    /// QEMU: IntType 1 = physical; a virtual (GICv4) ITE carries a vINTID and a vPEID.
    public var physical: Bool
    /// KVM ABI 0 only: EventID offset of the next valid ITE, 0 = last.
    public var next: UInt64?
    /// QEMU: ITE_L bits [31:26] = 0x3F, the residue of QEMU 6.2's overlapping write (§1.11).
    public var writtenByQEMU62: Bool
}

/// A level-1 entry of a two-level table (its-formats.md §1.7).
public struct Level1Entry: Sendable, Hashable {
    public static let validField = BitField("Valid", 63, 63)
    public static let addressField = BitField("Physical_Address", 51, 12)
    public static let layout = BitLayout(
        name: "L1 entry", source: "Documentation/its-formats.md §1.7", byteCount: 8, fields: [validField, addressField])

    public var raw: UInt64
    public init(raw: UInt64) { self.raw = raw }
    public var valid: Bool { Self.validField.isSet(raw) }
    /// Bits [51:12]; the caller checks alignment against the page size (§1.7: KVM masks
    /// [51:16], QEMU 6.2 masked [50:0]; [51:12] then an alignment check covers both).
    public var level2Address: GuestPhysicalAddress { GuestPhysicalAddress(Self.addressField.inPlace(raw)) }
}

/// The entry formats a table can be written in.
public enum ITSFormat: String, Sendable, CaseIterable {
    /// KVM's ITS table ABI revision 0, written by KVM_DEV_ARM_ITS_SAVE_TABLES (§1.10).
    case kvm
    /// QEMU's emulated ITS (`arm-gicv3-its`), live tables (§1.11).
    case qemu

    public var label: String {
        switch self {
        case .kvm: "KVM ITS table ABI rev 0"
        case .qemu: "QEMU emulated ITS"
        }
    }

    /// Bytes of one ITT entry.
    public var iteSize: UInt64 {
        switch self {
        case .kvm: KVMFormat.entrySize
        case .qemu: QEMUFormat.iteSize
        }
    }

    public var deviceEntryLayout: BitLayout {
        self == .kvm ? KVMFormat.dteLayout : QEMUFormat.dteLayout
    }
    public var collectionEntryLayout: BitLayout {
        self == .kvm ? KVMFormat.cteLayout : QEMUFormat.cteLayout
    }
    /// One layout per 64-bit word of an ITE (QEMU: ITE_L, then the 32-bit ITE_H).
    public var iteLayouts: [BitLayout] {
        self == .kvm ? [KVMFormat.iteLayout] : [QEMUFormat.iteLowLayout, QEMUFormat.iteHighLayout]
    }

    public func decodeDTE(_ raw: UInt64) -> DeviceTableEntry {
        self == .kvm ? KVMFormat.decodeDTE(raw) : QEMUFormat.decodeDTE(raw)
    }
    public func decodeCTE(_ raw: UInt64) -> CollectionTableEntry {
        self == .kvm ? KVMFormat.decodeCTE(raw) : QEMUFormat.decodeCTE(raw)
    }
    /// Decodes the ITE at `offset` of `bytes` (`iteSize` bytes must be there).
    public func decodeITE(_ bytes: [UInt8], at offset: Int) -> InterruptTranslationEntry {
        switch self {
        case .kvm:
            return KVMFormat.decodeITE(bytes.loadLE(at: offset, count: 8))
        case .qemu:
            return QEMUFormat.decodeITE(
                low: bytes.loadLE(at: offset, count: 8), high: bytes.loadLE(at: offset + 8, count: 4))
        }
    }
}
