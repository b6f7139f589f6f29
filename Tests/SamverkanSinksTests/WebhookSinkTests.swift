import Foundation
import SamverkanConfig
import SamverkanCore
import SamverkanTestSupport
import Testing

@testable import SamverkanSinks

/// `Servers/webhook_server.py` on 127.0.0.1, started for one test.
struct TestHTTPServer {
    /// One request as the server received it.
    struct Request: Decodable {
        var method: String
        var path: String
        var version: String
        var headers: [[String]]
        var body_base64: String
        var signature_valid: Bool?

        var body: [UInt8] { Array(Data(base64Encoded: body_base64) ?? Data()) }

        /// Every value of a header, by its name in any case.
        func values(_ name: String) -> [String] {
            headers.filter { $0.first?.lowercased() == name.lowercased() }.compactMap { $0.last }
        }

        func header(_ name: String) -> String? { values(name).first }
    }

    let server: TestServerProcess
    var port: Int { server.port }
    var origin: String { "http://127.0.0.1:\(server.port)" }

    static func start(_ name: String, _ arguments: [String] = []) async throws -> TestHTTPServer {
        TestHTTPServer(server: try await TestServerProcess.start("webhook_server.py", name: name, arguments: arguments))
    }

    @discardableResult
    func stop() async -> Int32 { await server.stop() }

    func requests() throws -> [Request] {
        guard let text = try? String(contentsOfFile: server.directory + "/requests.jsonl", encoding: .utf8) else {
            return []
        }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }
}

/// The webhook sink against a real HTTP server on 127.0.0.1 (Python's `http.server`).
@Suite("Webhook sink against a real HTTP server", .timeLimit(.minutes(1)))
struct WebhookSinkTests {
    static let secret = "hemlig-nyckel-för-signaturen-4711"

    func sink(_ url: String, secretFile: String? = nil, timeout: Duration = .seconds(10)) throws -> WebhookSink {
        try WebhookSink(
            name: "hook", url: try SinkConfig.WebhookURL(parsing: url), secretFile: secretFile, timeout: timeout)
    }

    func failure(_ sink: WebhookSink, _ notice: OutgoingNotice = WebhookSinkTests.notice) async -> SinkError? {
        do {
            let receipt = try await sink.deliver(notice)
            Issue.record("expected a failure, got \(receipt)")
            return nil
        } catch {
            return error
        }
    }

    static let notice = Notices.make(recipients: [
        ("samordnare", "samordnare@avesta.example"), ("kommunpolis", "kommunpolis@polisen.example"),
    ])

