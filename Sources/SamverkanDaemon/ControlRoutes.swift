import Foundation
import Logging
import SamverkanControl
import SamverkanCore

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
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.method, segments.first == "v1" ? Array(segments.dropFirst()) : segments) {
        case ("GET", ["status"]):
            return json(await runtime.status())
        case ("GET", ["metrics"]) where segments.first == "metrics":
            return ControlResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: Array(await runtime.prometheus().utf8))
        case ("GET", ["calendar.ics"]):
            return ControlResponse(
                status: 200, contentType: "text/calendar; charset=utf-8", body: Array(await runtime.calendar().utf8))
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
            return json(
                await runtime.deadlines(
                    within: seconds, agreement: request.query["agreement"].flatMap { $0.isEmpty ? nil : $0 },
                    kind: request.query["kind"].flatMap { $0.isEmpty ? nil : $0 }, limit: limit))
        case ("GET", let path) where path.count >= 2 && path[0] == "deadlines":
            let id = path.dropFirst().joined(separator: "/")
            guard let view = await runtime.deadline(id: id) else {
                return error(404, "not_found", "no deadline with id '\(id)' is planned")
            }
            return json(view)
        case ("POST", ["reload"]):
            if let refusal = refuseWrite(request) { return refusal }
            audit(request, action: "reload")
            switch await runtime.reload(requestedBy: "socket, uid \(request.peer.map { String($0.uid) } ?? "?")") {
            case .success(let view): return json(view)
            case .failure(let failure):
                return .error(status: 422, code: "invalid_config", message: failure.message, details: failure.details)
            }
        case ("POST", ["_test", "wedge-scheduler"]) where faultInjection:
            if let refusal = refuseWrite(request) { return refusal }
            logger.warning("fault injection: wedging the scheduler loop")
            await runtime.scheduler.wedge()
            return json(["wedged": true])
        case (_, ["status"]), (_, ["deadlines"]), (_, ["reload"]):
            return error(405, "method_not_allowed", "\(request.method) is not allowed on \(request.path)")
        default:
            return error(404, "not_found", "no route \(request.method) \(request.path)")
        }
    }

    /// `30d`, `12h`, `2w`, `90m` in seconds.
    static func duration(_ text: String) -> Int? {
        let units: [Character: Int] = ["d": 86_400, "h": 3600, "w": 604_800, "m": 60]
        guard let unit = text.last, let seconds = units[unit], let n = Int(text.dropLast()), n >= 0 else { return nil }
        return n * seconds
    }

    /// Writes need uid 0, the daemon's own uid, or membership of `admin_group` (`design.md`).
    private func refuseWrite(_ request: ControlRequest) -> ControlResponse? {
        guard let peer = request.peer else {
            return error(403, "forbidden", "the peer's credentials are unknown; writes are refused")
        }
        if peer.uid == 0 || peer.uid == getuid() || PeerGroups.isMember(uid: peer.uid, group: adminGroup) { return nil }
        audit(request, action: "refused \(request.method) \(request.path)")
        return error(
            403, "forbidden",
            "uid \(peer.uid) may read but not write; writes need root, the daemon's user or group \(adminGroup)")
    }

    private func audit(_ request: ControlRequest, action: String) {
        logger.notice(
            "control write: \(action) by uid \(request.peer.map { String($0.uid) } ?? "?") pid \(request.peer.map { String($0.pid) } ?? "?")",
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
