"""`kubezone render --clusters FILE CLUSTER=DUMP...`: several clusters'
dumps, each under its own zones, into one output directory.

Each cluster's zones must be exactly what `kubezone render` writes for
that cluster's dump with the cluster's options given as flags; the
catalog (--catalog-zone) lists every cluster's zones under labels
computed here from RFC 9432 and the FNV-1a definition; clusters that
claim the same zones are refused, naming both; the clusterset zone holds
what the MCS API's DNS specification asks for.
"""
import copy
import json
import os
import subprocess
from pathlib import Path

import dns.zone

ROOT = Path(__file__).resolve().parents[3]
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / "build" / "kubezone"))
SMALL = ROOT / "tests" / "golden" / "small-cluster" / "input.json"

CLUSTERS = """\
# kubezone serves two clusters
clusters:
  - name: prod-eu
    kubeconfig: /etc/kubezone/prod-eu.kubeconfig
    context: prod-eu
    zone: prod-eu.k8s.example
    options:
      reverse-zone: [10.96.0.0/16, 10.244.0.0/16]
      clusterset-zone: clusterset.local
      pod-records: true
  - name: prod-us
    in-cluster: true
    zone: prod-us.k8s.example
    options:
      reverse-zone: 172.20.0.0/16
      namespace: [default, kube-system]
"""

# The flags each cluster's options stand for.
FLAGS = {
    "prod-eu": ["--zone", "prod-eu.k8s.example", "--reverse-zone", "10.96.0.0/16",
                "--reverse-zone", "10.244.0.0/16", "--clusterset-zone", "clusterset.local",
                "--pod-records"],
    "prod-us": ["--zone", "prod-us.k8s.example", "--reverse-zone", "172.20.0.0/16",
                "--namespace", "default", "--namespace", "kube-system"],
}

