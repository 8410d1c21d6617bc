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

    /// DTE (`KVM_ITS_DTE_*`): ITT_addr holds address bits [51:8]; Size is EventID bits − 1.
    public enum DTE {
        public static let layout = BitLayout(name: "KVM DTE", source: "Documentation/its-formats.md §1.10", byteCount: 8, fields: [
            BitField("V", 63, 63), BitField("next", 62, 49), BitField("ITT_addr", 48, 5), BitField("Size", 4, 0)])
        public static let valid = layout["V"], next = layout["next"], ittAddress = layout["ITT_addr"], size = layout["Size"]
    }
    /// CTE (`KVM_ITS_CTE_*`). KVM writes a 32-bit target shifted by 16 and reads back
    /// `(u32)(val >> 16)`; the layout names the architectural RDBase width.
    public enum CTE {
        public static let layout = BitLayout(name: "KVM CTE", source: "Documentation/its-formats.md §1.10", byteCount: 8, fields: [
            BitField("V", 63, 63), BitField("RDBase", 51, 16), BitField("ICID", 15, 0)])
        public static let valid = layout["V"], rdBase = layout["RDBase"], icid = layout["ICID"]
    }
    /// ITE (`KVM_ITS_ITE_*`). No valid bit: pINTID 0 means invalid.
    public enum ITE {
        public static let layout = BitLayout(name: "KVM ITE", source: "Documentation/its-formats.md §1.10", byteCount: 8, fields: [
            BitField("next", 63, 48), BitField("pINTID", 47, 16), BitField("ICID", 15, 0)])
        public static let next = layout["next"], pINTID = layout["pINTID"], icid = layout["ICID"]
    }

    public static var dteLayout: BitLayout { DTE.layout }
    public static var cteLayout: BitLayout { CTE.layout }
    public static var iteLayout: BitLayout { ITE.layout }

    public static func decodeDTE(_ raw: UInt64) -> DeviceTableEntry {
        DeviceTableEntry(
            raw: raw, valid: DTE.valid.isSet(raw),
            ittAddress: GuestPhysicalAddress(DTE.ittAddress.extract(raw) << 8),
            eventIDBits: DTE.size.extract(raw) + 1,
            next: DTE.next.extract(raw))
    }

    public static func decodeCTE(_ raw: UInt64) -> CollectionTableEntry {
        CollectionTableEntry(
            raw: raw, valid: CTE.valid.isSet(raw), icid: ICID(UInt32(CTE.icid.extract(raw))),
            rdBase: CTE.rdBase.extract(raw))
    }

    public static func decodeITE(_ raw: UInt64) -> InterruptTranslationEntry {
        let lpi = UInt32(truncatingIfNeeded: ITE.pINTID.extract(raw))
        return InterruptTranslationEntry(
            rawLow: raw, rawHigh: nil, valid: lpi != 0, lpi: LPI(lpi), icid: ICID(UInt32(ITE.icid.extract(raw))),
            physical: true, next: ITE.next.extract(raw), writtenByQEMU62: false)
    }
}
