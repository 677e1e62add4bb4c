import ContactsEngineKit
import Hummingbird
import SwitchboardCore

/// WAHA's contacts endpoints, each answered by the session's engine.
enum ContactsRoutes {
    /// The largest page `limit` accepts; leaving `limit` out of `contacts/all` returns everything, as WAHA does.
    static let maxPageSize = 10_000
    static let defaultLidsPageSize = 100
    static let maxOffset = Int(Int32.max)

    static var all: [APIRoute] {
        [
            APIRoute(
                .get, "/api/contacts/all", tag: "Contacts", summary: Feature.contactsList.summary, feature: .contactsList,
                parameters: [
                    .session,
                    .query("limit", .integerRange(1, maxPageSize), "Page size; all contacts from offset when omitted"),
                    .query("offset", .integerRange(0, maxOffset), "Contacts to skip"),
                    .query("sortBy", .stringEnum(ContactSortKey.allCases.map(\.rawValue)), "Sort key; id when omitted"),
                    .query("sortOrder", .stringEnum(SortOrder.allCases.map(\.rawValue)), "asc when omitted"),
                ],
                response: .array(.reference("Contact"))
            ) { _, context throws(APIError) in
                let q = context.query
                let request = ContactsPageRequest(
                    limit: try q.integer("limit", in: 1...maxPageSize),
                    offset: try q.integer("offset", in: 0...maxOffset) ?? 0,
                    sortBy: try q.oneOf("sortBy", ContactSortKey.self),
                    sortOrder: try q.oneOf("sortOrder", SortOrder.self) ?? .asc)
                return try await run(Operations.ListContacts.self, request, on: try context.querySession())
            },
            APIRoute(
                .get, "/api/contacts", tag: "Contacts", summary: Feature.contactsGet.summary, feature: .contactsGet,
                parameters: [.query("contactId", .string, required: true, "11231231231 or 11231231231@c.us"), .session],
                response: .reference("Contact")
            ) { _, context throws(APIError) in
                let id = try IDParameter.contactID(try context.query.required("contactId"), parameter: "contactId")
                return try await run(Operations.GetContact.self, ContactRequest(contactId: id), on: try context.querySession())
            },
            APIRoute(
                .get, "/api/{session}/contacts/{id}", tag: "Contacts", summary: Feature.contactsGet.summary, feature: .contactsGet,
                parameters: [.sessionPath, .path("id", "11231231231 or 11231231231@c.us")],
                response: .reference("Contact")
            ) { _, context throws(APIError) in
                let id = try IDParameter.contactID(context.path("id"), parameter: "id")
                return try await run(Operations.GetContact.self, ContactRequest(contactId: id), on: try context.session(context.path("session")))
            },
            APIRoute(
                .put, "/api/{session}/contacts/{chatId}", tag: "Contacts", summary: Feature.contactsUpsert.summary, feature: .contactsUpsert,
                parameters: [.sessionPath, .path("chatId", "11231231231@c.us")],
                body: .reference("ContactNames"), response: .reference("Success")
            ) { request, context throws(APIError) in
                let chatId = try IDParameter.phoneNumberID(context.path("chatId"), parameter: "chatId")
                let session = try context.session(context.path("session"))
                let names = try await JSONBody.decode(ContactNames.self, from: &request)
                guard names.firstName != nil || names.lastName != nil else {
                    throw .badParameter("firstName", "body must name 'firstName' or 'lastName'")
                }
                _ = try await perform(Operations.UpsertContact.self,
                    UpsertContactRequest(chatId: chatId, firstName: names.firstName, lastName: names.lastName), on: session)
                return try JSONBody.response(Success())
            },
            APIRoute(
                .get, "/api/contacts/check-exists", tag: "Contacts", summary: Feature.contactsCheckExists.summary, feature: .contactsCheckExists,
                parameters: [.query("phone", .string, required: true, "Digits only, country code first"), .session],
                response: .reference("CheckExists")
            ) { _, context throws(APIError) in
                let phone = try IDParameter.phone(try context.query.required("phone"), parameter: "phone")
                return try await run(Operations.CheckExists.self, CheckExistsRequest(phone: phone), on: try context.querySession())
            },
            APIRoute(
                .get, "/api/contacts/about", tag: "Contacts", summary: Feature.contactsAbout.summary, feature: .contactsAbout,
                parameters: [.query("contactId", .string, required: true, "11231231231 or 11231231231@c.us"), .session],
                response: .reference("About")
            ) { _, context throws(APIError) in
                let id = try IDParameter.contactID(try context.query.required("contactId"), parameter: "contactId")
                return try await run(Operations.About.self, ContactRequest(contactId: id), on: try context.querySession())
            },
            APIRoute(
                .get, "/api/contacts/profile-picture", tag: "Contacts", summary: Feature.contactsProfilePicture.summary,
                feature: .contactsProfilePicture,
                parameters: [
                    .query("contactId", .string, required: true, "11231231231 or 11231231231@c.us"), .session,
                    .query("refresh", .boolean, "Bypass the engine's cache"),
                ],
                response: .reference("ProfilePicture")
            ) { _, context throws(APIError) in
                let id = try IDParameter.contactID(try context.query.required("contactId"), parameter: "contactId")
                let request = ProfilePictureRequest(contactId: id, refresh: try context.query.boolean("refresh") ?? false)
                return try await run(Operations.ProfilePicture.self, request, on: try context.querySession())
            },
            blockRoute(.post, "/api/contacts/block", Operations.Block.self),
            blockRoute(.post, "/api/contacts/unblock", Operations.Unblock.self),
            APIRoute(
                .get, "/api/{session}/lids", tag: "LIDs", summary: Feature.lidsList.summary, feature: .lidsList,
                parameters: [
                    .sessionPath,
                    .query("limit", .integerRange(1, maxPageSize), "Page size; \(defaultLidsPageSize) when omitted"),
                    .query("offset", .integerRange(0, maxOffset), "Mappings to skip"),
                ],
                response: .array(.reference("LidMapping"))
            ) { _, context throws(APIError) in
                let request = LidsPageRequest(
                    limit: try context.query.integer("limit", in: 1...maxPageSize) ?? defaultLidsPageSize,
                    offset: try context.query.integer("offset", in: 0...maxOffset) ?? 0)
                return try await run(Operations.ListLids.self, request, on: try context.session(context.path("session")))
            },
            APIRoute(
                .get, "/api/{session}/lids/count", tag: "LIDs", summary: Feature.lidsCount.summary, feature: .lidsCount,
                parameters: [.sessionPath], response: .reference("Count")
            ) { _, context throws(APIError) in
                try await run(Operations.CountLids.self, Empty(), on: try context.session(context.path("session")))
            },
            APIRoute(
                .get, "/api/{session}/lids/{lid}", tag: "LIDs", summary: Feature.lidsGetByLid.summary, feature: .lidsGetByLid,
                parameters: [.sessionPath, .path("lid", "123123123 or 123123123@lid")], response: .reference("LidMapping")
            ) { _, context throws(APIError) in
                let lid = try IDParameter.lid(context.path("lid"), parameter: "lid")
                return try await run(Operations.PhoneNumberForLid.self, LidLookupRequest(lid: lid), on: try context.session(context.path("session")))
            },
            APIRoute(
                .get, "/api/{session}/lids/pn/{phoneNumber}", tag: "LIDs", summary: Feature.lidsGetByPhoneNumber.summary,
                feature: .lidsGetByPhoneNumber,
                parameters: [.sessionPath, .path("phoneNumber", "11231231231 or 11231231231@c.us")], response: .reference("LidMapping")
            ) { _, context throws(APIError) in
                let pn = try IDParameter.phoneNumberID(context.path("phoneNumber"), parameter: "phoneNumber")
                return try await run(Operations.LidForPhoneNumber.self, PhoneNumberLookupRequest(pn: pn), on: try context.session(context.path("session")))
            },
        ]
    }

