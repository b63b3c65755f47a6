"""NOTIFY per zone, signed transfers from this host, and the warning about
whole reverse trees.

- A `--notify` target that lists its zones (`zone=`) gets NOTIFY for those
  zones only, and kubezone asks it for no other zone's serial: a stand-in
  secondary (a UDP socket) answers REFUSED for zones it does not serve,
  as PowerDNS and Unbound do, and counts what it is asked.
- A zone kubezone does not serve in `zone=` stops the start, naming it.
- AXFR from 127.0.0.1 and ::1 signed with a configured key is allowed,
  as unsigned AXFR from there always was; other addresses are not.
- Serving in-addr.arpa. or ip6.arpa. whole while other hosts may transfer
  is logged once at start; `--reverse-zone` with the cluster's CIDRs is
  not.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from conftest import answers, axfr, free_port, replace_file, wait_for
from secondary_configs import UdpStandIn

KEY = ("xfr", "a3ViZXpvbmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=")
WARNING = 'msg="whole reverse trees open to transfer'


class StandIn(UdpStandIn):
    """A secondary on a UDP port: NOERROR+AA for NOTIFY, the last
    notified serial for SOA queries of the zones it serves (SERVFAIL
    before the first NOTIFY), REFUSED for every other zone."""

    def __init__(self, served):
        self.served = set(served)
        self.notifies = []      # (zone, serial or None)
        self.soa_queries = []   # zone
        self.serial = {}
        super().__init__()

    def answer(self, q):
        r = dns.message.make_response(q)
        zone = q.question[0].name.to_text()
        if q.opcode() == dns.opcode.NOTIFY:
            serial = None
            for rrset in q.answer:
                if rrset.rdtype == dns.rdatatype.SOA:
                    serial = rrset[0].serial
            self.notifies.append((zone, serial))
            if zone in self.served and serial is not None:
                self.serial[zone] = serial
            r.flags |= dns.flags.AA
            return r
        self.soa_queries.append(zone)
        if zone not in self.served:
            r.set_rcode(dns.rcode.REFUSED)
        elif zone not in self.serial:
            r.set_rcode(dns.rcode.SERVFAIL)
        else:
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text(
                zone, 30, "IN", "SOA", "ns.%s hostmaster.%s %d 7200 1800 "
                "1209600 30" % (zone, zone, self.serial[zone])))
        return r

    def notified(self, zone):
        return [serial for z, serial in self.notifies if z == zone]


@pytest.fixture
def stand_in():
    made = []

    def make(served):
        s = StandIn(served)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def zone_clauses(conf):
    """{zone name: its zone: clause} of an nsd.conf."""
    out = {}
    for part in conf.split("\nzone:\n")[1:]:
        name = re.search(r'^\tname: "([^"]+)"', part, re.M).group(1)
        out[name] = part.rstrip("\n") + "\n"
    return out


def test_listed_zones_only_are_notified_and_probed(sync, snapshot,
                                                   stand_in):
    sec = stand_in(["cluster.local."])
    s = sync(snapshot, "--notify",
             "127.0.0.1:%d,zone=cluster.local." % sec.port)
    target = "127.0.0.1@%d" % sec.port

    with open(os.path.join(s.state_dir, "nsd.conf")) as f:
        conf = f.read()
    assert target not in conf.split("\nzone:\n")[0]
    clauses = zone_clauses(conf)
    assert set(clauses) == {"cluster.local", "in-addr.arpa", "ip6.arpa"}
    assert "\tnotify: %s NOKEY\n" % target in clauses["cluster.local"]
    assert target not in clauses["in-addr.arpa"]
    assert target not in clauses["ip6.arpa"]

    wait_for(lambda: sec.notified("cluster.local."), 20,
             what="NOTIFY of cluster.local.")
    first = sec.notified("cluster.local.")[-1]

    # A change of a Service's address: both cluster.local. and
    # in-addr.arpa. get a new serial; only cluster.local. is notified.
    with open(snapshot) as f:
        doc = f.read()
    replace_file(snapshot, doc.replace("10.96.12.34", "10.96.12.77"))
    wait_for(lambda: answers("77.12.96.10.in-addr.arpa.", "PTR", s.port),
             10, what="the new PTR served")
    wait_for(lambda: any(n and n > first
                         for n in sec.notified("cluster.local.")), 10,
             what="NOTIFY of the new cluster.local. serial")
    # The watch asks once a second: a few rounds, then look.
    before = sec.soa_queries.count("cluster.local.")
    wait_for(lambda: sec.soa_queries.count("cluster.local.") >= before + 3,
             15, what="the watch asking for cluster.local.")

    zones = {z for z, _ in sec.notifies}
    assert zones == {"cluster.local."}, sec.notifies
    assert set(sec.soa_queries) == {"cluster.local."}, sec.soa_queries
    log = s.text()
    assert not re.search(r"zone=(in-addr|ip6)\.arpa\. secondary=", log), \
        log[-3000:]


def test_a_zone_not_served_stops_the_start(kubezone, snapshot, state_dir):
    def run(*args):
        return subprocess.run(
            [kubezone, "sync", "--snapshot", snapshot, "--state-dir",
             state_dir, "--http", "off", "--listen", "127.0.0.1:1", *args],
            capture_output=True, text=True, timeout=20)

    r = run("--notify", "192.0.2.1,zone=example.com.")
    assert r.returncode == 2, r.stderr
    assert "--notify 192.0.2.1: zone 'example.com.' is not one kubezone " \
        "serves (cluster.local., in-addr.arpa., ip6.arpa.;" in r.stderr
    # With --reverse-zone, in-addr.arpa. itself is no longer served.
    r = run("--reverse-zone", "10.96.0.0/16", "--notify",
            "192.0.2.1,zone=in-addr.arpa")
    assert r.returncode == 2, r.stderr
    assert "zone 'in-addr.arpa.' is not one kubezone serves " \
        "(cluster.local., 96.10.in-addr.arpa.;" in r.stderr
    r = run("--notify", "192.0.2.1,zones=cluster.local.")
    assert r.returncode == 2
    assert "expected key=NAME or zone=ZONE" in r.stderr


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as t:
            t.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_signed_transfer_from_this_host(sync, snapshot):
    """`kubectl port-forward` arrives from loopback: `dig -y KEY AXFR`
    must work there as unsigned AXFR does."""
    port = free_port()
    extra = ["--listen", "[::1]:%d" % port] if ipv6_loopback() else []
    s = sync(snapshot, "--tsig-key", "%s:hmac-sha256:%s" % KEY,
             "--allow-transfer", "192.0.2.0/24,key=%s" % KEY[0], *extra,
             port=port)

    unsigned = axfr("cluster.local.", s.port)
    assert any(r[2] == "A" for r in unsigned)
    assert axfr("cluster.local.", s.port, key=KEY) == unsigned
    assert axfr("in-addr.arpa.", s.port, key=KEY)
    if extra:
        assert axfr("cluster.local.", s.port, host="::1", key=KEY) == \
            unsigned
    # Other addresses stay as they were: not allowed, signed or not.
    for key in (None, KEY):
        with pytest.raises(Exception):
            axfr("cluster.local.", s.port, source="127.0.0.2", key=key)
    log = s.text()
    assert "axfr for cluster.local. from 127.0.0.1" in log
    assert not re.search(r"axfr for cluster\.local\. from 127\.0\.0\.1\S* "
                         r"refused", log), log[-3000:]


def test_whole_reverse_trees_open_to_transfer_are_warned_about(
        sync, snapshot):
    s = sync(snapshot, "--allow-transfer", "10.0.0.0/8")
    warned = [ln for ln in s.text().splitlines() if WARNING in ln]
    assert len(warned) == 1, s.text()[-3000:]
    assert "level=warn" in warned[0]
    assert "zones=in-addr.arpa.,ip6.arpa." in warned[0]
    assert "NXDOMAIN" in warned[0] and "8.8.8.8" in warned[0]
    assert "--reverse-zone to the cluster's Service and Pod CIDRs" in \
        warned[0]
    s.stop()

    quiet = [
        # The cluster's CIDRs: only the cluster's reverse zones.
        ("--allow-transfer", "10.0.0.0/8", "--reverse-zone",
         "10.96.0.0/12", "--reverse-zone", "10.244.0.0/16"),
        # Whole trees, but only this host may transfer.
        ("--allow-transfer", "127.0.0.3/32", "--allow-transfer", "::1"),
    ]
    for args in quiet:
        state = tempfile.mkdtemp(prefix="kz-st-", dir="/tmp")
        try:
            s = sync(snapshot, *args, state=state)
            assert WARNING not in s.text(), s.text()[-3000:]
            s.stop()
        finally:
            shutil.rmtree(state, ignore_errors=True)
