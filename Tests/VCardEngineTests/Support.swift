import ContactsEngineKit
import Foundation
import Synchronization
@testable import VCardEngineCore

enum Fixture: String, CaseIterable {
    case apple = "apple-contacts", google = "google-contacts", android = "android-2.1", vCard4 = "vcard-4.0"

    var fileName: String { rawValue + ".vcf" }

    var data: Data {
        get throws { try Data(contentsOf: Bundle.module.url(forResource: rawValue, withExtension: "vcf", subdirectory: "Fixtures")!) }
    }

    /// The contacts each fixture's cards stand for, and the reasons of those it skips.
    var parsed: [Result<CardContact, MalformedCard>] {
        get throws { CardContact.read(try data) }
    }
}

/// The image the Apple and Android fixtures embed: a JPEG signature, then every byte value.
let fixtureJPEG = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0] + (0...255).map(UInt8.init) + [0xFF, 0xD9])
let fixtureJPEGURL = "data:image/jpeg;base64,\(fixtureJPEG.base64EncodedString())"

func card(_ lines: String...) -> String { lines.joined(separator: "\r\n") + "\r\n" }

/// Parses text that must hold exactly one well-formed card.
func onlyCard(_ text: String) throws -> VCard {
    let results = VCardParser.parse(text)
    guard results.count == 1, case .success(let card) = results[0] else { throw ParseFailure(results: "\(results)") }
    return card
}

struct ParseFailure: Error { var results: String }

/// A host that keeps the lines the engine logs.
final class RecordingHost: @unchecked Sendable {
    // The services struct must stay at one address for as long as an engine holds it: the engine
    // is always released first, as tests keep this object alive until they end.
    private let services = UnsafeMutablePointer<sb_host_services>.allocate(capacity: 1)
    private let recorded = Mutex<[String]>([])

    init() {
        services.initialize(to: sb_host_services(
            struct_size: UInt32(MemoryLayout<sb_host_services>.size),
            host_context: Unmanaged.passUnretained(self).toOpaque(),
            log: { context, _, message in
                let host = Unmanaged<RecordingHost>.fromOpaque(context!).takeUnretainedValue()
                host.recorded.withLock { $0.append(String(cString: message!)) }
            },
            state_directory: nil
        ))
    }

    deinit { services.deallocate() }

    var engineHost: EngineHost { EngineHost(services: services) }
    var lines: [String] { recorded.withLock { $0 } }
}

/// A folder of its own per test, removed when the test ends.
final class Sandbox {
    let directory: URL
    let host = RecordingHost()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vcard-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    func copy(_ fixtures: [Fixture] = Fixture.allCases) throws {
        for fixture in fixtures { try fixture.data.write(to: directory.appendingPathComponent(fixture.fileName)) }
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
    }

    func engine() throws -> VCardEngine {
        try VCardEngine(configuration: configuration(["directory": directory.path]), host: host.engineHost)
    }
}

func configuration(_ object: [String: Any]) throws -> EngineConfiguration {
    EngineConfiguration(json: try JSONSerialization.data(withJSONObject: object))
}

/// Past the engine's refresh interval, so the next request lists the folder again.
func waitForRescan() async throws {
    try await Task.sleep(for: VCardEngine.refreshInterval + .milliseconds(100))
}
