#!/usr/bin/python3
"""Independent oracle for SwedishCalendar: Swedish non-working days, 2005-2200.

Written from the statutes, not from the Swift code, with python-dateutil's Easter
(dateutil.easter.easter, Western method) and its relativedelta weekday arithmetic.

Rules (in force since 2005-01-01, SFS 2004:1320):
  Lag (1989:253) om allmanna helgdagar, 1 §: every Sunday; nyårsdagen 1/1; trettondedag
  jul 6/1; långfredagen, påskdagen, annandag påsk; första maj 1/5; Kristi himmelsfärdsdag
  (6th Thursday after påskdagen); pingstdagen (7th Sunday after påskdagen); Sveriges
  nationaldag 6/6; midsommardagen (the Saturday in 20-26 June); alla helgons dag (the
  Saturday in 31 Oct-6 Nov); juldagen 25/12; annandag jul 26/12.
  Lag (1930:173) om beräkning av lagstadgad tid, 2 §: midsommarafton, julafton and
  nyårsafton count like helgdagar.

Output, tab-separated, for each year:
  holiday  YYYY-MM-DD  helgdag|eve  NAME     one line per holiday
  count    YYYY        N                     working days of the year
  days     YYYY        0101...               one character per day from 1 January: 1 working, 0 not

Usage: holidays_oracle.py [FIRST_YEAR LAST_YEAR]   (default 2005 2200)
"""

import datetime
import sys

try:
    from dateutil.easter import EASTER_WESTERN, easter
    from dateutil.relativedelta import SA, TH, relativedelta
except ImportError:
    sys.stderr.write(
        "holidays_oracle.py: python-dateutil is not installed for %s; "
        "install it (Debian: apt-get install python3-dateutil)\n" % sys.executable
    )
    sys.exit(3)


def holidays(year):
    """(date, kind, name) for every holiday of `year`."""
    paskdagen = easter(year, EASTER_WESTERN)
    result = [
        (datetime.date(year, 1, 1), "helgdag", "nyårsdagen"),
        (datetime.date(year, 1, 6), "helgdag", "trettondedag jul"),
        (paskdagen - datetime.timedelta(days=2), "helgdag", "långfredagen"),
        (paskdagen, "helgdag", "påskdagen"),
        (paskdagen + datetime.timedelta(days=1), "helgdag", "annandag påsk"),
        (datetime.date(year, 5, 1), "helgdag", "första maj"),
        # Sixth Thursday after påskdagen (påskdagen + 39 days).
        (paskdagen + relativedelta(weeks=+5, weekday=TH(+1)), "helgdag", "Kristi himmelsfärdsdag"),
        # Seventh Sunday after påskdagen.
        (paskdagen + relativedelta(weeks=+7), "helgdag", "pingstdagen"),
        (datetime.date(year, 6, 6), "helgdag", "Sveriges nationaldag"),
    ]
    midsommardagen = datetime.date(year, 6, 20) + relativedelta(weekday=SA(+1))
    assert midsommardagen.month == 6 and 20 <= midsommardagen.day <= 26
    result += [
        (midsommardagen - datetime.timedelta(days=1), "eve", "midsommarafton"),
        (midsommardagen, "helgdag", "midsommardagen"),
        (datetime.date(year, 10, 31) + relativedelta(weekday=SA(+1)), "helgdag", "alla helgons dag"),
        (datetime.date(year, 12, 24), "eve", "julafton"),
        (datetime.date(year, 12, 25), "helgdag", "juldagen"),
        (datetime.date(year, 12, 26), "helgdag", "annandag jul"),
        (datetime.date(year, 12, 31), "eve", "nyårsafton"),
    ]
    return result


def main(argv):
    first, last = (int(argv[1]), int(argv[2])) if len(argv) == 3 else (2005, 2200)
    out = []
    for year in range(first, last + 1):
        listed = holidays(year)
        for day, kind, name in sorted(listed, key=lambda h: (h[0], h[2])):
            out.append("holiday\t%s\t%s\t%s" % (day.isoformat(), kind, name))
        closed = {day for day, _, _ in listed}
        flags = []
        day = datetime.date(year, 1, 1)
        while day.year == year:
            # Python: Monday is 0, Saturday 5, Sunday 6.
            flags.append("0" if day.weekday() >= 5 or day in closed else "1")
            day += datetime.timedelta(days=1)
        out.append("count\t%d\t%d" % (year, flags.count("1")))
        out.append("days\t%d\t%s" % (year, "".join(flags)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)
