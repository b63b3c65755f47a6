#!/usr/bin/python3
"""syncer_api.py -- `make bench`: kubezone sync following the (fake) API.

For a 1k-Service cluster and for a cluster at Kubernetes' scale limits
(10k Services, 150k Pods with pod records on, ~10k EndpointSlices, 500
Namespaces), served by tests/fakeapi in pages of 500:

  * startup to ready: from starting `kubezone sync` to /readyz 200 (every
    resource listed, zones rendered, published and NSD started);
  * the daemon's RSS once synced (VmRSS and the peak VmHWM), and the
    model's own size as the daemon logs it;
  * propagation latency: from the API write (POST of a Service) to the
    new answer served by NSD, p50 and p99 over --samples writes spaced
    out so each is a "first change after a quiet spell";
  * beside it, from the daemon's log: render and publish time, and NSD's
    reload time (the zone installed to the new answer served).

The clusters are generated here with the fields DNS needs plus typical
labels and annotations (the fake keeps every object in Python memory, so
objects are slimmer than tests/bench/gen_cluster.py's full pod specs).
Prints one Markdown section. Environment: BUILD (kubezone in
$BUILD/kubezone), KZ_BENCH_DIR (work files), KZ_BENCH_QUICK=1 (a tenth
of the big cluster, for a fast look).
"""

import http.client
import json
import os
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = os.environ.get("BUILD", "build")
os.environ.setdefault("KUBEZONE", str(ROOT / BUILD / "kubezone"))
sys.path.insert(0, str(ROOT / "tests" / "system"))
from syncer_harness import FakeApi, Syncer, wait_for  # noqa: E402

WORK = Path(os.environ.get("KZ_BENCH_DIR", ROOT / BUILD / "bench")) / "syncer"
QUICK = os.environ.get("KZ_BENCH_QUICK") == "1"


def gen(services, pods, namespaces):
    """A cluster as one List: Services, EndpointSlices, Pods, Namespaces."""
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns{n}"}}
             for n in range(namespaces)]
    per = max(1, pods // services)
    pod_no = 0
    for i in range(services):
        ns, name = f"ns{i % namespaces}", f"svc{i}"
        headless = i % 10 == 0
        labels = {"app": name, "app.kubernetes.io/part-of": f"shop{i % 50}",
                  "app.kubernetes.io/managed-by": "helm", "pod-template-hash": "7d4b9c8f6d"}
        spec = {"type": "ClusterIP", "selector": {"app": name},
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                          {"name": "metrics", "port": 9090, "protocol": "TCP"}]}
        if headless:
            spec["clusterIP"] = "None"
        else:
            k = i + 256      # past 10.96.0.x (kubernetes, kube-dns)
            spec["clusterIP"] = f"10.{96 + k // 65536}.{k // 256 % 256}.{k % 256}"
            spec["clusterIPs"] = [spec["clusterIP"]]
        items.append({"apiVersion": "v1", "kind": "Service",
                      "metadata": {"name": name, "namespace": ns, "labels": labels,
                                   "annotations": {"meta.helm.sh/release-name": name}},
                      "spec": spec})
        eps = []
        for r in range(per):
            n = pod_no
            pod_no += 1
            ip = f"10.{128 + n // 65536}.{n // 256 % 256}.{n % 256}"
            pod = f"{name}-{r}" if headless else f"{name}-7d4b9c8f6d-{r:05d}"
            items.append({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": pod, "namespace": ns, "labels": labels,
                                       "annotations": {"kubectl.kubernetes.io/restartedAt":
                                                       "2025-01-01T00:00:00Z"}},
                          "spec": {"nodeName": f"node{n // 100}",
                                   "containers": [{"name": "app", "image": "registry/app:1.2.3",
                                                   "ports": [{"containerPort": 8080}]}],
                                   **({"hostname": pod, "subdomain": name} if headless else {})},
                          "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                     "hostIP": f"192.168.{n // 25600}.{n // 100 % 256}"}})
            ep = {"addresses": [ip], "conditions": {"ready": True, "serving": True,
                                                     "terminating": False},
                  "nodeName": f"node{n // 100}",
                  "targetRef": {"kind": "Pod", "name": pod, "namespace": ns}}
            if headless:
                ep["hostname"] = pod
            eps.append(ep)
        items.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": f"{name}-abcde", "namespace": ns,
                                   "labels": {"kubernetes.io/service-name": name,
                                              "endpointslice.kubernetes.io/managed-by":
                                              "endpointslice-controller.k8s.io"}},
                      "addressType": "IPv4",
                      "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                                {"name": "metrics", "port": 9090, "protocol": "TCP"}],
                      "endpoints": eps})
    return {"apiVersion": "v1", "kind": "List", "items": items}


