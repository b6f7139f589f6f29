"""Parses messages with Python's email package, as a receiving mail program would.

usage: parse_mail.py FILE...   prints a JSON list, one object per file:
  headers: {name: [decoded values]}, raw_headers: [header lines as sent],
  body: the decoded text (get_content()), defects: [...], line_endings: "crlf"|"lf"|"mixed",
  longest_line: the longest line in bytes, without its line ending,
  date: the Date header parsed, as ISO 8601 with offset.
"""

import email.policy
import email.utils
import json
import sys
from email.parser import BytesParser


def describe(path):
    raw = open(path, "rb").read()
    message = BytesParser(policy=email.policy.default).parsebytes(raw)
    crlf = raw.count(b"\r\n")
    lf = raw.count(b"\n")
    endings = "crlf" if crlf == lf else ("lf" if crlf == 0 else "mixed")
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii")
    headers = {}
    for name, value in message.items():
        headers.setdefault(name, []).append(str(value))
    date = message["Date"]
    return {
        "headers": headers,
        "raw_headers": head.split("\n"),
        "body": message.get_content(),
        "defects": [type(d).__name__ for d in message.defects]
        + [type(d).__name__ for part in message.walk() for d in part.defects],
        "line_endings": endings,
        "longest_line": max(len(line) for line in lines),
        "date": date.datetime.isoformat() if date is not None else None,
        "is_ascii": all(b < 0x80 for b in raw),
    }


print(json.dumps([describe(path) for path in sys.argv[1:]], ensure_ascii=False))
