import Foundation
import SamverkanCore
import Testing

/// The listing written by hand must be the bytes `JSONEncoder` writes for the socket.
@Suite("JSON written by hand")
struct JSONWriterTests {
    static func encoded(_ views: [DeadlineView]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(views))
    }

    static let tricky = [
        "", "Månadens lägesbild", "a/b", "quote \" back \\ slash", "line\nfeed\rreturn\ttab",
        "\u{8}\u{C}\u{1}\u{1F}\u{7F}", "emoji 🚓 and ß", "<script>&amp;</script>",
    ]

    static func view(_ text: String, notices: Int, explanation: [String]?) -> DeadlineView {
        DeadlineView(
            id: "a/\(text)/2026-12-01", agreement: text, obligation: "o\(text)", kind: "review", title: text,
            due: "2026-12-01T09:00:00+01:00", state: "upcoming",
            notices: (0..<notices).map {
                NoticeView(id: "n\($0)\(text)", slot: "-\($0)d", at: "2026-11-\(10 + $0)T09:00:00+01:00", state: text)
            }, explanation: explanation)
    }

    @Test("a listing: same bytes as JSONEncoder", arguments: tricky)
    func listing(text: String) throws {
        let views = [
            Self.view(text, notices: 0, explanation: nil), Self.view(text, notices: 3, explanation: [text, "b"]),
            Self.view(text, notices: 1, explanation: []),
        ]
        let written = try #require(DeadlineView.listingJSON(views))
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: try Self.encoded(views), as: UTF8.self))
    }

    @Test("status: same bytes as JSONEncoder, with and without the optional parts", arguments: tricky)
    func status(text: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var view = StatusView(
            version: "0.1.0", pid: 4242, startedAt: "2026-11-27T06:00:00+01:00", uptimeSeconds: 3600,
            config: .init(
                directory: "/etc/\(text)", generation: 3, loadedAt: "2026-11-27T06:00:00+01:00", fingerprint: "ab12",
                agreements: 2, timezone: "Europe/Stockholm", warnings: 1),
            deadlines: .init(
                planned: 31, done: 2, pendingNotices: 146, sentNotices: 7, failedNotices: 1, deadLetters: 0),
            nextDue: Self.view(text, notices: 2, explanation: nil),
            nextNotice: NoticeView(id: "n/\(text)", slot: "-5wd", at: "2026-12-21T09:00:00+01:00", state: "pending"),
            lastReloadError: "agreements.d/\(text).yaml:3:1: error: \(text)", status: "Generation 3: \(text)")
        let full = try #require(view.json())
        #expect(String(decoding: full, as: UTF8.self) == String(decoding: try encoder.encode(view), as: UTF8.self))
        view.nextDue = nil
        view.nextNotice = nil
        view.lastReloadError = nil
        let bare = try #require(view.json())
        #expect(String(decoding: bare, as: UTF8.self) == String(decoding: try encoder.encode(view), as: UTF8.self))
    }

    @Test("the empty listing, and a view with deliveries goes to JSONEncoder")
    func edges() throws {
        #expect(DeadlineView.listingJSON([]) == Array("[]".utf8))
        var detailed = Self.view("x", notices: 1, explanation: nil)
        detailed.deliveries = []
        #expect(DeadlineView.listingJSON([detailed]) == nil)
    }
}
