"""Signed zones end to end: kubezone sync --dnssec.

- The zones NSD serves pass ldns-verify-zone and kzonecheck --dnssec on,
  at first and after a burst of changes, and each change reaches NSD as a
  small IXFR (the RRSIG and NSEC changes around it, not the zone).
- Keys survive a restart; `kubezone dnssec ds` gives the DS of the
  DNSKEY served.
- A validating Unbound with the zone's DS as trust anchor, pointed at a
  Knot secondary of kubezone, answers cluster names with AD; pointed at a
  secondary serving a tampered copy, it answers SERVFAIL.
- With lifetimes of seconds, signatures are refreshed and nothing served
  ever expires.
"""

import copy
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from conftest import (answers, free_port, query, read_text, replace_file,
                      soa_serial,
                      stop_pid, wait_for)
from secondary_configs import KNOT_CONF, start_knot

ZONES = ("cluster.local.", "in-addr.arpa.", "ip6.arpa.")


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="kz-dnssec-", dir="/tmp")
    yield d
    if not os.environ.get("KZ_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        stop_pid(p)


def zone_file(zone, port, path):
    """AXFR ZONE from 127.0.0.1@PORT into the zone file PATH (dig's
    text, the SOA once); returns it as a dns.zone.Zone."""
    r = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), zone, "AXFR",
                        "+nocmd", "+nostats", "+nocomments", "+onesoa"],
                       capture_output=True, text=True, check=True)
    assert "Transfer failed" not in r.stdout, r.stdout
    with open(path, "w") as f:
        f.write(r.stdout)
    return dns.zone.from_text(r.stdout, origin=zone, relativize=False)


def check_signed(zone, port, workdir):
    """ldns-verify-zone and kzonecheck --dnssec on pass on ZONE as
    served on PORT; returns the dns.zone.Zone."""
    path = os.path.join(workdir, zone + "zone")
    z = zone_file(zone, port, path)
    r = subprocess.run(["ldns-verify-zone", path], capture_output=True,
                       text=True)
    assert r.returncode == 0, (zone, r.stdout, r.stderr)
    r = subprocess.run(["kzonecheck", "-o", zone, "--dnssec", "on", path],
                       capture_output=True, text=True)
    assert r.returncode == 0, (zone, r.stdout, r.stderr)
    return z


def services(snapshot):
    with open(snapshot) as f:
        return json.load(f)


def with_service(doc, name, ip):
    """DOC plus a ClusterIP Service NAME (namespace default) at IP."""
    doc = copy.deepcopy(doc)
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": "default",
                        "uid": "uid-" + name},
           "spec": {"type": "ClusterIP", "clusterIP": ip,
                    "clusterIPs": [ip],
                    "ports": [{"name": "http", "port": 80,
                               "protocol": "TCP"}]}}
    doc["items"].append(svc)
    return doc


def without_service(doc, name):
    doc = copy.deepcopy(doc)
    doc["items"] = [i for i in doc["items"]
                    if not (i["kind"] == "Service" and
                            i["metadata"]["name"] == name)]
    return doc


