import Foundation
import SamverkanCore
import SamverkanTestSupport
import Testing

/// `LocalDate` from an ISO literal in a test table.
private func d(_ iso: String) -> LocalDate {
    guard let date = LocalDate(iso: iso) else { fatalError("bad test date \(iso)") }
    return date
}

private let statutory = SwedishCalendar()

private let weekdayNames = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

@Suite("SwedishCalendar")
struct SwedishCalendarTests {
    // MARK: domain.md §6 test vectors

    /// The holiday table of domain.md §6: name, kind, and "MM-DD Ddd" for 2025, 2026, 2027.
    static let holidayTable: [(String, Holiday.Kind, [String])] = [
        ("nyårsdagen", .helgdag, ["01-01 Wed", "01-01 Thu", "01-01 Fri"]),
        ("trettondedag jul", .helgdag, ["01-06 Mon", "01-06 Tue", "01-06 Wed"]),
        ("långfredagen", .helgdag, ["04-18 Fri", "04-03 Fri", "03-26 Fri"]),
        ("påskdagen", .helgdag, ["04-20 Sun", "04-05 Sun", "03-28 Sun"]),
        ("annandag påsk", .helgdag, ["04-21 Mon", "04-06 Mon", "03-29 Mon"]),
        ("första maj", .helgdag, ["05-01 Thu", "05-01 Fri", "05-01 Sat"]),
        ("Kristi himmelsfärdsdag", .helgdag, ["05-29 Thu", "05-14 Thu", "05-06 Thu"]),
        ("pingstdagen", .helgdag, ["06-08 Sun", "05-24 Sun", "05-16 Sun"]),
        ("Sveriges nationaldag", .helgdag, ["06-06 Fri", "06-06 Sat", "06-06 Sun"]),
        ("midsommarafton", .deFactoNonWorking, ["06-20 Fri", "06-19 Fri", "06-25 Fri"]),
        ("midsommardagen", .helgdag, ["06-21 Sat", "06-20 Sat", "06-26 Sat"]),
        ("alla helgons dag", .helgdag, ["11-01 Sat", "10-31 Sat", "11-06 Sat"]),
        ("julafton", .deFactoNonWorking, ["12-24 Wed", "12-24 Thu", "12-24 Fri"]),
        ("juldagen", .helgdag, ["12-25 Thu", "12-25 Fri", "12-25 Sat"]),
        ("annandag jul", .helgdag, ["12-26 Fri", "12-26 Sat", "12-26 Sun"]),
        ("nyårsafton", .deFactoNonWorking, ["12-31 Wed", "12-31 Thu", "12-31 Fri"]),
    ]

    @Test("holiday table 2025–2027 (domain.md §6)", arguments: holidayTable)
    func holidayVector(name: String, kind: Holiday.Kind, days: [String]) throws {
        for (year, cell) in zip(2025...2027, days) {
            let parts = cell.split(separator: " ")
            let date = d("\(year)-\(parts[0])")
            #expect(weekdayNames[date.weekday] == String(parts[1]), "\(date) is not a \(parts[1])")
            let listed = try statutory.holidays(in: year)
            #expect(listed.contains(Holiday(date: date, name: name, kind: kind)), "\(name) \(year)")
            #expect(listed.filter { $0.name == name }.count == 1, "\(name) listed once in \(year)")
            #expect(try statutory.isWorkingDay(date) == false)
            #expect(try statutory.nonWorkingReason(date) == name)
        }
    }

    @Test("each year lists exactly the 16 holidays of the table, sorted", arguments: 2025...2027)
    func holidayListIsComplete(year: Int) throws {
        let listed = try statutory.holidays(in: year)
        #expect(listed.count == Self.holidayTable.count)
        #expect(listed.map(\.date) == listed.map(\.date).sorted())
        #expect(Set(listed.map(\.name)) == Set(Self.holidayTable.map(\.0)))
    }

