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

    public enum Fields {
        // With 64 KiB pages, bits [15:12] of the address field hold PA[51:48] (§1.6, Example C).
        public static let valid = layout["Valid"], indirect = layout["Indirect"], innerCache = layout["InnerCache"]
        public static let type = layout["Type"], outerCache = layout["OuterCache"], entrySize = layout["Entry_Size"]
        public static let physicalAddress = layout["Physical_Address"], physicalAddressHigh = BitField("PA[51:48]", 15, 12)
        public static let shareability = layout["Shareability"], pageSize = layout["Page_Size"], size = layout["Size"]
    }
    public static let layout = BitLayout(name: "GITS_BASER", source: "Documentation/its-formats.md §1.6", byteCount: 8, fields: [
        BitField("Valid", 63, 63), BitField("Indirect", 62, 62), BitField("InnerCache", 61, 59),
        BitField("Type", 58, 56), BitField("OuterCache", 55, 53), BitField("Entry_Size", 52, 48),
        BitField("Physical_Address", 47, 12), BitField("Shareability", 11, 10), BitField("Page_Size", 9, 8),
        BitField("Size", 7, 0)])

    public var valid: Bool { Fields.valid.isSet(rawValue) }
    public var indirect: Bool { Fields.indirect.isSet(rawValue) }
    public var type: BaserType { BaserType(rawValue: Fields.type.extract(rawValue)) ?? .unimplemented }
    /// Bytes per entry (the field holds size − 1).
    public var entrySize: UInt64 { Fields.entrySize.extract(rawValue) + 1 }
    public var shareability: UInt64 { Fields.shareability.extract(rawValue) }
    /// Page_Size 3 is reserved; QEMU 6.2 treated it as 64 KiB (§1.6). Nil for 3.
    public var pageSize: PageSize? {
        switch Fields.pageSize.extract(rawValue) {
        case 0: .size4K
        case 1: .size16K
        case 2: .size64K
        default: nil
        }
    }
    /// Number of pages (the field holds pages − 1); for an indirect table, of the level-1 table.
    public var pages: UInt64 { Fields.size.extract(rawValue) + 1 }

    /// The table base. With 64 KiB pages bits [15:12] hold PA[51:48] (§1.6, Example C).
    public var physicalAddress: GuestPhysicalAddress {
        let address = Fields.physicalAddress.inPlace(rawValue)
        if pageSize == .size64K {
            return GuestPhysicalAddress(address & ~Fields.physicalAddressHigh.inPlace(.max)
                                        | Fields.physicalAddressHigh.extract(rawValue) << 48)
        }
        return GuestPhysicalAddress(address)
    }

    /// Table (or level-1 table) size in bytes: at most 256 × 64 KiB, so never overflows.
    public var tableBytes: UInt64 { pages * (pageSize ?? .size64K).bytes }
}

