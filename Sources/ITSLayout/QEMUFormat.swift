/// QEMU's emulated ITS (`arm-gicv3-its`, QEMU ≥ 7.0 layouts; its-formats.md §1.11, from
/// hw/intc/gicv3_internal.h FIELD definitions).
public enum QEMUFormat {
    /// `GITS_DTE_SIZE`, `GITS_CTE_SIZE`.
    public static let entrySize: UInt64 = 8
    /// `ITS_ITT_ENTRY_SIZE`: ITE_L (8 bytes) + ITE_H (4 bytes).
    public static let iteSize: UInt64 = 12

    /// DTE fields (`FIELD(DTE, …)`).
    public enum DTE {
        /// Address bits [51:8].
        public static let ittAddress = BitField("ITT_addr", 49, 6)
        /// EventID bits − 1.
        public static let size = BitField("Size", 5, 1)
        public static let valid = BitField("Valid", 0, 0)
        public static let layout = BitLayout(name: "QEMU DTE", source: "its-formats.md §1.11", byteCount: 8,
                                             fields: [ittAddress, size, valid])
    }
    /// CTE fields (`FIELD(CTE, …)`): RDBase is a processor number (GITS_TYPER.PTA = 0).
    public enum CTE {
        public static let rdBase = BitField("RDBase", 16, 1)
        public static let valid = BitField("Valid", 0, 0)
        public static let layout = BitLayout(name: "QEMU CTE", source: "its-formats.md §1.11", byteCount: 8,
                                             fields: [rdBase, valid])
    }
    /// ITE_L fields (`FIELD(ITE_L, …)`).
    public enum ITELow {
        public static let vPEID = BitField("vPEID", 63, 48)
        public static let icid = BitField("ICID", 47, 32)
        /// Zero in the ≥ 7.0 layout; 0x3F in an entry QEMU 6.2 wrote (its doorbell 1023 in [49:26]).
        public static let unused = BitField("unused", 31, 26)
        public static let intid = BitField("INTID", 25, 2)
        public static let intType = BitField("IntType", 1, 1)
        public static let valid = BitField("Valid", 0, 0)
        public static let layout = BitLayout(name: "QEMU ITE_L", source: "its-formats.md §1.11", byteCount: 8,
                                             fields: [vPEID, icid, unused, intid, intType, valid])
    }
    /// ITE_H fields (`FIELD(ITE_H, …)`).
    public enum ITEHigh {
        public static let doorbell = BitField("Doorbell", 23, 0)
        public static let layout = BitLayout(name: "QEMU ITE_H", source: "its-formats.md §1.11", byteCount: 4,
                                             fields: [doorbell])
    }

    public static var dteLayout: BitLayout { DTE.layout }
    public static var cteLayout: BitLayout { CTE.layout }
    public static var iteLowLayout: BitLayout { ITELow.layout }
    public static var iteHighLayout: BitLayout { ITEHigh.layout }

    public static func decodeDTE(_ raw: UInt64) -> DeviceTableEntry {
        DeviceTableEntry(
            raw: raw, valid: DTE.valid.isSet(raw),
            ittAddress: GuestPhysicalAddress(DTE.ittAddress.extract(raw) << 8),
            eventIDBits: DTE.size.extract(raw) + 1, next: nil)
    }

    public static func decodeCTE(_ raw: UInt64) -> CollectionTableEntry {
        CollectionTableEntry(raw: raw, valid: CTE.valid.isSet(raw), icid: nil, rdBase: CTE.rdBase.extract(raw))
    }

    public static func decodeITE(low: UInt64, high: UInt64) -> InterruptTranslationEntry {
        // QEMU 6.2 wrote ITE_H (ICID) over ITE_L's upper half and a 1023 doorbell in [49:26];
        // the ≥ 7.0 layout reads such entries with the right ICID and [31:26] = 0x3F
        // (its-formats.md §1.11 "Residue / compatibility rules"; QEMU a1ce993da6fc).
        InterruptTranslationEntry(
            raw: [low, high], valid: ITELow.valid.isSet(low), lpi: LPI(UInt32(ITELow.intid.extract(low))),
            icid: ICID(UInt32(ITELow.icid.extract(low))), physical: ITELow.intType.isSet(low), next: nil,
            writtenByQEMU62: ITELow.unused.extract(low) == ITELow.unused.mask)
    }
}
