"""Faults: kubezone itself is SIGKILLed in the middle of a publish.

A cluster large enough that publishing takes a while is changed, and
kubezone is killed at a series of delays after the change (NSD goes
with it). Each time, the zone files NSD keeps in the state directory
must be complete (old or new, never a mix or a truncated file); a
restarted kubezone must serve one of the two renders completely, with a
serial that did not go back, and publish the next change.
"""

import json
import os
import signal
import time

import pytest

from conftest import (axfr, pid_alive, rendered_zones, replace_file,
                      soa_serial, wait_for, without_soa_serial)

import dns.zone


def big_cluster(path, n, ip_base):
    items = []
    for i in range(n):
        name = "svc-%d" % i
        ip = "10.%d.%d.%d" % (ip_base, i // 250, i % 250 + 1)
        items.append({"kind": "Service", "apiVersion": "v1",
                      "metadata": {"name": name, "namespace": "load"},
                      "spec": {"type": "ClusterIP", "clusterIP": ip,
                               "clusterIPs": [ip],
                               "ports": [{"name": "http", "port": 80,
                                          "protocol": "TCP"}]}})
        items.append({"kind": "EndpointSlice",
                      "apiVersion": "discovery.k8s.io/v1",
                      "metadata": {"name": name + "-x", "namespace": "load",
                                   "labels": {"kubernetes.io/service-name":
                                              name}},
                      "addressType": "IPv4",
                      "ports": [{"name": "http", "port": 8080,
                                 "protocol": "TCP"}],
                      "endpoints": [{"addresses": ["10.%d.%d.%d" % (
                          ip_base + 100, i // 250, i % 250 + 1)],
                          "conditions": {"ready": True}}]})
    items.append({"kind": "Namespace", "apiVersion": "v1",
                  "metadata": {"name": "load"}})
    with open(path, "w") as f:
        json.dump({"kind": "List", "apiVersion": "v1", "items": items}, f)


def zone_files_complete(state):
    zones = os.path.join(state, "zones")
    out = {}
    for f in os.listdir(zones):
        if not f.endswith(".zone"):
            continue
        # NSD writes "$ORIGIN local." before "cluster SOA ...": name
        # the zone's origin, as NSD does when it loads the file.
        z = dns.zone.from_file(os.path.join(zones, f), origin=f[:-5] + ".",
                               relativize=False)
        out[z.origin.to_text()] = len(list(z.iterate_rdatas()))
    return out


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    """Two big snapshots and their renders: {old,new}_snap, old, new."""
    import subprocess
    kz = os.path.abspath(os.environ.get("KUBEZONE", "build/kubezone"))
    d = tmp_path_factory.mktemp("kill")
    c = {"old_snap": str(d / "old.json"), "new_snap": str(d / "new.json")}
    big_cluster(c["old_snap"], 3000, 1)
    big_cluster(c["new_snap"], 3000, 2)
    for k in ("old", "new"):
        c[k] = {o: without_soa_serial(r) for o, r in
                rendered_zones(kz, c[k + "_snap"]).items()}
    return c


@pytest.mark.parametrize("delay_ms", [0, 40, 120, 300])
def test_sigkill_mid_publish(sync, tmp_path, clusters, delay_ms):
    snap = str(tmp_path / "cluster.json")
    old_snap, new_snap = clusters["old_snap"], clusters["new_snap"]
    old, new = clusters["old"], clusters["new"]
    with open(old_snap) as f:
        replace_file(snap, f.read())
    state = str(tmp_path / "state")

    s = sync(snap, state=state)
    port = s.port
    serial = soa_serial("cluster.local.", port)
    # NSD writes its zone files a few seconds after a change.
    wait_for(lambda: set(zone_files_complete(state)) == set(old), 20,
             interval=0.2, what="NSD's zone files written")
    nsd = s.nsd_pid()
    with open(new_snap) as f:
        text = f.read()
    replace_file(snap, text)
    time.sleep(delay_ms / 1000)     # the kill lands this far into the publish
    os.kill(s.pid, signal.SIGKILL)
    s.proc.wait()
    # NSD follows its parent (parent-death signal).
    wait_for(lambda: not pid_alive(nsd), 10, what="NSD gone with kubezone")

    # Every zone file on disk is complete.
    counts = zone_files_complete(state)
    assert set(counts) == set(old)

    s2 = sync(snap, port=port, state=state)
    for origin in old:
        got = without_soa_serial(axfr(origin, port))
        assert got in (old[origin], new[origin]), \
            "%s served neither the old nor the new zone" % origin
    wait_for(lambda: without_soa_serial(axfr("cluster.local.", port)) ==
             new["cluster.local."], 20, interval=0.2,
             what="the new zone after the restart")
    serial2 = soa_serial("cluster.local.", port)
    assert serial2 >= serial and (serial2 - serial) % 2**32 < 2**31

    # The next change publishes, with a later serial.
    with open(old_snap) as f:
        replace_file(snap, f.read())
    wait_for(lambda: without_soa_serial(axfr("cluster.local.", port)) ==
             old["cluster.local."], 20, interval=0.2,
             what="the next change published")
    assert soa_serial("cluster.local.", port) > serial2
    assert s2.proc.poll() is None
