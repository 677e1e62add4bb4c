import Foundation
import Hummingbird
import Logging
import SwitchboardCore

/// Builds the HTTP application: the route table, its OpenAPI document, and the middlewares.
public enum SwitchboardServer {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var apiKey: APIKey?

        public init(host: String = "127.0.0.1", port: Int = 3000, apiKey: APIKey? = nil) {
            self.host = host
            self.port = port
            self.apiKey = apiKey
        }
    }

    /// Every route the server answers, in one table.
    static func routes(openAPI: @escaping @Sendable () -> JSONValue) -> [APIRoute] {
        ContactsRoutes.all + SessionsRoutes.all + EnginesRoutes.all + ServerRoutes.all(openAPI: openAPI)
    }

    public static func router(state: ServerState, options: Options) -> Router<BasicRequestContext> {
        let document = OpenAPIBox()
        let routes = routes { document.value }
        document.value = OpenAPIDocument.build(routes: routes, version: state.version, apiKeyRequired: options.apiKey != nil)

        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(RequestLogMiddleware())
        router.middlewares.add(JSONErrorMiddleware())
        if let key = options.apiKey {
            router.middlewares.add(APIKeyMiddleware(expectedDigest: key.digest, openPaths: Set(routes.filter(\.isOpen).map(\.path))))
        }
        for route in routes {
            let parameterNames = route.routerParameterNames
            router.on(RouterPath(route.routerPath), method: route.method) { request, context in
                var request = request
                let apiContext = APIContext(
                    server: state, pathParameters: context.parameters, pathParameterNames: parameterNames, query: Query(request))
                return try await route.handler(&request, apiContext)
            }
        }
        return router
    }

    public static func application(state: ServerState, options: Options, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(state: state, options: options),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "Switchboard"),
            logger: logger)
    }
}

/// The document is built from the routes, and one route serves the document.
private final class OpenAPIBox: @unchecked Sendable {
    // Written once before the router serves anything, read only afterwards.
    var value: JSONValue = .null
}
