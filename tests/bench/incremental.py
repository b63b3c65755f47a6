#!/usr/bin/python3
"""incremental.py -- `make bench`: incremental publishing, API write to answer.

`kubezone sync --pod-records --log-level debug` follows tests/fakeapi
serving a gen_cluster.py cluster, at two sizes: a small one (1,000
Services, 15,000 Pods, generated here) and the scale-limit one (10,000
Services, 150,000 Pods: $KZ_BENCH_CLUSTER, the file run.sh makes, or
generated here). For each size, against one daemon:

 1. latency: API write (Service create, Service delete, Pod IP change,
    endpoint readiness flip), each after a quiet spell, to the first
    answer from the embedded NSD that shows it (UDP polled every ~1 ms);
    beside it, from the logs: kubezone's render_ms + publish_ms
    (msg="zones updated"), the feed's transfers (msg="feed: transfer
    served") and NSD's apply time ("received update ... in S seconds");
 2. CPU per single-object event: the daemon's utime+stime over N Pod IP
    changes (each its own publish) minus an idle baseline of the same
    length, divided by N;
 3. burst: 1,000 Pod IP changes within one second; last write to NSD
    serving all of them; then NSD's AXFR of every zone against
    `kubezone render --pod-records` of the fake API's final state;
 4. a Knot secondary (NOTIFY, IXFR from the embedded NSD): API write to
    Knot answering; beside it, Knot's own cost of a change at the same
    zone size (a one-record change committed with knotc to Knot
    answering it);
 5. RSS once synced: kubezone (VmRSS, VmHWM) and NSD (its processes);
 6. kubezone SIGKILLed and restarted on the same state directory, NSD
    polled throughout; one write made while kubezone is down.

Prints one Markdown section on stdout (progress on stderr); raw figures
go to $KZ_BENCH_DIR/incremental/<size>.json. Environment: BUILD,
KUBEZONE, KZ_BENCH_CLUSTER, KZ_BENCH_DIR, PYTHON (run.sh sets them);
KZ_INCR_SIZES (default "small,full"), KZ_INCR_WRITES (latency writes per
size, default 80), KZ_INCR_CPU_EVENTS (default 300), KZ_INCR_KNOT_WRITES
(default 40), KZ_INCR_KNOT_REF (knotc commits, default 20),
KZ_INCR_BURST (default 1000).
"""

import calendar
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

sys.path.insert(0, str(Path(__file__).resolve().parent))
# syncer_api.py puts tests/system on the path and brings the fake API and
# daemon wrappers (tests/system/syncer_harness.py, tests/fakeapi/client.py).
from syncer_api import ROOT, FakeApi, Syncer, pct, post_service, wait_for  # noqa: E402
from syncer_harness import KUBEZONE, free_port, records_of  # noqa: E402

PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
BENCH_DIR = Path(os.environ.get("KZ_BENCH_DIR", ROOT / os.environ.get("BUILD", "build") / "bench"))
WORK = BENCH_DIR / "incremental"
SIZES = [s for s in os.environ.get("KZ_INCR_SIZES", "small,full").split(",") if s]
N_WRITES = int(os.environ.get("KZ_INCR_WRITES", "80"))
N_CPU = int(os.environ.get("KZ_INCR_CPU_EVENTS", "300"))
N_KNOT = int(os.environ.get("KZ_INCR_KNOT_WRITES", "40"))
N_KNOT_REF = int(os.environ.get("KZ_INCR_KNOT_REF", "20"))
N_BURST = int(os.environ.get("KZ_INCR_BURST", "1000"))
# For a look at one step or one setting (the Markdown needs every step):
STEPS = os.environ.get("KZ_INCR_STEPS", "latency,cpu,burst,knot,restart").split(",")
KZ_ARGS = os.environ.get("KZ_INCR_KZ_ARGS", "").split()
TAG = os.environ.get("KZ_INCR_TAG", "")
QUIET = 0.3              # quiet spell before each latency write, s
CPU_SPACING = 0.15       # > --min-interval: every event its own publish
MIN_INTERVAL = "100ms"   # kubezone's default, given explicitly
ZONE = "cluster.local"
TICK = os.sysconf("SC_CLK_TCK")
SMALL_ARGS = ["--services", "1000", "--pods", "15000", "--namespaces", "50"]


def log(*a):
    print("incremental:", *a, file=sys.stderr, flush=True)


def loadavg():
    return "%.2f %.2f %.2f" % os.getloadavg()


# --- DNS ---------------------------------------------------------------------

_local = threading.local()


def ask(port, name, rdtype="A", timeout=0.2):
    """('NOERROR', sorted answers) / ('NXDOMAIN', []) / None (no answer).

    One UDP socket per thread and a query built once per name: a poll costs
    a send, a receive and dnspython's parse."""
    if not hasattr(_local, "sock"):
        _local.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _local.queries = {}
    s = _local.sock
    key = (name, rdtype)
    q = _local.queries.get(key)
    if q is None:
        q = _local.queries[key] = dns.message.make_query(name, rdtype)
        if len(_local.queries) > 5000:
            _local.queries.clear()
    s.settimeout(timeout)
    try:
        s.sendto(q.to_wire(), ("127.0.0.1", port))
        while True:
            wire, addr = s.recvfrom(65535)
            if addr[1] != port:
                continue
            r = dns.message.from_wire(wire)
            if r.id == q.id and r.question and r.question[0].name == q.question[0].name:
                break
    except (OSError, dns.exception.DNSException):
        return None
    rt = dns.rdatatype.from_text(rdtype)
    return (dns.rcode.to_text(r.rcode()),
            sorted(rd.to_text() for rrset in r.answer if rrset.rdtype == rt for rd in rrset))


