import ContactsEngineKit
import Hummingbird
import Logging
import SwitchboardEngineRuntime
import SwitchboardSessions

/// WAHA's contacts endpoints, each answered by the session's engine.
enum ContactsRoutes {
    /// The largest page `limit` accepts; leaving `limit` out of `contacts/all` returns everything, as WAHA does.
    static let maxPageSize = 10_000
    static let defaultLidsPageSize = 100
    static let maxOffset = Int(Int32.max)

    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/contacts/all", "ContactsController_getAll", tag: .contacts, summary: Feature.contactsList.summary,
                feature: .contactsList,
                parameters: [
                    .session,
                    .query("limit", .integerRange(1, maxPageSize), "Page size; all contacts from offset when omitted"),
                    .query("offset", .integerRange(0, maxOffset), "Contacts to skip"),
                    .query("sortBy", .stringEnum(ContactSortKey.allCases.map(\.rawValue)), "Sort key; id when omitted"),
                    .query("sortOrder", .stringEnum(SortOrder.allCases.map(\.rawValue)), "asc when omitted"),
                ],
                success: .json(.array(.reference("Contact")))
            ) { _, context throws(APIError) in
                let q = context.query
                let request = ContactsPageRequest(
                    limit: try q.integer("limit", in: 1...maxPageSize),
                    offset: try q.integer("offset", in: 0...maxOffset) ?? 0,
                    sortBy: try q.oneOf("sortBy", ContactSortKey.self),
                    sortOrder: try q.oneOf("sortOrder", SortOrder.self) ?? .asc)
                let session = try context.querySession()
                // A page is at most `maxPageSize` contacts; the whole list may be any size, so it streams.
                guard request.limit == nil else { return try await respond(with: Operations.ListContacts.self, request, on: session) }
                return try await respondInPieces(with: Operations.ListContacts.self, request, on: session, logger: context.http.logger)
            },
            APIRoute(
                .get, "/api/contacts", "ContactsController_get", tag: .contacts, summary: Feature.contactsGet.summary, feature: .contactsGet,
                parameters: [.query("contactId", IDFormat.contactID.schema, required: true, IDFormat.contactID.example), .session],
                success: .json(.reference("Contact"))
            ) { _, context throws(APIError) in
                let id = try contactID(try context.query.required("contactId", format: .contactID))
                let session = try context.querySession()
                return try await respond(with: Operations.GetContact.self, ContactRequest(contactId: id), on: session)
            },
            APIRoute(
                // WAHA's document names this parameter `{id}` and PUT's `{chatId}`: two templates of
                // one path, which OpenAPI does not allow and which would make `Allow` of one list
                // the other's method. Here both are `{chatId}`; the operationId stays WAHA's.
                .get, "/api/{session}/contacts/{chatId}", "ContactsSessionController_get", tag: .contacts,
                summary: Feature.contactsGet.summary, feature: .contactsGet,
                parameters: [.sessionPath, .path("chatId", IDFormat.contactID.schema, IDFormat.contactID.example + " (WAHA's {id})")],
                success: .json(.reference("Contact"))
            ) { _, context throws(APIError) in
                let id = try contactID(try IDFormat.contactID.validate(context.path("chatId"), parameter: "chatId"))
                return try await respond(with: Operations.GetContact.self, ContactRequest(contactId: id), on: try context.session(context.path("session")))
            },
            APIRoute(
                .put, "/api/{session}/contacts/{chatId}", "ContactsSessionController_put", tag: .contacts,
                summary: Feature.contactsUpsert.summary + "; an @lid chatId is resolved to its phone number through the engine's LIDs",
                feature: .contactsUpsert,
                parameters: [.sessionPath, .path("chatId", IDFormat.phoneNumberOrLid.schema, IDFormat.phoneNumberOrLid.example)],
                body: .json(.reference("ContactUpdateBody")), success: .json(.reference("Result"))
            ) { request, context throws(APIError) in
                let raw = try IDFormat.phoneNumberOrLid.validate(context.path("chatId"), parameter: "chatId")
                let session = try context.session(context.path("session"))
                let names = try await context.decode(ContactNames.self, from: request)
                guard names.hasAName else {
                    throw .badParameter("firstName", "body must give 'firstName' or 'lastName' with more than white space")
                }
                let chatId = try await phoneNumberID(for: raw, on: session)
                _ = try await result(of: Operations.UpsertContact.self,
                    UpsertContactRequest(chatId: chatId, firstName: names.firstName, lastName: names.lastName), on: session)
                return try JSONBody.response(Success())
            },
            APIRoute(
                .get, "/api/contacts/check-exists", "ContactsController_checkExists", tag: .contacts,
                summary: Feature.contactsCheckExists.summary, feature: .contactsCheckExists,
                parameters: [.query("phone", IDFormat.phone.schema, required: true, "Digits only, country code first"), .session],
                success: .json(.reference("WANumberExistResult"))
            ) { _, context throws(APIError) in
                let phone = try context.query.required("phone", format: .phone)
                let session = try context.querySession()
                let result = try await result(of: Operations.CheckExists.self, CheckExistsRequest(phone: phone), on: session)
                return try JSONBody.response(CheckExistsAnswer(result))
            },
            APIRoute(
                .get, "/api/contacts/about", "ContactsController_getAbout", tag: .contacts, summary: Feature.contactsAbout.summary,
                feature: .contactsAbout,
                parameters: [.query("contactId", IDFormat.contactID.schema, required: true, IDFormat.contactID.example), .session],
                success: .json(.reference("About"))
            ) { _, context throws(APIError) in
                let id = try contactID(try context.query.required("contactId", format: .contactID))
                return try await respond(with: Operations.About.self, ContactRequest(contactId: id), on: try context.querySession())
            },
            APIRoute(
                .get, "/api/contacts/profile-picture", "ContactsController_getProfilePicture", tag: .contacts,
                summary: Feature.contactsProfilePicture.summary, feature: .contactsProfilePicture,
                parameters: [
                    .query("contactId", IDFormat.contactID.schema, required: true, IDFormat.contactID.example), .session,
                    .query("refresh", .boolean, "Bypass the engine's cache"),
                ],
                success: .json(.reference("ProfilePictureResponse"))
            ) { _, context throws(APIError) in
                let id = try contactID(try context.query.required("contactId", format: .contactID))
                let request = ProfilePictureRequest(contactId: id, refresh: try context.query.boolean("refresh") ?? false)
                return try await respond(with: Operations.ProfilePicture.self, request, on: try context.querySession())
            },
            blockRoute("/api/contacts/block", "ContactsController_block", Operations.Block.self),
            blockRoute("/api/contacts/unblock", "ContactsController_unblock", Operations.Unblock.self),
            APIRoute(
                .get, "/api/{session}/lids", "LidsController_getAll", tag: .contacts, summary: Feature.lidsList.summary, feature: .lidsList,
                parameters: [
                    .sessionPath,
                    .query("limit", .integerRange(1, maxPageSize), "Page size; \(defaultLidsPageSize) when omitted"),
                    .query("offset", .integerRange(0, maxOffset), "Mappings to skip"),
                ],
                success: .json(.array(.reference("LidToPhoneNumber")))
            ) { _, context throws(APIError) in
                let request = LidsPageRequest(
                    limit: try context.query.integer("limit", in: 1...maxPageSize) ?? defaultLidsPageSize,
                    offset: try context.query.integer("offset", in: 0...maxOffset) ?? 0)
                return try await respond(with: Operations.ListLids.self, request, on: try context.session(context.path("session")))
            },
            APIRoute(
                .get, "/api/{session}/lids/count", "LidsController_getLidsCount", tag: .contacts, summary: Feature.lidsCount.summary,
                feature: .lidsCount, parameters: [.sessionPath], success: .json(.reference("CountResponse"))
            ) { _, context throws(APIError) in
                try await respond(with: Operations.CountLids.self, Empty(), on: try context.session(context.path("session")))
            },
            APIRoute(
                .get, "/api/{session}/lids/{lid}", "LidsController_findPNByLid", tag: .contacts, summary: Feature.lidsGetByLid.summary,
                feature: .lidsGetByLid,
                parameters: [.sessionPath, .path("lid", IDFormat.lid.schema, IDFormat.lid.example)],
                success: .json(.reference("LidToPhoneNumber"))
            ) { _, context throws(APIError) in
                let lid = try lidID(try IDFormat.lid.validate(context.path("lid"), parameter: "lid"))
                return try await respond(with: Operations.PhoneNumberForLid.self, LidLookupRequest(lid: lid), on: try context.session(context.path("session")))
            },
            APIRoute(
                .get, "/api/{session}/lids/pn/{phoneNumber}", "LidsController_findLIDByPhoneNumber", tag: .contacts,
                summary: Feature.lidsGetByPhoneNumber.summary + "; an @lid input is answered as given, with pn null, as WAHA does",
                feature: .lidsGetByPhoneNumber,
                parameters: [.sessionPath, .path("phoneNumber", IDFormat.phoneNumberOrLid.schema, IDFormat.phoneNumberOrLid.example)],
                success: .json(.reference("LidToPhoneNumber"))
            ) { _, context throws(APIError) in
                let raw = try IDFormat.phoneNumberOrLid.validate(context.path("phoneNumber"), parameter: "phoneNumber")
                let session = try context.session(context.path("session"))
                if raw.hasSuffix(ChatID.lidSuffix) {
                    // WAHA answers a LID given where a phone number belongs with the LID itself and no
                    // phone number, without asking the engine; the session must still serve LIDs.
                    try await requireServing(.lidsGetByPhoneNumber, session)
                    return try JSONBody.response(LidMapping(lid: raw, pn: nil))
                }
                let pn = raw.hasSuffix(ChatID.contactSuffix) ? raw : raw + ChatID.contactSuffix
                return try await respond(with: Operations.LidForPhoneNumber.self, PhoneNumberLookupRequest(pn: pn), on: session)
            },
        ]
    }

    /// The id formats are checked by `IDFormat`; these normalize what they let through.
    private static func contactID(_ valid: String) throws(APIError) -> String {
        guard let id = ChatID.normalizedContactID(valid) else { throw .badParameter("contactId", "invalid contact id '\(valid)'") }
        return id
    }

    private static func lidID(_ valid: String) throws(APIError) -> String {
        guard let lid = ChatID.normalizedLid(valid) else { throw .badParameter("lid", "invalid LID '\(valid)'") }
        return lid
    }

    /// A phone number chat id for PUT: as given, or the one the engine maps an `@lid` to
    /// (404 naming `chatId` when the engine knows no phone number for it).
    private static func phoneNumberID(for chatId: String, on session: Session) async throws(APIError) -> String {
        guard chatId.hasSuffix(ChatID.lidSuffix) else {
            return chatId.hasSuffix(ChatID.contactSuffix) ? chatId : chatId + ChatID.contactSuffix
        }
        let mapping = try await result(of: Operations.PhoneNumberForLid.self, LidLookupRequest(lid: chatId), on: session)
        guard let pn = mapping.pn else {
            throw APIError(.notFound, "the engine knows no phone number for \(chatId), so it has no contact to update",
                           context: ["parameter": "chatId", "kind": "not-found"])
        }
        return pn
    }

    /// The checks a call to the engine makes, for an answer that needs no call.
    private static func requireServing(_ feature: Feature, _ session: Session) async throws(APIError) {
        guard session.status == .working else { throw .session(.notWorking(session: session.name, status: session.status)) }
        let plan = await session.routingPlan
        if let routes = plan.routes {
            guard let member = plan.servedBy(feature) else {
                throw .call(.unrouted(session: session.name, feature: feature, route: routes[feature]?.route ?? []))
            }
            AnsweringMembers.current?.note([member])
        } else if !plan.served.contains(feature) {
            throw .unsupported(engine: session.record.engine, feature: feature)
        }
    }

    private static func blockRoute<Operation: EngineOperation>(
        _ path: String, _ operationID: String, _ operation: Operation.Type
    ) -> APIRoute where Operation.Request == ContactRequest {
        APIRoute(
            .post, path, operationID, tag: .contacts, summary: Operation.feature.summary, feature: Operation.feature,
            body: .json(.reference("ContactRequest")), success: .json(.reference("Result"), status: 201)
        ) { request, context throws(APIError) in
            let target = try await context.decode(ContactTarget.self, from: request)
            let id = try contactID(try IDFormat.contactID.validate(target.contactId, parameter: "contactId"))
            let name = try target.session.map { name throws(APIError) in try IDFormat.optionalSessionName.validate(name, parameter: "session") }
            let session = try context.session(orDefault: name)
            _ = try await result(of: operation, ContactRequest(contactId: id), on: session)
            return try JSONBody.response(Success(), status: .created)
        }
    }

    /// The typed result, for a route that reads it before it answers.
    static func result<Operation: EngineOperation>(
        of operation: Operation.Type, _ request: Operation.Request, on session: Session
    ) async throws(APIError) -> Operation.Result {
        do {
            let served = try await session.route(operation, request)
            AnsweringMembers.current?.note(served.members)
            return served.result
        } catch {
            throw .call(error)
        }
    }

    /// Answers with the result's JSON as `Session.routeAnswer` gives it.
    static func respond<Operation: EngineOperation>(
        with operation: Operation.Type, _ request: Operation.Request, on session: Session
    ) async throws(APIError) -> Response {
        do {
            let served = try await session.routeAnswer(operation, request)
            AnsweringMembers.current?.note(served.members)
            return JSONBody.response(bytes: served.result)
        } catch {
            throw .call(error)
        }
    }
}

