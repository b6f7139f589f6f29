/// Waits for a condition, checking it often, until a deadline: never a fixed sleep.
public func eventually(
    timeout: Duration = .seconds(10), _ what: String = "condition", _ condition: () async throws -> Bool
) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
