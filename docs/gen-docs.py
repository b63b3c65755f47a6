#!/usr/bin/python3
"""gen-docs.py -- write docs/configuration.md and docs/kubezone.8 from the
program's own option tables.

    docs/gen-docs.py KUBEZONE [--out DIR]        (what `make docs` runs)

Everything about options -- names, arguments, defaults, descriptions,
environment variables -- comes from `KUBEZONE COMMAND --help-markdown`
and `KUBEZONE COMMAND --help`; the commands from `KUBEZONE --help`. This
script adds only what the tables do not hold: one example per option
(EXAMPLES below), the environment variables read outside the option
tables (EXTRA_ENV), the Deployment's args (container/manifests), and the
prose around them. tests/system/docs/test_docs.py runs it and fails when the
committed files differ from its output, when an option has no example,
when an example is refused by kubezone, or when the sources read an
environment variable documented nowhere.
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOYMENT = os.path.join(ROOT, "container", "manifests", "deployment.yaml")

# One example value per option (flags: None). Keep them realistic: they
# are what an operator copies. test_docs.py has kubezone parse each one.
EXAMPLES = {
    "snapshot": "/srv/cluster.json",
    "debounce": "200ms",
    "log-level": "debug",
    "zone": "cluster.example",
    "ttl": "60",
    "dns-ip": "10.96.0.10",
    "namespace": "shop",
    "labels": "app.kubernetes.io/part-of=shop,tier!=internal",
    "namespace-labels": "dns.example.com/expose=true",
    "reverse-zone": "10.96.0.0/12",
    "pod-records": None,
    "endpoint-pod-names": None,
    "no-clusterip-endpoint-names": None,
    "max-rrset-bytes": "16000",
    "catalog-zone": "catalog.kubezone.invalid",
    "clusterset-zone": "clusterset.local",
    "clusters": "/etc/kubezone/clusters.yaml",
    "ns": "ns1.cluster.local=192.0.2.53",
    "soa-rname": "hostmaster@example.com",
    "soa-refresh": "3600",
    "soa-retry": "600",
    "soa-expire": "1209600",
    "soa-minimum": "60",
    "listen": "[::1]:5353",
    "state-dir": "/var/lib/kubezone",
    "nsd": "/usr/sbin/nsd",
    "allow-transfer": "192.0.2.20/32,key=xfr",
    "notify": "192.0.2.20,key=xfr",
    "tsig-key": "xfr:hmac-sha256:a3ViZXpvbmUtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=",
    "tsig-key-file": "/etc/kubezone/tsig/tsig.keys",
    "nsd-verbosity": "2",
    "ixfr-number": "10",
    "edns-size": "4096",
    "zonefiles-write": "30",
    "journal": "256",
    "dnssec": None,
    "dnssec-key": "/etc/kubezone/keys/Kcluster.local.+013+40612.private",
    "dnssec-nsec3": None,
    "dnssec-algorithm": "15",
    "dnssec-validity": "720h",
    "dnssec-refresh": "240h",
    "kubeconfig": "~/.kube/config",
    "context": "prod",
    "page-size": "1000",
    "watch-timeout": "10m",
    "idle-timeout": "3m",
    "backoff-max": "1m",
    "relist-interval": "1h",
    "token-refresh": "30s",
    "max-event-size": "33554432",
    "min-interval": "1s",
    "http": "[::]:9154",
    "out": "zones/",
    "serial": "2026010101",
    "explain": None,
    "no-explain": None,
}

# Environment variables that no option row names (the option rows' own
# "Environment:" entries are taken from the tables).
EXTRA_ENV = [
    ("KUBERNETES_SERVICE_HOST", "sync",
     "With `KUBERNETES_SERVICE_PORT`, and without `--snapshot`, "
     "`--kubeconfig` or `KUBECONFIG`: the API server of the pod's own "
     "cluster (set by the kubelet in every pod). The token and CA come "
     "from `/var/run/secrets/kubernetes.io/serviceaccount/`.",
     "10.96.0.1"),
    ("KUBERNETES_SERVICE_PORT", "sync",
     "The port that goes with `KUBERNETES_SERVICE_HOST`.", "443"),
    ("PATH", "sync",
     "Searched for `nsd` when `--nsd` is not given (then `/usr/sbin`), and "
     "for a kubeconfig exec credential plugin's `command` when it has no `/`.",
     "/usr/local/sbin:/usr/sbin:/usr/bin"),
]


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("gen-docs.py: %s failed (%d): %s" % (" ".join(args),
                                                     r.returncode, r.stderr))
    return r.stdout


ROW = re.compile(r"^\| `--([a-z0-9-]+)(?: ([^`]+))?` \| (.*?) \| (.*) \|$")


def tables(kubezone, cmd):
    """[(title, [option dicts])] of `kubezone CMD --help-markdown`."""
    out, title = [], None
    for line in run(kubezone, cmd, "--help-markdown").splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
            out.append((title, []))
            continue
        m = ROW.match(line)
        if m:
            name, meta, default, desc = m.groups()
            env = re.search(r" Environment: `([A-Z_]+)`\.$", desc)
            if env:
                desc = desc[:env.start()]
            repeat = desc.endswith(" Repeatable.")
            out[-1][1].append({
                "name": name, "meta": meta, "desc": desc,
                "default": default.strip().strip("`"),
                "env": env.group(1) if env else None,
                "repeatable": repeat})
        elif line.startswith("|") and not line.startswith(("| option",
                                                          "|---")):
            sys.exit("gen-docs.py: cannot read the row %r" % line)
    for title, rows in out:
        if not rows:
            sys.exit("gen-docs.py: no rows under %r" % title)
    return out


def commands(kubezone):
    """[(name, description)] from `kubezone --help`."""
    out = []
    for line in run(kubezone, "--help").splitlines():
        m = re.match(r"^  ([a-z-]+)\s{2,}(.*)$", line)
        if m:
            out.append([m.group(1), m.group(2).strip()])
        elif out and re.match(r"^\s{4,}\S", line):
            out[-1][1] += " " + line.strip()
    return out


def usage(kubezone, cmd):
    first = run(kubezone, cmd, "--help").splitlines()[0]
    assert first.startswith("usage: "), first
    return first[len("usage: "):]


def deployment_args():
    try:
        import yaml
    except ImportError:
        sys.exit("gen-docs.py: needs PyYAML (Debian: python3-yaml)")
    with open(DEPLOYMENT) as f:
        dep = yaml.safe_load(f)
    return dep["spec"]["template"]["spec"]["containers"][0]["args"]


def collect(kubezone):
    """The model both documents are written from."""
    cmds = [c for c in commands(kubezone) if c[0] != "version"]
    seen = {}      # (title, names) -> table entry
    order = []
    for name, _ in cmds:
        for title, rows in tables(kubezone, name):
            key = (title, tuple(r["name"] for r in rows))
            if key not in seen:
                seen[key] = {"title": title, "rows": rows, "commands": []}
                order.append(seen[key])
            seen[key]["commands"].append(name)
    titles = [t["title"] for t in order]
    for t in order:
        t["heading"] = t["title"] if titles.count(t["title"]) == 1 else \
            "%s (%s)" % (t["title"], ", ".join(t["commands"]))
        for r in t["rows"]:
            if r["name"] not in EXAMPLES:
                sys.exit("gen-docs.py: option --%s has no example: add one "
                         "to EXAMPLES" % r["name"])
    names = {r["name"] for t in order for r in t["rows"]}
    stale = set(EXAMPLES) - names
    if stale:
        sys.exit("gen-docs.py: examples for options kubezone no longer "
                 "has: %s" % ", ".join(sorted(stale)))
    return {
        "version": run(kubezone, "version").split()[-1],
        "commands": [(n, d, usage(kubezone, n)) for n, d in cmds],
        "tables": order,
        "env": [(r["env"], ", ".join(t["commands"]),
                 "Read when `--%s` is not given. %s" % (r["name"], r["desc"]),
                 EXAMPLES[r["name"]])
                for t in order for r in t["rows"] if r["env"]] +
        [(n, c, d, e) for n, c, d, e in EXTRA_ENV],
        "deployment": deployment_args(),
    }


def default_text(r):
    if r["default"]:
        return r["default"]
    return "off" if r["meta"] is None else "none"


def example_args(r):
    v = EXAMPLES[r["name"]]
    return "--%s" % r["name"] if v is None else "--%s %s" % (r["name"], v)


# -- docs/configuration.md --------------------------------------------------------

def markdown(m):
    o = []
    w = o.append
    w("# kubezone configuration\n")
    w("<!-- Generated by `make docs` (docs/gen-docs.py) from `kubezone "
      "COMMAND --help-markdown`; tests/system/docs/test_docs.py fails when it "
      "differs. Edit the option tables in the source, not this file. -->\n")
    w("Every option of every command, with its default and an example, and "
      "every environment variable kubezone reads. This page is generated "
      "from the program's own option tables, the same rows `kubezone "
      "COMMAND --help` prints, so it describes kubezone %s exactly.\n"
      % m["version"])
    w("Options are written `--name VALUE` or `--name=VALUE`; a flag takes "
      "no value. A repeatable option may be given several times and each "
      "one adds a value. Durations are written as Kubernetes tools write "
      "them: `100ms`, `30s`, `5m`, `1m30s`, `2h`, or `0`. Sizes are in "
      "bytes. An unknown option or a bad value is a usage error: kubezone "
      "prints the option and the reason and exits with status 2.\n")
    w("## Commands\n")
    w("| command | usage | what it does | option tables |")
    w("|---|---|---|---|")
    for name, desc, use in m["commands"]:
        ts = ", ".join("[%s](#%s)" % (t["heading"], anchor(t["heading"]))
                       for t in m["tables"] if name in t["commands"])
        w("| `%s` | `%s` | %s | %s |" % (name, use.replace("|", "\\|"),
                                         desc, ts))
    w("| `version` | `kubezone version` | print the version | |\n")
    w("## Options\n")
    for t in m["tables"]:
        w("### %s\n" % t["heading"])
        w("Options of %s.\n" % ", ".join("`kubezone %s`" % c
                                         for c in t["commands"]))
        w("| option | default | example | description |")
        w("|---|---|---|---|")
        for r in t["rows"]:
            opt = "--%s%s" % (r["name"], " " + r["meta"] if r["meta"] else "")
            desc = r["desc"]
            if r["env"]:
                desc += " Environment: `%s`." % r["env"]
            w("| `%s` | %s | `%s` | %s |" % (opt, code(default_text(r)),
                                             example_args(r), md_text(desc)))
        w("")
    w("## Environment\n")
    w("| variable | read by | meaning | example |")
    w("|---|---|---|---|")
    for name, cmds, desc, example in m["env"]:
        w("| `%s` | %s | %s | `%s` |" % (
            name, ", ".join("`%s`" % c for c in cmds.split(", ")), desc,
            example))
    w("")
    w("No other variable changes what kubezone does; NSD is started with "
      "kubezone's environment.\n")
    w("## The clusters file\n")
    w("`--clusters FILE` (`kubezone sync`, `kubezone render`) names several "
      "clusters in a small YAML file: a list `clusters:` of mappings with "
      "`name` (a DNS label, at most 63 characters: the `cluster` label of "
      "the metrics), `zone` (its forward zone, required), either "
      "`kubeconfig` (a path) and `context`, or `in-cluster: true` (with "
      "neither, the default API as without `--clusters`), and `options`: "
      "the render options above by name without the dashes, a list for a "
      "repeatable one, `true` or `false` for a flag. `zone` and "
      "`catalog-zone` are not cluster options: `--catalog-zone` on the "
      "command line is the one catalog of every cluster's zones. No zone "
      "may belong to two clusters or lie inside another cluster's (two "
      "clusters without `reverse-zone` both claim `in-addr.arpa`); a "
      "mistake is refused with the file's name and line, a collision naming "
      "both clusters. See [operations.md](operations.md#several-clusters).\n")
    w("```yaml\nclusters:\n  - name: prod-eu\n"
      "    kubeconfig: /etc/kubezone/prod-eu.kubeconfig\n"
      "    context: prod-eu\n    zone: prod-eu.k8s.example\n"
      "    options:\n      reverse-zone: [10.96.0.0/16, 10.244.0.0/16]\n"
      "      clusterset-zone: clusterset.local\n"
      "      pod-records: true\n  - name: prod-us\n    in-cluster: true\n"
      "    zone: prod-us.k8s.example\n"
      "    options:\n      reverse-zone: [10.112.0.0/16]\n```\n")
    w("## Examples\n")
    w("Serve a snapshot file on the loopback, as `make run` does:\n")
    w("```sh\nkubezone sync --snapshot examples/cluster.json "
      "--listen 127.0.0.1:5353 \\\n    --state-dir /tmp/kz --http off\n```\n")
    w("Follow the API of the current kubeconfig context, notify a "
      "secondary, sign its transfers:\n")
    w("```sh\nkubezone sync --kubeconfig ~/.kube/config --listen "
      "192.0.2.1:53 \\\n    --tsig-key-file /etc/kubezone/tsig.keys \\\n"
      "    --allow-transfer 192.0.2.20/32,key=xfr "
      "--notify 192.0.2.20,key=xfr\n```\n")
    w("In a pod, as `container/manifests/deployment.yaml` runs it "
      "(in-cluster service account, DNS on 5353 behind the Service's 53):\n")
    w("```sh\nkubezone %s\n```\n" % " \\\n    ".join(m["deployment"]))
    w("Serve two clusters, each following its own API, with one catalog "
      "of their zones:\n")
    w("```sh\nkubezone sync --clusters /etc/kubezone/clusters.yaml "
      "--catalog-zone catalog.kubezone.invalid \\\n"
      "    --listen 192.0.2.1:53 --notify 192.0.2.20\n```\n")
    w("Render a cluster's zones offline, one file per zone:\n")
    w("```sh\nkubectl get svc,endpointslices,pods,namespaces -A -o json |\n"
      "    kubezone render --zone cluster.local --out zones/ -\n```\n")
    w("What a deploy changed in the zones, each record with the objects "
      "it comes from (exit status 1 when something changed; see "
      "[operations.md](operations.md#why-does-this-name-exist-what-did-"
      "this-deploy-change)):\n")
    w("```sh\nkubectl get svc,endpointslices,pods,namespaces -A -o json "
      "> before.json\n"
      "kubectl apply -f deploy/ && kubectl rollout status deploy/web\n"
      "kubectl get svc,endpointslices,pods,namespaces -A -o json "
      "> after.json\n"
      "kubezone diff before.json after.json\n```")
    return "\n".join(o) + "\n"


def code(text):
    """A default: a value in code, words ("all namespaces") as prose."""
    return text if " " in text or text in ("off", "none") else "`%s`" % text


def md_text(text):
    """Program text in a Markdown table: <zone> is not an HTML tag."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(p if i % 2 else p.replace("<", "&lt;").replace(">", "&gt;")
                   for i, p in enumerate(parts))


