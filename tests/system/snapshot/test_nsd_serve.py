"""kubezone sync serves the rendered zones through NSD and follows changes."""

import json
import os
import re
import subprocess
import threading
import time

import dns.flags
import dns.rcode

from conftest import (answers, axfr, free_port, query, rendered_zones,
                      replace_file, soa_serial, wait_for, without_soa_serial,
                      processes_with, pid_alive)

ZONES = ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]


def edit_service_ip(path, ns, name, old, new):
    with open(path) as f:
        doc = json.load(f)
    for item in doc["items"]:
        m = item["metadata"]
        if item["kind"] == "Service" and m["name"] == name and \
                m.get("namespace") == ns:
            spec = item["spec"]
            assert spec["clusterIP"] == old
            spec["clusterIP"] = new
            spec["clusterIPs"] = [new if ip == old else ip
                                  for ip in spec["clusterIPs"]]
    return json.dumps(doc, indent=2)


def test_queries_answer_rendered_records(sync, snapshot):
    s = sync(snapshot)
    p = s.port
    assert answers("web.shop.svc.cluster.local.", "A", p) == ["10.96.12.34"]
    assert answers("kube-dns.kube-system.svc.cluster.local.", "A", p) == \
        ["10.96.0.10"]
    assert answers("_postgres._tcp.db.data.svc.cluster.local.", "SRV", p) == \
        ["0 50 5432 db-0.db.data.svc.cluster.local.",
         "0 50 5432 db-1.db.data.svc.cluster.local."]
    assert answers("api.shop.svc.cluster.local.", "AAAA", p) == \
        ["fd00:10:96::2005"]
    assert answers("payments.shop.svc.cluster.local.", "CNAME", p) == \
        ["payments.example.com."]
    assert answers("34.12.96.10.in-addr.arpa.", "PTR", p) == \
        ["web.shop.svc.cluster.local."]
    r = query("nope.shop.svc.cluster.local.", "A", port=p)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.flags & dns.flags.AA
    # Over TCP as well.
    r = query("web.shop.svc.cluster.local.", "A", port=p, tcp=True)
    assert r.answer[0][0].to_text() == "10.96.12.34"


def test_axfr_equals_render(sync, snapshot, kubezone):
    s = sync(snapshot)
    want = rendered_zones(kubezone, snapshot)
    assert sorted(want) == sorted(ZONES)
    serials = set()
    for zone in ZONES:
        got = axfr(zone, s.port)
        assert without_soa_serial(got) == without_soa_serial(want[zone]), \
            zone
        serials.add(soa_serial(zone, s.port))
    # The first publication takes the clock as serial.
    for serial in serials:
        assert abs(serial - time.time()) < 600


def test_many_zones_are_served(sync, snapshot, kubezone):
    """137 zones (10.0.0.0/9 gives 128 reverse zones, fd00::/113 eight):
    NSD transfers them all from kubezone at once, more than the feed's
    connections; the ones beyond wait their turn instead of being reset
    (NSD would retry them only much later), so the zones are served
    promptly and equal kubezone's render."""
    args = ("--reverse-zone", "10.0.0.0/9", "--reverse-zone", "fd00::/113")
    s = sync(snapshot, *args)       # waits for "zones served"
    want = rendered_zones(kubezone, snapshot, *args)
    assert len(want) == 137, sorted(want)
    for zone in want:
        assert soa_serial(zone, s.port) is not None, zone
    for zone in ("cluster.local.", "96.10.in-addr.arpa.",
                 "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f."
                 "ip6.arpa."):
        assert without_soa_serial(axfr(zone, s.port)) == \
            without_soa_serial(want[zone]), zone
    assert "too many connections" not in s.text()
    assert "Connection reset" not in s.text()


