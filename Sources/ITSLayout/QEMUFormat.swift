/// QEMU's emulated ITS (`arm-gicv3-its`, QEMU ≥ 7.0 layouts; its-formats.md §1.11, from
/// hw/intc/gicv3_internal.h FIELD definitions).
public enum QEMUFormat {
    /// `GITS_DTE_SIZE`, `GITS_CTE_SIZE`.
    public static let entrySize: UInt64 = 8
    /// `ITS_ITT_ENTRY_SIZE`: ITE_L (8 bytes) + ITE_H (4 bytes).
    public static let iteSize: UInt64 = 12

    /// DTE (`FIELD(DTE, …)`): ITT_addr holds address bits [51:8]; Size is EventID bits − 1.
    public enum DTE {
        public static let layout = BitLayout(name: "QEMU DTE", source: "Documentation/its-formats.md §1.11", byteCount: 8, fields: [
            BitField("ITT_addr", 49, 6), BitField("Size", 5, 1), BitField("Valid", 0, 0)])
        public static let ittAddress = layout["ITT_addr"], size = layout["Size"], valid = layout["Valid"]
    }
    /// CTE (`FIELD(CTE, …)`): RDBase is a processor number (GITS_TYPER.PTA = 0).
    public enum CTE {
        public static let layout = BitLayout(name: "QEMU CTE", source: "Documentation/its-formats.md §1.11", byteCount: 8, fields: [
            BitField("RDBase", 16, 1), BitField("Valid", 0, 0)])
        public static let rdBase = layout["RDBase"], valid = layout["Valid"]
    }
    /// ITE_L (`FIELD(ITE_L, …)`). `unused` is zero in the ≥ 7.0 layout and 0x3F in an entry
    /// QEMU 6.2 wrote (its doorbell 1023 in [49:26]).
    public enum ITELow {
        public static let layout = BitLayout(name: "QEMU ITE_L", source: "Documentation/its-formats.md §1.11", byteCount: 8, fields: [
            BitField("vPEID", 63, 48), BitField("ICID", 47, 32), BitField("unused", 31, 26),
            BitField("INTID", 25, 2), BitField("IntType", 1, 1), BitField("Valid", 0, 0)])
        public static let vPEID = layout["vPEID"], icid = layout["ICID"], unused = layout["unused"]
        public static let intid = layout["INTID"], intType = layout["IntType"], valid = layout["Valid"]
    }
    /// ITE_H (`FIELD(ITE_H, …)`).
    public enum ITEHigh {
        public static let layout = BitLayout(name: "QEMU ITE_H", source: "Documentation/its-formats.md §1.11", byteCount: 4, fields: [
            BitField("Doorbell", 23, 0)])
        public static let doorbell = layout["Doorbell"]
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
            rawLow: low, rawHigh: high, valid: ITELow.valid.isSet(low), lpi: LPI(UInt32(ITELow.intid.extract(low))),
            icid: ICID(UInt32(ITELow.icid.extract(low))), physical: ITELow.intType.isSet(low), next: nil,
            writtenByQEMU62: ITELow.unused.extract(low) == ITELow.unused.mask)
    }
}
