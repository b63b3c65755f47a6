"""The zone feed: kubezone is the primary of its own NSD.

kubezone keeps the zones in memory and serves them on 127.0.0.1 (an
ephemeral port, a TSIG key made at each start); the embedded NSD holds
every zone as a secondary and follows each change by IXFR after a
NOTIFY. These tests check, with real NSD (and Knot) processes:

  - NSD follows a series of changes by IXFR only, one serial step per
    changed zone per change, and serves exactly what `kubezone render`
    makes of the same objects;
  - a clean stop leaves NSD's zone files current; after a restart NSD
    serves them until kubezone publishes, then follows from their
    serial; NSD further behind than the feed's journal gets the whole
    zone;
  - with an empty state directory, the serial continues above what a
    --notify secondary holds;
  - a kubezone SIGKILLed in a burst of changes never reuses a serial;
  - an RRset too big for one DNS message is capped (render and sync).

Expected zones always come from `kubezone render` of the same snapshot.
Every process started here is stopped by PID; servers bind 127.0.0.1 on
free ports.
"""

import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import dns.exception
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from conftest import (answers, axfr, free_port, pid_alive, query,
                      rendered_zones, replace_file, soa_serial, stop_pid,
                      wait_for, without_soa_serial)
from secondary_configs import KNOT_CONF

ZONES = ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]
WEB = "web.shop.svc.cluster.local."


# --- the log -----------------------------------------------------------------

LOGFMT = re.compile(r'([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def logfmt(line):
    out = {}
    for k, v in LOGFMT.findall(line):
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        out[k] = v
    return out


def events(text, msg):
    """The log lines with msg=MSG, parsed."""
    needle = 'msg="%s"' % msg if " " in msg else "msg=%s" % msg
    out = []
    for line in text.splitlines():
        if needle + " " in line or line.endswith(needle):
            out.append(logfmt(line))
    return out


def transfers(text, zone=None):
    """The transfers kubezone's feed served, in order."""
    out = []
    for e in events(text, "feed: transfer served"):
        if zone is None or e.get("zone") == zone:
            e["from"], e["to"] = int(e["from"]), int(e["to"])
            out.append(e)
    return out


def wait_ready(s, timeout=20):
    """Until kubezone logs that NSD answers every zone (what /readyz
    reports; the tests run with --http off)."""
    def ok():
        if s.proc.poll() is not None:
            raise AssertionError("kubezone sync exited (%s):\n%s" %
                                 (s.proc.returncode, s.text()[-4000:]))
        return 'msg="zones served"' in s.text()
    wait_for(ok, timeout, what="zones served")
    return s


# --- zones --------------------------------------------------------------------

def reference(kubezone, snapshot, *args):
    """`kubezone render` of SNAPSHOT, SOA serials blanked."""
    return {z: without_soa_serial(r) for z, r in
            rendered_zones(kubezone, snapshot, *args).items()}


def served(port, zones):
    out = {}
    for z in zones:
        try:
            out[z] = without_soa_serial(axfr(z, port))
        except Exception as e:      # still loading, refused, ...
            out[z] = repr(e)
    return out


def difference(want, got):
    lines = []
    for z in sorted(want):
        g = got.get(z)
        if not isinstance(g, set):
            lines.append("%s: %s" % (z, g))
            continue
        lines += ["%s missing %s" % (z, r) for r in sorted(want[z] - g)[:8]]
        lines += ["%s extra   %s" % (z, r) for r in sorted(g - want[z])[:8]]
    return "\n".join(lines)


def wait_served(s, want, timeout=15, what="NSD serves the render"):
    """Until NSD's AXFR of every zone equals WANT (the render)."""
    got = {}

    def ok():
        if s.proc.poll() is not None:
            raise AssertionError("kubezone sync exited (%s):\n%s" %
                                 (s.proc.returncode, s.text()[-4000:]))
        got.update(served(s.port, want))
        return got == want
    try:
        wait_for(ok, timeout, interval=0.05, what=what)
    except AssertionError:
        raise AssertionError("%s: NSD still differs from the render:\n%s\n"
                             "--- kubezone log tail:\n%s" %
                             (what, difference(want, got), s.text()[-3000:]))


def serials(port, zones=ZONES):
    return {z: soa_serial(z, port) for z in zones}


def sn_gt(a, b):
    """RFC 1982: A is after B."""
    return a != b and (a - b) % 2**32 < 2**31


# --- snapshot edits ------------------------------------------------------------

def load(path):
    with open(path) as f:
        return json.load(f)


def save(path, doc):
    replace_file(path, json.dumps(doc, indent=1))


def find(doc, kind, ns, name):
    for item in doc["items"]:
        m = item["metadata"]
        if item["kind"] == kind and m["name"] == name and \
                m.get("namespace") == ns:
            return item
    raise KeyError((kind, ns, name))


def set_cluster_ips(doc, ns, name, ips):
    spec = find(doc, "Service", ns, name)["spec"]
    spec["clusterIP"] = ips[0]
    spec["clusterIPs"] = list(ips)


def add_service(doc, ns, name, ip):
    doc["items"].append({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip],
                 "ports": [{"name": "http", "port": 80,
                            "protocol": "TCP"}]}})


