#!/usr/bin/python3
"""Memcheck kubezone: a render, and a short sync session against the fake API.

  KUBEZONE=build-valgrind/kubezone /usr/bin/python3 tests/valgrind/run.py

1. `kubezone render` of the golden cluster with every render option.
2. `kubezone sync` following tests/fakeapi (NSD included, its own
   process, not under valgrind): wait until ready, create and delete a
   Service, make a watch drop, scrape /metrics, then SIGTERM.

Both must end with no memcheck error and no leak (definite, indirect or
possible); each valgrind log is kept in $BUILD/valgrind-*.log. Prints
"valgrind: N passed, N failed" last; exit status 1 on any failure.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakeapi"))
from client import FakeApi  # noqa: E402
from syncer_harness import create, service, svc_path, free_port  # noqa: E402

KUBEZONE = os.path.abspath(os.environ.get("KUBEZONE", os.path.join(ROOT, "build-valgrind", "kubezone")))
LOGDIR = os.path.dirname(KUBEZONE)
SUPP = os.path.join(ROOT, "tests", "valgrind", "kubezone.supp")
VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--track-origins=yes", "--trace-children=no", "--num-callers=30",
            "--suppressions=" + SUPP]


def check_log(path):
    with open(path) as f:
        text = f.read()
    summary = [l for l in text.splitlines() if "ERROR SUMMARY" in l]
    ok = summary and " 0 errors" in summary[-1]
    return ok, (summary[-1] if summary else "no summary") + "  (" + path + ")"


def run_render(work):
    log = os.path.join(LOGDIR, "valgrind-render.log")
    out = os.path.join(work, "zones")
    cmd = VALGRIND + ["--log-file=" + log, KUBEZONE, "render", "--out", out,
                      "--pod-records", "--endpoint-pod-names", "--reverse-zone",
                      "10.96.0.0/12", "--reverse-zone", "fd00::/8",
                      os.path.join(ROOT, "tests", "golden", "small-cluster", "input.json")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    ok, line = check_log(log)
    ok = ok and r.returncode == 0 and len(os.listdir(out)) >= 1
    return ok, "render: rc=%d %s" % (r.returncode, line)


def http(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


def run_sync(work):
    log = os.path.join(LOGDIR, "valgrind-sync.log")
    with open(os.path.join(ROOT, "examples", "cluster.json")) as f:
        snapshot = os.path.join(work, "snap.json")
        with open(snapshot, "w") as o:
            o.write(f.read())
    with FakeApi(os.path.join(work, "fake"), snapshot=snapshot) as fake:
        kc = fake.write_kubeconfig("kc")
        dport, hport = free_port(), free_port()
        cmd = VALGRIND + ["--log-file=" + log, KUBEZONE, "sync", "--kubeconfig", str(kc),
                          "--state-dir", os.path.join(work, "state"),
                          "--listen", "127.0.0.1:%d" % dport, "--http", "127.0.0.1:%d" % hport,
                          "--min-interval", "50ms", "--backoff-max", "1s"]
        out = open(os.path.join(work, "sync.log"), "wb")
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while http(hport, "/readyz")[0] != 200:
                if p.poll() is not None or time.monotonic() > deadline:
                    return False, "sync: never ready (rc=%s), see %s" % (p.poll(), out.name)
                time.sleep(0.5)
            create(fake, service("vg"))
            time.sleep(1.5)
            fake.close_watches(abrupt=True)
            time.sleep(1.5)
            fake.api("DELETE", svc_path("default", "vg"))
            time.sleep(1.5)
            status, body = http(hport, "/metrics")
            if status != 200 or "kubezone_" not in body:
                return False, "sync: /metrics answered %s" % status
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
            out.close()
    ok, line = check_log(log)
    return ok and rc == 0, "sync: rc=%d %s" % (rc, line)


def main():
    if shutil.which("valgrind") is None:
        print("valgrind: not installed (container/deps.sh test)")
        return 1
    work = tempfile.mkdtemp(prefix="kz-vg-", dir="/tmp")
    passed = failed = 0
    try:
        for fn in (run_render, run_sync):
            ok, line = fn(work)
            print(("ok   " if ok else "FAIL ") + line, flush=True)
            passed += ok
            failed += not ok
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("valgrind: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
