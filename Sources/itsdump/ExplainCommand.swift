import ArgumentParser
import CoreDumpReader
import ITSLayout

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every step of one lookup: BASER → L1 entry → DTE → ITE → CTE → target → property byte → pending bit.")

    @OptionGroup var input: InputOptions
    @Option(name: .long, help: ArgumentHelp("DeviceID (with --event).", valueName: "ID")) var device: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("EventID (with --device).", valueName: "ID")) var event: RegisterValue?
    @Option(name: .long, help: ArgumentHelp("Explain every entry that maps this LPI instead.", valueName: "N")) var lpi: RegisterValue?

    func validate() throws {
        guard (device != nil && event != nil) != (lpi != nil) else {
            throw ValidationError("give --device D --event E, or --lpi N")
        }
    }

    func run() throws {
        let session = try Session(input.dumps, ramBlocks: input.ramBlocks, snapshot: input.snapshot)
        let a = try session.analyse(input)
        var s = ""
        var found = false
        for t in a.tables {
            for d in t.devices {
                for e in d.itt {
                    let match = lpi.map { UInt64(e.ite.lpi.rawValue) == $0.value }
                        ?? (UInt64(d.deviceID.rawValue) == device?.value && UInt64(e.eventID.rawValue) == event?.value)
                    guard match else { continue }
                    found = true
                    s += explain(t, d, e, a)
                }
            }
            if !found, let dv = device?.value, let g = t.deviceTable {
                s += "ITS \(t.itsIndex): no valid ITE for DeviceID \(hex(dv)) EventID \(event?.value ?? 0)\n"
                s += "  device table \(g.indirect ? "level 1" : "") at \(g.base) (GITS_BASER\(g.baserIndex) \(hex(g.baser.rawValue)))\n"
                if let d = t.devices.first(where: { UInt64($0.deviceID.rawValue) == dv }) {
                    s += "  DTE at \(d.address) = \(hex64(d.dte.raw)) [\(d.status.rawValue)]: ITT \(d.dte.ittAddress), \(d.ittEntries) entries\n"
                } else {
                    s += "  no valid DTE for this DeviceID\n"
                }
            }
        }
        if !found && lpi != nil { s += "no ITE maps LPI \(lpi?.value ?? 0)\n" }
        emit(s)
    }

    func explain(_ t: ITSTables, _ d: DeviceSlot, _ e: ITESlot, _ a: Session.Analysis) -> String {
        let f = t.format
        var s = "ITS \(t.itsIndex): DeviceID \(d.deviceID) EventID \(e.eventID) (\(f.label))\n"
        if let g = t.deviceTable {
            s += "  1. GITS_BASER\(g.baserIndex) = \(hex64(g.baser.rawValue)): \(g.indirect ? "two-level" : "flat") device table at \(g.base), \(g.pageSize / 1024) KiB pages\n"
            if g.indirect {
                let index = UInt64(d.deviceID.rawValue) / g.entriesPerPage
                let l1 = t.deviceLevel1.first { $0.index == index }
                s += "  2. level-1 entry \(index) at \(hex(g.base.rawValue + index * 8)) = \(l1.map { hex64($0.entry.raw) } ?? "invalid"): level-2 page \(l1.map { $0.entry.level2Address.description } ?? "-")\n"
            }
        }
        s += "  3. DTE at \(d.address) = \(hex64(d.dte.raw)) [\(d.status.rawValue)\(f == .kvm ? (d.status == .live ? ", reached by KVM's restore walk" : ", not reached by KVM's restore walk") : "")]: \(Tables.fields(f.deviceEntryLayout, d.dte.raw))\n"
        s += "     ITT at \(d.dte.ittAddress), \(d.ittEntries) entries of \(f.iteSize) bytes\n"
        let raw = zip(f.iteLayouts, e.ite.raw).map { $0.byteCount == 4 ? hex($1) : hex64($1) }.joined(separator: " ")
        s += "  4. ITE at \(e.address) = \(raw) [\(e.status.rawValue)\(f == .kvm ? (e.status == .live ? ", reached by KVM's restore walk" : ", not reached") : "")]: LPI \(e.ite.lpi), ICID \(e.ite.icid)\n"
        if let c = t.liveCollections[e.ite.icid] {
            s += "  5. CTE for ICID \(e.ite.icid) at \(c.address) = \(hex64(c.cte.raw)): RDbase \(c.cte.rdBase)\n"
        } else {
            s += "  5. no valid collection for ICID \(e.ite.icid): the MSI is dropped\n"
        }
        let route = a.routes.first { $0.itsIndex == t.itsIndex && $0.deviceID == d.deviceID && $0.eventID == e.eventID }
        s += "  6. target: \(route?.vcpu.map { "vCPU \($0)" } ?? "none")\(t.registers.typer?.value.pta == true ? " (PTA = 1: RDbase is a redistributor address)" : " (PTA = 0: RDbase is the processor number)")\n"
        let lpiValue = UInt64(e.ite.lpi.rawValue)
        let rd = route?.vcpu.flatMap { v in a.registers.redistributors.first { $0.cpu == v } } ?? a.registers.redistributors.first
        if let prop = rd?.propbaser?.value, lpiValue >= 8192 {
            s += "  7. property byte at \(hex(prop.physicalAddress.rawValue + lpiValue - 8192)) (GICR_PROPBASER \(hex(prop.rawValue))): enabled \(yesNo(route?.enabled)), priority \(opt(route?.priority.map { hex(UInt64($0)) }))\n"
        } else {
            s += "  7. property byte: GICR_PROPBASER unknown\n"
        }
        if let pend = rd?.pendbaser?.value, route?.vcpu != nil {
            s += "  8. pending bit: byte \(hex(pend.physicalAddress.rawValue + lpiValue / 8)) bit \(lpiValue % 8) of vCPU \(rd?.cpu ?? 0)'s table: \(yesNo(route?.pending))\n"
        } else {
            s += "  8. pending bit: the target's GICR_PENDBASER is unknown\n"
        }
        return s
    }
}
