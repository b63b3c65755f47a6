"""A signed zone's start does not hold the daemon up.

What is expected (docs/operations.md, DNSSEC, start-up): a zone signed
whole (the first start) is signed in steps between turns of the event
loop, so /healthz keeps answering throughout; a change that arrives
meanwhile is published once the zone is signed. A restart resumes from
NSD's zone files: the signatures of unchanged RRsets are taken over (on
an unchanged cluster only the SOA of the new serial is signed), NSD gets
an IXFR, and it serves the last signed zone until then.

Real kubezone, real NSD; the cluster comes from tests/bench/gen_cluster.py
(large enough that signing takes seconds).
"""

import calendar
import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import pytest

from conftest import ROOT, wait_for
from syncer_harness import FakeApi, Syncer, service, svc_path

GEN = os.path.join(ROOT, "tests", "bench", "gen_cluster.py")
ZONE = "cluster.local."


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    path = str(d / "cluster.json")
    subprocess.run([sys.executable, GEN, "--services", "300", "--pods",
                    "12000", "--namespaces", "20", "--seed", "11",
                    "--out", path], check=True)
    return path


@pytest.fixture
def big_snapshot(generated, tmp_path):
    """A test's own copy (its directory holds the test's logs too)."""
    path = str(tmp_path / "cluster.json")
    shutil.copy(generated, path)
    return path


def dquery(name, rdtype, port):
    """A query with the DO bit; None when nothing answers."""
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    try:
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    except (dns.exception.Timeout, OSError):
        return None


def serial_of(port, zone=ZONE):
    """The SOA serial NSD answers for ZONE (None: no answer yet)."""
    r = dquery(zone, "SOA", port)
    return next((rr[0].serial for rr in r.answer
                 if rr.rdtype == dns.rdatatype.SOA), None) if r else None


def log_time(line):
    """The wall-clock time of a log line (its ts= field)."""
    m = re.search(r"ts=(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z", line)
    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return t + int(m.group(2)) / 1000


def signing_window(text, zone=ZONE):
    """(begin, end) of ZONE's last whole signing, from the log."""
    begin = [l for l in text.splitlines()
             if 'msg="signing zone whole"' in l and "zone=%s " % zone in l]
    end = [l for l in text.splitlines()
           if 'msg="zone signed"' in l and "zone=%s " % zone in l]
    assert begin and end, text[-3000:]
    return log_time(begin[-1]), log_time(end[-1])


class Poller:
    """GET /healthz over and over; every answer with its wall times."""

    def __init__(self, port):
        self.port = port
        self.samples = []           # (sent, answered, status)
        self.done = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done:
            t0 = time.time()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=30)
                c.request("GET", "/healthz")
                status = c.getresponse().status
                c.close()
            except OSError:
                status = None       # not listening yet
            if status is not None:
                self.samples.append((t0, time.time(), status))
            time.sleep(0.02)

    def stop(self):
        self.done = True
        self.thread.join(40)


def test_healthz_answers_while_a_zone_is_signed(generated, tmp_path):
    """The first start signs the cluster zone whole in steps: /healthz
    keeps answering throughout, and a Service created at the API while
    the zone is being signed is served (signed) once it is."""
    fake = FakeApi(tmp_path / "fake", snapshot=generated,
                   args=["--bookmark-interval", "30"])
    s = Syncer(tmp_path / "kz", args=["--pod-records", "--dnssec"])
    with fake:
        fake.write_kubeconfig()
        s.kubeconfig = fake.workdir / "kubeconfig"
        s.start()
        poller = Poller(s.http_port)
        try:
            wait_for(lambda: 'msg="signing zone whole" zone=%s' % ZONE in
                     s.log_text(), 300, what="the signing to begin")
            fake.api("POST", svc_path(), service("late",
                     clusterIP="10.96.250.250"), expect=201)
            s.wait_ready(timeout=600)
            s.wait_answer("late.default.svc.cluster.local", "A",
                          ["10.96.250.250"], timeout=60)
            late = wait_for(lambda: dquery("late.default.svc.cluster.local.",
                                           "A", s.dns_port), 30,
                            what="an answer")
        finally:
            poller.stop()
            s.stop()
    text = s.log_text()
    begin, end = signing_window(text)
    # The zone must take long enough to sign for the check to mean
    # something (the cluster above takes seconds).
    assert end - begin > 1.0, (begin, end)
    during = [x for x in poller.samples if begin <= x[0] <= end]
    assert len(during) >= 5, (len(during), end - begin)
    assert all(st == 200 for _, _, st in during), during
    # Answers all along the signing, none held up for a large part of
    # it (a signing in one piece would hold a request up for all of it).
    thirds = [begin + (end - begin) * k / 3 for k in range(4)]
    for lo, hi in zip(thirds, thirds[1:]):
        assert any(lo <= t1 <= hi for _, t1, _ in during), (lo, hi)
    slowest = max(t1 - t0 for t0, t1, _ in during)
    assert slowest < max(2.0, (end - begin) / 3), (slowest, end - begin)
    assert any(rr.rdtype == dns.rdatatype.RRSIG for rr in late.answer), late


def resumed_line(text, zone):
    for line in text.splitlines():
        if "zone resumed from nsd's zone file" in line and \
                "zone=%s " % zone in line:
            return line
    return None


def test_restart_resumes_serving_the_old_zone(sync, big_snapshot):
    """A restart on an unchanged cluster takes every signature over from
    NSD's zone files: only the SOA of the new serial is signed, NSD gets
    an IXFR, and it serves the last signed zone until then."""
    s = sync(big_snapshot, "--dnssec", "--pod-records", wait=False)
    s.wait_log('msg="zones served"', timeout=600)
    old = wait_for(lambda: serial_of(s.port), 30, what="the first serial")
    s.stop()
    s2 = sync(big_snapshot, "--dnssec", "--pod-records", port=s.port,
              wait=False)
    served = []                 # (time, serial, signed) until served

    def poll():
        t = time.time()
        r = dquery(ZONE, "SOA", s.port)
        if r is not None:
            serial = next((rr[0].serial for rr in r.answer
                           if rr.rdtype == dns.rdatatype.SOA), None)
            sig = any(rr.rdtype == dns.rdatatype.RRSIG for rr in r.answer)
            served.append((t, serial, sig))
        return 'msg="zones served"' in s2.text()

    wait_for(poll, 600, what="the restarted daemon's zones served")
    text = s2.text()
    for zone in (ZONE, "in-addr.arpa."):
        line = resumed_line(text, zone)
        assert line is not None, text[-3000:]
        assert " signatures_made=1 " in line, line
        assert re.search(r'transfer served" zone=%s kind=ixfr ' %
                         re.escape(zone), text), zone
    assert 'msg="signing zone whole"' not in text
    # Until the zone was resumed, NSD answered the last signed zone.
    t_resumed = log_time(resumed_line(text, ZONE))
    before = [x for x in served if x[0] < t_resumed]
    assert before, (served[:3], t_resumed)
    assert all(serial == old and sig for _, serial, sig in before), \
        (old, before[:5])
    new = wait_for(lambda: serial_of(s.port), 30, what="the new serial")
    assert new > old
    r = wait_for(lambda: dquery(ZONE, "SOA", s.port), 30, what="an answer")
    assert any(rr.rdtype == dns.rdatatype.RRSIG for rr in r.answer)