    @Test("POSTs the notice JSON once with the idempotency key, user agent and a signature Python verifies")
    func delivered() async throws {
        let directory = try MailTest.scratch("webhook-secret")
        let secretFile = directory + "/secret"
        // The trailing line break is not part of the secret, on either side.
        try MailTest.write(Self.secret + "\n", to: secretFile)
        let server = try await TestHTTPServer.start("webhook", ["--secret-file", secretFile])
        let sink = try WebhookSink(
            name: "hook", options: ["url": server.origin + "/samverkan?token=abc123", "secret_file": secretFile])

        let receipt = try await sink.deliver(Self.notice)
        #expect(receipt.detail == "\(server.origin) answered 200 OK")
        #expect(!receipt.detail.contains("abc123"))

        let requests = try server.requests()
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.method == "POST")
        #expect(request.path == "/samverkan?token=abc123")
        #expect(request.version == "HTTP/1.1")
        #expect(request.signature_valid == true)
        #expect(request.values("Idempotency-Key") == [Self.notice.id])
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("User-Agent") == "samverkand/\(SamverkanVersion.current)")
        #expect(request.header("Host") == "127.0.0.1:\(server.port)")
        #expect(request.header("Content-Length") == String(request.body.count))
        let signature = try #require(request.header("X-Samverkan-Signature"))
        #expect(signature.hasPrefix("sha256=") && signature.count == 7 + 64)
        #expect(!signature.contains(Self.secret))

        // The body is the file sink's json, byte for byte, and decodes to the notice.
        #expect(request.body == (try Self.notice.jsonBytes()))
        #expect(try JSONDecoder().decode(OutgoingNotice.self, from: Data(request.body)) == Self.notice)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(object["agreement_title"] as? String == Self.notice.agreementTitle)
        #expect(object["id"] as? String == Self.notice.id)
        await server.stop()
    }

    @Test("Without secret_file no signature header is sent")
    func unsigned() async throws {
        let server = try await TestHTTPServer.start("webhook-unsigned")
        _ = try await sink(server.origin + "/").deliver(Self.notice)
        let request = try #require(try server.requests().first)
        #expect(request.header("X-Samverkan-Signature") == nil)
        #expect(request.signature_valid == nil)
        await server.stop()
    }

    @Test(
        "503, 429, 500 and 408 are transient; the status, Retry-After and a one-line excerpt are in the error",
        arguments: [503, 429, 500, 408])
    func transientStatus(_ code: Int) async throws {
        let server = try await TestHTTPServer.start("webhook-\(code)")
        let error = await failure(try sink(server.origin + "/status/\(code)?token=hidden"))
        #expect(error?.code == .transient)
        let message = error?.message ?? ""
        #expect(message.contains("answered \(code) "), "\(message)")
        #expect(message.contains("status \(code) from the test server second line"), "\(message)")
        #expect(!message.contains("\n") && !message.contains("\t") && !message.contains("hidden"))
        #expect(message.contains("Retry-After: 120") == [429, 503].contains(code))
        #expect(try server.requests().count == 1)
        await server.stop()
    }

    @Test("400, 404 and a redirect are permanent", arguments: [400, 404, 301])
    func permanentStatus(_ code: Int) async throws {
        let server = try await TestHTTPServer.start("webhook-\(code)")
        let error = await failure(try sink(server.origin + "/status/\(code)"))
        #expect(error?.code == .permanent)
        #expect(error?.message.contains("answered \(code)") == true, "\(String(describing: error))")
        if code == 301 {
            #expect(error?.message.contains("redirects are not followed") == true)
            // Not followed: the server saw one request only.
            #expect(try server.requests().count == 1)
        }
        await server.stop()
    }

    @Test("A server that never answers: transient, within the time limit")
    func neverAnswers() async throws {
        let server = try await TestHTTPServer.start("webhook-hang")
        // Long enough for the request to reach the server even on a loaded machine.
        let sink = try sink(server.origin + "/hang", timeout: .seconds(2))
        let started = ContinuousClock.now
        let error = await failure(sink)
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .transient)
        #expect(error?.message.contains("did not answer within") == true, "\(String(describing: error))")
        #expect(elapsed >= .milliseconds(1950) && elapsed < .seconds(10), "\(elapsed)")
        // It was sent: the server records it before it hangs (on a loaded machine, maybe after
        // the sink gave up).
        #expect(try await eventually { try server.requests().first?.path == "/hang" })
        await server.stop()
    }

    @Test("Connection refused: transient")
    func refused() async throws {
        let server = try await TestHTTPServer.start("webhook-stopped")
        #expect(await server.stop() == 0)
        let error = await failure(try sink(server.origin + "/"))
        #expect(error?.code == .transient)
        #expect(error?.message.contains("cannot connect to \(server.origin)") == true, "\(String(describing: error))")
    }

    @Test("A large answer is read up to the limit, and the delivery counts")
    func largeAnswer() async throws {
        let server = try await TestHTTPServer.start("webhook-big")
        let receipt = try await sink(server.origin + "/big").deliver(Self.notice)
        #expect(receipt.detail.hasSuffix("answered 200 OK"))
        await server.stop()
    }

    @Test("A secret file that is gone at delivery: transient, and nothing is sent")
    func secretGone() async throws {
        let server = try await TestHTTPServer.start("webhook-secret-gone")
        let directory = try MailTest.scratch("webhook-secret-gone")
        try MailTest.write(Self.secret, to: directory + "/secret")
        let sink = try WebhookSink(
            name: "hook", options: ["url": server.origin + "/", "secret_file": directory + "/secret"])
        try FileManager.default.removeItem(atPath: directory + "/secret")
        let error = await failure(sink)
        #expect(error?.code == .transient)
        #expect(error?.message.contains("cannot read secret_file") == true)
        #expect(try server.requests().isEmpty)
        await server.stop()
    }

    @Test("https with the test CA as ca_file: delivered; trusting another CA: permanent")
    func https() async throws {
        let certificates = try await TestCertificates.shared.value
        let server = try await TestHTTPServer.start(
            "webhook-tls", ["--tls-cert", certificates.certificateFile, "--tls-key", certificates.keyFile])
        let url = "https://localhost:\(server.port)/tls"
        let trusted = try WebhookSink(name: "hook", options: ["url": url, "ca_file": certificates.caFile])
        let receipt = try await trusted.deliver(Self.notice)
        #expect(receipt.detail == "https://localhost:\(server.port) answered 200 OK")
        #expect(try server.requests().first?.header("Host") == "localhost:\(server.port)")

        let untrusted = try WebhookSink(name: "hook", options: ["url": url, "ca_file": certificates.otherCAFile])
        let error = await failure(untrusted)
        #expect(error?.code == .permanent, "\(String(describing: error))")
        #expect(error?.message.contains("certificate") == true, "\(String(describing: error))")
        #expect(try server.requests().count == 1)
        await server.stop()
    }
}

