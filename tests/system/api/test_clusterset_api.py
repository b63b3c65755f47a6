"""`kubezone sync --clusterset-zone clusterset.local` against the fake API.

What is expected comes from the Multi-Cluster Services API's DNS
specification (KEP-1645, schema 1.0.0): a ClusterSetIP ServiceImport's
addresses and named-port SRV at <svc>.<ns>.svc.clusterset.local, a
headless import's ready endpoints at the service name and at
<hostname>.<clusterid>.<svc>.<ns>.svc.clusterset.local from the
EndpointSlices that carry the multicluster labels. The served zones must
also equal a fresh `kubezone render` of the API's state, change after
change. Without the ServiceImport CRD, kubezone looks once, says so, and
serves the zone's apex only.

Real kubezone, real NSD, the fake kube-apiserver and dnspython.
"""

import pytest

from syncer_harness import (FakeApi, Syncer, requests_of, service, slice_path, svc_path,
                            wait_converged, wait_for)

GROUP = "/apis/multicluster.x-k8s.io/v1alpha1"
ARGS = ["--clusterset-zone", "clusterset.local", "--reverse-zone", "10.96.0.0/12",
        "--reverse-zone", "10.244.0.0/16"]
RENDER = ARGS


def imports_path(ns="default", name=None):
    return f"{GROUP}/namespaces/{ns}/serviceimports" + (f"/{name}" if name else "")


def service_import(name, type_, ips=(), ports=(("http", 80),), ns="default"):
    return {"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": type_, "ips": list(ips),
                     "ports": [{"name": n, "protocol": "TCP", "port": p} for n, p in ports]}}


def mc_slice(name, svc, cluster, endpoints, ns="default", port=5432):
    """A multicluster EndpointSlice: (address, hostname, ready) endpoints."""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": ns, "labels": {
                "multicluster.kubernetes.io/service-name": svc,
                "multicluster.kubernetes.io/source-cluster": cluster}},
            "addressType": "IPv4", "ports": [{"name": "pg", "port": port, "protocol": "TCP"}],
            "endpoints": [{"addresses": [a], "hostname": h, "conditions": {"ready": r}}
                          for a, h, r in endpoints]}


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake", args=["--bookmark-interval", "1", "--crd",
                                          "serviceimports"]) as server:
        server.write_kubeconfig()
        yield server


def test_serviceimports_are_served_under_clusterset_local(fake, tmp_path):
    fake.api("POST", imports_path(), service_import("web", "ClusterSetIP", ["10.100.0.7"]),
             expect=201)
    fake.api("POST", imports_path(), service_import("db", "Headless", ports=(("pg", 5432),)),
             expect=201)
    fake.api("POST", slice_path(), mc_slice("db-east", "db", "east", [
        ("10.244.1.5", "db-0", True), ("10.244.1.6", "db-1", False)]), expect=201)
    fake.api("POST", svc_path(), service("local"), expect=201)
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig", args=ARGS)
    s.start()
    try:
        s.wait_ready()
        s.wait_answer("dns-version.clusterset.local", "TXT", ['"1.0.0"'], timeout=5)
        s.wait_answer("web.default.svc.clusterset.local", "A", ["10.100.0.7"], timeout=5)
        s.wait_answer("_http._tcp.web.default.svc.clusterset.local", "SRV",
                      ["0 100 80 web.default.svc.clusterset.local."])
        s.wait_answer("db.default.svc.clusterset.local", "A", ["10.244.1.5"])
        s.wait_answer("db-0.east.db.default.svc.clusterset.local", "A", ["10.244.1.5"])
        s.wait_answer("db-1.east.db.default.svc.clusterset.local", "A", "NXDOMAIN")
        s.wait_answer("_pg._tcp.db.default.svc.clusterset.local", "SRV",
                      ["0 100 5432 db-0.east.db.default.svc.clusterset.local."])
        s.wait_answer("5.1.244.10.in-addr.arpa", "PTR",
                      ["db-0.east.db.default.svc.clusterset.local."])
        wait_converged(fake, s, tmp_path / "render", render_args=RENDER)

        # A second source cluster's endpoints, an endpoint that becomes
        # ready, an import that goes: each a change of the served zone.
        fake.api("POST", slice_path(), mc_slice("db-west", "db", "west", [
            ("10.244.2.9", "db-0", True)]), expect=201)
        fake.api("PUT", slice_path(name="db-east"), mc_slice("db-east", "db", "east", [
            ("10.244.1.5", "db-0", True), ("10.244.1.6", "db-1", True)]))
        fake.api("DELETE", imports_path(name="web"))
        s.wait_answer("_pg._tcp.db.default.svc.clusterset.local", "SRV", sorted([
            "0 33 5432 db-0.east.db.default.svc.clusterset.local.",
            "0 33 5432 db-1.east.db.default.svc.clusterset.local.",
            "0 33 5432 db-0.west.db.default.svc.clusterset.local."]))
        s.wait_answer("web.default.svc.clusterset.local", "A", "NXDOMAIN")
        s.wait_answer("db.default.svc.clusterset.local", "A",
                      ["10.244.1.5", "10.244.1.6", "10.244.2.9"])
        wait_converged(fake, s, tmp_path / "render", render_args=RENDER)
        assert requests_of(fake, GROUP + "/serviceimports", watch=True)
    finally:
        s.stop()


def test_without_the_crd_kubezone_looks_once(tmp_path):
    with FakeApi(tmp_path / "fake", args=["--bookmark-interval", "1"]) as fake:
        fake.write_kubeconfig()
        fake.api("POST", svc_path(), service("local"), expect=201)
        s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig", args=ARGS)
        s.start()
        try:
            s.wait_ready()
            assert s.metric("kubezone_cluster_ready", None) == 1
            s.wait_answer("dns-version.clusterset.local", "TXT", ['"1.0.0"'], timeout=5)
            wait_for(lambda: "resource not in the API; not followed" in s.log_text(), 5,
                     what="the absent CRD logged")
            # Several back-off periods (--backoff-max 1s) later, as three
            # of the fake's one-second bookmarks on the Services watch
            # tell: still one discovery request, no list or watch of it.
            wait_for(lambda: s.metric('kubezone_watch_events_total{resource="services",'
                                      'type="BOOKMARK"}') >= 3, 10, what="three bookmarks")
            assert len(requests_of(fake, GROUP)) == 1
            assert not requests_of(fake, GROUP + "/serviceimports")
            assert s.log_text().count("resource not in the API") == 1
            assert s.metric('kubezone_resource_synced{resource="serviceimports"}') == 1
            wait_converged(fake, s, tmp_path / "render", render_args=RENDER)
        finally:
            s.stop()