def add_pod(doc, ns, name, ip):
    doc["items"].append({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "main", "image": "x"}],
                 "nodeName": "node-1"},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "conditions": [{"type": "Ready", "status": "True"}]}})


def delete(doc, kind, ns, name):
    item = find(doc, kind, ns, name)
    doc["items"].remove(item)


class Blackhole:
    """A UDP and a TCP socket on one free port that never answer: a
    --notify secondary whose SOA probe times out, which holds kubezone's
    first publication back for its learning timeout."""

    def __init__(self):
        for _ in range(50):
            port = free_port()
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.tcp.bind(("127.0.0.1", port))
                self.udp.bind(("127.0.0.1", port))
            except OSError:
                self.close()
                continue
            self.tcp.listen(16)
            self.port = port
            return
        raise RuntimeError("no free port")

    def close(self):
        self.tcp.close()
        self.udp.close()


# --- 1. NSD follows by IXFR ------------------------------------------------------

EDITS = [
    ("web's ClusterIP changes",
     lambda d: set_cluster_ips(d, "shop", "web", ["10.96.12.35"])),
    ("a pod is added",
     lambda d: add_pod(d, "shop", "extra-pod", "10.244.3.99")),
    ("the db EndpointSlice is deleted",
     lambda d: delete(d, "EndpointSlice", "data", "db-m5t8w")),
    ("api's IPv6 ClusterIP changes",
     lambda d: set_cluster_ips(d, "shop", "api",
                               ["10.96.20.5", "fd00:10:96::2006"])),
    ("a Service is added",
     lambda d: add_service(d, "shop", "cart", "10.96.30.7")),
]


def test_nsd_follows_by_ixfr(sync, snapshot, kubezone):
    args = ("--pod-records",)
    s = wait_ready(sync(snapshot, *args))
    want = reference(kubezone, snapshot, *args)
    assert sorted(want) == ZONES
    wait_served(s, want, what="the first publication")
    before = serials(s.port)
    assert all(before.values()), before
    published = {e["zone"]: int(e["serial"])
                 for e in events(s.text(), "zone published")}
    assert published == before

    steps = []      # (what, zones changed, serials before, serials after)
    for what, edit in EDITS:
        doc = load(snapshot)
        edit(doc)
        save(snapshot, doc)
        new = reference(kubezone, snapshot, *args)
        changed = {z for z in ZONES if new[z] != want[z]}
        assert changed, "the edit (%s) changes no zone" % what
        wait_served(s, new, what=what)
        after = serials(s.port)
        steps.append((what, changed, before, after))
        for z in ZONES:
            if z in changed:
                assert after[z] == before[z] + 1, \
                    "%s: %s went %d -> %d, not one step" % (
                        what, z, before[z], after[z])
            else:
                assert after[z] == before[z], \
                    "%s: untouched %s went %d -> %d" % (
                        what, z, before[z], after[z])
        want, before = new, after

    # Every change reached NSD as an IXFR from the journal: after the
    # first full transfer of each zone, never a full one again.
    log = s.text()
    for z in ZONES:
        xfrs = transfers(log, z)
        assert xfrs, "no transfer of %s logged" % z
        assert xfrs[0]["to"] == published[z]
        full = [x for x in xfrs[1:] if x["kind"] != "ixfr"]
        assert full == [], "%s: full transfers after the first:\n%s" % (
            z, "\n".join(str(x) for x in full))
        for what, changed, b, a in steps:
            if z in changed:
                assert any(x["from"] == b[z] and x["to"] == a[z]
                           for x in xfrs), \
                    "%s: no IXFR %d -> %d (%s)" % (z, b[z], a[z], what)

    # The final zones, record for record.
    final = reference(kubezone, snapshot, *args)
    got = served(s.port, ZONES)
    assert got == final, difference(final, got)
    assert s.proc.poll() is None


