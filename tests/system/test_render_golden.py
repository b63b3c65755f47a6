"""Golden tests for `kubezone render`.

Each folder under tests/golden holds a cluster (input.json, as kubectl
prints it), optional extra arguments (args, one per line) and the zones
kubezone must write (expected/*.zone). Every expected zone must also load
in NSD (nsd-checkzone) and in ldns (ldns-read-zone) without a warning.

To regenerate after a deliberate change of the rules, run with
KZ_GOLDEN_UPDATE=1 and review the diff.
"""
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / "build" / "kubezone"))
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.json").exists())


def case_args(case):
    path = GOLDEN / case / "args"
    if not path.exists():
        return []
    return [a for a in path.read_text().split() if a]


def render(args, inputs, out):
    return subprocess.run([KUBEZONE, "render", "--out", str(out), *args, *map(str, inputs)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", CASES)
def test_golden(case, tmp_path):
    res = render(case_args(case), [GOLDEN / case / "input.json"], tmp_path)
    assert res.returncode == 0, res.stderr
    expected = GOLDEN / case / "expected"
    if os.environ.get("KZ_GOLDEN_UPDATE"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(tmp_path, expected)
    got = sorted(p.name for p in tmp_path.iterdir())
    want = sorted(p.name for p in expected.iterdir())
    assert got == want
    for name in want:
        assert (tmp_path / name).read_text() == (expected / name).read_text(), name


@pytest.mark.parametrize("case", CASES)
def test_golden_loads_in_nsd_and_ldns(case):
    for zone in sorted((GOLDEN / case / "expected").glob("*.zone")):
        origin = zone.name[:-len(".zone")]
        res = subprocess.run(["nsd-checkzone", origin, str(zone)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "warning" not in (res.stdout + res.stderr).lower()
        res = subprocess.run(["ldns-read-zone", str(zone)],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert res.stderr == "", res.stderr


@pytest.mark.parametrize("case", CASES)
def test_golden_independent_of_input_order(case, tmp_path):
    """Shuffled items, split over two files: byte-identical zones."""
    doc = json.loads((GOLDEN / case / "input.json").read_text())
    items = list(doc["items"])
    random.Random(7).shuffle(items)
    half = len(items) // 2
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": items[:half]}))
    b.write_text("\n".join(json.dumps(i) for i in items[half:]))
    out = tmp_path / "out"
    res = render(case_args(case), [a, b], out)
    assert res.returncode == 0, res.stderr
    for zone in (GOLDEN / case / "expected").glob("*.zone"):
        assert (out / zone.name).read_text() == zone.read_text(), zone.name
