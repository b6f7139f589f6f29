import Foundation
import SamverkanTestSupport
import Testing

/// The plan of the bundled `Config/` for 2026–2027 is compared with a reviewed file. Any change to
/// a date, an id or a notice shows up here and must be deliberate: regenerate the file with
/// `samverkanctl plan Config --from 2026-01-01 --to 2027-12-31 --json > Tests/IntegrationTests/Golden/plan-2026-2027.json`
/// and review the diff.
@Suite("golden plan of the bundled config")
struct GoldenPlanTests {
    @Test("samverkanctl plan Config --from 2026-01-01 --to 2027-12-31 --json equals the reviewed file")
    func goldenPlan() async throws {
        let result = try await ProcessRunner.run(
            TestEnvironment.ctl,
            [
                "plan", TestEnvironment.repositoryRoot.appendingPathComponent("Config").path, "--from", "2026-01-01",
                "--to", "2027-12-31", "--json",
            ])
        #expect(result.status == 0)
        let data = Data(result.output.utf8)
        let golden = TestEnvironment.repositoryRoot.appendingPathComponent(
            "Tests/IntegrationTests/Golden/plan-2026-2027.json")
        let expected = try Data(contentsOf: golden)
        let actualLines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let expectedLines = String(decoding: expected, as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        let firstDifference = zip(actualLines, expectedLines).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(
            actualLines == expectedLines,
            "first difference at line \(firstDifference.map { "\($0.offset + 1): got \($0.element.0), expected \($0.element.1)" } ?? "(lengths \(actualLines.count) vs \(expectedLines.count))")"
        )
        // The plan is valid JSON with the deadline shape of design.md.
        let deadlines = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(!deadlines.isEmpty)
        for deadline in deadlines {
            #expect(
                Set(deadline.keys).isSuperset(of: [
                    "id", "agreement", "obligation", "kind", "title", "due", "state", "notices",
                ]))
        }
    }
}
