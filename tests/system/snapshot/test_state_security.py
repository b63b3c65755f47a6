"""The state directory and NSD's privileges: what a local attacker or a
careless deployment could abuse (docs/operations.md, "The state
directory")."""
import os
import stat
import subprocess
import tempfile

import pytest

from conftest import EXAMPLE, soa_serial, wait_for


def nsd_processes(pgid):
    """PIDs of every live NSD process in NSD's process group (the group
    also holds kubezone's small guard between kubezone and NSD, which
    stays kubezone's user to keep NSD dying with kubezone)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        # NSD names its processes xfrd, main, server N; the guard keeps
        # kubezone's name.
        if int(fields[2]) == pgid and fields[0] not in "ZX" and \
                comm != "kubezone":
            pids.append(int(name))
    return pids


def uids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(u) for u in line.split()[1:]]
    return []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_nsd_does_not_keep_root(sync, snapshot, state_dir):
    s = sync(snapshot, "--zonefiles-write", "1")
    pgid = os.getpgid(s.nsd_pid())
    procs = wait_for(lambda: len(nsd_processes(pgid)) >= 3 and nsd_processes(pgid), 10,
                     what="NSD's main, xfrd and server processes")
    for pid in procs:
        assert 0 not in uids(pid), (pid, uids(pid))
    # Still serving, and NSD (not root) writes its zone files.
    assert soa_serial("cluster.local.", s.port) is not None
    zone = os.path.join(state_dir, "zones", "cluster.local.zone")
    wait_for(lambda: os.path.exists(zone), 10, what="NSD's zone file")
    nsd_uid = uids(procs[0])[0]
    assert os.stat(zone).st_uid == nsd_uid
    st = os.stat(state_dir)
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) & 0o077 == 0o010
    assert stat.S_IMODE(os.stat(os.path.join(state_dir, "nsd.conf")).st_mode) == 0o600


def test_planted_tmp_symlink_does_not_redirect_nsd_conf(sync, snapshot, state_dir):
    """The review's finding: a symlink nsd.conf.tmp made kubezone write
    nsd.conf (TSIG secrets) into the file it pointed to."""
    victim = os.path.join(os.path.dirname(snapshot), "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.chmod(victim, 0o644)
    os.symlink(victim, os.path.join(state_dir, "nsd.conf.tmp"))
    os.symlink(victim, os.path.join(state_dir, "serial.state.tmp"))
    sync(snapshot, "--tsig-key", "xfr:hmac-sha256:c2VjcmV0c2VjcmV0")
    with open(victim) as f:
        assert f.read() == "precious\n"
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o644
    conf = os.path.join(state_dir, "nsd.conf")
    assert stat.S_ISREG(os.lstat(conf).st_mode)
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600


def run_sync(kubezone, *args):
    return subprocess.run([kubezone, "sync", "--snapshot", EXAMPLE, "--http", "off",
                           "--listen", "127.0.0.1:1", *args],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("mode", [0o777, 0o775])
def test_writable_state_dir_is_refused(kubezone, mode):
    d = tempfile.mkdtemp(prefix="kz-st-", dir="/tmp")
    try:
        os.chmod(d, mode)
        res = run_sync(kubezone, "--state-dir", d)
        assert res.returncode == 1, res.stderr
        assert "group- or world-writable" in res.stderr
        assert not os.path.exists(os.path.join(d, "nsd.conf"))
    finally:
        os.rmdir(d)


def test_new_state_dir_is_private(kubezone):
    d = tempfile.mkdtemp(prefix="kz-st-", dir="/tmp")
    try:
        state = os.path.join(d, "a", "state")
        subprocess.run([kubezone, "sync", "--snapshot", "/nonexistent", "--http", "off",
                        "--state-dir", state], capture_output=True, timeout=30)
        mode = stat.S_IMODE(os.stat(state).st_mode)
        assert mode == (0o710 if os.geteuid() == 0 else 0o700)
    finally:
        subprocess.run(["rm", "-rf", d], check=False)


def test_invalid_tsig_key_never_prints_the_secret(kubezone):
    res = run_sync(kubezone, "--tsig-key", "xfr:hmac-sha256:TOPSECRETc2Vj!")
    assert res.returncode == 2
    assert "TOPSECRET" not in res.stderr
    assert "'xfr'" in res.stderr and "base64" in res.stderr