extension ContactsRoutes {
    /// Answers a list with its pieces joined into one JSON array as they come, in a chunked
    /// body: the engine, the host and the socket work on one piece at a time, each writer
    /// waiting for the next. A result that came whole is answered as `respond` answers. A failure
    /// after the first piece can no longer change the status: it is logged and the connection
    /// closed before the array ends, so no client takes a cut list for a whole one.
    static func respondInPieces<Operation: EngineOperation>(
        with operation: Operation.Type, _ request: Operation.Request, on session: Session, logger: Logger
    ) async throws(APIError) -> Response where Operation.Result: RangeReplaceableCollection {
        let pieces: CheckedPieces
        do {
            let served = try await session.routeAnswerInPieces(operation, request)
            AnsweringMembers.current?.note(served.members)
            pieces = served.result
        } catch {
            throw .call(error)
        }
        guard !pieces.isWhole else {
            pieces.close()
            return JSONBody.response(bytes: pieces.first.bytes)
        }
        return Response(
            status: .ok, headers: [.contentType: JSONBody.responseContentType],
            body: ResponseBody { writer in
                defer { pieces.close() }
                var array = JSONArrayJoiner()
                do {
                    try await pieces.forEach { bytes in
                        if let buffer = try array.elements(of: bytes) { try await writer.write(buffer) }
                    }
                } catch let error as EngineError {
                    logger.error("the answer broke off after its first piece; the connection is closed", metadata: [
                        "session": "\(session.name)", "feature": "\(Operation.feature.rawValue)", "error": "\(error.message)",
                    ])
                    throw error
                }
                try await writer.write(array.end())
                try await writer.finish(nil)
            })
    }
}