IMPORTS = [
    {"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
     "metadata": {"name": "web", "namespace": "shop"},
     "spec": {"type": "ClusterSetIP", "ips": ["10.96.200.1"],
              "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}},
    {"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
     "metadata": {"name": "db", "namespace": "shop"},
     "spec": {"type": "Headless", "ports": [{"name": "pg", "port": 5432}]}},
    {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
     "metadata": {"name": "db-west-1", "namespace": "shop", "labels": {
         "multicluster.kubernetes.io/service-name": "db",
         "multicluster.kubernetes.io/source-cluster": "west"}},
     "addressType": "IPv4", "ports": [{"name": "pg", "protocol": "TCP", "port": 5432}],
     "endpoints": [{"addresses": ["10.244.9.5"], "hostname": "db-0"}]},
]


def run(*args):
    return subprocess.run([KUBEZONE, "render", *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def catalog_label(origin):
    """RFC 9432 member label as kubezone documents it: FNV-1a/64 of the
    lower-case name with its final dot, 16 hex digits."""
    h = 0xcbf29ce484222325
    name = origin.lower()
    if not name.endswith("."):
        name += "."
    for ch in name.encode():
        h = ((h ^ ch) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def dumps(tmp_path):
    eu = json.loads(SMALL.read_text())
    eu["items"] += IMPORTS
    us = copy.deepcopy(json.loads(SMALL.read_text()))
    text = json.dumps(us).replace('"10.96.', '"172.20.').replace('"10.244.', '"172.20.')
    (tmp_path / "eu.json").write_text(json.dumps(eu))
    (tmp_path / "us.json").write_text(text)
    (tmp_path / "clusters.yaml").write_text(CLUSTERS)
    return tmp_path / "eu.json", tmp_path / "us.json", tmp_path / "clusters.yaml"


def test_each_cluster_equals_its_own_render(tmp_path):
    eu, us, cfg = dumps(tmp_path)
    res = run("--clusters", cfg, "--catalog-zone", "catalog.invalid", "--out",
              tmp_path / "all", f"prod-eu={eu}", f"prod-us={us}")
    assert res.returncode == 0, res.stderr
    summaries = [l for l in res.stderr.splitlines() if l.startswith("render: cluster")]
    assert [s.split(":")[1] for s in summaries] == [" cluster prod-eu", " cluster prod-us"]
    got = sorted(p.name for p in (tmp_path / "all").iterdir())
    members = []
    for name, dump in (("prod-eu", eu), ("prod-us", us)):
        out = tmp_path / name
        one = run(*FLAGS[name], "--out", out, dump)
        assert one.returncode == 0, one.stderr
        for f in sorted(out.iterdir()):
            assert (tmp_path / "all" / f.name).read_text() == f.read_text(), f.name
            members.append(f.name[:-len("zone")])
    assert got == sorted([m + "zone" for m in members] + ["catalog.invalid.zone"])
    assert "clusterset.local.zone" in got
    assert "20.172.in-addr.arpa.zone" in got and "96.10.in-addr.arpa.zone" in got
    cat = dns.zone.from_text((tmp_path / "all" / "catalog.invalid.zone").read_text(),
                             origin="catalog.invalid.", relativize=False)
    ptrs = {}
    for name, node in cat.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype == dns.rdatatype.PTR:
                ptrs[name.to_text()] = {r.target.to_text() for r in rds}
    assert ptrs == {catalog_label(m) + ".zones.catalog.invalid.": {m} for m in members}
    # The catalog's SOA is the first cluster's.
    assert "\tSOA\tns.dns.prod-eu.k8s.example. hostmaster.prod-eu.k8s.example. 1 " in \
        (tmp_path / "all" / "catalog.invalid.zone").read_text()


def test_clusterset_zone_records(tmp_path):
    eu, us, cfg = dumps(tmp_path)
    res = run("--clusters", cfg, "--out", tmp_path / "z", f"prod-eu={eu}", f"prod-us={us}")
    assert res.returncode == 0, res.stderr
    z = dns.zone.from_text((tmp_path / "z" / "clusterset.local.zone").read_text(),
                           origin="clusterset.local.", relativize=False)

    def rr(name, rdtype):
        rds = z.get_rdataset(name, rdtype)
        return sorted(r.to_text() for r in rds) if rds else []
    assert rr("dns-version.clusterset.local.", "TXT") == ['"1.0.0"']
    assert rr("web.shop.svc.clusterset.local.", "A") == ["10.96.200.1"]
    assert rr("_http._tcp.web.shop.svc.clusterset.local.", "SRV") == [
        "0 100 80 web.shop.svc.clusterset.local."]
    assert rr("db.shop.svc.clusterset.local.", "A") == ["10.244.9.5"]
    assert rr("db-0.west.db.shop.svc.clusterset.local.", "A") == ["10.244.9.5"]
    assert rr("_pg._tcp.db.shop.svc.clusterset.local.", "SRV") == [
        "0 100 5432 db-0.west.db.shop.svc.clusterset.local."]
    rev = (tmp_path / "z" / "96.10.in-addr.arpa.zone").read_text()
    assert "1.200\t30\tIN\tPTR\tweb.shop.svc.clusterset.local.\n" in rev
    rev = (tmp_path / "z" / "244.10.in-addr.arpa.zone").read_text()
    assert "5.9\t30\tIN\tPTR\tdb-0.west.db.shop.svc.clusterset.local.\n" in rev


def test_colliding_reverse_zones_are_refused(tmp_path):
    eu, us, cfg = dumps(tmp_path)
    cfg.write_text(CLUSTERS.replace("172.20.0.0/16", "10.96.128.0/17"))
    res = run("--clusters", cfg, "--out", tmp_path / "z", f"prod-eu={eu}", f"prod-us={us}")
    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"kubezone render: {cfg}:11: cluster prod-us: reverse zone 128.96.10.in-addr.arpa "
        f"overlaps the reverse zone 96.10.in-addr.arpa of cluster prod-eu ({cfg}:3): "
        "a zone belongs to one cluster")
    assert not (tmp_path / "z").exists()
    cfg.write_text(CLUSTERS.replace("      reverse-zone: 172.20.0.0/16\n", ""))
    res = run("--clusters", cfg, f"prod-eu={eu}", f"prod-us={us}")
    assert res.returncode == 2
    assert "cluster prod-us: default reverse zone in-addr.arpa overlaps the reverse zone " \
        "96.10.in-addr.arpa of cluster prod-eu" in res.stderr


def test_usage_errors(tmp_path):
    eu, us, cfg = dumps(tmp_path)
    cases = [
        (["--zone", "x.example", f"prod-eu={eu}", f"prod-us={us}"],
         "--zone: with --clusters, each cluster's render options are in the clusters file"),
        ([f"prod-eu={eu}"], f"cluster prod-us ({cfg}:11) has no input: give prod-us=FILE"),
        ([f"prod-eu={eu}", f"prod-us={us}", f"prod-ap={us}"],
         f"prod-ap={us}: no cluster prod-ap in {cfg}"),
        ([f"prod-eu={eu}", str(us)], f"{us}: with --clusters, give each input as CLUSTER=FILE"),
        (["--catalog-zone", "k8s.example", f"prod-eu={eu}", f"prod-us={us}"],
         "--catalog-zone k8s.example: overlaps the zone prod-eu.k8s.example of cluster prod-eu"),
    ]
    for args, want in cases:
        res = run("--clusters", cfg, *args)
        assert res.returncode == 2, (args, res.stderr)
        assert want in res.stderr, (args, res.stderr)
    res = run("--clusters", tmp_path / "none.yaml", f"prod-eu={eu}")
    assert res.returncode == 1
    assert "none.yaml: No such file or directory" in res.stderr


def test_the_documented_clusters_files_load(tmp_path):
    """The clusters files docs/operations.md and docs/configuration.md show
    are accepted as they stand."""
    import re
    blocks = []
    for doc in ("operations.md", "configuration.md"):
        text = (ROOT / "docs" / doc).read_text()
        blocks += [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
                   if b.lstrip().startswith(("clusters:", "# /etc/kubezone/clusters.yaml"))]
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        cfg = tmp_path / ("c%d.yaml" % i)
        cfg.write_text(block)
        names = re.findall(r"^  - name: ([a-z0-9-]+)", block, re.M)
        assert len(names) == 2
        res = run("--clusters", cfg, "--out", tmp_path / ("z%d" % i),
                  *["%s=%s" % (n, SMALL) for n in names])
        assert res.returncode == 0, res.stderr
