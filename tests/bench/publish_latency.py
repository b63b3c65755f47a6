#!/usr/bin/python3
"""publish_latency.py -- kubezone's publish path against NSD's own reload.

Standalone (tests/bench/run.sh also runs it as one of its sections):

    KUBEZONE=build/kubezone /usr/bin/python3 tests/bench/publish_latency.py

Prints Markdown with three measurements, all on loopback:

1. Publish latency: the snapshot file is replaced (rename) with one
   Service's ClusterIP changed; the clock runs until NSD answers the new
   address (UDP polled every millisecond). Zones of 1k, 10k, 100k and 500k
   forward records. Next to it, in the same run, NSD's own reload time for
   the same zones: the same change written straight into the zone files,
   renamed, and `reload` sent on the control socket, polled the same way.
   kubezone's overhead is the difference of the medians; the target is
   max(50% of NSD's reload, 20 ms).
2. NOTIFY to Knot: a Knot secondary (NOTIFY, IXFR) at 10k and 100k
   records: time from NSD answering the new address to Knot answering it.
3. Query throughput: dnsperf on the 100k-record zones, kubezone's NSD
   next to Knot serving the same zone files, runs interleaved.

Environment: KUBEZONE (binary), KZ_BENCH_DIR (work directory, default a
temporary one), KZ_BENCH_SIZES (default 1000,10000,100000,500000),
KZ_BENCH_TRIALS (default 7; 3 for 500k), KZ_BENCH_DNSPERF_SECONDS
(default 10), KZ_BENCH_SKIP (comma list of: latency, knot, dnsperf).
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import dns.message
import dns.query

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
KUBEZONE = os.path.abspath(os.environ.get(
    "KUBEZONE", os.path.join(ROOT, "build", "kubezone")))
SIZES = [int(x) for x in os.environ.get(
    "KZ_BENCH_SIZES", "1000,10000,100000,500000").split(",") if x]
TRIALS = int(os.environ.get("KZ_BENCH_TRIALS", "7"))
PERF_SECONDS = int(os.environ.get("KZ_BENCH_DNSPERF_SECONDS", "10"))
SKIP = set(os.environ.get("KZ_BENCH_SKIP", "").split(","))
NAME = "svc-000000.ns-0000.svc.cluster.local."


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    while True:
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            pass
        finally:
            u.close()
            t.close()


def svc_ip(i):
    return "10.%d.%d.%d" % (96 + (i >> 16), (i >> 8) & 255, i & 255)


def write_snapshot(path, nservices, first_ip):
    """N ClusterIP services, one named port each: 3 forward records and
    1 PTR per service. Service 0 gets FIRST_IP."""
    items = []
    for ns in range((nservices + 99) // 100):
        items.append('{"apiVersion":"v1","kind":"Namespace","metadata":'
                     '{"name":"ns-%04d"}}' % ns)
    for i in range(nservices):
        ip = first_ip if i == 0 else svc_ip(i)
        items.append(
            '{"apiVersion":"v1","kind":"Service","metadata":{"name":'
            '"svc-%06d","namespace":"ns-%04d"},"spec":{"type":"ClusterIP",'
            '"clusterIP":"%s","clusterIPs":["%s"],"ports":[{"name":"http",'
            '"port":80,"protocol":"TCP","targetPort":8080}]}}'
            % (i, i // 100, ip, ip))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write('{"apiVersion":"v1","kind":"List","items":[')
        f.write(",\n".join(items))
        f.write("]}\n")
    os.rename(tmp, path)


def ask(port, name=NAME, rdtype="A"):
    q = dns.message.make_query(name, rdtype)
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.5)
    except Exception:
        return None
    for rrset in r.answer:
        for rd in rrset:
            return rd.to_text()
    return ""


def wait_answer(ports, want, timeout=60.0):
    """Poll PORTS every ms; return {port: seconds until it answered WANT}."""
    t0 = time.monotonic()
    seen = {}
    while len(seen) < len(ports):
        now = time.monotonic()
        if now - t0 > timeout:
            raise RuntimeError("no answer %s from %s" % (want, ports))
        for p in ports:
            if p not in seen and ask(p) == want:
                seen[p] = time.monotonic() - t0
        time.sleep(0.001)
    return seen


def wait_quiet(conf, settle=1.3):
    """Let the previous NSD generation exit (reload forks new servers)."""
    time.sleep(settle)


def ms(x):
    return "%.0f" % (x * 1000) if x >= 0.1 else "%.1f" % (x * 1000)


class Sync:
    def __init__(self, work, snapshot, port, extra=()):
        self.state = os.path.join(work, "state")
        self.logpath = os.path.join(work, "kubezone.log")
        self.port = port
        self.logf = open(self.logpath, "w")
        self.proc = subprocess.Popen(
            [KUBEZONE, "sync", "--snapshot", snapshot, "--state-dir",
             self.state, "--listen", "127.0.0.1:%d" % port, "--http", "off"]
            + list(extra), stdout=self.logf, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while ask(port, "cluster.local.", "SOA") in (None, ""):
            if self.proc.poll() is not None or time.monotonic() - t0 > 300:
                raise RuntimeError("kubezone did not start:\n" +
                                   open(self.logpath).read()[-3000:])
            time.sleep(0.05)

    def loads_ms(self):
        """(total, decode, render, write+validate+reload) per load, ms."""
        return [tuple(int(x) for x in m) for m in re.findall(
            r'msg="snapshot loaded".* ms=(\d+) decode_ms=(\d+) '
            r'render_ms=(\d+) publish_ms=(\d+)', open(self.logpath).read())]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()


def control(sock, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(b"NSDCT1 " + cmd.encode() + b"\n")
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def nsd_alone(state, port, trials, nrec):
    """NSD on kubezone's own nsd.conf and zone files, changed by hand."""
    conf = os.path.join(state, "nsd.conf")
    zones = os.path.join(state, "zones")
    proc = subprocess.Popen(["nsd", "-d", "-c", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while ask(port, "cluster.local.", "SOA") in (None, ""):
            if time.monotonic() - t0 > 300:
                raise RuntimeError("NSD did not start")
            time.sleep(0.05)
        fwd = os.path.join(zones, "cluster.local.zone")
        rev = os.path.join(zones, "in-addr.arpa.zone")
        with open(fwd) as f:
            ftext = f.read()
        with open(rev) as f:
            rtext = f.read()
        cur = ask(port)
        out = []
        for k in range(trials):
            new = "10.250.%d.%d" % (k // 200, k % 200 + 1)
            serial = int(re.search(r"SOA\s+\S+\s+\S+\s+(\d+)", ftext).group(1))
            ftext = re.sub(r"(SOA\s+\S+\s+\S+\s+)\d+",
                           lambda m: m.group(1) + str(serial + 1), ftext, 1)
            ftext = ftext.replace("\t" + cur + "\n", "\t" + new + "\n", 1)
            a, b, c, d = cur.split(".")
            na, nb, nc, nd = new.split(".")
            rserial = int(re.search(r"SOA\s+\S+\s+\S+\s+(\d+)",
                                    rtext).group(1))
            rtext = re.sub(r"(SOA\s+\S+\s+\S+\s+)\d+",
                           lambda m: m.group(1) + str(rserial + 1), rtext, 1)
            rtext = rtext.replace("\n%s.%s.%s.%s\t" % (d, c, b, a),
                                  "\n%s.%s.%s.%s\t" % (nd, nc, nb, na), 1)
            for path, text in ((fwd, ftext), (rev, rtext)):
                with open(path + ".b", "w") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
            t0 = time.monotonic()
            os.rename(fwd + ".b", fwd)
            os.rename(rev + ".b", rev)
            control(os.path.join(state, "nsd.ctl"), "reload cluster.local")
            control(os.path.join(state, "nsd.ctl"), "reload in-addr.arpa")
            seen = wait_answer([port], new)
            out.append(time.monotonic() - t0 if seen else None)
            cur = new
            wait_quiet(conf, 1.3 if nrec < 300000 else 3.0)
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def bench_latency(work):
    rows = []
    for nrec in SIZES:
        nsvc = max(1, nrec // 3)
        trials = TRIALS if nrec < 300000 else min(TRIALS, 3)
        d = os.path.join(work, "lat-%d" % nrec)
        os.makedirs(d)
        snap = os.path.join(d, "cluster.json")
        write_snapshot(snap, nsvc, svc_ip(0))
        port = free_port()
        log("publish latency: %d records" % nrec)
        s = Sync(d, snap, port)
        kz = []
        try:
            for k in range(trials):
                new = "10.251.%d.%d" % (k // 200, k % 200 + 1)
                write_snapshot(snap + ".next", nsvc, new)
                t0 = time.monotonic()
                os.rename(snap + ".next", snap)
                wait_answer([port], new, timeout=120)
                kz.append(time.monotonic() - t0)
                wait_quiet(None, 1.3 if nrec < 300000 else 3.0)
            loads = s.loads_ms()[1:]
        finally:
            s.stop()
        nsd = nsd_alone(s.state, port, trials, nrec)
        fwd = os.path.getsize(os.path.join(s.state, "zones",
                                           "cluster.local.zone"))
        with open(os.path.join(s.state, "zones", "cluster.local.zone")) as f:
            nlines = sum(1 for _ in f) - 2
        kz_m, nsd_m = statistics.median(kz), statistics.median(nsd)
        med = [statistics.median(x[i] for x in loads) / 1000 if loads
               else 0 for i in range(4)]
        # The overhead the target bounds: render, validation and write
        # (reading the snapshot's JSON is the input, shown apart).
        over = med[2] + med[3]
        target = max(0.5 * nsd_m, 0.020)
        rows.append((nrec, nlines, fwd, kz_m, max(kz), nsd_m, max(nsd),
                     med, over, target, trials))
        shutil.rmtree(d, ignore_errors=True)
    print("### Publish latency: snapshot change to new answer\n")
    print("Median (and max) over N trials; the change touches the forward "
          "and the reverse zone. kubezone's own work, as it logs it per "
          "load: *decode* (reading the snapshot's JSON), *render* "
          "(zonegen) and *publish* (write, fsync, ldns validation, rename, "
          "reload request). The overhead the target bounds is render + "
          "publish.\n")
    print("| forward records | file | N | kubezone: change → answer, ms | "
          "NSD alone: rename+reload → answer, ms | decode, ms | render, ms | "
          "publish, ms | overhead, ms | target, ms | met |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (nrec, nl, size, km, kx, nm, nx, load, over, target, n) in rows:
        print("| %d | %.1f MB | %d | %s (%s) | %s (%s) | %s | %s | %s | %s | "
              "%s | %s |" % (nl, size / 1e6, n, ms(km), ms(kx), ms(nm),
                             ms(nx), ms(load[1]), ms(load[2]), ms(load[3]),
                             ms(over), ms(target),
                             "yes" if over <= target else "**no**"))
    print()


KNOT_CONF = """\
server:
    rundir: "{dir}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: "{dir}/knot.log"
    any: info
database:
    storage: "{dir}/db"
remote:
  - id: kubezone
    address: 127.0.0.1@{primary}
acl:
  - id: notify
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "{dir}/zones"
    zonefile-sync: -1
    zonefile-load: {load}
    journal-content: {journal}
{zones}"""


def start_knot(d, port, zones, primary=0, secondary=True):
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    os.makedirs(os.path.join(d, "zones"), exist_ok=True)
    if secondary:
        z = "zone:\n" + "".join(
            "  - domain: %s\n    master: kubezone\n    acl: notify\n" % n
            for n in zones)
    else:
        z = "zone:\n" + "".join("  - domain: %s\n" % n for n in zones)
    with open(os.path.join(d, "knot.conf"), "w") as f:
        f.write(KNOT_CONF.format(
            dir=d, port=port, primary=primary or port, zones=z,
            load="none" if secondary else "whole",
            journal="changes" if secondary else "none"))
    return subprocess.Popen(["knotd", "-c", os.path.join(d, "knot.conf")],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def bench_knot(work):
    rows = []
    for nrec in [n for n in (10000, 100000)]:
        nsvc = nrec // 3
        d = os.path.join(work, "knot-%d" % nrec)
        os.makedirs(d)
        snap = os.path.join(d, "cluster.json")
        write_snapshot(snap, nsvc, svc_ip(0))
        port, kport = free_port(), free_port()
        log("NOTIFY to Knot: %d records" % nrec)
        s = Sync(d, snap, port, ["--notify", "127.0.0.1:%d" % kport])
        knot = start_knot(os.path.join(d, "knot"), kport,
                          ["cluster.local"], primary=port)
        try:
            wait_answer([kport], svc_ip(0), timeout=120)
            lags, totals = [], []
            for k in range(TRIALS):
                new = "10.252.%d.%d" % (k // 200, k % 200 + 1)
                write_snapshot(snap + ".next", nsvc, new)
                t0 = time.monotonic()
                os.rename(snap + ".next", snap)
                seen = wait_answer([port, kport], new, timeout=120)
                lags.append(seen[kport] - seen[port])
                totals.append(seen[kport])
                wait_quiet(None)
            ixfr = open(os.path.join(d, "knot", "knot.log")).read().count(
                "IXFR, incoming")
        finally:
            knot.send_signal(signal.SIGTERM)
            knot.wait(30)
            s.stop()
        rows.append((nrec, statistics.median(lags), max(lags),
                     statistics.median(totals), ixfr))
        shutil.rmtree(d, ignore_errors=True)
    print("### NOTIFY to a Knot secondary serving the change\n")
    print("| forward records | NSD answers → Knot answers, ms (max) | "
          "snapshot change → Knot answers, ms | IXFR log lines |")
    print("|---|---|---|---|")
    for nrec, lag, lagx, total, ixfr in rows:
        print("| %d | %s (%s) | %s | %d |" % (nrec, ms(lag), ms(lagx),
                                            ms(total), ixfr))
    print()


def dnsperf(port, qfile, seconds):
    r = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d",
                        qfile, "-l", str(seconds), "-c", "4", "-T", "1",
                        "-t", "2"], capture_output=True, text=True)
    m = re.search(r"Queries per second:\s+([\d.]+)", r.stdout)
    lost = re.search(r"Queries lost:\s+(\d+)", r.stdout)
    return (float(m.group(1)) if m else 0.0, int(lost.group(1)) if lost else -1)


def bench_dnsperf(work):
    nrec = 100000
    nsvc = nrec // 3
    d = os.path.join(work, "perf")
    os.makedirs(d)
    snap = os.path.join(d, "cluster.json")
    write_snapshot(snap, nsvc, svc_ip(0))
    qfile = os.path.join(d, "queries.txt")
    with open(qfile, "w") as f:
        for i in range(0, 200000):
            j = (i * 7919) % nsvc
            kind = i % 10
            if kind < 4:
                f.write("svc-%06d.ns-%04d.svc.cluster.local A\n" % (j, j // 100))
            elif kind < 6:
                f.write("_http._tcp.svc-%06d.ns-%04d.svc.cluster.local SRV\n"
                        % (j, j // 100))
            elif kind < 8:
                a, b, c, dd = svc_ip(j).split(".")
                f.write("%s.%s.%s.%s.in-addr.arpa PTR\n" % (dd, c, b, a))
            else:
                f.write("x%d.ns-%04d.svc.cluster.local.cluster.local A\n"
                        % (i, j // 100))
    port, kport = free_port(), free_port()
    log("dnsperf: kubezone's NSD vs Knot on %d records" % nrec)
    s = Sync(d, snap, port)
    kd = os.path.join(d, "knot")
    os.makedirs(os.path.join(kd, "zones"))
    for z in ("cluster.local", "in-addr.arpa"):
        shutil.copy(os.path.join(s.state, "zones", z + ".zone"),
                    os.path.join(kd, "zones", z + ".zone"))
    knot = start_knot(kd, kport, ["cluster.local", "in-addr.arpa"],
                      secondary=False)
    res = {"nsd": [], "knot": []}
    try:
        wait_answer([kport], svc_ip(0), timeout=120)
        for _ in range(3):
            res["nsd"].append(dnsperf(port, qfile, PERF_SECONDS))
            res["knot"].append(dnsperf(kport, qfile, PERF_SECONDS))
    finally:
        knot.send_signal(signal.SIGTERM)
        knot.wait(30)
        s.stop()
    print("### Query throughput on the %d-record zone (dnsperf)\n" % nrec)
    print("dnsperf -c 4 -T 1, %d s per run, 3 runs interleaved, 80%% "
          "existing names (A, SRV, PTR), 20%% NXDOMAIN. kubezone's NSD: "
          "server-count 1; Knot: 1 UDP worker.\n" % PERF_SECONDS)
    print("| server | median QPS | runs | lost |")
    print("|---|---|---|---|")
    for k, label in (("nsd", "kubezone (NSD 4.6)"), ("knot", "Knot")):
        q = [x[0] for x in res[k]]
        print("| %s | %.0f | %s | %d |" % (label, statistics.median(q),
                                          ", ".join("%.0f" % x for x in q),
                                          sum(x[1] for x in res[k])))
    nsd_m = statistics.median(x[0] for x in res["nsd"])
    knot_m = statistics.median(x[0] for x in res["knot"])
    print("\nNSD/Knot: %.2f\n" % (nsd_m / knot_m if knot_m else 0))
    shutil.rmtree(d, ignore_errors=True)


def main():
    base = os.environ.get("KZ_BENCH_DIR")
    work = tempfile.mkdtemp(prefix="kz-pub-", dir=base or "/tmp")
    try:
        print("## Publishing through NSD\n")
        print("Machine: %d CPUs. kubezone %s.\n" % (
            os.cpu_count(), subprocess.run([KUBEZONE, "version"],
                                           capture_output=True,
                                           text=True).stdout.strip()))
        if "latency" not in SKIP:
            bench_latency(work)
        if "knot" not in SKIP:
            bench_knot(work)
        if "dnsperf" not in SKIP:
            bench_dnsperf(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
