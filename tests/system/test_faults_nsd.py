"""Faults: NSD's binary disappears, or NSD exits at once on every start.

kubezone must report it, back off, keep trying without spinning, and
serve again as soon as NSD can start. NSD is reached through a wrapper
script (--nsd) that execs the real NSD while a flag file exists.
"""

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


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("fault", ["exits-at-once", "binary-gone"])
def test_nsd_failing_to_start_backs_off(sync, snapshot, fault):
    d = os.path.dirname(snapshot)
    wrapper, flag = make_wrapper(d)
    s = sync(snapshot, "--nsd", wrapper)
    started = s.text().count("nsd started")
    if fault == "exits-at-once":
        os.unlink(flag)
    else:
        os.rename(wrapper, wrapper + ".away")
    os.kill(s.nsd_pid(), signal.SIGKILL)
    s.wait_log("nsd exited, restarting")

    # Over a few seconds: retries keep coming, spaced out, cheaply.
    cpu0 = cpu_seconds(s.pid)
    time.sleep(6)
    cpu = cpu_seconds(s.pid) - cpu0
    text = s.text()
    attempts = text.count("nsd started") - started + \
        text.count("cannot restart nsd")
    failures = text.count("nsd exited, restarting")
    assert s.proc.poll() is None, "kubezone exited:\n" + text[-2000:]
    assert 3 <= failures <= 8, (failures, text[-3000:])
    assert 2 <= attempts <= 8, (attempts, text[-3000:])
    assert cpu < 1.5, "kubezone used %.2fs of CPU in 6s" % cpu
    # The delays grow: each restart_in_ms is at least the one before.
    delays = [int(l.split("restart_in_ms=")[1].split()[0])
              for l in text.splitlines() if "restart_in_ms=" in l]
    assert delays == sorted(delays) and delays[-1] >= 1600, delays
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
