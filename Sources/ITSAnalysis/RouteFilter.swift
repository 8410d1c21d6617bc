import ITSLayout

/// The routes, verdicts and explanations a user asked about: `--device`, `--bdf`, `--vcpu`,
/// `--lpi`, `--irq` (Linux irq, with --vmlinux). Each given kind must match; within a kind any
/// of the given values does. An empty filter matches everything.
public struct RouteFilter: Sendable, Hashable {
    public var devices: Set<DeviceID> = []
    public var bdfs: Set<String> = []
    public var vcpus: Set<UInt32> = []
    public var lpis: Set<LPI> = []
    public var irqs: Set<UInt32> = []

    public init(devices: Set<DeviceID> = [], bdfs: Set<String> = [], vcpus: Set<UInt32> = [], lpis: Set<LPI> = [], irqs: Set<UInt32> = []) {
        self.devices = devices
        self.bdfs = Set(bdfs.map(Self.normalise))
        self.vcpus = vcpus
        self.lpis = lpis
        self.irqs = irqs
    }

    public var isEmpty: Bool { devices.isEmpty && bdfs.isEmpty && vcpus.isEmpty && lpis.isEmpty && irqs.isEmpty }

    /// "00:02.0", "0:2.0" and "0000:00:02.0" name the same function (segment 0 when none is
    /// given): the canonical form is the one routes print; text that is no PCI address is only
    /// lowercased (and matches nothing).
    public static func normalise(_ bdf: String) -> String {
        canonicalBDF(bdf) ?? bdf.lowercased()
    }

    /// `[segment:]bus:device.function` in hex (segment ≤ 0xffff, bus ≤ 0xff, device ≤ 0x1f,
    /// function ≤ 7) as `ssss:bb:dd.f`, or nil.
    public static func canonicalBDF(_ bdf: String) -> String? {
        guard let (segment, bus, device, function) = parseBDF(bdf) else { return nil }
        func pad(_ v: UInt32, _ width: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(segment, 4)):\(pad(bus, 2)):\(pad(device, 2)).\(function)"
    }

    /// The parts of `[segment:]bus:device.function` in hex digits, each within its range, or nil.
    public static func parseBDF(_ bdf: String) -> (segment: UInt32, bus: UInt32, device: UInt32, function: UInt32)? {
        let parts = bdf.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        let df = parts[parts.count - 1].split(separator: ".", omittingEmptySubsequences: false)
        guard df.count == 2 else { return nil }
        func hex(_ s: Substring, max: UInt32) -> UInt32? {
            // Hex digits only: UInt32(_:radix:) also takes a sign ("+2", "-0").
            guard !s.isEmpty, s.count <= 4, s.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit),
                  let v = UInt32(s, radix: 16), v <= max else { return nil }
            return v
        }
        guard let segment = parts.count == 3 ? hex(parts[0], max: 0xffff) : 0,
              let bus = hex(parts[parts.count - 2], max: 0xff),
              let device = hex(df[0], max: 0x1f), let function = hex(df[1], max: 7) else { return nil }
        return (segment, bus, device, function)
    }

    /// Whether a key with these attributes is asked about (nil: the attribute is unknown, and
    /// a filter on it does not match).
    public func matches(deviceID: DeviceID, bdf: String?, vcpus candidates: [UInt32?], lpis candidateLPIs: [LPI?], irq: UInt32?) -> Bool {
        if !devices.isEmpty, !devices.contains(deviceID) { return false }
        if !bdfs.isEmpty, !(bdf.map { bdfs.contains(Self.normalise($0)) } ?? false) { return false }
        if !vcpus.isEmpty, !candidates.contains(where: { $0.map(vcpus.contains) ?? false }) { return false }
        if !lpis.isEmpty, !candidateLPIs.contains(where: { $0.map(lpis.contains) ?? false }) { return false }
        if !irqs.isEmpty, !(irq.map(irqs.contains) ?? false) { return false }
        return true
    }

    public func matches(_ r: RoutingGraph.Route, bdf: String?, irq: UInt32?) -> Bool {
        matches(deviceID: r.deviceID, bdf: bdf, vcpus: [r.vcpu], lpis: [r.lpi], irq: irq)
    }

    /// A verdict matches when either side of it does (a route moved off vCPU 2 is about vCPU 2).
    public func matches(_ j: Judgement, bdf: String?, irq: UInt32?) -> Bool {
        matches(deviceID: j.key.deviceID, bdf: bdf, vcpus: [j.tables?.vcpu, j.before?.vcpu] + j.evidence.map(\.vcpu),
                lpis: [j.tables?.lpi, j.before?.lpi] + j.evidence.map(\.lpi), irq: irq)
    }
}

/// Per vCPU: the LPIs routed to it, how many are enabled, how many pending.
public struct VCPUSummary: Sendable, Hashable {
    public var vcpu: UInt32?
    public var routed = 0
    public var enabled = 0
    public var pending = 0

    /// One row per vCPU a route targets, sorted; routes without a vCPU in a last row (vcpu nil).
    public static func of(_ routes: [RoutingGraph.Route]) -> [VCPUSummary] {
        var t = Tally()
        for r in routes { t.add(r) }
        return t.rows
    }

    /// The same, a route at a time: for output that streams its routes (issue 22).
    public struct Tally: Sendable {
        var by: [UInt32?: VCPUSummary] = [:]
        public init() {}

        public mutating func add(_ r: RoutingGraph.Route) {
            var s = by[r.vcpu] ?? VCPUSummary(vcpu: r.vcpu)
            s.routed += 1
            if r.enabled == true { s.enabled += 1 }
            if r.pending == true { s.pending += 1 }
            by[r.vcpu] = s
        }

        public var rows: [VCPUSummary] {
            by.values.sorted { ($0.vcpu ?? .max, $0.vcpu == nil ? 1 : 0) < ($1.vcpu ?? .max, $1.vcpu == nil ? 1 : 0) }
        }
    }
}
