/// KVM's ITS save/restore ABI, revision 0: all entries 8 bytes, little-endian
/// (its-formats.md §1.10; Linux Documentation/virt/kvm/devices/arm-vgic-its.rst "ITS Table
/// ABI REV0"; masks `KVM_ITS_*` in arch/arm64/kvm/vgic/vgic.h).
public enum KVMFormat {
    /// `ABI_0_ESZ`.
    public static let entrySize: UInt64 = 8
    /// `VITS_DTE_MAX_DEVID_OFFSET`: a DTE's `next` is capped here; the real gap may be larger.
    public static let maxDeviceOffset: UInt64 = (1 << 14) - 1
    /// `VITS_ITE_MAX_EVENTID_OFFSET`.
    public static let maxEventOffset: UInt64 = (1 << 16) - 1
    /// `COLLECTION_NOT_MAPPED`: a collection created by MAPTI/MAPI before any MAPC.
    public static let collectionNotMapped: UInt64 = 0xFFFF_FFFF
    /// KVM's ITS only supports 64 KiB pages (`vgic_sanitise_its_baser`).
    public static let pageSize: UInt64 = 65536
    /// KVM accepts 16 DeviceID and EventID bits and 16-bit ICIDs (`vgic_its_check_id`).
    public static let idBits: UInt64 = 16

    public static let dteLayout = BitLayout(
        name: "KVM DTE", source: "its-formats.md §1.10", byteCount: 8,
        fields: [
            BitField("V", 63, 63), BitField("next", 62, 49),
            BitField("ITT_addr", 48, 5), BitField("Size", 4, 0),
        ])
    public static let cteLayout = BitLayout(
        name: "KVM CTE", source: "its-formats.md §1.10", byteCount: 8,
        fields: [BitField("V", 63, 63), BitField("RDBase", 51, 16), BitField("ICID", 15, 0)])
    public static let iteLayout = BitLayout(
        name: "KVM ITE", source: "its-formats.md §1.10", byteCount: 8,
        fields: [BitField("next", 63, 48), BitField("pINTID", 47, 16), BitField("ICID", 15, 0)])

    public static func decodeDTE(_ raw: UInt64) -> DeviceTableEntry {
        DeviceTableEntry(
            raw: raw, valid: raw >> 63 & 1 == 1,
            // ITT_addr holds address bits [51:8]: the ITT is 256-byte aligned.
            ittAddress: GuestPhysicalAddress((raw >> 5 & ((1 << 44) - 1)) << 8),
            eventIDBits: (raw & 0x1F) + 1,
            next: raw >> 49 & 0x3FFF)
    }

    public static func decodeCTE(_ raw: UInt64) -> CollectionTableEntry {
        // KVM writes a 32-bit target shifted by 16 and reads back `(u32)(val >> 16)`.
        CollectionTableEntry(
            raw: raw, valid: raw >> 63 & 1 == 1, icid: ICID(UInt32(raw & 0xFFFF)),
            rdBase: raw >> 16 & 0xF_FFFF_FFFF)
    }

    public static func decodeITE(_ raw: UInt64) -> InterruptTranslationEntry {
        let lpi = UInt32(truncatingIfNeeded: raw >> 16)
        // No valid bit: pINTID 0 means invalid.
        return InterruptTranslationEntry(
            raw: [raw], valid: lpi != 0, lpi: LPI(lpi), icid: ICID(UInt32(raw & 0xFFFF)),
            physical: true, next: raw >> 48, writtenByQEMU62: false)
    }
}
