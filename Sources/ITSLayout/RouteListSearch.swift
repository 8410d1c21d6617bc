extension RouteList {
    /// The route of (`device`, `event`), or nil: a binary search over the (DeviceID, EventID)
    /// order `RoutingGraph.build` leaves (`sortByDeviceAndEvent`), building that one route only.
    /// Explaining each of a device's 65,536 events by a linear search over a million routes,
    /// each built from the packed tables, took minutes (review finding).
    public func route(device: DeviceID, event: EventID) -> RoutingGraph.Route? {
        func key(_ r: Record) -> (DeviceID, EventID) {
            let d = devices[Int(r.device)]
            return (d.deviceID, d.itt.eventID(Int(r.slot)))
        }
        var lo = 0, hi = records.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if key(records[mid]) < (device, event) { lo = mid + 1 } else { hi = mid }
        }
        guard lo < records.count, key(records[lo]) == (device, event) else { return nil }
        return route(records[lo])
    }
}