    @Test("working days per year (domain.md §6)", arguments: [(2025, 249), (2026, 251), (2027, 253)])
    func workingDayCount(year: Int, expected: Int) throws {
        #expect(try statutory.workingDayCount(in: year) == expected)
        let first = d("\(year)-01-01")
        let days = (0..<(first.isLeapYear ? 366 : 365)).map { first.adding(days: $0) }
        #expect(try days.filter { try statutory.isWorkingDay($0) }.count == expected)
    }

    /// Shift vectors of domain.md §6: date, statutory move forward, reminder move back.
    @Test(
        "shift table (domain.md §6)",
        arguments: [
            ("2025-12-24", "2025-12-29", "2025-12-23"),
            ("2026-04-03", "2026-04-07", "2026-04-02"),
            ("2026-06-19", "2026-06-22", "2026-06-18"),
            ("2026-10-31", "2026-11-02", "2026-10-30"),
            ("2026-12-31", "2027-01-04", "2026-12-30"),
            ("2027-12-24", "2027-12-27", "2027-12-23"),
        ])
    func shift(date: String, forward: String, back: String) throws {
        #expect(try statutory.nextWorkingDay(onOrAfter: d(date)) == d(forward))
        #expect(try statutory.previousWorkingDay(onOrBefore: d(date)) == d(back))
    }

    @Test("a working day does not move", arguments: ["2026-03-06", "2026-04-07", "2005-01-03", "2200-12-30"])
    func workingDayStays(date: String) throws {
        #expect(try statutory.isWorkingDay(d(date)))
        #expect(try statutory.nonWorkingReason(d(date)) == nil)
        #expect(try statutory.nextWorkingDay(onOrAfter: d(date)) == d(date))
        #expect(try statutory.previousWorkingDay(onOrBefore: d(date)) == d(date))
    }

    // MARK: The 2005 law and its corner cases

    @Test("2005 rules: nationaldagen is a helgdag, annandag pingst is not")
    func lawOf2005() throws {
        #expect(try statutory.nonWorkingReason(d("2005-06-06")) == "Sveriges nationaldag")  // a Monday
        #expect(try statutory.holidays(on: d("2005-05-15")).map(\.name) == ["pingstdagen"])
        #expect(try statutory.isWorkingDay(d("2005-05-16")))  // annandag pingst, a Monday
        #expect(try statutory.holidays(in: 2005).allSatisfy { $0.name != "annandag pingst" })
    }

    @Test(
        "two holidays on one date are both listed, in calendar order",
        arguments: [
            ("2008-05-01", ["första maj", "Kristi himmelsfärdsdag"]),
            ("2049-06-06", ["pingstdagen", "Sveriges nationaldag"]),
        ])
    func sharedDate(date: String, names: [String]) throws {
        #expect(try statutory.holidays(on: d(date)).map(\.name) == names)
        #expect(try statutory.nonWorkingReason(d(date)) == names.joined(separator: " och "))
        #expect(try statutory.holidays(in: d(date).year).count == 16)
    }

    @Test(
        "reason: holiday before weekday, weekday before closed day",
        arguments: [
            ("2026-06-06", "Sveriges nationaldag"),  // Saturday
            ("2027-12-26", "annandag jul"),  // Sunday
            ("2026-06-13", "lördag"),
            ("2026-06-14", "söndag"),
            ("2026-05-15", "closed day (closed_days)"),  // Friday after Kristi himmelsfärdsdag
            ("2026-05-16", "lördag"),  // closed and a Saturday
            ("2026-05-14", "Kristi himmelsfärdsdag"),  // closed and a holiday
            ("2026-05-18", nil),
        ] as [(String, String?)])
    func reason(date: String, expected: String?) throws {
        let calendar = SwedishCalendar(closedDays: [d("2026-05-14"), d("2026-05-15"), d("2026-05-16")])
        #expect(try calendar.nonWorkingReason(d(date)) == expected)
        #expect(try calendar.isWorkingDay(d(date)) == (expected == nil))
    }

