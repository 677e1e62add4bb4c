import AsyncHTTPClient
@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The `waha` engine: every feature forwarded to a WAHA server's contacts API, or to another
/// Switchboard's, over one pooled HTTP client, with the answers normalized to the SDK's shapes.
///
/// Configuration: `{"url": "http://host:port", "apiKey": "...", "session": "default",
/// "timeoutSeconds": 10, "detectSeconds": 60}`; only `url` is required. `apiKey` is sent as
/// `X-Api-Key`; `timeoutSeconds` bounds each call, retry included.
///
/// What the upstream serves is detected when the engine starts and every `detectSeconds`:
/// a WAHA server names its engine in `GET /api/server/version`, and WAHA's published matrix
/// (`WAHAMatrix`) says what that engine serves; a Switchboard server (its version answer has
/// `abi`) says what the session serves at `GET /api/sessions/{session}/features`; any other
/// server is taken to serve everything. A call the upstream answers "not implemented" demotes
/// its feature until the next detection, since the upstream may change engine at run time.
public final class WAHAEngine: ContactsEngine {
    public static let name = "waha"
    public static let version = "1.0.0"
    public static let summary = "Contacts from a WAHA or Switchboard server, over its HTTP API"
    public static let features = Set(Feature.allCases)
    /// In a sandboxed engine process it reaches its upstream server only when granted.
    public static let needs: Set<EngineNeed> = [.network]

    public struct Configuration: Codable, Sendable, StrictConfiguration {
        public enum CodingKeys: String, CodingKey, CaseIterable { case url, apiKey, session, timeoutSeconds, detectSeconds }
        public var url: String
        public var apiKey: String?
        public var session: String?
        public var timeoutSeconds: Double?
        public var detectSeconds: Double?

        public init(url: String, apiKey: String? = nil, session: String? = nil, timeoutSeconds: Double? = nil, detectSeconds: Double? = nil) {
            self.url = url
            self.apiKey = apiKey
            self.session = session
            self.timeoutSeconds = timeoutSeconds
            self.detectSeconds = detectSeconds
        }
    }

    private struct State {
        /// What the last detection found; every feature until one succeeds, so that calls are
        /// tried (and demoted on 501) rather than refused while the upstream is still unknown.
        var detected = Set(Feature.allCases)
        var demoted: Set<Feature> = []
        /// The upstream's engine and where its features came from; `nil` before the first detection.
        var upstreamDescription: String?
        /// Why the upstream could not be reached at the last detection or call.
        var failure: String?
        var calls = 0
        var failures = 0
        var demotions = 0
        var detection: Task<Void, Never>?
    }

    private let upstream: Upstream
    private let detectInterval: Duration
    private let host: EngineHost
    private let state = Mutex(State())
    private let gate = ShutdownGate(closedMessage: "the waha engine is shut down")

    public init(configuration: EngineConfiguration, host: EngineHost) throws {
        let settings = try configuration.decode(Configuration.self)
        let base = try Self.baseURL(settings.url)
        let session = settings.session ?? "default"
        guard !session.isEmpty else { throw EngineError(.invalidInput, "invalid configuration: session: empty name") }
        let timeoutSeconds = settings.timeoutSeconds ?? 10
        guard timeoutSeconds > 0, timeoutSeconds <= 3600 else {
            throw EngineError(.invalidInput, "invalid configuration: timeoutSeconds: must be more than 0 and at most 3600; got \(timeoutSeconds)")
        }
        let detectSeconds = settings.detectSeconds ?? 60
        // Below a tenth of a second, detection would keep the upstream busy for nothing.
        guard detectSeconds >= 0.1, detectSeconds <= 86_400 else {
            throw EngineError(.invalidInput, "invalid configuration: detectSeconds: must be from 0.1 to 86400; got \(detectSeconds)")
        }
        detectInterval = .milliseconds(Int64(detectSeconds * 1000))
        self.host = host

        let timeout = TimeAmount.milliseconds(Int64(max(timeoutSeconds * 1000, 1)))
        var httpConfiguration = HTTPClient.Configuration(timeout: .init(connect: timeout, read: timeout))
        // A refused connection is reported at once (and retried once by `Upstream.send` for a
        // GET) rather than retried by the pool until the deadline.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        // Created last: an HTTPClient must be shut down before it is released, and a throwing
        // init never reaches `shutdown()`. Creating it opens no connection.
        upstream = Upstream(
            http: HTTPClient(configuration: httpConfiguration), base: base,
            apiKey: settings.apiKey, session: session, timeout: timeout
        )
        // Not awaited: creating the engine must not wait on the network. `shutdown()` cancels it.
        let detection = Task { [self] in
            while !Task.isCancelled {
                await detect()
                try? await Task.sleep(for: detectInterval)
            }
        }
        state.withLock { $0.detection = detection }
    }

