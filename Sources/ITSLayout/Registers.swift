/// ITS and redistributor registers, each field named as in its-formats.md §1.2–§1.8.

public enum PageSize: UInt64, Sendable, CaseIterable {
    case size4K = 4096
    case size16K = 16384
    case size64K = 65536

    public var bytes: UInt64 { rawValue }
    public var label: String {
        switch self {
        case .size4K: "4K"
        case .size16K: "16K"
        case .size64K: "64K"
        }
    }
}

/// GITS_BASER<n> Type (its-formats.md §1.6).
public enum BaserType: UInt64, Sendable {
    case unimplemented = 0, devices = 1, vPEs = 2, reserved3 = 3, collections = 4
    case reserved5 = 5, reserved6 = 6, reserved7 = 7

    public var label: String {
        switch self {
        case .unimplemented: "unimplemented"
        case .devices: "devices"
        case .vPEs: "vPEs"
        case .collections: "collections"
        default: "reserved"
        }
    }
}

/// GITS_BASER<n> (its-formats.md §1.6).
public struct GITSBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GITS_BASER", source: "its-formats.md §1.6", byteCount: 8,
        fields: [
            BitField("Valid", 63, 63), BitField("Indirect", 62, 62),
            BitField("InnerCache", 61, 59), BitField("Type", 58, 56),
            BitField("OuterCache", 55, 53), BitField("Entry_Size", 52, 48),
            BitField("Physical_Address", 47, 12), BitField("Shareability", 11, 10),
            BitField("Page_Size", 9, 8), BitField("Size", 7, 0),
        ])

    public var valid: Bool { rawValue >> 63 & 1 == 1 }
    public var indirect: Bool { rawValue >> 62 & 1 == 1 }
    public var type: BaserType { BaserType(rawValue: rawValue >> 56 & 7) ?? .unimplemented }
    /// Bytes per entry (the field holds size − 1).
    public var entrySize: UInt64 { (rawValue >> 48 & 0x1F) + 1 }
    public var shareability: UInt64 { rawValue >> 10 & 3 }
    /// Page_Size 3 is reserved; QEMU 6.2 treated it as 64 KiB (§1.6). Nil for 3.
    public var pageSize: PageSize? {
        switch rawValue >> 8 & 3 {
        case 0: .size4K
        case 1: .size16K
        case 2: .size64K
        default: nil
        }
    }
    /// Number of pages (the field holds pages − 1); for an indirect table, of the level-1 table.
    public var pages: UInt64 { (rawValue & 0xFF) + 1 }

    /// The table base. With 64 KiB pages bits [15:12] hold PA[51:48] (§1.6, Example C).
    public var physicalAddress: GuestPhysicalAddress {
        if pageSize == .size64K {
            return GuestPhysicalAddress(
                (rawValue & 0x0000_FFFF_FFFF_0000) | ((rawValue >> 12 & 0xF) << 48))
        }
        return GuestPhysicalAddress(rawValue & 0x0000_FFFF_FFFF_F000)
    }

    /// Table (or level-1 table) size in bytes: at most 256 × 64 KiB, so never overflows.
    public var tableBytes: UInt64 { pages * (pageSize ?? .size64K).bytes }
}

/// GITS_TYPER (its-formats.md §1.4).
public struct GITSTyper: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GITS_TYPER", source: "its-formats.md §1.4", byteCount: 8,
        fields: [
            BitField("VMOVP", 37, 37), BitField("CIL", 36, 36), BitField("CIDbits", 35, 32),
            BitField("HCC", 31, 24), BitField("PTA", 19, 19), BitField("SEIS", 18, 18),
            BitField("Devbits", 17, 13), BitField("IDbits", 12, 8),
            BitField("ITT_entry_size", 7, 4), BitField("Virtual", 1, 1),
            BitField("Physical", 0, 0),
        ])

    public var physical: Bool { rawValue & 1 == 1 }
    public var virtual: Bool { rawValue >> 1 & 1 == 1 }
    /// Bytes per ITT entry (the field holds size − 1).
    public var ittEntrySize: UInt64 { (rawValue >> 4 & 0xF) + 1 }
    /// EventID bits (the field holds bits − 1).
    public var eventIDBits: UInt64 { (rawValue >> 8 & 0x1F) + 1 }
    /// DeviceID bits (the field holds bits − 1).
    public var deviceIDBits: UInt64 { (rawValue >> 13 & 0x1F) + 1 }
    /// Physical Target Addresses: RDbase is a redistributor address (1) or a processor number (0).
    public var pta: Bool { rawValue >> 19 & 1 == 1 }
    public var hcc: UInt64 { rawValue >> 24 & 0xFF }
    public var cil: Bool { rawValue >> 36 & 1 == 1 }
    /// ICID bits: CIDbits + 1 when CIL = 1, else 16.
    public var collectionIDBits: UInt64 { cil ? (rawValue >> 32 & 0xF) + 1 : 16 }
}

