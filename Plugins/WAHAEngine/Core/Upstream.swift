import AsyncHTTPClient
@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import NIOCore
import NIOHTTP1

/// The WAHA (or Switchboard) server the engine forwards to, as HTTP requests and answers.
/// Every failure comes out as an `EngineError` of the kind the engine reports.
struct Upstream: Sendable {
    let http: HTTPClient
    /// `scheme://host:port[/prefix]`, without a trailing `/`.
    let base: String
    let apiKey: String?
    let session: String
    let timeout: TimeAmount

    /// A larger answer is an error rather than a memory blow-up.
    static let maximumBodyBytes = 64 << 20

    struct Reply {
        var status: Int
        var body: Data
    }

    /// One request, with one deadline for every attempt. A GET is retried once when the
    /// connection failed (a pooled connection the server closed, a restart in progress): it
    /// changes nothing upstream, so asking twice is safe. Nothing else is retried.
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String?)] = [], json body: Data? = nil
    ) async throws(EngineError) -> Reply {
        let deadline = NIODeadline.now() + timeout
        var request = HTTPClientRequest(url: base + path + Self.queryString(query))
        request.method = method
        if let apiKey { request.headers.add(name: "X-Api-Key", value: apiKey) }
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        var attempts = method == .GET ? 2 : 1
        while true {
            attempts -= 1
            do {
                return try await exchange(request, by: deadline)
            } catch {
                let failure = transportFailure(error, method, path)
                let connectionFailed = failure.kind == .unavailable && !(error is NIOTooManyBytesError) && !Task.isCancelled
                guard attempts > 0, connectionFailed, NIODeadline.now() < deadline else { throw failure }
            }
        }
    }

    /// AsyncHTTPClient's deadline ends once the head arrives, and its read timeout only bounds
    /// the silence between two reads: a body that trickles in would outlive both. The deadline
    /// is raced against the whole exchange instead.
    private func exchange(_ request: HTTPClientRequest, by deadline: NIODeadline) async throws -> Reply {
        try await withThrowingTaskGroup(of: Reply?.self) { group in
            group.addTask {
                let response = try await http.execute(request, deadline: deadline)
                let bytes = try await response.body.collect(upTo: Self.maximumBodyBytes)
                return Reply(status: Int(response.status.code), body: Data(bytes.readableBytesView))
            }
            group.addTask {
                try await Task.sleep(for: .nanoseconds((deadline - .now()).nanoseconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let reply = try await group.next() ?? nil else { throw HTTPClientError.deadlineExceeded }
            return reply
        }
    }

    /// Decodes a 2xx answer; `nil` for an empty body or `null`, which is how WAHA says "nothing".
    func decode<T: Decodable>(_ type: T.Type, _ reply: Reply, _ request: String) throws(EngineError) -> T? {
        let text = reply.body.trimmingWhitespace
        if text.isEmpty || text == Data("null".utf8) { return nil }
        do {
            return try JSONCoders.decoder.decode(T.self, from: text)
        } catch let error as DecodingError {
            throw EngineError(.unavailable, "the upstream \(base) answered \(request) with a malformed body (\(error.readableDescription)): \(Self.excerpt(reply.body))")
        } catch {
            throw EngineError(.unavailable, "the upstream \(base) answered \(request) with a malformed body: \(error)")
        }
    }

    /// What an answer other than 2xx means. 501, and the 422 WAHA answered before mid-2025, say
    /// that the upstream's engine lacks the method: the caller demotes the feature on `.notImplemented`.
    func failure(_ reply: Reply, _ request: String) -> EngineError {
        let said = Self.message(in: reply.body)
        let who = "the upstream \(base) (session '\(session)')"
        switch reply.status {
        case 501:
            return EngineError(.notImplemented, "\(who) does not implement \(request): \(said)")
        case 422 where said.localizedCaseInsensitiveContains("not implemented"):
            return EngineError(.notImplemented, "\(who) does not implement \(request): \(said)")
        // WAHA's "Session ... does not exist" and "Session status is not as expected": not the caller's input.
        case 422 where said.hasPrefix("Session "):
            return EngineError(.unavailable, "\(who) cannot serve \(request): \(said)")
        case 400, 422:
            return EngineError(.invalidInput, "\(who) refused \(request): \(said)")
        case 401, 403:
            return EngineError(.unavailable, "\(who) refused the API key (HTTP \(reply.status)) for \(request): check apiKey")
        case 404:
            return EngineError(.notFound, "\(who) found nothing for \(request): \(said)")
        case 409:
            return EngineError(.conflict, "\(who) reports a conflict for \(request): \(said)")
        case 504:
            return EngineError(.timeout, "\(who) timed out on \(request) (HTTP 504): \(said)")
        default:
            return EngineError(.unavailable, "\(who) answered HTTP \(reply.status) to \(request): \(said)")
        }
    }

    private func transportFailure(_ error: any Error, _ method: HTTPMethod, _ path: String) -> EngineError {
        let request = "\(method.rawValue) \(path)"
        let timeouts: [HTTPClientError] = [.deadlineExceeded, .connectTimeout, .readTimeout]
        if let error = error as? HTTPClientError, timeouts.contains(error) {
            return EngineError(.timeout, "the upstream \(base) did not answer \(request) within \(timeout.nanoseconds / 1_000_000) ms")
        }
        if case ChannelError.connectTimeout = error {
            return EngineError(.timeout, "the upstream \(base) did not accept a connection within \(timeout.nanoseconds / 1_000_000) ms")
        }
        if let error = error as? NIOTooManyBytesError {
            return EngineError(.unavailable, "the upstream \(base) answered \(request) with more than \(error.maxBytes.map(String.init) ?? "the allowed") bytes")
        }
        return EngineError(.unavailable, "cannot reach the upstream \(base) for \(request): \(error)")
    }

    private static func queryString(_ query: [(String, String?)]) -> String {
        let items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items
        // URLComponents leaves `+` alone, which servers read as a space.
        return "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }

    /// A path segment: `@` stays readable, `/`, `?` and `#` cannot break the path.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// WAHA's and Switchboard's error bodies carry `message` (a string, or NestJS's list of
    /// validation messages) or `error`; anything else is quoted as it came.
    private static func message(in body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let message = object["message"] as? String { return message }
            if let messages = object["message"] as? [String] { return messages.joined(separator: "; ") }
            if let error = object["error"] as? String { return error }
        }
        return excerpt(body)
    }

    private static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        if text.isEmpty { return "(empty body)" }
        return body.count > 200 ? text + "..." : text
    }
}

extension Data {
    fileprivate var trimmingWhitespace: Data {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return Data() }
        return self[first...last]
    }
}
