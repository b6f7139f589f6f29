#!/usr/bin/python3
"""python-dateutil as the oracle for RecurrenceRule (design.md, "Recurrence"; platform.md 6.3).

Usage: rrule_oracle.py INPUT OUTPUT

INPUT has one case a line, `RULE<TAB>DTSTART<TAB>FROM<TAB>THROUGH`, dates as YYYY-MM-DD.
OUTPUT gets one line per input line, in the same order: `OK<TAB>` and the occurrences as
comma-separated YYYY-MM-DD, or `ERR<TAB>` and what dateutil raised.

Each rule runs with dtstart=datetime(DTSTART, 09:00) and the occurrences are those of
between(FROM 00:00, THROUGH 23:59:59, inc=True). Two adjustments, both deliberate:

- UNTIL is a date in our rules and bounds inclusively, whatever time follows it (design.md);
  dateutil would compare 09:00 occurrences with UNTIL's own time (midnight for a bare
  date), so UNTIL is handed over as that date at 23:59:59, without a zone.
- dateutil's iterator only gives up on a rule that stops matching when the year passes
  datetime.MAXYEAR (9999): a rule that never fires would scan eight millennia. Lowering
  MAXYEAR to THROUGH's year + 1 truncates the sequence after everything this window can
  contain, and changes nothing before it.

Exit status: 0 on success (per-rule errors are reported in OUTPUT), 3 when dateutil is missing.
"""

import datetime
import sys

try:
    from dateutil.rrule import rrulestr
except ImportError:
    sys.stderr.write(
        "rrule_oracle.py: python-dateutil is not installed for %s; "
        "install it with `apt-get install python3-dateutil`\n" % sys.executable
    )
    sys.exit(3)


def parse_date(text):
    return datetime.date.fromisoformat(text)


def until_as_end_of_day(rule):
    if rule[:6].upper() == "RRULE:":
        rule = rule[6:]
    parts = []
    for part in rule.split(";"):
        name, _, value = part.partition("=")
        if name.upper() == "UNTIL":
            value = value[:8] + "T235959"
        parts.append(name + "=" + value)
    return ";".join(parts)


def occurrences(rule, dtstart, first, last):
    datetime.MAXYEAR = last.year + 1
    try:
        recurrence = rrulestr(until_as_end_of_day(rule), dtstart=datetime.datetime(dtstart.year, dtstart.month, dtstart.day, 9, 0))
        found = recurrence.between(
            datetime.datetime(first.year, first.month, first.day, 0, 0),
            datetime.datetime(last.year, last.month, last.day, 23, 59, 59),
            inc=True,
        )
    finally:
        datetime.MAXYEAR = 9999
    return [d.date().isoformat() for d in found]


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: rrule_oracle.py INPUT OUTPUT\n")
        return 2
    with open(sys.argv[1], encoding="utf-8") as source, open(sys.argv[2], "w", encoding="utf-8") as sink:
        for line in source:
            line = line.rstrip("\n")
            if not line:
                continue
            try:
                rule, dtstart, first, last = line.split("\t")
                found = occurrences(rule, parse_date(dtstart), parse_date(first), parse_date(last))
                sink.write("OK\t" + ",".join(found) + "\n")
            except Exception as error:  # reported per rule; the Swift test fails on it
                sink.write("ERR\t%s: %s\n" % (type(error).__name__, error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
