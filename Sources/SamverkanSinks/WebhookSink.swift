public import Foundation
import NIOSSL
public import SamverkanConfig
import SamverkanCore

/// POSTs each notice as JSON (the file sink's `json` object, byte for byte) to a URL.
///
/// Headers: `Content-Type: application/json`, `Idempotency-Key: NOTICE_ID` (the same on every
/// retry: `design.md`, identity and idempotency), `User-Agent: samverkand/VERSION`, and with
/// `secret_file` `X-Samverkan-Signature: sha256=HEX`, the HMAC-SHA256 of the exact body bytes
/// under the secret (the file's bytes without their trailing line break, read at each
/// delivery so a rotated secret needs no reload).
///
/// Outcomes (issue 7): 2xx sent; 429, 408, 5xx, no answer within `timeout`, a refused or
/// broken connection: transient; any other 4xx, a 3xx (redirects are not followed) and other
/// codes: permanent. A certificate that does not verify is permanent, like the email sink's.
///
/// Receipts and errors name the URL's origin (`http://host:port`), never its path or query,
/// which often hold a token, and never the secret.
public struct WebhookSink: NoticeSink {
    public let name: String
    public var type: String { "webhook" }
    public let url: SinkConfig.WebhookURL
    /// The file holding the signing secret; nil: requests are not signed.
    public let secretFile: String?
    /// For the whole exchange: connecting, sending, and the answer.
    public let timeout: Duration
    private let tlsContext: NIOSSLContext?

    public static let optionKeys = ["url", "secret_file", "timeout", "ca_file"]
    public static let defaultTimeout: Duration = .seconds(10)

