"""A catalog zone (RFC 9432, version 2): Knot and BIND take kubezone's
zones from it, set up as docs/operations.md says.

The Knot and BIND configurations are the fenced blocks of the catalog
section of docs/operations.md, with addresses, ports and paths changed
(and what a server started by hand in a temporary directory needs: its
port, its log, its pid and control files). Neither secondary names a
member zone in its configuration: they learn every zone from the
catalog, follow a change of a member by NOTIFY and IXFR, and after a
restart of kubezone with another --reverse-zone serve the new reverse
zone and drop the old one.
"""

import os
import re
import shutil
import tempfile

import dns.rcode
import pytest

from conftest import (axfr, free_port, query, read_text, replace_file,
                      soa_serial, stop_pid, wait_for)
from secondary_configs import (block_with, kubezone_args, section,
                               start_knot, start_named, substitute)

SECTION = "A catalog zone"
CATALOG = "catalog.kubezone.invalid."
OLD_REV = "0.96.10.in-addr.arpa."     # --reverse-zone 10.96.0.0/24
NEW_REV = "0.244.10.in-addr.arpa."    # --reverse-zone 10.244.0.0/24


def kubezone_options(text, knot, bind):
    return kubezone_args(text, [("192.0.2.10", "127.0.0.1:%d" % knot),
                                ("192.0.2.20", "127.0.0.1:%d" % bind)])


def knot_conf(text, d, port, primary):
    conf = substitute(block_with(text, "catalog-role: interpret"), [
        ("192.0.2.1@53", "127.0.0.1@%d" % primary),
        ("address: 192.0.2.1\n", "address: 127.0.0.1\n"),
        ("/var/lib/knot/zones", os.path.join(d, "zones")),
    ])
    head = ('server:\n    rundir: "%s"\n    listen: 127.0.0.1@%d\n'
            'log:\n  - target: "%s/knot.log"\n    any: info\n'
            'database:\n    storage: "%s/db"\ncontrol:\n'
            '    listen: "%s/knot.sock"\n' % (d, port, d, d, d))
    return head + conf


def bind_conf(text, d, port, primary):
    conf = substitute(block_with(text, "catalog-zones"), [
        ('directory "/var/cache/bind";', 'directory "%s";\n    '
         'pid-file "%s/named.pid";' % (d, d)),
        ("listen-on port 53 { 192.0.2.20; };",
         "listen-on port %d { 127.0.0.1; };\n    listen-on-v6 { none; };"
         % port),
        ("default-primaries port 53 { 192.0.2.1; }",
         "default-primaries port %d { 127.0.0.1; }" % primary),
        ("primaries port 53 { 192.0.2.1; };",
         "primaries port %d { 127.0.0.1; };" % primary),
    ])
    return conf + ('controls { };\nlogging {\n    channel log { file '
                   '"%s/named.log"; severity info; print-time yes;\n'
                   '        print-category yes; };\n'
                   '    category default { log; };\n};\n' % d)