    public var activeFeatures: Set<Feature> {
        state.withLock { $0.detected.subtracting($0.demoted) }
    }

    public var status: EngineStatus {
        state.withLock { state in
            let counters = ["calls": state.calls, "callsInFlight": gate.callsInside, "failures": state.failures, "demotions": state.demotions]
            let name = "upstream \(upstream.base) session '\(upstream.session)'"
            let known = state.upstreamDescription ?? "engine not detected yet"
            if let failure = state.failure {
                return EngineStatus(health: .degraded, message: "\(name) failing: \(failure); last known: \(known)", counters: counters)
            }
            return EngineStatus(health: .ok, message: "\(name): \(known)", counters: counters)
        }
    }

    /// Calls in flight finish first: the HTTP client is shut down when the last one returns.
    public func shutdown() {
        let detection = state.withLock { state in
            state.detection?.cancel()
            return state.detection
        }
        let http = upstream.http
        gate.close {
            await detection?.value
            try? await http.shutdown()
        }
    }

    // MARK: Contacts

    public func listContacts(_ request: ContactsPageRequest) async throws -> [Contact] {
        try await call(.contactsList) { () async throws(EngineError) in
            let contacts = try await fetch([Contact?].self, "/api/contacts/all", [
                ("session", upstream.session), ("limit", request.limit.map(String.init)), ("offset", String(request.offset)),
                ("sortBy", request.sortBy?.rawValue), ("sortOrder", request.sortOrder.rawValue),
            ])
            return contacts?.compactMap { $0 } ?? []
        }
    }

    public func contact(_ request: ContactRequest) async throws -> Contact {
        try await call(.contactsGet) { () async throws(EngineError) in
            // Some WAHA engines answer `null` for a contact they do not know.
            guard let contact = try await fetch(Contact.self, "/api/contacts", [("contactId", request.contactId), ("session", upstream.session)]) else {
                throw EngineError(.notFound, "the upstream \(upstream.base) knows no contact \(request.contactId)")
            }
            return contact
        }
    }

    public func upsertContact(_ request: UpsertContactRequest) async throws {
        struct Body: Encodable { var firstName: String?, lastName: String? }
        try await call(.contactsUpsert) { () async throws(EngineError) in
            let path = "/api/\(Upstream.segment(upstream.session))/contacts/\(Upstream.segment(request.chatId))"
            _ = try await exchange(.PUT, path, json: try Self.json(Body(firstName: request.firstName, lastName: request.lastName)))
        }
    }

    public func checkExists(_ request: CheckExistsRequest) async throws -> CheckExistsResult {
        // Checked here, before the upstream passes a malformed number on to WhatsApp.
        guard ChatID.isPhoneNumber(request.phone) else {
            throw EngineError(.invalidInput, "phone must be \(ChatID.phoneNumberDigits) digits, country code first: \(request.phone)")
        }
        return try await call(.contactsCheckExists) { () async throws(EngineError) in
            let path = "/api/contacts/check-exists"
            guard let result = try await fetch(CheckExistsResult.self, path, [("phone", request.phone), ("session", upstream.session)]) else {
                throw EngineError(.unavailable, "the upstream \(upstream.base) answered GET \(path) with no body")
            }
            // WAHA engines send `"chatId": null` or a guess for numbers without an account; the API gives none.
            return result.numberExists ? result : CheckExistsResult(numberExists: false)
        }
    }