# --- 2. restart: NSD serves its zone files until kubezone publishes -------------

def zone_file_serials(state):
    """The SOA serial of each zone file NSD wrote in STATE/zones."""
    out = {}
    for z in ZONES:
        path = os.path.join(state, "zones", z[:-1] + ".zone")
        try:
            zf = dns.zone.from_file(path, origin=z, relativize=False)
        except (OSError, dns.exception.DNSException):
            out[z] = None
            continue
        out[z] = zf.get_soa().serial
    return out


def test_clean_stop_leaves_current_zone_files(sync, snapshot, kubezone,
                                              state_dir):
    """A SIGTERM stop leaves zone files with the serials NSD served:
    they are what NSD serves first after a restart. The change is made
    right before each stop, so only the write at the stop (not NSD's
    periodic one, every 5 s) can put its serial in the files."""
    for i in range(3):
        s = wait_ready(sync(snapshot, state=state_dir))
        doc = load(snapshot)
        set_cluster_ips(doc, "shop", "web", ["10.96.12.%d" % (50 + i)])
        save(snapshot, doc)
        wait_served(s, reference(kubezone, snapshot), what="the change")
        served_serials = serials(s.port)
        assert s.stop() == 0
        assert zone_file_serials(state_dir) == served_serials, \
            "stop %d: zone files are not what NSD served:\n%s" % (
                i + 1, "\n".join(l for l in s.text().splitlines()
                                 if "writ" in l or "stop" in l))


def test_restart_serves_zone_files_first(sync, snapshot, kubezone,
                                         state_dir):
    s = wait_ready(sync(snapshot))
    old = reference(kubezone, snapshot)
    wait_served(s, old)
    before = serials(s.port)
    # NSD's zone files hold what it serves (its periodic write, every
    # 5 s; the write at the stop is checked above).
    wait_for(lambda: zone_file_serials(state_dir) == before, 12,
             interval=0.2, what="NSD wrote its zone files")
    assert s.stop() == 0
    assert zone_file_serials(state_dir) == before

    doc = load(snapshot)
    set_cluster_ips(doc, "shop", "web", ["10.96.12.36"])
    save(snapshot, doc)
    new = reference(kubezone, snapshot)
    assert new["cluster.local."] != old["cluster.local."]

    # A --notify secondary that never answers holds the first publication
    # back (kubezone first learns the secondaries' serials, for up to 2
    # s): a window in which NSD can only serve what its zone files hold.
    hole = Blackhole()
    try:
        s2 = sync(snapshot, "--notify", "127.0.0.1:%d" % hole.port,
                  state=state_dir, wait=False)
        def nsd_answers():
            if s2.proc.poll() is not None:
                pytest.fail("kubezone exited:\n" + s2.text())
            return query(WEB, "A", port=s2.port, timeout=0.2)
        first = wait_for(nsd_answers, 10, interval=0.005,
                         what="NSD answers")
        early = serials(s2.port)
        log_then = s2.text()
        assert [rd.to_text() for rrset in first.answer for rd in rrset] == \
            ["10.96.12.34"]
        assert early == before, "NSD did not start on its zone files"
        for msg in ('msg="zone published"', 'msg="zone resumed'):
            assert msg not in log_then, \
                "kubezone published before the window was checked:\n" + \
                log_then

        wait_ready(s2)
        wait_served(s2, new, what="the changed zone after the restart")
    finally:
        hole.close()
    after = serials(s2.port)
    for z in ZONES:
        assert sn_gt(after[z], before[z]) or after[z] == before[z], \
            "%s went back: %d -> %d" % (z, before[z], after[z])
    assert sn_gt(after["cluster.local."], before["cluster.local."])
    assert sn_gt(after["in-addr.arpa."], before["in-addr.arpa."])

    # The feed's journal does not survive a restart. kubezone either
    # resumes from NSD's zone file (diffs it against the new render and
    # serves that diff by IXFR) or answers NSD's IXFR with the whole
    # zone: either way the transfer starts at the zone file's serial.
    log = s2.text()
    resumed = {e["zone"]: e for e in
               events(log, "zone resumed from nsd's zone file")}
    for z in ("cluster.local.", "in-addr.arpa."):
        brought = [x for x in transfers(log, z)
                   if x["to"] == after[z] and x["from"] != x["to"]]
        assert brought, "no transfer of %s to %d:\n%s" % (z, after[z], log)
        x = brought[0]
        assert x["from"] == before[z], x
        if x["kind"] == "ixfr":
            assert z in resumed and \
                int(resumed[z]["file_serial"]) == before[z], \
                "IXFR from %d with no journal and no resume:\n%s" % (
                    before[z], log)
        else:
            assert x["kind"] == "ixfr-fallback", x


