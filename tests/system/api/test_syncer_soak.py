"""Soak: thousands of random creates, updates and deletes through the API
while faults are injected; at the end the served zones must equal a fresh
render of the API's final state, record for record.

Bounded in time: KZ_SOAK_SECONDS (default 15 in `make check`; `make soak`
runs it for longer). The seed of the random operations and faults is
printed (shown with a failure's captured output); KZ_SOAK_SEED=N repeats
that sequence (the daemon's timing still varies from run to run).
"""

import os
import random
import time

from syncer_harness import (FakeApi, Syncer, create, endpointslice, namespace, service,
                            slice_path, svc_path, wait_converged)

SECONDS = float(os.environ.get("KZ_SOAK_SECONDS", "15"))
SEED = int(os.environ.get("KZ_SOAK_SEED", str(int(time.time()))))
NAMESPACES = ["default", "shop", "ops"]


class Cluster:
    """What the soak created, to pick random targets for updates and deletes."""

    def __init__(self, fake, rnd):
        self.fake, self.rnd = fake, rnd
        self.services = {}          # (ns, name) -> headless
        self.slices = {}            # (ns, name) -> service name
        self.n = 0
        self.ops = {"create": 0, "update": 0, "delete": 0, "failed": 0}

    def addresses(self):
        return [f"10.{self.rnd.randrange(1, 4)}.{self.rnd.randrange(256)}.{self.rnd.randrange(1, 255)}"
                for _ in range(self.rnd.randrange(0, 5))]

    def step(self):
        rnd, fake = self.rnd, self.fake
        op = rnd.random()
        try:
            if op < 0.35 or not self.services:
                self.n += 1
                ns, name = rnd.choice(NAMESPACES), f"svc{self.n}"
                headless = rnd.random() < 0.4
                create(fake, service(name, ns=ns, headless=headless,
                                     ports=((rnd.choice([80, 443, 53, 8080]), "p"),)))
                self.services[(ns, name)] = headless
                if headless:
                    create(fake, endpointslice(f"{name}-1", name, self.addresses(), ns=ns,
                                               hostnames=None if rnd.random() < 0.5 else
                                               [f"h{i}" for i in range(4)]))
                    self.slices[(ns, f"{name}-1")] = name
                self.ops["create"] += 1
            elif op < 0.7 and self.slices:
                (ns, name), svc = rnd.choice(list(self.slices.items()))
                body = endpointslice(name, svc, self.addresses(), ns=ns,
                                     ready=rnd.random() < 0.8)
                fake.api("PUT", slice_path(ns, name), body)
                self.ops["update"] += 1
            elif op < 0.8:
                (ns, name) = rnd.choice(list(self.services))
                fake.api("PATCH", svc_path(ns, name),
                         {"spec": {"ports": [{"name": "q", "port": rnd.randrange(1, 65535)}]}},
                         content_type="application/merge-patch+json")
                self.ops["update"] += 1
            else:
                (ns, name) = rnd.choice(list(self.services))
                fake.api("DELETE", svc_path(ns, name))
                del self.services[(ns, name)]
                for key, svc in list(self.slices.items()):
                    if key[0] == ns and svc == name and rnd.random() < 0.7:
                        fake.api("DELETE", slice_path(*key))
                        del self.slices[key]
                self.ops["delete"] += 1
        except (AssertionError, OSError):
            self.ops["failed"] += 1     # the API was down for a moment


def inject_fault(fake, rnd):
    fault = rnd.choice(["cut", "end", "gone", "compact", "malformed", "500", "drop", "down",
                        "split", "stall"])
    if fault == "cut":
        fake.close_watches(abrupt=True)
    elif fault == "end":
        fake.close_watches()
    elif fault == "gone":
        fake.compact(gone=True)
    elif fault == "compact":
        fake.compact()
        fake.close_watches(abrupt=True)
    elif fault == "malformed":
        fake.fault(action="malformed", watch=True, after_events=rnd.randrange(3))
        fake.close_watches()
    elif fault == "500":
        fake.fault(action="status", code=500, count=rnd.randrange(1, 4))
        fake.close_watches()
    elif fault == "drop":
        fake.fault(action="drop", count=rnd.randrange(1, 4))
        fake.close_watches(abrupt=True)
    elif fault == "down":
        fake.down()
        time.sleep(rnd.uniform(0.2, 1.0))       # the outage's length
        fake.up()
    elif fault == "split":
        fake.config(split=rnd.random() < 0.5)
    elif fault == "stall":
        fake.inject("stall")
    return fault


def test_soak(tmp_path):
    rnd = random.Random(SEED)
    print(f"soak: {SECONDS:.0f} s, seed {SEED} (repeat with KZ_SOAK_SEED={SEED})")
    with FakeApi(tmp_path / "fake", args=["--bookmark-interval", "1", "--window", "200"]) as fake:
        fake.write_kubeconfig()
        for ns in NAMESPACES[1:]:
            create(fake, namespace(ns))
        s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig",
                   args=["--idle-timeout", "3s", "--relist-interval", "20s"])
        s.start()
        try:
            s.wait_ready()
            cluster = Cluster(fake, rnd)
            faults = {}
            end = time.monotonic() + SECONDS
            next_fault = time.monotonic() + 0.5
            while time.monotonic() < end:
                cluster.step()
                if time.monotonic() >= next_fault:
                    f = inject_fault(fake, rnd)
                    faults[f] = faults.get(f, 0) + 1
                    next_fault = time.monotonic() + rnd.uniform(0.3, 1.5)
            fake.clear_faults()
            fake.up()
            fake.config(split=False)
            print(f"soak: operations {cluster.ops}, faults {faults}")
            want = wait_converged(fake, s, tmp_path / "r", timeout=30)
            print(f"soak: converged on {sum(len(r) for r in want.values())} records")
            assert s.proc.poll() is None
            assert sum(cluster.ops.values()) > 100
        finally:
            assert s.stop() == 0
