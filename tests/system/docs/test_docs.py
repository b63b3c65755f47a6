"""The documentation cannot drift from the program.

- docs/configuration.md and docs/kubezone.8 are what `make docs`
  (docs/gen-docs.py) writes from kubezone's own option tables today;
- every option has an example, and kubezone accepts each example;
- every environment variable the sources read is documented;
- the man page renders with groff and man without a warning, and
  `make install` installs it;
- the Knot and BIND configurations of docs/operations.md are the ones
  tests/system/secondaries/test_secondaries.py runs, and Knot with the documented
  TSIG additions runs here;
- the metrics and alert rules of docs/operations.md name what kubezone
  exports.
"""

import difflib
import importlib.util
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DOCS = os.path.join(ROOT, "docs")


def gen_docs():
    spec = importlib.util.spec_from_file_location(
        "gen_docs", os.path.join(DOCS, "gen-docs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read(path):
    with open(path) as f:
        return f.read()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The files gen-docs.py writes now, from the binary under test."""
    kubezone = os.path.abspath(os.environ.get(
        "KUBEZONE", os.path.join(ROOT, "build", "kubezone")))
    out = tmp_path_factory.mktemp("docs")
    r = subprocess.run(["/usr/bin/python3", os.path.join(DOCS, "gen-docs.py"),
                        kubezone, "--out", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.parametrize("name", ["configuration.md", "kubezone.8"])
def test_docs_are_what_make_docs_writes(generated, name):
    want = read(generated / name)
    got = read(os.path.join(DOCS, name))
    if got != want:
        diff = "".join(difflib.unified_diff(
            got.splitlines(True), want.splitlines(True),
            "docs/" + name + " (committed)", name + " (from the program)"))
        pytest.fail("docs/%s differs from the option tables: run `make "
                    "docs`\n%s" % (name, diff[:6000]))


def test_every_option_has_an_accepted_example(kubezone, tmp_path):
    gd = gen_docs()
    model = gd.collect(kubezone)
    keys = tmp_path / "tsig.keys"
    keys.write_text(gd.EXAMPLES["tsig-key"] + "\n")
    checked = 0
    for table in model["tables"]:
        for cmd in table["commands"]:
            for row in table["rows"]:
                args = gd.example_args(row).split(" ", 1)
                r = subprocess.run([kubezone, cmd, *args, "--help"],
                                   capture_output=True, text=True)
                if r.returncode and "cannot open" in r.stderr:
                    # A file the example names: the same option with a
                    # file that exists.
                    args = [args[0], str(keys)]
                    r = subprocess.run([kubezone, cmd, *args, "--help"],
                                       capture_output=True, text=True)
                assert r.returncode == 0, "kubezone %s %s: %s" % (
                    cmd, " ".join(args), r.stderr)
                checked += 1
    assert checked > 30


def test_every_environment_variable_is_documented():
    read_env = set()
    for d in ("common", "zonegen", "nsd-conf", "syncer"):
        for f in os.listdir(os.path.join(ROOT, d)):
            if f.endswith(".c"):
                read_env |= set(re.findall(r'getenv\("([A-Z_]+)"\)',
                                           read(os.path.join(ROOT, d, f))))
    assert "KUBECONFIG" in read_env
    conf = read(os.path.join(DOCS, "configuration.md"))
    env = conf.split("## Environment", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", env, re.M))
    assert documented == read_env, \
        "read but not documented: %s; documented but not read: %s" % (
            sorted(read_env - documented), sorted(documented - read_env))


def test_man_page_renders_without_warnings(tmp_path):
    page = os.path.join(DOCS, "kubezone.8")
    r = subprocess.run(["groff", "-man", "-ww", "-z", page],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat",
               LC_ALL="C.UTF-8", HOME=str(tmp_path))
    r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = r.stdout
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                    "ENVIRONMENT", "FILES", "EXIT STATUS", "SEE ALSO"):
        assert re.search(r"^%s$" % section, text, re.M), section
    # Every option of configuration.md is in the page, as typed.
    conf = read(os.path.join(DOCS, "configuration.md"))
    for opt in set(re.findall(r"^\| `(--[a-z0-9-]+)", conf, re.M)):
        assert opt in text, opt


def test_make_install_installs_the_man_page(kubezone, tmp_path):
    build = os.path.dirname(kubezone)
    r = subprocess.run(["make", "-s", "-C", ROOT, "install",
                        "BUILD=" + os.path.relpath(build, ROOT),
                        "DESTDIR=" + str(tmp_path), "PREFIX=/usr"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    page = tmp_path / "usr" / "share" / "man" / "man8" / "kubezone.8"
    assert page.read_text() == read(os.path.join(DOCS, "kubezone.8"))
    assert os.access(tmp_path / "usr" / "bin" / "kubezone", os.X_OK)


# -- docs/operations.md ------------------------------------------------------------

def operations():
    return read(os.path.join(DOCS, "operations.md"))


def first_block(doc, heading):
    """The first fenced code block after the heading that starts with
    HEADING."""
    part = re.split(r"^#+ %s.*$" % re.escape(heading), doc, 1, re.M)
    assert len(part) == 2, "no heading %r" % heading
    m = re.search(r"^```[a-z]*\n(.*?)^```", part[1], re.S | re.M)
    assert m, "no code block under %r" % heading
    return m.group(1)


def normalise(text, comment):
    """Configuration lines with what differs between the documented
    network and the test's loopback replaced: addresses, ports, paths.
    Comments and blank lines go; test placeholders are filled."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\s*%s.*$" % comment, "", line).rstrip()
        if not line.strip():
            continue
        line = line.replace("{{", "{").replace("}}", "}")
        line = re.sub(r"\{(dir)\}", "/DIR", line)
        line = re.sub(r"\{(port|primary)\}", "0", line)
        line = line.replace("{key}", "xfr").replace("{secret}", "SECRET")
        line = re.sub(r"\b\d+\.\d+\.\d+\.\d+\b", "ADDR", line)
        line = re.sub(r"@\d+", "@PORT", line)
        line = re.sub(r"\bport \d+", "port PORT", line)
        line = re.sub(r'"/[^"]*"', '"PATH"', line)
        out.append(line)
    return out


def drop_sections(lines, names):
    """Knot: drop the top-level sections NAMES (the test's own log and
    control socket)."""
    out, skip = [], False
    for line in lines:
        if not line.startswith(" "):
            skip = line.rstrip(":") in names
        if not skip:
            out.append(line)
    return out


def drop_blocks(lines, starts, single):
    """BIND: drop the blocks that open with STARTS and the option lines
    SINGLE (the test's pid file, logging, no IPv6, no DNSSEC)."""
    out, depth = [], 0
    for line in lines:
        if depth:
            depth += line.count("{") - line.count("}")
            continue
        if line.strip().startswith(starts):
            depth = line.count("{") - line.count("}")
            continue
        if line.strip().startswith(single):
            continue
        out.append(line)
    return out


def secondaries_test():
    spec = importlib.util.spec_from_file_location(
        "secondary_configs", os.path.join(ROOT, "tests", "system",
                                          "secondary_configs.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_knot_configuration_is_the_tested_one():
    t = secondaries_test()
    doc = first_block(operations(), "Knot")
    want = drop_sections(normalise(t.KNOT_CONF, "#"), {"log", "control"})
    got = normalise(doc, "#")
    assert sorted(got) == sorted(want), "\n".join(difflib.unified_diff(
        sorted(got), sorted(want), "docs/operations.md", "test", lineterm=""))


def test_bind_configuration_is_the_tested_one():
    t = secondaries_test()
    doc = first_block(operations(), "BIND 9")
    test = normalise(t.BIND_CONF, "(#|//)")
    test = drop_blocks(test, ("controls", "logging"),
                       ("pid-file", "listen-on-v6", "dnssec-validation"))
    got = normalise(doc.replace(t.KEY_SECRET, "SECRET"), "(#|//)")
    assert t.KEY_NAME == "xfr"
    assert sorted(got) == sorted(test), "\n".join(difflib.unified_diff(
        sorted(got), sorted(test), "docs/operations.md", "test", lineterm=""))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Metric names of a real kubezone sync following the fake API."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
    from syncer_harness import FakeApi, Syncer
    work = tmp_path_factory.mktemp("metrics")
    with FakeApi(work / "fake", snapshot=os.path.join(
            ROOT, "examples", "cluster.json")) as fake:
        with Syncer(work / "sync", fake.write_kubeconfig()) as s:
            s.wait_ready()
            status, text = s.http("/metrics")
    assert status == 200
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def test_every_metric_is_documented_and_exists(exported):
    doc = operations()
    table = doc.split("## Metrics and the alerts worth having", 1)[1]
    table = table.split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `(kubezone_[a-z_]+)` \|", table, re.M))
    assert rows == exported, "documented, not exported: %s; exported, not " \
        "documented: %s" % (sorted(rows - exported), sorted(exported - rows))
    named = set(re.findall(r"\b(kubezone_[a-z_]+?)(?:_bucket|_sum|_count)?\b",
                           doc))
    assert named <= exported, sorted(named - exported)


def test_alert_rules_parse_and_use_exported_metrics(exported):
    import yaml
    block = [b for b in re.findall(r"```yaml\n(.*?)```", operations(), re.S)
             if "alert:" in b]
    assert len(block) == 1
    rules = yaml.safe_load(block[0])["groups"][0]["rules"]
    assert {"KubezoneZonesStale", "KubezoneNSDRestarts",
            "KubezonePublishFailures"} <= {r["alert"] for r in rules}
    for r in rules:
        assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}
        assert r["annotations"]["summary"]
        for name in re.findall(r"\b(kubezone_[a-z_]+?)(?:_bucket)?\b",
                               r["expr"]):
            assert name in exported, (r["alert"], name)
        assert r["expr"].count("(") == r["expr"].count(")")


def knot_sections(text):
    """{top-level key: its lines} of a Knot configuration, in order."""
    out = {}
    for line in text.splitlines():
        line = re.sub(r"\s+#.*$", "", line)
        if not line.strip():
            continue
        if not line.startswith(" "):
            key = line.rstrip(":")
            out[key] = [line]
        else:
            out[key].append(line)
    return out


def test_knot_tsig_variant_of_the_docs_runs(sync, snapshot, tmp_path):
    """The Knot configuration with the TSIG additions, as docs/operations.md
    gives them, transfers from kubezone only with the key, and follows a
    change by a signed NOTIFY. Only addresses, ports and paths change
    (and Knot transfers from 127.0.0.4, which kubezone allows only with
    the key: 127.0.0.1 always may)."""
    from conftest import answers, free_port, replace_file, soa_serial, \
        stop_pid, wait_for
    doc = operations().split("### Knot", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```", doc, re.S | re.M)
    assert len(blocks) == 2, "the Knot configuration and its TSIG additions"
    conf = knot_sections(blocks[0])
    tsig = knot_sections(blocks[1])
    assert set(tsig) == {"key", "remote", "acl"}
    conf.update(tsig)
    (secret,) = re.findall(r"secret: (\S+)", blocks[1])

    port, kz_port = free_port(), free_port()
    d = tmp_path / "knot"
    for sub in ("run", "db", "zones"):
        (d / sub).mkdir(parents=True)
    order = ["server", "key", "database", "remote", "acl", "template",
             "zone"]
    assert set(order) == set(conf), sorted(conf)
    text = "\n".join(l for k in order for l in conf[k]) + "\n"
    text = text.replace('"/run/knot"', '"%s"' % (d / "run"))
    text = text.replace('"/var/lib/knot/zones"', '"%s"' % (d / "zones"))
    text = text.replace('"/var/lib/knot"', '"%s"' % (d / "db"))
    text = text.replace("192.0.2.10@53", "127.0.0.1@%d" % port)
    text = text.replace("192.0.2.1@53", "127.0.0.1@%d" % kz_port)
    text = text.replace("address: 192.0.2.1\n", "address: 127.0.0.1\n")
    text = text.replace("    key: xfr\nacl:", "    key: xfr\n"
                        "    via: 127.0.0.4\nacl:")
    assert "192.0.2." not in text and "/var/lib/knot" not in text, text
    text += 'log:\n  - target: "%s"\n    any: info\n' % (d / "knot.log")
    text += 'control:\n    listen: "%s"\n' % (d / "knot.sock")
    (d / "knot.conf").write_text(text)
    # Knot accepts NOTIFY only signed with the key.
    s = sync(snapshot, "--tsig-key", "xfr:hmac-sha256:" + secret,
              "--allow-transfer", "127.0.0.4/32,key=xfr",
              "--notify", "127.0.0.1:%d,key=xfr" % port, port=kz_port)
    knot = subprocess.Popen(["knotd", "-c", str(d / "knot.conf")],
                            stdout=subprocess.DEVNULL,
                            stderr=open(d / "knotd.stderr", "w"))
    try:
        serial = soa_serial("cluster.local.", s.port)
        wait_for(lambda: soa_serial("cluster.local.", port) == serial, 20,
                 what="Knot has the zone")
        replace_file(snapshot, read(snapshot).replace("10.96.12.34",
                                                      "10.96.12.78"))
        wait_for(lambda: answers("web.shop.svc.cluster.local.", "A",
                                 port=port) == ["10.96.12.78"], 15,
                 what="Knot follows the change")
    finally:
        stop_pid(knot)
    log = read(d / "knot.log")
    assert "notify, incoming" in log and "zone updated" in log, log[-2000:]
    nsd = s.text()
    assert re.search(r"[ai]xfr for cluster\.local\. from 127\.0\.0\.4",
                     nsd), nsd[-3000:]
    assert "refused" not in nsd
