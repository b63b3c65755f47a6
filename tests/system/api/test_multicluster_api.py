"""`kubezone sync --clusters FILE`: two clusters, two fake API servers, one
kubezone and one NSD.

What is expected: each cluster's zones equal `kubezone render` of that
cluster's API state with that cluster's options (so the rules are the
single-cluster ones), change after change; the catalog lists every
cluster's zones; the clusterset zone holds one cluster's ServiceImports
as the MCS DNS specification writes them; when one cluster's API server
is killed, the other cluster's changes keep reaching DNS while the dead
one's zones stay served and its metrics say its API is down; Knot, a
secondary of both clusters' zones, follows; two clusters claiming the
same reverse zone are refused at start, naming both.

Real kubezone, real NSD, real Knot, two fake kube-apiservers, dnspython.
"""

import os
import shutil
import subprocess

import pytest

from syncer_harness import (FakeApi, KUBEZONE, Syncer, free_port, fresh_render, served,
                            service, slice_path, svc_path, wait_for)
from conftest import soa_serial, stop_pid
from secondary_configs import start_knot

EU_ARGS = ["--zone", "prod-eu.k8s.example", "--reverse-zone", "10.96.0.0/16",
           "--clusterset-zone", "clusterset.local"]
US_ARGS = ["--zone", "prod-us.k8s.example", "--reverse-zone", "10.100.0.0/16"]
CATALOG = "catalog.kubezone.invalid"

CLUSTERS = """\
clusters:
  - name: prod-eu
    kubeconfig: {eu}
    zone: prod-eu.k8s.example
    options:
      reverse-zone: [10.96.0.0/16]
      clusterset-zone: clusterset.local
  - name: prod-us
    kubeconfig: {us}
    zone: prod-us.k8s.example
    options:
      reverse-zone: {us_reverse}
"""

IMPORTS = "/apis/multicluster.x-k8s.io/v1alpha1/namespaces/default/serviceimports"


def slice_of(name, svc, addresses, hostnames=None):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": "default",
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": [{"addresses": [a], "conditions": {"ready": True},
                           **({"hostname": hostnames[i]} if hostnames else {})}
                          for i, a in enumerate(addresses)]}


