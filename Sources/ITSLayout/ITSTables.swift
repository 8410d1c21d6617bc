/// What a walk found in one ITS's tables: every entry with its guest PA, raw value and whether
/// it is live (routes use it), stale (KVM: valid-looking but off the restore walk) or ignored.

public enum EntryStatus: String, Sendable {
    /// Used by the ITS (QEMU) or restored by KVM's restore walk.
    case live
    /// Valid-looking, but KVM's restore walk does not reach it: left over from an older save.
    case stale
    /// Valid-looking, but after the end KVM's restore stops at (collection table terminator).
    case ignored
    /// On KVM's restore walk, but rejected by it (-EINVAL): the restore would fail.
    case rejected
}

public struct Level1Slot: Sendable, Hashable {
    public var index: UInt64
    public var address: GuestPhysicalAddress
    public var entry: Level1Entry
}

public struct ITESlot: Sendable, Hashable {
    public var eventID: EventID
    public var address: GuestPhysicalAddress
    public var ite: InterruptTranslationEntry
    public var status: EntryStatus
}

public struct DeviceSlot: Sendable, Hashable {
    public var deviceID: DeviceID
    public var address: GuestPhysicalAddress
    public var dte: DeviceTableEntry
    public var status: EntryStatus
    /// Valid ITEs of this device's ITT, by EventID.
    public var itt: ITTSlots
    /// EventIDs the ITT can hold after clamping to GITS_TYPER.IDbits.
    public var ittEntries: UInt64
    public var ittExtent: GuestRange
}

public struct CollectionSlot: Sendable, Hashable {
    public var icid: ICID
    public var address: GuestPhysicalAddress
    public var cte: CollectionTableEntry
    public var status: EntryStatus
}

public struct ITSTables: Sendable {
    public var itsIndex: Int
    public var registers: ITSRegisterState
    public var format: ITSFormat
    /// Why this format was chosen ("GITS_TYPER.ITT_entry_size = 7 (8-byte ITEs)", "--format").
    public var formatReason: String
    public var deviceTable: TableGeometry?
    public var collectionTable: TableGeometry?
    public var deviceLevel1: [Level1Slot] = []
    public var collectionLevel1: [Level1Slot] = []
    public var devices: [DeviceSlot] = []
    public var collections: [CollectionSlot] = []
    public var findings: [Finding] = []
    /// 4 KiB guest pages the walk read.
    public var touchedPages: [UInt64] = []

    public var liveCollections: [ICID: CollectionSlot] {
        var out: [ICID: CollectionSlot] = [:]
        for c in collections where c.status == .live && out[c.icid] == nil { out[c.icid] = c }
        return out
    }
}

/// Unusable input for the walk: the registers do not describe tables that can be walked.
public enum ITSLayoutError: ToolError {
    case noRegisters
    case noBaser(itsIndex: Int)
    case unknownFormat(itsIndex: Int)

    public var description: String {
        switch self {
        case .noRegisters:
            return "no ITS register values: GITS_BASER values are not stored in ELF cores, kdump files or raw RAM images; pass --regs FILE.json (the state file), --baser N=0x… flags, --vmlinux (the guest kernel's records), or a migration stream; `itsdump help registers` says how"
        case .noBaser(let i):
            return "ITS \(i): no GITS_BASER value was given: pass --regs FILE.json or --baser N=0x… (GITS_BASER values are not stored in ELF cores, kdump files or raw RAM images)"
        case .unknownFormat(let i):
            return "ITS \(i): cannot tell the table format: neither GITS_TYPER.ITT_entry_size nor GITS_IIDR is known; pass --format kvm|qemu, --typer or --iidr"
        }
    }
}

/// Picks the entry format: TYPER.ITT_entry_size (8 bytes → KVM, 12 → QEMU), then IIDR
/// (ProductID 0x4B → KVM; 0x43B or 0 → QEMU), unless overridden (its-formats.md Appendix).
public func chooseFormat(_ regs: ITSRegisterState, itsIndex: Int, override: ITSFormat?)
    throws(ITSLayoutError) -> (ITSFormat, String)
{
    if let o = override { return (o, "--format \(o.rawValue)") }
    if let t = regs.typer {
        switch t.value.ittEntrySize {
        case 8: return (.kvm, "GITS_TYPER.ITT_entry_size = 7 (8-byte ITEs: KVM)")
        case 12: return (.qemu, "GITS_TYPER.ITT_entry_size = 11 (12-byte ITEs: QEMU)")
        default: break
        }
    }
    if let i = regs.iidr {
        if i.value.productID == GITSIIDR.kvmProductID {
            return (.kvm, "GITS_IIDR ProductID 0x4b (KVM)")
        }
        if i.value.rawValue == 0x43B || i.value.rawValue == 0 {
            return (.qemu, "GITS_IIDR \(hex(i.value.rawValue)) (QEMU's emulated ITS)")
        }
    }
    throw .unknownFormat(itsIndex: itsIndex)
}
