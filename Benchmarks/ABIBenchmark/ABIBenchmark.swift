@_spi(SwitchboardHost) import ContactsEngineKit
import Foundation
import LocalEngineCore
import Logging
import SwitchboardEngineRuntime

/// What the plugin boundary costs: the same `local` engine code called directly in Swift and
/// through the C ABI from the `.so` SwiftPM built, in one run; and the C `fixed` engine through
/// the ABI. Then what a plugin load costs, from the file to a registered engine.
///
/// Usage: ABIBenchmark <folder with libLocalEngine.so and libFixedEngine.so> [calls per round] [profile-answer|profile-typed|profile-fixed]
@main
struct ABIBenchmark {
    static let rounds = 11

    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            print("usage: ABIBenchmark <plugin folder> [calls per round]")
            exit(64)
        }
        let folder = arguments[1]
        let calls = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

        // The folder holds the plugins built with the host: shipped, so entered directly.
        let shipped = PluginPolicy(shippedDirectories: [folder])
        let registry = EngineRegistry(pluginFiles: ["\(folder)/libLocalEngine.so", "\(folder)/libFixedEngine.so"], policy: shipped, logger: quiet)
        registry.scan()
        guard let localPlugin = registry.engine(named: "local"), let fixedPlugin = registry.engine(named: "fixed") else {
            print("plugins not found in \(folder)")
            exit(1)
        }
        let context = InstanceContext(session: "bench", callTimeout: .seconds(30), logger: quiet)
        let throughABI = try await localPlugin.makeInstance(configuration: Data(), context: context)
        let fixed = try await fixedPlugin.makeInstance(configuration: Data(), context: context)
        let direct = try LocalEngine(configuration: EngineConfiguration(json: Data()), host: EngineHost(services: nil))

        let id = "14155550101@c.us"
        try await direct.upsertContact(UpsertContactRequest(chatId: id, firstName: "Ada", lastName: nil))
        _ = try await throughABI.checkedResult(Operations.UpsertContact.self, UpsertContactRequest(chatId: id, firstName: "Ada", lastName: nil))
        let request = ContactRequest(contactId: id)
        let fixedRequest = ContactRequest(contactId: "14155550101@c.us")

        // `ABIBenchmark <folder> <calls> profile-answer|profile-typed|profile-fixed`: one kind of
        // call alone, for `perf record`. In a nonisolated closure, as every measured call: from
        // the main actor each call would hop threads.
        if arguments.count > 3 {
            switch arguments[3] {
            case "profile-answer": _ = try await nanosecondsPerCall(calls) { _ = try await throughABI.checkedAnswer(Operations.GetContact.self, request) }
            case "profile-typed": _ = try await nanosecondsPerCall(calls) { _ = try await throughABI.checkedResult(Operations.GetContact.self, request) }
            case "profile-fixed": _ = try await nanosecondsPerCall(calls) { _ = try await fixed.checkedResult(Operations.GetContact.self, fixedRequest) }
            default: print("unknown profile \(arguments[3])")
            }
            return
        }
        var directTimes: [Double] = [], abiTimes: [Double] = [], fixedTimes: [Double] = []
        var directAnswerTimes: [Double] = [], abiAnswerTimes: [Double] = []
        var directExistsTimes: [Double] = [], abiExistsTimes: [Double] = []
        let existsRequest = CheckExistsRequest(phone: "14155550101")
        for _ in 0..<rounds {
            // Interleaved so that machine noise hits all of them alike.
            directTimes.append(try await nanosecondsPerCall(calls) { _ = try await direct.contact(request) })
            abiTimes.append(try await nanosecondsPerCall(calls) { _ = try await throughABI.checkedResult(Operations.GetContact.self, request) })
            fixedTimes.append(try await nanosecondsPerCall(calls) { _ = try await fixed.checkedResult(Operations.GetContact.self, fixedRequest) })
            // What the contact route needs: the answer's JSON.
            directAnswerTimes.append(try await nanosecondsPerCall(calls) { _ = JSONCoders.encode(writable: try await direct.contact(request)) })
            abiAnswerTimes.append(try await nanosecondsPerCall(calls) { _ = try await throughABI.checkedAnswer(Operations.GetContact.self, request) })
            // Another read `local` answers at once, with request and result types of their own.
            directExistsTimes.append(try await nanosecondsPerCall(calls) { _ = try await direct.checkExists(existsRequest) })
            abiExistsTimes.append(try await nanosecondsPerCall(calls) { _ = try await throughABI.checkedResult(Operations.CheckExists.self, existsRequest) })
        }
        throughABI.shutdown()
        fixed.shutdown()

        // The added cost is the median of each round's own difference: a round measures both
        // sides back to back, so the machine's drift between rounds cancels out of it.
        func added(_ through: [Double], _ direct: [Double]) -> (ns: Double, ratio: Double) {
            (median(zip(through, direct).map { $0 - $1 }), median(zip(through, direct).map { $0 / $1 }))
        }
        let directMedian = median(directTimes), abiMedian = median(abiTimes), abiAdded = added(abiTimes, directTimes)
        print("calls per round: \(calls), rounds: \(rounds), medians of the rounds (added: the median of each round's difference):")
        print(String(format: "  local, direct Swift call:          %8.0f ns/call", directMedian))
        print(String(format: "  local, through the C ABI (.so):    %8.0f ns/call  (+%.0f ns, %.2fx)", abiMedian, abiAdded.ns, abiAdded.ratio))
        print(String(format: "  fixed (C), through the C ABI:      %8.0f ns/call", median(fixedTimes)))
        let directAnswer = median(directAnswerTimes), abiAnswer = median(abiAnswerTimes), answerAdded = added(abiAnswerTimes, directAnswerTimes)
        print("the answer's JSON, as the contact route sends it:")
        print(String(format: "  local, direct Swift call + JSONWriter: %8.0f ns/call", directAnswer))
        print(String(format: "  local, checkedAnswer through the ABI:  %8.0f ns/call  (+%.0f ns, %.2fx)", abiAnswer, answerAdded.ns, answerAdded.ratio))
        let directExists = median(directExistsTimes), abiExists = median(abiExistsTimes), existsAdded = added(abiExistsTimes, directExistsTimes)
        print("another read answered from memory, contacts.check-exists, typed call:")
        print(String(format: "  local check-exists, direct Swift call:  %8.0f ns/call", directExists))
        print(String(format: "  local check-exists, through the ABI:    %8.0f ns/call  (+%.0f ns, %.2fx)", abiExists, existsAdded.ns, existsAdded.ratio))

        // Where the ABI's cost goes: the four JSON codings of one call (Foundation's coders beside
        // the SDK's JSONWriter and JSONReader), and the task a call on the SDK's asynchronous path
        // gets (an engine answering at once, a SynchronousContactsEngine such as `local`, has none).
        let contact = try await direct.contact(request)
        let contactBytes = try JSONCoders.encode(contact)
        let requestBytes = try JSONCoders.encode(request)
        let exists = try await direct.checkExists(existsRequest)
        let existsRequestBytes = try JSONCoders.encode(existsRequest)
        let encoder = JSONEncoder(), decoder = JSONDecoder()
        print("where the time goes, ns per operation (Foundation's JSONEncoder/JSONDecoder, then the SDK's JSONWriter/JSONReader):")
        for (label, body) in [
            ("encode the request, Foundation", { @Sendable in _ = try encoder.encode(request) }),
            ("encode the request, JSONWriter", { @Sendable in _ = JSONCoders.encode(writable: request) }),
            ("decode the request, Foundation", { @Sendable in _ = try decoder.decode(ContactRequest.self, from: Data(requestBytes)) }),
            ("decode the request, JSONReader", { @Sendable in _ = try JSONCoders.decode(readable: ContactRequest.self, from: requestBytes) }),
            ("encode the result (Contact), Foundation", { @Sendable in _ = try encoder.encode(contact) }),
            ("encode the result (Contact), JSONWriter", { @Sendable in _ = JSONCoders.encode(writable: contact) }),
            ("decode the result, Foundation", { @Sendable in _ = try decoder.decode(Contact.self, from: Data(contactBytes)) }),
            ("decode the result, JSONReader", { @Sendable in _ = try JSONCoders.decode(readable: Contact.self, from: contactBytes) }),
            ("the host's check of the answer (canonical)", { @Sendable in _ = Operations.GetContact.canonicalReading(of: contactBytes, for: request) }),
            ("encode the request (exists), Foundation", { @Sendable in _ = try encoder.encode(existsRequest) }),
            ("encode the request (exists), JSONWriter", { @Sendable in _ = JSONCoders.encode(writable: existsRequest) }),
            ("decode the request (exists), Foundation", { @Sendable in _ = try decoder.decode(CheckExistsRequest.self, from: Data(existsRequestBytes)) }),
            ("decode the request (exists), JSONReader", { @Sendable in _ = try JSONCoders.decode(readable: CheckExistsRequest.self, from: existsRequestBytes) }),
            ("encode the result (exists), Foundation", { @Sendable in _ = try encoder.encode(exists) }),
            ("encode the result (exists), JSONWriter", { @Sendable in _ = JSONCoders.encode(writable: exists) }),
            ("start a Task and wait for it", { @Sendable in _ = await Task { () -> Int in 1 }.value }),
            ("start a Task.immediate (async path)", { @Sendable in _ = Task.immediate { () -> Int in 1 } }),
        ] as [(String, @Sendable () async throws -> Void)] {
            var times: [Double] = []
            for _ in 0..<rounds { times.append(try await nanosecondsPerCall(calls, body)) }
            print("  " + label.padding(toLength: 42, withPad: " ", startingAt: 0) + String(format: "%8.0f", median(times)))
        }

        var loadTimes: [Double] = []
        for round in 0..<20 {
            let start = ContinuousClock.now
            let fresh = EngineRegistry(pluginFiles: ["\(folder)/libLocalEngine.so"], policy: shipped, logger: quiet)
            fresh.scan()
            loadTimes.append(Double((ContinuousClock.now - start).nanoseconds) / 1_000)
            precondition(fresh.engine(named: "local") != nil, "load \(round) failed")
        }
        print(String(format: "plugin load, file to registered engine (libLocalEngine.so, 20 loads): median %.0f µs, min %.0f µs, max %.0f µs",
                     median(loadTimes), loadTimes.min() ?? 0, loadTimes.max() ?? 0))
    }

    static func nanosecondsPerCall(_ calls: Int, _ body: @Sendable () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        for _ in 0..<calls { try await body() }
        return Double((ContinuousClock.now - start).nanoseconds) / Double(calls)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