@pytest.fixture
def consumers():
    d = tempfile.mkdtemp(prefix="kz-cat-", dir="/tmp")
    procs = []
    ports = {"knot": free_port(), "bind": free_port()}

    def start(primary):
        text = section(SECTION)
        kd, bd = os.path.join(d, "knot"), os.path.join(d, "bind")
        for sub in ("db", "zones"):
            os.makedirs(os.path.join(kd, sub))
        os.makedirs(bd)
        procs.append(start_knot(kd, knot_conf(text, kd, ports["knot"],
                                              primary)))
        procs.append(start_named(bd, bind_conf(text, bd, ports["bind"],
                                               primary)))
        return {"knot": os.path.join(kd, "knot.log"),
                "bind": os.path.join(bd, "named.log")}

    yield ports, start
    for p in procs:
        stop_pid(p)
    if not os.environ.get("KZ_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


def serves(zone, port):
    """The serial PORT serves ZONE with authority, or None."""
    try:
        r = query(zone, "SOA", port=port)
    except Exception:
        return None
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def members(port):
    """The member zones of the catalog as PORT transfers it: label ->
    zone."""
    out = {}
    for owner, _, rtype, rdata in axfr(CATALOG, port):
        if rtype == "PTR" and owner.endswith(".zones." + CATALOG):
            out[owner.split(".")[0]] = rdata
    return out


def test_knot_and_bind_take_the_zones_from_the_catalog(sync, snapshot,
                                                       consumers):
    ports, start = consumers
    text = section(SECTION)
    args = kubezone_options(text, ports["knot"], ports["bind"])
    assert "--catalog-zone" in args
    s = sync(snapshot, "--reverse-zone", "10.96.0.0/24", *args)
    s.wait_log("catalog published", timeout=20)
    zones = ["cluster.local.", OLD_REV]
    first = members(s.port)
    assert sorted(first.values()) == sorted(zones)
    assert all(re.fullmatch(r"[0-9a-f]{16}", k) for k in first)
    # The catalog's own records (RFC 9432 sections 4.1, 4.2).
    cat = {(o, t, r) for o, _, t, r in axfr(CATALOG, s.port)}
    assert (CATALOG, "NS", "invalid.") in cat
    assert ("version." + CATALOG, "TXT", '"2"') in cat

    logs = start(s.port)
    for which in ("knot", "bind"):
        for z in zones:
            want = soa_serial(z, s.port)
            wait_for(lambda: serves(z, ports[which]) == want, 30,
                     what="%s serves %s from the catalog" % (which, z))

    # A change of a member reaches both by NOTIFY and IXFR.
    serial = soa_serial("cluster.local.", s.port)
    with open(snapshot) as f:
        doc = f.read()
    replace_file(snapshot, doc.replace("10.96.12.34", "10.96.12.77"))
    wait_for(lambda: soa_serial("cluster.local.", s.port) > serial, 10,
             what="new serial on the primary")
    new = soa_serial("cluster.local.", s.port)
    for which in ("knot", "bind"):
        wait_for(lambda: serves("cluster.local.", ports[which]) == new, 15,
                 what="%s follows the member's change" % which)

    # Restart with another reverse zone: the old one leaves the catalog,
    # the new one enters it, and NSD serves each member the catalog
    # names whenever it names it.
    s.stop()
    s2 = sync(snapshot, "--reverse-zone", "10.244.0.0/24", *args,
              port=s.port, state=s.state_dir, wait=False)
    seen_new = []

    def catalog_consistent():
        try:
            listed = members(s2.port)
        except Exception:
            return False        # NSD still starting
        for z in listed.values():
            assert serves(z, s2.port) is not None, \
                "the catalog names %s, which NSD does not serve" % z
        if NEW_REV in listed.values():
            seen_new.append(listed)
            return True
        return False
    wait_for(catalog_consistent, 30, what="the new catalog on NSD")
    listed = seen_new[-1]
    assert sorted(listed.values()) == sorted(["cluster.local.", NEW_REV])
    # Member labels are stable across restarts.
    label = [k for k, v in first.items() if v == "cluster.local."][0]
    assert listed[label] == "cluster.local."
    assert re.search(r"catalog published: nsd serves every member zone.*"
                     r"members=2", s2.text())

    want = soa_serial(NEW_REV, s2.port)
    for which in ("knot", "bind"):
        wait_for(lambda: serves(NEW_REV, ports[which]) == want, 30,
                 what="%s serves the new member" % which)
        wait_for(lambda: serves(OLD_REV, ports[which]) is None, 30,
                 what="%s dropped the old member" % which)
        assert serves("cluster.local.", ports[which]) is not None
    knot = read_text(logs["knot"])
    assert "[%s] zone added from catalog" % NEW_REV in knot
    assert "[%s] zone purged" % OLD_REV in knot
    # NSD served the old member until the catalog dropped it.
    assert re.search(r"zone dropped after leaving the catalog.*zone=%s"
                     % re.escape(OLD_REV.rstrip(".")), s2.text())
    assert not os.path.exists(os.path.join(
        s2.state_dir, "zones", OLD_REV.rstrip(".") + ".zone"))
    assert "catz: adding zone '%s'" % NEW_REV.rstrip(".") in \
        read_text(logs["bind"])
    assert "catz: deleting zone '%s'" % OLD_REV.rstrip(".") in \
        read_text(logs["bind"])
