import ITSAnalysis
import ITSLayout
import TextFormats

/// The routes table, written as it is produced (issue 22): one pass over the routes measures
/// the columns (and counts devices and per-vCPU totals), a second writes each line; no row is
/// kept.
extension TextRenderer: StreamingRenderer {
    func streamed(_ report: Report) -> ((inout ByteOutput) -> Void)? {
        guard case .routes(let session, let a, let names) = report else { return nil }
        return { out in writeRoutes(session, a, names, &out) }
    }

    func routes(_ session: Session, _ a: Analysis, _ names: DeviceNames) -> String? {
        var out = ByteOutput()
        writeRoutes(session, a, names, &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    func writeRoutes(_ session: Session, _ a: Analysis, _ names: DeviceNames, _ out: inout ByteOutput) {
        var s = header(session, a)
        for n in names.notes { s += "names: \(n)\n" }
        let kernel = names.irqs != nil, qemu = names.qemu != nil
        var head = ["ITS", "DEVICEID", "BDF"]
        if qemu { head.append("DEVICE") }
        head += ["EVENTID", "LPI", "ICID", "VCPU", "ENABLED", "PRIO", "PENDING"]
        if kernel { head += ["IRQ", "NAME"] }
        head += ["ITT", "ITE"]
        let right: Set<String> = ["ITS", "EVENTID", "LPI", "ICID", "VCPU", "IRQ"]
        var columns = TextTable.Columns(header: head, rightAligned: Set(head.indices.filter { right.contains(head[$0]) }))
        func row(_ r: RoutingGraph.Route, _ n: DeviceNames.Name) -> [String] {
            var row = [String(r.itsIndex), r.deviceID.description, opt(n.bdf)]
            if qemu { row.append(opt(n.device)) }
            row += [String(r.eventID.rawValue), String(r.lpi.rawValue), String(r.icid.rawValue), opt(r.vcpu), yesNo(r.enabled)]
            row += [opt(r.priority.map { hex(UInt64($0)) }), yesNo(r.pending)]
            if kernel { row += [opt(n.irq), opt(n.name)] }
            row += [r.ittAddress.description, r.iteAddress.description]
            return row
        }
        var shown = 0
        var devices: Set<UInt64> = []
        var tally = VCPUSummary.Tally()
        names.forEachRoute(a) { r, n in
            columns.measure(row(r, n))
            shown += 1
            devices.insert(UInt64(r.itsIndex) << 32 | UInt64(r.deviceID.rawValue))
            tally.add(r)
        }
        s += "\n" + columns.headerLine() + "\n"
        out.text(s)
        names.forEachRoute(a) { r, n in
            out.text(columns.row(row(r, n)) + "\n")
        }
        let all = a.graphs.reduce(0) { $0 + $1.routes.count }
        s = "\n\(shown) routes on \(devices.count) devices" + (names.filter.isEmpty ? "" : " (filtered; \(all) in all)") + "\n"
        s += vcpus(tally.rows)
        s += freshness(a)
        s += findings(a.findings)
        out.text(s)
        out.flush()
    }
}
