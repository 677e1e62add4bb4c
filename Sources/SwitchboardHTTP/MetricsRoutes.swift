import Hummingbird

/// Prometheus' scrape target.
enum MetricsRoutes {
    /// The content type of Prometheus' text exposition format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// - Parameter isOpen: `--metrics-public`: a scraper may read it without the API key.
    static func all(isOpen: Bool) -> [APIRoute] {
        [
            APIRoute(
                .get, "/metrics", "Metrics_scrape", tag: .observability,
                summary: "Prometheus metrics: requests, engine calls and their latency, sessions, plugin loads and refusals, engine restarts",
                success: APISuccess(status: 200, content: [(contentType, .string)]), isOpen: isOpen
            ) { _, context throws(APIError) in
                let bytes = context.server.metrics.exposition(sessions: context.server.sessions)
                return Response(
                    status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
            },
        ]
    }
}