def post_service(fake, name):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    body = json.dumps({"metadata": {"name": name},
                       "spec": {"ports": [{"name": "http", "port": 80}]}})
    conn.request("POST", "/api/v1/namespaces/default/services", body,
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = json.loads(r.read())
    conn.close()
    assert r.status == 201, data
    return data["spec"]["clusterIP"]


def log_times(text, msg, key):
    """[(wall time, value of KEY)] of log lines with msg=MSG."""
    out = []
    for line in text.splitlines():
        if f'msg="{msg}"' not in line and f"msg={msg} " not in line:
            continue
        ts = re.search(r"ts=(\S+)", line).group(1)
        t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() - time.timezone
        m = re.search(rf"{key}=(\S+)", line) if key else None
        out.append((t, m.group(1) if m else None))
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(label, services, pods, namespaces, samples, pod_records):
    work = WORK / label
    work.mkdir(parents=True, exist_ok=True)
    snap = work / "cluster.json"
    t = time.monotonic()
    snap.write_text(json.dumps(gen(services, pods, namespaces)))
    gen_s = time.monotonic() - t
    fake = FakeApi(work / "fake", snapshot=snap, args=["--bookmark-interval", "30"])
    t = time.monotonic()
    fake.start(timeout=600)
    load_s = time.monotonic() - t
    fake.write_kubeconfig()
    args = ["--log-level", "debug", "--idle-timeout", "130s"] + \
        (["--pod-records"] if pod_records else [])
    s = Syncer(work / "kz", fake.workdir / "kubeconfig", args=args)
    try:
        s.start()
        startup = s.wait_ready(timeout=600)
        stat = Path(f"/proc/{s.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        status = Path(f"/proc/{s.proc.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        m = s.metrics()
        records = m.get('kubezone_zone_records{zone="cluster.local"}', 0)
        lat = []
        for i in range(samples):
            time.sleep(0.3)
            t0 = time.monotonic()
            w0 = time.time()
            ip = post_service(fake, f"bench{i}")
            while s.query(f"bench{i}.default.svc.cluster.local", timeout=0.5)[1] != [ip]:
                time.sleep(0.002)
            lat.append((time.monotonic() - t0, w0, time.time()))
        time.sleep(0.2)
        log = s.log_text()
    finally:
        s.stop()
        fake.stop()
    rendered = [(t, v) for t, v in log_times(log, "zones rendered", "render_ms")]
    published = [(t, v) for t, v in log_times(log, "zones rendered", "publish_ms")]
    model = log_times(log, "zones rendered", "model_bytes")
    # per sample: the render that followed the write; NSD = answer - that render's end
    render_ms, publish_ms, nsd_ms = [], [], []
    for _, w0, w1 in lat:
        after = [i for i, (t, _) in enumerate(rendered) if w0 - 0.002 <= t <= w1 + 0.002]
        if after:
            i = after[0]
            render_ms.append(float(rendered[i][1]))
            publish_ms.append(float(published[i][1]))
            nsd_ms.append(max(0.0, (w1 - rendered[i][0]) * 1000))
    ms = [x[0] * 1000 for x in lat]
    return {"label": label, "services": services, "pods": pods if pod_records else 0,
            "objects": services * 2 + pods + namespaces, "gen_s": gen_s, "load_s": load_s,
            "startup_s": startup, "cpu_s": cpu, "rss": rss, "hwm": hwm, "records": records,
            "p50": pct(ms, 50), "p99": pct(ms, 99), "max": max(ms),
            "render": statistics.median(render_ms) if render_ms else float("nan"),
            "publish": statistics.median(publish_ms) if publish_ms else float("nan"),
            "nsd": statistics.median(nsd_ms) if nsd_ms else float("nan"),
            "samples": samples, "model": model[-1][1] if model else "?"}


def main():
    big = (1000, 15000, 50) if QUICK else (10000, 150000, 500)
    results = [run("1k-services", 1000, 15000, 50, 40, False),
               run("10k-services-150k-pods", *big, 20, True)]
    print("## Syncer: following the Kubernetes API\n")
    print("`kubezone sync` against tests/fakeapi (lists paged by 500, JSON), NSD on loopback; "
          "latency = API write (POST Service) to the new A answer from NSD, each write after a "
          "quiet spell (`--min-interval` 100ms). Render, publish and NSD reload are medians "
          "from the daemon's log for the same writes (NSD reload: zone installed and reload "
          "requested to the answer served). Startup to ready includes the fake API's own time to "
          "serve the pages (Python), which dominates; the daemon's CPU time shows its share.\n")
    print("| cluster | records (cluster.local) | startup to ready (daemon CPU) | "
          "RSS synced (peak) | propagation p50 / p99 / max | render | publish | NSD reload |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        pods = f", {r['pods']:,} pods" if r["pods"] else ""
        print(f"| {r['services']:,} services{pods} | {int(r['records']):,} | "
              f"{r['startup_s']:.2f} s ({r['cpu_s']:.1f} s) | {r['rss']:.0f} MB ({r['hwm']:.0f} MB) | "
              f"{r['p50']:.0f} / {r['p99']:.0f} / {r['max']:.0f} ms ({r['samples']} writes) | "
              f"{r['render']:.0f} ms | {r['publish']:.0f} ms | {r['nsd']:.0f} ms |")
    print()
    for r in results:
        print(f"- {r['label']}: fake API loaded {r['objects']:,} objects in {r['load_s']:.1f} s; "
              f"model {int(r['model']) / 1e6:.1f} MB (`zg_model_bytes`, as logged).")


if __name__ == "__main__":
    main()