# --- 2b. the journal is too short: the whole zone ------------------------------------

def test_journal_too_short_falls_back_to_full_transfer(sync, snapshot,
                                                       kubezone):
    """NSD is held (SIGSTOP of its process group) while more changes are
    published than the feed's journal keeps (--journal 2): once NSD runs
    again, its IXFR from the old serial is answered with the whole zone,
    and NSD serves the render of the last snapshot."""
    s = wait_ready(sync(snapshot, "--journal", "2", "--log-level", "debug"))
    wait_served(s, reference(kubezone, snapshot))
    before = serials(s.port)
    pgid = os.getpgid(s.nsd_pid())
    assert pgid != os.getpgid(0)
    updates = s.text().count('msg="zones updated"')
    os.killpg(pgid, signal.SIGSTOP)
    try:
        for i in range(4):
            doc = load(snapshot)
            set_cluster_ips(doc, "shop", "web", ["10.96.12.%d" % (60 + i)])
            save(snapshot, doc)
            # kubezone published the change (NSD cannot follow yet).
            s.wait_log('msg="zones updated"', count=updates + i + 1)
    finally:
        os.killpg(pgid, signal.SIGCONT)
    final = reference(kubezone, snapshot)
    wait_served(s, final, what="NSD catches up")
    after = serials(s.port)
    assert after["cluster.local."] == before["cluster.local."] + 4
    assert after["in-addr.arpa."] == before["in-addr.arpa."] + 4
    assert after["ip6.arpa."] == before["ip6.arpa."]
    for z in ("cluster.local.", "in-addr.arpa."):
        caught_up = [x for x in transfers(s.text(), z)
                     if x["from"] == before[z] and x["to"] == after[z]]
        assert caught_up, "%s: no transfer %d -> %d:\n%s" % (
            z, before[z], after[z], s.text()[-3000:])
        assert caught_up[0]["kind"] == "ixfr-fallback", caught_up


# --- 3. empty state directory, a secondary ahead of the clock --------------------

@pytest.fixture
def knot():
    """start(primary_port) -> Knot's port; Knot is a secondary of
    cluster.local from 127.0.0.1@primary_port, stopped by PID."""
    d = tempfile.mkdtemp(prefix="kz-knot-", dir="/tmp")
    procs = []
    port = free_port()

    def start(primary):
        os.makedirs(os.path.join(d, "db"))
        os.makedirs(os.path.join(d, "zones"))
        conf = os.path.join(d, "knot.conf")
        with open(conf, "w") as f:
            f.write(KNOT_CONF.format(dir=d, port=port, primary=primary))
        procs.append(subprocess.Popen(
            ["knotd", "-c", conf], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(d, "knotd.stderr"), "w")))
        wait_for(lambda: query("cluster.local.", "SOA", port=port,
                               timeout=0.3) is not None, 10,
                 what="knotd answers")
        return port

    yield start
    for p in procs:
        stop_pid(p)
    try:                    # shown by pytest when the test fails
        with open(os.path.join(d, "knot.log")) as f:
            print("--- knot.log\n" + f.read()[-6000:])
    except OSError:
        pass
    shutil.rmtree(d, ignore_errors=True)


