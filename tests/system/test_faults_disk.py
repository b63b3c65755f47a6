"""Faults: the state directory's filesystem fills up during a publish.

The state directory lives on a small tmpfs. Once it is full, NSD cannot
store a transfer (it writes each to the state directory before applying
it): the zone being served must stay (same answers, same serial), the
failure must be reported (NSD's error, and kubezone's warning that NSD
lags behind what was published), and when space comes back the change
must be served without any further change in the cluster: kubezone
NOTIFYs NSD again while it lags.
Needs root (or CAP_SYS_ADMIN) to mount the tmpfs; skipped otherwise.
"""

import errno
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import answers, replace_file, soa_serial, wait_for


@pytest.fixture
def small_fs():
    d = tempfile.mkdtemp(prefix="kz-fs-", dir="/tmp")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755",
                        "kz-test", d], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a tmpfs here (needs root or "
                    "CAP_SYS_ADMIN): " + r.stderr.strip())
    yield d
    subprocess.run(["umount", "-l", d], capture_output=True)
    shutil.rmtree(d, ignore_errors=True)


def fill(path):
    """Write zeros to PATH until the filesystem is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 64 << 10, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)


def test_full_state_dir_keeps_zone_and_recovers(sync, snapshot, small_fs):
    state = os.path.join(small_fs, "state")
    s = sync(snapshot, state=state)
    serial = soa_serial("cluster.local.", s.port)
    filler = os.path.join(small_fs, "filler")
    fill(filler)

    with open(snapshot) as f:
        text = f.read()
    replace_file(snapshot, text.replace("10.96.12.34", "10.96.12.77"))
    wait_for(lambda: "nsd lags behind" in s.text(), 20,
             what="the failure reported")
    # Still the old zone, complete, with its serial.
    assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
        ["10.96.12.34"]
    assert soa_serial("cluster.local.", s.port) == serial
    zones = os.path.join(state, "zones")
    leftovers = [f for f in os.listdir(zones) if ".tmp" in f]
    assert leftovers == [], leftovers

    # Space comes back: the change goes out on its own.
    os.unlink(filler)
    wait_for(lambda: answers("web.shop.svc.cluster.local.", "A", s.port) ==
             ["10.96.12.77"], 60, interval=0.25,
             what="the change published once space returned")
    assert soa_serial("cluster.local.", s.port) > serial
    assert s.proc.poll() is None
