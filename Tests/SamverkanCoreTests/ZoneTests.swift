import Foundation
import SamverkanCore
import Testing

/// The offset table agrees with Foundation's own conversion, hour by hour, across years.
@Suite("zone")
struct ZoneTests {
    @Test(
        "local time and offsets match Foundation's Calendar for every hour 2024–2031",
        arguments: ["Europe/Stockholm", "America/New_York", "UTC", "Australia/Lord_Howe"])
    func matchesFoundation(identifier: String) throws {
        let zone = try #require(Zone(identifier: identifier))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.timeZone
        let start = Int(Date(timeIntervalSince1970: 1_704_067_200).timeIntervalSince1970)  // 2024-01-01Z
        for hour in stride(from: 0, to: 8 * 366 * 24, by: 7) {
            let instant = Date(timeIntervalSince1970: TimeInterval(start + hour * 3600 + 1234))
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
            let local = zone.local(instant)
            #expect(local.date == LocalDate(year: c.year!, month: c.month!, day: c.day!))
            #expect(local.time == LocalTime(hour: c.hour!, minute: c.minute!, second: c.second!))
            #expect(zone.offset(at: instant) == zone.timeZone.secondsFromGMT(for: instant))
            // Round trip: an existing, unambiguous wall time resolves to the instant it came from,
            // or (in a fold) to the first of the two.
            let back = zone.instant(local)
            #expect(back == instant || zone.local(back) == local)
        }
    }

    @Test("resolve matches Foundation's date(from:) on DST days (gap forward, fold first)")
    func resolveMatchesFoundation() throws {
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.timeZone
        for day in ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"] {
            let date = try #require(LocalDate(iso: day))
            for minute in stride(from: 0, to: 24 * 60, by: 15) {
                let time = try #require(LocalTime(hour: minute / 60, minute: minute % 60))
                let ours = zone.instant(LocalDateTime(date: date, time: time))
                let theirs = calendar.date(
                    from: DateComponents(
                        year: date.year, month: date.month, day: date.day, hour: time.hour, minute: time.minute))
                #expect(ours == theirs, "\(day) \(time)")
            }
        }
    }

    @Test("RFC 3339 round trip with offset")
    func rfc3339() throws {
        let zone = try #require(Zone(identifier: "Europe/Stockholm"))
        for text in ["2026-11-02T09:00:00+01:00", "2026-06-18T09:00:00+02:00", "2026-03-29T03:30:00+02:00"] {
            let instant = try #require(Zone.parseRFC3339(text))
            #expect(zone.rfc3339(instant) == text)
        }
        #expect(Zone.parseRFC3339("2026-11-02T08:00:00Z") == Zone.parseRFC3339("2026-11-02T09:00:00+01:00"))
        #expect(Zone.parseRFC3339("2026-11-02 09:00") == nil)
    }
}