    private static func blockRoute<Operation: EngineOperation>(
        _ method: HTTPRequest.Method, _ path: String, _ operation: Operation.Type
    ) -> APIRoute where Operation.Request == ContactRequest {
        APIRoute(
            method, path, tag: "Contacts", summary: Operation.feature.summary, feature: Operation.feature,
            body: .reference("ContactTarget"), status: 201, response: .reference("Success")
        ) { request, context throws(APIError) in
            let target = try await JSONBody.decode(ContactTarget.self, from: &request)
            let id = try IDParameter.contactID(target.contactId, parameter: "contactId")
            let session = try context.session(target.session ?? SessionManager.defaultSessionName)
            _ = try await perform(operation, ContactRequest(contactId: id), on: session)
            return try JSONBody.response(Success(), status: .created)
        }
    }

    static func perform<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request, on session: Session
    ) async throws(APIError) -> Operation.Result {
        do {
            return try await session.perform(operation, request)
        } catch {
            throw .call(error)
        }
    }

    static func run<Operation: EngineOperation>(
        _ operation: Operation.Type, _ request: Operation.Request, on session: Session
    ) async throws(APIError) -> Response {
        try JSONBody.response(try await perform(operation, request, on: session))
    }
}

struct ContactNames: Codable, Sendable {
    var firstName: String?
    var lastName: String?
}

struct ContactTarget: Codable, Sendable {
    var contactId: String
    var session: String?
}

struct Success: Codable, Sendable {
    var success = true
}
