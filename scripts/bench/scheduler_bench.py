#!/usr/bin/env python3
"""The scheduler and store benchmarks of samverkand (README, "Benchmarks"), run through the real
daemon and samverkanctl. Driven by scripts/bench/scheduler-bench.sh; python3 stdlib only.

    scheduler_bench.py --samverkand BIN --samverkanctl BIN --work DIR [store] [precision] [atd]

store      About 1,000,000 pending notices: N agreements (default 502), each with a weekly
           collection round of 17 respondents with the lead times [2d, 1d] (35 notices a week:
           17 x 2 reminders and the summary), planned 400 days ahead. The daemon is started once on
           an empty state directory to fill the store (time to READY=1 and peak RSS), stopped with
           SIGTERM and started again; measured: exec -> READY=1, VmHWM at READY, GET /v1/status
           (median of 7), and `samverkanctl reload` after 1% of the agreement files got a new
           `time:` (every deadline of those agreements moves by an hour), with VmHWM after.
precision  1,000 one-off deadlines due at the same second, then (a second daemon, fresh state)
           1,000 spread evenly over a minute; file sink, format json. Latency of a notice = the
           moment its outbox file appears under its final name (IN_MOVED_TO of an inotify watch:
           the sink renames a written and fsynced temporary file into place) - its due instant
           (Europe/Stockholm wall time of the config). Also shown: the file's ctime - due, the
           kernel's own time of the rename (its data is written and fsynced ahead, under a hidden
           name, up to 2 s before the due time).
atd        10,000 one-off jobs with at(1) (`echo true | at -t TIME` per job, as a user types it)
           and their removal (one `atrm` with every id), against the same 10,000 one-off deadlines
           added to the config (10 files x 1,000 obligations) + `samverkanctl reload`, then the files
           removed + `samverkanctl reload` (the store cancels them). Needs atd running (the shell
           script starts it).

Every part prints a table and whether each goal is met; the last lines repeat the goals of all
parts that ran. Exit status 0 even when a goal is missed (that is a result, not an error); 1 when
a part could not be measured.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Stockholm")
MIB = 1024 * 1024
GOALS = []  # (part, text, met)
AT_FIGURES = {}  # jobs -> (queue seconds, remove seconds), measured once per run


def log(message):
    print(f"    {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The daemon under test


class Daemon:
    """One samverkand in the foreground, with NOTIFY_SOCKET pointing at our datagram socket."""

    def __init__(self, binary, config, state, control, logfile):
        self.binary = binary
        self.config = config
        self.state = state
        self.control = control
        self.logfile = logfile
        self.proc = None
        self.notify_path = os.path.join(os.path.dirname(control), "notify.sock")
        self.messages = []  # (monotonic, text)
        self.lock = threading.Condition()
        self.reader = None
        self.sock = None

    def _read_notifications(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode("utf-8", "replace")))
                self.lock.notify_all()

    def start(self, timeout):
        """Starts the daemon; returns (seconds from exec to READY=1, VmHWM bytes, VmRSS bytes)."""
        os.makedirs(os.path.dirname(self.control), exist_ok=True)
        for path in (self.notify_path, self.control):
            if os.path.exists(path):
                os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(self.notify_path)
        self.messages = []
        self.reader = threading.Thread(target=self._read_notifications, daemon=True)
        self.reader.start()
        env = {k: v for k, v in os.environ.items()
               if k not in ("JOURNAL_STREAM", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC",
                            "WATCHDOG_PID", "NOTIFY_SOCKET", "STATE_DIRECTORY", "RUNTIME_DIRECTORY",
                            "CONFIGURATION_DIRECTORY")}
        env["NOTIFY_SOCKET"] = self.notify_path
        out = open(self.logfile, "ab")
        start = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "--config", self.config, "--state", self.state, "--socket", self.control],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        out.close()
        ready_at = self.wait_for("READY=1", after=start, timeout=timeout)
        status = proc_status(self.proc.pid)
        return ready_at - start, status["VmHWM"], status["VmRSS"]

    def wait_for(self, line, after, timeout):
        """The monotonic time of the first notification after `after` with this line."""
        limit = time.monotonic() + timeout
        with self.lock:
            while True:
                for at, text in self.messages:
                    if at >= after and line in text.split("\n"):
                        return at
                if self.proc.poll() is not None:
                    raise BenchError(f"samverkand exited with status {self.proc.returncode} before {line}; "
                                     f"see {self.logfile}:\n{tail(self.logfile)}")
                remaining = limit - time.monotonic()
                if remaining <= 0:
                    raise BenchError(f"no {line} from samverkand within {timeout} s; see {self.logfile}")
                self.lock.wait(min(remaining, 0.5))

    def status(self):
        return proc_status(self.proc.pid)

    def stop(self, timeout=120):
        """SIGTERM and wait; returns (seconds, exit status)."""
        if self.proc is None:
            return 0.0, None
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise BenchError(f"samverkand did not stop within {timeout} s of SIGTERM (killed)")
        elapsed = time.monotonic() - start
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        code = self.proc.returncode
        self.proc = None
        return elapsed, code

    def kill_if_running(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load():
    return "load average {:.2f} {:.2f} {:.2f} on {} cores".format(*os.getloadavg(), os.cpu_count())


def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def tail(path, lines=15):
    try:
        with open(path, "rb") as f:
            return b"".join(f.readlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return ""


def http_get(path, control):
    """One request on the control socket, on a new connection; returns (seconds, status, body)."""
    start = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(300)
    s.connect(control)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    code = int(lines[0].split()[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while length is None or len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    elapsed = time.monotonic() - start
    s.close()
    return elapsed, code, body


def ctl(samverkanctl, control, *args, timeout=3600):
    """Runs samverkanctl; returns (seconds, stdout). A failure is an error."""
    start = time.monotonic()
    result = subprocess.run([samverkanctl, "--socket", control, *args], capture_output=True, text=True,
                            timeout=timeout)
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise BenchError(f"samverkanctl {' '.join(args)} failed ({result.returncode}): "
                         f"{result.stderr.strip() or result.stdout.strip()}")
    return elapsed, result.stdout


def status_json(samverkanctl, control):
    return json.loads(ctl(samverkanctl, control, "--json", "status")[1])


# ---------------------------------------------------------------------------------------------
# Config


SETTINGS = """\
# Generated by scripts/bench/scheduler_bench.py: a benchmark workload, not a real config.
timezone: Europe/Stockholm
language: sv
sinks:
  - {name: outbox, type: file, directory: outbox, format: json}
