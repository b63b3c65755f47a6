"""Faults: NSD's binary disappears, or NSD exits at once on every start.

kubezone must report it, back off, keep trying without spinning, and
serve again as soon as NSD can start. NSD is reached through a wrapper
script (--nsd) that execs the real NSD while a flag file exists.

The test waits for a number of failed starts rather than sleeping and
counting, and checks the back-off from the log's own timestamps: each
retry at least the announced delay after the failure before it (a lower
bound, which a loaded machine or a sanitizer build cannot break), and
exactly one start attempt per failure.
"""

import datetime
import os
import shutil
import signal
import stat
import time

import pytest

from conftest import answers, pid_alive, soa_serial, wait_for

REAL_NSD = shutil.which("nsd") or "/usr/sbin/nsd"


def make_wrapper(d):
    flag = os.path.join(d, "nsd-ok")
    path = os.path.join(d, "nsd")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "# test wrapper: the real NSD while %s exists\n"
                "case \"$1\" in -v|-h) exec %s \"$@\" ;; esac\n"
                "[ -e %s ] || { echo 'error: nsd is broken (test)' >&2; "
                "exit 1; }\n"
                "exec %s \"$@\"\n" % (flag, REAL_NSD, flag, REAL_NSD))
    os.chmod(path, stat.S_IRWXU)
    open(flag, "w").close()
    return path, flag


def log_time(line):
    """The ts= of a log line, in seconds."""
    ts = line.split("ts=", 1)[1].split()[0]
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("fault", ["exits-at-once", "binary-gone"])
def test_nsd_failing_to_start_backs_off(sync, snapshot, fault):
    d = os.path.dirname(snapshot)
    wrapper, flag = make_wrapper(d)
    s = sync(snapshot, "--nsd", wrapper)
    if fault == "exits-at-once":
        os.unlink(flag)
    else:
        os.rename(wrapper, wrapper + ".away")
    cpu0, t0 = cpu_seconds(s.pid), time.monotonic()
    os.kill(s.nsd_pid(), signal.SIGKILL)

    # Retries keep coming, spaced out, cheaply: five failures in a row
    # (the kill, then starts after 200, 400, 800 and 1600 ms).
    def failures(lines):
        return [i for i, l in enumerate(lines)
                if 'msg="nsd exited, restarting"' in l]
    wait_for(lambda: len(failures(s.text().splitlines())) >= 5, 60,
             interval=0.1, what="five failed NSD starts")
    cpu, wall = cpu_seconds(s.pid) - cpu0, time.monotonic() - t0
    text = s.text()
    assert s.proc.poll() is None, "kubezone exited:\n" + text[-2000:]
    lines = text.splitlines()
    fails = failures(lines)
    # The delays double from 200 ms.
    delays = [int(lines[i].split("restart_in_ms=")[1].split()[0])
              for i in fails]
    assert delays[:5] == [200, 400, 800, 1600, 3200], delays
    # Exactly one start attempt between two failures, and it came no
    # sooner than the delay announced (give or take a preemption between
    # the daemon's clock reading and its log line): no spinning.
    for a, b, delay in zip(fails, fails[1:], delays):
        tries = [l for l in lines[a + 1:b] if 'msg="nsd started"' in l or
                 'msg="cannot restart nsd"' in l]
        assert len(tries) == 1, lines[a:b + 1]
        waited = log_time(tries[0]) - log_time(lines[a])
        assert waited >= 0.8 * delay / 1000, (waited, lines[a], tries[0])
    # Waiting costs (next to) nothing: a loop spinning through the
    # back-off would use the CPU all along.
    assert cpu < 0.25 * wall, "kubezone used %.2fs of CPU in %.2fs" % (cpu, wall)
    if fault == "exits-at-once":
        assert "nsd is broken (test)" in text    # NSD's own words
    # The zone files stay; NSD comes back when it can start again.
    if fault == "exits-at-once":
        open(flag, "w").close()
    else:
        os.rename(wrapper + ".away", wrapper)
    wait_for(lambda: answers("web.shop.svc.cluster.local.", "A", s.port) ==
             ["10.96.12.34"], 40, interval=0.2, what="NSD back")
    assert pid_alive(s.nsd_pid())
    assert soa_serial("cluster.local.", s.port) is not None
