import Foundation
public import Mustache

/// The Mustache templates that render notices, by language and kind: `templates/<lang>/<kind>.mustache`
/// in the config directory, falling back to `<lang>/default.mustache` and then to the built-in
/// default. A template renders plain text: nothing is HTML-escaped ("Avesta & Falun" stays as it is).
/// The first line is the subject; the body follows after it.
public struct NoticeTemplates: Sendable {
    public static let languages = ["sv", "en"]
    private var templates: [String: MustacheTemplate]

    /// The template for a kind in a language.
    public func template(language: String, kind: String) -> MustacheTemplate? {
        templates["\(language)/\(kind)"] ?? templates["\(language)/default"] ?? templates["sv/default"]
    }

    /// Whether the config directory supplies its own template for this language and kind.
    public func has(language: String, kind: String) -> Bool { templates["\(language)/\(kind)"] != nil }

    /// Every `*.mustache` under `directory/templates/<lang>/`, parsed; problems are reported with
    /// file, line and column like any config error.
    static func load(configDirectory: String, _ log: inout DiagnosticLog) -> NoticeTemplates {
        var templates: [String: MustacheTemplate] = [:]
        for (key, text) in BuiltinTemplates.texts {
            templates[key] = try? MustacheTemplate(string: plainText(text))
        }
        let root = (configDirectory.hasSuffix("/") ? configDirectory : configDirectory + "/") + "templates"
        let languages = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for language in languages.sorted() where !language.hasPrefix(".") {
            let directory = root + "/" + language
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                continue
            }
            guard languages.contains(language), NoticeTemplates.languages.contains(language) else {
                log.error(directory, .start, "unknown template language '\(language)'; use sv or en")
                continue
            }
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
                $0.hasSuffix(".mustache")
            }
            for file in files.sorted() {
                let path = directory + "/" + file
                guard let data = FileManager.default.contents(atPath: path),
                    let text = String(data: data, encoding: .utf8)
                else {
                    log.error(path, .start, "template cannot be read as UTF-8 text")
                    continue
                }
                do {
                    templates["\(language)/\(file.dropLast(".mustache".count))"] = try MustacheTemplate(
                        string: plainText(text))
                } catch let error as MustacheTemplate.ParserError {
                    log.error(
                        path, Position(line: error.context.lineNumber, column: max(error.context.columnNumber, 1)),
                        "template error: \(error.error)")
                } catch {
                    log.error(path, .start, "template error: \(error)")
                }
            }
        }
        return NoticeTemplates(templates: templates)
    }

    /// The template files as (relative name, text), for the config's fingerprint.
    static func files(configDirectory: String) -> [(String, String)] {
        let root = (configDirectory.hasSuffix("/") ? configDirectory : configDirectory + "/") + "templates"
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var result: [(String, String)] = []
        for case let path as String in enumerator where path.hasSuffix(".mustache") {
            if let data = FileManager.default.contents(atPath: root + "/" + path) {
                result.append(("templates/" + path, String(decoding: data, as: UTF8.self)))
            }
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// Plain text, not HTML: the content-type pragma goes in front of the first line, so line
    /// numbers in errors stay those of the file.
    private static func plainText(_ text: String) -> String { "{{% CONTENT_TYPE: TEXT}}" + text }
}