/// GITS_IIDR (its-formats.md §1.3).
public struct GITSIIDR: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GITS_IIDR", source: "its-formats.md §1.3", byteCount: 4,
        fields: [
            BitField("ProductID", 31, 24), BitField("Variant", 19, 16),
            BitField("Revision", 15, 12), BitField("Implementer", 11, 0),
        ])

    public var implementer: UInt64 { rawValue & 0xFFF }
    public var revision: UInt64 { rawValue >> 12 & 0xF }
    public var variant: UInt64 { rawValue >> 16 & 0xF }
    public var productID: UInt64 { rawValue >> 24 & 0xFF }
    /// `PRODUCT_ID_KVM` = 'K' (its-formats.md §1.10 "ABI revision reporting").
    public static let kvmProductID: UInt64 = 0x4B
}

/// GITS_CTLR (its-formats.md §1.2).
public struct GITSCTLR: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GITS_CTLR", source: "its-formats.md §1.2", byteCount: 4,
        fields: [
            BitField("Quiescent", 31, 31), BitField("ITS_Number", 7, 4),
            BitField("ImDe", 1, 1), BitField("Enabled", 0, 0),
        ])

    public var enabled: Bool { rawValue & 1 == 1 }
    public var quiescent: Bool { rawValue >> 31 & 1 == 1 }
}

/// GITS_CBASER (its-formats.md §1.5).
public struct GITSCBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GITS_CBASER", source: "its-formats.md §1.5", byteCount: 8,
        fields: [
            BitField("Valid", 63, 63), BitField("InnerCache", 61, 59),
            BitField("OuterCache", 55, 53), BitField("Physical_Address", 51, 12),
            BitField("Shareability", 11, 10), BitField("Size", 7, 0),
        ])

    public var valid: Bool { rawValue >> 63 & 1 == 1 }
    public var physicalAddress: GuestPhysicalAddress {
        GuestPhysicalAddress(rawValue & 0x000F_FFFF_FFFF_F000)
    }
    /// Queue size in bytes: (Size + 1) × 4 KiB.
    public var queueBytes: UInt64 { ((rawValue & 0xFF) + 1) * 4096 }
}

/// GITS_CWRITER / GITS_CREADR: byte offset of a command slot in [19:5] (its-formats.md §1.5).
public struct GITSCommandOffset: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let writerLayout = BitLayout(
        name: "GITS_CWRITER", source: "its-formats.md §1.5", byteCount: 8,
        fields: [BitField("Offset", 19, 5), BitField("Retry", 0, 0)])
    public static let readerLayout = BitLayout(
        name: "GITS_CREADR", source: "its-formats.md §1.5", byteCount: 8,
        fields: [BitField("Offset", 19, 5), BitField("Stalled", 0, 0)])

    public var offset: UInt64 { rawValue & 0xF_FFE0 }
    /// Retry (CWRITER) or Stalled (CREADR).
    public var flag: Bool { rawValue & 1 == 1 }
}

/// GICR_PROPBASER (its-formats.md §1.8).
public struct GICRPropBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GICR_PROPBASER", source: "its-formats.md §1.8", byteCount: 8,
        fields: [
            BitField("OuterCache", 58, 56), BitField("Physical_Address", 51, 12),
            BitField("Shareability", 11, 10), BitField("InnerCache", 9, 7),
            BitField("IDbits", 4, 0),
        ])

    /// INTID bits (the field holds bits − 1).
    public var idBits: UInt64 { (rawValue & 0x1F) + 1 }
    public var physicalAddress: GuestPhysicalAddress {
        GuestPhysicalAddress(rawValue & 0x000F_FFFF_FFFF_F000)
    }
    /// One past the largest INTID the property table covers: 2^(IDbits+1).
    public var intidLimit: UInt64 { UInt64(1) << idBits }
}

/// GICR_PENDBASER (its-formats.md §1.8).
public struct GICRPendBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(
        name: "GICR_PENDBASER", source: "its-formats.md §1.8", byteCount: 8,
        fields: [
            BitField("PTZ", 62, 62), BitField("OuterCache", 58, 56),
            BitField("Physical_Address", 51, 16), BitField("Shareability", 11, 10),
            BitField("InnerCache", 9, 7),
        ])

    public var ptz: Bool { rawValue >> 62 & 1 == 1 }
    public var physicalAddress: GuestPhysicalAddress {
        GuestPhysicalAddress(rawValue & 0x000F_FFFF_FFFF_0000)
    }
}