routes:
  - {sinks: [outbox]}
"""


def new_config(directory):
    if os.path.exists(directory):
        shutil.rmtree(directory)
    os.makedirs(os.path.join(directory, "agreements.d"))
    with open(os.path.join(directory, "samverkand.yaml"), "w") as f:
        f.write(SETTINGS)


def agreement_header(aid, title, today, roles):
    lines = [
        f"id: {aid}",
        f"title: {title}",
        "parties: [{name: Bänkkommun, kind: kommun}, {name: LPO Bänk, kind: polis}]",
        f"valid: {{from: {today - dt.timedelta(days=400)}, until: {today + dt.timedelta(days=800)}}}",
        "roles:",
        "  samordnare: {email: samordnare@bench.example}",
    ]
    lines += [f"  {role}: {{email: {role}@bench.example}}" for role in roles]
    return lines


def write_file(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, path)


WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]


def round_agreement(i, today, respondents, hour):
    """Agreement i of the store workload: a weekly collection round."""
    roles = [f"r{j:02d}" for j in range(1, respondents + 1)]
    lines = agreement_header(f"bench-{i:04d}", f"Bänkavtal {i}", today, roles)
    lines += [
        "obligations:",
        "  - id: lagesbild",
        "    kind: lagesbild",
        "    title: Veckans lägesbild",
        f'    schedule: {{rrule: "FREQ=WEEKLY;BYDAY={WEEKDAYS[i % 5]}", time: "{hour:02d}:{(i * 7) % 60:02d}"}}',
        "    remind: [2d, 1d]",
        f"    collect_from: [{', '.join(roles)}]",
        '    questions: ["Vad har hänt den senaste veckan?"]',
        "    notify: [samordnare]",
    ]
    return lines


def one_off_agreement(aid, today, dues):
    """One agreement with a one-off obligation (no reminder: one `due` notice) per instant."""
    lines = agreement_header(aid, f"Engångsfrister {aid}", today, [])
    lines.append("obligations:")
    for k, due in enumerate(dues):
        local = due.astimezone(ZONE)
        lines += [
            f"  - id: o{k:05d}",
            "    kind: custom",
            f"    title: Engångsfrist {k}",
            f'    schedule: {{date: {local.date()}, time: "{local.strftime("%H:%M:%S")}"}}',
            "    notify: [samordnare]",
        ]
    return lines


# ---------------------------------------------------------------------------------------------
# Formatting


def fmt_s(seconds):
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds >= 0.001 else f"{seconds * 1000:.3f} ms"


def fmt_mib(n):
    return f"{n / MIB:.1f} MiB"


def row(label, value, goal="", verdict=""):
    print(f"  {label:<46} {value:>14}  {goal:<10} {verdict}".rstrip())


def goal(part, label, value_text, goal_text, met):
    GOALS.append((part, f"{label}: {value_text} (goal {goal_text})", met))
    return "met" if met else "NOT met"


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ---------------------------------------------------------------------------------------------
# Part 1: a store of about 1,000,000 pending notices


def part_store(args):
    n, respondents = args.agreements, args.respondents
    work = os.path.join(args.work, "store")
    config, state, control = (os.path.join(work, "config"), os.path.join(work, "state"),
                              os.path.join(work, "run", "control.sock"))
    shutil.rmtree(work, ignore_errors=True)
    new_config(config)
    today = dt.datetime.now(ZONE).date()
    hours = {}
    for i in range(1, n + 1):
        hours[i] = 8 + i % 8
        write_file(os.path.join(config, "agreements.d", f"bench-{i:04d}.yaml"),
                   round_agreement(i, today, respondents, hours[i]))
    per_week = respondents * 2 + 1
    print(f"\n== store: {n} agreements x weekly collection round ({respondents} respondents, remind [2d, 1d]: "
          f"{per_week} notices a week each), planned today-60 d .. today+400 d; {load()}", flush=True)

    # The YAML alone, with the same loader, as a reference for the start-up time.
    check = []
    for _ in range(3):
        start = time.monotonic()
        subprocess.run([args.samverkanctl, "check-config", config], check=True, capture_output=True)
        check.append(time.monotonic() - start)

    daemon = Daemon(args.samverkand, config, state, control, os.path.join(work, "samverkand.log"))
    try:
        log("first start (empty store: plan and insert everything) ...")
        first_ready, first_hwm, _ = daemon.start(timeout=args.start_timeout)
        first_cpu = cpu_seconds(daemon.proc.pid)
        log(f"first start: READY=1 after {first_ready:.2f} s ({first_cpu:.1f} s CPU), VmHWM {fmt_mib(first_hwm)}")
        status = status_json(args.samverkanctl, control)
        pending = status["deadlines"]["pending_notices"]
        planned = status["deadlines"]["planned"]
        stop_time, stop_code = daemon.stop()
        log(f"stopped (SIGTERM) in {stop_time:.2f} s, exit status {stop_code}")
        db = os.path.join(state, "samverkan.sqlite")
        db_size = sum(os.path.getsize(db + ext) for ext in ("", "-wal") if os.path.exists(db + ext))

        log("second start (store filled, config unchanged) ...")
        mark = os.path.getsize(daemon.logfile)
        ready, hwm, rss = daemon.start(timeout=args.start_timeout)
        ready_cpu = cpu_seconds(daemon.proc.pid)
        with open(daemon.logfile, "rb") as f:
            f.seek(mark)
            skipped = b"plan unchanged since the last reconcile" in f.read()
        log(f"second start: READY=1 after {ready * 1000:.0f} ms ({ready_cpu:.2f} s CPU), VmHWM {fmt_mib(hwm)}"
            + ("" if skipped else " (the reconcile was NOT skipped)"))

        times = []
        for _ in range(7):
            elapsed, code, _ = http_get("/v1/status", control)
            if code != 200:
                raise BenchError(f"GET /v1/status answered {code}")
            times.append(elapsed)
        status_median = statistics.median(times)
        # The next-notice query of the scheduler and of status, alone, and the count by state
        # that status makes (twice: the counts and the status line), through Python's sqlite3
        # (read-only, beside the running daemon): what the time of status is made of.
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        probe, count_times = [], []
        for _ in range(7):
            start = time.monotonic()
            conn.execute("SELECT id, next_attempt FROM notice WHERE state = 'pending' "
                         "ORDER BY next_attempt LIMIT 1").fetchone()
            probe.append(time.monotonic() - start)
        for _ in range(3):
            start = time.monotonic()
            conn.execute("SELECT state, COUNT(*) FROM notice GROUP BY state").fetchall()
            count_times.append(time.monotonic() - start)
        conn.close()
        hwm_ready = daemon.status()["VmHWM"]

        # A reload that changes nothing: the cost of loading, planning and comparing the whole plan.
        noop_cpu = cpu_seconds(daemon.proc.pid)
        noop_time, noop_out = ctl(args.samverkanctl, control, "reload")
        noop_cpu = cpu_seconds(daemon.proc.pid) - noop_cpu
        log(f"reload, no change: {noop_time:.2f} s ({noop_cpu:.2f} s CPU): {' '.join(noop_out.split())[:80]}")

        # 1% of the agreement files get a new time (every deadline of theirs moves by an hour),
        # then the old time again, then the new: three reloads of a 1% change.
        edits = max(1, round(n / 100))
        edited = sorted({1 + k * n // edits for k in range(edits)})
        reloads = []  # (seconds, cpu seconds, answer)
        perf_data = os.path.join(work, "reload.perf.data")
        for run in range(args.reloads):
            shift = 1 if run % 2 == 0 else 0
            for i in edited:
                path = os.path.join(config, "agreements.d", f"bench-{i:04d}.yaml")
                with open(path) as f:
                    text = f.read()
                old = f'time: "{hours[i] + 1 - shift:02d}:'
                if old not in text:
                    raise BenchError(f"cannot find {old} in {path}")
                write_file(path, text.replace(old, f'time: "{hours[i] + shift:02d}:').rstrip("\n").split("\n"))
            perf = None
            if args.perf and run == 0:
                perf = subprocess.Popen(["perf", "record", "-g", "-F", "499", "-o", perf_data, "-p", str(daemon.proc.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            cpu = cpu_seconds(daemon.proc.pid)
            elapsed, out = ctl(args.samverkanctl, control, "reload")
            cpu = cpu_seconds(daemon.proc.pid) - cpu
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                perf.wait()
            answer = " ".join(out.split())
            reloads.append((elapsed, cpu, answer))
            log(f"reload {run + 1}, {len(edited)} of {n} files changed: {elapsed:.2f} s ({cpu:.2f} s CPU): "
                f"{answer[:80]} ...")
        after = daemon.status()
        after_status = status_json(args.samverkanctl, control)
        daemon.stop()
    finally:
        daemon.kill_if_running()

    reload_time = statistics.median(r[0] for r in reloads)
    reload_cpu = statistics.median(r[1] for r in reloads)
    summary = reloads[0][2]
    moved = re.search(r"(\d+) moved", summary)
    print(f"  {'':<46} {'figure':>14}  {'goal':<10} verdict")
    row("pending notices (status --json)", f"{pending:,}")
    row("deadlines planned (status --json)", f"{planned:,}")
    row("store size (samverkan.sqlite + -wal)", fmt_mib(db_size))
    row("first start, empty store: exec -> READY=1", fmt_s(first_ready))
    row("  CPU time of the daemon until READY", fmt_s(first_cpu))
    row("  peak RSS (VmHWM at READY)", fmt_mib(first_hwm))
    row("restart, store filled: exec -> READY=1", fmt_s(ready), "< 1 s",
        goal("store", "restart to READY=1", fmt_s(ready), "< 1 s", ready < 1.0))
    row("  peak RSS (VmHWM at READY)", fmt_mib(hwm), "< 64 MiB",
        goal("store", "peak RSS at READY", fmt_mib(hwm), "< 64 MiB", hwm < 64 * MIB))
    row("  reconcile skipped (config unchanged)", "yes" if skipped else "NO")
    row("  loading the YAML alone (check-config, med.)", fmt_s(statistics.median(check)))
    row("GET /v1/status with the next notice (med. of 7)", fmt_s(status_median))
    row("  next-notice query alone (sqlite3)", fmt_s(statistics.median(probe)))
    row("  notices counted by state (sqlite3; status: 2x)", fmt_s(statistics.median(count_times)))
    row("reload, nothing changed", fmt_s(noop_time))
    row("  CPU time of the daemon", fmt_s(noop_cpu))
    row(f"reload, {len(edited)} of {n} files = 1% (median of {len(reloads)})", fmt_s(reload_time), "< 2 s",
        goal("store", "reload of a 1% change", fmt_s(reload_time), "< 2 s", reload_time < 2.0))
    row("  each run", " / ".join(f"{r[0]:.2f}" for r in reloads) + " s")
    row("  CPU time of the daemon (median)", fmt_s(reload_cpu))
    row("  deadlines moved (reload's answer)", f"{moved.group(1) if moved else '?'} of {planned:,}")
    row("peak RSS before any reload (VmHWM)", fmt_mib(hwm_ready))
    row("peak RSS after the reloads (VmHWM)", fmt_mib(after["VmHWM"]))
    row("  RSS after the reloads (VmRSS)", fmt_mib(after["VmRSS"]))
    row("pending notices after the reloads", f"{after_status['deadlines']['pending_notices']:,}")
    print(f"  first reload's answer: {summary[:150]}{' ...' if len(summary) > 150 else ''}")
    if args.perf:
        print(f"  perf profile of the first 1% reload: perf report -i {perf_data} --no-children --sort comm,dso,sym")


# ---------------------------------------------------------------------------------------------
# Part 2: firing precision


class OutboxWatcher:
    """Records, with inotify(7), when each file of a directory appears under its final name
    (IN_MOVED_TO: the file sink renames a finished, fsynced temporary file into place). A thread
    blocks in read(2); each event gets the wall time at which its read returned, so a recorded time
    is never before the event (at most late by the wake-up of this thread). Started before the
    daemon, on a directory that exists."""

    IN_MOVED_TO = 0x00000080
    IN_Q_OVERFLOW = 0x00004000
    IN_CLOEXEC = 0o2000000

    def __init__(self, directory):
        import ctypes
        import ctypes.util
        import struct
        self.struct = struct
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(self.IN_CLOEXEC)
        if self.fd < 0:
            raise BenchError(f"inotify_init1: {os.strerror(ctypes.get_errno())}")
        if libc.inotify_add_watch(self.fd, directory.encode(), self.IN_MOVED_TO) < 0:
            raise BenchError(f"inotify_add_watch {directory}: {os.strerror(ctypes.get_errno())}")
        self.moved = {}  # final name -> ns
        self.overflow = False
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        import select
        while not self.stopping:
            # Wakes to look at `stopping`: the descriptor is closed only after this thread ends
            # (a read on a closed and reused descriptor would take the next watcher's events).
            if not select.select([self.fd], [], [], 0.2)[0]:
                continue
            try:
                data = os.read(self.fd, 1 << 20)
            except OSError:
                return
            now = time.time_ns()
            offset = 0
            while offset + 16 <= len(data):
                _, mask, _, length = self.struct.unpack_from("iIII", data, offset)
                name = data[offset + 16:offset + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                offset += 16 + length
                if mask & self.IN_Q_OVERFLOW:
                    self.overflow = True
                elif mask & self.IN_MOVED_TO:
                    self.moved.setdefault(name, now)

    def close(self):
        self.stopping = True
        self.thread.join()
        os.close(self.fd)


def precision_run(args, name, offsets):
    """One daemon on a fresh state with len(offsets) one-off deadlines due at T0 + offset seconds;
    returns two lists of latencies in ms, one entry per notice: (file visible under its final name,
    by inotify IN_MOVED_TO) - due, and (file ctime: the kernel's time of the rename) - due."""
    work = os.path.join(args.work, f"precision-{name}")
    config, state, control = (os.path.join(work, "config"), os.path.join(work, "state"),
                              os.path.join(work, "run", "control.sock"))
    shutil.rmtree(work, ignore_errors=True)
    new_config(config)
    # The goal is for an idle machine: what earlier parts left to write back (the store part
    # writes about a gigabyte) is written now, not during the burst's fsyncs.
    started = time.monotonic()
    os.sync()
    log(f"{name}: sync(2) before the run took {time.monotonic() - started:.2f} s")
    t0 = dt.datetime.fromtimestamp(math.ceil(time.time()) + args.lead, tz=dt.timezone.utc)
    dues = [t0 + dt.timedelta(seconds=s) for s in offsets]
    today = dt.datetime.now(ZONE).date()
    aid = f"precision-{name}"
    write_file(os.path.join(config, "agreements.d", f"{aid}.yaml"), one_off_agreement(aid, today, dues))
    expected = {}
    for k, due in enumerate(dues):
        nid = f"{aid}/o{k:05d}/{due.astimezone(ZONE).date()}/due"
        expected[nid.replace("/", ".") + ".json"] = round(due.timestamp() * 1e9)
    outbox = os.path.join(state, "outbox")
    # The outbox exists before the daemon starts, so that it can be watched from the first file.
    os.makedirs(outbox, mode=0o750)
    watcher = OutboxWatcher(outbox)
    daemon = Daemon(args.samverkand, config, state, control, os.path.join(work, "samverkand.log"))
    try:
        ready, _, _ = daemon.start(timeout=120)
        lead_left = t0.timestamp() - time.time()
        log(f"{name}: READY=1 after {ready:.2f} s; first due in {lead_left:.1f} s, last at +{max(offsets)} s")
        if lead_left <= 1:
            raise BenchError(f"the daemon was ready only {lead_left:.1f} s before the first due time; "
                             "raise --lead")
        last_due = max(dues).timestamp()
        while True:
            present = set(os.listdir(outbox))
            if all(f in present for f in expected):
                break
            if time.time() > last_due + 120:
                missing = len([f for f in expected if f not in present])
                raise BenchError(f"{name}: {missing} of {len(expected)} files missing 120 s after the last due "
                                 f"time; see {daemon.logfile}")
            if daemon.proc.poll() is not None:
                raise BenchError(f"samverkand exited; see {daemon.logfile}")
            time.sleep(0.25)
        time.sleep(0.5)  # the watcher's last events
        if watcher.overflow:
            raise BenchError(f"{name}: the inotify queue overflowed (fs.inotify.max_queued_events)")
        unseen = [f for f in expected if f not in watcher.moved]
        if unseen:
            raise BenchError(f"{name}: {len(unseen)} files appeared without an IN_MOVED_TO, e.g. {unseen[0]}")
        visible = [(watcher.moved[f] - due_ns) / 1e6 for f, due_ns in expected.items()]
        ctime = [(os.stat(os.path.join(outbox, f)).st_ctime_ns - due_ns) / 1e6 for f, due_ns in expected.items()]
        extra = [f for f in os.listdir(outbox) if f not in expected]
        if extra:
            raise BenchError(f"{name}: unexpected files in the outbox: {extra[:5]}")
        daemon.stop()
    finally:
        daemon.kill_if_running()
        watcher.close()
    return visible, ctime


def part_precision(args):
    count = args.precision_notices
    print(f"\n== precision: {count} one-off notices (file sink, format json); latency = the moment the file "
          f"appears under its final name (inotify IN_MOVED_TO: the rename of a file written and fsynced ahead) - "
          f"due instant; also file ctime (the kernel's time of the rename) - due", flush=True)
    runs = [
        ("burst", f"{count} due at the same second", [0] * count),
        ("spread", f"{count} spread evenly over a minute", [k * 60 // count for k in range(count)]),
    ]
    print(f"  {'':<46} {'p50':>9} {'p99':>9} {'max':>9} {'min':>9}  {'goal p99':<10} verdict")
    results = []
    for name, label, offsets in runs:
        before = load()
        visible, ctime = precision_run(args, name, offsets)
        p50, p99 = percentile(visible, 50), percentile(visible, 99)
        results.append((label, visible, p50, p99))
        verdict = goal("precision", f"{label}, visible, p99", f"{p99:.1f} ms", "< 50 ms", p99 < 50)
        for what, values, shown in (("visible under final name", visible, verdict), ("ctime", ctime, "")):
            print(f"  {label + ': ' + what:<46} {percentile(values, 50):>6.1f} ms {percentile(values, 99):>6.1f} ms "
                  f"{max(values):>6.1f} ms {min(values):>6.1f} ms  {'< 50 ms' if shown else '':<10} {shown}",
                  flush=True)
        print(f"    ({before} before the run; {load()} after)", flush=True)
    burst = results[0][1]
    print(f"  burst: the last file visible {max(burst):.0f} ms after the due second: "
          f"{len(burst) / (max(burst) / 1000):.0f} notices/s delivered")
    early = mtime_lag(args.work)
    print(f"  (file times come from the kernel's coarse clock: here up to {early:.1f} ms behind, which is why a "
          "ctime latency can be below 0)")


def mtime_lag(work):
    """How far before the moment of writing a new file's mtime can read (coarse clock), in ms."""
    worst = 0.0
    path = os.path.join(work, "mtime-probe")
    rng = random.Random(1)
    for _ in range(300):
        time.sleep(rng.uniform(0, 0.03))  # idle, as the daemon is before a due time
        before = time.time_ns()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"x")
        os.close(fd)
        worst = max(worst, (before - os.stat(path).st_mtime_ns) / 1e6)
        os.unlink(path)
    return worst


# ---------------------------------------------------------------------------------------------
# Part 3: against at/atd


def easter(year):
    """Gregorian Easter Sunday (the anonymous algorithm of Meeus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (h + m - 7 * ((a + 11 * h + 19 * m) // 433) + 90) // 25
    p = (h + m - 7 * ((a + 11 * h + 19 * m) // 433) + 33 * n + 19) % 32
    return dt.date(year, n, p)


def is_working_day(day):
    """Monday-Friday and not a Swedish public holiday or de facto free day (Lag 1989:253)."""
    if day.weekday() >= 5:
        return False
    e = easter(day.year)
    free = {(1, 1), (1, 6), (5, 1), (6, 6), (12, 24), (12, 25), (12, 26), (12, 31)}
    movable = {e - dt.timedelta(days=2), e + dt.timedelta(days=1), e + dt.timedelta(days=39)}
    midsommarafton = 19 <= day.day <= 25 and day.month == 6 and day.weekday() == 4
    return (day.month, day.day) not in free and day not in movable and not midsommarafton


def atq_ids():
    out = subprocess.run(["atq"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def at_queue_and_remove(work, dues):
    """at, as a user queues jobs: one `echo true | at -t TIME` per job, from a shell script; then
    all of them removed with one atrm. Returns (queue seconds, remove seconds); the figures are
    kept for a later part of the same run."""
    count = len(dues)
    if AT_FIGURES.get(count):
        log(f"at: the figures of {count} jobs measured earlier in this run")
        return AT_FIGURES[count]
    ids_file = os.path.join(work, "at.out")
    script = os.path.join(work, "queue.sh")
    with open(script, "w") as f:
        f.write("export TZ=Europe/Stockholm\n")
        for due in dues:
            f.write(f"echo true | at -t {due.strftime('%Y%m%d%H%M')} 2>>{ids_file}\n")
    log(f"at: queueing {count} jobs ...")
    start = time.monotonic()
    try:
        subprocess.run(["bash", script], check=True)
        at_add = time.monotonic() - start
        with open(ids_file) as f:
            ids = re.findall(r"^job (\d+) at ", f.read(), re.M)
        if len(ids) != count:
            raise BenchError(f"at queued {len(ids)} jobs, not {count}; see {ids_file}")
        queued = atq_ids()
        log(f"at: {at_add:.2f} s; atq lists {len(queued & set(ids))} of our {count} jobs")
        log(f"atrm: removing {count} jobs with one command ...")
        start = time.monotonic()
        subprocess.run(["atrm", *ids], check=True)
        at_remove = time.monotonic() - start
        log(f"atrm: {at_remove:.3f} s")
    finally:
        # Whatever happened, none of our jobs stays queued.
        if os.path.exists(ids_file):
            with open(ids_file) as f:
                ours = set(re.findall(r"^job (\d+) at ", f.read(), re.M))
            left = sorted(atq_ids() & ours)
            if left:
                subprocess.run(["atrm", *left])
                raise BenchError(f"{len(left)} of our at jobs were left queued (removed now)")

    AT_FIGURES[count] = (at_add, at_remove)
    return at_add, at_remove


def part_atd(args):
    count = args.atd_jobs
    files = 10 if count >= 10 else 1
    work = os.path.join(args.work, "atd")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    print(f"\n== atd: {count} one-off jobs with at(1) against {count} one-off deadlines in samverkand; {load()}",
          flush=True)
    # The same instants for both, 30 to 300 days ahead (inside samverkand's 400-day horizon), on
    # whole minutes (at's -t takes minutes) between 08:00 and 18:00 local time (never in a DST
    # gap, which at refuses) of working days (a date on a weekend or holiday is valid but
    # samverkand warns about each: 10,000 warnings would be another benchmark).
    rng = random.Random(5)
    today = dt.datetime.now(ZONE).date()
    days = [d for d in (today + dt.timedelta(days=k) for k in range(30, 300)) if is_working_day(d)]
    dues = []
    for _ in range(count):
        day = rng.choice(days)
        minute = rng.randrange(8 * 60, 18 * 60)
        dues.append(dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=ZONE))
    dues.sort()

    if args.ours_only:
        # Our side alone, to iterate on it quickly: at's side takes ten minutes and changes little.
        adds, removes = [], []
        for round_ in range(args.atd_rounds):
            our_add, our_remove = samverkand_round(args, os.path.join(work, f"round-{round_ + 1}"), today, dues, files)
            adds.append(our_add)
            removes.append(our_remove)
        print(f"  samverkand only (at not run): add {count} ({files} files + reload) median "
              f"{fmt_s(statistics.median(adds))}, remove {count} (rm {files} files + reload) median "
              f"{fmt_s(statistics.median(removes))}")
        print(f"  samverkand runs (fresh store each): add {' / '.join(f'{t:.3f}' for t in adds)} s, "
              f"remove {' / '.join(f'{t:.3f}' for t in removes)} s")
        return

    at_add, at_remove = at_queue_and_remove(work, dues)

    # samverkand, as a user adds deadlines: write the agreement files, `samverkanctl reload`;
    # then removes them: delete the files, `samverkanctl reload`. Three rounds, each on a fresh
    # store (a second round on the same store would restore cancelled deadlines instead of
    # inserting new ones), medians.
    adds, removes = [], []
    for round_ in range(args.atd_rounds):
        our_add, our_remove = samverkand_round(args, os.path.join(work, f"round-{round_ + 1}"), today, dues, files)
        adds.append(our_add)
        removes.append(our_remove)
    our_add, our_remove = statistics.median(adds), statistics.median(removes)

    print(f"  {'operation':<50} {'at/atd':>10} {'samverkand':>11} {'ratio':>8}  {'goal':<7} verdict")
    for label, theirs, ours in (
            (f"add {count} ({count} x at | {files} files + reload)", at_add, our_add),
            (f"remove {count} (one atrm | rm {files} files + reload)", at_remove, our_remove)):
        ratio = theirs / ours if ours > 0 else float("inf")
        verdict = goal("atd", label.split(" (")[0] + " vs at/atd", f"{ratio:.1f}x faster", ">= 100x", ratio >= 100)
        print(f"  {label:<50} {fmt_s(theirs):>10} {fmt_s(ours):>11} {ratio:>7.1f}x  {'>= 100x':<7} {verdict}")
    print(f"  samverkand runs (fresh store each): add {' / '.join(f'{t:.2f}' for t in adds)} s, "
          f"remove {' / '.join(f'{t:.2f}' for t in removes)} s; at and atrm ran once")
    print(f"  at: {count / at_add:.0f} jobs/s queued; atrm: {count / at_remove:.0f} jobs/s removed "
          f"(all {count} ids given to one atrm)")


def samverkand_round(args, work, today, dues, files):
    """One add-and-remove round on a fresh store; returns (add seconds, remove seconds)."""
    count = len(dues)
    config, state, control = (os.path.join(work, "config"), os.path.join(work, "state"),
                              os.path.join(work, "run", "control.sock"))
    new_config(config)
    write_file(os.path.join(config, "agreements.d", "bas.yaml"), one_off_agreement("bas", today, dues[:1]))
    daemon = Daemon(args.samverkand, config, state, control, os.path.join(work, "samverkand.log"))
    try:
        daemon.start(timeout=120)
        before = status_json(args.samverkanctl, control)["deadlines"]["pending_notices"]
        chunks = [dues[k::files] for k in range(files)]
        paths = [os.path.join(config, "agreements.d", f"frister-{k:02d}.yaml") for k in range(files)]
        texts = [one_off_agreement(f"frister-{k:02d}", today, chunk) for k, chunk in enumerate(chunks)]
        perf = None
        if args.perf:
            perf_data = os.path.join(work, "add.perf.data")
            perf = subprocess.Popen(["perf", "record", "-g", "-F", "9999", "-o", perf_data, "-p", str(daemon.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        cpu = cpu_seconds(daemon.proc.pid)
        start = time.monotonic()
        for path, text in zip(paths, texts):
            write_file(path, text)
        _, out_add = ctl(args.samverkanctl, control, "reload")
        our_add = time.monotonic() - start
        add_cpu = cpu_seconds(daemon.proc.pid) - cpu
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait()
            log(f"perf profile of the add: perf report -i {perf_data} --no-children --sort dso,sym")
        added = status_json(args.samverkanctl, control)["deadlines"]["pending_notices"] - before
        log(f"samverkand: {files} files + reload: {our_add:.3f} s ({add_cpu:.2f} s CPU), {added} notices pending more: "
            + " ".join(out_add.split()))
        cpu = cpu_seconds(daemon.proc.pid)
        start = time.monotonic()
        for path in paths:
            os.unlink(path)
        _, out_remove = ctl(args.samverkanctl, control, "reload")
        our_remove = time.monotonic() - start
        remove_cpu = cpu_seconds(daemon.proc.pid) - cpu
        remaining = status_json(args.samverkanctl, control)["deadlines"]["pending_notices"]
        log(f"samverkand: remove + reload: {our_remove:.3f} s ({remove_cpu:.2f} s CPU), {remaining} pending: " + " ".join(out_remove.split()))
        daemon.stop()
    finally:
        daemon.kill_if_running()
    if added != count or remaining != before:
        raise BenchError(f"samverkand: {added} notices added (expected {count}), {remaining} pending after removal "
                         f"(expected {before})")
    return our_add, our_remove


# ---------------------------------------------------------------------------------------------
# Part 4: cases through the socket against at/atd (issue 8)


def window_agreement(aid, today):
    """One agreement with a SMADIT window, as in the bundled config (domain.md §4)."""
    lines = agreement_header(aid, f"Fönster {aid}", today, ["mottagande-enhet", "enhetschef", "jour"])
    lines += [
        "windows:",
        "  - id: smadit",
        "    kind: smadit",
        "    duration: 24h",
        "    remind_after: [1h, 6h, 12h]",
        "    escalate_after: [18h]",
        "    escalate_to: [enhetschef, jour]",
        "    notify: [mottagande-enhet]",
    ]
    return lines


class Connection:
    """One keep-alive HTTP/1.1 connection on the control socket, as a script's HTTP client keeps it."""

    def __init__(self, control):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(control)
        self.buffer = b""

    def post(self, path, body):
        data = json.dumps(body).encode()
        self.sock.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
        while len(self.buffer) < length:
            self.buffer += self._recv()
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split()[1]), answer

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise BenchError("samverkand closed the connection")
        return chunk

    def close(self):
        self.sock.close()


def cases_round(args, work, count, how):
    """Opens `count` SMADIT cases and closes them again on a fresh store, one request per case,
    either with one samverkanctl process per case from a shell script or over one keep-alive
    connection. Returns (open seconds, close seconds)."""
    config, state, control = (os.path.join(work, "config"), os.path.join(work, "state"),
                              os.path.join(work, "run", "control.sock"))
    new_config(config)
    today = dt.datetime.now(ZONE).date()
    write_file(os.path.join(config, "agreements.d", "fonster.yaml"), window_agreement("fonster", today))
    daemon = Daemon(args.samverkand, config, state, control, os.path.join(work, "samverkand.log"))
    year = today.year
    refs = [f"{year}-{k}" for k in range(1, count + 1)]
    try:
        daemon.start(timeout=120)
        if how == "samverkanctl":
            timings = []
            for verb, lines in (("open", [f"case open fonster smadit {ref}" for ref in refs]),
                                ("close", [f"case close {ref} contacted" for ref in refs])):
                script = os.path.join(work, f"{verb}.sh")
                with open(script, "w") as f:
                    f.write("set -e\n")
                    f.writelines(f"{args.samverkanctl} --socket {control} {line} > /dev/null\n" for line in lines)
                start = time.monotonic()
                subprocess.run(["bash", script], check=True)
                timings.append(time.monotonic() - start)
        else:
            connection = Connection(control)
            timings = []
            for verb in ("open", "close"):
                start = time.monotonic()
                for ref in refs:
                    if verb == "open":
                        code, answer = connection.post(
                            "/v1/cases", {"agreement": "fonster", "window": "smadit", "reference": ref})
                    else:
                        code, answer = connection.post(f"/v1/cases/{ref}/close", {"outcome": "contacted"})
                    if code not in (200, 201):
                        raise BenchError(f"{verb} {ref}: {code} {answer[:200]!r}")
                timings.append(time.monotonic() - start)
            connection.close()
        _, code, body = http_get("/v1/cases?state=all", control)
        listed = json.loads(body)
        closed = sum(1 for case in listed if case.get("state") == "closed")
        _, _, body = http_get("/v1/status", control)
        pending = json.loads(body)["deadlines"]["pending_notices"]
        daemon.stop()
    finally:
        daemon.kill_if_running()
    if closed != count or pending != 0:
        raise BenchError(f"{how}: {closed} of {count} cases closed, {pending} notices still pending")
    log(f"samverkand ({how}): open {timings[0]:.2f} s, close {timings[1]:.2f} s; {closed} closed, "
        f"0 notices pending")
    return timings[0], timings[1]


def part_cases(args):
    count = args.cases
    work = os.path.join(args.work, "cases")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    print(f"\n== cases: {count} SMADIT cases opened and closed through the socket, one request per case, "
          f"against {count} at jobs queued and removed; {load()}", flush=True)
    # The at jobs fall where the cases' notices would, within the next day, on whole minutes.
    base = dt.datetime.now(ZONE).replace(second=0, microsecond=0) + dt.timedelta(hours=2)
    dues = [base + dt.timedelta(minutes=k % 1200) for k in range(count)]
    at_add, at_remove = (None, None) if args.ours_only else at_queue_and_remove(work, dues)
    ctl_open, ctl_close = cases_round(args, os.path.join(work, "samverkanctl"), count, "samverkanctl")
    http_open, http_close = cases_round(args, os.path.join(work, "http"), count, "http")
    print(f"  {'operation':<58} {'seconds':>9} {'per item':>9} {'vs at':>8}")
    rows = [] if args.ours_only else [
        (f"at: queue {count} (`echo true | at -t TIME` each)", at_add, None),
        (f"at: remove {count} (one atrm with every id)", at_remove, None)]
    for label, seconds, theirs in rows + [ 
            (f"samverkand: open {count} cases, `samverkanctl case open` each", ctl_open, at_add),
            (f"samverkand: close {count}, `samverkanctl case close` each", ctl_close, at_remove),
            (f"samverkand: open {count}, POST /v1/cases on one connection", http_open, at_add),
            (f"samverkand: close {count}, POST .../close on one connection", http_close, at_remove)]:
        ratio = f"{theirs / seconds:.1f}x" if theirs else ""
        print(f"  {label:<58} {fmt_s(seconds):>9} {seconds / count * 1000:>7.2f}ms {ratio:>8}")


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="PART",
                        help="store, precision, atd, cases (default: the first three)")
    parser.add_argument("--samverkand", required=True)
    parser.add_argument("--samverkanctl", required=True)
    parser.add_argument("--work", required=True, help="scratch directory")
    parser.add_argument("--agreements", type=int, default=502, help="store: agreements (default 502)")
    parser.add_argument("--respondents", type=int, default=17, help="store: respondents per round (default 17)")
    parser.add_argument("--start-timeout", type=float, default=3600, help="store: seconds to wait for READY=1")
    parser.add_argument("--reloads", type=int, default=3, help="store: reloads of a 1%% change (default 3)")
    parser.add_argument("--perf", action="store_true",
                        help="store: perf record the daemon during the first 1%% reload; atd: during each add")
    parser.add_argument("--precision-notices", type=int, default=1000)
    parser.add_argument("--lead", type=int, default=20, help="precision: seconds from start to the first due time")
    parser.add_argument("--atd-jobs", type=int, default=10000)
    parser.add_argument("--atd-rounds", type=int, default=3, help="atd: samverkand rounds (default 3)")
    parser.add_argument("--cases", type=int, default=10000, help="cases: cases opened and closed (default 10000)")
    parser.add_argument("--ours-only", action="store_true",
                        help="atd, cases: measure samverkand's side only, without running at (no goal verdict)")
    args = parser.parse_args()
    parts = args.parts or ["store", "precision", "atd"]
    unknown = [p for p in parts if p not in ("store", "precision", "atd", "cases")]
    if unknown:
        parser.error(f"unknown part {unknown[0]}; the parts are store, precision, atd and cases")
    failed = []
    for part in ["store", "precision", "atd", "cases"]:
        if part not in parts:
            continue
        try:
            {"store": part_store, "precision": part_precision, "atd": part_atd, "cases": part_cases}[part](args)
        except BenchError as error:
            print(f"  {part}: NOT MEASURED: {error}", flush=True)
            failed.append(part)
    print("\n== goals")
    for part, text, met in GOALS:
        print(f"  [{'met' if met else 'NOT met':>7}] {part}: {text}")
    for part in failed:
        print(f"  [NOT met] {part}: could not be measured")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