class NotifySink:
    """A second --notify target: answers NOTIFYs and notes when each arrived."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.seen = []           # (perf_counter, zone, serial)
        self.stop = False
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        self.sock.settimeout(0.5)
        while not self.stop:
            try:
                wire, addr = self.sock.recvfrom(65535)
            except OSError:
                continue
            t = time.perf_counter()
            try:
                m = dns.message.from_wire(wire)
                serial = next((rd.serial for rrset in m.answer for rd in rrset
                               if rrset.rdtype == dns.rdatatype.SOA), None)
                self.seen.append((t, m.question[0].name.to_text(), serial))
                self.sock.sendto(dns.message.make_response(m).to_wire(), addr)
            except Exception:  # noqa: BLE001 -- a sink
                pass


def matches(res, want):
    """WANT: 'NXDOMAIN' or an address the A RRset must contain."""
    if res is None:
        return False
    if want == "NXDOMAIN":
        return res[0] == "NXDOMAIN"
    return res[0] == "NOERROR" and want in res[1]


class Poll:
    """Poll PORTS for NAME every ~1 ms until each shows WANT; times in perf_counter."""

    def __init__(self):
        self.polls, self.span = 0, 0.0

    def until(self, ports, name, want, timeout=30.0):
        t0 = time.perf_counter()
        seen = {}
        while len(seen) < len(ports):
            for p in ports:
                if p not in seen and matches(ask(p, name), want):
                    seen[p] = time.perf_counter()
            self.polls += 1
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"{name}: no {want} from {sorted(set(ports) - set(seen))} "
                                   f"within {timeout}s (last {ask(ports[0], name)})")
            time.sleep(0.0005)
        self.span += time.perf_counter() - t0
        return seen

    def period_ms(self):
        return self.span / self.polls * 1000 if self.polls else float("nan")


def axfr_records(port, origin):
    xfr = dns.query.xfr("127.0.0.1", origin, port=port, timeout=60.0, lifetime=900.0,
                        relativize=False)
    return records_of(dns.zone.from_xfr(xfr, relativize=False))


def soa_serial(port, origin):
    r = ask(port, origin, "SOA")
    return int(r[1][0].split()[2]) if r and r[0] == "NOERROR" and r[1] else None


# --- the API -----------------------------------------------------------------

class Api:
    """Writes at the fake API over one keep-alive connection."""

    def __init__(self, fake):
        self.fake, self.conn = fake, None

    def call(self, method, path, body=None, ctype="application/json", expect=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=600)
            try:
                self.conn.request(method, path, data, {"Content-Type": ctype} if data else {})
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        out = json.loads(raw) if raw else None
        if r.status not in expect:
            raise RuntimeError(f"{method} {path}: HTTP {r.status}: {raw[:300]!r}")
        return out

    def get(self, path):
        return self.call("GET", path)

    def pod_ip(self, ns, name, ip):
        return self.call("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status",
                         {"status": {"podIP": ip, "podIPs": [{"ip": ip}]}},
                         "application/merge-patch+json")

    def ready(self, ns, slice_name, index, ready):
        ops = [{"op": "replace", "path": f"/endpoints/{index}/conditions/ready", "value": ready},
               {"op": "replace", "path": f"/endpoints/{index}/conditions/serving", "value": ready}]
        return self.call("PATCH", f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices/{slice_name}",
                         ops, "application/json-patch+json")

    def svc_delete(self, ns, name):
        return self.call("DELETE", f"/api/v1/namespaces/{ns}/services/{name}")

    def control(self, what, body=None):
        return self.call("POST", f"/_fake/{what}", body or {})

    def dump_state(self, path):
        """The fake's /_fake/state streamed to PATH (a List kubezone render reads)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=1800)
        conn.request("GET", "/_fake/state")
        r = conn.getresponse()
        with open(path, "wb") as f:
            while True:
                b = r.read(1 << 20)
                if not b:
                    break
                f.write(b)
        conn.close()
        assert r.status == 200, r.status


_ip_counter = [0]


def new_ip():
    """Fresh addresses from 100.64.0.0/10, never in a generated cluster."""
    k = _ip_counter[0]
    _ip_counter[0] += 1
    return f"100.{64 + (k >> 16)}.{(k >> 8) & 255}.{k & 255}"


def dashed(ip):
    return ip.replace(".", "-")