    @Test("Easter by Meeus/Jones/Butcher, extremes included")
    func easter() {
        #expect(SwedishCalendar.easterSunday(year: 2008) == d("2008-03-23"))
        #expect(SwedishCalendar.easterSunday(year: 2038) == d("2038-04-25"))  // latest possible
        #expect(SwedishCalendar.easterSunday(year: 2285) == d("2285-03-22"))  // earliest possible
        #expect(SwedishCalendar.easterSunday(year: 2026) == d("2026-04-05"))
    }

    // MARK: closed_days

    @Test("closed days are non-working but not holidays")
    func closedDays() throws {
        let klamdag = d("2026-05-15")
        let calendar = SwedishCalendar(closedDays: [klamdag, d("2026-05-16")])  // the Saturday changes nothing
        #expect(try calendar.isWorkingDay(klamdag) == false)
        #expect(try statutory.isWorkingDay(klamdag))
        #expect(try calendar.holidays(in: 2026) == statutory.holidays(in: 2026))
        #expect(try calendar.workingDayCount(in: 2026) == 250)
        #expect(try calendar.nextWorkingDay(onOrAfter: d("2026-05-14")) == d("2026-05-18"))
        #expect(try calendar.previousWorkingDay(onOrBefore: d("2026-05-17")) == d("2026-05-13"))
        #expect(try calendar.addingWorkingDays(1, to: d("2026-05-13")) == d("2026-05-18"))
        #expect(try calendar.addingWorkingDays(-2, to: d("2026-05-19")) == d("2026-05-13"))
        #expect(SwedishCalendar(closedDays: [klamdag]) == SwedishCalendar(closedDays: [klamdag]))
        #expect(SwedishCalendar(closedDays: [klamdag]) != statutory)
        // Closed days outside the supported range are kept but never consulted.
        let far = SwedishCalendar(closedDays: [d("1999-01-04"), d("2300-01-04")])
        #expect(try far.workingDayCount(in: 2026) == 251)
    }

    // MARK: Working-day arithmetic

    @Test(
        "addingWorkingDays: start day never counts",
        arguments: [
            ("2026-03-06", -5, "2026-02-27"),  // domain.md §7.2 C
            ("2026-03-06", -1, "2026-03-05"),
            ("2026-03-06", 1, "2026-03-09"),
            ("2026-03-06", 0, "2026-03-06"),
            ("2026-03-07", 0, "2026-03-07"),  // 0 never moves, even a Saturday
            ("2026-03-07", 1, "2026-03-09"),  // Saturday +1: Monday
            ("2026-03-07", -1, "2026-03-06"),  // Saturday −1: Friday
            ("2026-03-08", -5, "2026-03-02"),
            ("2026-04-07", -1, "2026-04-02"),  // over the Easter weekend
            ("2026-04-02", 1, "2026-04-07"),
            ("2026-12-30", 1, "2027-01-04"),  // over nyårsafton, nyårsdagen and a weekend
            ("2027-01-04", -1, "2026-12-30"),
            ("2025-12-19", 5, "2026-01-02"),  // over julafton, juldagen, annandag jul, nyår
            ("2026-01-02", -5, "2025-12-19"),
            ("2026-01-07", -3, "2025-12-30"),  // trettondedag jul skipped
            ("2026-01-01", 251, "2026-12-30"),  // all 251 working days of 2026
            ("2026-01-01", 252, "2027-01-04"),
            ("2005-01-03", 0, "2005-01-03"),  // first working day of the range
            ("2005-01-04", -1, "2005-01-03"),
            ("2200-12-30", 0, "2200-12-30"),  // last working day of the range
            ("2200-12-29", 1, "2200-12-30"),
        ])
    func addingWorkingDays(from: String, n: Int, expected: String) throws {
        #expect(try statutory.addingWorkingDays(n, to: d(from)) == d(expected))
    }

