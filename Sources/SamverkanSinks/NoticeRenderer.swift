public import Foundation
import Mustache
public import SamverkanConfig
public import SamverkanCore

/// Renders a notice with the config's templates (`NoticeTemplates`): the values a template can
/// use, in plain Swedish (or English) wording of dates and lead times (`domain.md` §7).
public struct NoticeRenderer: Sendable {
    public let zone: Zone
    public let language: String
    public let templates: NoticeTemplates

    public init(zone: Zone, language: String, templates: NoticeTemplates) {
        self.zone = zone
        self.language = language
        self.templates = templates
    }

    /// What a template sees besides the deadline: who receives it and why.
    public struct Situation: Sendable {
        public var slot: String
        public var recipientRole: String
        public var late: Bool
        /// For a collection round: the respondents who have not answered (summary) and the questions.
        public var missing: [String]
        public var questions: [String]
        public var quote: String?
        public var caseReference: String?

        public init(
            slot: String, recipientRole: String, late: Bool = false, missing: [String] = [], questions: [String] = [],
            quote: String? = nil, caseReference: String? = nil
        ) {
            self.slot = slot
            self.recipientRole = recipientRole
            self.late = late
            self.missing = missing
            self.questions = questions
            self.quote = quote
            self.caseReference = caseReference
        }
    }

    static let weekdays = [
        "sv": ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"],
        "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    ]

    /// `måndag 2026-11-30 kl. 09.00` (sv) or `Monday 2026-11-30 at 09:00` (en).
    public func dateTime(_ instant: Date) -> String {
        let local = zone.local(instant)
        let names = Self.weekdays[language] ?? Self.weekdays["sv"] ?? []
        let weekday = names.isEmpty ? "" : names[local.date.weekday - 1] + " "
        return language == "en"
            ? "\(weekday)\(local.date) at \(clock(local.time, separator: ":"))"
            : "\(weekday)\(local.date) kl. \(clock(local.time, separator: "."))"
    }

    private func clock(_ time: LocalTime, separator: String) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(time.hour))\(separator)\(two(time.minute))"
    }

    /// `30 dagar`, `5 arbetsdagar`, `2 timmar` from a slot like `-30d`.
    func leadText(_ slot: String) -> String {
        guard slot.hasPrefix("-"), let lead = LeadTime(text: slot.dropFirst()) else { return "" }
        let sv = language != "en"
        switch lead {
        case .days(let n): return sv ? "\(n) \(n == 1 ? "dag" : "dagar")" : "\(n) \(n == 1 ? "day" : "days")"
        case .workingDays(let n):
            return sv ? "\(n) \(n == 1 ? "arbetsdag" : "arbetsdagar")" : "\(n) working \(n == 1 ? "day" : "days")"
        case .hours(let n): return sv ? "\(n) \(n == 1 ? "timme" : "timmar")" : "\(n) \(n == 1 ? "hour" : "hours")"
        }
    }

    public func render(deadline: Deadline, agreement: Agreement?, situation: Situation) -> (
        subject: String, body: String
    ) {
        let local = zone.local(deadline.due)
        let slot = situation.slot
        let kind = deadline.kind
        var context: [String: Any] = [
            "agreement": agreement?.title ?? deadline.agreement,
            "agreementId": deadline.agreement,
            "title": deadline.title,
            "kind": kind,
            "deadlineId": deadline.id,
            "slot": slot,
            "due": dateTime(deadline.due),
            "dueDate": local.date.description,
            "dueTime": clock(local.time, separator: "."),
            "lead": leadText(slot),
            "isReminder": slot.hasPrefix("-"),
            "isDue": slot == "due",
            "isOverdue": slot == "overdue",
            "isSummary": slot == "summary",
            "isAfterOpen": slot.hasPrefix("+"),
            "isEscalation": slot.hasPrefix("escalation"),
            "isBreach": slot == "breach",
            "late": situation.late,
            "doneCommand": "samverkanctl done \(deadline.id)",
            "recipientRole": situation.recipientRole,
            "questions": situation.questions.map { ["text": $0] },
            "missing": situation.missing.map { ["role": $0] },
            "hasMissing": !situation.missing.isEmpty,
            "dueDerived": deadline.explanation.contains { $0.contains("(derived from") },
        ]
        if let quote = situation.quote { context["quote"] = quote }
        if let reference = situation.caseReference { context["caseReference"] = reference }
        if let until = agreement?.valid.until {
            context["endDate"] = until.date.description
            context["endDerived"] = until.isDerived
        }
        let hours = Int(
            deadline.due.timeIntervalSince(deadline.notices.first { $0.slot == slot }?.at ?? deadline.due) / 3600)
        context["hoursLeft"] = language == "en" ? "\(hours) hours" : "\(hours) timmar"
        guard let template = templates.template(language: language, kind: kind) else {
            return ("[Samverkan] \(deadline.title)", deadline.title)
        }
        let text = template.render(context)
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let subject = lines.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let body = lines.count > 1 ? String(lines[1]) : ""
        return (subject, body)
    }
}
