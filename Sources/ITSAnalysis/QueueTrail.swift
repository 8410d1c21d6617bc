import ITSLayout

/// The command queue's word on one (DeviceID, EventID): the commands still in the ring that
/// touch it, in the order the ITS executed them, and what replaying them says the key should
/// be. The ring keeps the most recent commands (its-formats.md §2.1): when a command for the key
/// is in it, every later command is too, so "the last command" is exact even when the ring
/// wrapped; only the absence of any command proves nothing.
public struct QueueTrail: Sendable {
    /// One command of the ring, with its place in execution order (0 = oldest still in the ring).
    public struct Step: Sendable, Hashable {
        public var order: Int
        public var command: ITSCommand
    }

    /// Every processed command that touches the key (MAPD of its device, MAPTI/MAPI/MOVI/DISCARD/
    /// INV/INT/CLEAR of the event, MAPC/INVALL of its collections), oldest first.
    public var processed: [Step] = []
    /// Commands between GITS_CREADR and GITS_CWRITER that touch it: the tables predate them.
    public var pending: [Step] = []

    /// The last of MAPD (device), MAPTI/MAPI and DISCARD (event) when it unmaps: MAPD V=0 or DISCARD.
    public var unmappedBy: Step?
    /// The last MAPTI/MAPI when no MAPD or DISCARD followed it.
    public var mappedBy: Step?
    /// The LPI `mappedBy` maps (MAPI: LPI = EventID, its-formats.md §2.3).
    public var lpi: LPI?
    /// The event's collection after the last MAPTI/MAPI/MOVI.
    public var icid: ICID?
    /// The command that set `icid` (MAPTI, MAPI or MOVI).
    public var icidBy: Step?
    /// The device's last MAPD with V=1 (its ITT) and V=0.
    public var lastMapValid: Step?
    public var lastUnmap: Step?

    public var isEmpty: Bool { processed.isEmpty && pending.isEmpty }

    /// The last MAPC of `icid` (processed), if the ring holds one.
    public func mapc(_ icid: ICID) -> Step? {
        processed.last { $0.command.opcode == 0x09 && $0.command.icid == icid }
    }

    /// The RDbase field of a MAPC (a processor number when GITS_TYPER.PTA = 0).
    public static func rdBase(_ c: ITSCommand) -> UInt64 { ITSCommand.Fields.rdBase.extract(c.words) }
    public static func valid(_ c: ITSCommand) -> Bool { ITSCommand.Fields.valid.extract(c.words) == 1 }
    /// MAPD's ITT address, in place (its-formats.md §2.3).
    public static func ittAddress(_ c: ITSCommand) -> UInt64 {
        let f = ITSCommand.Fields.ittAddress
        return f.word < c.words.count ? f.bits.inPlace(c.words[f.word]) : 0
    }
}

/// The queue of one ITS indexed once, so that each key's trail is a lookup.
public struct QueueIndex: Sendable {
    public let queue: CommandQueue?
    private var byDevice: [DeviceID: [QueueTrail.Step]] = [:]
    private var byCollection: [ICID: [QueueTrail.Step]] = [:]
    private var pendingSteps: [QueueTrail.Step] = []

    public init(_ queue: CommandQueue?) {
        self.queue = queue
        guard let queue else { return }
        for (i, c) in (queue.history + queue.pending).enumerated() {
            let step = QueueTrail.Step(order: i, command: c)
            if c.state == .pending { pendingSteps.append(step) }
            if let d = c.deviceID { byDevice[d, default: []].append(step) }
            // MAPC and INVALL name a collection, not an event.
            if c.opcode == 0x09 || c.opcode == 0x0D, let icid = c.icid { byCollection[icid, default: []].append(step) }
        }
    }

    /// Whether any command of the ring names the device (then its absence for an event means something).
    public func knows(_ device: DeviceID) -> Bool { byDevice[device] != nil }

    /// Every (DeviceID, EventID) whose last processed MAPTI/MAPI is not undone by a later MAPD or DISCARD.
    public var mappedKeys: [(DeviceID, EventID)] {
        var out: Set<[UInt32]> = []
        for (d, steps) in byDevice {
            for s in steps where s.command.state == .processed {
                switch s.command.opcode {
                case 0x08: out = out.filter { $0[0] != d.rawValue }
                case 0x0A, 0x0B: if let e = s.command.eventID { out.insert([d.rawValue, e.rawValue]) }
                case 0x0F: if let e = s.command.eventID { out.remove([d.rawValue, e.rawValue]) }
                default: break
                }
            }
        }
        return out.sorted { $0.lexicographicallyPrecedes($1) }.map { (DeviceID($0[0]), EventID($0[1])) }
    }

    /// The trail of one key; `icids` are the collections its route uses (MAPC/INVALL of them are evidence).
    public func trail(_ device: DeviceID, _ event: EventID, icids: [ICID]) -> QueueTrail {
        var t = QueueTrail()
        guard queue != nil else { return t }
        var steps = (byDevice[device] ?? []).filter { s in
            s.command.opcode == 0x08 || s.command.eventID == event
        }
        for icid in Set(icids) { steps += byCollection[icid] ?? [] }
        steps.sort { $0.order < $1.order }
        for s in steps {
            if s.command.state == .pending { t.pending.append(s); continue }
            t.processed.append(s)
            let c = s.command
            switch c.opcode {
            case 0x08:
                if QueueTrail.valid(c) { t.lastMapValid = s; t.unmappedBy = nil } else { t.lastUnmap = s; t.unmappedBy = s }
                // A MAPD forgets the device's events (its-formats.md §2.3).
                t.mappedBy = nil; t.lpi = nil; t.icid = nil; t.icidBy = nil
            case 0x0A, 0x0B:
                t.mappedBy = s; t.unmappedBy = nil
                t.lpi = c.opcode == 0x0A ? LPI(UInt32(truncatingIfNeeded: ITSCommand.Fields.pINTID.extract(c.words))) : LPI(event.rawValue)
                t.icid = c.icid; t.icidBy = s
            case 0x01:
                if t.mappedBy != nil { t.icid = c.icid; t.icidBy = s }
            case 0x0F:
                t.unmappedBy = s; t.mappedBy = nil; t.lpi = nil; t.icid = nil; t.icidBy = nil
            default: break
            }
        }
        return t
    }
}
