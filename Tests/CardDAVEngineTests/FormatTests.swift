@testable import CardDAVEngineCore
import ContactsEngineKit
import Foundation
import Testing

/// The vCard and XML readers alone: folding, escapes and PREF ranks in detail, and the malformed
/// XML that Radicale never sends.
@Suite struct FormatTests {
    @Test func aLongNameIsFoldedAndReadBack() throws {
        let name = String(repeating: "Bartholomäus ", count: 10).trimmingCharacters(in: .whitespaces)
        let card = VCard(uid: "u1", firstName: name, lastName: "O'Neil, Jr.; III", phoneDigits: "31612345678")
        let lines = card.text.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 75 })
        let read = try #require(VCard(parsing: card.text))
        #expect(read.formattedName == "\(name) O'Neil, Jr.; III")
        #expect(read.uid == "u1")
        #expect(read.phoneDigits == "31612345678")
        #expect(card.text.contains(#"N:O'Neil\, Jr.\; III;"#))
    }

    @Test func theLowestPrefWinsAndATextWithoutACardIsNone() throws {
        let card = try #require(VCard(parsing: """
            BEGIN:VCARD\nVERSION:4.0\nFN:x\nTEL;PREF=50:+1 111\nTEL;PREF=2:+1 222\nTEL:+1 333\nEND:VCARD\n
            """))
        #expect(card.phoneDigits == "1222")
        #expect(VCard(parsing: "not a card") == nil)
    }

    @Test func malformedXMLIsAnInternalError() {
        for body in ["<multistatus xmlns='DAV:'><response>", "<html>busy</html>", "<multistatus xmlns='DAV:'><response/></multistatus>"] {
            let error = #expect(throws: EngineError.self) { _ = try Multistatus(Data(body.utf8)) }
            #expect(error?.kind == .internal, "\(body)")
        }
    }
}
