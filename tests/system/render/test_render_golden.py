"""Golden tests for `kubezone render`.

Each folder under tests/golden holds a cluster (input.json, as kubectl
prints it), optional extra arguments (args, one per line) and the zones
kubezone must write (expected/*.zone). Every expected zone must also load
in NSD (nsd-checkzone) and in ldns (ldns-read-zone) without a warning.

Expected zones may carry comments: from a ';' outside a quoted string to
the end of the line, and lines that hold only a comment. Comments, the
blanks before a trailing comment and blank lines are dropped before the
comparison; everything else must equal kubezone's output line for line,
byte for byte, in the same order.

Hand-written cases. A folder with a file HANDWRITTEN (which says what the
case covers) holds zones written by hand from the rule book, not by
kubezone: they check kubezone against the rules, not against itself.
Every record line but the SOA names the rule it comes from (R1...R25,
optionally with edge cases E1...), either in a trailing comment
(`web.shop.svc 30 IN A 10.96.12.7 ; R5`) or in a comment line directly
above a group of records (the group ends at the next blank or comment
line). Every rule and edge case named must exist in the rule book, which
is read from $KZ_RULE_BOOK, or else from shared/docs/spec.md beside the
checkout; without it, the ids must lie within the book's numbering
(R1-R25, E1-E30). When kubezone disagrees
with a hand-written zone, the rule book decides which of the two is
wrong; the expected zone is never changed to match kubezone's output.

To regenerate the other cases after a deliberate change of the rules, run
with KZ_GOLDEN_UPDATE=1 and review the diff; hand-written cases are never
rewritten.
"""
import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"
KUBEZONE = os.environ.get("KUBEZONE", str(ROOT / "build" / "kubezone"))
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.json").exists())
HANDWRITTEN = [c for c in CASES if (GOLDEN / c / "HANDWRITTEN").exists()]
RULE_BOOK = Path(os.environ.get("KZ_RULE_BOOK",
                                ROOT.parent / "shared" / "docs" / "spec.md"))
RULE_ID = re.compile(r"\b([RE])([0-9]+)\b")


def case_args(case):
    path = GOLDEN / case / "args"
    if not path.exists():
        return []
    return [a for a in path.read_text().split() if a]


def render(args, inputs, out):
    return subprocess.run([KUBEZONE, "render", "--out", str(out), *args, *map(str, inputs)],
                          capture_output=True, text=True, timeout=60)


def split_comment(line):
    """(data, comment): COMMENT is the text after the first ';' outside a
    quoted string (None when there is none)."""
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return line[:i], line[i + 1:]
    return line, None


def zone_text(path):
    """The zone at PATH as kubezone writes it: comments and blank lines
    dropped, nothing else changed."""
    out = []
    for line in path.read_text().splitlines():
        data, comment = split_comment(line)
        if comment is not None:
            data = data.rstrip(" \t")
        if data.strip():
            out.append(data + "\n")
    return "".join(out)


def record_type(data):
    """The type of the record line DATA (owner TTL IN TYPE RDATA): "" when
    it has none, None for a directive ($ORIGIN, $TTL)."""
    fields = data.split()
    if fields[0].startswith("$"):
        return None
    i = fields.index("IN") if "IN" in fields else len(fields)
    return fields[i + 1] if i + 1 < len(fields) else ""


def rule_comments(path):
    """(line number, line, rule ids) of each record line of the zone at
    PATH but the SOA: the ids its trailing comment names, or else those of
    the comment line directly above its group."""
    group = set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        data, comment = split_comment(line)
        if not data.strip():
            group = set(RULE_ID.findall(comment)) if comment is not None else set()
            continue
        rtype = record_type(data)
        if rtype is None:
            group = set()
            continue
        if rtype == "SOA":
            continue
        own = set(RULE_ID.findall(comment or ""))
        yield n, line, own if any(k == "R" for k, _ in own) else group


def rule_book_ids():
    """The rule (R<n>) and edge case (E<n>) ids the rule book defines."""
    text = RULE_BOOK.read_text()
    ids = {("R", m) for m in re.findall(r"^###\s+R([0-9]+)\.", text, re.M)}
    ids |= {("E", m) for m in re.findall(r"^\*\*E([0-9]+)\.", text, re.M)}
    return ids


@pytest.mark.parametrize("case", CASES)
def test_golden(case, tmp_path):
    res = render(case_args(case), [GOLDEN / case / "input.json"], tmp_path)
    assert res.returncode == 0, res.stderr
    expected = GOLDEN / case / "expected"
    if os.environ.get("KZ_GOLDEN_UPDATE") and case not in HANDWRITTEN:
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(tmp_path, expected)
    got = sorted(p.name for p in tmp_path.iterdir())
    want = sorted(p.name for p in expected.iterdir())
    assert got == want
    for name in want:
        assert (tmp_path / name).read_text() == zone_text(expected / name), name


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
        assert (out / zone.name).read_text() == zone_text(zone), zone.name


@pytest.mark.parametrize("case", HANDWRITTEN)
def test_handwritten_records_name_their_rule(case):
    """Each record line but the SOA names the rule it comes from."""
    zones = sorted((GOLDEN / case / "expected").glob("*.zone"))
    assert zones
    missing = [f"{zone.name}:{n}: {line}" for zone in zones
               for n, line, ids in rule_comments(zone)
               if not any(kind == "R" for kind, _ in ids)]
    assert not missing, "record lines without a rule comment:\n" + "\n".join(missing)


@pytest.mark.parametrize("case", HANDWRITTEN)
def test_handwritten_rules_exist_in_rule_book(case):
    """Every rule and edge case a hand-written zone names is in the rule book."""
    if RULE_BOOK.is_file():
        known = rule_book_ids()
        assert {("R", str(n)) for n in range(1, 26)} <= known, \
            "rule book not parsed"
    else:
        # Without the book at hand (a bare checkout): its numbering, rules
        # R1-R25 and edge cases E1-E30.
        known = {("R", str(n)) for n in range(1, 26)} | \
            {("E", str(n)) for n in range(1, 31)}
    unknown = []
    for zone in sorted((GOLDEN / case / "expected").glob("*.zone")):
        for n, line in enumerate(zone.read_text().splitlines(), 1):
            comment = split_comment(line)[1]
            for kind, num in RULE_ID.findall(comment or ""):
                if (kind, num) not in known:
                    unknown.append(f"{zone.name}:{n}: {kind}{num} in {line}")
    assert not unknown, "names not in the rule book:\n" + "\n".join(unknown)
