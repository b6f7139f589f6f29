import ArgumentParser
import Foundation
import SamverkanClient
import SamverkanCore

/// `samverkanctl case open|close`: event-started windows such as a SMADIT handover.
struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Open or close a case (an event-started window, e.g. a SMADIT handover).",
        subcommands: [CaseOpen.self, CaseClose.self])
}

struct CaseOpen: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a case: the window's reminders, escalation and breach time start now (or at --opened-at).",
        discussion: """
            REFERENCE is the receiving unit's neutral registry number (2026-0042); leave it out and \
            samverkand assigns the next one. Never a personnummer, a registration number or a name: \
            those are refused. Opening the same case again is harmless.
            """)
    @OptionGroup var options: SocketOptions
    @Argument(help: "The agreement id, e.g. exempel.") var agreement: String
    @Argument(help: "The window id, e.g. smadit.") var window: String
    @Argument(help: "A neutral reference such as 2026-0042 (optional).") var reference: String?
    @Option(help: "When the handover happened, if registered late (RFC 3339, e.g. 2026-11-27T14:05:00+01:00).")
    var openedAt: String?

    func execute() throws {
        var body: [String: String] = ["agreement": agreement, "window": window]
        if let reference { body["reference"] = reference }
        if let openedAt { body["opened_at"] = openedAt }
        let data = try options.call("POST", "/v1/cases", body: try JSONSerialization.data(withJSONObject: body))
        if options.json { return printJSON(data) }
        let view = try decode(CaseView.self, data)
        let now = Date()
        print(
            "Ärende \(view.reference) (\(view.agreement)/\(view.window)) öppnat \(HumanFormat.when(view.openedAt, now: now))."
        )
        print(
            "Sista tid: \(HumanFormat.when(view.due, now: now)). Stäng med: samverkanctl case close \(view.reference) contacted"
        )
    }
}

struct CaseClose: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "close", abstract: "Close a case with its outcome; its remaining reminders stop.")
    @OptionGroup var options: SocketOptions
    @Argument(help: "The case reference.") var reference: String
    @Argument(help: "contacted, unreachable (after documented attempts) or declined.") var outcome: String

    func execute() throws {
        let data = try options.call(
            "POST", "/v1/cases/\(reference)/close",
            body: try JSONSerialization.data(withJSONObject: ["outcome": outcome]))
        if options.json { return printJSON(data) }
        let view = try decode(CaseView.self, data)
        print("Ärende \(view.reference) stängt: \(view.outcome ?? outcome).")
    }
}

struct Cases: FailingCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Open cases with the time left, and those closed in the last week.")
    @OptionGroup var options: SocketOptions
    @Flag(help: "Only open cases.") var open = false
    @Flag(help: "Every case ever opened.") var all = false

    func execute() throws {
        let state = open ? "?state=open" : all ? "?state=all" : ""
        let data = try options.call("GET", "/v1/cases\(state)")
        if options.json { return printJSON(data) }
        let cases = try decode([CaseView].self, data)
        guard !cases.isEmpty else {
            print(open ? "Inga öppna ärenden." : "Inga ärenden.")
            return
        }
        let now = Date()
        var rows = [["REFERENS", "ÖVERENSKOMMELSE", "FÖNSTER", "ÖPPNAT", "SISTA TID", "LÄGE"]]
        for view in cases {
            let state: String
            if let outcome = view.outcome {
                state = "stängt: \(outcome)"
            } else if let left = view.secondsLeft, left < 0 {
                state = "öppet, tiden har passerat"
            } else {
                state = "öppet"
            }
            rows.append([
                view.reference, view.agreement, view.window, HumanFormat.when(view.openedAt, now: now),
                HumanFormat.when(view.due, now: now), state,
            ])
        }
        print(
            HumanFormat.table(rows, header: true) { _, column, cell in
                guard column == 5 else { return nil }
                return cell.hasPrefix("stängt") ? .dim : cell.contains("passerat") ? .red : nil
            })
    }
}