def test_snapshot_change_publishes_only_changed_zones(sync, snapshot):
    s = sync(snapshot)
    p = s.port
    before = {z: soa_serial(z, p) for z in ZONES}
    transfers = s.text().count('msg="feed: transfer served"')

    # Query in a loop while the change is published and NSD reloads.
    stop = threading.Event()
    failures, count = [], [0]

    def poll():
        while not stop.is_set():
            try:
                r = query("web.shop.svc.cluster.local.", "A", port=p,
                          timeout=1)
                if r.rcode() != dns.rcode.NOERROR or not r.answer:
                    failures.append(dns.rcode.to_text(r.rcode()))
            except Exception as e:
                failures.append(repr(e))
            count[0] += 1
            time.sleep(0.002)

    t = threading.Thread(target=poll)
    t.start()
    try:
        time.sleep(0.2)
        replace_file(snapshot, edit_service_ip(snapshot, "shop", "web",
                                               "10.96.12.34", "10.96.12.35"))
        wait_for(lambda: answers("web.shop.svc.cluster.local.", "A", p) ==
                 ["10.96.12.35"], 10, what="new address served")
        wait_for(lambda: answers("35.12.96.10.in-addr.arpa.", "PTR", p) ==
                 ["web.shop.svc.cluster.local."], 10, what="new PTR")
        time.sleep(0.3)
    finally:
        stop.set()
        t.join()
    assert failures == [], failures[:5]
    assert count[0] > 20
    after = {z: soa_serial(z, p) for z in ZONES}
    assert after["cluster.local."] > before["cluster.local."]
    assert after["in-addr.arpa."] > before["in-addr.arpa."]
    assert after["ip6.arpa."] == before["ip6.arpa."]
    # NSD took the change by IXFR, and nothing of the untouched zone.
    new = [line for line in s.text().splitlines()
           if 'msg="feed: transfer served"' in line][transfers:]
    kinds = {re.search(r"zone=(\S+)", line).group(1):
             re.search(r"kind=(\S+)", line).group(1) for line in new}
    assert kinds == {"cluster.local.": "ixfr", "in-addr.arpa.": "ixfr"}, new
    assert answers("34.12.96.10.in-addr.arpa.", "PTR", p) == []

    # Rewriting the same content (a touch) changes nothing.
    with open(snapshot) as f:
        same = f.read()
    replace_file(snapshot, same)
    s.wait_log("changes=0", timeout=5)
    assert {z: soa_serial(z, p) for z in ZONES} == after


def test_serials_survive_restart(sync, snapshot, state_dir):
    s = sync(snapshot)
    first = {z: soa_serial(z, s.port) for z in ZONES}
    assert s.stop() == 0
    # Same content: same serials; NSD's zone files are compared with
    # the cluster, nothing differs, nothing is transferred.
    s2 = sync(snapshot, state=state_dir)
    assert {z: soa_serial(z, s2.port) for z in ZONES} == first
    assert s2.text().count("deleted=0 added=0") == len(ZONES)
    assert 'msg="feed: transfer served" zone=cluster.local. kind=axfr' \
        not in s2.text()
    s2.stop()
    # Changed content right after: the serial still goes up.
    replace_file(snapshot, edit_service_ip(snapshot, "shop", "web",
                                           "10.96.12.34", "10.96.12.36"))
    s3 = sync(snapshot, state=state_dir)
    assert soa_serial("cluster.local.", s3.port) > first["cluster.local."]
    assert soa_serial("ip6.arpa.", s3.port) == first["ip6.arpa."]


def test_sigterm_stops_nsd_without_orphans(sync, snapshot):
    s = sync(snapshot)
    conf = os.path.join(s.state_dir, "nsd.conf")
    nsd = s.nsd_pid()
    assert nsd and pid_alive(nsd)
    assert len(processes_with(conf)) >= 2   # xfrd, main, server
    t0 = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - t0 < 5
    wait_for(lambda: processes_with(conf) == [], 5, what="no NSD left")
    assert "nsd stopped" in s.text()


def test_nsd_dies_with_kubezone(sync, snapshot):
    s = sync(snapshot)
    conf = os.path.join(s.state_dir, "nsd.conf")
    s.proc.kill()       # SIGKILL: no chance to clean up
    s.proc.wait()
    wait_for(lambda: processes_with(conf) == [], 10,
             what="NSD gone after kubezone was SIGKILLed")


def test_nsd_conf_command(kubezone, state_dir):
    port = free_port()
    out = subprocess.run(
        [kubezone, "nsd-conf", "--snapshot", "examples/cluster.json",
         "--listen", "127.0.0.1:%d" % port, "--listen", "[::1]:%d" % port,
         "--state-dir", state_dir, "--tsig-key",
         "xfr:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0",
         "--allow-transfer", "10.0.0.0/8,key=xfr",
         "--notify", "127.0.0.1:5399,key=xfr"],
        check=True, capture_output=True, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))).stdout
    assert "\tip-address: 127.0.0.1@%d\n" % port in out
    assert "\tip-address: ::1@%d\n" % port in out
    assert "\tprovide-xfr: 10.0.0.0/8 xfr\n" in out
    assert "\tnotify: 127.0.0.1@5399 xfr\n" in out
    for z in ("cluster.local", "in-addr.arpa", "ip6.arpa"):
        assert '\tname: "%s"\n' % z in out
    conf = os.path.join(state_dir, "check.conf")
    with open(conf, "w") as f:
        f.write(out)
    r = subprocess.run(["nsd-checkconf", conf], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