/// Joins JSON arrays into one, as bytes: the pieces of a list arrive as arrays in the SDK
/// writer's form (`[` elements `]`, no white space), and the answer is their elements in order.
struct JSONArrayJoiner {
    private var opened = false
    private var hasElements = false

    /// The bytes that carry `piece`'s elements on, or nil when it has none.
    mutating func elements(of piece: [UInt8]) throws(EngineError) -> ByteBuffer? {
        guard piece.count >= 2, piece.first == UInt8(ascii: "["), piece.last == UInt8(ascii: "]") else {
            throw EngineError(.internal, "a piece of the answer is not a JSON array")
        }
        let inner = piece[1..<(piece.count - 1)]
        let separator: UInt8? = !opened ? UInt8(ascii: "[") : (hasElements && !inner.isEmpty ? UInt8(ascii: ",") : nil)
        opened = true
        guard separator != nil || !inner.isEmpty else { return nil }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(inner.count + 1)
        if let separator { buffer.writeInteger(separator) }
        buffer.writeBytes(inner)
        if !inner.isEmpty { hasElements = true }
        return buffer
    }

    func end() -> ByteBuffer {
        ByteBuffer(string: opened ? "]" : "[]")
    }
}

/// PUT's body. A key may be left out, not given `null`: the document says strings.
struct ContactNames: Decodable, Sendable {
    var firstName: String?
    var lastName: String?

    enum CodingKeys: String, CodingKey { case firstName, lastName }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        firstName = container.contains(.firstName) ? try container.decode(String.self, forKey: .firstName) : nil
        lastName = container.contains(.lastName) ? try container.decode(String.self, forKey: .lastName) : nil
    }

    /// One name with a character that is not white space (the document's `\S` pattern).
    var hasAName: Bool {
        [firstName, lastName].contains { $0?.contains { !$0.isWhitespace } == true }
    }
}

/// Block and unblock's body; `session` may be `null` or left out for `default`.
struct ContactTarget: Decodable, Sendable {
    var contactId: String
    var session: String?
}

/// WAHA's `WANumberExistResult`: the engine's answer, plus `pn`, the phone number chat id,
/// when the chat id is one (WAHA leaves it out when only a LID is known).
struct CheckExistsAnswer: Encodable, Sendable {
    var numberExists: Bool
    var chatId: String?
    var pn: String?

    init(_ result: CheckExistsResult) {
        numberExists = result.numberExists
        chatId = result.chatId
        pn = result.chatId.flatMap { $0.hasSuffix(ChatID.contactSuffix) ? $0 : nil }
    }
}

struct Success: Codable, Sendable {
    var success = true
}
