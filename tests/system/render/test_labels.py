"""`kubezone render --labels / --namespace-labels` on a dump.

Expected records are written from the rule book (docs/records.md, the
project's spec): R1-R3 apex (NS, ns.dns A from --dns-ip, dns-version
TXT), R5 ClusterIP A, R7/R10 headless A and per-endpoint names, R13
PTRs, R16 pod A records, and from the option's meaning (CoreDNS's
`labels`: Services, EndpointSlices and Pods; `namespace_labels`:
Namespaces; E22: the namespace filter applies to PTRs too), with the
selector semantics of the Kubernetes "Labels and Selectors" page.
"""
import json
import os
import subprocess
from pathlib import Path

import dns.zone
import pytest

ROOT = Path(__file__).resolve().parents[3]
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / "build" / "kubezone"))


def meta(name, ns=None, **labels):
    m = {"name": name, "labels": labels}
    if ns:
        m["namespace"] = ns
    return m


def namespace(name, **labels):
    return {"kind": "Namespace", "apiVersion": "v1",
            "metadata": meta(name, **{"kubernetes.io/metadata.name": name, **labels})}


def clusterip(ns, name, ip, **labels):
    return {"kind": "Service", "apiVersion": "v1", "metadata": meta(name, ns, **labels),
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip]}}


def headless(ns, name, **labels):
    return {"kind": "Service", "apiVersion": "v1", "metadata": meta(name, ns, **labels),
            "spec": {"type": "ClusterIP", "clusterIP": "None"}}


def eslice(ns, name, svc, ip, hostname, **labels):
    return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": meta(name, ns, **{"kubernetes.io/service-name": svc, **labels}),
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "hostname": hostname,
                           "conditions": {"ready": True}}]}


