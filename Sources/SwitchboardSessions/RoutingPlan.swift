import ContactsEngineKit
import SwitchboardEngineRuntime

/// Who serves each feature of a session now, and who stands by: the one answer the features
/// endpoint, the matrix page and the router's checks (a call that needs no engine) share. A
/// call follows the same rule as it goes (`SessionCall`): it tries the route's members that
/// declare the feature in order, passing over one that does not serve it now and, for a read, one
/// that is down; the plan says in advance where that ends.
public struct RoutingPlan: Sendable {
    /// One composite feature's route now.
    public struct Route: Sendable, Hashable {
        /// Every member the composition's route names, in order.
        public let route: [String]
        public let mirror: Bool
        /// The member a call goes to first: of the route's members serving the feature now, the
        /// first healthy one for a read (one failing falls through to the next), the first one
        /// for a write (a write never falls through); nil when none serves it.
        public let servedBy: String?
        /// The other members serving the feature now, in the order a call would try them.
        public let standby: [String]
    }

    /// The features the session serves now: its engine's live features that the engine also
    /// declares, or a composite's features that some member serves.
    public let served: Set<Feature>
    /// A composite's routes, by feature; nil for a single engine.
    public let routes: [Feature: Route]?

    /// The composite member that serves `feature`: nil when none does, and on a single-engine
    /// session, whose one engine serves what `served` holds.
    public func servedBy(_ feature: Feature) -> String? {
        routes?[feature]?.servedBy
    }
}

extension Session {
    /// The plan as the session runs now. A session that runs nothing serves nothing; a
    /// composite's routes are listed all the same, served by no one.
    public var routingPlan: RoutingPlan {
        get async {
            let (composition, serving) = state.withLock { ($0.record.composition, $0.serving) }
            switch serving {
            case .single(let active)?:
                let features = await active.handle.activeFeatures()
                return RoutingPlan(served: features.intersection(active.engine.metadata.features), routes: nil)
            case .composite(let composite)?:
                var live: [String: (features: Set<Feature>, healthy: Bool)] = [:]
                for (name, instance) in composite.instances {
                    live[name] = (await instance.handle.activeFeatures(), await instance.handle.status().health == .ok)
                }
                var routes: [Feature: RoutingPlan.Route] = [:]
                for (feature, route) in composite.routes {
                    var serving = route.members.map(\.name).filter { live[$0]?.features.contains(feature) == true }
                    if feature.isIdempotentRead, let healthy = serving.firstIndex(where: { live[$0]?.healthy == true }) {
                        serving.insert(serving.remove(at: healthy), at: 0)
                    }
                    routes[feature] = RoutingPlan.Route(
                        route: route.names, mirror: route.mirror, servedBy: serving.first, standby: Array(serving.dropFirst()))
                }
                return RoutingPlan(served: Set(routes.filter { $0.value.servedBy != nil }.keys), routes: routes)
            case nil:
                guard let composition else { return RoutingPlan(served: [], routes: nil) }
                var routes: [Feature: RoutingPlan.Route] = [:]
                for feature in Feature.allCases {
                    guard let route = composition.route(for: feature) else { continue }
                    routes[feature] = RoutingPlan.Route(route: route.members, mirror: route.mirror, servedBy: nil, standby: [])
                }
                return RoutingPlan(served: [], routes: routes)
            }
        }
    }
}