/// The webhook sink's options and URL rules, without a server.
@Suite("Webhook sink options")
struct WebhookSinkOptionsTests {
    func problem(_ options: [String: String], environment: [String: String] = [:]) -> String? {
        do {
            _ = try WebhookSink(name: "hook", options: options, environment: environment)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("URLs: scheme, host, port, target and the Host header")
    func urls() throws {
        let plain = try SinkConfig.WebhookURL(parsing: "http://127.0.0.1:8080/hook?x=1")
        #expect(!plain.isTLS && plain.host == "127.0.0.1" && plain.port == 8080 && plain.target == "/hook?x=1")
        #expect(plain.hostHeader == "127.0.0.1:8080" && plain.origin == "http://127.0.0.1:8080")
        let bare = try SinkConfig.WebhookURL(parsing: "HTTPS://hooks.kommun.example")
        #expect(bare.isTLS && bare.port == 443 && bare.target == "/" && bare.hostHeader == "hooks.kommun.example")
        let query = try SinkConfig.WebhookURL(parsing: "http://localhost?a=b")
        #expect(query.target == "/?a=b" && query.port == 80)
        let v6 = try SinkConfig.WebhookURL(parsing: "http://[::1]:9000/x")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.hostHeader == "[::1]:9000")
    }

    @Test(
        "Unusable URLs are refused with the reason",
        arguments: [
            ("ftp://example.org/", "not an http:// or https:// URL"),
            ("http://user:pw@127.0.0.1/", "secrets never go in config"),
            ("http:///path", "has no host"),
            ("http://127.0.0.1:0/", "port"),
            ("http://127.0.0.1:99999/", "port"),
            ("http://127.0.0.1/a b", "percent-encode"),
            ("http://127.0.0.1/#top", "fragment"),
            ("http://[::1/", "closing ']'"),
        ])
    func badURL(_ url: String, _ reason: String) {
        let message = problem(["url": url])
        #expect(message?.contains(reason) == true, "\(String(describing: message))")
        #expect(message?.hasPrefix("sink 'hook': url: ") == true)
    }

    @Test("Options: url required, timeout form, secret_file readable, ca_file only for https, no stray keys")
    func options() throws {
        #expect(problem([:])?.contains("needs a 'url'") == true)
        #expect(problem(["url": "http://127.0.0.1/", "timeout": "10"])?.contains("timeout must be") == true)
        #expect(problem(["url": "http://127.0.0.1/", "timeout": "2h"])?.contains("at most 1h") == true)
        #expect(
            problem(["url": "http://127.0.0.1/", "secret_file": "/nonexistent/secret"])?.contains("cannot read") == true
        )
        #expect(
            problem(["url": "http://127.0.0.1/", "secret_file": "hook-secret"])?.contains("CREDENTIALS_DIRECTORY")
                == true)
        #expect(problem(["url": "http://127.0.0.1/", "ca_file": "/etc/hosts"])?.contains("only for an https") == true)
        #expect(problem(["url": "http://127.0.0.1/", "method": "PUT"])?.contains("does not take 'method'") == true)
        let sink = try WebhookSink(name: "hook", options: ["url": "http://127.0.0.1/", "timeout": "1500ms"])
        #expect(sink.timeout == .milliseconds(1500))
        #expect(try WebhookSink(name: "hook", options: ["url": "http://127.0.0.1/"]).timeout == .seconds(10))
    }

    @Test(
        "Time limits in config",
        arguments: [
            ("10s", Duration.seconds(10)), ("500ms", .milliseconds(500)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
            ("0s", nil), ("10", nil), ("1.5s", nil), ("-1s", nil), ("61m", nil), ("s", nil), ("10 s", nil),
        ] as [(String, Duration?)])
    func timeLimits(_ text: String, _ expected: Duration?) {
        #expect(SinkConfig.timeLimit(text) == expected)
    }

    @Test("Excerpts are one line of printable text, bounded")
    func excerpt() {
        #expect(WebhookSink.excerpt(Array("  a\r\n\tb\u{7}c  ".utf8)) == "a b c")
        #expect(WebhookSink.excerpt([]) == nil)
        let long = WebhookSink.excerpt([UInt8](repeating: UInt8(ascii: "x"), count: 100_000)) ?? ""
        #expect(long.count == 201 && long.hasSuffix("…"))
    }
}
