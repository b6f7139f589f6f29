import Foundation
import SamverkanCore
import Testing

@Suite("local dates")
struct LocalDateTests {
    @Test(
        "printed as YYYY-MM-DD, the year padded to four digits, longer or signed years as they are",
        arguments: [
            (2026, 11, 2, "2026-11-02"), (2026, 1, 31, "2026-01-31"), (1999, 12, 9, "1999-12-09"),
            (9999, 12, 31, "9999-12-31"), (999, 3, 4, "0999-03-04"), (5, 10, 10, "0005-10-10"),
            (0, 1, 1, "0000-01-01"), (10000, 1, 1, "10000-01-01"), (-1, 6, 7, "-1-06-07"),
        ])
    func description(year: Int, month: Int, day: Int, text: String) throws {
        let date = try #require(LocalDate(year: year, month: month, day: day))
        #expect(date.description == text)
        #expect("\(date)" == text)
    }

    @Test("every day from 1900 to 2200 prints as %04d-%02d-%02d and reads back")
    func everyDay() throws {
        let first = try #require(LocalDate(year: 1900, month: 1, day: 1)).dayNumber
        let last = try #require(LocalDate(year: 2200, month: 12, day: 31)).dayNumber
        for day in first...last {
            let date = LocalDate(dayNumber: day)
            let text = String(format: "%04d-%02d-%02d", date.year, date.month, date.day)
            guard date.description == text, LocalDate(iso: date.description) == date else {
                Issue.record("day \(day): \(date.description), expected \(text)")
                return
            }
        }
    }
}