def anchor(heading):
    a = re.sub(r"[^a-z0-9 -]", "", heading.lower())
    return a.replace(" ", "-")


# -- docs/kubezone.8 ----------------------------------------------------------------

def lit(text):
    """Literal text for roff: backslashes escaped, every - a real minus
    (so that options copy and paste)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def roff(text):
    """Prose with Markdown `code` as roff: code in bold and literal,
    --options in prose literal too."""
    parts = re.split(r"`([^`]*)`", text)
    out = []
    for i, p in enumerate(parts):
        if i % 2:
            out.append("\\fB%s\\fR" % lit(p))
        else:
            p = p.replace("\\", "\\e")
            out.append(re.sub(r"(?<![\w-])--([a-z][a-z0-9-]*)",
                              lambda m: lit(m.group(0)), p))
    return "".join(out)


def line(text):
    """One roff text line: a leading . or ' must not start a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def man(m):
    o = []
    w = o.append
    w('.\\" Generated by `make docs` (docs/gen-docs.py) from the option '
      'tables;')
    w('.\\" tests/system/docs/test_docs.py fails when it differs.')
    w('.TH KUBEZONE 8 "" "kubezone %s" "System Manager\'s Manual"'
      % m["version"])
    w(".SH NAME")
    w("kubezone \\- Kubernetes service discovery as DNS zones served by NSD")
    w(".SH SYNOPSIS")
    for name, _, use in m["commands"]:
        w(".PP")
        w(line(roff(use.replace("kubezone %s" % name,
                                "`kubezone %s`" % name, 1))))
    w(".PP")
    w("\\fBkubezone version\\fR")
    w(".SH DESCRIPTION")
    w("\\fBkubezone\\fR turns a Kubernetes cluster's Services, "
      "EndpointSlices, Pods and Namespaces into static DNS zones that "
      "follow the Kubernetes DNS-Based Service Discovery specification: "
      "the cluster zone and the reverse zones. \\fBkubezone sync\\fR is "
      "the daemon: it lists and watches the Kubernetes API (or follows a "
      "snapshot file), keeps the zones in memory, and hands every change "
      "as an incremental zone transfer (IXFR) to an NSD it starts and "
      "supervises, which answers queries and zone transfers and sends "
      "NOTIFY to secondaries. \\fBkubezone render\\fR writes the same zones from "
      "\\fBkubectl get -o json\\fR output, offline, and \\fBkubezone "
      "diff\\fR shows the records two such dumps differ in, each with "
      "the objects it comes from.")
    w(".SH COMMANDS")
    for name, desc, _ in m["commands"]:
        w(".TP")
        w("\\fB%s\\fR" % name)
        w(line(roff(desc[:1].upper() + desc[1:] + ".")))
    w(".TP")
    w("\\fBversion\\fR")
    w("Print the version.")
    w(".SH OPTIONS")
    w("Options are written \\fB\\-\\-name\\fR \\fIvalue\\fR or "
      "\\fB\\-\\-name=\\fR\\fIvalue\\fR. Durations are written "
      "\\fB100ms\\fR, \\fB30s\\fR, \\fB5m\\fR, \\fB1m30s\\fR or "
      "\\fB2h\\fR. A usage error exits with status 2.")
    for t in m["tables"]:
        w(".SS %s" % roff(t["heading"][:1].upper() + t["heading"][1:]))
        w("Options of %s." % ", ".join("\\fBkubezone %s\\fR" % c
                                        for c in t["commands"]))
        for r in t["rows"]:
            w(".TP")
            if r["meta"]:
                w("\\fB%s\\fR \\fI%s\\fR" % (lit("--" + r["name"]),
                                            lit(r["meta"])))
            else:
                w("\\fB%s\\fR" % lit("--" + r["name"]))
            text = r["desc"] + " Default: %s." % default_text(r)
            if r["env"]:
                text += " Environment: `%s`." % r["env"]
            w(line(roff(text)))
            w(".br")
            w("Example: \\fB%s\\fR" % lit(example_args(r)))
    w(".SH ENVIRONMENT")
    for name, _, desc, _ in m["env"]:
        w(".TP")
        w("\\fB%s\\fR" % name)
        w(line(roff(desc)))
    w(".SH FILES")
    w(".TP")
    w("\\fI/var/lib/kubezone\\fR")
    w("The state directory (\\fB\\-\\-state\\-dir\\fR): nsd.conf, the "
      "reserved serials (\\fIserial.state\\fR), the zone files NSD "
      "writes (\\fIzones/\\fR), NSD's control socket and working "
      "files.")
    w(".TP")
    w("\\fI/var/run/secrets/kubernetes.io/serviceaccount/\\fR")
    w("The in-cluster token and CA certificate.")
    w(".SH SIGNALS")
    w("SIGTERM and SIGINT have NSD write its zone files, stop NSD and "
      "exit 0. SIGHUP re-reads the "
      "snapshot (\\fB\\-\\-snapshot\\fR); with the API source it is "
      "ignored.")
    w(".SH EXIT STATUS")
    w("0 on success; 1 when the input cannot be read or \\fBsync\\fR "
      "cannot start (NSD missing or failing, a port in use, an unusable "
      "state directory); 2 for a usage error. \\fBdiff\\fR, as "
      "\\fBdiff\\fR(1): 0 when the zones are the same, 1 when they "
      "differ, 2 on trouble (a usage error, an input that cannot be "
      "read).")
    w(".SH HTTP ENDPOINT")
    w("\\fBsync\\fR serves \\fB/healthz\\fR (200 while the event loop "
      "runs), \\fB/readyz\\fR (200 once the cluster is read and NSD "
      "serves the zones published from it) and "
      "\\fB/metrics\\fR (Prometheus text format) on \\fB\\-\\-http\\fR.")
    w(".SH EXAMPLES")
    w("Serve a snapshot file on the loopback:")
    w(".PP")
    w(".nf")
    w(".RS")
    w("kubezone sync \\-\\-snapshot cluster.json \\-\\-listen "
      "127.0.0.1:5353 \\-\\-state\\-dir /tmp/kz")
    w(".RE")
    w(".fi")
    w(".PP")
    w("Render a cluster's zones offline:")
    w(".PP")
    w(".nf")
    w(".RS")
    w("kubectl get svc,endpointslices,pods,namespaces \\-A \\-o json |")
    w("    kubezone render \\-\\-out zones/ \\-")
    w(".RE")
    w(".fi")
    w(".PP")
    w("What a deploy changes in the zones, and why each record is there:")
    w(".PP")
    w(".nf")
    w(".RS")
    w("kubezone diff before.json after.json")
    w(".RE")
    w(".fi")
    w(".SH SEE ALSO")
    w("\\fBnsd\\fR(8), \\fBnsd.conf\\fR(5), \\fBkubectl\\fR(1); "
      "docs/configuration.md, docs/operations.md, docs/records.md and "
      "docs/syncer.md in the kubezone sources.")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kubezone")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    a = ap.parse_args()
    m = collect(os.path.abspath(a.kubezone))
    for name, text in (("configuration.md", markdown(m)),
                       ("kubezone.8", man(m))):
        path = os.path.join(a.out, name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