    public func about(_ request: ContactRequest) async throws -> AboutResult {
        try await call(.contactsAbout) { () async throws(EngineError) in
            try await fetch(AboutResult.self, "/api/contacts/about", [("contactId", request.contactId), ("session", upstream.session)])
                ?? AboutResult(about: nil)
        }
    }

    public func profilePicture(_ request: ProfilePictureRequest) async throws -> ProfilePictureResult {
        try await call(.contactsProfilePicture) { () async throws(EngineError) in
            try await fetch(ProfilePictureResult.self, "/api/contacts/profile-picture", [
                ("contactId", request.contactId), ("session", upstream.session), ("refresh", String(request.refresh)),
            ]) ?? ProfilePictureResult(profilePictureURL: nil)
        }
    }

    public func block(_ request: ContactRequest) async throws {
        try await post(.contactsBlock, "/api/contacts/block", request)
    }

    public func unblock(_ request: ContactRequest) async throws {
        try await post(.contactsUnblock, "/api/contacts/unblock", request)
    }

    // MARK: LIDs

    public func listLids(_ request: LidsPageRequest) async throws -> [LidMapping] {
        try await call(.lidsList) { () async throws(EngineError) in
            try await fetch([LidMapping?].self, lidsPath(""), [("limit", String(request.limit)), ("offset", String(request.offset))])?
                .compactMap { $0 } ?? []
        }
    }

    public func countLids() async throws -> Int {
        try await call(.lidsCount) { () async throws(EngineError) in
            guard let result = try await fetch(CountResult.self, lidsPath("/count")) else {
                throw EngineError(.unavailable, "the upstream \(upstream.base) answered GET \(lidsPath("/count")) with no body")
            }
            return result.count
        }
    }

    /// An unknown LID is not an error: its phone number is `null`, whatever the upstream answered.
    public func phoneNumber(forLid request: LidLookupRequest) async throws -> LidMapping {
        try await call(.lidsGetByLid) { () async throws(EngineError) in
            let answer = try await fetch(LidMapping.self, lidsPath("/" + Upstream.segment(request.lid)))
            return LidMapping(lid: answer?.lid ?? request.lid, pn: answer?.pn)
        }
    }

    public func lid(forPhoneNumber request: PhoneNumberLookupRequest) async throws -> LidMapping {
        try await call(.lidsGetByPhoneNumber) { () async throws(EngineError) in
            let answer = try await fetch(LidMapping.self, lidsPath("/pn/" + Upstream.segment(request.pn)))
            return LidMapping(lid: answer?.lid, pn: answer?.pn ?? request.pn)
        }
    }

    // MARK: Requests

    private func lidsPath(_ rest: String) -> String {
        "/api/\(Upstream.segment(upstream.session))/lids" + rest
    }

    private func post(_ feature: Feature, _ path: String, _ request: ContactRequest) async throws {
        struct Body: Encodable { var contactId: String, session: String }
        try await call(feature) { () async throws(EngineError) in
            _ = try await exchange(.POST, path, json: try Self.json(Body(contactId: request.contactId, session: upstream.session)))
        }
    }

    private func fetch<T: Decodable>(_ type: T.Type, _ path: String, _ query: [(String, String?)] = []) async throws(EngineError) -> T? {
        let reply = try await exchange(.GET, path, query)
        return try upstream.decode(type, reply, "GET \(path)")
    }

    /// One request whose answer must be 2xx.
    private func exchange(
        _ method: HTTPMethod, _ path: String, _ query: [(String, String?)] = [], json: Data? = nil
    ) async throws(EngineError) -> Upstream.Reply {
        let reply = try await upstream.send(method, path, query: query, json: json)
        guard (200..<300).contains(reply.status) else { throw upstream.failure(reply, "\(method.rawValue) \(path)") }
        return reply
    }

    private static func json(_ body: some Encodable) throws(EngineError) -> Data {
        do {
            return try JSONCoders.encoder.encode(body)
        } catch {
            throw EngineError(.internal, "cannot encode the request body: \(error)")
        }
    }

    // MARK: Calls in flight