class Targets:
    """Pods and endpoints picked from a few namespaces of the fake's state."""

    def __init__(self, api, pods_wanted, eps_wanted):
        nss = sorted(o["metadata"]["name"] for o in api.get("/api/v1/namespaces")["items"])
        nss = [n for n in nss if n not in ("default", "kube-system", "kube-public", "kube-node-lease")]
        self.pods, self.eps, self.objects = [], [], {}
        for ns in nss:
            if len(self.pods) >= pods_wanted and len(self.eps) >= eps_wanted:
                break
            for p in api.get(f"/api/v1/namespaces/{ns}/pods")["items"]:
                st, meta = p.get("status") or {}, p["metadata"]
                ips = [x.get("ip") for x in st.get("podIPs") or []]
                if (st.get("phase") == "Running" and not meta.get("deletionTimestamp")
                        and not p["spec"].get("hostNetwork") and len(ips) == 1 and ":" not in ips[0]):
                    self.pods.append((ns, meta["name"]))
                    self.objects[(ns, meta["name"])] = p
            svcs = {s["metadata"]["name"]: s for s in api.get(f"/api/v1/namespaces/{ns}/services")["items"]}
            seen = {}
            for sl in api.get(f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices")["items"]:
                svc = svcs.get((sl["metadata"].get("labels") or {}).get("kubernetes.io/service-name"))
                if sl.get("addressType") != "IPv4" or not svc:
                    continue
                cip = svc["spec"].get("clusterIP")
                if svc["spec"].get("type") == "ExternalName" or not cip or cip == "None":
                    continue
                for i, ep in enumerate(sl.get("endpoints") or []):
                    c = ep.get("conditions") or {}
                    key = (svc["metadata"]["name"], ep["addresses"][0])
                    seen[key] = seen.get(key, 0) + 1
                    if (c.get("ready") is True and c.get("serving", True) and not c.get("terminating")
                            and not ep.get("hostname") and len(ep["addresses"]) == 1):
                        self.eps.append({"ns": ns, "slice": sl["metadata"]["name"], "index": i,
                                         "svc": svc["metadata"]["name"], "ip": ep["addresses"][0]})
            # An address in two slices of one Service keeps its name: skip those.
            self.eps = [e for e in self.eps if e["ns"] != ns or seen[(e["svc"], e["ip"])] == 1]
        log(f"targets: {len(self.pods)} pods, {len(self.eps)} endpoints")
        assert len(self.pods) >= pods_wanted and len(self.eps) >= eps_wanted

    def pod(self):
        return self.pods.pop()


# --- logs and /proc ------------------------------------------------------------

LINE_TS = re.compile(r"^ts=(\S+)")


def ts_of(line):
    m = LINE_TS.search(line)
    return calendar.timegm(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").timetuple()) + \
        int(m.group(1)[20:23]) / 1000 if m else None


def parse_log(text):
    """{'updates': [(t, records, render_ms, publish_ms)], 'xfr': [(t, zone, kind, ms)],
    'nsd': [(t, zone, serial, bytes, seconds)], 'served': [(t, ms_since_start)]}"""
    out = {"updates": [], "xfr": [], "nsd": [], "served": [], "nsd_upd": [], "cpu": [], "waits": []}
    for line in text.splitlines():
        if 'msg="zones updated"' in line:
            m = re.search(r"records_changed=(-?\d+) render_ms=([\d.]+) publish_ms=([\d.]+)", line)
            out["updates"].append((ts_of(line), int(m.group(1)), float(m.group(2)), float(m.group(3))))
            c = re.search(r"cpu_us=(\d+) events=(\d+) events_cpu_us=(\d+)", line)
            if c:       # (t, rules+commit+NOTIFY us, events, their decode us)
                out["cpu"].append((ts_of(line), int(c.group(1)), int(c.group(2)), int(c.group(3))))
            w = re.search(r"oldest_change_ms=(\d+) newest_change_ms=(\d+)", line)
            if w:       # (t, events, ms the oldest / newest change waited for this publish)
                out["waits"].append((ts_of(line), int(c.group(2)) if c else None,
                                     int(w.group(1)), int(w.group(2))))
        elif 'msg="feed: transfer served"' in line:
            z = re.search(r"zone=(\S+)", line)
            k = re.search(r"kind=(\S+)", line)
            ms = re.search(r" ms=([\d.]+)", line)
            out["xfr"].append((ts_of(line), z and z.group(1), k and k.group(1),
                               float(ms.group(1)) if ms else None))
        elif "received update to serial" in line:
            m = re.search(r"zone (\S+) received update to serial (\d+)", line)
            b = re.search(r"of (\d+) bytes", line)
            s = re.search(r"in ([\d.e-]+) seconds", line)
            out["nsd"].append((ts_of(line), m.group(1) if m else None, int(m.group(2)) if m else None,
                               int(b.group(1)) if b else None, float(s.group(1)) if s else None))
        elif "is updated to" in line and "source=nsd" in line:
            m = re.search(r"zone (\S+) serial (\d+) is updated to (\d+)", line)
            if m:
                out["nsd_upd"].append((ts_of(line), m.group(1), int(m.group(3))))
        elif 'msg="zones served"' in line:
            m = re.search(r"ms_since_start=(\d+)", line)
            out["served"].append((ts_of(line), int(m.group(1)) if m else None))
    return out


def in_window(rows, t0, t1, slack=0.002):
    return [r for r in rows if r[0] is not None and t0 - slack <= r[0] <= t1 + slack]


def cpu_ticks(pid):
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(stat[11]) + int(stat[12])


def cpu_all_ticks(pid):
    """utime+stime+cutime+cstime (its reaped children too)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(x) for x in stat[11:15])


def nsd_cpu(state):
    return sum(cpu_all_ticks(p) for p in nsd_pids(state))


def cpu_ns(pid):
    """Run time of every thread of PID (schedstat, ns)."""
    total = 0
    for t in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((t / "schedstat").read_text().split()[0])
        except OSError:
            pass
    return total


def status_kb(pid, key):
    m = re.search(rf"{key}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(m.group(1)) if m else 0


def pss_kb(pid):
    try:
        m = re.search(r"Pss:\s+(\d+)", Path(f"/proc/{pid}/smaps_rollup").read_text())
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


def zone_files_current(state, port):
    """Whether the zone file of every zone (STATE/zones) holds the serial
    NSD answers for it."""
    for origin in (ZONE + ".", "in-addr.arpa.", "ip6.arpa."):
        path = Path(state, "zones", origin + "zone")
        if not path.exists():
            return False
        with open(path, errors="replace") as f:
            text = f.read(4096)
        m = re.search(r"\sSOA\s+\S+\s+\S+\s+\(?\s*(\d+)", text)
        if not m or soa_serial(port, origin) != int(m.group(1)):
            return False
    return True


def nsd_pids(state):
    """NSD's main process (STATE/nsd.pid) and its descendants."""
    try:
        main = int(Path(state, "nsd.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    parent = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                parent[int(p.name)] = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                pass
    if main not in parent:
        return []
    out, todo = [], [main]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += [c for c, pp in parent.items() if pp == pid]
    return out


def ms(x):
    return "%.1f" % x if x < 100 else "%.0f" % x


def stats(values):
    v = sorted(values)
    if not v:
        return {"n": 0}
    return {"n": len(v), "p50": pct(v, 50), "p90": pct(v, 90), "p99": pct(v, 99), "max": v[-1],
            "min": v[0]}


# --- Knot ----------------------------------------------------------------------

KNOT_CONF = """\
server:
    rundir: "{dir}"
    listen: 127.0.0.1@{port}
log:
  - target: "{dir}/knot.log"
    any: info
database:
    storage: "{dir}/db"
remote:
  - id: kubezone
    address: 127.0.0.1@{primary}
    # A leaf secondary: without it Knot plans a NOTIFY event one second
    # after each refresh, and a NOTIFY from NSD in the next second waits
    # for it (Knot's zone events are planned in whole seconds).
    block-notify-after-transfer: on
acl:
  - id: notify-from-kubezone
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "{dir}/zones"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: changes
zone:
  - domain: cluster.local
    master: kubezone
    acl: notify-from-kubezone
"""


def stop_proc(p, timeout=30):
    if p is not None and p.poll() is None:
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()


# --- one size ------------------------------------------------------------------

def cluster_file(size):
    if size == "full":
        env = os.environ.get("KZ_BENCH_CLUSTER")
        if env:
            return Path(env)
        path, args = WORK / "cluster-full.json", []
    else:
        path, args = WORK / "cluster-small.json", SMALL_ARGS
    if not path.exists():
        log(f"generating {path}")
        subprocess.run([PYTHON, str(ROOT / "tests/bench/gen_cluster.py"), *args, "--out",
                        str(path) + ".tmp"], check=True, stderr=subprocess.DEVNULL)
        os.rename(str(path) + ".tmp", path)
    return path


def run(size):
    work = WORK / (size + TAG)
    subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    snap = cluster_file(size)
    res = {"size": size, "cluster": str(snap), "cluster_bytes": snap.stat().st_size, "load": {}}
    res["load"]["start"] = loadavg()
    fake = FakeApi(work / "fake", snapshot=snap,
                   args=["--bookmark-interval", "30", "--window", "200000"])
    t = time.monotonic()
    log(f"{size}: fake API loading {snap} ({snap.stat().st_size / 1e6:.0f} MB)")
    fake.start(timeout=1800)
    res["fake_load_s"] = time.monotonic() - t
    fake.write_kubeconfig()
    knot_port = free_port()
    sink = NotifySink()
    args = ["--log-level", "debug", "--pod-records", "--idle-timeout", "600s",
            "--min-interval", MIN_INTERVAL, "--relist-interval", "0",
            "--notify", f"127.0.0.1:{knot_port}", "--notify", f"127.0.0.1:{sink.port}", "--allow-transfer", "127.0.0.0/8", *KZ_ARGS]
    s = Syncer(work / "kz", fake.workdir / "kubeconfig", args=args)
    api = Api(fake)
    knot = None
    try:
        s.start()
        log(f"{size}: kubezone sync started, waiting for ready")
        res["startup_s"] = s.wait_ready(timeout=1800)
        res["startup_cpu_s"] = cpu_ticks(s.proc.pid) / TICK
        log(f"{size}: ready after {res['startup_s']:.1f} s")
        api.control("compact")       # drop the list snapshots the fake kept
        time.sleep(2)
        state = s.workdir / "state"

        # 5. RSS once synced
        pids = nsd_pids(state)
        res["rss"] = {"kz_rss_kb": status_kb(s.proc.pid, "VmRSS"),
                      "kz_hwm_kb": status_kb(s.proc.pid, "VmHWM"),
                      "nsd_pids": len(pids),
                      "nsd_rss_kb": sum(status_kb(p, "VmRSS") for p in pids),
                      "nsd_pss_kb": sum(pss_kb(p) for p in pids),
                      "nsd_hwm_kb": sum(status_kb(p, "VmHWM") for p in pids)}
        m = s.metrics()
        res["records"] = {k.split('"')[1]: v for k, v in m.items()
                          if k.startswith("kubezone_zone_records{")}
        log(f"{size}: rss {res['rss']}")

        n_pods = N_WRITES // 4 + N_CPU + N_BURST + N_KNOT + 10
        tg = Targets(api, n_pods, N_WRITES // 8 + 2)
        port = s.dns_port
        poll = Poll()

        if "latency" in STEPS:
            # 1. API write -> NSD answer
            res["load"]["latency_start"] = loadavg()
            log(f"{size}: latency, {N_WRITES} writes")
            writes = []
            created = []
            flipped = None
            kinds = ["svc-create", "pod-ip", "ep-flip", "svc-delete"]
            for i in range(N_WRITES):
                kind = kinds[i % 4]
                time.sleep(QUIET)
                w = {"kind": kind}
                w["wall_send"], t_send = time.time(), time.perf_counter()
                if kind == "svc-create":
                    name = f"incr{i}"
                    ip = post_service(fake, name)
                    qname, want = f"{name}.default.svc.{ZONE}", ip
                    created.append(name)
                elif kind == "svc-delete":
                    name = created.pop(0)
                    api.svc_delete("default", name)
                    qname, want = f"{name}.default.svc.{ZONE}", "NXDOMAIN"
                elif kind == "pod-ip":
                    ns, pod = tg.pod()
                    ip = new_ip()
                    api.pod_ip(ns, pod, ip)
                    qname, want = f"{dashed(ip)}.{ns}.pod.{ZONE}", ip
                else:
                    if flipped is None:
                        e = flipped = tg.eps.pop()
                        api.ready(e["ns"], e["slice"], e["index"], False)
                        want = "NXDOMAIN"
                    else:
                        e, flipped = flipped, None
                        api.ready(e["ns"], e["slice"], e["index"], True)
                        want = e["ip"]
                    qname = f"{dashed(e['ip'])}.{e['svc']}.{e['ns']}.svc.{ZONE}"
                    w["ready"] = want != "NXDOMAIN"
                t_acc = time.perf_counter()
                w["wall_acc"] = w["wall_send"] + (t_acc - t_send)
                seen = poll.until([port], qname, want)
                w["ms"] = (seen[port] - t_acc) * 1000
                w["ms_from_send"] = (seen[port] - t_send) * 1000
                w["write_ms"] = (t_acc - t_send) * 1000
                w["wall_ans"] = w["wall_send"] + (seen[port] - t_send)
                writes.append(w)
            res["load"]["latency_end"] = loadavg()
            res["poll_period_ms"] = poll.period_ms()
            time.sleep(0.5)
            lg = parse_log(s.log_text())
            for w in writes:
                ups = in_window(lg["updates"], w["wall_send"], w["wall_ans"])
                w["updates"] = [u[1:] for u in ups]
                w["kz_ms"] = sum(u[2] + u[3] for u in ups) if ups else None
                w["nsd_apply_ms"] = [n[4] * 1000 for n in in_window(lg["nsd"], w["wall_send"], w["wall_ans"])
                                     if n[1] == ZONE + "." and n[4] is not None]
                w["xfr"] = [x[1:] for x in in_window(lg["xfr"], w["wall_send"], w["wall_ans"])]
                if ups:
                    w["to_published_ms"] = (ups[-1][0] - w["wall_acc"]) * 1000
            res["writes"] = writes

        if "cpu" in STEPS:
            # 2. CPU per single-object event
            log(f"{size}: CPU, idle baseline then {N_CPU} pod events")
            res["load"]["cpu_start"] = loadavg()
            pid = s.proc.pid
            t0, c0, n0 = time.perf_counter(), cpu_ticks(pid), cpu_ns(pid)
            nsd0 = nsd_cpu(state)
            wall0 = time.time()
            evs = []
            for i in range(N_CPU):
                ns, pod = tg.pod()
                ip = new_ip()
                ta = time.perf_counter()
                api.pod_ip(ns, pod, ip)
                poll.until([port], f"{dashed(ip)}.{ns}.pod.{ZONE}", ip)
                evs.append(time.perf_counter() - ta)
                time.sleep(CPU_SPACING)
            run_s = time.perf_counter() - t0
            c1, n1 = cpu_ticks(pid), cpu_ns(pid)
            nsd1 = nsd_cpu(state)
            wall1 = time.time()
            time.sleep(0.5)
            # idle baseline, the same length, nothing written
            b0, bn0 = cpu_ticks(pid), cpu_ns(pid)
            bnsd0 = nsd_cpu(state)
            time.sleep(run_s)
            b1, bn1 = cpu_ticks(pid), cpu_ns(pid)
            bnsd1 = nsd_cpu(state)
            res["load"]["cpu_end"] = loadavg()
            lg = parse_log(s.log_text())
            ups = in_window(lg["updates"], wall0, wall1)
            res["cpu"] = {"n": N_CPU, "run_s": run_s, "ticks": c1 - c0, "idle_ticks": b1 - b0,
                          "ns": n1 - n0, "idle_ns": bn1 - bn0,
                          "nsd_ticks": nsd1 - nsd0, "nsd_idle_ticks": bnsd1 - bnsd0,
                          "publishes": len(ups),
                          "records_changed": statistics.median([u[1] for u in ups]) if ups else None,
                          "kz_ms": [u[2] + u[3] for u in ups],
                          "render_ms": [u[2] for u in ups], "publish_ms": [u[3] for u in ups],
                          "answer_ms": [e * 1000 for e in evs],
                          # kubezone's own thread CPU, decode to NOTIFY sent,
                          # per event, over the publishes of one event
                          "event_cpu_us": [(c[1] + c[3]) / c[2] for c in in_window(lg["cpu"], wall0, wall1)
                                           if c[2] == 1],
                          "decode_cpu_us": [c[3] for c in in_window(lg["cpu"], wall0, wall1) if c[2] == 1]}

        if "burst" in STEPS:
            # 3. burst
            log(f"{size}: burst of {N_BURST} pod changes")
            res["load"]["burst_start"] = loadavg()
            burst = [(ns, pod, new_ip()) for ns, pod in (tg.pod() for _ in range(N_BURST))]
            pending = {f"{dashed(ip)}.{ns}.pod.{ZONE}": ip for ns, pod, ip in burst}

            wall_b0 = time.time()
            tb0 = time.perf_counter()
            # The fake takes 1.5 ms per PATCH (Python; 200 status PATCHes from one
            # connection took 0.31 s, 10 seeds of 100 took 1.05 s): the burst is one
            # /_fake/seed of full Pod objects, committed under the fake's lock and
            # streamed together; each Pod is one MODIFIED watch event.
            batches = 1
            last = [0.0]
            for b in range(batches):
                due = tb0 + b * 0.1
                d = due - time.perf_counter()
                if d > 0:
                    time.sleep(d)
                items = []
                for ns, pod, ip in burst[b::batches]:
                    o = json.loads(json.dumps(tg.objects[(ns, pod)]))
                    o["apiVersion"], o["kind"] = "v1", "Pod"
                    o["status"]["podIP"], o["status"]["podIPs"] = ip, [{"ip": ip}]
                    items.append(o)
                api.control("seed", {"items": items})
                last[0] = time.perf_counter()
            conns = batches
            t_last = max(last)
            wall_last = wall_b0 + (t_last - tb0)
            # NSD applies serials in order: poll the name of the last change
            # every ~1 ms, then check every name once (and again until all).
            ns, pod, ip = burst[-1]
            seen = poll.until([port], f"{dashed(ip)}.{ns}.pod.{ZONE}", ip, timeout=120)
            all_at = seen[port]
            left = dict(pending)
            sweeps = 0
            while left and sweeps < 100:
                left = {q: w for q, w in left.items() if not matches(ask(port, q), w)}
                sweeps += 1
                if left:
                    all_at = time.perf_counter()
            wall_b1 = time.time()
            res["load"]["burst_end"] = loadavg()
            missing = len(left)
            time.sleep(0.3)
            lg = parse_log(s.log_text())
            ups = in_window(lg["updates"], wall_b0, wall_b1 + 0.3)
            xf = in_window(lg["xfr"], wall_b0, wall_b1 + 0.3)
            res["burst"] = {"n": N_BURST, "writers": conns, "write_span_ms": (t_last - tb0) * 1000,
                            "all_served_after_last_ms": (all_at - t_last) * 1000, "missing": missing,
                            "publishes": len(ups), "records_changed": sum(u[1] for u in ups),
                            "kz_ms": [u[2] + u[3] for u in ups],
                            "xfr_kinds": sorted(set(x[2] for x in xf)), "xfr_n": len(xf),
                            "sweeps": sweeps, "wall_last": wall_last,
                            "publish_after_last_ms": [(u[0] - wall_last) * 1000 for u in ups],
                            # per publish: events, ms its oldest / newest change waited
                            "publish_waits": [list(w[1:]) for w in in_window(lg["waits"], wall_b0, wall_b1 + 0.3)],
                            "nsd_updated_after_last_ms": [(n[0] - wall_last) * 1000 for n in
                                                          in_window(lg["nsd_upd"], wall_b0, wall_b1 + 0.3)
                                                          if n[1] == ZONE]}
            log(f"{size}: burst {res['burst']['all_served_after_last_ms']:.1f} ms after the last write; "
                "comparing zones with a fresh render")
            t = time.monotonic()
            dump = work / "final-state.json"
            api.dump_state(dump)
            api.control("compact")
            out = work / "render"
            r = subprocess.run([KUBEZONE, "render", "--pod-records", "--log-level", "error", "--out",
                                str(out), str(dump)], capture_output=True, text=True, timeout=1800)
            assert r.returncode == 0, r.stderr
            compare = {}
            for f in sorted(out.iterdir()):
                origin = f.name[:-len(".zone")] + "."
                want = records_of(dns.zone.from_text(f.read_text(), origin, relativize=False,
                                                     check_origin=False))
                got = axfr_records(port, origin)
                compare[origin] = {"records": len(want), "missing": len(want - got), "extra": len(got - want),
                                   "examples": [str(x) for x in sorted(want - got)[:3]] +
                                               [str(x) for x in sorted(got - want)[:3]]}
            dump.unlink()
            res["compare"] = compare
            res["compare_s"] = time.monotonic() - t
            log(f"{size}: compare {compare}")

        if "knot" in STEPS:
            # 4. Knot
            log(f"{size}: Knot secondary")
            kd = work / "knot"
            (kd / "db").mkdir(parents=True)
            (kd / "zones").mkdir()
            (kd / "knot.conf").write_text(KNOT_CONF.format(dir=kd, port=knot_port, primary=port))
            knot = subprocess.Popen(["knotd", "-c", str(kd / "knot.conf")], stdout=subprocess.DEVNULL,
                                    stderr=open(kd / "knotd.stderr", "w"))
            t = time.monotonic()
            wait_for(lambda: soa_serial(knot_port, ZONE + ".") ==
                     soa_serial(port, ZONE + "."), timeout=600, interval=0.2,
                     what="Knot has the zone")
            res["knot_initial_s"] = time.monotonic() - t
            res["load"]["knot_start"] = loadavg()
            kw = []
            for i in range(N_KNOT):
                time.sleep(QUIET)
                t_send = time.perf_counter()
                if i % 2 == 0:
                    name = f"knot{i}"
                    ip = post_service(fake, name)
                    qname = f"{name}.default.svc.{ZONE}"
                else:
                    ns, pod = tg.pod()
                    ip = new_ip()
                    api.pod_ip(ns, pod, ip)
                    qname = f"{dashed(ip)}.{ns}.pod.{ZONE}"
                t_acc = time.perf_counter()
                seen = poll.until([port, knot_port], qname, ip, timeout=60)
                serial = soa_serial(port, ZONE + ".")
                nt = [t for t, z, sr in sink.seen if z == ZONE + "." and sr == serial]
                kw.append({"notify_after_nsd_ms": (nt[0] - seen[port]) * 1000 if nt else None,
                           "knot_after_notify_ms": (seen[knot_port] - nt[0]) * 1000 if nt else None,"nsd_ms": (seen[port] - t_acc) * 1000, "knot_ms": (seen[knot_port] - t_acc) * 1000,
                           "lag_ms": (seen[knot_port] - seen[port]) * 1000})
            res["load"]["knot_end"] = loadavg()
            # The reference, same Knot, same zone: one record committed through
            # Knot's own control socket (no NOTIFY, no transfer), commit to answer.
            ref = []
            knotc = ["knotc", "-c", str(kd / "knot.conf")]
            for i in range(N_KNOT_REF):
                time.sleep(QUIET)
                name, ip = f"knot-ref{i}.default.svc.{ZONE}", new_ip()
                for cmd in (["zone-begin", ZONE], ["zone-set", ZONE, name + ".", "30", "A", ip]):
                    subprocess.run(knotc + cmd, check=True, capture_output=True)
                t0 = time.perf_counter()
                subprocess.run(knotc + ["zone-commit", ZONE], check=True, capture_output=True)
                seen = poll.until([knot_port], name, ip, timeout=60)
                ref.append((seen[knot_port] - t0) * 1000)
            klog = (kd / "knot.log").read_text(errors="replace")
            res["knot"] = {"writes": kw, "ixfr_in": klog.count("IXFR, incoming"), "own_commit_ms": ref,
                           "refresh_s": [float(m) for m in re.findall(
                               r"refresh, remote \S+, zone updated, ([0-9.]+) seconds", klog)][1:],
                           "axfr_style": sum(1 for l in klog.splitlines() if "AXFR-style" in l),
                           "ixfr_finished": sum(1 for l in klog.splitlines()
                                                if "IXFR, incoming" in l and "finished" in l)}
            stop_proc(knot)
            knot = None

        # 5b. RSS at the end
        pids = nsd_pids(state)
        res["rss_end"] = {"kz_rss_kb": status_kb(s.proc.pid, "VmRSS"),
                          "kz_hwm_kb": status_kb(s.proc.pid, "VmHWM"),
                          "nsd_rss_kb": sum(status_kb(p, "VmRSS") for p in pids),
                          "nsd_pss_kb": sum(pss_kb(p) for p in pids)}

        if "restart" in STEPS:
            # 6. SIGKILL and restart
            log(f"{size}: SIGKILL and restart")
            res["load"]["restart_start"] = loadavg()
            api.control("compact")
            stable = f"kubernetes.default.svc.{ZONE}"
            before_pids = nsd_pids(state)
            trace = []
            stop_poll = threading.Event()

            def poller():
                while not stop_poll.is_set():
                    r = ask(port, stable, timeout=0.05)
                    trace.append((time.perf_counter(), r is not None and r[0] == "NOERROR" and bool(r[1])))
                    time.sleep(0.001)

            pt = threading.Thread(target=poller, daemon=True)
            pt.start()
            # NSD's zone files hold what is served (kubezone has them
            # written a few seconds after a change): what a restart
            # resumes from.
            wait_for(lambda: zone_files_current(state, port), 600,
                     what="NSD's zone files written")
            time.sleep(1.0)
            offset = len(s.log_text())
            t_kill = time.perf_counter()
            os.kill(s.proc.pid, signal.SIGKILL)
            s.proc.wait()
            s.log.close()
            # NSD follows (parent-death signal): wait until its processes are gone
            gone = None
            for _ in range(200):
                if not any(Path(f"/proc/{p}").exists() and
                           "zombie" not in Path(f"/proc/{p}/status").read_text()
                           for p in before_pids):
                    gone = time.perf_counter() - t_kill
                    break
                time.sleep(0.05)
            time.sleep(0.5)
            name = "restart-probe"
            ip = post_service(fake, name)      # the write made while kubezone is down
            qname = f"{name}.default.svc.{ZONE}"
            time.sleep(0.5)
            s.log = open(s.logpath, "ab")
            t_start = time.perf_counter()
            wall_start = time.time()
            from syncer_harness import clean_env
            s.proc = subprocess.Popen(s.command(), stdout=s.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=clean_env(s.env))
            s.started = time.monotonic()
            seen = poll.until([port], qname, ip, timeout=1800)
            t_current = seen[port]
            ready_s = s.wait_ready(timeout=1800)
            restart_cpu = cpu_ticks(s.proc.pid) / TICK
            time.sleep(1.0)
            stop_poll.set()
            pt.join()
            lg = parse_log(s.log_text()[offset:])
            served = lg["served"][-1] if lg["served"] else (None, None)
            # the gap: after the kill, the first failed poll to the first answer again
            after = [(t, ok) for t, ok in trace if t >= t_kill]
            last_ok_before = max((t for t, ok in trace if ok and t < t_kill), default=None)
            down_from = next((t for t, ok in after if not ok), None)
            up_again = next((t for t, ok in after if ok and down_from is not None and t > down_from), None)
            res["restart"] = {
                "nsd_gone_after_kill_s": gone,
                "first_failed_poll_after_kill_ms": (down_from - t_kill) * 1000 if down_from else None,
                "answering_again_after_start_ms": (up_again - t_start) * 1000 if up_again else None,
                "gap_ms": (up_again - down_from) * 1000 if up_again and down_from else None,
                "failed_polls": sum(1 for _, ok in after if not ok),
                "polls": len(after),
                "current_after_start_ms": (t_current - t_start) * 1000,
                "ready_after_start_s": ready_s, "kz_cpu_at_ready_s": restart_cpu,
                "zones_served_after_start_ms": (served[0] - wall_start) * 1000 if served[0] else None,
                "zones_served_ms_since_start": served[1],
                "last_ok_before_kill_ms": (t_kill - last_ok_before) * 1000 if last_ok_before else None,
            }
            res["rss_after_restart"] = {"kz_rss_kb": status_kb(s.proc.pid, "VmRSS"),
                                        "kz_hwm_kb": status_kb(s.proc.pid, "VmHWM")}
            res["load"]["end"] = loadavg()
            log(f"{size}: restart {res['restart']}")
    finally:
        stop_proc(knot)
        sink.stop = True
        try:
            s.stop(timeout=60)
        except Exception as e:  # noqa: BLE001 -- report and go on stopping the fake
            log(f"stopping kubezone: {e}")
        fake.stop(timeout=60)
    (WORK / f"{size}{TAG}.json").write_text(json.dumps(res, indent=1))
    return res


# --- report ----------------------------------------------------------------------

def describe(size, res):
    return ("1,000 Services, 15,000 Pods (generated)" if size == "small"
            else "10,000 Services, 150,000 Pods (scale limit)") + \
        f", {res['records'].get('cluster.local', 0):,.0f} records in cluster.local"


def report(results):
    def verdict(ok):
        return "met" if ok else "**MISSED**"

    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "unknown"
    if subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        rev += " (uncommitted changes)"
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), "unknown CPU")
    print("## Incremental publishing: API write to answer\n")
    print(f"- Machine: {os.cpu_count()} CPUs, {model}; kubezone at {rev}")
    print(f"- `kubezone sync --pod-records --min-interval {MIN_INTERVAL} --relist-interval 0 "
          "--log-level debug` following tests/fakeapi (pages of 500), serving gen_cluster.py clusters; "
          "NSD on loopback. Times are milliseconds.")
    for r in results:
        L = r["load"]
        print(f"- {r['size']}: {describe(r['size'], r)}; fake API loaded the "
              f"{r['cluster_bytes'] / 1e6:.0f} MB file in {r['fake_load_s']:.0f} s; ready "
              f"{r['startup_s']:.0f} s after start. Load average: start {L['start']}, "
              f"latency {L['latency_start']} -> {L['latency_end']}, CPU {L['cpu_start']} -> {L['cpu_end']}, "
              f"burst {L['burst_start']} -> {L['burst_end']}, Knot {L['knot_start']} -> {L['knot_end']}, "
              f"restart {L['restart_start']} -> {L['end']}.")
    print()

    print("### 1. API write to the embedded NSD answering\n")
    print("Each write after a 300 ms quiet spell, kinds in turn: Service create (POST), Pod IP change "
          "(PATCH status), endpoint readiness flip (JSON patch of the EndpointSlice; false, then back "
          "to true), Service delete. Clock from the fake API's HTTP answer (write accepted) to the "
          "first UDP answer from NSD showing the change (the fake streams the watch event before its "
          "HTTP answer is out, so this can undercount; \"from send\" counts from sending the request, "
          "the fake's own handling included, and is the upper bound); NSD polled every "
          + ", ".join(f"{r['poll_period_ms']:.2f} ms ({r['size']})" for r in results)
          + " (mean poll period: the granularity). kubezone = render_ms + publish_ms of the "
          "msg=\"zones updated\" lines in the window; NSD apply = its \"received update ... in S "
          "seconds\" for cluster.local.\n")
    print("| cluster | kind | writes | p50 | p90 | p99 | max | from send: p50 / p99 / max |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    p99 = {}
    for r in results:
        for kind in ("all", "svc-create", "svc-delete", "pod-ip", "ep-flip"):
            v = [w["ms"] for w in r["writes"] if kind == "all" or w["kind"] == kind]
            st = stats(v)
            sd = stats([w["ms_from_send"] for w in r["writes"] if kind == "all" or w["kind"] == kind])
            if kind == "all":
                p99[r["size"]] = st["p99"]
                r["lat"] = st
            print(f"| {r['size']} | {'**all**' if kind == 'all' else kind} | {st['n']} | {ms(st['p50'])} | "
                  f"{ms(st['p90'])} | {ms(st['p99'])} | {ms(st['max'])} | "
                  f"{ms(sd['p50'])} / {ms(sd['p99'])} / {ms(sd['max'])} |")
    print()
    print("| cluster | write request (send to accepted), p50 | accepted to kubezone's log line, p50 | "
          "kubezone render+publish p50 / p99 / max | NSD IXFR apply p50 / max | publishes per write | "
          "feed transfers |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        W = r["writes"]
        kz = stats([w["kz_ms"] for w in W if w["kz_ms"] is not None])
        ap = stats([max(w["nsd_apply_ms"]) for w in W if w["nsd_apply_ms"]])
        tp = stats([w["to_published_ms"] for w in W if "to_published_ms" in w])
        npub = stats([len(w["updates"]) for w in W])
        kinds = {}
        for w in W:
            for x in w["xfr"]:
                kinds[x[1]] = kinds.get(x[1], 0) + 1
        print(f"| {r['size']} | {ms(stats([w['write_ms'] for w in W])['p50'])} | "
              f"{ms(tp.get('p50', float('nan')))} | "
              f"{kz.get('p50', float('nan')):.2f} / {kz.get('p99', float('nan')):.2f} / "
              f"{kz.get('max', float('nan')):.2f} | "
              f"{ap.get('p50', float('nan')):.2f} / {ap.get('max', float('nan')):.2f} "
              f"({ap['n']} lines) | {npub.get('min')}-{npub.get('max')} | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))} |")
    print()
    if "small" in p99 and "full" in p99:
        ratio = p99["full"] / p99["small"]
        print("| target | small | full | |")
        print("|---|---:|---:|---|")
        for r in results:
            pass
        S, F = results[0]["lat"], results[-1]["lat"]
        print(f"| p50 <= 10 ms | {ms(S['p50'])} | {ms(F['p50'])} | {verdict(S['p50'] <= 10 and F['p50'] <= 10)} |")
        print(f"| p99 <= 25 ms | {ms(S['p99'])} | {ms(F['p99'])} | {verdict(S['p99'] <= 25 and F['p99'] <= 25)} |")
        print(f"| p99 full / p99 small <= 1.5 | | {ratio:.2f} | {verdict(ratio <= 1.5)} |")
        print()

    print("### 2. kubezone CPU per single-object event\n")
    print("N Pod IP changes (PATCH status), each waited for at NSD and 150 ms apart so each is its "
          "own publish; kubezone's utime+stime (/proc/PID/stat, 10 ms ticks; and the threads' "
          "schedstat run time, ns) over the run, minus an idle run of the same length, divided by "
          "N. NSD's processes beside it (ticks). The target's own measure: kubezone's thread CPU "
          "(CLOCK_THREAD_CPUTIME_ID) from parsing the watch event to the NOTIFY sent, as the "
          "`zones updated` line logs it (events_cpu_us + cpu_us), over the publishes of one "
          "event.\n")
    print("| cluster | N | publishes | run (s) | CPU per event, stat | CPU per event, schedstat | idle CPU in the run length | "
          "NSD CPU per event | render+publish p50 / p90 / max | records changed per publish (median) | "
          "decode to NOTIFY, thread CPU p50 / p90 (of it decode p50) | target p50 <= 200 us |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        c = r["cpu"]
        per_tick = ((c["ticks"] - c["idle_ticks"]) / TICK) / c["n"] * 1e6
        per_ns = (c["ns"] - c["idle_ns"]) / c["n"] / 1000
        nsd = ((c["nsd_ticks"] - c["nsd_idle_ticks"]) / TICK) / c["n"] * 1e6
        k = stats(c["kz_ms"])
        e = stats(c.get("event_cpu_us", []))
        d = stats(c.get("decode_cpu_us", []))
        own = (f"{e['p50']:.0f} / {e['p90']:.0f} us ({d['p50']:.0f} us, n={e['n']})" if e["n"]
               else "n/a")
        print(f"| {r['size']} | {c['n']} | {c['publishes']} | {c['run_s']:.1f} | {per_tick:.0f} us | "
              f"{per_ns:.0f} us | {c['idle_ticks'] / TICK * 1000:.0f} ms | {nsd:.0f} us | "
              f"{k['p50'] * 1000:.0f} / {k['p90'] * 1000:.0f} / {k['max'] * 1000:.0f} us | "
              f"{c['records_changed']} | {own} | {verdict(e['n'] and e['p50'] <= 200)} |")
    print()

    print("### 3. Burst: Pod IP changes within one second\n")
    print("Pod IP changes written as full Pod objects in one `/_fake/seed` request (each Pod one MODIFIED watch event, as a PATCH gives). The Python fake cannot take 1,000 writes in a second: 200 status PATCHes from one connection took 0.31 s and 10 seed requests of 100 took 1.05 s at the small size (f0902f9; before it, 1,000 PATCHes from 4 connections took 12 s); one seed request holds the fake's lock while it commits all 1,000, so the watch streams them together once it answers: \"last write\" is that answer; a thread polls "
          "every changed pod name at NSD, the last-written first, until all answer. Then NSD's AXFR "
          "of every zone against `kubezone render --pod-records` of the fake API's final state "
          "(/_fake/state), SOA excluded.\n")
    print("| cluster | changes | writes took | last write to all served | publishes after the last write (log) | NSD updated cluster.local (log) | "
          "publishes | records changed | render+publish sum / max | target <= 200 ms | zones equal a fresh render |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        b = r["burst"]
        eq = all(v["missing"] == 0 and v["extra"] == 0 for v in r["compare"].values())
        cmp = "; ".join(f"{z} {v['records']:,} rec, {v['missing']} missing, {v['extra']} extra"
                        for z, v in r["compare"].items())
        print(f"| {r['size']} | {b['n']} ({b['missing']} never seen) | {b['write_span_ms']:.0f} ms | "
              f"{b['all_served_after_last_ms']:.0f} ms | {', '.join('%.0f' % x for x in b.get('publish_after_last_ms', []))} ms | "
              f"{', '.join('%.0f' % x for x in b.get('nsd_updated_after_last_ms', []))} ms | "
              f"{b['publishes']} | {b['records_changed']} | {sum(b['kz_ms']):.1f} / "
              f"{max(b['kz_ms'] or [0]):.1f} ms | "
              f"{verdict(b['all_served_after_last_ms'] <= 200 and b['missing'] == 0)} | "
              f"{'yes' if eq else '**NO**'}: {cmp} |")
    print()

    print("### 4. A Knot secondary (NOTIFY, then IXFR from the embedded NSD)\n")
    print("kubezone with `--notify 127.0.0.1:KNOT --allow-transfer 127.0.0.0/8`; Knot (zonefile-load "
          "none, journal) secondary of cluster.local. Writes alternate Service create and Pod IP "
          "change, 300 ms apart; NSD and Knot polled together. NSD also NOTIFYs a Python UDP sink "
          "(a second `--notify`) that notes when each NOTIFY for the new serial arrives. "
          "The reference, in the same run: Knot's own cost of one change at this zone size, "
          "a one-record change committed through its control socket (`knotc zone-commit`, "
          "300 ms apart) until Knot answers it; and Knot's refresh times from its log "
          "(10 ms resolution).\n")
    print("| cluster | writes | Knot p50 / p99 / max | NSD p50 / p99 | NSD to Knot lag p50 / max | "
          "NSD answers to NOTIFY sent, p50 / max | NOTIFY to Knot answers, p50 / max | "
          "initial AXFR | Knot IXFR in (AXFR-style) | reference: knotc commit to answer, p50 / max | "
          "Knot refresh (log), p50 / max | Knot p50 / reference p50 | target p99 <= 100 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        k = r["knot"]
        kn = stats([w["knot_ms"] for w in k["writes"]])
        ns = stats([w["nsd_ms"] for w in k["writes"]])
        lag = stats([w["lag_ms"] for w in k["writes"]])
        nt = stats([w["notify_after_nsd_ms"] for w in k["writes"] if w.get("notify_after_nsd_ms") is not None])
        kt = stats([w["knot_after_notify_ms"] for w in k["writes"] if w.get("knot_after_notify_ms") is not None])
        rf = stats(k.get("own_commit_ms") or [float("nan")])
        rs = stats([x * 1000 for x in k.get("refresh_s") or [float("nan")]])
        print(f"| {r['size']} | {kn['n']} | {ms(kn['p50'])} / {ms(kn['p99'])} / {ms(kn['max'])} | "
              f"{ms(ns['p50'])} / {ms(ns['p99'])} | {ms(lag['p50'])} / {ms(lag['max'])} | "
              f"{ms(nt.get('p50', float('nan')))} / {ms(nt.get('max', float('nan')))} ({nt['n']}) | "
              f"{ms(kt.get('p50', float('nan')))} / {ms(kt.get('max', float('nan')))} | "
              f"{r['knot_initial_s']:.1f} s | {k['ixfr_in']} ({k['axfr_style']}) | "
              f"{ms(rf['p50'])} / {ms(rf['max'])} | {ms(rs['p50'])} / {ms(rs['max'])} | "
              f"{kn['p50'] / rf['p50']:.2f} | {verdict(kn['p99'] <= 100)} |")
    print()

    print("### 5. Memory once synced\n")
    print("kubezone's VmRSS and VmHWM (/proc/PID/status) 2 s after /readyz turned 200 and at the end; "
          "NSD: its processes (STATE/nsd.pid and descendants), VmRSS summed (shared pages counted "
          "in each) and PSS summed. MB = 10^6 bytes.\n")
    print("| cluster | kubezone RSS (peak) synced | at the end | NSD processes | NSD RSS sum / PSS sum | "
          "target kubezone <= 128 MB |")
    print("|---|---:|---:|---:|---:|---|")
    for r in results:
        m, e = r["rss"], r["rss_end"]
        mb = lambda kb: kb * 1024 / 1e6  # noqa: E731
        print(f"| {r['size']} | {mb(m['kz_rss_kb']):.0f} MB ({mb(m['kz_hwm_kb']):.0f} MB) | "
              f"{mb(e['kz_rss_kb']):.0f} MB ({mb(e['kz_hwm_kb']):.0f} MB) | {m['nsd_pids']} | "
              f"{mb(m['nsd_rss_kb']):.0f} / {mb(m['nsd_pss_kb']):.0f} MB | "
              f"{verdict(mb(m['kz_rss_kb']) <= 128)} (HWM {verdict(mb(m['kz_hwm_kb']) <= 128)}) |")
    print()

    print("### 6. kubezone SIGKILLed and restarted\n")
    print("A thread queries NSD for kubernetes.default.svc every ~1 ms throughout. kubezone gets "
          "SIGKILL; once NSD's processes are gone a Service is created at the fake API; 0.5 s later "
          "kubezone starts again on the same state directory and ports. Times from the restart.\n")
    print("| cluster | NSD gone after kill | no answers (gap) | NSD answers again | change served | "
          "msg=\"zones served\" | /readyz 200 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        x = r["restart"]
        f = lambda v: "n/a" if v is None else "%.0f ms" % v  # noqa: E731
        print(f"| {r['size']} | {f(x['nsd_gone_after_kill_s'] * 1000 if x['nsd_gone_after_kill_s'] else None)} | "
              f"{f(x['gap_ms'])} ({x['failed_polls']} of {x['polls']} polls failed) | "
              f"{f(x['answering_again_after_start_ms'])} | {f(x['current_after_start_ms'])} | "
              f"{f(x['zones_served_after_start_ms'])} | {x['ready_after_start_s'] * 1000:.0f} ms |")
    print()


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    results = []
    for size in SIZES:
        results.append(run(size))
    if set(STEPS) >= {"latency", "cpu", "burst", "knot", "restart"} and not KZ_ARGS:
        report(results)
    else:
        log(f"partial run ({STEPS}, {KZ_ARGS}): raw figures in {WORK}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        report([json.loads((WORK / f"{s}{TAG}.json").read_text()) for s in SIZES])
    else:
        main()
