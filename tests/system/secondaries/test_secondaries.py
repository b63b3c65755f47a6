"""Real secondaries (Knot and BIND) follow kubezone by NOTIFY and IXFR.

Knot is a plain secondary; BIND uses TSIG and transfers from 127.0.0.3,
which kubezone only allows with the key. The configurations are the ones
docs/operations.md shows.
"""

import os
import shutil
import tempfile
import time

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from conftest import (answers, axfr, free_port, query, read_text,
                      replace_file, soa_serial, stop_pid, wait_for)
from secondary_configs import (BIND_CONF, KEY_NAME, KEY_SECRET, KNOT_CONF,
                               UdpStandIn, start_knot, start_named)


@pytest.fixture
def secondaries():
    """Start Knot and BIND on free ports once the primary port is known."""
    d = tempfile.mkdtemp(prefix="kz-sec-", dir="/tmp")
    procs = []
    ports = {"knot": free_port(), "bind": free_port()}

    def start(primary):
        kd = os.path.join(d, "knot")
        os.makedirs(os.path.join(kd, "db"))
        os.makedirs(os.path.join(kd, "zones"))
        procs.append(start_knot(kd, KNOT_CONF.format(
            dir=kd, port=ports["knot"], primary=primary)))
        bd = os.path.join(d, "bind")
        os.makedirs(bd)
        procs.append(start_named(bd, BIND_CONF.format(
            dir=bd, port=ports["bind"], primary=primary, key=KEY_NAME,
            secret=KEY_SECRET)))
        return {"knot": os.path.join(kd, "knot.log"),
                "bind": os.path.join(bd, "named.log")}

    yield ports, start
    for p in procs:
        stop_pid(p)
    if not os.environ.get("KZ_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


def same_records(zone, primary, secondary):
    """Every RRset of kubezone's AXFR of ZONE, asked of SECONDARY (which
    allows no transfer), has the same records there; None when so, else
    what differs."""
    want = {}
    for owner, ttl, rtype, rdata in axfr(zone, primary):
        want.setdefault((owner, rtype), set()).add((ttl, rdata))
    for (owner, rtype), records in sorted(want.items()):
        r = query(owner, rtype, port=secondary, tcp=True)
        got = set()
        for rrset in r.answer:
            if rrset.name.to_text() == owner and \
                    dns.rdatatype.to_text(rrset.rdtype) == rtype:
                got |= {(rrset.ttl, rd.to_text()) for rd in rrset}
        if rtype == "SOA":
            # The SOA TTL may count down nowhere, but compare rdata.
            records = {x[1] for x in records}
            got = {x[1] for x in got}
        if got != records:
            return "%s %s: %s != %s" % (owner, rtype, sorted(got),
                                         sorted(records))
    return None


def test_knot_and_bind_follow_by_notify_and_ixfr(sync, snapshot,
                                                 secondaries):
    ports, start_secondaries = secondaries
    s = sync(snapshot,
             "--tsig-key", "%s:hmac-sha256:%s" % (KEY_NAME, KEY_SECRET),
             "--allow-transfer", "127.0.0.3/32,key=%s" % KEY_NAME,
             "--notify", "127.0.0.1:%d" % ports["knot"],
             "--notify", "127.0.0.1:%d,key=%s" % (ports["bind"], KEY_NAME))
    logs = start_secondaries(s.port)
    name = "web.shop.svc.cluster.local."
    serial = soa_serial("cluster.local.", s.port)
    for which in ("knot", "bind"):
        wait_for(lambda: soa_serial("cluster.local.", ports[which]) ==
                 serial, 20, what="%s has the zone" % which)
        assert answers(name, "A", ports[which]) == ["10.96.12.34"]

    # A change: NOTIFY, then IXFR, and both serve the new record.
    with open(snapshot) as f:
        doc = f.read()
    replace_file(snapshot, doc.replace("10.96.12.34", "10.96.12.77"))
    wait_for(lambda: soa_serial("cluster.local.", s.port) > serial, 10,
             what="new serial on the primary")
    new = soa_serial("cluster.local.", s.port)
    for which in ("knot", "bind"):
        # Refresh is 2 hours: only NOTIFY can make this quick.
        wait_for(lambda: answers(name, "A", ports[which]) ==
                 ["10.96.12.77"], 10, what="%s serves the change" % which)
        assert soa_serial("cluster.local.", ports[which]) == new
        # The whole zone, not just the record that changed.
        assert same_records("cluster.local.", s.port, ports[which]) is None, \
            same_records("cluster.local.", s.port, ports[which])

    knot = read_text(logs["knot"])
    assert "notify, incoming" in knot
    ixfr = [l for l in knot.splitlines() if "IXFR, incoming" in l]
    assert any("finished" in l for l in ixfr), knot[-2000:]
    assert not any("AXFR-style" in l for l in ixfr), ixfr
    assert "serial %d -> %d" % (serial, new) in knot

    bind = read_text(logs["bind"])
    assert "received notify for zone 'cluster.local': TSIG '%s'" % \
        KEY_NAME in bind
    assert "transferred serial %d: TSIG '%s'" % (new, KEY_NAME) in bind
    # BIND does not name the kind of transfer; an IXFR of one changed
    # record is 6 records (SOA, old SOA, old A, SOA, new A, SOA) where
    # the full zone would be all of it.
    done = [l for l in bind.splitlines() if "Transfer completed" in l]
    assert len(done) == 2, done
    assert "(serial %d)" % new in done[1]
    assert " 6 records" in done[1], done
    assert "records" in done[0] and " 6 records" not in done[0]

    nsd_log = s.text()
    assert "ixfr for cluster.local. from 127.0.0.3" in nsd_log, \
        nsd_log[-3000:]
    assert "axfr for cluster.local. from 127.0.0.1" in nsd_log


def test_secondary_without_a_copy_is_notified_again(sync, snapshot):
    """A secondary whose first transfer failed answers SERVFAIL and waits
    out its retry timer. kubezone counts it as behind and has NSD NOTIFY
    it again. The stand-in secondary answers every SOA query SERVFAIL and
    counts the NOTIFYs NSD sends it: NSD's own (one per serial) and then
    the ones kubezone asks for."""
    notifies = []

    def answer(q):
        r = dns.message.make_response(q)
        if q.opcode() == dns.opcode.NOTIFY:
            notifies.append(q.question[0].name.to_text())
            r.flags |= dns.flags.AA
        else:
            r.set_rcode(dns.rcode.SERVFAIL)
        return r

    with UdpStandIn(answer) as sec:
        s = sync(snapshot, "--notify", "127.0.0.1:%d" % sec.port)
        wait_for(lambda: notifies.count("cluster.local.") >= 2, 30,
                 what="a second NOTIFY of cluster.local.")
        warned = [ln for ln in s.text().splitlines()
                  if "secondary lags behind" in ln and
                  "zone=cluster.local." in ln]
        assert warned and "serial=none" in warned[0], s.text()[-3000:]
        # Only one serial was ever published: the second NOTIFY was the
        # watch's, not a new change.
        pub = [ln for ln in s.text().splitlines()
               if 'msg="zone published"' in ln and
               "zone=cluster.local." in ln]
        assert len(pub) == 1, pub


def test_stuck_secondary_notified_with_backoff_moving_one_left_alone(sync,
                                                                    snapshot):
    """A secondary behind whose serial does not move is notified again,
    each time after twice as many checks; one that moves, even while
    still behind, is following and is left alone. The stand-in secondary
    answers SOA SERVFAIL until the test knows the published serial, then
    with a serial 1,000 behind it, and notes when each NOTIFY and each SOA
    query arrives."""
    notifies, soas = [], []
    serial = {"value": None, "moving": False}

    def answer(q):
        now = time.monotonic()
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        if q.opcode() == dns.opcode.NOTIFY:
            notifies.append(now)
            return r
        soas.append(now)
        if serial["value"] is None:
            r.set_rcode(dns.rcode.SERVFAIL)
            return r
        if serial["moving"]:
            serial["value"] = (serial["value"] + 1) % 2**32
        r.answer.append(dns.rrset.from_text(
            q.question[0].name, 30, "IN", "SOA",
            "ns.dns.cluster.local. hostmaster.cluster.local. "
            "%d 7200 1800 86400 30" % serial["value"]))
        return r

    with UdpStandIn(answer) as sec:
        s = sync(snapshot, "--notify",
                 "127.0.0.1:%d,zone=cluster.local" % sec.port)
        stuck = (soa_serial("cluster.local.", s.port) - 1000) % 2**32
        serial["value"] = stuck
        since = time.monotonic()
        # From there on (a first serial is a move, whatever was counted
        # while it answered SERVFAIL), three NOTIFYs asked for by kubezone
        # while the secondary stays where it is.
        def after():
            return [n for n in notifies if n > since]
        wait_for(lambda: len(after()) >= 3, 60,
                 what="three NOTIFYs for a secondary that does not move")
        warned = [ln for ln in s.text().splitlines()
                  if "secondary lags behind" in ln]
        assert "serial=%d " % stuck in warned[-1], warned
        n1, n2, n3 = after()[:3]

        def checks(a, b):
            return len([q for q in soas if a < q <= b])
        # Each NOTIFY waits for twice the checks the one before it did.
        assert checks(n1, n2) >= 1.5 * 3, (checks(n1, n2), soas, notifies)
        assert checks(n2, n3) >= 1.5 * checks(n1, n2), (soas, notifies)

        # Moving (one serial up at every check, still far behind): no
        # NOTIFY for more checks than the next one would have needed.
        serial["moving"] = True
        before, asked = len(notifies), len(soas)
        more = 2 * checks(n2, n3) + 6
        wait_for(lambda: len(soas) >= asked + more, 120,
                 what="%d checks of a moving secondary" % more)
        assert len(notifies) == before, notifies
