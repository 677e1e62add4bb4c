import ContactsEngineKit
import Foundation
import Testing
@testable import VCardEngineCore

@Suite struct ExportFixtureTests {
    @Test func appleContactsExport() throws {
        let cards = try Fixture.apple.parsed
        #expect(try cards.map { try $0.get() } == [
            // item2's label makes it the mobile number, ahead of item1's `type=pref` landline.
            CardContact(contact: Contact(id: "447700900123@c.us", number: "447700900123", name: "Johnny Appleseed", isMyContact: true), photoURL: fixtureJPEGURL),
            CardContact(contact: Contact(id: "15550100199@c.us", number: "15550100199", name: "Smith, Robert Jr.", isMyContact: true), photoURL: nil),
        ])

        let johnny = try #require(try VCardParser.parse(Fixture.apple.data).first?.get())
        let item2 = try #require(johnny.properties(named: "TEL").last)
        #expect(item2.group == "item2")
        #expect(johnny.properties(named: "NOTE").first?.text == "Met at WWDC, 2023\nBring apples")
    }

    @Test func googleContactsExport() throws {
        let cards = try Fixture.google.parsed
        #expect(cards.count == 3)
        #expect(try cards[0].get() == CardContact(
            contact: Contact(id: "34612345678@c.us", number: "34612345678", name: "Maria Garcia", isMyContact: true),
            photoURL: "https://lh3.googleusercontent.com/contacts/AG6tpzGx3=s100"
        ))
        // `TYPE=CELL,VOICE` is a list: the second number is the mobile one.
        #expect(try cards[1].get().contact.id == "16505550142@c.us")
        #expect(try cards[1].get().photoURL == nil)
        #expect(cards[2] == .failure(MalformedCard(line: 21, reason: "no TEL")))

        let maria = try #require(try VCardParser.parse(Fixture.google.data).first?.get())
        #expect(maria.properties(named: "NOTE").first?.text == "Line one\nLine two; with a semicolon, a comma and a \\ backslash")
    }

    @Test func androidExportInVCard21() throws {
        let cards = try Fixture.android.parsed
        #expect(cards.count == 3)
        #expect(try cards[0].get() == CardContact(
            contact: Contact(id: "4915123456789@c.us", number: "4915123456789", name: "Jürgen Müller", isMyContact: true),
            photoURL: fixtureJPEGURL
        ))
        // The name's quoted-printable value goes on after a soft line break.
        #expect(try cards[1].get().contact == Contact(id: "09012345678@c.us", name: "山田 太郎 （仕事）", isMyContact: true))
        #expect(cards[2] == .failure(MalformedCard(line: 24, reason: "no name in FN or N")))

        let juergen = try #require(try VCardParser.parse(Fixture.android.data).first?.get())
        #expect(juergen.properties(named: "NOTE").first?.text == "Café am Eck")
        #expect(juergen.properties(named: "TEL").last?.types == ["cell", "pref"])
    }

    @Test func vCard40() throws {
        let cards = try Fixture.vCard4.parsed
        #expect(cards.count == 3)
        // The mobile number wins over the home one despite the home one's `PREF=1`; its `;ext=` is dropped.
        #expect(try cards[0].get() == CardContact(
            contact: Contact(id: "14186569254@c.us", number: "14186569254", name: "Simon Perreault", isMyContact: true),
            photoURL: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        ))
        #expect(try cards[1].get() == CardContact(
            contact: Contact(id: "15555550102@c.us", number: "15555550102", name: "Ada Lovelace", isMyContact: true),
            photoURL: "https://example.com/photos/ada.jpg"
        ))
        #expect(cards[2] == .failure(MalformedCard(line: 18, reason: #"no usable TEL: "tel:+1-555-FLOWERS""#)))
    }
}

