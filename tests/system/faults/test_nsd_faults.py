"""Faults: NSD crashes, bad snapshots, refused transfers, start-up errors."""

import json
import os
import signal
import socket
import subprocess
import time

import dns.query
import pytest

from conftest import (answers, axfr, free_port, pid_alive,
                      processes_with, replace_file, soa_serial, wait_for)

KEY = ("xfr", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=")


def test_nsd_sigkill_is_restarted(sync, snapshot):
    s = sync(snapshot)
    old = s.nsd_pid()
    os.kill(old, signal.SIGKILL)
    s.wait_log("nsd exited, restarting")
    wait_for(lambda: s.nsd_pid() not in (None, old) and
             pid_alive(s.nsd_pid()), 10, what="a new NSD")
    wait_for(lambda: answers("web.shop.svc.cluster.local.", "A", s.port) ==
             ["10.96.12.34"], 10, what="answers after the restart")
    assert "signal=KILL" in s.text()
    # And once more: killing NSD's other processes (its main process and
    # the servers, all but the launched one in nsd.pid) also ends in a
    # restart. Found by their configuration rather than as the children of
    # nsd.pid: after a reload NSD's main process is the child of the one
    # that did the reload, not of the launched one, and a reload (the first
    # transfer after the restart) may be under way at this very moment.
    conf = os.path.join(s.state_dir, "nsd.conf")
    xfrd = s.nsd_pid()
    others = wait_for(lambda: [p for p in processes_with(conf) if p != xfrd],
                      10, what="the new NSD's main and server processes")
    for pid in others:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass        # one that a reload just replaced
    s.wait_log("nsd exited, restarting", count=2)
    wait_for(lambda: answers("web.shop.svc.cluster.local.", "A", s.port) ==
             ["10.96.12.34"], 10, what="answers after the second restart")


def test_malformed_json_keeps_zone(sync, snapshot):
    s = sync(snapshot)
    serial = soa_serial("cluster.local.", s.port)
    with open(snapshot) as f:
        good = f.read()
    replace_file(snapshot, good[: len(good) // 2])     # truncated JSON
    s.wait_log("snapshot rejected, the zones being served stay")
    assert "byte " in s.text()
    assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
        ["10.96.12.34"]
    assert soa_serial("cluster.local.", s.port) == serial
    # A good file afterwards is picked up again.
    replace_file(snapshot, good.replace("10.96.12.34", "10.96.12.40"))
    wait_for(lambda: answers("web.shop.svc.cluster.local.", "A", s.port) ==
             ["10.96.12.40"], 10, what="recovery")


def test_invalid_names_are_logged_and_skipped(sync, snapshot):
    s = sync(snapshot)
    with open(snapshot) as f:
        doc = json.load(f)
    bad = json.loads(json.dumps([i for i in doc["items"]
                                 if i["kind"] == "Service" and
                                 i["metadata"]["name"] == "web"][0]))
    bad["metadata"]["name"] = "x" * 70          # a label over 63 octets
    bad["spec"]["clusterIP"] = "10.96.99.99"
    bad["spec"]["clusterIPs"] = ["10.96.99.99"]
    doc["items"].append(bad)
    replace_file(snapshot, json.dumps(doc))
    s.wait_log("snapshot loaded", count=2)
    # The warning names the object; it comes with the publish that
    # follows the load (after the pacing), not with the load itself.
    wait_for(lambda: "x" * 70 in s.text(), 10,
             what="the warning naming the object")
    assert answers("web.shop.svc.cluster.local.", "A", s.port) == \
        ["10.96.12.34"]
    assert answers("99.99.96.10.in-addr.arpa.", "PTR", s.port) == []


def test_transfer_acl(sync, snapshot):
    s = sync(snapshot, "--tsig-key", "%s:hmac-sha256:%s" % KEY,
             "--allow-transfer", "127.0.0.3/32,key=xfr",
             "--allow-transfer", "127.0.0.4")
    p = s.port
    assert len(axfr("cluster.local.", p)) > 10             # 127.0.0.1
    assert len(axfr("cluster.local.", p, source="127.0.0.4")) > 10
    with pytest.raises(dns.query.TransferError):
        axfr("cluster.local.", p, source="127.0.0.2")      # not allowed
    with pytest.raises(dns.query.TransferError):
        axfr("cluster.local.", p, source="127.0.0.3")      # no key
    assert len(axfr("cluster.local.", p, source="127.0.0.3", key=KEY)) > 10
    assert "axfr for cluster.local. from 127.0.0.3" in s.text()


def test_port_in_use_is_one_clear_error(kubezone, snapshot, state_dir):
    port = free_port()
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", port))
    try:
        r = subprocess.run([kubezone, "sync", "--snapshot", snapshot,
                            "--http", "off", "--state-dir", state_dir,
                            "--listen", "127.0.0.1:%d" % port],
                           capture_output=True, text=True, timeout=30)
    finally:
        busy.close()
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert "NSD could not start" in last
    assert "Address already in use" in last
    assert processes_with(os.path.join(state_dir, "nsd.conf")) == []


def test_missing_nsd_and_bad_state_dir(kubezone, snapshot, state_dir):
    r = subprocess.run([kubezone, "sync", "--snapshot", snapshot, "--http",
                        "off", "--state-dir", state_dir, "--nsd",
                        "/nonexistent/nsd"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "kubezone sync: NSD binary /nonexistent/nsd is missing" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    blocker = os.path.join(state_dir, "file")
    open(blocker, "w").close()
    r = subprocess.run([kubezone, "sync", "--snapshot", snapshot, "--http",
                        "off", "--state-dir", os.path.join(blocker, "sub")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot create state directory" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_stale_nsd_is_stopped_at_start(sync, snapshot, state_dir):
    s = sync(snapshot)
    conf = os.path.join(state_dir, "nsd.conf")
    s.stop()
    # Play a leftover NSD from an earlier run, in a session of its own.
    stale = subprocess.Popen(["nsd", "-d", "-c", conf],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: soa_serial("cluster.local.", s.port) is not None, 10,
                 what="the stale NSD answering")
        s2 = sync(snapshot, port=s.port, state=state_dir, wait=False)
        s2.wait_log("nsd ready")
        assert "stopping a stale NSD" in s2.text()
        assert stale.wait(10) is not None
        assert answers("web.shop.svc.cluster.local.", "A", s2.port) == \
            ["10.96.12.34"]
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait()