@pytest.fixture
def fakes(tmp_path):
    eu = FakeApi(tmp_path / "eu", args=["--bookmark-interval", "1", "--crd", "serviceimports"])
    us = FakeApi(tmp_path / "us", args=["--bookmark-interval", "1"])
    with eu, us:
        eu.write_kubeconfig()
        us.write_kubeconfig()
        eu.api("POST", svc_path(), service("web", clusterIP="10.96.1.10"), expect=201)
        eu.api("POST", svc_path(), service("db", headless=True), expect=201)
        eu.api("POST", slice_path(), slice_of("db-1", "db", ["10.96.7.1", "10.96.7.2"],
                                              ["db-0", "db-1"]), expect=201)
        eu.api("POST", IMPORTS, {
            "apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": "ClusterSetIP", "ips": ["10.96.200.1"],
                     "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}}, expect=201)
        us.api("POST", svc_path(), service("api", clusterIP="10.100.1.20"), expect=201)
        us.api("POST", slice_path(), slice_of("api-1", "api", ["10.100.9.1"]), expect=201)
        yield eu, us


def clusters_file(tmp_path, eu, us, us_reverse="[10.100.0.0/16]"):
    path = tmp_path / "clusters.yaml"
    path.write_text(CLUSTERS.format(eu=eu.workdir / "kubeconfig", us=us.workdir / "kubeconfig",
                                    us_reverse=us_reverse))
    return path


def converged(fake, s, workdir, args, timeout=15.0):
    """Wait until the cluster's zones served equal a fresh render of its API."""
    last = {}

    def check():
        want = fresh_render(fake, workdir, args)
        got = served(s, want)
        last["diff"] = (want, got)
        return want if got == want else None
    try:
        return wait_for(check, timeout, 0.2, what="zones equal a fresh render")
    except AssertionError:
        want, got = last["diff"]
        raise AssertionError("served zones differ from the render:\n%s\n%s\n--- log:\n%s" % (
            sorted(want), {o: (want[o] - (got[o] or set()), (got[o] or set()) - want[o])
                           for o in want}, s.log_text()[-3000:]))


def test_two_clusters_one_killed_while_the_other_changes(fakes, tmp_path):
    eu, us = fakes
    cfg = clusters_file(tmp_path, eu, us)
    s = Syncer(tmp_path / "kz", args=["--clusters", cfg, "--catalog-zone", CATALOG])
    s.start()
    try:
        s.wait_ready()
        eu_zones = converged(eu, s, tmp_path / "r-eu", EU_ARGS)
        us_zones = converged(us, s, tmp_path / "r-us", US_ARGS)
        assert set(eu_zones) == {"prod-eu.k8s.example.", "96.10.in-addr.arpa.",
                                 "clusterset.local."}
        assert set(us_zones) == {"prod-us.k8s.example.", "100.10.in-addr.arpa."}
        s.wait_answer("web.default.svc.clusterset.local", "A", ["10.96.200.1"])
        s.wait_answer("api.default.svc.prod-us.k8s.example", "A", ["10.100.1.20"])
        # The catalog lists every cluster's zones, nothing else.
        cat = s.axfr(CATALOG + ".")
        members = {r[3] for r in cat if r[2] == "PTR"}
        assert members == set(eu_zones) | set(us_zones)
        # Each cluster's API metrics carry its name; both are synced.
        for c in ("prod-eu", "prod-us"):
            assert s.metric('kubezone_cluster_ready{cluster="%s"}' % c, None) == 1
            assert s.metric('kubezone_resource_synced{cluster="%s",resource="services"}' % c) == 1
            assert s.metric('kubezone_api_down_seconds{cluster="%s"}' % c) == 0
        assert s.metric('kubezone_resource_synced{cluster="prod-eu",'
                        'resource="serviceimports"}') == 1
        assert "cluster=prod-us" in s.log_text()

        # prod-us's API server dies; prod-eu keeps changing.
        us.stop()
        eu.api("POST", svc_path(), service("late", clusterIP="10.96.1.11"), expect=201)
        eu.api("PUT", slice_path(name="db-1"),
               slice_of("db-1", "db", ["10.96.7.1", "10.96.7.3"], ["db-0", "db-2"]))
        s.wait_answer("late.default.svc.prod-eu.k8s.example", "A", ["10.96.1.11"])
        s.wait_answer("db-2.db.default.svc.prod-eu.k8s.example", "A", ["10.96.7.3"])
        converged(eu, s, tmp_path / "r-eu", EU_ARGS)
        wait_for(lambda: s.metric('kubezone_api_down_seconds{cluster="prod-us"}') > 0, 15,
                 what="prod-us marked down")
        assert s.metric('kubezone_api_down_seconds{cluster="prod-eu"}') == 0
        # The dead cluster's zones are still served as they were.
        assert served(s, us_zones) == us_zones
        assert s.http("/readyz")[0] == 200
    finally:
        s.stop()


def test_knot_is_a_secondary_of_both_clusters(fakes, tmp_path):
    eu, us = fakes
    if shutil.which("knotd") is None:
        pytest.skip("knotd is not installed")
    cfg = clusters_file(tmp_path, eu, us)
    knot_port = free_port()
    s = Syncer(tmp_path / "kz", args=["--clusters", cfg, "--notify",
                                      "127.0.0.1:%d" % knot_port])
    s.start()
    kd = tmp_path / "knot"
    for sub in ("db", "zones"):
        (kd / sub).mkdir(parents=True)
    knot = None
    try:
        s.wait_ready()
        origins = ["prod-eu.k8s.example", "96.10.in-addr.arpa", "clusterset.local",
                   "prod-us.k8s.example", "100.10.in-addr.arpa"]
        conf = ('server:\n    rundir: "{d}"\n    listen: 127.0.0.1@{port}\n'
                'log:\n  - target: "{d}/knot.log"\n    any: info\n'
                'database:\n    storage: "{d}/db"\ncontrol:\n    listen: "{d}/knot.sock"\n'
                'remote:\n  - id: kubezone\n    address: 127.0.0.1@{primary}\n'
                'acl:\n  - id: notify-from-kubezone\n    address: 127.0.0.1\n'
                '    action: notify\n'
                'template:\n  - id: default\n    storage: "{d}/zones"\n'
                '    zonefile-sync: -1\n    zonefile-load: none\n'
                '    journal-content: changes\n'
                'zone:\n').format(d=kd, port=knot_port, primary=s.dns_port)
        conf += "".join("  - domain: %s\n    master: kubezone\n"
                        "    acl: notify-from-kubezone\n" % o for o in origins)
        knot = start_knot(str(kd), conf)
        for o in origins:
            wait_for(lambda: soa_serial(o, knot_port) == soa_serial(o, s.dns_port), 20,
                     what="knot has " + o)
        before = soa_serial("prod-us.k8s.example", knot_port)
        us.api("POST", svc_path(), service("new", clusterIP="10.100.1.21"), expect=201)
        wait_for(lambda: soa_serial("prod-us.k8s.example", knot_port) != before and
                 soa_serial("prod-us.k8s.example", knot_port) ==
                 soa_serial("prod-us.k8s.example", s.dns_port), 20, what="knot follows prod-us")
        r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(knot_port), "+short",
                            "new.default.svc.prod-us.k8s.example", "A"],
                           capture_output=True, text=True, timeout=10) \
            if shutil.which("kdig") else None
        if r is not None:
            assert r.stdout.split() == ["10.100.1.21"]
    finally:
        if knot is not None:
            stop_pid(knot)
        s.stop()