def pod(ns, name, ip, **labels):
    return {"kind": "Pod", "apiVersion": "v1", "metadata": meta(name, ns, **labels),
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


NAMESPACES = [namespace("shop", team="web"), namespace("data", team="db"), namespace("lab")]
OBJECTS = [
    clusterip("shop", "web", "10.96.1.1", app="web", dns="on"),
    clusterip("shop", "admin", "10.96.1.2", app="admin"),
    headless("data", "db", app="db", dns="on"),
    # the EndpointSlice controller copies the Service's labels to its slices
    eslice("data", "db-abc", "db", "10.244.1.1", "db-0", app="db", dns="on"),
    eslice("data", "db-hand", "db", "10.244.1.2", "db-1"),
    clusterip("data", "cache", "10.96.2.2", app="cache", dns="off"),
    clusterip("lab", "x", "10.96.3.3", dns="on"),
    pod("shop", "web-1", "10.244.0.5", app="web", dns="on"),
    pod("shop", "admin-1", "10.244.0.6", app="admin"),
]

APEX = {("@", "NS", "ns.dns"),  # relative to cluster.local.
        ("ns.dns", "A", "10.96.0.10"),
        ("dns-version", "TXT", '"1.1.0"')}
WEB = {("web.shop.svc", "A", "10.96.1.1")}
WEB_PTR = {("1.1.96", "web.shop.svc.cluster.local.")}
ADMIN = {("admin.shop.svc", "A", "10.96.1.2")}
ADMIN_PTR = {("2.1.96", "admin.shop.svc.cluster.local.")}
DB0 = {("db.data.svc", "A", "10.244.1.1"), ("db-0.db.data.svc", "A", "10.244.1.1")}
DB0_PTR = {("1.1.244", "db-0.db.data.svc.cluster.local.")}
DB1 = {("db.data.svc", "A", "10.244.1.2"), ("db-1.db.data.svc", "A", "10.244.1.2")}
DB1_PTR = {("2.1.244", "db-1.db.data.svc.cluster.local.")}
CACHE = {("cache.data.svc", "A", "10.96.2.2")}
CACHE_PTR = {("2.2.96", "cache.data.svc.cluster.local.")}
X = {("x.lab.svc", "A", "10.96.3.3")}
X_PTR = {("3.3.96", "x.lab.svc.cluster.local.")}
POD_WEB = {("10-244-0-5.shop.pod", "A", "10.244.0.5")}
POD_ADMIN = {("10-244-0-6.shop.pod", "A", "10.244.0.6")}


def render(tmp_path, items, *args):
    """(forward records, PTRs, stderr) rendered from ITEMS with ARGS; no SOA;
    owners relative to cluster.local. and 10.in-addr.arpa."""
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": items}))
    out = tmp_path / "zones"
    res = subprocess.run([KUBEZONE, "render", "--dns-ip", "10.96.0.10", "--pod-records",
                          "--reverse-zone", "10.0.0.0/8", "--out", str(out), *args, str(dump)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    fwd = dns.zone.from_text((out / "cluster.local.zone").read_text(), "cluster.local.")
    rev = dns.zone.from_text((out / "10.in-addr.arpa.zone").read_text(), "10.in-addr.arpa.")
    records = {(n.to_text(), dns.rdatatype.to_text(rd.rdtype), rd.to_text())
               for n, _ttl, rd in fwd.iterate_rdatas() if rd.rdtype != dns.rdatatype.SOA}
    ptrs = {(n.to_text(), rd.to_text()) for n, _ttl, rd in rev.iterate_rdatas()
            if rd.rdtype == dns.rdatatype.PTR}
    return records, ptrs, res.stderr


CASES = {
    # No selector: everything (the reference the others take from).
    "none": ([], APEX | WEB | ADMIN | DB0 | DB1 | CACHE | X | POD_WEB | POD_ADMIN,
             WEB_PTR | ADMIN_PTR | DB0_PTR | DB1_PTR | CACHE_PTR | X_PTR),
    # Objects labelled dns=on: Services, their selected slices, Pods.
    "labels-eq": (["--labels", "dns=on"], APEX | WEB | DB0 | X | POD_WEB,
                  WEB_PTR | DB0_PTR | X_PTR),
    # != also selects objects without the label (so db's hand-made slice).
    "labels-ne": (["--labels", "dns!=off"],
                  APEX | WEB | ADMIN | DB0 | DB1 | X | POD_WEB | POD_ADMIN,
                  WEB_PTR | ADMIN_PTR | DB0_PTR | DB1_PTR | X_PTR),
    # A set, and the key alone / !key; the slice without app is left out.
    "labels-set": (["--labels", "app in (web, db, cache),!dns-hidden"],
                   APEX | WEB | DB0 | CACHE | POD_WEB, WEB_PTR | DB0_PTR | CACHE_PTR),
    "labels-notin": (["--labels", "app notin (web,db)"],
                     APEX | ADMIN | CACHE | X | POD_ADMIN, ADMIN_PTR | CACHE_PTR | X_PTR),
    "labels-absent": (["--labels", "!app"], APEX | X, X_PTR),
    # Namespaces by their labels; lab has no team label.
    "ns-exists": (["--namespace-labels", "team"],
                  APEX | WEB | ADMIN | DB0 | DB1 | CACHE | POD_WEB | POD_ADMIN,
                  WEB_PTR | ADMIN_PTR | DB0_PTR | DB1_PTR | CACHE_PTR),
    "ns-set": (["--namespace-labels", "team in (db)"], APEX | DB0 | DB1 | CACHE,
               DB0_PTR | DB1_PTR | CACHE_PTR),
    "ns-name": (["--namespace-labels", "kubernetes.io/metadata.name notin (shop, data)"],
                APEX | X, X_PTR),
    # Both: a namespace and an object must each be selected.
    "both": (["--labels", "dns=on", "--namespace-labels", "team=db"], APEX | DB0, DB0_PTR),
    # With --namespace as well: a namespace must pass both filters.
    "with-namespace": (["--namespace-labels", "team", "--namespace", "data",
                        "--namespace", "lab"], APEX | DB0 | DB1 | CACHE,
                       DB0_PTR | DB1_PTR | CACHE_PTR),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_selectors_pick_records(tmp_path, case):
    args, want, want_ptrs = CASES[case]
    records, ptrs, _ = render(tmp_path, NAMESPACES + OBJECTS, *args)
    assert records == want
    assert ptrs == want_ptrs


def test_namespace_labels_without_namespaces_expose_nothing(tmp_path):
    """Without Namespace objects no namespace's labels are known: none
    is selected (CoreDNS too exposes only namespaces it has listed)."""
    records, ptrs, stderr = render(tmp_path, OBJECTS, "--namespace-labels", "team")
    assert records == APEX
    assert ptrs == set()
    assert "no Namespace objects in the input: --namespace-labels exposes no namespace" in stderr
    records, ptrs, _ = render(tmp_path, OBJECTS, "--namespace-labels", "")
    assert records == APEX


def test_empty_selector_selects_everything(tmp_path):
    want = CASES["none"]
    records, ptrs, _ = render(tmp_path, NAMESPACES + OBJECTS, "--labels", "",
                              "--namespace-labels", " ")
    assert (records, ptrs) == (want[1], want[2])


def test_summary_counts_what_selectors_left_out(tmp_path):
    _, _, stderr = render(tmp_path, NAMESPACES + OBJECTS, "--labels", "dns=on",
                          "--namespace-labels", "team")
    # Left out: admin, db-hand, cache, admin-1 (labels); lab (namespace).
    assert ", 5 objects not selected by --labels or --namespace-labels;" in stderr
    _, _, stderr = render(tmp_path, NAMESPACES + OBJECTS)
    assert "not selected" not in stderr