    /// Runs one call: counted, so that `shutdown()` can wait for it and `status` can report it,
    /// and watched, so that "not implemented" demotes the feature and an unreachable upstream shows.
    private func call<T: Sendable>(_ feature: Feature, _ body: () async throws(EngineError) -> T) async throws(EngineError) -> T {
        try gate.enter()
        defer { gate.leave() }
        state.withLock { $0.calls += 1 }
        let outcome: Result<T, EngineError>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        let demoted = state.withLock { state in
            var demoted = false
            switch outcome {
            case .success:
                state.failure = nil
            case .failure where Task.isCancelled:
                break // the host gave up on this call: it says nothing about the upstream
            case .failure(let error) where error.kind == .notImplemented:
                demoted = state.detected.contains(feature) && state.demoted.insert(feature).inserted
                if demoted { state.demotions += 1 }
            case .failure(let error):
                switch error.kind {
                case .unavailable, .timeout:
                    state.failures += 1
                    state.failure = error.message
                case .internal:
                    state.failures += 1
                default:
                    break
                }
            }
            return demoted
        }
        if demoted { host.log(.warning, "the upstream \(upstream.base) does not implement \(feature.rawValue): off until the next detection") }
        return try outcome.get()
    }

    // MARK: Detection

    private struct ServerVersion: Decodable {
        var engine: String?
        /// Only Switchboard sends it: the plugin ABI it speaks.
        var abi: String?
    }

    private struct SessionFeatures: Decodable {
        struct Endpoint: Decodable {
            var feature: String
            var supported: Bool
        }
        var engine: String?
        var endpoints: [Endpoint]
    }

    private func detect() async {
        do {
            let (features, description) = try await discover()
            let changed = state.withLock { state in
                defer {
                    state.detected = features
                    state.demoted = []
                    state.upstreamDescription = description
                    state.failure = nil
                }
                return state.detected != features || state.upstreamDescription != description
            }
            if changed { host.log(.info, "upstream \(upstream.base): \(description); serving \(features.sorted().map(\.rawValue))") }
        } catch {
            // Shutting down cancels detection: that is no news about the upstream.
            guard !Task.isCancelled else { return }
            let wasFailing = state.withLock { state in
                defer { state.failure = error.message }
                return state.failure != nil
            }
            // Once per outage, not once per detection.
            if !wasFailing { host.log(.warning, "cannot detect the upstream's features: \(error.message)") }
        }
    }

    /// What the upstream serves, and a description naming its engine and how that was learned.
    private func discover() async throws(EngineError) -> (Set<Feature>, String) {
        let versionPath = "/api/server/version"
        let versionReply = try await upstream.send(.GET, versionPath)
        if versionReply.status == 401 || versionReply.status == 403 { throw upstream.failure(versionReply, "GET \(versionPath)") }
        let version = (200..<300).contains(versionReply.status) ? try? JSONCoders.decoder.decode(ServerVersion.self, from: versionReply.body) : nil
        // Switchboard engine names are lowercase and could spell a WAHA engine's: `abi` tells them apart.
        if let version, version.abi == nil, let engine = version.engine, let features = WAHAMatrix.features(ofEngine: engine) {
            return (features, "WAHA engine \(engine.uppercased()), features from WAHA's published matrix")
        }
        let featuresReply = try await upstream.send(.GET, "/api/sessions/\(Upstream.segment(upstream.session))/features")
        if (200..<300).contains(featuresReply.status),
           let report = try? JSONCoders.decoder.decode(SessionFeatures.self, from: featuresReply.body) {
            let features = Set(report.endpoints.filter(\.supported).compactMap { Feature(rawValue: $0.feature) })
            return (features, "Switchboard engine \(report.engine ?? "unknown"), features from its features endpoint")
        }
        return (Set(Feature.allCases), "engine \(version?.engine ?? "unknown"), every feature until it answers 501")
    }

    // MARK: Rules

    /// An http(s) URL with a host, without a trailing `/`: request paths start with one.
    private static func baseURL(_ text: String) throws(EngineError) -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host?.isEmpty == false, url.query == nil, url.fragment == nil
        else {
            throw EngineError(.invalidInput, "invalid configuration: url: expected http://host:port or https://host:port; got '\(text)'")
        }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}