@pytest.mark.parametrize("denial", ["nsec", "nsec3"])
def test_signed_zones_verify_after_a_burst(sync, snapshot, workdir, denial):
    extra = ["--dnssec-nsec3"] if denial == "nsec3" else []
    s = sync(snapshot, "--dnssec", "--log-level", "debug", *extra)
    for zone in ZONES:
        check_signed(zone, s.port, workdir)
    base = services(snapshot)
    doc = base
    # A burst: Services come and go, names before and after others in
    # the chain, with reverse names in in-addr.arpa.
    for i in range(12):
        doc = with_service(doc, "burst-%d" % i, "10.96.77.%d" % (i + 1))
        if i % 3 == 2:
            doc = without_service(doc, "burst-%d" % (i - 1))
        replace_file(snapshot, json.dumps(doc))
    doc = without_service(doc, "web")
    replace_file(snapshot, json.dumps(doc))

    def arrived():
        r = query("burst-11.default.svc.cluster.local.", "A", port=s.port)
        gone = query("web.shop.svc.cluster.local.", "A", port=s.port)
        return r.answer and gone.rcode() == dns.rcode.NXDOMAIN
    wait_for(arrived, 15, what="the burst served by NSD")
    wait_for(lambda: query("77.77.96.10.in-addr.arpa.", "PTR",
                           port=s.port).rcode() == dns.rcode.NXDOMAIN and
             query("12.77.96.10.in-addr.arpa.", "PTR",
                   port=s.port).answer, 15,
             what="reverse names served")
    z = {zone: check_signed(zone, s.port, workdir) for zone in ZONES}
    names = {n.to_text() for n in z["cluster.local."].nodes}
    assert "burst-11.default.svc.cluster.local." in names
    assert "burst-10.default.svc.cluster.local." not in names
    types = {dns.rdatatype.to_text(rd.rdtype)
             for _, _, rd in z["cluster.local."].iterate_rdatas()}
    if denial == "nsec3":
        assert {"NSEC3", "NSEC3PARAM"} <= types and "NSEC" not in types
        p = z["cluster.local."].find_rdataset("cluster.local.", "NSEC3PARAM")
        assert [rd.to_text() for rd in p] == ["1 0 0 -"]
    else:
        assert "NSEC" in types and "NSEC3" not in types
    # One more Service: NSD gets it as an IXFR of the two records, their
    # signatures, the chain records around the new names (and with
    # NSEC3 the empty non-terminal _tcp under it), the SOA's signature
    # and the IXFR's four SOAs: a few dozen records, not the zone.
    n = s.text().count("zone=cluster.local. kind=ixfr")
    doc = with_service(doc, "single", "10.96.77.200")
    replace_file(snapshot, json.dumps(doc))
    wait_for(lambda: s.text().count("zone=cluster.local. kind=ixfr") > n,
             15, what="the IXFR of one Service")
    last = re.findall(r'zone=cluster\.local\. kind=ixfr .* records=(\d+)',
                      s.text())[-1]
    total = len(list(z["cluster.local."].iterate_rdatas()))
    assert int(last) <= 40, (last, total)
    check_signed("cluster.local.", s.port, workdir)


def dnskeys(port, zone="cluster.local."):
    r = query(zone, "DNSKEY", port=port)
    return sorted(rd.to_text() for rrset in r.answer for rd in rrset
                  if rrset.rdtype == dns.rdatatype.DNSKEY)


def test_keys_survive_restart_and_ds(sync, snapshot, kubezone, state_dir):
    s = sync(snapshot, "--dnssec", "--dnssec-algorithm", "15")
    keys = dnskeys(s.port)
    assert len(keys) == 1 and keys[0].split()[:3] == ["257", "3", "15"]
    files = sorted(f for f in os.listdir(state_dir) if f.startswith("K"))
    assert any(f.startswith("Kcluster.local.+015+") and
               f.endswith(".private") for f in files), files
    for f in files:
        assert os.stat(os.path.join(state_dir, f)).st_mode & 0o777 == 0o600
    s.stop()
    s2 = sync(snapshot, "--dnssec", port=s.port)
    assert dnskeys(s2.port) == keys
    out = subprocess.run([kubezone, "dnssec", "ds", "cluster.local",
                          "--state-dir", state_dir], capture_output=True,
                         text=True, check=True).stdout
    name = dns.name.from_text("cluster.local.")
    r = query("cluster.local.", "DNSKEY", port=s2.port)
    want = dns.dnssec.make_ds(name, r.answer[0][0], "SHA256")
    got = out.split()
    assert got[0] == "cluster.local." and got[3] == "DS", out
    assert " ".join(got[4:7]) == " ".join(want.to_text().split()[:3])
    assert got[7].lower() == want.to_text().split()[3].lower()


UNBOUND_CONF = """\
server:
    interface: 127.0.0.1
    port: {port}
    directory: "{dir}"
    chroot: ""
    username: ""
    pidfile: "{dir}/unbound.pid"
    logfile: "{dir}/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "{dir}/anchor"
    domain-insecure: "."
stub-zone:
    name: "cluster.local"
    stub-addr: 127.0.0.1@{auth}
"""


