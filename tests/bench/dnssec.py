#!/usr/bin/python3
"""dnssec.py -- `make bench`: the cost of signing (kubezone sync --dnssec).

For each cluster size (a small one, 1,000 Services and 15,000 Pods, and
the scale-limit one, $KZ_BENCH_CLUSTER: 10,000 Services, 150,000 Pods,
pod records on), in the same run:

 1. full signing: `kubezone sync --pod-records --dnssec` following the
    fake API, algorithm 13 and algorithm 15; the CPU time of signing the
    cluster zone whole at its first publication (msg="zone signed"
    cpu_s=...) and its signature count;
 2. beside it, ldns-signzone on the same zone (`kubezone render
    --pod-records` of the same cluster) with a key of the same
    algorithm, NSEC: the child's CPU time (user + system, wait4);
 3. the cost of one single-object change with and without signing: the
    same `incremental.py` CPU step (Pod IP changes, each its own publish)
    against a daemon without --dnssec and with each algorithm: the
    daemon's CPU per event above its idle baseline, and kubezone's own
    render + publish time per event from its log;
 4. a restart of a signed daemon (algorithm 13): `incremental.py`'s
    restart step (SIGKILL once NSD's zone files are written, a Service
    created while it is down, started again on the same state
    directory): per zone the RRsets whose signatures were taken over
    from NSD's zone file, the signatures made and the CPU of the
    resumption, beside the CPU of the full signing at the first start
    of the same daemon; NSD's answers throughout; kubezone's peak RSS.

Runs tests/bench/incremental.py (KZ_INCR_STEPS=cpu) for the daemons, so
the daemons are started, fed and measured exactly as there. Prints one
Markdown section on stdout (progress on stderr); raw figures go to
$KZ_BENCH_DIR/dnssec/<size>.json. Environment: BUILD, KUBEZONE,
KZ_BENCH_CLUSTER, KZ_BENCH_DIR, PYTHON (run.sh sets them);
KZ_DNSSEC_SIZES (default "small,full"), KZ_DNSSEC_EVENTS (Pod changes
per daemon, default 100).
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = os.environ.get("BUILD", "build")
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / BUILD / "kubezone"))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
BENCH_DIR = Path(os.environ.get("KZ_BENCH_DIR", ROOT / BUILD / "bench"))
WORK = BENCH_DIR / "dnssec"
INCR = BENCH_DIR / "incremental"
SIZES = [s for s in os.environ.get("KZ_DNSSEC_SIZES", "small,full").split(",") if s]
EVENTS = int(os.environ.get("KZ_DNSSEC_EVENTS", "100"))
TICK = os.sysconf("SC_CLK_TCK")
VARIANTS = [("none", []), ("13", ["--dnssec", "--dnssec-algorithm", "13"]),
            ("15", ["--dnssec", "--dnssec-algorithm", "15"])]
LDNS_ALG = {"13": "ECDSAP256SHA256", "15": "ED25519"}


def log(*a):
    print("dnssec:", *a, file=sys.stderr, flush=True)


def daemon(size, name, args):
    """incremental.py's CPU step against one daemon; its raw figures and
    its log."""
    tag = "-dnssec-" + name
    env = dict(os.environ, KZ_INCR_SIZES=size, KZ_INCR_STEPS="cpu",
               KZ_INCR_CPU_EVENTS=str(EVENTS), KZ_INCR_TAG=tag,
               KZ_INCR_KZ_ARGS=" ".join(args), KZ_BENCH_DIR=str(BENCH_DIR),
               KUBEZONE=KUBEZONE)
    log(f"{size}: daemon {name} ({' '.join(args) or 'unsigned'})")
    subprocess.run([PYTHON, str(ROOT / "tests/bench/incremental.py")],
                   env=env, check=True)
    res = json.loads((INCR / f"{size}{tag}.json").read_text())
    text = (INCR / f"{size}{tag}" / "kz" / "kubezone.log").read_text(errors="replace")
    return res, text


def signed(text):
    m = re.search(r'msg="zone signed" zone=cluster\.local\. signatures=(\d+) '
                  r'cpu_s=([\d.]+)', text)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)


def per_event(res):
    c = res["cpu"]
    cpu_ms = (c["ticks"] - c["idle_ticks"]) / TICK / c["n"] * 1000
    return {"cpu_ms": cpu_ms,
            "kz_ms_p50": statistics.median(c["kz_ms"]) if c["kz_ms"] else None,
            "kz_ms_p90": (statistics.quantiles(c["kz_ms"], n=10)[8]
                          if len(c["kz_ms"]) >= 10 else None),
            "records_changed": c["records_changed"], "publishes": c["publishes"]}


def cluster_of(res):
    return Path(res["cluster"])


def ldns_signzone(cluster, alg, work):
    """CPU seconds of ldns-signzone on the cluster zone of CLUSTER; the
    number of RRSIGs it made."""
    out = work / "render"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    out.mkdir(parents=True)
    subprocess.run([KUBEZONE, "render", "--pod-records", "--out", str(out),
                    str(cluster)], check=True, capture_output=True)
    keys = work / ("keys" + alg)
    subprocess.run(["rm", "-rf", str(keys)], check=True)
    keys.mkdir()
    key = subprocess.run(["ldns-keygen", "-a", LDNS_ALG[alg], "-k",
                          "cluster.local"], cwd=keys, check=True,
                         capture_output=True, text=True).stdout.strip()
    zone = out / "cluster.local.zone"
    signed_path = work / f"cluster.local.signed{alg}"
    t0 = time.perf_counter()
    p = subprocess.Popen(["ldns-signzone", "-o", "cluster.local", "-f",
                          str(signed_path), str(zone), str(keys / key)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    assert os.waitstatus_to_exitcode(status) == 0, p.stderr.read()
    nsig = sum(1 for line in open(signed_path) if "\tRRSIG\t" in line)
    records = sum(1 for line in open(zone) if line.strip() and not
                  line.startswith(("$", ";")))
    signed_path.unlink()
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "wall_s": wall,
            "rrsigs": nsig, "records": records}


def run(size):
    work = WORK / size
    work.mkdir(parents=True, exist_ok=True)
    res = {"size": size, "daemons": {}, "ldns": {}, "events": EVENTS}
    for name, args in VARIANTS:
        r, text = daemon(size, name, args)
        d = per_event(r)
        d["signatures"], d["sign_cpu_s"] = signed(text)
        d["startup_s"] = r.get("startup_s")
        d["startup_cpu_s"] = r.get("startup_cpu_s")
        d["rss_kb"] = r.get("rss", {}).get("kz_rss_kb")
        d["nsd_pss_kb"] = r.get("rss", {}).get("nsd_pss_kb")
        res["daemons"][name] = d
        res["cluster"] = r["cluster"]
    for alg in ("13", "15"):
        log(f"{size}: ldns-signzone, algorithm {alg}")
        res["ldns"][alg] = ldns_signzone(Path(res["cluster"]), alg, work)
    res["restart"] = restart(size)
    (WORK / f"{size}.json").write_text(json.dumps(res, indent=1))
    return res


def fields(line):
    return dict(x.split("=", 1) for x in line.split() if "=" in x)


def restart(size):
    """incremental.py's restart step against a signed daemon."""
    tag = "-dnssec-restart"
    env = dict(os.environ, KZ_INCR_SIZES=size, KZ_INCR_STEPS="restart",
               KZ_INCR_TAG=tag, KZ_INCR_KZ_ARGS="--dnssec --dnssec-algorithm 13",
               KZ_BENCH_DIR=str(BENCH_DIR), KUBEZONE=KUBEZONE)
    log(f"{size}: restart of a signed daemon")
    subprocess.run([PYTHON, str(ROOT / "tests/bench/incremental.py")],
                   env=env, check=True)
    r = json.loads((INCR / f"{size}{tag}.json").read_text())
    text = (INCR / f"{size}{tag}" / "kz" / "kubezone.log").read_text(errors="replace")
    zones = {}
    for line in text.splitlines():
        if 'msg="zone signed"' in line:
            f = fields(line)
            zones.setdefault(f["zone"], {})["full_cpu_s"] = float(f["cpu_s"])
            zones[f["zone"]]["signatures"] = int(f["signatures"])
        elif "msg=\"zone resumed from nsd's zone file\"" in line:
            f = fields(line)
            zones.setdefault(f["zone"], {}).update(
                taken=int(f["rrsets_taken_over"]), made=int(f["signatures_made"]),
                resume_cpu_s=float(f["cpu_s"]), deleted=int(f["deleted"]),
                added=int(f["added"]))
    return {"zones": zones, "restart": r.get("restart"),
            "rss_after_restart": r.get("rss_after_restart")}


