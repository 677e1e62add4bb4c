import Synchronization
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import Logging
import SwitchboardSessions

/// Builds the HTTP application: the route table, its OpenAPI document, and the middlewares.
public enum SwitchboardServer {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var apiKey: APIKey?
        public var swaggerUI: SwaggerUI
        public var timeouts: ConnectionTimeouts
        /// `GET /metrics` answers without the API key.
        public var metricsPublic: Bool

        public init(
            host: String = "127.0.0.1", port: Int = 3000, apiKey: APIKey? = nil, swaggerUI: SwaggerUI = SwaggerUI(.folder("swagger-ui")),
            timeouts: ConnectionTimeouts = ConnectionTimeouts(), metricsPublic: Bool = false
        ) {
            self.host = host
            self.port = port
            self.apiKey = apiKey
            self.swaggerUI = swaggerUI
            self.timeouts = timeouts
            self.metricsPublic = metricsPublic
        }
    }

    /// Every route the server answers, in one table.
    static func routes(openAPI: @escaping @Sendable () -> JSONValue, options: Options) -> [APIRoute] {
        ContactsRoutes.all + SessionsRoutes.all + PairingRoutes.all + EnginesRoutes.all
            + ServerRoutes.all(openAPI: openAPI, swaggerUI: options.swaggerUI) + MetricsRoutes.all(isOpen: options.metricsPublic)
    }

    /// The OpenAPI document of a server with these options, as `GET /-json` answers it.
    public static func document(version: String, options: Options) -> JSONValue {
        let routes = routes(openAPI: { .null }, options: options)
        return OpenAPIDocument.build(routes: routes, version: version, apiKeyRequired: options.apiKey != nil)
    }

    public static func router(dependencies: ServerDependencies, options: Options) -> Router<SwitchboardRequestContext> {
        let document = OpenAPIBox()
        let routes = routes(openAPI: { document.value.withLock { $0 } }, options: options)
        document.value.withLock { $0 = OpenAPIDocument.build(routes: routes, version: dependencies.version, apiKeyRequired: options.apiKey != nil) }

        let router = Router(context: SwitchboardRequestContext.self)
        router.middlewares.add(RequestLogMiddleware())
        router.middlewares.add(RequestMetricsMiddleware(
            metrics: dependencies.metrics,
            templates: Dictionary(uniqueKeysWithValues: routes.flatMap { route in
                Self.methods(answering: route.method).map { (RouterRoute(method: $0, routerPath: RouterPath(route.routerPath).description), route.path) }
            })))
        // Outside the error mapping, so that an error answered to HEAD loses its body too.
        router.middlewares.add(HeadRequestMiddleware())
        router.middlewares.add(JSONErrorMiddleware(allowedMethods: { path in allowedMethods(path, routes) }))
        // After the error middleware, so that an error while reading the body is JSON too;
        // before the key check, so that even a refused request's body is read.
        router.middlewares.add(BodyLimitMiddleware())
        if let key = options.apiKey {
            router.middlewares.add(APIKeyMiddleware(expectedDigest: key.digest, openPaths: Set(routes.filter(\.isOpen).map(\.path))))
        }
        for route in routes {
            let parameterNames = route.routerParameterNames
            let handler: @Sendable (Request, SwitchboardRequestContext) async throws -> Response = { request, context in
                var request = request
                let apiContext = APIContext(
                    server: dependencies, http: context, pathParameters: context.parameters, pathParameterNames: parameterNames, query: Query(request))
                guard route.feature != nil else { return try await route.handler(&request, apiContext) }
                let served = AnsweringMembers()
                var response = try await AnsweringMembers.$current.withValue(served) { try await route.handler(&request, apiContext) }
                // Appended, not set: the response has no such field, and setting one looks it up first.
                if let members = served.headerValue { response.headers.append(HTTPField(name: AnsweringMembers.header, value: members)) }
                return response
            }
            for method in Self.methods(answering: route.method) { router.on(RouterPath(route.routerPath), method: method, use: handler) }
        }
        return router
    }

    /// The methods of the routes the router would reach for a path, `HEAD` beside each `GET`.
    static func allowedMethods(_ path: String, _ routes: [APIRoute]) -> [HTTPRequest.Method] {
        let matching = routes.filter { $0.matches(path: path) }
        let mostLiteral = matching.map(\.literalSegmentCount).max()
        return matching.filter { $0.literalSegmentCount == mostLiteral }.flatMap { methods(answering: $0.method) }
    }

    /// A route's method, and `HEAD` for a `GET` (`HeadRequestMiddleware` answers it).
    static func methods(answering method: HTTPRequest.Method) -> [HTTPRequest.Method] {
        method == .get ? [.get, .head] : [method]
    }

    /// HTTP/1.1 with the connection limits of `ConnectionTimeouts` and `HeaderLimit`, closing
    /// each connection whose request does not keep it alive.
    public static func httpServer(_ options: Options) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            HTTP1ClosingChannel(inner: HTTP1Channel(responder: responder, configuration: options.timeouts.channelConfiguration))
        }
    }

    public static func application(dependencies: ServerDependencies, options: Options, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(dependencies: dependencies, options: options),
            server: httpServer(options),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "Switchboard"),
            logger: logger)
    }
}

/// The document is built from the routes, and one route serves the document.
private final class OpenAPIBox: Sendable {
    let value = Mutex<JSONValue>(.null)
}
