import ITSLayout

/// The guest kernel's interrupts as its users know them: for each ITS LPI, the Linux irq
/// number, the irq's action names (as /sys/kernel/irq/N/actions shows them, a shared irq's
/// joined by ",") and the device that requested it (dev_name of the MSI descriptor's device: a
/// PCI function's "0000:00:02.0"). Found by walking the kernel's irq descriptors down the
/// irq_data parent chain to the ITS domain, whose hwirq is the LPI (irq-gic-v3-its.c,
/// its_irq_domain_alloc).
public struct IRQView: Sendable {
    public struct IRQ: Sendable, Hashable {
        public var irq: UInt32
        public var its: Int
        public var lpi: LPI
        /// The its_device's DeviceID and the event (LPI − lpi_base), from the driver's records.
        public var deviceID: DeviceID?
        public var eventID: EventID?
        /// Action names joined by "," (empty: no handler requested).
        public var name: String
        /// dev_name() of the MSI descriptor's device; for PCI, the function's address.
        public var device: String?
    }

    public var irqs: [IRQ] = [] {
        didSet { byKey = Dictionary(irqs.compactMap { i in i.deviceID.map { ([i.its, Int($0.rawValue), Int(i.eventID?.rawValue ?? 0)], i) } },
                                    uniquingKeysWith: { first, _ in first }) }
    }
    /// (ITS, DeviceID, EventID) → irq, so that naming every route is one lookup each.
    private var byKey: [[Int]: IRQ] = [:]
    /// How the descriptors were found (irq_desc_tree or sparse_irqs), and what could not be read.
    public var source: String = ""
    public var problems: [String] = []

    public init() {}

    public func irq(its: Int, deviceID: DeviceID, eventID: EventID) -> IRQ? {
        byKey[[its, Int(deviceID.rawValue), Int(eventID.rawValue)]]
    }
}

public enum IRQWalker {
    static let maxNameBytes = 128
    static let maxActions = 32
    static let maxParents = 8


