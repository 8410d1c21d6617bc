/// The valid ITEs the walk recorded for one ITT, packed: the entry's words, its EventID and its
/// status in parallel arrays (13 bytes an entry for KVM, 17 for QEMU). Read as a collection of
/// `ITESlot`s, decoded on access. Issue 22: as `[ITESlot]`, each entry with its words in a heap
/// array, a million ITEs held ~110 MiB before a route was written.
public struct ITTSlots: RandomAccessCollection, Sendable, Hashable {
    public let format: ITSFormat
    /// The ITT's base: the walkers read EventID e's entry at base + e × ITE size.
    public let base: GuestPhysicalAddress
    /// The one word (KVM, §1.10) or ITE_L (QEMU, §1.11).
    private var low: [UInt64] = []
    /// QEMU's 32-bit ITE_H (§1.11); empty for KVM.
    private var high: [UInt32] = []
    private var events: [UInt32] = []
    private var statuses: [EntryStatus] = []

    public init(format: ITSFormat, base: GuestPhysicalAddress) {
        self.format = format
        self.base = base
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { events.count }

    public subscript(i: Int) -> ITESlot {
        ITESlot(eventID: eventID(i), address: address(i), ite: ite(i), status: statuses[i])
    }

    public func eventID(_ i: Int) -> EventID { EventID(events[i]) }
    public func status(_ i: Int) -> EntryStatus { statuses[i] }
    /// An EventID is below 2^32 and the ITT's extent fits the address space (`ittGeometry`):
    /// the sum does not wrap.
    public func address(_ i: Int) -> GuestPhysicalAddress {
        GuestPhysicalAddress(base.rawValue &+ UInt64(events[i]) &* format.iteSize)
    }
    public func ite(_ i: Int) -> InterruptTranslationEntry {
        switch format {
        case .kvm: KVMFormat.decodeITE(low[i])
        case .qemu: QEMUFormat.decodeITE(low: low[i], high: UInt64(high[i]))
        }
    }

    /// Records `slot`, whose address the walk computed as `base` + EventID × ITE size.
    mutating func append(_ slot: ITESlot) {
        low.append(slot.ite.rawLow)
        if format == .qemu { high.append(UInt32(truncatingIfNeeded: slot.ite.rawHigh ?? 0)) }
        events.append(slot.eventID.rawValue)
        statuses.append(slot.status)
    }

    mutating func setStatus(_ status: EntryStatus, at i: Int) { statuses[i] = status }

    /// Keeps the first `count` entries.
    mutating func keepFirst(_ count: Int) {
        guard count < events.count else { return }
        let drop = events.count - count
        low.removeLast(drop)
        if format == .qemu { high.removeLast(drop) }
        events.removeLast(drop)
        statuses.removeLast(drop)
    }

    /// In EventID order (each EventID is recorded once per ITT).
    mutating func sortByEventID() {
        guard zip(events, events.dropFirst()).contains(where: { $0 > $1 }) else { return }
        let order = events.indices.sorted { events[$0] < events[$1] }
        var out = ITTSlots(format: format, base: base)
        out.low.reserveCapacity(order.count)
        if format == .qemu { out.high.reserveCapacity(order.count) }
        out.events.reserveCapacity(order.count)
        out.statuses.reserveCapacity(order.count)
        for i in order {
            out.low.append(low[i])
            if format == .qemu { out.high.append(high[i]) }
            out.events.append(events[i])
            out.statuses.append(statuses[i])
        }
        self = out
    }
}