/// GITS_TYPER (its-formats.md §1.4).
public struct GITSTyper: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(name: "GITS_TYPER", source: "Documentation/its-formats.md §1.4", byteCount: 8, fields: [
        BitField("VMOVP", 37, 37), BitField("CIL", 36, 36), BitField("CIDbits", 35, 32),
        BitField("HCC", 31, 24), BitField("PTA", 19, 19), BitField("SEIS", 18, 18),
        BitField("Devbits", 17, 13), BitField("IDbits", 12, 8), BitField("ITT_entry_size", 7, 4),
        BitField("Virtual", 1, 1), BitField("Physical", 0, 0)])
    public enum Fields {
        public static let vmovp = layout["VMOVP"], cil = layout["CIL"], cidBits = layout["CIDbits"], hcc = layout["HCC"]
        public static let pta = layout["PTA"], seis = layout["SEIS"], devBits = layout["Devbits"], idBits = layout["IDbits"]
        public static let ittEntrySize = layout["ITT_entry_size"], virtual = layout["Virtual"], physical = layout["Physical"]
    }

    public var physical: Bool { Fields.physical.isSet(rawValue) }
    public var virtual: Bool { Fields.virtual.isSet(rawValue) }
    /// Bytes per ITT entry (the field holds size − 1).
    public var ittEntrySize: UInt64 { Fields.ittEntrySize.extract(rawValue) + 1 }
    /// EventID bits (the field holds bits − 1).
    public var eventIDBits: UInt64 { Fields.idBits.extract(rawValue) + 1 }
    /// DeviceID bits (the field holds bits − 1).
    public var deviceIDBits: UInt64 { Fields.devBits.extract(rawValue) + 1 }
    /// Physical Target Addresses: RDbase is a redistributor address (1) or a processor number (0).
    public var pta: Bool { Fields.pta.isSet(rawValue) }
    public var hcc: UInt64 { Fields.hcc.extract(rawValue) }
    public var cil: Bool { Fields.cil.isSet(rawValue) }
    /// ICID bits: CIDbits + 1 when CIL = 1, else 16.
    public var collectionIDBits: UInt64 { cil ? Fields.cidBits.extract(rawValue) + 1 : 16 }
}

/// GITS_IIDR (its-formats.md §1.3).
public struct GITSIIDR: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(name: "GITS_IIDR", source: "Documentation/its-formats.md §1.3", byteCount: 4, fields: [
        BitField("ProductID", 31, 24), BitField("Variant", 19, 16), BitField("Revision", 15, 12),
        BitField("Implementer", 11, 0)])
    public enum Fields {
        public static let productID = layout["ProductID"], variant = layout["Variant"], revision = layout["Revision"]
        public static let implementer = layout["Implementer"]
    }

    public var implementer: UInt64 { Fields.implementer.extract(rawValue) }
    public var revision: UInt64 { Fields.revision.extract(rawValue) }
    public var variant: UInt64 { Fields.variant.extract(rawValue) }
    public var productID: UInt64 { Fields.productID.extract(rawValue) }
    /// `PRODUCT_ID_KVM` = 'K' (its-formats.md §1.10 "ABI revision reporting").
    public static let kvmProductID: UInt64 = 0x4B
}

/// GITS_CTLR (its-formats.md §1.2).
public struct GITSCTLR: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(name: "GITS_CTLR", source: "Documentation/its-formats.md §1.2", byteCount: 4, fields: [
        BitField("Quiescent", 31, 31), BitField("ITS_Number", 7, 4), BitField("ImDe", 1, 1),
        BitField("Enabled", 0, 0)])
    public enum Fields {
        public static let quiescent = layout["Quiescent"], itsNumber = layout["ITS_Number"], imDe = layout["ImDe"]
        public static let enabled = layout["Enabled"]
    }

    public var enabled: Bool { Fields.enabled.isSet(rawValue) }
    public var quiescent: Bool { Fields.quiescent.isSet(rawValue) }
}

/// GITS_CBASER (its-formats.md §1.5).
public struct GITSCBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(name: "GITS_CBASER", source: "Documentation/its-formats.md §1.5", byteCount: 8, fields: [
        BitField("Valid", 63, 63), BitField("InnerCache", 61, 59), BitField("OuterCache", 55, 53),
        BitField("Physical_Address", 51, 12), BitField("Shareability", 11, 10), BitField("Size", 7, 0)])
    public enum Fields {
        public static let valid = layout["Valid"], innerCache = layout["InnerCache"], outerCache = layout["OuterCache"]
        public static let physicalAddress = layout["Physical_Address"], shareability = layout["Shareability"]
        public static let size = layout["Size"]
    }

    public var valid: Bool { Fields.valid.isSet(rawValue) }
    public var physicalAddress: GuestPhysicalAddress { GuestPhysicalAddress(Fields.physicalAddress.inPlace(rawValue)) }
    /// Queue size in bytes: (Size + 1) × 4 KiB.
    public var queueBytes: UInt64 { (Fields.size.extract(rawValue) + 1) * 4096 }
}

