"""`kubezone render` as a user runs it: inputs, outputs, errors, exit status."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import dns.zone
import pytest

ROOT = Path(__file__).resolve().parents[3]
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / "build" / "kubezone"))
SMALL = ROOT / "tests" / "golden" / "small-cluster" / "input.json"


def run(*args, stdin=None):
    return subprocess.run([KUBEZONE, "render", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_stdin_prints_every_zone_with_its_origin():
    res = run("-", stdin=SMALL.read_text())
    assert res.returncode == 0, res.stderr
    origins = [l for l in res.stdout.splitlines() if l.startswith("$ORIGIN")]
    assert origins == ["$ORIGIN cluster.local.", "$ORIGIN in-addr.arpa.", "$ORIGIN ip6.arpa."]
    assert "kubernetes.default.svc\t30\tIN\tA\t10.96.0.1\n" in res.stdout
    summary = res.stderr.strip().splitlines()[-1]
    assert summary.startswith("render: 31 objects read (7 Service, 7 EndpointSlice, 12 Pod, "
                              "4 Namespace); ignored: 0 Endpoints, 0 EndpointSlice of "
                              "addressType FQDN, 0 EndpointSlice without a "
                              "kubernetes.io/service-name label, 1 of other kinds; "
                              "records: cluster.local. ")
    assert summary.endswith("; skipped: 0 invalid objects, 0 Services without a clusterIP, "
                            "0 records with invalid names or conflicts, 0 objects outside the "
                            "exposed namespaces; 0 objects given more than once (the later "
                            "copy kept)")


def test_out_dir_writes_one_file_per_zone(tmp_path):
    res = run("--out", tmp_path / "zones", "--zone", "Example.Internal.", "--serial", "42", SMALL)
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in (tmp_path / "zones").iterdir())
    assert files == ["example.internal.zone", "in-addr.arpa.zone", "ip6.arpa.zone"]
    text = (tmp_path / "zones" / "example.internal.zone").read_text()
    assert text.startswith("$ORIGIN example.internal.\n$TTL 30\n@\t30\tIN\tSOA\t"
                           "ns.dns.example.internal. hostmaster.example.internal. 42 ")
    assert res.stdout == ""


def test_out_dir_never_writes_through_a_planted_symlink(tmp_path):
    """Symlinks planted in the output directory never redirect a write:
    one at a temporary name kubezone might use (the pid-based name of
    former versions; the name is now random and created exclusively)
    and one at the zone file itself, which is replaced, not followed."""
    out = tmp_path / "zones"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(victim, out / "cluster.local.zone")
    pid = os.fork()
    if pid == 0:
        try:
            os.symlink(victim, out / f"ip6.arpa.zone.tmp.{os.getpid()}")
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.execv(KUBEZONE, [KUBEZONE, "render", "--out", str(out), str(SMALL)])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert victim.read_text() == "precious\n"
    for z in ("cluster.local.zone", "ip6.arpa.zone"):
        assert not (out / z).is_symlink()
        assert "SOA" in (out / z).read_text()
    # Nothing else left behind: the zones and the planted link.
    left = sorted(p.name for p in out.iterdir())
    assert left == sorted(["cluster.local.zone", "in-addr.arpa.zone",
                           "ip6.arpa.zone", f"ip6.arpa.zone.tmp.{pid}"]), left


def test_malformed_json_names_file_and_offset(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": x}}]}')
    res = run(bad)
    assert res.returncode == 1
    assert res.stdout == ""
    msg = res.stderr.strip().splitlines()[-1]
    assert msg.startswith(f"kubezone render: {bad}: byte ")
    offset = int(msg.split("byte ")[1].split(":")[0])
    assert offset == 69, msg  # just past the offending "x" (0-based 68)


def test_truncated_input_is_an_error(tmp_path):
    bad = tmp_path / "cut.json"
    bad.write_text(SMALL.read_text()[:5000])
    res = run(bad)
    assert res.returncode == 1
    assert "cut.json" in res.stderr


def test_missing_file_and_usage_errors(tmp_path):
    res = run(tmp_path / "nope.json")
    assert res.returncode == 1
    assert "No such file" in res.stderr
    assert run().returncode == 2
    assert run("--ttl", "abc", SMALL).returncode == 2
    assert run("--reverse-zone", "10.0.0.1/8", SMALL).returncode == 2
    assert run("--bogus", SMALL).returncode == 2
    res = run("--help")
    assert res.returncode == 0 and "--reverse-zone CIDR" in res.stdout


def test_invalid_objects_are_skipped_with_a_warning(tmp_path):
    doc = {"kind": "List", "items": [
        {"kind": "Service", "metadata": {"name": "ok", "namespace": "a"},
         "spec": {"clusterIP": "10.96.0.5", "ports": [{"name": "p" * 63, "port": 1}]}},
        {"kind": "Service", "metadata": {"name": "ip", "namespace": "a"},
         "spec": {"type": "ExternalName", "externalName": "1.2.3.4"}},
        {"kind": "Service", "metadata": {"namespace": "a"}, "spec": {"clusterIP": "10.96.0.6"}},
    ]}
    f = tmp_path / "in.json"
    f.write_text(json.dumps(doc))
    res = run(f)
    assert res.returncode == 0, res.stderr
    assert "ok.a.svc\t30\tIN\tA\t10.96.0.5" in res.stdout
    warnings = [l for l in res.stderr.splitlines() if "level=warn" in l]
    assert any('object="Service a/ip"' in w and "IP address" in w for w in warnings)
    assert any('object="Service a/ok"' in w and "63 octets" in w for w in warnings)
    assert any("kind=Service" in w and "metadata.name" in w for w in warnings)
    assert "skipped: 1 invalid objects, 0 Services without a clusterIP, 2 records" in res.stderr


def test_empty_list_gives_apex_only_zones():
    res = run("-", stdin='{"apiVersion": "v1", "kind": "List", "items": []}\n')
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("$ORIGIN") == 3
    assert "dns-version\t28800\tIN\tTXT\t\"1.1.0\"" in res.stdout


@pytest.mark.parametrize("text", ["", " \n\t\r\n", "\ufeff", "\ufeff\n"])
def test_empty_input_is_an_error(tmp_path, text):
    res = run("-", stdin=text)
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.strip().splitlines()[-1] == \
        "kubezone render: no Kubernetes objects in standard input (the input is empty)"
    empty = tmp_path / "empty.json"
    empty.write_text(text)
    res = run(SMALL, empty)
    assert res.returncode == 1 and res.stdout == ""
    assert f"no Kubernetes objects in {empty} (the input is empty)" in res.stderr


STATUS_403 = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": 'services is forbidden: User "system:serviceaccount:dev:ci" cannot '
                         'list resource "services" in API group "" at the cluster scope',
              "reason": "Forbidden", "details": {"kind": "services"}, "code": 403}


def test_api_status_is_an_error(tmp_path):
    f = tmp_path / "raw.json"
    f.write_text(json.dumps(STATUS_403, indent=2))
    res = run(f)
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.strip().splitlines()[-1] == (
        f"kubezone render: {f}: an API error instead of objects: Forbidden (code 403): "
        'services is forbidden: User "system:serviceaccount:dev:ci" cannot list resource '
        '"services" in API group "" at the cluster scope')
    # A proxy's error, on stdin, after good objects.
    proxy = {"kind": "Status", "apiVersion": "v1", "status": "Failure",
             "message": "upstream connect error", "reason": "ServiceUnavailable", "code": 503}
    res = run("-", stdin=SMALL.read_text() + json.dumps(proxy))
    assert res.returncode == 1 and res.stdout == ""
    assert "-: an API error instead of objects: ServiceUnavailable (code 503): " \
        "upstream connect error" in res.stderr


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Service\nkind: List\n",
    "---\napiVersion: v1\nkind: Service\n",
    "items: []\nkind: List\n",
    "kind: List\n",
])
def test_yaml_input_is_named(tmp_path, text):
    f = tmp_path / "cluster.yaml"
    f.write_text(text)
    res = run(f)
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.strip().splitlines()[-1] == (
        f"kubezone render: {f}: byte 1: this looks like YAML, but kubezone reads JSON "
        "(kubectl get ... -o json)")


def test_byte_order_mark_is_accepted(tmp_path):
    want = run(SMALL)
    f = tmp_path / "bom.json"
    f.write_bytes(b"\xef\xbb\xbf" + SMALL.read_bytes())
    res = run(f)
    assert res.returncode == 0, res.stderr
    assert res.stdout == want.stdout
    res = run("-", stdin="\ufeff" + SMALL.read_text())
    assert res.returncode == 0, res.stderr
    assert res.stdout == want.stdout


def item(kind, ns, name, **rest):
    meta = {"name": name, "namespace": ns} if ns else {"name": name}
    return {"kind": kind, "metadata": meta, **rest}


def svc(ns, name, ip):
    return item("Service", ns, name, spec={"clusterIP": ip, "clusterIPs": [ip],
                                           "ports": [{"name": "http", "port": 80}]})


def eps(ns, name, service, ip, address_type="IPv4"):
    labels = {"kubernetes.io/service-name": service} if service else {}
    return {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "addressType": address_type, "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}]}


def summary_of(res):
    return res.stderr.strip().splitlines()[-1]


def test_summary_names_what_was_ignored(tmp_path):
    items = [
        svc("shop", "web", "10.96.0.5"),
        eps("shop", "web-1", "web", "10.244.0.5"),
        item("Endpoints", "shop", "web", subsets=[{"addresses": [{"ip": "10.244.0.5"}]}]),
        item("Endpoints", "shop", "db"),
        eps("shop", "ext-1", "ext", "mail.example.com", "FQDN"),
        eps("shop", "hand-made", None, "10.244.0.9"),
        item("ConfigMap", "shop", "settings"),
    ]
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"kind": "List", "items": items}))
    res = run("--log-level", "warn", f)
    assert res.returncode == 0, res.stderr
    assert summary_of(res).startswith(
        "render: 7 objects read (1 Service, 1 EndpointSlice, 0 Pod, 0 Namespace); ignored: "
        "2 Endpoints, 1 EndpointSlice of addressType FQDN, 1 EndpointSlice without a "
        "kubernetes.io/service-name label, 1 of other kinds; records: ")
    assert "object ignored" not in res.stderr
    res = run("--log-level", "debug", f)
    assert res.returncode == 0, res.stderr
    ignored = [l for l in res.stderr.splitlines() if 'msg="object ignored"' in l]
    assert len(ignored) == 5, ignored
    assert any("kind=Endpoints object=shop/web " in l and "EndpointSlices" in l for l in ignored)
    assert any("kind=Endpoints object=shop/db " in l for l in ignored)
    assert any("object=shop/ext-1 " in l and 'reason="addressType FQDN"' in l for l in ignored)
    assert any("object=shop/hand-made " in l and "service-name label" in l for l in ignored)
    assert any("kind=ConfigMap object=shop/settings " in l for l in ignored)


def test_counters(tmp_path):
    ns = [item("Namespace", None, n) for n in ("shop", "dev", "ops")]
    a = [*ns, svc("shop", "web", "10.96.0.5"), eps("shop", "web-1", "web", "10.244.0.5"),
         svc("dev", "api", "10.96.1.5"), eps("dev", "api-1", "api", "10.244.1.5"),
         eps("dev", "api-2", "api", "10.244.1.6"),
         svc("ops", "mon", "10.96.2.5"), eps("ops", "mon-1", "mon", "10.244.2.5"),
         # Services without a clusterIP: counted apart, not as records.
         item("Service", "shop", "pending", spec={"type": "ClusterIP", "ports": [{"port": 80}]}),
         item("Service", "shop", "lb", spec={"type": "LoadBalancer", "clusterIP": ""}),
         # Given twice within one file: the later one wins.
         svc("shop", "twice", "10.96.0.7"), svc("shop", "twice", "10.96.0.8")]
    b = [svc("shop", "web", "10.96.0.6")]  # across files: replaces shop/web
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    fa.write_text(json.dumps({"kind": "List", "items": a}))
    fb.write_text(json.dumps(b))
    res = run("--namespace", "shop", fa, fb)
    assert res.returncode == 0, res.stderr
    summary = summary_of(res)
    # dev/api, ops/mon and their three slices are outside.
    assert summary.endswith("; skipped: 0 invalid objects, 2 Services without a clusterIP, "
                            "0 records with invalid names or conflicts, 5 objects outside the "
                            "exposed namespaces; 2 objects given more than once (the later "
                            "copy kept)"), summary
    warns = [l for l in res.stderr.splitlines() if "level=warn" in l]
    assert any('msg="object skipped" kind=Service object=shop/pending reason="no clusterIP'
               in w for w in warns)
    assert any("kind=Service object=shop/lb " in w for w in warns)
    assert not any('msg="record skipped"' in w for w in warns)
    dup = [w for w in warns if 'msg="object given more than once"' in w]
    assert len(dup) == 2
    assert any(f"object=shop/twice source={fa} " in w for w in dup)
    assert any(f"object=shop/web source={fb} byte=2 " in w for w in dup)
    assert "twice.shop.svc\t30\tIN\tA\t10.96.0.8\n" in res.stdout
    assert "10.96.0.7" not in res.stdout
    assert "web.shop.svc\t30\tIN\tA\t10.96.0.6\n" in res.stdout


def test_repeated_warning_once_per_object_and_reason(tmp_path):
    port = "p" * 63
    items = [item("Service", "a", "db", spec={"clusterIP": "None",
                                               "ports": [{"name": port, "port": 5432}]}),
             {**eps("a", "db-1", "db", "10.0.0.1"),
              "ports": [{"name": port, "port": 5432}],
              "endpoints": [{"addresses": [f"10.0.0.{i}"]} for i in range(1, 6)]}]
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"kind": "List", "items": items}))
    res = run(f)
    assert res.returncode == 0, res.stderr
    warns = [l for l in res.stderr.splitlines() if "port label longer than 63" in l]
    assert len(warns) == 1, warns


def knot_check(zone_dir, origin):
    """kzonecheck, or where Debian ships none, knotc zone-check (the same
    semantic checks; -f makes a warning an error)."""
    if shutil.which("kzonecheck"):
        return subprocess.run(["kzonecheck", "-o", origin, str(zone_dir / f"{origin}.zone")],
                              capture_output=True, text=True, timeout=60)
    conf = zone_dir.parent / "knot.conf"
    (zone_dir.parent / "knotdb").mkdir(exist_ok=True)
    conf.write_text(
        f'server:\n  rundir: "{zone_dir.parent}"\n'
        f'database:\n  storage: "{zone_dir.parent / "knotdb"}"\n'
        f'template:\n  - id: default\n    storage: "{zone_dir}"\n'
        '    file: "%s.zone"\n    semantic-checks: on\n'
        f'zone:\n  - domain: "{origin}"\n')
    return subprocess.run(["knotc", "-c", str(conf), "-f", "zone-check", origin],
                          capture_output=True, text=True, timeout=60)


def assert_zones_load(zone_dir):
    zones = sorted(zone_dir.glob("*.zone"))
    assert zones
    for zone in zones:
        origin = zone.name[:-len(".zone")]
        res = subprocess.run(["nsd-checkzone", origin, str(zone)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, ("nsd", origin, res.stdout + res.stderr)
        res = subprocess.run(["named-checkzone", origin, str(zone)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, ("bind", origin, res.stdout + res.stderr)
        res = knot_check(zone_dir, origin)
        assert res.returncode == 0, ("knot", origin, res.stdout + res.stderr)
        assert "warning" not in res.stdout + res.stderr, ("knot", origin, res.stderr)


NO_KUBE_DNS = [svc("shop", "web", "10.96.0.5"), eps("shop", "web-1", "web", "10.244.0.5")]


@pytest.mark.parametrize("case", ["no-kube-dns", "headless-kube-dns", "dns-ip", "small"])
def test_zones_load_in_nsd_bind_and_knot(tmp_path, case):
    args, doc = [], {"kind": "List", "items": NO_KUBE_DNS}
    if case == "headless-kube-dns":
        doc["items"] = NO_KUBE_DNS + [item("Service", "kube-system", "kube-dns",
                                            spec={"clusterIP": "None"})]
    elif case == "dns-ip":
        args = ["--dns-ip", "10.96.0.10", "--dns-ip", "fd00::10"]
    elif case == "small":
        doc = json.loads(SMALL.read_text())
    f = tmp_path / "in.json"
    f.write_text(json.dumps(doc))
    out = tmp_path / "zones"
    res = run("--out", out, *args, f)
    assert res.returncode == 0, res.stderr
    cluster = (out / "cluster.local.zone").read_text()
    if case in ("no-kube-dns", "headless-kube-dns"):
        assert "@\t30\tIN\tNS\tlocalhost.\n" in cluster
        assert "\nns.dns\t" not in cluster
        assert "@\t30\tIN\tNS\tlocalhost.\n" in (out / "in-addr.arpa.zone").read_text()
        assert 'msg="no name server address"' in res.stderr
    else:
        assert "@\t30\tIN\tNS\tns.dns.cluster.local.\n" in cluster
        assert "\nns.dns\t30\tIN\tA\t10.96.0.10\n" in cluster
    assert_zones_load(out)


def test_more_than_64_zones(tmp_path):
    doc = {"kind": "List", "items": NO_KUBE_DNS + [svc("shop", "far", "10.127.3.4")]}
    f = tmp_path / "in.json"
    f.write_text(json.dumps(doc))
    res = run("--reverse-zone", "10.0.0.0/9", f)
    assert res.returncode == 0, res.stderr
    origins = [l[len("$ORIGIN "):] for l in res.stdout.splitlines() if l.startswith("$ORIGIN")]
    assert origins == ["cluster.local."] + [f"{i}.10.in-addr.arpa." for i in range(128)]
    assert ", 126.10.in-addr.arpa. 2, 127.10.in-addr.arpa. 3;" in summary_of(res)
    out = tmp_path / "zones"
    res = run("--out", out, "--reverse-zone", "10.0.0.0/9", "--reverse-zone", "fd00::/113", f)
    assert res.returncode == 0, res.stderr
    assert len(list(out.glob("*.zone"))) == 1 + 128 + 8
    assert "4.3\t30\tIN\tPTR\tfar.shop.svc.cluster.local.\n" in \
        (out / "127.10.in-addr.arpa.zone").read_text()
    assert_zones_load(out)


# Text that would change what a zone file means if it reached one: a
# wildcard owner, a line break (a record of its own), master-file
# directives, escapes, a comment, grouping, quoting, the origin sign,
# blanks.
SMUGGLED = ["*", "*.evil", "a*b", "x\nevil\t30\tIN\tA\t6.6.6.6",
            "$INCLUDE /etc/passwd", "$ORIGIN evil.", "a\\046b", "a\\",
            "\\$INCLUDE", "a;b", "x ; comment", "a(b", 'a"b', "@", "a b",
            "a\tb", "a\rb"]
LABEL = re.compile(r"[a-z0-9_-]+\Z")


def smuggling_objects():
    """(objects, names of the objects that must be reported): every
    SMUGGLED text as a namespace, a Service name, a Service's and a
    slice's port name, an endpoint hostname, an endpoint's pod name and
    three ways into an ExternalName."""
    items = [item("Namespace", None, "shop"),
             svc("shop", "ok", "10.96.0.5"),
             eps("shop", "ok-1", "ok", "10.244.0.5")]
    named = []
    for i, bad in enumerate(SMUGGLED):
        items += [item("Namespace", None, bad),
                  svc(bad, "web", f"10.96.2.{i + 1}"),
                  svc("shop", bad, f"10.96.1.{i + 1}"),
                  item("Service", "shop", f"port{i}",
                       spec={"clusterIP": f"10.96.3.{i + 1}",
                             "ports": [{"name": bad, "port": 80, "protocol": "TCP"}]})]
        for suffix, target in (("a", bad), ("b", bad + ".example.com"),
                               ("c", "example.com." + bad)):
            items.append(item("Service", "shop", f"ext{i}{suffix}",
                              spec={"type": "ExternalName", "externalName": target}))
            named.append(f"Service shop/ext{i}{suffix}")
        for kind, ep in (("host", {"hostname": bad}),
                         ("pod", {"targetRef": {"kind": "Pod", "name": bad,
                                                "namespace": "shop"}})):
            name = f"{kind}{i}"
            items += [item("Service", "shop", name, spec={"clusterIP": "None"}),
                      {**eps("shop", name + "-1", name, f"10.244.{i + 1}.1"),
                       "ports": [{"name": bad, "port": 8080, "protocol": "TCP"}],
                       "endpoints": [{"addresses": [f"10.244.{i + 1}.1"],
                                      "conditions": {"ready": True}, **ep}]}]
            named.append(f"Service shop/{name}")
        named.append(f"Service shop/port{i}")
    return items, named


def test_no_wildcards(tmp_path):
    """Nothing from an object reaches a zone file but DNS labels: no
    wildcard, no line of its own, no directive, escape or comment; each
    object that tried is skipped with a warning naming it."""
    items, named = smuggling_objects()
    f = tmp_path / "in.json"
    f.write_text(json.dumps({"kind": "List", "items": items}))
    out = tmp_path / "zones"
    res = run("--out", out, "--pod-records", "--endpoint-pod-names", f)
    assert res.returncode == 0, res.stderr

    # Each zone file: its two directives, then one record per line, as
    # many as the renderer counted, every name made of plain labels.
    counts = dict(re.findall(r"(\S+\.) (\d+)", summary_of(res).split("records: ")[1]
                             .split(";")[0]))
    files = sorted(out.iterdir())
    assert [p.name for p in files] == ["cluster.local.zone", "in-addr.arpa.zone",
                                       "ip6.arpa.zone"]
    for path in files:
        origin = path.name[:-len("zone")]
        raw = path.read_bytes()
        for bad in (b"*", b"\\", b";", b"\r", b"(", b"evil", b"passwd", b"INCLUDE"):
            assert bad not in raw, (path.name, bad)
        lines = raw.decode("ascii").split("\n")
        assert lines[:2] == [f"$ORIGIN {origin}", "$TTL 30"], lines[:2]
        assert lines[-1] == ""
        records = [l for l in lines[2:-1] if l]
        assert len(records) == int(counts[origin]), (path.name, counts)
        for line in records:
            owner, ttl, cls, rtype, rdata = line.split("\t")
            assert owner == "@" or all(LABEL.match(l) for l in owner.split(".")), line
            assert ttl.isdigit() and cls == "IN" and rtype.isupper(), line
            if rtype == "TXT":
                assert rdata == '"1.1.0"', line
                continue
            assert "$" not in rdata and '"' not in rdata and "@" not in rdata, line
            names = [w for w in rdata.split(" ") if not w.isdigit()]
            if rtype in ("A", "AAAA"):
                names = []
            for n in names:
                assert n.endswith(".") and \
                    all(LABEL.match(l) for l in n[:-1].split(".")), line
        # And a zone parser reads exactly those records.
        zone = dns.zone.from_file(str(path), origin=origin, relativize=False)
        assert sum(len(rds) for _, rds in zone.iterate_rdatasets()) == len(records)

    cluster = (out / "cluster.local.zone").read_text()
    # Not vacuous: the sound parts are served.
    assert "ok.shop.svc\t30\tIN\tA\t10.96.0.5\n" in cluster
    assert "_http._tcp.ok.shop.svc\t30\tIN\tSRV\t0 100 80 ok.shop.svc.cluster.local.\n" \
        in cluster
    for i in range(len(SMUGGLED)):
        assert f"port{i}.shop.svc\t30\tIN\tA\t10.96.3.{i + 1}\n" in cluster
        assert f"host{i}.shop.svc\t30\tIN\tA\t10.244.{i + 1}.1\n" in cluster

    # Every object that tried is reported.
    warns = [l for l in res.stderr.splitlines() if "level=warn" in l]
    for name in named:
        assert any(f'object="{name}"' in w for w in warns), name
    # The objects named with such text (a Service in each namespace, a
    # Service of each name) cannot be quoted back: count them.
    by_name = [w for w in warns if 'reason="name is not a DNS label"' in w]
    assert len(by_name) == 2 * len(SMUGGLED), by_name