@Suite struct LineTests {
    @Test func unfoldsCRLFAndLFContinuationsWithSpaceOrTab() throws {
        let folded = try onlyCard("BEGIN:VCARD\r\nFN:Jo\r\n hn\r\nNOTE:a\n\tb\n  c\nTEL:1\rEND:VCARD")
        #expect(folded.properties(named: "FN").first?.text == "John")
        // Only the first whitespace character is the fold; the next one is content.
        #expect(folded.properties(named: "NOTE").first?.text == "ab c")
    }

    @Test func reportsLineNumbersOfPhysicalLines() {
        let results = VCardParser.parse(card("BEGIN:VCARD", "NOTE:long", " er", "", "END:VCARD", "BEGIN:VCARD", "FN:x"))
        #expect(results.count == 2)
        #expect(results.last == .failure(MalformedCard(line: 6, reason: "BEGIN:VCARD without END:VCARD")))
    }

    @Test func joinsQuotedPrintableSoftLineBreaks() throws {
        let parsed = try onlyCard(card(
            "BEGIN:VCARD", "VERSION:2.1",
            "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Gr=C3=BC=C3=9Fe aus M=",
            "=C3=BCnchen=",
            " und Umgebung",
            "FN:After",
            "END:VCARD"
        ))
        #expect(parsed.properties(named: "NOTE").first?.text == "Grüße aus München und Umgebung")
        #expect(parsed.properties(named: "FN").first?.text == "After")
    }

    @Test func ignoresAByteOrderMarkAndCaseOfMarkers() throws {
        let parsed = try onlyCard("\u{FEFF}begin:vcard\r\nfn:Lower\r\nend:VCard\r\n")
        #expect(parsed.properties(named: "FN").first?.text == "Lower")
    }

    @Test func readsLatin1FilesThatAreNotUTF8() throws {
        let results = VCardParser.parse(Data("BEGIN:VCARD\r\nFN:Jos\u{E9}\r\nEND:VCARD\r\n".data(using: .isoLatin1)!))
        #expect(try results.first?.get().properties(named: "FN").first?.text == "José")
    }
}

@Suite struct PropertyTests {
    @Test func readsGroupsAndParameterLists() throws {
        let property = try #require(VCardParser.property("item1.TEL;TYPE=cell,voice;type=pref;X-Note=\"a:b;c\":+1 555"))
        #expect(property.group == "item1")
        #expect(property.name == "TEL")
        #expect(property.types == ["cell", "voice", "pref"])
        #expect(property.parameter("X-NOTE") == ["a:b;c"])
        #expect(property.rawValue == "+1 555")
    }

    @Test func readsRepeatedTypeParameters() throws {
        let property = try #require(VCardParser.property("TEL;TYPE=CELL;TYPE=pref:+1 555"))
        #expect(property.types == ["cell", "pref"])
    }

    @Test func readsQuotedTypeListsOfVCard4() throws {
        let property = try #require(VCardParser.property(#"TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-555"#))
        #expect(property.types == ["voice", "cell"])
        #expect(property.parameter("PREF") == ["1"])
        #expect(property.rawValue == "tel:+1-555")
    }

    @Test func readsBareParametersOfVCard21() throws {
        let property = try #require(VCardParser.property("TEL;CELL;PREF;QUOTED-PRINTABLE:+49"))
        #expect(property.types == ["cell", "pref"])
        #expect(property.isQuotedPrintable)
    }

    @Test func keepsColonsOfTheValue() throws {
        let property = try #require(VCardParser.property("PHOTO;VALUE=uri:https://example.com:8443/a.jpg"))
        #expect(property.rawValue == "https://example.com:8443/a.jpg")
    }

    @Test func rejectsLinesWithoutAColonOrName() {
        #expect(VCardParser.property("just text") == nil)
        #expect(VCardParser.property(":value") == nil)
    }

