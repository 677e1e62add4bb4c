import Foundation

/// A contact in the one shape the API documents, whatever the engine.
///
/// Engines may leave fields out of their JSON; decoding fills the documented defaults, so a
/// client always receives every key: `number` is the user part of `id`, the names are `null`,
/// `isGroup` is true for `@g.us` ids, `isWAContact` is true, the other flags are false.
public struct Contact: Codable, Hashable, Sendable {
    public var id: String
    public var number: String
    public var name: String?
    public var pushname: String?
    public var shortName: String?
    public var isMe: Bool
    public var isGroup: Bool
    public var isWAContact: Bool
    public var isMyContact: Bool
    public var isBlocked: Bool

    public init(
        id: String,
        number: String? = nil,
        name: String? = nil,
        pushname: String? = nil,
        shortName: String? = nil,
        isMe: Bool = false,
        isGroup: Bool? = nil,
        isWAContact: Bool = true,
        isMyContact: Bool = false,
        isBlocked: Bool = false
    ) {
        self.id = id
        self.number = number ?? ChatID.userPart(of: id)
        self.name = name
        self.pushname = pushname
        self.shortName = shortName
        self.isMe = isMe
        self.isGroup = isGroup ?? id.hasSuffix(ChatID.groupSuffix)
        self.isWAContact = isWAContact
        self.isMyContact = isMyContact
        self.isBlocked = isBlocked
    }

    private enum CodingKeys: String, CodingKey {
        case id, number, name, pushname, shortName, isMe, isGroup, isWAContact, isMyContact, isBlocked
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            number: try c.decodeIfPresent(String.self, forKey: .number),
            name: try c.decodeIfPresent(String.self, forKey: .name),
            pushname: try c.decodeIfPresent(String.self, forKey: .pushname),
            shortName: try c.decodeIfPresent(String.self, forKey: .shortName),
            isMe: try c.decodeIfPresent(Bool.self, forKey: .isMe) ?? false,
            isGroup: try c.decodeIfPresent(Bool.self, forKey: .isGroup),
            isWAContact: try c.decodeIfPresent(Bool.self, forKey: .isWAContact) ?? true,
            isMyContact: try c.decodeIfPresent(Bool.self, forKey: .isMyContact) ?? false,
            isBlocked: try c.decodeIfPresent(Bool.self, forKey: .isBlocked) ?? false
        )
    }

    /// Writes every key, `null` included: one shape for every client.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(number, forKey: .number)
        try c.encode(name, forKey: .name)
        try c.encode(pushname, forKey: .pushname)
        try c.encode(shortName, forKey: .shortName)
        try c.encode(isMe, forKey: .isMe)
        try c.encode(isGroup, forKey: .isGroup)
        try c.encode(isWAContact, forKey: .isWAContact)
        try c.encode(isMyContact, forKey: .isMyContact)
        try c.encode(isBlocked, forKey: .isBlocked)
    }
}

public enum ContactSortKey: String, Codable, Sendable, CaseIterable { case id, name }
public enum SortOrder: String, Codable, Sendable, CaseIterable { case asc, desc }

/// `contacts.list`: one page of the address book.
public struct ContactsPageRequest: Codable, Hashable, Sendable {
    /// `nil` means every contact from `offset` on.
    public var limit: Int?
    public var offset: Int
    public var sortBy: ContactSortKey?
    public var sortOrder: SortOrder

    public init(limit: Int? = nil, offset: Int = 0, sortBy: ContactSortKey? = nil, sortOrder: SortOrder = .asc) {
        self.limit = limit
        self.offset = offset
        self.sortBy = sortBy
        self.sortOrder = sortOrder
    }
}

/// `contacts.get`, `contacts.about`, `contacts.block`, `contacts.unblock`.
public struct ContactRequest: Codable, Hashable, Sendable {
    /// Always a full chat id (`<digits>@c.us`, `...@g.us`, `...@lid`); the host normalizes bare digits.
    public var contactId: String
    public init(contactId: String) { self.contactId = contactId }
}

/// `contacts.profile-picture`.
public struct ProfilePictureRequest: Codable, Hashable, Sendable {
    public var contactId: String
    /// Bypass any cache the engine keeps.
    public var refresh: Bool
    public init(contactId: String, refresh: Bool = false) {
        self.contactId = contactId
        self.refresh = refresh
    }
}

/// `contacts.upsert`: create or update the contact's name.
public struct UpsertContactRequest: Codable, Hashable, Sendable {
    public var chatId: String
    public var firstName: String?
    public var lastName: String?
    public init(chatId: String, firstName: String? = nil, lastName: String? = nil) {
        self.chatId = chatId
        self.firstName = firstName
        self.lastName = lastName
    }
}

/// `contacts.check-exists`.
public struct CheckExistsRequest: Codable, Hashable, Sendable {
    /// Digits only, country code first.
    public var phone: String
    public init(phone: String) { self.phone = phone }
}

public struct CheckExistsResult: Codable, Hashable, Sendable {
    public var numberExists: Bool
    /// The chat id as the account is really registered; present only when it exists.
    public var chatId: String?
    public init(numberExists: Bool, chatId: String? = nil) {
        self.numberExists = numberExists
        self.chatId = chatId
    }
}

public struct AboutResult: Codable, Hashable, Sendable {
    public var about: String?
    public init(about: String?) { self.about = about }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(about, forKey: .about)
    }
}

public struct ProfilePictureResult: Codable, Hashable, Sendable {
    public var profilePictureURL: String?
    public init(profilePictureURL: String?) { self.profilePictureURL = profilePictureURL }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(profilePictureURL, forKey: .profilePictureURL)
    }
}

/// `lids.list`: one page of LID mappings, sorted by lid.
public struct LidsPageRequest: Codable, Hashable, Sendable {
    public var limit: Int
    public var offset: Int
    public init(limit: Int = 100, offset: Int = 0) {
        self.limit = limit
        self.offset = offset
    }
}

/// `lids.get-by-lid`.
public struct LidLookupRequest: Codable, Hashable, Sendable {
    /// Always ends with `@lid`.
    public var lid: String
    public init(lid: String) { self.lid = lid }
}

/// `lids.get-by-pn`.
public struct PhoneNumberLookupRequest: Codable, Hashable, Sendable {
    /// Always a `<digits>@c.us` chat id.
    public var pn: String
    public init(pn: String) { self.pn = pn }
}

/// A LID and the phone number chat id it stands for; either side is `null` when unknown.
public struct LidMapping: Codable, Hashable, Sendable {
    public var lid: String?
    public var pn: String?
    public init(lid: String?, pn: String?) {
        self.lid = lid
        self.pn = pn
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lid, forKey: .lid)
        try c.encode(pn, forKey: .pn)
    }
}

public struct CountResult: Codable, Hashable, Sendable {
    public var count: Int
    public init(count: Int) { self.count = count }
}

/// The request and result of operations that carry nothing (`lids.count`'s request, block's result).
public struct Empty: Codable, Hashable, Sendable {
    public init() {}
}