    public static func walk(types: any KernelTypes, space: KernelAddressSpace, memory: any GuestMemory,
                            driver: DriverView) -> IRQView
    {
        var view = IRQView()
        let r = DriverWalker.Reader(space: space, memory: memory)
        // 6.1: a radix tree (an XArray) keyed by irq number; 6.5+ (Linux 721255b9826b): a maple tree.
        guard let tree = IRQDescriptorTree.allCases.first(where: { types.symbol($0.symbol, near: nil) != nil }),
              let treeLink = types.symbol(tree.symbol, near: nil)
        else {
            view.problems.append("the kernel's symbols have neither irq_desc_tree nor sparse_irqs (CONFIG_SPARSE_IRQ off, or not found): no irq numbers or names")
            return view
        }
        view.source = tree.description
        let unit = tree.symbol
        let desc = types.structure("irq_desc", inUnitOf: unit)
        let data = desc.flatMap { types.memberStructure($0, "irq_data", inUnitOf: unit) }
        let common = desc.flatMap { types.memberStructure($0, "irq_common_data", inUnitOf: unit) }
        let action = desc.flatMap { types.memberStructure($0, "action", inUnitOf: unit) }
        let msi = types.structure("msi_desc", inUnitOf: "its_nodes")
        let device = types.structure("device", inUnitOf: "its_nodes")
        let kobj = device.flatMap { types.memberStructure($0, "kobj", inUnitOf: "its_nodes") }
        let named: [(String, StructLayout?)] = [("irq_desc", desc), ("irq_data", data), ("irq_common_data", common),
                                                ("irqaction", action), ("msi_desc", msi), ("device", device), ("kobject", kobj)]
        let treeLayout = IRQDescriptorTree.Layout.of(tree, types: types)
        guard case .success(let layout) = treeLayout, let desc, let data, let common, let action, let msi, let device,
              let kobj, let o = Offsets(desc: desc, data: data, common: common, action: action, msi: msi, device: device, kobj: kobj)
        else {
            var missing = named.filter { $0.1 == nil }.map { "struct " + $0.0 }
            if case .failure(let m) = treeLayout { missing += m.names }
            view.problems.append("the type source lacks \(missing.isEmpty ? "a member of struct irq_desc, irq_data, irq_common_data, irqaction, msi_desc, device or kobject" : missing.joined(separator: ", ")): no irq numbers or names")
            return view
        }

        var devices: [UInt64: (its: Int, device: DriverView.Device)] = [:]
        for (i, n) in driver.its.enumerated() {
            for d in n.devices { devices[d.address] = (i, d) }
        }
        let walk = tree.walk(variable: space.runtime(treeLink), layout: layout, reader: r)
        view.problems += walk.problems
        // Each descriptor sits under its own irq number (irq_insert_desc): one that does not is
        // not trusted.
        var descriptors: [UInt64] = []
        for e in walk.entries {
            guard let irq = r.u32(e.pointer &+ o.dataOff &+ o.dataIRQ) else {
                view.problems.append("irq_desc at \(hex(e.pointer)) is not in the dump")
                continue
            }
            guard e.first == e.last, UInt64(irq) == e.first else {
                view.problems.append("\(tree.symbol): the descriptor at \(hex(e.pointer)) is irq \(irq) but sits under \(e.first == e.last ? "\(e.first)" : "\(e.first)–\(e.last)"); skipped")
                continue
            }
            descriptors.append(e.pointer)
        }

        // The ITS level of an irq is the irq_data whose chip is its_irq_chip; its chip_data is the
        // its_device (its_irq_domain_alloc: irq_domain_set_hwirq_and_chip(…, hwirq, &its_irq_chip, its_dev)).
        let itsChip: UInt64
        if let chipLink = types.symbol("its_irq_chip", near: "its_nodes") {
            itsChip = space.runtime(chipLink)
        } else if let chip = chipOfDriverDevices(descriptors, devices: devices, r, o, types: types) {
            itsChip = chip
            view.source += "; its_irq_chip@\(hex(chip)) from the irq_data levels whose chip_data is one of the driver's its_devices, validated (a struct irq_chip named \"ITS\")"
        } else {
            view.problems.append("no symbol its_irq_chip, and no irq_data level whose chip_data is one of the driver's its_devices has a chip named \"ITS\": no irq numbers or names")
            return view
        }
        var rows: [IRQView.IRQ] = []
        for d in descriptors {
            guard let irq = r.u32(d &+ o.dataOff &+ o.dataIRQ) else {
                view.problems.append("irq_desc at \(hex(d)) is not in the dump")
                continue
            }
            // Down the parent chain to the ITS domain: its hwirq is the LPI.
            var data = d &+ o.dataOff
            var found: (hwirq: UInt64, chipData: UInt64)?
            for _ in 0..<maxParents {
                guard let chip = r.u64(data &+ o.dataChip) else { break }
                if chip == itsChip, let hw = r.u64(data &+ o.dataHwirq) { found = (hw, r.u64(data &+ o.dataChipData) ?? 0); break }
                guard let p = r.u64(data &+ o.dataParent), p != 0 else { break }
                data = p
            }
            guard let found, let lpi = UInt32(exactly: found.hwirq) else { continue }
            let owner = devices[found.chipData]
            var row = IRQView.IRQ(irq: irq, its: owner?.its ?? 0, lpi: LPI(lpi), name: actionNames(r, d &+ o.descAction, o))
            if let dev = owner?.device, lpi >= dev.lpiBase {
                row.deviceID = dev.deviceID
                row.eventID = EventID(lpi - dev.lpiBase)
            }
            if let m = r.u64(d &+ o.commonOff &+ o.commonMSI), m != 0, let dv = r.u64(m &+ o.msiDev), dv != 0,
               let namePtr = r.u64(dv &+ o.deviceKobj &+ o.kobjName) {
                row.device = string(r, namePtr)
            }
            rows.append(row)
        }
        // One assignment: the index is built once.
        view.irqs = rows.sorted { ($0.its, $0.lpi) < ($1.its, $1.lpi) }
        return view
    }

