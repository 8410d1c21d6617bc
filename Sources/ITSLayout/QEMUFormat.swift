/// QEMU's emulated ITS (`arm-gicv3-its`, QEMU ≥ 7.0 layouts; its-formats.md §1.11, from
/// hw/intc/gicv3_internal.h FIELD definitions).
public enum QEMUFormat {
    /// `GITS_DTE_SIZE`, `GITS_CTE_SIZE`.
    public static let entrySize: UInt64 = 8
    /// `ITS_ITT_ENTRY_SIZE`: ITE_L (8 bytes) + ITE_H (4 bytes).
    public static let iteSize: UInt64 = 12

    public static let dteLayout = BitLayout(
        name: "QEMU DTE", source: "its-formats.md §1.11", byteCount: 8,
        fields: [BitField("ITT_addr", 49, 6), BitField("Size", 5, 1), BitField("Valid", 0, 0)])
    public static let cteLayout = BitLayout(
        name: "QEMU CTE", source: "its-formats.md §1.11", byteCount: 8,
        fields: [BitField("RDBase", 16, 1), BitField("Valid", 0, 0)])
    public static let iteLowLayout = BitLayout(
        name: "QEMU ITE_L", source: "its-formats.md §1.11", byteCount: 8,
        fields: [
            BitField("vPEID", 63, 48), BitField("ICID", 47, 32), BitField("unused", 31, 26),
            BitField("INTID", 25, 2), BitField("IntType", 1, 1), BitField("Valid", 0, 0),
        ])
    public static let iteHighLayout = BitLayout(
        name: "QEMU ITE_H", source: "its-formats.md §1.11", byteCount: 4,
        fields: [BitField("Doorbell", 23, 0)])

    public static func decodeDTE(_ raw: UInt64) -> DeviceTableEntry {
        DeviceTableEntry(
            raw: raw, valid: raw & 1 == 1,
            ittAddress: GuestPhysicalAddress((raw >> 6 & ((1 << 44) - 1)) << 8),
            eventIDBits: (raw >> 1 & 0x1F) + 1, next: nil)
    }

    public static func decodeCTE(_ raw: UInt64) -> CollectionTableEntry {
        CollectionTableEntry(raw: raw, valid: raw & 1 == 1, icid: nil, rdBase: raw >> 1 & 0xFFFF)
    }

    public static func decodeITE(low: UInt64, high: UInt64) -> InterruptTranslationEntry {
        // QEMU 6.2 wrote ITE_H (ICID) over ITE_L's upper half and a 1023 doorbell in [49:26];
        // the ≥ 7.0 layout reads such entries with the right ICID and [31:26] = 0x3F
        // (its-formats.md §1.11 "Residue / compatibility rules"; QEMU a1ce993da6fc).
        InterruptTranslationEntry(
            raw: [low, high], valid: low & 1 == 1, lpi: LPI(UInt32(low >> 2 & 0xFF_FFFF)),
            icid: ICID(UInt32(low >> 32 & 0xFFFF)), physical: low >> 1 & 1 == 1, next: nil,
            writtenByQEMU62: low >> 26 & 0x3F == 0x3F)
    }
}
