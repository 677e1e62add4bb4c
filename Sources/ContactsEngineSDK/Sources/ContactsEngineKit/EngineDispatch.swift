import Foundation

extension ContactsEngine {
    /// Runs one feature from its JSON request to its JSON result: what the C ABI calls into.
    public func perform(_ feature: Feature, request: [UInt8]) async throws -> [UInt8] {
        switch feature {
        case .contactsList: try await run(Operations.ListContacts.self, request) { try await listContacts($0) }
        case .contactsGet: try await run(Operations.GetContact.self, request) { try await contact($0) }
        case .contactsUpsert: try await run(Operations.UpsertContact.self, request) { try await upsertContact($0); return Empty() }
        case .contactsCheckExists: try await run(Operations.CheckExists.self, request) { try await checkExists($0) }
        case .contactsAbout: try await run(Operations.About.self, request) { try await about($0) }
        case .contactsProfilePicture: try await run(Operations.ProfilePicture.self, request) { try await profilePicture($0) }
        case .contactsBlock: try await run(Operations.Block.self, request) { try await block($0); return Empty() }
        case .contactsUnblock: try await run(Operations.Unblock.self, request) { try await unblock($0); return Empty() }
        case .lidsList: try await run(Operations.ListLids.self, request) { try await listLids($0) }
        case .lidsCount: try await run(Operations.CountLids.self, request) { _ in CountResult(count: try await countLids()) }
        case .lidsGetByLid: try await run(Operations.PhoneNumberForLid.self, request) { try await phoneNumber(forLid: $0) }
        case .lidsGetByPhoneNumber: try await run(Operations.LidForPhoneNumber.self, request) { try await lid(forPhoneNumber: $0) }
        }
    }

    private func run<Operation: EngineOperation>(
        _: Operation.Type,
        _ body: [UInt8],
        _ work: (Operation.Request) async throws -> Operation.Result
    ) async throws -> [UInt8] {
        let request: Operation.Request
        do {
            request = try JSONCoders.decode(Operation.Request.self, from: body)
        } catch let error as DecodingError {
            throw EngineError(.invalidInput, "invalid \(Operation.feature.rawValue) request: \(error.readableDescription)")
        }
        return try JSONCoders.encode(try await work(request))
    }
}

/// One encoder and one decoder for every call: they are thread-safe, and creating them per call
/// is a measurable part of a call's cost. The encoder writes what `JSONWriter` writes: sorted
/// keys, for stable output to clients, diffs and tests.
public enum JSONCoders {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    public static let decoder = JSONDecoder()
}