    /// Offsets the walk needs, all from the type source.
    struct Offsets {
        var dataOff, dataIRQ, dataHwirq, dataChip, dataChipData, dataParent: UInt64
        var commonOff, commonMSI, descAction: UInt64
        var actionNext, actionName: UInt64
        var msiDev, deviceKobj, kobjName: UInt64
        init?(desc: StructLayout, data: StructLayout, common: StructLayout, action: StructLayout, msi: StructLayout,
              device: StructLayout, kobj: StructLayout) {
            guard let a = desc.offset("irq_data"), let b = data.offset("irq"), let c = data.offset("hwirq"),
                  let dd = data.offset("chip"), let cd = data.offset("chip_data"), let e = data.offset("parent_data"), let f = desc.offset("irq_common_data"),
                  let g = common.offset("msi_desc"), let h = desc.offset("action"), let i = action.offset("next"),
                  let j = action.offset("name"), let k = msi.offset("dev"), let l = device.offset("kobj"),
                  let m = kobj.offset("name") else { return nil }
            (dataOff, dataIRQ, dataHwirq, dataChip, dataChipData, dataParent) = (a, b, c, dd, cd, e)
            (commonOff, commonMSI, descAction, actionNext, actionName) = (f, g, h, i, j)
            (msiDev, deviceKobj, kobjName) = (k, l, m)
        }
    }

    /// Without the symbol (kallsyms without KALLSYMS_ALL): the one chip of the irq_data levels
    /// whose chip_data is an its_device of the driver's list and whose hwirq is one of its LPIs,
    /// when it is a `struct irq_chip` named "ITS"; nil when none or several are.
    static func chipOfDriverDevices(_ descriptors: [UInt64], devices: [UInt64: (its: Int, device: DriverView.Device)],
                                    _ r: DriverWalker.Reader, _ o: Offsets, types: any KernelTypes) -> UInt64? {
        var chips: Set<UInt64> = []
        for d in descriptors {
            var data = d &+ o.dataOff
            for _ in 0..<maxParents {
                if let cd = r.u64(data &+ o.dataChipData), let dev = devices[cd]?.device, let hw = r.u64(data &+ o.dataHwirq),
                   hw >= UInt64(dev.lpiBase), hw < UInt64(dev.lpiBase) + UInt64(dev.nrLPIs), let chip = r.u64(data &+ o.dataChip) {
                    chips.insert(chip)
                    break
                }
                guard let p = r.u64(data &+ o.dataParent), p != 0 else { break }
                data = p
            }
            if chips.count > 1 { return nil }
        }
        guard let chip = chips.first, IRQSymbolFinder.isITSChip(chip, types: types, space: r.space, memory: r.memory, image: false) else { return nil }
        return chip
    }

    /// The action list's names joined by "," (/sys/kernel/irq/N/actions), bounded.
    static func actionNames(_ r: DriverWalker.Reader, _ head: UInt64, _ o: Offsets) -> String {
        var names: [String] = []
        var seen: Set<UInt64> = []
        var p = r.u64(head) ?? 0
        while p != 0, names.count < maxActions, seen.insert(p).inserted {
            if let n = r.u64(p &+ o.actionName), n != 0, let s = string(r, n) { names.append(s) }
            p = r.u64(p &+ o.actionNext) ?? 0
        }
        return names.joined(separator: ",")
    }

    /// A NUL-terminated string of guest memory, at most maxNameBytes, read up to each page end;
    /// bytes outside printable ASCII come out as \xNN (guest bytes never reach a terminal raw).
    static func string(_ r: DriverWalker.Reader, _ va: UInt64) -> String? {
        rawString(r, va).map(escaped)
    }

    public static func escaped(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") { s.unicodeScalars.append(Unicode.Scalar(b)) } else {
                s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return s
    }

    static func rawString(_ r: DriverWalker.Reader, _ va: UInt64) -> [UInt8]? {
        var out: [UInt8] = []
        var a = va
        while out.count < maxNameBytes {
            let n = Int(min(UInt64(maxNameBytes - out.count), 4096 - a % 4096))
            guard let b = r.bytes(a, n) else { return out.isEmpty ? nil : out }
            if let z = b.firstIndex(of: 0) { return out + b[..<z] }
            out += b
            a &+= UInt64(n)
        }
        return out
    }
}