    /// A sink for `url`; `additionalTrustRootFiles` are PEM files of CAs trusted for https
    /// besides the system's.
    public init(
        name: String, url: SinkConfig.WebhookURL, secretFile: String? = nil, timeout: Duration = Self.defaultTimeout,
        additionalTrustRootFiles: [String] = []
    ) throws(SinkOptionError) {
        self.name = name
        self.url = url
        self.secretFile = secretFile
        self.timeout = timeout
        guard url.isTLS else {
            tlsContext = nil
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .default
        tls.additionalTrustRoots = additionalTrustRootFiles.map { .file($0) }
        do {
            tlsContext = try NIOSSLContext(configuration: tls)
        } catch {
            let files = additionalTrustRootFiles.joined(separator: ", ")
            throw SinkOptionError(
                "sink '\(name)': cannot set up TLS (trust roots: system\(files.isEmpty ? "" : ", " + files)): \(error)")
        }
    }

    /// A sink from the `options` of its `sinks:` entry in `samverkand.yaml`: `url` (required,
    /// http or https), `secret_file` (an absolute path, or a systemd credential's name read from
    /// `$CREDENTIALS_DIRECTORY`), `timeout` (default 10s), `ca_file` (https only).
    ///
    /// Checks that the secret file can be read now, so a mistake shows at load.
    public init(
        name: String, options: [String: String],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SinkOptionError) {
        func fail(_ message: String) -> SinkOptionError { SinkOptionError("sink '\(name)': \(message)") }
        for key in options.keys.sorted() where !Self.optionKeys.contains(key) {
            throw fail("a webhook sink does not take '\(key)' (it takes: \(Self.optionKeys.joined(separator: ", ")))")
        }
        guard let text = options["url"] else {
            throw fail("a webhook sink needs a 'url', e.g. http://127.0.0.1:8080/samverkan")
        }
        let url: SinkConfig.WebhookURL
        do {
            url = try SinkConfig.WebhookURL(parsing: text)
        } catch {
            throw fail("url: \(error.message)")
        }
        var timeout = Self.defaultTimeout
        if let text = options["timeout"] {
            guard let parsed = SinkConfig.timeLimit(text) else {
                throw fail("timeout must be \(SinkConfig.timeLimitForm), found '\(text)'")
            }
            timeout = parsed
        }
        var secretFile: String?
        if let value = options["secret_file"] {
            do {
                secretFile = try SecretFile.path(value, key: "secret_file", environment: environment)
            } catch {
                throw fail(error.message)
            }
        }
        var roots: [String] = []
        if let caFile = options["ca_file"] {
            guard url.isTLS else { throw fail("ca_file is only for an https url") }
            guard caFile.hasPrefix("/") else { throw fail("ca_file must be an absolute path, found '\(caFile)'") }
            guard access(caFile, R_OK) == 0 else {
                throw fail("cannot read ca_file \(caFile): \(String(cString: strerror(errno)))")
            }
            roots = [caFile]
        }
        try self.init(
            name: name, url: url, secretFile: secretFile, timeout: timeout, additionalTrustRootFiles: roots)
    }

    public func deliver(_ notice: OutgoingNotice) async throws(SinkError) -> DeliveryReceipt {
        let body = try notice.jsonBytes()
        // Ids are slugs joined by `/`; anything else in a header would be a bug upstream.
        guard notice.id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw SinkError(.permanent, "notice id \(notice.id.debugDescription) cannot be an Idempotency-Key header")
        }
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("Idempotency-Key", notice.id),
            ("User-Agent", "samverkand/\(SamverkanVersion.current)"),
        ]
        if let secretFile {
            let mac = SHA256.hmac(key: try secret(secretFile), message: body)
            headers.append(("X-Samverkan-Signature", "sha256=" + SHA256.hex(mac)))
        }
        let origin = url.origin
        let response = try await HTTPPost(
            url: url, headers: headers, body: body, timeout: timeout, tlsContext: tlsContext
        ).send()
        let status = "\(response.status)\(response.reason.isEmpty ? "" : " " + response.reason)"
        let said = Self.excerpt(response.body).map { ": " + $0 } ?? ""
        switch response.status {
        case 200..<300:
            return DeliveryReceipt(detail: "\(origin) answered \(status)")
        case 408, 429, 500..<600:
            let retryAfter =
                response.header("Retry-After").map { " (Retry-After: \(Self.sanitised($0, limit: 40)))" } ?? ""
            throw SinkError(.transient, "\(origin) answered \(status)\(retryAfter)\(said); will retry")
        case 300..<400:
            throw SinkError(
                .permanent, "\(origin) answered \(status): redirects are not followed; put the final address in url")
        default:
            throw SinkError(.permanent, "\(origin) answered \(status)\(said)")
        }
    }

    /// The signing secret, read now. Unreadable is transient (a credential being replaced);
    /// empty or too large is permanent.
    private func secret(_ path: String) throws(SinkError) -> [UInt8] {
        switch SecretFile.read(path) {
        case .success(let bytes): return bytes
        case .failure(.unreadable(let reason)):
            throw SinkError(.transient, "cannot read secret_file \(path): \(reason)")
        case .failure(.empty): throw SinkError(.permanent, "secret_file \(path) is empty")
        case .failure(.tooLarge):
            throw SinkError(.permanent, "secret_file \(path) holds more than \(SecretFile.limit) bytes")
        }
    }

    /// The start of a response body for an error message: one line of printable text, at
    /// most 200 characters; nil when there is nothing to show.
    static func excerpt(_ body: [UInt8]) -> String? {
        let text = sanitised(String(decoding: body.prefix(4096), as: UTF8.self), limit: 200)
        return text.isEmpty ? nil : text
    }

    /// `text` with control characters as spaces, runs of white space as one, trimmed, and cut
    /// to `limit` characters with an ellipsis.
    static func sanitised(_ text: String, limit: Int) -> String {
        var result = ""
        var pendingSpace = false
        for character in text {
            if character.isWhitespace
                || character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace { result.append(" ") }
            pendingSpace = false
            result.append(character)
            if result.count > limit { return String(result.prefix(limit)) + "…" }
        }
        return result
    }
}