    @Test("addingWorkingDays agrees with counting working days, every start in 2025–2027")
    func addingWorkingDaysProperty() throws {
        let first = d("2025-01-01")
        for offset in 0..<(3 * 365 + 1) {
            let start = first.adding(days: offset)
            for n in [-25, -7, -5, -2, -1, 1, 2, 5, 7, 25] {
                let result = try statutory.addingWorkingDays(n, to: start)
                #expect(try statutory.isWorkingDay(result))
                let (low, high) = n > 0 ? (start, result) : (result, start)
                var between = 0
                var day = low.adding(days: 1)
                while day < high {
                    if try statutory.isWorkingDay(day) { between += 1 }
                    day = day.adding(days: 1)
                }
                #expect(between == abs(n) - 1, "\(n) from \(start) gave \(result)")
                if try statutory.isWorkingDay(start) {
                    #expect(try statutory.addingWorkingDays(-n, to: result) == start)
                }
            }
        }
    }

    // MARK: Outside 2005–2200

    @Test("years outside 2005–2200 are refused", arguments: [1900, 2004, 2201, 3000])
    func yearOutOfRange(year: Int) {
        #expect(throws: CalendarError.self) { try statutory.holidays(in: year) }
        #expect(throws: CalendarError.self) { try statutory.workingDayCount(in: year) }
        let date = d("\(year)-06-15")
        func expectOutside(_ operation: String, _ body: () throws -> Void) {
            let error = #expect(throws: CalendarError.self, "\(operation) accepted \(date)", performing: body)
            #expect(error?.code == .outsideSupportedYears, "\(operation)")
            #expect(error?.year == year, "\(operation)")
            #expect(error?.date == date, "\(operation)")
        }
        expectOutside("isWorkingDay") { _ = try statutory.isWorkingDay(date) }
        expectOutside("nonWorkingReason") { _ = try statutory.nonWorkingReason(date) }
        expectOutside("holidays(on:)") { _ = try statutory.holidays(on: date) }
        expectOutside("nextWorkingDay") { _ = try statutory.nextWorkingDay(onOrAfter: date) }
        expectOutside("previousWorkingDay") { _ = try statutory.previousWorkingDay(onOrBefore: date) }
        expectOutside("addingWorkingDays") { _ = try statutory.addingWorkingDays(0, to: date) }
    }

