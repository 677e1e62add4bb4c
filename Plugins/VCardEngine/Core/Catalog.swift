import ContactsEngineKit
import Foundation

/// What a `.vcf` file looked like when it was read: a change to either means read it again.
struct FileFingerprint: Hashable, Sendable {
    var modified: Date
    var size: Int
}

/// One `.vcf` file as last read: each card's contact, or why it was skipped.
struct LoadedFile: Sendable {
    var fingerprint: FileFingerprint
    var cards: [Result<CardContact, MalformedCard>]
}

/// Everything the engine serves, built by one scan of the folder and never changed after:
/// readers share it without copying, and a newer scan replaces it whole. Sorted once here so
/// that any page, however deep, is a slice.
struct Catalog: Sendable {
    /// Every entry has a name: a card without one is skipped.
    var entries: ContactIndex<CardContact>
    var counters: [String: Int]

    static let emptyCounters = ["cards": 0, "contacts": 0, "skipped": 0, "files": 0]

    /// When two cards give the same number, the first (files by name, cards in file order)
    /// wins, so the answer does not depend on the order the directory lists its files in.
    init(files: [String: LoadedFile], reportDuplicate: (String) -> Void) {
        var entries: [String: CardContact] = [:]
        var origins: [String: String] = [:]
        var cardCount = 0, skippedCount = 0
        for (fileName, file) in files.sorted(by: { $0.key < $1.key }) {
            for (index, card) in file.cards.enumerated() {
                cardCount += 1
                guard case .success(let entry) = card else {
                    skippedCount += 1
                    continue
                }
                let id = entry.contact.id, origin = "card \(index + 1) of \(fileName)"
                if let first = origins[id] {
                    reportDuplicate("\(origin) is \(id) again, as \(first): kept the first")
                    continue
                }
                origins[id] = origin
                entries[id] = entry
            }
        }
        self.entries = ContactIndex(entries.values)
        counters = ["cards": cardCount, "contacts": entries.count, "skipped": skippedCount, "files": files.count]
    }
}