def f(x, fmt="%.2f"):
    return "n/a" if x is None else fmt % x


def report(results):
    print("## DNSSEC: signing a cluster zone\n")
    print("`tests/bench/dnssec.py`: `kubezone sync --pod-records` following "
          "the fake API, without and with `--dnssec` (algorithms 13 and "
          "15), beside `ldns-signzone` (NSEC) on the same zone rendered "
          "by `kubezone render --pod-records`, in the same run. CPU times "
          "are the processes' own (user + system).\n")
    print("| cluster | algorithm | records (zone file) | kubezone: RRSIGs | "
          "kubezone: full signing CPU s | ldns-signzone: RRSIGs | "
          "ldns-signzone CPU s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        for alg in ("13", "15"):
            d, l = r["daemons"][alg], r["ldns"][alg]
            print(f"| {r['size']} | {alg} | {l['records']} | "
                  f"{f(d['signatures'], '%d')} | {f(d['sign_cpu_s'])} | "
                  f"{l['rrsigs']} | {l['cpu_s']:.2f} |")
    print()
    events = "/".join(str(r.get("events", EVENTS)) for r in results)
    print(f"One single-object change (a Pod's IP, {events} changes, each its "
          "own publish): the daemon's CPU per change above its idle "
          "baseline, and kubezone's render + publish time from its log "
          "(signing happens in publish).\n")
    print("| cluster | signing | CPU ms per change | added by signing | "
          "render + publish ms p50 | p90 | kubezone RSS MB | NSD PSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        base = r["daemons"]["none"]["cpu_ms"]
        for name, _ in VARIANTS:
            d = r["daemons"][name]
            added = "" if name == "none" else "%+.2f" % (d["cpu_ms"] - base)
            rss, pss = d.get("rss_kb"), d.get("nsd_pss_kb")
            print(f"| {r['size']} | {'none' if name == 'none' else 'alg ' + name} "
                  f"| {d['cpu_ms']:.2f} | {added} | {f(d['kz_ms_p50'])} | "
                  f"{f(d['kz_ms_p90'])} | {f(rss and rss / 1024, '%.0f')} | "
                  f"{f(pss and pss / 1024, '%.0f')} |")
    print()
    print("A restart of a signed daemon (algorithm 13; SIGKILL once NSD's "
          "zone files are written, one Service created while it is down, "
          "started again on the same state directory): per zone, the "
          "resumption from NSD's zone file beside the full signing at the "
          "daemon's first start (CPU s, kubezone's own log).\n")
    print("| cluster | zone | RRsets taken over | signatures made | "
          "records in the IXFR | resume CPU s | full signing CPU s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        for zone, z in sorted(r.get("restart", {}).get("zones", {}).items()):
            ratio = (z["resume_cpu_s"] / z["full_cpu_s"]
                     if z.get("full_cpu_s") and "resume_cpu_s" in z else None)
            print(f"| {r['size']} | {zone} | {z.get('taken', 'n/a')} | "
                  f"{z.get('made', 'n/a')} | "
                  f"{z.get('deleted', 0) + z.get('added', 0) + 2} | "
                  f"{f(z.get('resume_cpu_s'), '%.3f')} | "
                  f"{f(z.get('full_cpu_s'))} | {f(ratio, '%.3f')} |")
    print()
    print("| cluster | NSD: polls unanswered after the kill | zones current "
          "after the start, s | kubezone CPU until ready, s | kubezone "
          "VmHWM after the restart, MB |")
    print("|---|---|---|---|---|")
    for r in results:
        rs = (r.get("restart") or {}).get("restart") or {}
        hwm = ((r.get("restart") or {}).get("rss_after_restart") or {}).get("kz_hwm_kb")
        cur = rs.get("current_after_start_ms")
        print(f"| {r['size']} | {rs.get('failed_polls', 'n/a')} of "
              f"{rs.get('polls', 'n/a')} | "
              f"{f(cur and cur / 1000, '%.1f')} | "
              f"{f(rs.get('kz_cpu_at_ready_s'))} | "
              f"{f(hwm and hwm / 1024, '%.0f')} |")
    print()


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    if len(sys.argv) > 1 and sys.argv[1] == "--report":
        results = [json.loads((WORK / f"{s}.json").read_text()) for s in SIZES]
        for r in results:      # figures kept by incremental.py
            for name, d in r["daemons"].items():
                if "rss_kb" not in d:
                    inc = json.loads((INCR / f"{r['size']}-dnssec-{name}.json")
                                     .read_text())
                    d["rss_kb"] = inc["rss"]["kz_rss_kb"]
                    d["nsd_pss_kb"] = inc["rss"]["nsd_pss_kb"]
        report(results)
        return
    report([run(size) for size in SIZES])


if __name__ == "__main__":
    main()
