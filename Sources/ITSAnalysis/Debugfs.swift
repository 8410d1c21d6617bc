import ITSLayout
/// KVM's debugfs views (its-formats.md §4): `vgic-state` (every kernel variant of §4.1) and
/// `vgic-its-state@<base>` (§4.2, Linux ≥ 6.16). Parsing is bounded: rows beyond the caps,
/// and the endless repetition of the 6.10 iterator bug, end the read with a note.
public struct VGICState: Sendable {
    public struct IRQRow: Sendable, Hashable {
        public var type: String
        public var intid: UInt32
        /// TGT_ID: the target vCPU, or -1.
        public var targetVCPU: Int
        public var pending, lineLevel, active, enabled, hw, level, group: Bool
        public var hwid: UInt64
        public var mpidr: UInt64
        public var priority: UInt8
        public var queuedOn: Int
    }

    public var model: String?
    public var nrSPIs: Int?
    public var nrLPIs: Int?
    public var enabled: Bool?
    public var lpis: [IRQRow] = []
    /// "LPI n freed" rows (≤ 6.9 kernels: freed between the snapshot and the print).
    public var freed: [UInt32] = []
    public var notes: [String] = []

    public static let maxRows = 1 << 20
    /// Identical consecutive rows that mean the iterator never ends (6.10, fixed by 01ab08cafece).
    public static let endlessRepeat = 64

    /// Text only: a binary file (an ELF core given by mistake) can hold these words in guest
    /// RAM (a cached kvm.ko), and debugfs text never holds a NUL byte.
    public static func looksLike(_ text: String) -> Bool {
        !text.utf8.contains(0) && (text.contains("vgic_model:") || (text.contains("Distributor") && text.contains("TGT_ID")))
    }

    public static func parse(_ text: String) -> VGICState {
        var s = VGICState()
        var rows = 0
        var repeatCount = 0
        var last: Substring = ""
        // Line by line: a 64 MiB text is not first made an array of every line.
        for line in Lines(text) where !line.isEmpty {
            rows += 1
            if rows > maxRows {
                s.notes.append("stopped after \(maxRows) lines")
                break
            }
            if line == last {
                repeatCount += 1
                if repeatCount == endlessRepeat {
                    s.notes.append("the row \"\(line.trimmingSpaces)\" repeats endlessly: the 6.10 vgic-debug iterator bug (fixed by 01ab08cafece); read stopped there")
                    break
                }
                continue
            }
            repeatCount = 0
            last = line
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = parts.first else { continue }
            switch first {
            case "vgic_model:": s.model = parts.dropFirst().first.map(String.init)
            case "nr_spis:": s.nrSPIs = parts.dropFirst().first.flatMap { Int($0) }
            case "nr_lpis:": s.nrLPIs = parts.dropFirst().first.flatMap { Int($0) }
            case "enabled:": s.enabled = parts.dropFirst().first.map { $0 == "1" }
            case "LPI":
                if parts.count == 3, parts[2] == "freed", let id = UInt32(parts[1]) {
                    s.freed.append(id)
                } else if let row = row(parts) {
                    s.lpis.append(row)
                }
            default: break
            }
        }
        return s
    }

    /// `"       %s %4d     %2d %d%d%d%d%d%d%d %8d %8x  %2x %3d      %2d "`.
    static func row(_ p: [Substring]) -> IRQRow? {
        guard p.count >= 9, let id = UInt32(p[1]), let tgt = Int(p[2]), p[3].count == 7,
              let hwid = UInt64(p[4]), let mpidr = UInt64(p[5], radix: 16), let pri = UInt8(p[7]),
              let q = Int(p[8]) else { return nil }
        let f = p[3].map { $0 == "1" }
        return IRQRow(type: String(p[0]), intid: id, targetVCPU: tgt, pending: f[0], lineLevel: f[1], active: f[2],
                      enabled: f[3], hw: f[4], level: f[5], group: f[6], hwid: hwid, mpidr: mpidr, priority: pri, queuedOn: q)
    }
}

/// `vgic-its-state@<base>`: KVM's internal ITS view, one block per device (§4.2).
public struct VGICITSState: Sendable {
    public struct Row: Sendable, Hashable {
        public var deviceID: DeviceID
        public var eventID: EventID
        public var lpi: LPI
        public var hwIntID: UInt32
        /// The collection's target vCPU; 4294967295 for an unmapped collection.
        public var target: UInt32
        public var icid: ICID
        public var hw: Bool
    }

    public var rows: [Row] = []
    public var notes: [String] = []

    public static func looksLike(_ text: String) -> Bool {
        !text.utf8.contains(0) && text.contains("Device ID: 0x") && text.contains("EVENT_ID")
    }

    public static func parse(_ text: String) -> VGICITSState {
        var s = VGICITSState()
        var device: DeviceID?
        for line in Lines(text) where !line.isEmpty {
            if s.rows.count >= VGICState.maxRows {
                s.notes.append("stopped after \(VGICState.maxRows) rows")
                break
            }
            if line.hasPrefix("Device ID: 0x") {
                let hexPart = line.dropFirst("Device ID: 0x".count).prefix { $0.isHexDigit }
                device = UInt32(hexPart, radix: 16).map { DeviceID($0) }
                continue
            }
            let p = line.split(separator: " ")
            guard let device, p.count == 6, let e = UInt32(p[0]), let lpi = UInt32(p[1]), let hw = UInt32(p[2]),
                  let tgt = UInt32(p[3]), let col = UInt32(p[4]), let hwFlag = Int(p[5]) else { continue }
            s.rows.append(Row(deviceID: device, eventID: EventID(e), lpi: LPI(lpi), hwIntID: hw, target: tgt,
                              icid: ICID(col), hw: hwFlag != 0))
        }
        return s
    }
}

/// The lines of a text, one at a time (no array of them all).
struct Lines: Sequence, IteratorProtocol {
    private var rest: Substring
    private var done = false
    init(_ text: String) { rest = text[...] }
    mutating func next() -> Substring? {
        guard !done else { return nil }
        if let nl = rest.firstIndex(where: \.isNewline) {  // "\r\n" is one Character
            let line = rest[..<nl]
            rest = rest[rest.index(after: nl)...]
            return line
        }
        done = true
        return rest
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
