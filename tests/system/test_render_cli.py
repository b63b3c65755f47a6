"""`kubezone render` as a user runs it: inputs, outputs, errors, exit status."""
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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
                              "4 Namespace, 1 of other kinds ignored); records: cluster.local. ")
    assert "skipped: 0 invalid objects" in summary


def test_out_dir_writes_one_file_per_zone(tmp_path):
    res = run("--out", tmp_path / "zones", "--zone", "Example.Internal.", "--serial", "42", SMALL)
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in (tmp_path / "zones").iterdir())
    assert files == ["example.internal.zone", "in-addr.arpa.zone", "ip6.arpa.zone"]
    text = (tmp_path / "zones" / "example.internal.zone").read_text()
    assert text.startswith("$ORIGIN example.internal.\n$TTL 30\n@\t30\tIN\tSOA\t"
                           "ns.dns.example.internal. hostmaster.example.internal. 42 ")
    assert res.stdout == ""


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
    assert "skipped: 1 invalid objects, 2 records" in res.stderr


def test_empty_input_gives_apex_only_zones():
    res = run("-", stdin="")
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("$ORIGIN") == 3
    assert "dns-version\t28800\tIN\tTXT\t\"1.1.0\"" in res.stdout
