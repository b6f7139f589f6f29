/// The default templates, built in so that a config without a `templates/` directory still
/// renders every notice. They are the same text as `Config/templates/{sv,en}/default.mustache`
/// (a test holds the two equal); a user edits the copies in the config directory.
enum BuiltinTemplates {
    static let texts: [String: String] = [
        "sv/default": #"""
        {{#isReminder}}[Samverkan] {{title}} – senast {{dueDate}}{{/isReminder}}{{#isDue}}[Samverkan] Sista dag i dag: {{title}} ({{dueDate}}){{/isDue}}{{#isOverdue}}[Samverkan] Försenad: {{title}} (sista dag var {{dueDate}}){{/isOverdue}}
        Hej!

        {{#isReminder}}
        "{{title}}" enligt {{agreement}} ska vara klar senast {{due}}. Det är {{lead}} kvar.
        {{/isReminder}}
        {{#isDue}}
        I dag, {{due}}, är sista dag för "{{title}}" enligt {{agreement}}.
        {{/isDue}}
        {{#isOverdue}}
        "{{title}}" enligt {{agreement}} skulle ha varit klar senast {{due}} och är inte markerad som klar.
        {{/isOverdue}}
        {{#quote}}

        Överenskommelsen säger: "{{quote}}"
        {{/quote}}
        {{#dueDerived}}
        Datumet är härlett, eftersom överenskommelsen inte anger något exakt datum.
        {{/dueDerived}}

        – gör det som behövs före sista dagen
        – markera som klar när det är gjort: {{doneCommand}}

        Du får meddelandet som {{recipientRole}} för överenskommelsen. Automatiskt meddelande{{#late}}, skickat senare än planerat{{/late}}.

        Vänliga hälsningar
        Påminnelsetjänsten för brottsförebyggande samverkan

        """#,
        "en/default": #"""
        {{#isReminder}}[Samverkan] {{title}} – due {{dueDate}}{{/isReminder}}{{#isDue}}[Samverkan] Due today: {{title}} ({{dueDate}}){{/isDue}}{{#isOverdue}}[Samverkan] Overdue: {{title}} (was due {{dueDate}}){{/isOverdue}}
        Hello,

        {{#isReminder}}
        "{{title}}" under {{agreement}} is due by {{due}}; {{lead}} left.
        {{/isReminder}}
        {{#isDue}}
        Today, {{due}}, is the last day for "{{title}}" under {{agreement}}.
        {{/isDue}}
        {{#isOverdue}}
        "{{title}}" under {{agreement}} was due by {{due}} and is not marked done.
        {{/isOverdue}}
        {{#quote}}

        The agreement says: "{{quote}}"
        {{/quote}}
        {{#dueDerived}}
        The date is derived: the agreement gives no exact date.
        {{/dueDerived}}

        – mark it done when it is: {{doneCommand}}

        You receive this as {{recipientRole}} for the agreement. Automatic message{{#late}}, sent later than planned{{/late}}.

        Kind regards
        The crime-prevention cooperation reminder service

        """#,
    ]
}
