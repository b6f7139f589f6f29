import Foundation
import Logging
import SamverkanControl
import SamverkanCore
import SamverkanStore

#if canImport(Glibc)
    import Glibc
#endif

/// The routes of the control socket (`design.md`, "Control socket").
struct ControlRoutes: ControlHandler {
    let runtime: Runtime
    let logger: Logger
    let adminGroup: String
    /// `SAMVERKAN_FAULT_INJECTION=1` enables `POST /v1/_test/…` routes for the test suite.
    let faultInjection: Bool

    func handle(_ request: ControlRequest) async -> ControlResponse {
        do {
            return try await route(request)
        } catch let error as StoreError {
            return Self.response(for: error)
        } catch let error as ClientError {
            return .error(status: error.status, code: error.code, message: error.message)
        } catch {
            return .error(status: 500, code: "internal", message: "\(error)")
        }
    }

    private func route(_ request: ControlRequest) async throws -> ControlResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        // Everything is under /v1 but the Prometheus scrape path, /metrics.
        let route: [String]
        if segments.first == "v1" {
            route = Array(segments.dropFirst())
        } else if segments == ["metrics"] {
            route = segments
        } else {
            return error(404, "not_found", "no route \(request.method) \(request.path); the API is under /v1")
        }
        switch (request.method, route) {
        case ("GET", ["status"]):
            let status = try await runtime.status()
            guard let body = status.json() else { return json(status) }
            return ControlResponse(status: 200, body: body + [0x0A])
        case ("GET", ["metrics"]) where segments.first == "metrics":
            return ControlResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: Array(try await runtime.prometheus().utf8))
        case ("GET", ["calendar.ics"]):
            return ControlResponse(
                status: 200, contentType: "text/calendar; charset=utf-8",
                body: Array(try await runtime.calendar().utf8))
        case ("GET", ["deadlines"]):
            let within = request.query["within"] ?? "30d"
            guard let seconds = Self.duration(within) else {
                return error(400, "bad_within", "within must be a duration such as 30d, 12h or 2w, not '\(within)'")
            }
            var limit: Int?
            if let text = request.query["limit"] {
                guard let value = Int(text), value > 0 else {
                    return error(400, "bad_limit", "limit must be a positive whole number, not '\(text)'")
                }
                limit = value
            }
            let stateText = request.query["state"] ?? ""
            guard let (states, shown) = Self.states(stateText) else {
                return error(
                    400, "bad_state",
                    "state must be one of upcoming, overdue, planned, done, cancelled or all, not '\(stateText)'")
            }
            let body = try await runtime.deadlinesJSON(
                within: seconds, agreement: request.query["agreement"].flatMap { $0.isEmpty ? nil : $0 },
                kind: request.query["kind"].flatMap { $0.isEmpty ? nil : $0 }, states: states, shown: shown,
                limit: limit)
            return ControlResponse(status: 200, body: body)
        case ("POST", let path) where path.count >= 3 && path[0] == "deadlines" && path.last == "complete":
            if let refusal = await refuseWrite(request) { return refusal }
            let id = path.dropFirst().dropLast().joined(separator: "/")
            let body = try Self.decode(CompleteRequest.self, request.body, allowed: ["note", "role"])
            let result = try await runtime.complete(id: id, role: body.role, note: body.note, by: requester(request))
            journal(request, action: "complete", target: id, detail: body.role.map { "role \($0)" })
            return json(result)
        case ("GET", let path) where path.count >= 2 && path[0] == "deadlines":
            let id = path.dropFirst().joined(separator: "/")
            guard let view = try await runtime.deadline(id: id) else {
                return error(404, "not_found", "no deadline with id '\(id)'; `samverkanctl upcoming` lists the ids")
            }
            return json(view)
        case ("POST", ["cases"]):
            if let refusal = await refuseWrite(request) { return refusal }
            let body = try Self.decode(
                CaseOpenRequest.self, request.body, allowed: ["agreement", "window", "reference", "opened_at"])
            var openedAt: Date?
            if let text = body.openedAt {
                guard let instant = Zone.parseRFC3339(text) else {
                    return error(
                        400, "bad_request", "opened_at must be an RFC 3339 time such as 2026-11-27T14:05:00+01:00")
                }
                openedAt = instant
            }
            let (view, created) = try await runtime.openCase(
                agreement: body.agreement, window: body.window, reference: body.reference, openedAt: openedAt,
                by: requester(request))
            journal(
                request, action: "case-open", target: view.reference,
                detail: "\(body.agreement)/\(body.window)\(created ? "" : " (already open)")")
            return ControlResponse(status: created ? 201 : 200, body: ControlResponse.json(view))
        case ("POST", let path) where path.count == 3 && path[0] == "cases" && path[2] == "close":
            if let refusal = await refuseWrite(request) { return refusal }
            let body = try Self.decode(CaseCloseRequest.self, request.body, allowed: ["outcome"])
            let view = try await runtime.closeCase(reference: path[1], outcome: body.outcome, by: requester(request))
            journal(request, action: "case-close", target: path[1], detail: body.outcome)
            return json(view)
        case ("GET", ["cases"]):
            let state = request.query["state"] ?? ""
            let recentDays: Int?
            switch state {
            case "": recentDays = 7
            case "open": recentDays = nil
            case "all": recentDays = 36_500
            default:
                return error(400, "bad_state", "state must be open or all, not '\(state)'")
            }
            return json(try await runtime.cases(recentDays: recentDays))
        case ("GET", ["agreements"]):
            return json(try await runtime.agreements())
        case ("GET", let path) where path.count == 2 && path[0] == "agreements":
            let id = path[1]
            guard let view = try await runtime.agreements(only: id, limit: nil).first else {
                return error(404, "not_found", "no agreement '\(id)'; `samverkanctl agreements` lists them")
            }
            return json(view)
        case ("POST", let path) where path.count == 3 && path[0] == "sinks" && path[2] == "test":
            if let refusal = await refuseWrite(request) { return refusal }
            let body = try Self.decode(SinkTestRequest.self, request.body, allowed: ["to"])
            let result = await runtime.scheduler.test(sink: path[1], to: body.to)
            let record = result.attempts.first
            await audit(request, action: "test-sink", target: path[1], detail: record?.outcome.rawValue)
            let detail = record?.error ?? ""
            switch result.outcome {
            case .sent:
                return json(SinkTestView(sink: path[1], outcome: "ok", detail: detail))
            case .retry, .deferred:
                return error(503, "sink_unavailable", "sink \(path[1]) failed for now: \(detail)")
            case .dead:
                return detail.hasPrefix("no sink named")
                    ? error(404, "not_found", detail) : error(502, "sink_refused", "sink \(path[1]) refused: \(detail)")
            }
        case ("GET", ["notices"]):
            let state = request.query["state"] ?? "dead"
            guard state == "dead" else {
                return error(400, "bad_state", "state must be dead (the undelivered notices), not '\(state)'")
            }
            return json(try await runtime.undelivered())
        case ("POST", let path) where path.count >= 3 && path[0] == "notices" && path.last == "retry":
            if let refusal = await refuseWrite(request) { return refusal }
            let id = path.dropFirst().dropLast().joined(separator: "/")
            let result = try await runtime.retry(noticeID: id)
            await audit(request, action: "retry", target: id, detail: result.state)
            return json(result)
        case ("POST", ["reload"]):
            if let refusal = await refuseWrite(request) { return refusal }
            // The audit row goes in with the new plan (or on its own when the reload is refused).
            journal(request, action: "reload", target: nil, detail: nil)
            switch await runtime.reload(
                requestedBy: "socket, uid \(request.peer.map { String($0.uid) } ?? "?")", auditBy: requester(request))
            {
            case .success(let view): return json(view)
            case .failure(let failure):
                return .error(status: 422, code: "invalid_config", message: failure.message, details: failure.details)
            }
        case ("POST", ["backup"]):
            // A copy of everything, the audit trail included: for those who may write.
            if let refusal = await refuseWrite(request) { return refusal }
            let bytes = try await runtime.backup()
            await audit(request, action: "backup", target: nil, detail: "\(bytes.count) bytes")
            return ControlResponse(status: 200, contentType: "application/vnd.sqlite3", body: bytes)
        case ("POST", ["_test", "wedge-scheduler"]) where faultInjection:
            if let refusal = await refuseWrite(request) { return refusal }
            logger.warning("fault injection: wedging the scheduler loop")
            await runtime.scheduler.wedge()
            return json(["wedged": true])
        case (_, let path)
        where Self.resources.contains(path.first ?? "") && !(segments.first == "v1" && path == ["metrics"]):
            let allowed = Self.allowedMethods(path)
            var response = ControlResponse.error(
                status: 405, code: "method_not_allowed",
                message: "\(request.method) is not allowed on \(request.path); use \(allowed)")
            response.headers = [("Allow", allowed)]
            return response
        default:
            return error(404, "not_found", "no route \(request.method) \(request.path)")
        }
    }

    /// The body of `POST /v1/deadlines/{id}/complete`; both keys optional.
    struct CompleteRequest: Decodable {
        var note: String?
        var role: String?
    }

    struct CaseOpenRequest: Decodable {
        var agreement: String
        var window: String
        var reference: String?
        var openedAt: String?

        enum CodingKeys: String, CodingKey {
            case agreement, window, reference
            case openedAt = "opened_at"
        }
    }

    struct SinkTestRequest: Decodable {
        var to: String?
    }

    /// `POST /v1/sinks/{name}/test`: what the sink said (`ok`, `transient` or `permanent`).
    struct SinkTestView: Encodable {
        var sink: String
        var outcome: String
        var detail: String
    }

    struct CaseCloseRequest: Decodable {
        var outcome: String
    }

    /// Decodes a JSON object body; an empty body is `{}`. Unknown keys are refused, so a typo
    /// (`"roll"`) is not silently ignored.
    static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], allowed: Set<String>) throws(ClientError) -> T {
        let data = body.isEmpty ? Data("{}".utf8) : Data(body)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ClientError(status: 400, code: "bad_request", message: "the body is not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else {
            throw ClientError(status: 400, code: "bad_request", message: "the body must be a JSON object")
        }
        if let unknown = dictionary.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ClientError(
                status: 400, code: "bad_request",
                message: "unknown key '\(unknown)' in the body; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.typeMismatch(let expected, let context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ClientError(
                status: 400, code: "bad_request",
                message: "'\(key)' must be a \(expected == String.self ? "string" : "\(expected)")")
        } catch DecodingError.keyNotFound(let key, _) {
            throw ClientError(status: 400, code: "bad_request", message: "'\(key.stringValue)' is required")
        } catch DecodingError.valueNotFound(_, let context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ClientError(status: 400, code: "bad_request", message: "'\(key)' must not be null")
        } catch {
            throw ClientError(
                status: 400, code: "bad_request",
                message: "the body does not have the expected shape (keys: \(dictionary.keys.sorted()))")
        }
    }

    /// The methods a resource answers, for the `Allow` header of a 405 (RFC 9110, 15.5.6).
    static func allowedMethods(_ path: [String]) -> String {
        switch path.first {
        case "cases" where path.count == 1: "GET, POST"
        case "cases", "sinks", "reload", "backup": "POST"
        case "deadlines" where path.count >= 3 && path.last == "complete": "POST"
        case "notices" where path.count >= 3 && path.last == "retry": "POST"
        default: "GET"
        }
    }

    /// The first path segments of the routes: another method on one of them is a 405.
    static let resources: Set<String> = [
        "status", "deadlines", "agreements", "cases", "notices", "sinks", "reload", "backup", "calendar.ics", "metrics",
    ]

    /// `state=` of `GET /v1/deadlines`: empty or `planned` for those not done (upcoming and
    /// overdue), `upcoming` or `overdue` for one side of them, `done`, `cancelled`, or `all`;
    /// several may be given separated by commas. Returns the stored states to ask for and, when
    /// only one side of `planned` is wanted, the shown states to keep.
    static func states(_ text: String) -> (Set<DeadlineState>, Set<String>?)? {
        if text.isEmpty { return ([.planned], nil) }
        var states: Set<DeadlineState> = []
        var shown: Set<String> = []
        for name in text.split(separator: ",").map(String.init) {
            switch name {
            case "all": return (Set(DeadlineState.allCases), nil)
            case "upcoming", "overdue":
                states.insert(.planned)
                shown.insert(name)
            case "planned":
                states.insert(.planned)
                shown.formUnion(["upcoming", "overdue"])
            default:
                guard let state = DeadlineState(rawValue: name) else { return nil }
                states.insert(state)
                shown.insert(state.rawValue)
            }
        }
        return (states, shown.isSuperset(of: ["upcoming", "overdue"]) ? nil : shown)
    }

    /// A store error as an HTTP answer: unknown ids are 404, contradictions 409, a role that is
    /// not a respondent 422, anything else 500 (and the daemon keeps serving).
    static func response(for error: StoreError) -> ControlResponse {
        switch error.code {
        case .unknownDeadline, .unknownNotice, .unknownCase:
            .error(status: 404, code: "not_found", message: error.message)
        case .unknownRole, .notARound:
            .error(status: 422, code: "bad_role", message: error.message)
        case .conflict:
            .error(status: 409, code: "conflict", message: error.message)
        default:
            .error(status: 500, code: "store_error", message: error.message)
        }
    }

    private func requester(_ request: ControlRequest) -> Requester {
        Requester(uid: request.peer?.uid, pid: request.peer?.pid)
    }

    /// `30d`, `12h`, `2w`, `90m` in seconds.
    static func duration(_ text: String) -> Int? {
        let units: [Character: Int] = ["d": 86_400, "h": 3600, "w": 604_800, "m": 60]
        guard let unit = text.last, let seconds = units[unit], let n = Int(text.dropLast()), n >= 0 else { return nil }
        return n * seconds
    }

    /// Writes need uid 0, the daemon's own uid, or membership of `admin_group` (`design.md`).
    private func refuseWrite(_ request: ControlRequest) async -> ControlResponse? {
        guard let peer = request.peer else {
            return error(403, "forbidden", "the peer's credentials are unknown; writes are refused")
        }
        if peer.uid == 0 || peer.uid == getuid() || PeerGroups.isMember(uid: peer.uid, group: adminGroup) { return nil }
        await audit(request, action: "refused", target: "\(request.method) \(request.path)", detail: nil)
        return error(
            403, "forbidden",
            "uid \(peer.uid) may read but not write; writes need root, the daemon's user or group \(adminGroup)")
    }

    /// A write through the socket (or a refused one), to the journal and the store's audit
    /// trail, with the peer's uid and pid.
    private func audit(_ request: ControlRequest, action: String, target: String?, detail: String?) async {
        journal(request, action: action, target: target, detail: detail)
        await runtime.audit(action: action, target: target, detail: detail, by: requester(request))
    }

    /// A write through the socket, to the journal: for the writes whose audit row the store
    /// appended in their own transaction.
    private func journal(_ request: ControlRequest, action: String, target: String?, detail: String?) {
        let uid = request.peer.map { String($0.uid) } ?? "?"
        let pid = request.peer.map { String($0.pid) } ?? "?"
        let what = [action, target, detail].compactMap { $0 }.joined(separator: " ")
        logger.notice(
            "control write: \(what) by uid \(uid) pid \(pid)",
            metadata: [
                "message_id": "\(JournalEvent.audit.rawValue)", "samverkan_action": "\(action)",
                "samverkan_peer_uid": "\(request.peer.map { String($0.uid) } ?? "")",
                "samverkan_peer_pid": "\(request.peer.map { String($0.pid) } ?? "")",
            ])
    }

    private func json(_ value: some Encodable) -> ControlResponse {
        ControlResponse(status: 200, body: ControlResponse.json(value))
    }

    private func error(_ status: Int, _ code: String, _ message: String) -> ControlResponse {
        .error(status: status, code: code, message: message)
    }
}

/// Group membership from the group database: the primary group and supplementary groups of a uid.
enum PeerGroups {
    static func isMember(uid: UInt32, group: String) -> Bool {
        guard let groupEntry = getgrnam(group) else { return false }
        let target = groupEntry.pointee.gr_gid
        guard let user = getpwuid(uid) else { return false }
        let primary = user.pointee.pw_gid
        if primary == target { return true }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user.pointee.pw_name, primary, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user.pointee.pw_name, primary, &groups, &count)
        }
        return groups.prefix(Int(max(count, 0))).contains(target)
    }
}
