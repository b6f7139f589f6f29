import Foundation
import SamverkanConfig
import SamverkanCore
import SamverkanSinks
import Testing

/// Every template of `Config/templates` in both languages, rendered for each slot it handles and
/// compared with a reviewed file in `Golden/`. `SAMVERKAN_UPDATE_GOLDEN=1 swift test --filter
/// TemplateGolden` writes the files anew; review the diff before committing it.
@Suite("notice templates")
struct TemplateGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repository = root.deletingLastPathComponent().deletingLastPathComponent()
    static let zone = Zone(identifier: "Europe/Stockholm")!

    static let config: LoadedConfig = {
        // The bundled config's templates, with an agreement whose title holds an '&'.
        try! ConfigLoader().load(directory: repository.appendingPathComponent("Config").path)
    }()

    static let agreement = Agreement(
        id: "avesta-falun", title: "Avesta kommun & Lokalpolisområde Falun",
        valid: Validity(
            from: FuzzyDate(parsing: "2020-09-07", anchor: .start), until: FuzzyDate(parsing: "2026", anchor: .end)),
        roles: ["samordnare": Role(id: "samordnare")])

    static func deadline(kind: String, slot: String) -> Deadline {
        let due = zone.instant(LocalDateTime(date: LocalDate(iso: "2026-11-30")!, time: LocalTime(text: "09:00")!))
        let reference = kind == "smadit"
        let id = reference ? "avesta-falun/smadit/2026-0042" : "avesta-falun/\(kind)-uppgift/2026-11-30"
        let at: Date
        switch slot {
        case "escalation": at = due.addingTimeInterval(-6 * 3600)
        case "+1h": at = due.addingTimeInterval(-23 * 3600)
        case _ where slot.hasPrefix("-"): at = due.addingTimeInterval(-30 * 86_400)
        default: at = due
        }
        return Deadline(
            id: id, agreement: "avesta-falun", obligation: "\(kind)-uppgift", kind: kind,
            title: reference ? "smadit" : "Årlig uppföljning & återrapport", nominal: LocalDate(iso: "2026-11-30")!,
            due: due,
            notices: [PlannedNotice(id: "\(id)/\(slot)", slot: slot, at: at, recipients: ["samordnare"])],
            explanation: [])
    }

    static let cases: [(language: String, kind: String, slot: String)] = {
        var all: [(String, String, String)] = []
        for language in ["sv", "en"] {
            for kind in ["default", "renewal", "review", "lagesbild", "meeting"] {
                for slot in ["-30d", "due", "overdue"] where config.templates.has(language: language, kind: kind) {
                    all.append((language, kind, slot))
                }
            }
            // The default covers every slot: a kind with no template of its own (and every kind
            // in a language with only the default) still gets a subject and a body.
            for slot in ["summary", "+1h", "escalation", "breach"] { all.append((language, "default", slot)) }
            if config.templates.has(language: language, kind: "lagesbild") {
                all.append((language, "lagesbild", "summary"))
            }
            if config.templates.has(language: language, kind: "smadit") {
                for slot in ["+1h", "escalation", "breach"] { all.append((language, "smadit", slot)) }
            }
        }
        return all
    }()

    @Test("every template file of both languages is covered") func coverage() {
        #expect(Set(Self.cases.map { "\($0.language)/\($0.kind)" }).count >= 7)
    }

    @Test(
        "rendered text equals the reviewed golden file", arguments: cases.map { "\($0.language)|\($0.kind)|\($0.slot)" }
    )
    func golden(_ key: String) throws {
        let parts = key.split(separator: "|").map(String.init)
        let (language, kind, slot) = (parts[0], parts[1], parts[2])
        let renderer = NoticeRenderer(zone: Self.zone, language: language, templates: Self.config.templates)
        let situation = NoticeRenderer.Situation(
            slot: slot, recipientRole: "samordnare", missing: slot == "summary" ? ["skola", "fritid"] : [],
            questions: kind == "lagesbild"
                ? ["Vilka ordningsstörningar har förekommit?", "Har hot & våld förekommit?"] : [],
            quote: kind == "review" ? "Arbetet ska följas upp årligen" : nil,
            caseReference: kind == "smadit" || slot.hasPrefix("+") || slot.hasPrefix("escalation") || slot == "breach"
                ? "2026-0042" : nil)
        let text = renderer.render(
            deadline: Self.deadline(kind: kind, slot: slot), agreement: Self.agreement, situation: situation)
        let rendered = "Subject: \(text.subject)\n\n\(text.body)"
        let file = Self.root.appendingPathComponent("Golden/\(language)-\(kind)-\(slot).txt")
        if ProcessInfo.processInfo.environment["SAMVERKAN_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == expected)
        #expect(!text.subject.isEmpty && !text.subject.contains("\n"))
        #expect(!rendered.contains("&amp;"), "plain text: nothing is HTML-escaped")
        #expect(!rendered.contains("{{"), "no unrendered tags")
    }

    @Test("every kind and slot that occurs renders a subject and a body, in both languages, from Config/ and built in")
    func noEmptySubject() throws {
        let empty = try ConfigLoader().load(
            directory: Self.repository.appendingPathComponent("Tests/SamverkanConfigTests/Fixtures/valid").path)
        let obligationSlots = ["-30d", "-5wd", "due", "overdue", "summary"]
        let windowSlots = ["+1h", "escalation", "breach"]
        var combinations: [(kind: String, slot: String)] = []
        for kind in ["renewal", "review", "lagesbild", "report", "meeting", "promise", "custom"] {
            combinations += obligationSlots.map { (kind, $0) }
        }
        combinations += windowSlots.map { ("smadit", $0) }
        for templates in [Self.config.templates, empty.templates] {
            for language in ["sv", "en"] {
                let renderer = NoticeRenderer(zone: Self.zone, language: language, templates: templates)
                for (kind, slot) in combinations {
                    let window = windowSlots.contains(slot)
                    let situation = NoticeRenderer.Situation(
                        slot: slot, recipientRole: "samordnare", caseReference: window ? "2026-0042" : nil)
                    let text = renderer.render(
                        deadline: Self.deadline(kind: kind, slot: slot), agreement: Self.agreement, situation: situation
                    )
                    #expect(text.subject.hasPrefix("[Samverkan] "), "\(language) \(kind) \(slot): '\(text.subject)'")
                    #expect(text.body.count > 100, "\(language) \(kind) \(slot)")
                    // domain.md: subjects never say SMADIT (nor anything else about the case).
                    #expect(!text.subject.localizedCaseInsensitiveContains("smadit"), "\(text.subject)")
                }
            }
        }
    }

    @Test("the built-in defaults equal Config/templates/*/default.mustache")
    func builtinsMatchFiles() throws {
        for language in ["sv", "en"] {
            let file = Self.repository.appendingPathComponent("Config/templates/\(language)/default.mustache")
            let text = try String(contentsOf: file, encoding: .utf8)
            let renderer = NoticeRenderer(zone: Self.zone, language: language, templates: Self.config.templates)
            let empty = try ConfigLoader().load(
                directory: Self.repository.appendingPathComponent("Tests/SamverkanConfigTests/Fixtures/valid").path)
            let builtin = NoticeRenderer(zone: Self.zone, language: language, templates: empty.templates)
            let deadline = Self.deadline(kind: "custom", slot: "due")
            let situation = NoticeRenderer.Situation(slot: "due", recipientRole: "samordnare")
            #expect(
                renderer.render(deadline: deadline, agreement: Self.agreement, situation: situation).body
                    == builtin.render(deadline: deadline, agreement: Self.agreement, situation: situation).body,
                "\(file.path) and BuiltinTemplates differ")
            #expect(text.contains("{{doneCommand}}"))
        }
    }

    @Test("a template error is a config error with file, line and column")
    func templateError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-\(UUID())")
        try FileManager.default.copyItem(
            at: Self.repository.appendingPathComponent("Tests/SamverkanConfigTests/Fixtures/valid"), to: directory)
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("templates/sv"), withIntermediateDirectories: true)
        try "[Samverkan] {{title}}\nHej!\n{{#isDue}}\nI dag.\n".write(
            to: directory.appendingPathComponent("templates/sv/review.mustache"), atomically: true, encoding: .utf8)
        #expect {
            _ = try ConfigLoader().load(directory: directory.path)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.diagnostics.contains {
                $0.file.hasSuffix("templates/sv/review.mustache") && $0.line >= 3
                    && $0.message.hasPrefix("template error")
            }
        }
    }
}
