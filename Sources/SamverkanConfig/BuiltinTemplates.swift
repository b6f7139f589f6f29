/// The default templates, built in so that a config without a `templates/` directory still
/// renders every notice. They are the same text as `Config/templates/{sv,en}/default.mustache`
/// (a test holds the two equal); a user edits the copies in the config directory.
enum BuiltinTemplates {
    static let texts: [String: String] = [
        "sv/default": #"""
        {{#isReminder}}[Samverkan] {{title}} – senast {{dueDate}}{{/isReminder}}{{#isDue}}[Samverkan] Sista dag i dag: {{title}} ({{dueDate}}){{/isDue}}{{#isOverdue}}[Samverkan] Försenad: {{title}} (sista dag var {{dueDate}}){{/isOverdue}}{{#isSummary}}[Samverkan] {{title}} – sammanställning {{dueDate}}{{/isSummary}}{{#isAfterOpen}}[Samverkan] Ärende {{caseReference}} – inget utfall registrerat{{/isAfterOpen}}{{#isEscalation}}[Samverkan] Ärende {{caseReference}} – {{hoursLeft}} kvar till målet{{/isEscalation}}{{#isBreach}}[Samverkan] Ärende {{caseReference}} – målet passerat{{/isBreach}}
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
        {{#isSummary}}
        Sista dag för "{{title}}" enligt {{agreement}} är {{due}}.
        {{#hasMissing}}
        Svar saknas fortfarande från:
        {{#missing}}
        – {{role}}
        {{/missing}}
        {{/hasMissing}}
        {{^hasMissing}}
        Alla har svarat.
        {{/hasMissing}}
        {{/isSummary}}
        {{#isAfterOpen}}
        I ärende {{caseReference}} finns inget utfall registrerat. Målet är {{due}}.
        {{/isAfterOpen}}
        {{#isEscalation}}
        Ärende {{caseReference}} har fortfarande inget registrerat utfall, och målet nås {{due}}. Du får meddelandet som {{recipientRole}}.
        {{/isEscalation}}
        {{#isBreach}}
        Målet för ärende {{caseReference}} passerades {{due}} utan registrerat utfall. Ärendet är fortfarande öppet.
        {{/isBreach}}
        {{#quote}}

        Överenskommelsen säger: "{{quote}}"
        {{/quote}}
        {{#dueDerived}}
        Datumet är härlett, eftersom överenskommelsen inte anger något exakt datum.
        {{/dueDerived}}

        {{^caseReference}}
        – gör det som behövs före sista dagen
        – markera som klar när det är gjort: {{doneCommand}}
        {{/caseReference}}
        {{#caseReference}}
        Registrera utfallet: samverkanctl case close {{caseReference}} contacted|unreachable|declined
        Uppgifter om personen finns bara i ert verksamhetssystem.
        {{/caseReference}}

        Du får meddelandet som {{recipientRole}} för överenskommelsen. Automatiskt meddelande{{#late}}, skickat senare än planerat{{/late}}.

        Vänliga hälsningar
        Påminnelsetjänsten för brottsförebyggande samverkan

        """#,
        "en/default": #"""
        {{#isReminder}}[Samverkan] {{title}} – due {{dueDate}}{{/isReminder}}{{#isDue}}[Samverkan] Due today: {{title}} ({{dueDate}}){{/isDue}}{{#isOverdue}}[Samverkan] Overdue: {{title}} (was due {{dueDate}}){{/isOverdue}}{{#isSummary}}[Samverkan] {{title}} – summary {{dueDate}}{{/isSummary}}{{#isAfterOpen}}[Samverkan] Case {{caseReference}} – no outcome registered{{/isAfterOpen}}{{#isEscalation}}[Samverkan] Case {{caseReference}} – {{hoursLeft}} left to the target{{/isEscalation}}{{#isBreach}}[Samverkan] Case {{caseReference}} – target passed{{/isBreach}}
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
        {{#isSummary}}
        The last day for "{{title}}" under {{agreement}} is {{due}}.
        {{#hasMissing}}
        Still waiting for answers from:
        {{#missing}}
        – {{role}}
        {{/missing}}
        {{/hasMissing}}
        {{^hasMissing}}
        Everyone has answered.
        {{/hasMissing}}
        {{/isSummary}}
        {{#isAfterOpen}}
        Case {{caseReference}} has no outcome registered. The target is {{due}}.
        {{/isAfterOpen}}
        {{#isEscalation}}
        Case {{caseReference}} still has no outcome registered, and the target is {{due}}. You receive this as {{recipientRole}}.
        {{/isEscalation}}
        {{#isBreach}}
        The target of case {{caseReference}} passed at {{due}} with no outcome registered. The case is still open.
        {{/isBreach}}
        {{#quote}}

        The agreement says: "{{quote}}"
        {{/quote}}
        {{#dueDerived}}
        The date is derived: the agreement gives no exact date.
        {{/dueDerived}}

        {{^caseReference}}
        – mark it done when it is: {{doneCommand}}
        {{/caseReference}}
        {{#caseReference}}
        Register the outcome: samverkanctl case close {{caseReference}} contacted|unreachable|declined
        Details about the person are only in your own case system.
        {{/caseReference}}

        You receive this as {{recipientRole}} for the agreement. Automatic message{{#late}}, sent later than planned{{/late}}.

        Kind regards
        The crime-prevention cooperation reminder service

        """#,
    ]
}