/// GITS_CWRITER / GITS_CREADR: byte offset of a command slot in [19:5] (its-formats.md §1.5).
public struct GITSCommandOffset: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public enum Fields {
        // Offset: the slot's byte offset, bits [19:5] in place.
        public static let offset = writerLayout["Offset"], retry = writerLayout["Retry"], stalled = readerLayout["Stalled"]
    }
    public static let writerLayout = BitLayout(name: "GITS_CWRITER", source: "Documentation/its-formats.md §1.5", byteCount: 8, fields: [
        BitField("Offset", 19, 5), BitField("Retry", 0, 0)])
    public static let readerLayout = BitLayout(name: "GITS_CREADR", source: "Documentation/its-formats.md §1.5", byteCount: 8, fields: [
        BitField("Offset", 19, 5), BitField("Stalled", 0, 0)])

    public var offset: UInt64 { Fields.offset.inPlace(rawValue) }
    /// Retry (CWRITER) or Stalled (CREADR): the same bit.
    public var flag: Bool { Fields.retry.isSet(rawValue) }
}

/// GICR_PROPBASER (its-formats.md §1.8).
public struct GICRPropBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(name: "GICR_PROPBASER", source: "Documentation/its-formats.md §1.8", byteCount: 8, fields: [
        BitField("OuterCache", 58, 56), BitField("Physical_Address", 51, 12), BitField("Shareability", 11, 10),
        BitField("InnerCache", 9, 7), BitField("IDbits", 4, 0)])
    public enum Fields {
        public static let outerCache = layout["OuterCache"], physicalAddress = layout["Physical_Address"], shareability = layout["Shareability"]
        public static let innerCache = layout["InnerCache"], idBits = layout["IDbits"]
    }

    /// INTID bits (the field holds bits − 1).
    public var idBits: UInt64 { Fields.idBits.extract(rawValue) + 1 }
    public var physicalAddress: GuestPhysicalAddress { GuestPhysicalAddress(Fields.physicalAddress.inPlace(rawValue)) }
    /// One past the largest INTID the property table covers: 2^(IDbits+1).
    public var intidLimit: UInt64 { UInt64(1) << idBits }
}

/// GICR_PENDBASER (its-formats.md §1.8).
public struct GICRPendBaser: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let layout = BitLayout(name: "GICR_PENDBASER", source: "Documentation/its-formats.md §1.8", byteCount: 8, fields: [
        BitField("PTZ", 62, 62), BitField("OuterCache", 58, 56), BitField("Physical_Address", 51, 16),
        BitField("Shareability", 11, 10), BitField("InnerCache", 9, 7)])
    public enum Fields {
        public static let ptz = layout["PTZ"], outerCache = layout["OuterCache"], physicalAddress = layout["Physical_Address"]
        public static let shareability = layout["Shareability"], innerCache = layout["InnerCache"]
    }

    public var ptz: Bool { Fields.ptz.isSet(rawValue) }
    public var physicalAddress: GuestPhysicalAddress { GuestPhysicalAddress(Fields.physicalAddress.inPlace(rawValue)) }
}

/// One byte of the LPI configuration table, at PROPBASER.PA + (LPI − 8192) (its-formats.md §1.8
/// "LPI configuration table").
public enum LPIProperty {
    /// Priority [7:2] in place: the two low bits are implied 0 (KVM uses `prop & 0xFC`).
    public static let priority = BitField("Priority", 7, 2)
    /// RES1 in GICv3 (Linux: `LPI_PROP_GROUP1`).
    public static let group1 = BitField("Group1", 1, 1)
    public static let enable = BitField("Enable", 0, 0)
    public static let layout = BitLayout(name: "LPI property", source: "Documentation/its-formats.md §1.8", byteCount: 1,
                                         fields: [priority, group1, enable])
}