    @Test(arguments: [
        (#"a\,b\;c"#, "a,b;c"),
        (#"one\ntwo\Nthree"#, "one\ntwo\nthree"),
        (#"back\\slash\\n"#, #"back\slash\n"#),
        (#"keeps \x and a trailing \"#, #"keeps \x and a trailing \"#),
    ])
    func unescapesText(escaped: String, text: String) {
        #expect(VCardText.unescape(escaped) == text)
    }

    @Test func splitsStructuredValuesBeforeUnescaping() {
        #expect(VCardText.components(#"O\;Brien;Mary\, Ann;;Dr.;"#) == ["O;Brien", "Mary, Ann", "", "Dr.", ""])
    }

    @Test func decodesQuotedPrintableInItsCharset() {
        #expect(VCardText.decodeQuotedPrintable("Caf=C3=A9", charset: nil) == "Café")
        #expect(VCardText.decodeQuotedPrintable("Caf=E9", charset: "ISO-8859-1") == "Café")
        #expect(VCardText.decodeQuotedPrintable("Caf=E9", charset: nil) == "Café")
        #expect(VCardText.decodeQuotedPrintable("a=3Db =ZZ", charset: "UTF-8") == "a=b =ZZ")
    }
}

@Suite struct CardStructureTests {
    @Test func readsManyCardsAndReportsBrokenPairings() throws {
        let results = VCardParser.parse(card(
            "BEGIN:VCARD", "FN:Never Closed", "TEL:+1 555 0101",
            "BEGIN:VCARD", "FN:Fine", "TEL;TYPE=cell:+1 555 0102", "END:VCARD",
            "END:VCARD",
            "FN:Stray", "TEL:+1 555 0103",
            "BEGIN:VCARD", "FN:Also Fine", "TEL:+1 555 0104", "END:VCARD"
        ))
        #expect(results.count == 5)
        #expect(results[0] == .failure(MalformedCard(line: 1, reason: "BEGIN:VCARD without END:VCARD")))
        #expect(try results[1].get().line == 4)
        #expect(results[2] == .failure(MalformedCard(line: 8, reason: "END:VCARD without BEGIN:VCARD")))
        #expect(results[3] == .failure(MalformedCard(line: 9, reason: "properties outside BEGIN:VCARD/END:VCARD")))
        #expect(try results[4].get().properties(named: "FN").first?.text == "Also Fine")
    }

    @Test func readsNothingFromAnEmptyFile() {
        #expect(VCardParser.parse("").isEmpty)
        #expect(VCardParser.parse("\r\n\r\n").isEmpty)
    }
}

@Suite struct ContactMappingTests {
    private func contact(_ lines: String...) throws -> CardContact {
        try CardContact(onlyCard(card(["BEGIN:VCARD"] + lines + ["END:VCARD"])))
    }

    private func card(_ lines: [String]) -> String { lines.joined(separator: "\r\n") }

    @Test func takesTheNameFromFNElseFromN() throws {
        #expect(try contact("FN:  Formatted  ", "N:Family;Given;;;", "TEL:1").contact.name == "Formatted")
        #expect(try contact("N:Lovelace;Ada;Augusta;Countess;of Lovelace", "TEL:1").contact.name == "Countess Ada Augusta Lovelace of Lovelace")
        #expect(try contact("FN:", "N:Doe;Jane", "TEL:1").contact.name == "Jane Doe")
        #expect(throws: MalformedCard(line: 1, reason: "no name in FN or N")) { try contact("FN: ", "N:;;;;", "TEL:1") }
    }

    @Test func mapsTheNumberToAContactID() throws {
        let mapped = try contact("FN:Pat", "TEL:+1 (555) 010-0199")
        #expect(mapped.contact == Contact(id: "15550100199@c.us", number: "15550100199", name: "Pat", isMyContact: true))
        #expect(mapped.contact.isWAContact)
        #expect(mapped.contact.pushname == nil)
    }

    @Test(arguments: [
        ("+1 (555) 010-0199", "15550100199"),
        ("tel:+1-418-656-9254;ext=102", "14186569254"),
        ("TEL:+33.1.23.45.67.89", "33123456789"),
        ("+49\u{00A0}30 1234567", "49301234567"),
        ("123456789012345", "123456789012345"),
    ])
    func keepsTheDigitsOfANumber(written: String, digits: String) {
        #expect(CardContact.phoneDigits(written) == digits)
    }

    @Test(arguments: ["", "+", "1-800-FLOWERS", "555 0100 x12", "1234567890123456"])
    func refusesWhatIsNotANumber(written: String) {
        #expect(CardContact.phoneDigits(written) == nil)
    }

    @Test func prefersMobileThenPreferenceThenOrder() throws {
        #expect(try contact("FN:A", "TEL;TYPE=home,pref:1", "TEL;TYPE=cell:2", "TEL;TYPE=cell:3").contact.number == "2")
        #expect(try contact("FN:A", "TEL;TYPE=cell:2", "TEL;TYPE=cell;TYPE=pref:3").contact.number == "3")
        #expect(try contact("FN:A", "TEL;TYPE=cell;PREF=2:2", "TEL;TYPE=cell;PREF=1:3", "TEL;TYPE=cell,pref:4").contact.number == "3")
        #expect(try contact("FN:A", "TEL;TYPE=work:5", "TEL:6").contact.number == "5")
        #expect(try contact("FN:A", "TEL;TYPE=cell:not a number", "TEL:7").contact.number == "7")
        #expect(try contact("FN:A", "item4.TEL:8", "item5.TEL:9", "item5.X-ABLabel:_$!<Mobile>!$_").contact.number == "9")
    }

    @Test func skipsACardWithoutUsableNumber() {
        #expect(throws: MalformedCard(line: 1, reason: "no TEL")) { try contact("FN:A") }
        #expect(throws: MalformedCard(line: 1, reason: #"no usable TEL: "call me", "+1 555 0100 ext 7""#)) {
            try contact("FN:A", "TEL:call me", "TEL:+1 555 0100 ext 7")
        }
    }

    @Test func readsPhotosAsURLs() throws {
        #expect(try contact("FN:A", "TEL:1", "PHOTO;VALUE=uri:https://example.com/a.jpg").photoURL == "https://example.com/a.jpg")
        #expect(try contact("FN:A", "TEL:1", "PHOTO;VALUE=URL:http://example.com/a.jpg").photoURL == "http://example.com/a.jpg")
        #expect(try contact("FN:A", "TEL:1", "PHOTO:data:image/gif;base64,R0lGODlh").photoURL == "data:image/gif;base64,R0lGODlh")
        // Nothing a client could fetch.
        #expect(try contact("FN:A", "TEL:1", "PHOTO;VALUE=uri:file:///Users/a/a.jpg").photoURL == nil)
        #expect(try contact("FN:A", "TEL:1").photoURL == nil)
    }

    @Test func turnsInlinePhotosIntoDataURLs() throws {
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3])
        let unpadded = png.base64EncodedString().trimmingCharacters(in: CharacterSet(charactersIn: "="))
        // The bytes' signature wins over the declared type; missing padding is tolerated.
        #expect(try contact("FN:A", "TEL:1", "PHOTO;ENCODING=b;TYPE=JPEG:\(unpadded)").photoURL == "data:image/png;base64,\(png.base64EncodedString())")
        let unknown = Data([1, 2, 3]).base64EncodedString()
        #expect(try contact("FN:A", "TEL:1", "PHOTO;ENCODING=BASE64;TYPE=GIF:\(unknown)").photoURL == "data:image/gif;base64,\(unknown)")
        #expect(try contact("FN:A", "TEL:1", "PHOTO;BASE64:\(unknown)").photoURL == "data:image/jpeg;base64,\(unknown)")
        #expect(try contact("FN:A", "TEL:1", "PHOTO;ENCODING=b:not base64!").photoURL == nil)
        // A broken first photo does not hide a good second one.
        #expect(try contact("FN:A", "TEL:1", "PHOTO;ENCODING=b:!!", "PHOTO:https://example.com/b.png").photoURL == "https://example.com/b.png")
    }
}