    @Test(
        "walking off either end of the range throws, naming the first date outside",
        arguments: [
            ("2005-01-02", "previous", "2004-12-31"),  // 2005-01-01 nyårsdagen, 01-02 a Sunday
            ("2005-01-03", "-1", "2004-12-31"),
            ("2005-01-10", "-6", "2004-12-31"),
            ("2200-12-31", "next", "2201-01-01"),  // nyårsafton
            ("2200-12-30", "+1", "2201-01-01"),
            ("2200-12-01", "+100", "2201-01-01"),
        ])
    func walkingOffTheRange(from: String, operation: String, outside: String) {
        let start = d(from)
        do throws(CalendarError) {
            let result: LocalDate
            switch operation {
            case "next": result = try statutory.nextWorkingDay(onOrAfter: start)
            case "previous": result = try statutory.previousWorkingDay(onOrBefore: start)
            default:
                result = try statutory.addingWorkingDays(Int(operation) ?? 0, to: start)
            }
            Issue.record("\(operation) from \(from) gave \(result) instead of throwing")
        } catch {
            #expect(error.code == .outsideSupportedYears)
            #expect(error.date == d(outside))
            #expect(
                error.message.hasPrefix(
                    "working days are only known for 2005–2200 (Lag 1989:253 as amended by SFS 2004:1320); "
                        + "\(outside) is outside ("),
                "\(error.message)")
            #expect(error.message.contains(from), "\(error.message)")
        }
    }

    @Test("error messages say what is outside and why")
    func errorMessages() {
        #expect(throws: CalendarError.self) { try statutory.holidays(in: 2204) }
        do throws(CalendarError) {
            _ = try statutory.isWorkingDay(d("2204-01-02"))
        } catch {
            #expect(
                error.message
                    == "working days are only known for 2005–2200 (Lag 1989:253 as amended by SFS 2004:1320); "
                    + "2204-01-02 is outside")
            #expect("\(error)" == error.message)
        }
        do throws(CalendarError) {
            _ = try statutory.holidays(in: 2004)
        } catch {
            #expect(error.message.hasSuffix("; the year 2004 is outside"))
            #expect(error.date == nil)
        }
    }

    @Test("the first and last days of the range are known")
    func rangeEdges() throws {
        #expect(try statutory.nonWorkingReason(d("2005-01-01")) == "nyårsdagen")
        #expect(try statutory.nonWorkingReason(d("2200-12-31")) == "nyårsafton")
        #expect(try statutory.workingDayCount(in: 2005) > 240)
        #expect(try statutory.workingDayCount(in: 2200) > 240)
    }

    // MARK: The independent oracle, 2005–2200

    /// Runs `Oracles/holidays_oracle.py` (python-dateutil's Easter, the statute written again in
    /// Python) and compares every year's holidays (date, name, kind), working-day count and the
    /// working/non-working status of every single day.
    @Test("2005–2200 agree with the Python/dateutil oracle")
    func oracle() async throws {
        let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Oracles/holidays_oracle.py")
        let output = try await runOracle(oracle)
        var holidays: [Int: [String]] = [:]
        var counts: [Int: Int] = [:]
        var flags: [Int: String] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch (fields.first, fields.count) {
            case ("holiday", 4):
                let year = try #require(Int(fields[1].prefix(4)))
                holidays[year, default: []].append("\(fields[1]) \(fields[2]) \(fields[3])")
            case ("count", 3):
                let year = try #require(Int(fields[1]))
                let count = try #require(Int(fields[2]))
                counts[year] = count
            case ("days", 3): flags[try #require(Int(fields[1]))] = fields[2]
            default: Issue.record("unexpected oracle line: \(line)")
            }
        }
        let years = SwedishCalendar.supportedYears
        #expect(Set(holidays.keys) == Set(years) && Set(counts.keys) == Set(years) && Set(flags.keys) == Set(years))
        for year in years {
            let swift = try statutory.holidays(in: year).map {
                "\($0.date) \($0.kind == .helgdag ? "helgdag" : "eve") \($0.name)"
            }
            #expect(swift.sorted() == (holidays[year] ?? []).sorted(), "holidays of \(year)")
            #expect(try statutory.workingDayCount(in: year) == counts[year], "working days of \(year)")
            let expected = Array(flags[year] ?? "")
            let first = d("\(year)-01-01")
            let days = (0..<(first.isLeapYear ? 366 : 365)).map { first.adding(days: $0) }
            #expect(expected.count == days.count, "oracle days of \(year)")
            var disagreements: [String] = []
            for (day, flag) in zip(days, expected) where try statutory.isWorkingDay(day) != (flag == "1") {
                disagreements.append("\(day) (oracle: \(flag == "1" ? "working" : "not working"))")
            }
            #expect(disagreements.isEmpty, "working days of \(year) differ: \(disagreements.prefix(5))")
        }
    }

    private func runOracle(_ script: URL) async throws -> String {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("\(python) is missing; the holiday oracle needs it with python3-dateutil")
            throw OracleFailure()
        }
        guard FileManager.default.fileExists(atPath: script.path) else {
            Issue.record("oracle script not found at \(script.path)")
            throw OracleFailure()
        }
        let result = try await ProcessRunner.run(python, [script.path])
        guard result.status == 0 else {
            let message =
                "holiday oracle failed (exit \(result.status)): \(result.stderr)"
                + "; CI must install python3-dateutil for /usr/bin/python3"
            Issue.record("\(message)")
            throw OracleFailure()
        }
        return result.stdout
    }

    private struct OracleFailure: Error {}
}