def test_empty_state_continues_above_secondary(sync, snapshot, kubezone,
                                               knot):
    port = free_port()
    knot_port = knot(port)
    args = ("--notify", "127.0.0.1:%d" % knot_port,
            "--allow-transfer", "127.0.0.0/8")

    # Run 1: serials far ahead of the clock (a planted reservation).
    state_a = tempfile.mkdtemp(prefix="kz-sta-", dir="/tmp")
    state_b = tempfile.mkdtemp(prefix="kz-stb-", dir="/tmp")
    try:
        ahead = int(time.time()) + 100000
        with open(os.path.join(state_a, "serial.state"), "w") as f:
            f.write("# kubezone serial state v1\n# origin reserved\n"
                    "cluster.local. %d\n" % ahead)
        s1 = wait_ready(sync(snapshot, *args, port=port, state=state_a))
        s1_serial = soa_serial("cluster.local.", port)
        assert sn_gt(s1_serial, ahead), \
            "serial %d ignores the reservation %d in serial.state" % (
                s1_serial, ahead)
        wait_for(lambda: soa_serial("cluster.local.", knot_port) ==
                 s1_serial, 20, what="Knot has serial %d" % s1_serial)
        assert answers(WEB, "A", knot_port) == ["10.96.12.34"]
        assert s1.stop() == 0

        # Run 2: a new, empty state directory and a changed cluster. Only
        # Knot knows the serial; the clock is far behind it.
        doc = load(snapshot)
        set_cluster_ips(doc, "shop", "web", ["10.96.12.77"])
        save(snapshot, doc)
        s2 = wait_ready(sync(snapshot, *args, port=port, state=state_b))
        learned = [e for e in events(s2.text(), "secondary serial learned")
                   if e.get("zone") == "cluster.local."]
        assert learned and int(learned[0]["serial"]) == s1_serial, \
            s2.text()
        pub = [int(e["serial"]) for e in events(s2.text(), "zone published")
               if e["zone"] == "cluster.local."]
        assert pub and sn_gt(pub[0], s1_serial), \
            "published %s, not above Knot's %d" % (pub, s1_serial)
        wait_served(s2, reference(kubezone, snapshot))
        s2_serial = soa_serial("cluster.local.", port)
        assert sn_gt(s2_serial, s1_serial)

        # Knot takes the new serial (only a greater one would do) and
        # answers the change.
        wait_for(lambda: answers(WEB, "A", knot_port) == ["10.96.12.77"], 20,
                 what="Knot serves the change")
        assert soa_serial("cluster.local.", knot_port) == s2_serial
    finally:
        shutil.rmtree(state_a, ignore_errors=True)
        shutil.rmtree(state_b, ignore_errors=True)


# --- 4. SIGKILL in a burst of changes ----------------------------------------------

def test_sigkill_during_burst_never_reuses_a_serial(sync, snapshot, kubezone,
                                                    state_dir):
    seed = int(os.environ.get("KZ_SEED", random.randrange(2**32)))
    print("seed", seed, "(KZ_SEED=%d to repeat)" % seed)
    rng = random.Random(seed)
    s = wait_ready(sync(snapshot))
    port = s.port
    nsd = s.nsd_pid()
    seen = {z: [v] for z, v in serials(port).items()}

    texts = []
    doc = load(snapshot)
    for i in range(20):
        set_cluster_ips(doc, "shop", "web", ["10.96.12.%d" % (100 + i)])
        if i % 3 == 0:
            add_service(doc, "shop", "burst-%d" % i, "10.96.40.%d" % (i + 1))
        texts.append(json.dumps(doc, indent=1))
    kill_after = rng.randrange(1, 21)           # edits written before it
    kill_delay = rng.choice([0, 0, 0.002, 0.01, 0.03, 0.08])
    print("SIGKILL after edit %d, %.3f s later" % (kill_after, kill_delay))

    for i, text in enumerate(texts):
        replace_file(snapshot, text)
        if s.proc.poll() is None:
            for z in ("cluster.local.", "in-addr.arpa."):
                try:
                    v = soa_serial(z, port)
                except Exception:
                    v = None
                if v:
                    seen[z].append(v)
        if i + 1 == kill_after:
            time.sleep(kill_delay)
            os.kill(s.pid, signal.SIGKILL)
    s.proc.wait()
    wait_for(lambda: not pid_alive(nsd), 10, what="NSD gone with kubezone")

    log = s.text()
    for e in events(log, "zone published"):
        seen[e["zone"]].append(int(e["serial"]))
    for x in transfers(log):
        seen[x["zone"]].append(x["to"])

    print("SEEN", {z: sorted(set(v)) for z, v in seen.items()})
    s2 = wait_ready(sync(snapshot, port=port, state=state_dir))
    final = reference(kubezone, snapshot)
    wait_served(s2, final, what="the final snapshot after the restart")
    after = serials(port)
    for z in ZONES:
        for v in seen[z]:
            assert after[z] == v or sn_gt(after[z], v), \
                "%s: %d after the restart, %d before (seed %d)" % (
                    z, after[z], v, seed)
    for z in ("cluster.local.", "in-addr.arpa."):
        # The zone changed (or kubezone was killed before it published
        # the change): its serial is new, never one handed out before.
        assert all(sn_gt(after[z], v) for v in seen[z]), \
            "%s: serial %d reused (seen %s, seed %d)" % (
                z, after[z], sorted(set(seen[z])), seed)


