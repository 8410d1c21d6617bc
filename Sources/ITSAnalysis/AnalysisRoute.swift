import ITSLayout

extension Analysis {
    /// The route of (`device`, `event`) on ITS `its`, or nil: the first in route order, as
    /// `routes.first { … }` finds it, without building every route (`RouteList.route`).
    public func route(its: Int, device: DeviceID, event: EventID) -> RoutingGraph.Route? {
        for (t, g) in zip(tables, graphs) where t.itsIndex == its {
            if let r = g.routes.route(device: device, event: event) { return r }
        }
        return nil
    }
}