def test_colliding_reverse_zones_are_refused_at_start(fakes, tmp_path):
    eu, us = fakes
    cfg = clusters_file(tmp_path, eu, us, us_reverse="[10.96.128.0/17]")
    state = tmp_path / "state"
    r = subprocess.run([KUBEZONE, "sync", "--clusters", str(cfg), "--state-dir", str(state),
                        "--listen", "127.0.0.1:%d" % free_port()],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == (
        "kubezone sync: %s:8: cluster prod-us: reverse zone 128.96.10.in-addr.arpa overlaps "
        "the reverse zone 96.10.in-addr.arpa of cluster prod-eu (%s:2): a zone belongs to "
        "one cluster" % (cfg, cfg))
    assert not os.path.exists(state / "nsd.conf")
    for args, want in ((["--kubeconfig", "x"], "--clusters: each cluster's API is in the "
                        "clusters file"),
                       (["--zone", "x.example"], "--zone: with --clusters, each cluster's "
                        "render options are in the clusters file")):
        r = subprocess.run([KUBEZONE, "sync", "--clusters", str(cfg), *args],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and want in r.stderr, r.stderr


def test_nsd_conf_declares_every_clusters_zones(fakes, tmp_path):
    """nsd-conf --clusters names the zones sync --clusters serves."""
    eu, us = fakes
    cfg = clusters_file(tmp_path, eu, us)
    r = subprocess.run([KUBEZONE, "nsd-conf", "--clusters", str(cfg), "--catalog-zone", CATALOG,
                        "--state-dir", str(tmp_path / "st")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    zones = [l.split('"')[1] for l in r.stdout.splitlines()
             if l.strip().startswith("name:") and l.strip().endswith('"') and
             l.startswith("\tname:") and "." in l]
    assert zones == ["prod-eu.k8s.example", "96.10.in-addr.arpa", "clusterset.local",
                     "prod-us.k8s.example", "100.10.in-addr.arpa", CATALOG]