# --- 5. a headless Service with 70,000 endpoints ------------------------------------

BIG = "big.load.svc.cluster.local."
N_ENDPOINTS = 70000


def big_snapshot(path):
    items = [{"kind": "Namespace", "apiVersion": "v1",
              "metadata": {"name": n}} for n in ("load", "kube-system")]
    items.append({"kind": "Service", "apiVersion": "v1",
                  "metadata": {"name": "kube-dns", "namespace": "kube-system"},
                  "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10",
                           "clusterIPs": ["10.96.0.10"],
                           "ports": [{"name": "dns", "port": 53,
                                      "protocol": "UDP"}]}})
    for i in range(5):
        ip = "10.96.50.%d" % (i + 1)
        items.append({"kind": "Service", "apiVersion": "v1",
                      "metadata": {"name": "small-%d" % i,
                                   "namespace": "load"},
                      "spec": {"type": "ClusterIP", "clusterIP": ip,
                               "clusterIPs": [ip],
                               "ports": [{"name": "http", "port": 80,
                                          "protocol": "TCP"}]}})
    items.append({"kind": "Service", "apiVersion": "v1",
                  "metadata": {"name": "big", "namespace": "load"},
                  "spec": {"clusterIP": "None", "clusterIPs": ["None"],
                           "ports": [{"name": "http", "port": 80,
                                      "protocol": "TCP"}]}})
    hosts = ipaddress.ip_network("10.64.0.0/14").hosts()
    per_slice = 100
    for k in range(N_ENDPOINTS // per_slice):
        items.append({
            "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": "big-%05d" % k, "namespace": "load",
                         "labels": {"kubernetes.io/service-name": "big"}},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [str(next(hosts))],
                           "conditions": {"ready": True}}
                          for _ in range(per_slice)]})
    with open(path, "w") as f:
        json.dump({"kind": "List", "apiVersion": "v1", "items": items}, f)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The big snapshot, its render directory and render's stderr."""
    kz = os.path.abspath(os.environ.get("KUBEZONE", os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "build", "kubezone")))
    d = tmp_path_factory.mktemp("big")
    snap = str(d / "big.json")
    big_snapshot(snap)
    out = str(d / "render")
    r = subprocess.run([kz, "render", "--out", out, snap],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    return {"snap": snap, "out": out, "stderr": r.stderr}


def test_big_headless_rrset_is_capped(big, sync):
    t0 = time.monotonic()
    for z in ZONES:
        path = os.path.join(big["out"], z[:-1] + ".zone")
        r = subprocess.run(["nsd-checkzone", z[:-1], path],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, (z, r.stdout, r.stderr)

    zone = dns.zone.from_file(os.path.join(big["out"], "cluster.local.zone"),
                              origin="cluster.local.", relativize=False)
    rrset = zone.get_rdataset(BIG, "A")
    assert rrset is not None
    want_a = sorted(rd.to_text() for rd in rrset)
    assert 0 < len(want_a) < N_ENDPOINTS
    assert len(want_a) * (12 + 4) <= 64000      # fits one TCP message
    capped = [e for e in events(big["stderr"], "RRset capped")
              if e.get("name", "").rstrip(".") == BIG.rstrip(".")]
    assert capped, big["stderr"][-2000:]
    assert "load/big" in capped[0].get("object", ""), capped[0]
    assert "Service" in capped[0].get("object", ""), capped[0]

    s = wait_ready(sync(big["snap"]), timeout=45)
    assert events(s.text(), "RRset capped"), "sync logged no cap"
    for i in range(5):
        assert answers("small-%d.load.svc.cluster.local." % i, "A",
                       s.port) == ["10.96.50.%d" % (i + 1)]
    r = query(BIG, "A", port=s.port, tcp=True, timeout=10)
    assert r.rcode() == dns.rcode.NOERROR
    got = sorted(rd.to_text() for rrset in r.answer
                 if rrset.rdtype == dns.rdatatype.A for rd in rrset)
    assert got == want_a
    print("big: %.1f s" % (time.monotonic() - t0))

