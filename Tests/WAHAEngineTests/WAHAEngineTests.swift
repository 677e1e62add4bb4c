import ContactsEngineKit
import Foundation
import SwitchboardTestSupport
import Testing
@testable import WAHAEngineCore

/// An engine on `url`, shut down after `body` whatever happens.
func withEngine<T>(
    _ url: String, session: String = "default", timeoutSeconds: Double? = nil, detectSeconds: Double? = nil,
    apiKey: String? = nil, _ body: (WAHAEngine) async throws -> T
) async throws -> T {
    let configuration = WAHAEngine.Configuration(
        url: url, apiKey: apiKey, session: session, timeoutSeconds: timeoutSeconds, detectSeconds: detectSeconds
    )
    let engine = try WAHAEngine(configuration: EngineConfiguration(json: try JSONEncoder().encode(configuration)), host: EngineHost(services: nil))
    defer { engine.shutdown() }
    return try await body(engine)
}

/// Waits until `condition` holds, for at most 15 seconds: detection runs in the background.
func eventually(_ what: String, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(15)
    while await !condition() {
        guard ContinuousClock.now < deadline else { throw SwitchboardProcess.Failure(description: "timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// The error `body` throws, which must be an `EngineError`.
func engineError(_ body: () async throws -> Void) async -> EngineError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? EngineError
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    @Test("a bad configuration is invalid input at create", arguments: [
        #"{}"#, #"{"url": "ftp://example.com"}"#, #"{"url": "not a url"}"#, #"{"url": "http://127.0.0.1:1", "timeoutSeconds": 0}"#,
        #"{"url": "http://127.0.0.1:1", "detectSeconds": -1}"#, #"{"url": "http://127.0.0.1:1", "session": ""}"#,
    ])
    func badConfiguration(json: String) {
        #expect {
            _ = try WAHAEngine(configuration: EngineConfiguration(json: Data(json.utf8)), host: EngineHost(services: nil))
        } throws: { ($0 as? EngineError)?.kind == .invalidInput }
    }

    @Test("create does not wait on the network, and serves every feature until detection says otherwise")
    func createDoesNotBlock() async throws {
        // An upstream that accepts connections and never answers: detection waits out its minute.
        let hung = try Listener()
        defer { hung.close() }
        try await withEngine("http://127.0.0.1:\(hung.port)", timeoutSeconds: 60) { engine in
            // Had create waited for detection, it would have timed out and said so here.
            #expect(engine.status.health == .ok)
            #expect(engine.status.message.hasSuffix("engine not detected yet"))
            #expect(engine.activeFeatures == Set(Feature.allCases))
        }
    }

    @Test("WAHA's matrix, per engine")
    func matrix() {
        #expect(WAHAMatrix.features(ofEngine: "webjs") == Set(Feature.allCases))
        #expect(WAHAMatrix.features(ofEngine: "WPP") == Set(Feature.allCases).subtracting([.contactsUpsert]))
        let storeEngines = Set(Feature.allCases).subtracting([.contactsAbout, .contactsBlock, .contactsUnblock])
        #expect(WAHAMatrix.features(ofEngine: "NOWEB") == storeEngines)
        #expect(WAHAMatrix.features(ofEngine: "Gows") == storeEngines)
        #expect(WAHAMatrix.features(ofEngine: "local") == nil)
    }
}