def start_unbound(d, port, auth, anchor):
    os.makedirs(d)
    with open(os.path.join(d, "anchor"), "w") as f:
        f.write(anchor)
    path = os.path.join(d, "unbound.conf")
    with open(path, "w") as f:
        f.write(UNBOUND_CONF.format(dir=d, port=port, auth=auth))
    p = subprocess.Popen(["unbound", "-d", "-c", path],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(d, "stderr"), "w"))
    wait_for(lambda: resolve("cluster.local.", "SOA", port) is not None, 10,
             what="unbound up")
    return p


def resolve(name, rdtype, port):
    q = dns.message.make_query(name, rdtype, want_dnssec=True)
    q.flags |= dns.flags.AD
    try:
        return dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    except Exception:
        return None


KNOT_TAMPERED = """\
server:
    rundir: "{dir}"
    listen: 127.0.0.1@{port}
log:
  - target: "{dir}/knot.log"
    any: info
database:
    storage: "{dir}/db"
control:
    listen: "{dir}/knot.sock"
zone:
  - domain: cluster.local
    file: "{dir}/cluster.local.zone"
"""


@pytest.mark.parametrize("denial", ["nsec", "nsec3"])
def test_unbound_validates_through_knot(sync, snapshot, kubezone, state_dir,
                                        workdir, procs, denial):
    knot_port = free_port()
    extra = ["--dnssec-nsec3"] if denial == "nsec3" else []
    s = sync(snapshot, "--dnssec", "--notify", "127.0.0.1:%d" % knot_port,
             *extra)
    kd = os.path.join(workdir, "knot")
    os.makedirs(os.path.join(kd, "db"))
    os.makedirs(os.path.join(kd, "zones"))
    procs.append(start_knot(kd, KNOT_CONF.format(dir=kd, port=knot_port,
                                                 primary=s.port)))
    wait_for(lambda: soa_serial("cluster.local.", knot_port) ==
             soa_serial("cluster.local.", s.port), 15,
             what="knot has the zone")
    ds = subprocess.run([kubezone, "dnssec", "ds", "cluster.local",
                         "--state-dir", state_dir], capture_output=True,
                        text=True, check=True).stdout
    ub_port = free_port()
    procs.append(start_unbound(os.path.join(workdir, "unbound"), ub_port,
                               knot_port, ds))
    name = "web.shop.svc.cluster.local."
    r = resolve(name, "A", ub_port)
    assert r.rcode() == dns.rcode.NOERROR and r.answer, r
    assert r.flags & dns.flags.AD, r
    nx = resolve("nothing-here.shop.svc.cluster.local.", "A", ub_port)
    assert nx.rcode() == dns.rcode.NXDOMAIN and nx.flags & dns.flags.AD, nx
    proof = {dns.rdatatype.to_text(r.rdtype) for r in nx.authority}
    assert ("NSEC3" if denial == "nsec3" else "NSEC") in proof, nx
    # NODATA at a name and at an empty non-terminal, proven too
    nd = resolve(name, "TXT", ub_port)
    assert nd.rcode() == dns.rcode.NOERROR and not nd.answer and \
        nd.flags & dns.flags.AD, nd
    ent = resolve("svc.cluster.local.", "A", ub_port)
    assert ent.rcode() == dns.rcode.NOERROR and not ent.answer and \
        ent.flags & dns.flags.AD, ent

    # A change reaches Knot by IXFR and still validates.
    doc = with_service(services(snapshot), "signed-later", "10.96.88.8")
    replace_file(snapshot, json.dumps(doc))
    wait_for(lambda: query("signed-later.default.svc.cluster.local.", "A",
                           port=knot_port).answer, 15,
             what="the change on knot")
    r = resolve("signed-later.default.svc.cluster.local.", "A", ub_port)
    assert r.answer and r.flags & dns.flags.AD, r

    # A secondary serving a tampered copy: Unbound refuses it.
    td = os.path.join(workdir, "tampered")
    os.makedirs(os.path.join(td, "db"))
    path = os.path.join(td, "cluster.local.zone")
    zone_file("cluster.local.", s.port, path)
    text = read_text(path)
    target = re.search(r"^web\.shop\.svc\.cluster\.local\.\s+\d+\s+IN\s+A\s+"
                       r"(\S+)$", text, re.M)
    assert target, text
    text = text.replace(target.group(0), target.group(0).replace(
        target.group(1), "192.0.2.66"))
    with open(path, "w") as f:
        f.write(text)
    t_port = free_port()
    conf = os.path.join(td, "knot.conf")
    with open(conf, "w") as f:
        f.write(KNOT_TAMPERED.format(dir=td, port=t_port))
    procs.append(subprocess.Popen(["knotd", "-c", conf],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    wait_for(lambda: query(name, "A", port=t_port).answer, 10,
             what="the tampered secondary up")
    assert "192.0.2.66" in query(name, "A", port=t_port).answer[0].to_text()
    ub2 = free_port()
    procs.append(start_unbound(os.path.join(workdir, "unbound2"), ub2,
                               t_port, ds))
    r = resolve(name, "A", ub2)
    assert r.rcode() == dns.rcode.SERVFAIL, r
    # ... while an untouched name of the same copy still validates.
    r = resolve("kubernetes.default.svc.cluster.local.", "A", ub2)
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AD, r


def expirations(z):
    return [rd.expiration for _, _, rd in z.iterate_rdatas()
            if rd.rdtype == dns.rdatatype.RRSIG]


def test_short_lifetimes_refresh(sync, snapshot, workdir):
    # validity 12 s, refresh 6 s: every signature is renewed twice in the
    # 26 s watched; what NSD serves always verifies, none expired.
    http_port = free_port()
    s = sync(snapshot, "--dnssec", "--dnssec-validity", "12s",
             "--dnssec-refresh", "6s", "--log-level", "debug",
             "--http", "127.0.0.1:%d" % http_port)
    start = time.time()
    first = expirations(check_signed("cluster.local.", s.port, workdir))
    assert min(first) > start + 6
    checks = 0
    while time.time() < start + 26:
        n = s.text().count('msg="signatures refreshed" zone=cluster.local.')
        wait_for(lambda: s.text().count(
            'msg="signatures refreshed" zone=cluster.local.') > n, 10,
            what="a refresh")
        z = check_signed("cluster.local.", s.port, workdir)
        assert min(expirations(z)) > time.time(), "a signature expired"
        checks += 1
    z = check_signed("cluster.local.", s.port, workdir)
    assert min(expirations(z)) > max(first), "signatures were not renewed"
    assert checks >= 3
    assert "expires within the refresh period" not in s.text()
    m = metrics(http_port)
    now = time.time()
    earliest = m['kubezone_dnssec_signature_expiry_earliest_timestamp_seconds'
                 '{zone="cluster.local"}']
    assert now + 6 - 1 < earliest <= now + 12, (earliest, now)
    assert m["kubezone_dnssec_refreshes_total"] >= checks
    assert 'kubezone_dnssec_sign_seconds{zone="cluster.local"}' in m


def metrics(port):
    """/metrics as {name{labels}: value}."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def test_bad_keys_are_refused(kubezone, snapshot, state_dir, workdir):
    """A key of a zone not served, and a key file that is not one: a
    clear error at start, exit status 1, nothing served."""
    subprocess.run(["ldns-keygen", "-a", "ED25519", "-k", "elsewhere.example"],
                   cwd=workdir, check=True, capture_output=True)
    other = [f for f in os.listdir(workdir) if f.endswith(".private")][0]
    bad = os.path.join(workdir, "Kbad.+013+00001")
    with open(bad + ".key", "w") as f:
        f.write("bad. 3600 IN DNSKEY 257 3 13 bm90IGEga2V5\n")
    with open(bad + ".private", "w") as f:
        f.write("Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\n")
    for key, want in ((os.path.join(workdir, other),
                       "zone elsewhere.example. is not served"),
                      (bad + ".private", bad + ".private")):
        r = subprocess.run([kubezone, "sync", "--snapshot", snapshot,
                            "--state-dir", state_dir, "--listen",
                            "127.0.0.1:%d" % free_port(), "--http", "off",
                            "--dnssec-key", key], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 1, r
        assert want in r.stderr, r.stderr
    r = subprocess.run([kubezone, "sync", "--snapshot", snapshot,
                        "--dnssec", "--dnssec-validity", "1h",
                        "--dnssec-refresh", "2h"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "--dnssec-refresh" in r.stderr, r.stderr


def resumed(text, zone):
    """The fields of the "zone resumed from nsd's zone file" line of ZONE."""
    for line in text.splitlines():
        if "zone resumed from nsd's zone file" in line and \
                "zone=%s " % zone in line:
            return dict(f.split("=", 1) for f in line.split()
                        if "=" in f and not f.startswith("msg="))
    return None


@pytest.mark.parametrize("denial", ["nsec", "nsec3"])
def test_restart_takes_signatures_over(sync, snapshot, workdir, denial):
    """A restart resumes from NSD's zone files: the signatures of RRsets
    that did not change are taken over, what changed while kubezone was
    down is signed, NSD gets an IXFR, and the zones verify -- also when
    an RRset lost a record (its old signature covers the larger set)."""
    args = ["--dnssec"] + (["--dnssec-nsec3"] if denial == "nsec3" else [])
    s = sync(snapshot, *args)
    before = answers("db.data.svc.cluster.local.", "A", s.port)
    assert before == ["10.244.1.20", "10.244.2.21"]
    s.stop()
    # While kubezone is down: a Service goes, one comes, and the
    # headless Service db loses one of its two endpoints.
    doc = with_service(without_service(services(snapshot), "api"),
                       "fresh", "10.96.30.30")
    for i in doc["items"]:
        if i["kind"] == "EndpointSlice" and i["metadata"]["name"] == \
                "db-m5t8w":
            i["endpoints"] = [e for e in i["endpoints"]
                              if e["addresses"] != ["10.244.2.21"]]
    replace_file(snapshot, json.dumps(doc))
    s2 = sync(snapshot, *args, port=s.port)
    text = s2.text()
    for zone in ("cluster.local.", "in-addr.arpa."):
        f = resumed(text, zone)
        assert f is not None, text
        # Most RRsets kept their signatures; those the changes touched
        # (and the SOA of the new serial) were signed.
        assert int(f["rrsets_taken_over"]) > 10, f
        assert 1 <= int(f["signatures_made"]) < int(f["rrsets_taken_over"])
    # NSD took both zones by IXFR. (ip6.arpa, which lost its one PTR,
    # differs in more signatures than it has: it went out whole.)
    for zone in ("cluster.local.", "in-addr.arpa."):
        kinds = re.findall(r'transfer served" zone=%s kind=(\S+) ' %
                           re.escape(zone), text)
        assert kinds == ["ixfr"], (zone, kinds)
    assert answers("db.data.svc.cluster.local.", "A", s.port) == \
        ["10.244.1.20"]
    assert answers("fresh.default.svc.cluster.local.", "A", s.port) == \
        ["10.96.30.30"]
    assert answers("api.shop.svc.cluster.local.", "A", s.port) == []
    for zone in ("cluster.local.", "in-addr.arpa.", "ip6.arpa."):
        check_signed(zone, s.port, workdir)


def test_signing_turned_on_at_a_restart(sync, snapshot, workdir):
    """NSD's zone files of an unsigned run hold no signature to take
    over: every RRset is signed, the signatures and chain go out as the
    difference from the file, and the zones verify."""
    s = sync(snapshot)
    s.stop()
    s2 = sync(snapshot, "--dnssec", port=s.port)
    text = s2.text()
    for zone in ("cluster.local.", "in-addr.arpa.", "ip6.arpa."):
        f = resumed(text, zone)
        assert f is not None and f["rrsets_taken_over"] == "0", (zone, f)
        assert f["deleted"] == "0" and int(f["added"]) > 0, f
        check_signed(zone, s.port, workdir)


def test_new_keys_at_a_restart(sync, snapshot, workdir, state_dir):
    """With other keys no old signature can be taken over: a difference
    twice the zone's signatures would be larger than the zone, so each
    zone goes out whole (by AXFR), signed with the new keys."""
    s = sync(snapshot, "--dnssec")
    old = dnskeys(s.port)
    s.stop()
    for f in os.listdir(state_dir):
        if f.startswith("K") and f.endswith((".key", ".private")):
            os.unlink(os.path.join(state_dir, f))
    s2 = sync(snapshot, "--dnssec", port=s.port)
    text = s2.text()
    assert "zone's signatures differ from nsd's zone file, publishing it " \
        "whole\" zone=cluster.local." in text, text
    assert dnskeys(s.port) != old
    for zone in ("cluster.local.", "in-addr.arpa.", "ip6.arpa."):
        check_signed(zone, s.port, workdir)
