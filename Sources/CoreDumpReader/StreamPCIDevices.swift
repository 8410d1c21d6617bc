/// The QEMU device behind each PCI address, from a migration stream's device section names.
/// QEMU names a PCI device's section by its path (hw/pci/pci.c pcibus_get_dev_path): the
/// domain and root bus, then slot.function per level, then the device type —
/// "0000:00:02.0/virtio-blk", or "0000:00:04.0:00.0/virtio-rng" for function 00.0 behind the
/// bridge at 00:04.0. Bus numbers behind bridges are the guest's choice: a bridge's secondary
/// bus number is read from its migrated config space when the stream's JSON description locates
/// it; otherwise it is assigned as Linux (pci_scan_bridge without firmware numbering, no
/// `pci=hpbussize`) and EDK2 assign them, depth first in slot order, and the outputs say so.
public struct StreamPCIDevices: Sendable {
    /// PCI address ("0000:01:00.0") → QEMU device type ("virtio-rng").
    public var byAddress: [String: String] = [:]
    /// Whether any address needed the depth-first bus numbering (a bridge's config space unread).
    public var busesInferred = false

    public static let busAssumption = "buses behind bridges numbered depth first in slot order, as Linux and EDK2 number them"

    /// Bridge types whose secondary bus takes a number even when nothing sits behind it.
    static let bridgeTypes: Set<String> = ["pcie-root-port", "pci-bridge", "pcie-pci-bridge", "ioh3420", "x3130-upstream",
                                           "xio3130-downstream", "pxb", "pxb-pcie", "i82801b11-bridge"]

    struct Path: Comparable {
        var domain: String
        var root: UInt8
        var levels: [[UInt8]]  // [slot, function]
        static func < (a: Path, b: Path) -> Bool {
            (a.domain, a.root) != (b.domain, b.root) ? (a.domain, a.root) < (b.domain, b.root)
                : a.levels.lexicographicallyPrecedes(b.levels) { $0.lexicographicallyPrecedes($1) }
        }
    }

    /// Parses "DDDD:BB:SS.F[:SS.F…]" (hex), or nil.
    static func parse(_ s: Substring) -> Path? {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].count == 4, UInt16(parts[0], radix: 16) != nil, let root = UInt8(parts[1], radix: 16) else { return nil }
        var levels: [[UInt8]] = []
        for p in parts.dropFirst(2) {
            let sf = p.split(separator: ".")
            guard sf.count == 2, let slot = UInt8(sf[0], radix: 16), slot < 32, let fn = UInt8(sf[1], radix: 16), fn < 8 else { return nil }
            levels.append([slot, fn])
        }
        guard levels.count <= 32 else { return nil }
        return Path(domain: String(parts[0]), root: root, levels: levels)
    }

    /// - Parameter sections: each section's name and, for a bridge, its migrated secondary bus.
    public init(sections: [(name: String, secondaryBus: UInt8?)]) {
        var devices: [(Path, String)] = []
        var exact: [[[UInt8]]: UInt8] = [:]
        for (name, secondary) in sections {
            guard let slash = name.firstIndex(of: "/"), let p = Self.parse(name[..<slash]) else { continue }
            devices.append((p, String(name[name.index(after: slash)...])))
            if let secondary, secondary != 0 { exact[[[p.root]] + p.levels] = secondary }
        }
        devices.sort { $0.0 < $1.0 }
        // A bridge: a known bridge type, or a prefix of another device's path.
        var isBridge = Set<[[UInt8]]>()
        for (p, type) in devices where Self.bridgeTypes.contains(type) { isBridge.insert([[p.root]] + p.levels) }
        for (p, _) in devices where p.levels.count > 1 {
            for n in 1..<p.levels.count { isBridge.insert([[p.root]] + Array(p.levels.prefix(n))) }
        }
        // Depth first: a bridge's secondary bus is the next number; its subtree follows before its siblings.
        var bus: [[[UInt8]]: UInt8] = [:]
        var inferred = Set<[[UInt8]]>()
        var next = [String: Int]()
        for (p, _) in devices {
            for n in 1...max(1, p.levels.count) where n <= p.levels.count {
                let key = [[p.root]] + Array(p.levels.prefix(n))
                guard isBridge.contains(key), bus[key] == nil else { continue }
                let k = p.domain + ":" + String(p.root)
                if let e = exact[key] {
                    bus[key] = e
                    next[k] = max(next[k] ?? Int(p.root), Int(e))
                    continue
                }
                let v = (next[k] ?? Int(p.root)) + 1
                next[k] = v
                if v <= 255 { bus[key] = UInt8(v) }
                inferred.insert(key)
            }
        }
        for (p, type) in devices {
            guard let last = p.levels.last else { continue }
            var b = p.root
            if p.levels.count > 1 {
                let parentKey = [[p.root]] + Array(p.levels.dropLast())
                guard let parent = bus[parentKey] else { continue }
                b = parent
                if inferred.contains(parentKey) { busesInferred = true }
            }
            byAddress["\(p.domain):\(Self.hex2(b)):\(Self.hex2(last[0])).\(last[1])"] = type
        }
    }

    static func hex2(_ v: UInt8) -> String { (v < 16 ? "0" : "") + String(v, radix: 16) }
}

extension MigrationStream {
    public var pciDevices: StreamPCIDevices { StreamPCIDevices(sections: sections.map { ($0.name, $0.secondaryBus) }) }
}
