import Foundation
import SamverkanCore
import Testing

@testable import SamverkanSinks

/// The email sink made from the options of its `sinks:` entry, and the errors a mistake gives.
@Suite("Email sink options")
struct EmailSinkOptionsTests {
    static let passwordFile: String = {
        let path = (try? MailTest.scratch("options")).map { $0 + "/pw" } ?? "/nonexistent"
        try? MailTest.write("x\n", to: path)
        return path
    }()

    func make(_ options: [String: String], environment: [String: String] = [:]) throws(EmailSink.OptionError)
        -> EmailSink
    {
        try EmailSink(
            name: "mail", options: options, zone: Notices.stockholm, hostname: "h.example", environment: environment)
    }

    @Test(
        "Mistakes are errors that say what to write",
        arguments: [
            ([:], "sink 'mail': an email sink needs 'from'"),
            (["from": "a@x.example", "password": "x"], "never put a password in config"),
            (["from": "a@x.example", "host": "h", "pasword_file": "/x"], "does not take 'pasword_file'"),
            (["from": "nobody", "host": "h"], "from 'nobody' is not an address"),
            (["from": "a@x.example", "host": "h", "reply_to": "x"], "reply_to 'x' is not an address"),
            (["from": "a@x.example", "transport": "lmtp"], "transport must be smtp or sendmail, found 'lmtp'"),
            (["from": "a@x.example"], "transport smtp needs a 'host'"),
            (["from": "a@x.example", "host": "h", "port": "0"], "port must be a number from 1 to 65535, found '0'"),
            (["from": "a@x.example", "host": "h", "port": "smtp"], "port must be a number"),
            (["from": "a@x.example", "host": "h", "tls": "ssl"], "tls must be starttls, tls or none, found 'ssl'"),
            (["from": "a@x.example", "host": "h", "username": "u"], "username needs a password_file"),
            (["from": "a@x.example", "host": "h", "password_file": "/x"], "password_file needs a username"),
            (
                ["from": "a@x.example", "host": "h", "username": "u", "password_file": "secrets/pw"],
                "password_file must be an absolute path or a systemd credential name"
            ),
            (
                ["from": "a@x.example", "host": "h", "username": "u", "password_file": "smtp-password"],
                "is a credential name, but CREDENTIALS_DIRECTORY is not set; add LoadCredential=smtp-password:"
            ),
            (
                ["from": "a@x.example", "host": "h", "username": "u", "password_file": "/nonexistent/pw"],
                "cannot read password_file /nonexistent/pw: No such file or directory"
            ),
            (["from": "a@x.example", "host": "h", "ca_file": "ca.pem"], "ca_file must be an absolute path"),
            (
                ["from": "a@x.example", "host": "h", "sendmail_path": "/usr/sbin/sendmail"],
                "sendmail_path is only for transport: sendmail"
            ),
            (["from": "a@x.example", "transport": "sendmail", "host": "h"], "host is only for transport: smtp"),
            (
                ["from": "a@x.example", "transport": "sendmail", "sendmail_path": "msmtp"],
                "sendmail_path must be an absolute path"
            ),
            (
                ["from": "a@x.example", "transport": "sendmail", "sendmail_path": "/nonexistent/sendmail"],
                "cannot run /nonexistent/sendmail"
            ),
        ])
    func mistakes(options: [String: String], expected: String) {
        do {
            _ = try make(options)
            Issue.record("expected an error containing \(expected)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.hasPrefix("sink 'mail': "))
        }
    }

    func smtp(_ sink: EmailSink) throws -> SMTPClient.Configuration {
        guard case .smtp(let config) = sink.transport else { throw TestFailure("not smtp") }
        return config
    }

    @Test("Defaults: port by tls, no TLS on loopback, STARTTLS when offered elsewhere")
    func defaults() throws {
        let local = try smtp(make(["from": "a@x.example", "host": "127.0.0.1"]))
        #expect(local.port == 25)
        #expect(local.security == .none)
        let remote = try smtp(make(["from": "a@x.example", "host": "smtp.kommun.example"]))
        #expect(remote.security == .startTLSIfOffered)
        #expect(remote.heloName == "h.example")
        let implicit = try smtp(make(["from": "a@x.example", "host": "smtp.kommun.example", "tls": "tls"]))
        #expect(implicit.port == 465)
        #expect(implicit.security == .implicitTLS)
        let required = try smtp(make(["from": "a@x.example", "host": "127.0.0.1", "tls": "starttls", "port": "587"]))
        #expect(required.security == .startTLS)
        #expect(required.port == 587)
        let sink = try make(["from": "Samverkan <a@x.example>", "host": "127.0.0.1", "reply_to": "b@x.example"])
        #expect(sink.from == EmailAddress(displayName: "Samverkan", address: "a@x.example"))
        #expect(sink.replyTo == EmailAddress(address: "b@x.example"))
        #expect(sink.type == "email")
    }

    @Test("password_file: an absolute path, or a systemd credential in $CREDENTIALS_DIRECTORY")
    func passwordFile() throws {
        let absolute = try smtp(
            make(["from": "a@x.example", "host": "h", "username": "u", "password_file": Self.passwordFile]))
        #expect(absolute.passwordFile == Self.passwordFile)
        #expect(absolute.username == "u")
        let directory = URL(fileURLWithPath: Self.passwordFile).deletingLastPathComponent().path
        let credential = try smtp(
            make(
                ["from": "a@x.example", "host": "h", "username": "u", "password_file": "pw"],
                environment: ["CREDENTIALS_DIRECTORY": directory]))
        #expect(credential.passwordFile == directory + "/pw")
    }
}
