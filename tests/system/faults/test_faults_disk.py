"""Faults: writes that fail -- the disk fills up, the directory refuses.

The state directory lives on a small tmpfs. Once it is full, NSD cannot
store a transfer (it writes each to the state directory before applying
it): the zone being served must stay (same answers, same serial), the
failure must be reported (NSD's error, and kubezone's warning that NSD
lags behind what was published), and when space comes back the change
must be served without any further change in the cluster: kubezone
NOTIFYs NSD again while it lags.
Needs root (or CAP_SYS_ADMIN) to mount the tmpfs; skipped otherwise.

`kubezone render --out DIR` over zone files of an earlier render, when
the new ones cannot be written: every old file must stay as it was,
byte for byte, with no temporary file left beside it, and the failure
must be an error naming the file. Root ignores directory permissions, so
the writes are made to fail in ways that hold for root too: a file size
limit (RLIMIT_FSIZE, any user, any filesystem), an immutable directory
(chattr +i: root, on a filesystem that supports it) and a full tmpfs
(root); a read-only directory mode is tried when not root.
"""

import errno
import os
import resource
import shutil
import signal
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


# --- kubezone render --out into a directory that refuses the new files ---

def no_big_files():
    """In the child, before exec: writes beyond 16 bytes fail with EFBIG
    (SIGXFSZ ignored, so the write fails instead of killing)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))


def refuses_new_files(d):
    """Whether creating a file in D fails for this process."""
    probe = os.path.join(d, "probe")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return True
    os.unlink(probe)
    return False


@pytest.fixture
def refusing(request, tmp_path):
    """(out dir, fault): FAULT() makes writes into the dir fail (and
    returns the preexec_fn the render must run with), FAULT(False) undoes
    it."""
    how = request.param
    base = tmp_path
    if how == "full":
        base = request.getfixturevalue("small_fs")
    out = os.path.join(base, "zones")
    undo = []

    def fault(on=True):
        if not on:
            while undo:
                undo.pop()()
            return None
        if how == "fsize":
            return no_big_files
        if how == "immutable":
            r = subprocess.run(["chattr", "+i", out], capture_output=True,
                               text=True)
            if r.returncode != 0:
                pytest.skip("chattr +i failed (it needs root or "
                            "CAP_LINUX_IMMUTABLE and a filesystem with the "
                            "attribute): " + (r.stderr.strip() or
                                              "exit %d" % r.returncode))
            undo.append(lambda: subprocess.run(["chattr", "-i", out]))
        elif how == "full":
            filler = os.path.join(base, "filler")
            fill(filler)
            undo.append(lambda: os.unlink(filler))
        elif how == "mode":
            if os.geteuid() == 0:
                pytest.skip("root ignores directory permissions (the "
                            "fsize, immutable and full cases cover root)")
            os.chmod(out, 0o555)
            undo.append(lambda: os.chmod(out, 0o755))
        if how != "full":
            assert refuses_new_files(out), "the fault did not take"
        return None

    yield out, fault
    fault(False)


@pytest.mark.parametrize("refusing", ["fsize", "immutable", "full", "mode"],
                         indirect=True)
def test_unwritable_dir_keeps_old(kubezone, snapshot, refusing):
    out, fault = refusing

    def render(serial, preexec=None):
        return subprocess.run([kubezone, "render", "--out", out, "--serial",
                               str(serial), "--log-level", "error",
                               snapshot], capture_output=True, text=True,
                              timeout=60, preexec_fn=preexec)

    def files():
        out_files = {}
        for f in os.listdir(out):
            with open(os.path.join(out, f), "rb") as z:
                out_files[f] = z.read()
        return out_files

    res = render(1)
    assert res.returncode == 0, res.stderr
    old = files()
    assert sorted(old) == ["cluster.local.zone", "in-addr.arpa.zone",
                           "ip6.arpa.zone"]
    # The next render changes every file (a serial) and some records.
    with open(snapshot) as f:
        text = f.read()
    replace_file(snapshot, text.replace("10.96.12.34", "10.96.12.77"))

    res = render(2, fault())
    assert res.returncode != 0, "the render succeeded: " + res.stderr
    assert "kubezone render: %s/cluster.local.zone: " % out in res.stderr, \
        res.stderr
    assert sorted(os.listdir(out)) == sorted(old), os.listdir(out)
    for f, data in files().items():
        assert data == old[f], f + " changed"

    # Writable again: the same render goes through and changes them.
    fault(False)
    res = render(2)
    assert res.returncode == 0, res.stderr
    new = files()
    assert sorted(new) == sorted(old)
    assert all(new[f] != old[f] for f in old)
    assert b"10.96.12.77" in new["cluster.local.zone"]
