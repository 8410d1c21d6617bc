/// Where a table lives and how IDs map onto entries, flat or two-level (its-formats.md §1.7).
public struct TableGeometry: Sendable, Hashable {
    public var baserIndex: Int
    public var baser: GITSBaser
    public var base: GuestPhysicalAddress
    public var indirect: Bool
    public var pageSize: UInt64
    /// Bytes per entry (BASER Entry_Size + 1).
    public var entrySize: UInt64
    /// Bytes of the (level-1) table: (Size + 1) × page size.
    public var tableBytes: UInt64
    /// One past the largest ID the ITS can index (2^bits from GITS_TYPER or the format).
    public var idLimit: UInt64

    /// Entries per level-2 page.
    public var entriesPerPage: UInt64 { pageSize / entrySize }
    /// Level-1 entries (two-level) or entries (flat) the table holds.
    public var slotCount: UInt64 { indirect ? tableBytes / 8 : tableBytes / entrySize }
    /// IDs the table geometry can hold, before the GITS_TYPER limit.
    public var capacity: UInt64 { indirect ? slotCount * entriesPerPage : slotCount }
    /// IDs that can be looked up: both the geometry and GITS_TYPER bound them.
    public var reachableIDs: UInt64 { min(capacity, idLimit) }

    public var extent: GuestRange { GuestRange(start: base, length: tableBytes) }

    /// Builds the geometry of a valid BASER, or says why the register is unusable.
    public static func make(baserIndex: Int, baser: GITSBaser, requiredEntrySize: UInt64,
                            idBits: UInt64) -> Either
    {
        guard let page = baser.pageSize else {
            return .unusable(Finding(.baserUnusable,
                "GITS_BASER\(baserIndex) \(hex(baser.rawValue)): Page_Size 3 is reserved"))
        }
        guard baser.entrySize == requiredEntrySize else {
            return .unusable(Finding(.baserUnusable,
                "GITS_BASER\(baserIndex) \(hex(baser.rawValue)): Entry_Size is \(baser.entrySize) bytes, the format's entries are \(requiredEntrySize)"))
        }
        return .usable(TableGeometry(
            baserIndex: baserIndex, baser: baser, base: baser.physicalAddress,
            indirect: baser.indirect, pageSize: page.bytes, entrySize: baser.entrySize,
            tableBytes: baser.tableBytes, idLimit: UInt64(1) << min(idBits, 32)))
    }
}

extension TableGeometry {
    public enum Either: Sendable {
        case usable(TableGeometry)
        case unusable(Finding)
    }
}
