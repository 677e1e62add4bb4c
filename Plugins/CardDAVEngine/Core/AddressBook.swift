import ContactsEngineKit
import Foundation

/// One vCard resource of the collection, as last read.
struct StoredCard: Sendable, Hashable {
    var etag: String?
    /// `nil` when the resource is not a readable vCard: it still counts as a card.
    var card: VCard?
}

/// A contact as served, with the card it comes from.
struct Entry: ContactIndexEntry {
    var contact: Contact
    var href: String
    var photoURL: String?
}

/// The collection in memory: its cards by href, how to ask what changed, and the contacts
/// they make, kept sorted so that any page is a slice.
struct AddressBook: Sendable {
    /// How the next refresh learns what changed.
    enum ChangeTracking: Sendable, Hashable {
        /// RFC 6578 sync-collection from this token.
        case syncToken(String)
        /// The server offers no sync-collection: compare every card's ETag.
        case etags

        var method: String {
            switch self {
            case .syncToken: "sync-collection"
            case .etags: "ETag comparison"
            }
        }
    }

    let collection: URL
    var tracking: ChangeTracking
    private(set) var cards: [String: StoredCard]
    private(set) var entries = ContactIndex<Entry>([])

    init(collection: URL, tracking: ChangeTracking, cards: [String: StoredCard]) {
        self.collection = collection
        self.tracking = tracking
        self.cards = cards
        index()
    }

    /// The book after a refresh: `changed` cards replace or join the old ones, `removed` hrefs go.
    func applying(changed: [String: StoredCard], removed: some Sequence<String>, tracking: ChangeTracking) -> AddressBook {
        var cards = cards
        for href in removed { cards[href] = nil }
        cards.merge(changed) { $1 }
        return AddressBook(collection: collection, tracking: tracking, cards: cards)
    }

    /// One contact per phone number. Two cards with one number: the first href wins, so the
    /// answer does not change from one refresh to the next.
    private mutating func index() {
        var byID: [String: Entry] = [:]
        for (href, stored) in cards.sorted(by: { $0.key < $1.key }) {
            guard let card = stored.card, let digits = card.phoneDigits else { continue }
            let id = digits + ChatID.contactSuffix
            guard byID[id] == nil else { continue }
            byID[id] = Entry(contact: Contact(id: id, number: digits, name: card.formattedName, isMyContact: true), href: href, photoURL: card.photoURL)
        }
        entries = ContactIndex(byID.values)
    }
}
