"""PowerDNS and Unbound follow kubezone by NOTIFY and IXFR, set up as
docs/operations.md says.

The configuration files, the shell commands and kubezone's options are
taken from the fenced blocks of the "PowerDNS Authoritative" and
"Unbound" sections of docs/operations.md; only addresses, ports and paths
are changed (and the test adds what a server started by hand in a
temporary directory needs: its port, its log, its pid and control
files). So the documentation is what runs here:

- PowerDNS (gsqlite3, TSIG, IXFR metadata, one retrieval thread) takes
  cluster.local and in-addr.arpa, created before it starts, transfers
  them from 127.0.0.5 (its query-local-address; kubezone allows that
  address only with the key), answers REFUSED for ip6.arpa added while
  it runs until the documented pdns_control commands, then follows a
  change of all three zones by NOTIFY and IXFR without a "database is
  locked", and ends with exactly kubezone's records (AXFR against AXFR);
- Unbound (auth-zones, access-control, unblock-lan-zones) takes the
  three zones, follows the same change by NOTIFY and IXFR, and then
  answers every RRset of kubezone's zones as kubezone does, and writes
  zone files with exactly kubezone's records.

Run as root (as CI does), PowerDNS and Unbound drop to their users
(pdns, unbound) and the files they write are theirs, as the docs say;
run as another user, they keep that user.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from conftest import (ROOT, axfr, free_port, query, read_text, replace_file,
                      soa_serial, stop_pid, wait_for, zone_records)
from secondary_configs import (block_with, kubezone_args, operations,
                               section, substitute)

ZONES = ("cluster.local.", "in-addr.arpa.", "ip6.arpa.")
IS_ROOT = os.geteuid() == 0

# The documented network and where the test puts each address.
KUBEZONE_ADDR = "192.0.2.1"
PDNS_ADDR = "192.0.2.30"
UNBOUND_ADDR = "192.0.2.40"
PDNS_SOURCE = "127.0.0.5"      # PowerDNS's query-local-address here


# -- docs/operations.md -------------------------------------------------------


def tsig_key_line():
    """The key of the "Secondaries" section: NAME:ALG:SECRET."""
    part = operations().split("\n## Secondaries", 1)[1]
    line = block_with(part, "# /etc/kubezone/tsig.keys\n").splitlines()[1]
    assert re.fullmatch(r"xfr:hmac-sha256:[A-Za-z0-9+/=]+", line), line
    return line


def run_sh(script, cwd):
    r = subprocess.run(["sh", "-eu", "-c", script], cwd=cwd,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (
        script, r.stdout, r.stderr)
    return r.stdout


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       capture_output=True, text=True)
    return r.stdout.endswith(" installed")


def test_package_lines_are_the_test_packages():
    """The packages the PowerDNS section installs are in the test section
    of container/packages.txt (which container/deps.sh installs), and
    the tests below find them installed."""
    line = block_with(section("PowerDNS"), "apt-get install")
    pkgs = [w for w in line.split() if not w.startswith("-")][2:]
    with open(os.path.join(ROOT, "container", "packages.txt")) as f:
        test = re.search(r"^test:(.*)$", f.read(), re.M).group(1).split()
    assert set(pkgs + ["unbound"]) <= set(test), (pkgs, test)
    assert {"pdns-server", "pdns-backend-sqlite3"} <= set(pkgs)
    for p in pkgs + ["unbound"]:
        assert installed(p), "%s is not installed (container/deps.sh " \
            "test installs it)" % p


# -- helpers ------------------------------------------------------------------

def serials(port):
    return {z: soa_serial(z, port) for z in ZONES}


def change(snapshot):
    """Change a Service's IPv4 and IPv6 address: all three zones change."""
    doc = read_text(snapshot)
    assert "10.96.12.34" in doc and "fd00:10:96::2005" in doc
    replace_file(snapshot, doc.replace("10.96.12.34", "10.96.12.77")
                 .replace("fd00:10:96::2005", "fd00:10:96::2077"))


def wait_new_serials(port, old):
    """kubezone's serials once every zone has a new one."""
    def new():
        now = serials(port)
        if all(now[z] is not None and now[z] > old[z] for z in ZONES):
            return now
        return None
    return wait_for(new, 10, what="new serials of all zones on kubezone")


def norec_rrset(name, rdtype, port):
    """(rcode, aa, set of (ttl, rdata)) of NAME/RDTYPE, asked without
    recursion."""
    q = dns.message.make_query(name, rdtype)
    q.flags &= ~dns.flags.RD
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    if r.flags & dns.flags.TC:
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=2)
    got = set()
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rdtype):
            got |= {(rrset.ttl, rd.to_text()) for rd in rrset}
    return r.rcode(), bool(r.flags & dns.flags.AA), got


def by_rrset(records):
    """{(owner, type): set of (ttl, rdata)} of (owner, ttl, type, rdata)."""
    out = {}
    for owner, ttl, rtype, rdata in records:
        out.setdefault((owner, rtype), set()).add((ttl, rdata))
    return out


def tail(text, n=3000):
    return text[-n:]


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="kz-2nd-", dir="/tmp")
    # PowerDNS and Unbound run as their own users: they must reach it.
    os.chmod(d, 0o755)
    yield d
    if not os.environ.get("KZ_KEEP_TMP"):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def procs():
    started = []
    yield started
    for p in started:
        stop_pid(p)


# -- PowerDNS -----------------------------------------------------------------

def test_powerdns_as_documented(sync, snapshot, workdir, procs):
    doc = section("PowerDNS")
    pdns_port = free_port()
    kz_port = free_port()
    d = os.path.join(workdir, "pdns")
    os.mkdir(d, 0o755)
    db = os.path.join(d, "db")

    # kubezone, with the options the section gives it.
    keys = os.path.join(workdir, "tsig.keys")
    with open(os.open(keys, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(tsig_key_line() + "\n")
    args = kubezone_args(doc, [
        ("/etc/kubezone/tsig.keys", keys),
        ("%s/32" % PDNS_ADDR, "%s/32" % PDNS_SOURCE),
        (PDNS_ADDR, "127.0.0.1:%d" % pdns_port)])
    assert args == ["--tsig-key-file", keys,
                    "--allow-transfer", "%s/32,key=xfr" % PDNS_SOURCE,
                    "--notify", "127.0.0.1:%d,key=xfr" % pdns_port], args
    s = sync(snapshot, *args, port=kz_port)

    # pdns.conf as documented, plus where this one listens and logs.
    conf = substitute(block_with(doc, "launch="), [
        ("/var/lib/powerdns", db),
        ("query-local-address=%s\n" % PDNS_ADDR,
         "query-local-address=%s\n" % PDNS_SOURCE),
        ("\nlocal-address=%s\n" % PDNS_ADDR, "\nlocal-address=127.0.0.1\n"),
        ("allow-notify-from=%s/32" % KUBEZONE_ADDR,
         "allow-notify-from=127.0.0.1/32")])
    assert "include-dir" not in conf
    conf += "local-port=%d\nsocket-dir=%s\nloglevel=6\n" % (pdns_port, d)
    with open(os.path.join(d, "pdns.conf"), "w") as f:
        f.write(conf)
    os.chmod(os.path.join(d, "pdns.conf"), 0o644)

    # The database, the key and the zones: the documented commands. The
    # first run creates two zones before PowerDNS starts; ip6.arpa is
    # added to the running server later, as the section's last commands
    # do it.
    setup = block_with(doc, "pdnsutil import-tsig-key")
    assert "for zone in cluster.local in-addr.arpa ip6.arpa; do\n" in setup
    assert setup.rstrip().endswith("\nsystemctl restart pdns"), setup
    setup = setup.rstrip()[:-len("systemctl restart pdns")]
    pairs = [("/var/lib/powerdns", db),
             ("pdnsutil ", "pdnsutil --config-dir=%s " % d),
             ("%s:53" % KUBEZONE_ADDR, "127.0.0.1:%d" % kz_port)]
    if not IS_ROOT:
        pairs += [("runuser -u pdns -- ", ""), ("-o pdns -g pdns ", "")]
    setup = substitute(setup, pairs)
    loop = re.search(r"^for zone in .*?^done\n", setup, re.S | re.M).group(0)
    run_sh(setup.replace(" in-addr.arpa ip6.arpa;", " in-addr.arpa;"), d)
    if IS_ROOT:
        st = os.stat(os.path.join(db, "kubezone.sqlite3"))
        assert pwd.getpwuid(st.st_uid).pw_name == "pdns"
        assert pwd.getpwuid(os.stat(db).st_uid).pw_name == "pdns"

    # As Debian's systemd unit starts it; as root, it drops to pdns.
    cmd = ["pdns_server", "--config-dir=%s" % d, "--daemon=no",
           "--guardian=no", "--disable-syslog", "--write-pid=no"]
    if IS_ROOT:
        cmd += ["--setuid=pdns", "--setgid=pdns"]
    log_path = os.path.join(d, "pdns.log")
    log = open(log_path, "w")
    procs.append(subprocess.Popen(cmd, stdout=log, stderr=log,
                                  stdin=subprocess.DEVNULL))
    log.close()

    def pdns_log():
        return read_text(log_path)

    try:
        # The zones made before the start: transferred whole, by TSIG,
        # from the query-local-address.
        for z in ("cluster.local.", "in-addr.arpa."):
            want = soa_serial(z, kz_port)
            wait_for(lambda: soa_serial(z, pdns_port) == want, 20,
                     what="PowerDNS has %s" % z)
        # A zone added to the running server is REFUSED (PowerDNS's zone
        # cache) until the documented pdns_control commands.
        run_sh(loop.replace(" cluster.local in-addr.arpa ip6.arpa;",
                            " ip6.arpa;"), d)
        r = query("ip6.arpa.", "SOA", port=pdns_port)
        assert r.rcode() == dns.rcode.REFUSED, r
        control = substitute(block_with(doc, "pdns_control rediscover"), [
            ("pdns_control ", "pdns_control --config-dir=%s " % d)])
        run_sh(control, d)
        wait_for(lambda: re.search(r"XFR-in zone: 'ip6\.arpa', primary: "
                                   r"'127\.0\.0\.1', zone committed",
                                   pdns_log()), 20,
                 what="PowerDNS transferred ip6.arpa")
        want = soa_serial("ip6.arpa.", kz_port)
        wait_for(lambda: soa_serial("ip6.arpa.", pdns_port) == want, 5,
                 what="PowerDNS answers for ip6.arpa")
        for z in ZONES:
            assert axfr(z, pdns_port) == axfr(z, kz_port), z

        # A change of all three zones: NOTIFY, then IXFR of each, one
        # after the other (one retrieval thread: no "database is locked").
        before = serials(kz_port)
        kz_mark, pdns_mark = len(s.text()), len(pdns_log())
        change(snapshot)
        new = wait_new_serials(kz_port, before)
        wait_for(lambda: serials(pdns_port) == new, 15,
                 what="PowerDNS follows the change")
        assert norec_rrset("web.shop.svc.cluster.local.", "A",
                           pdns_port)[2] == {(30, "10.96.12.77")}
        assert norec_rrset("77.12.96.10.in-addr.arpa.", "PTR",
                           pdns_port)[2] == {
            (30, "web.shop.svc.cluster.local.")}
        for z in ZONES:
            assert axfr(z, pdns_port) == axfr(z, kz_port), z
    except AssertionError as e:
        raise AssertionError("%s\n--- PowerDNS log:\n%s\n--- kubezone:\n%s" %
                             (e, tail(pdns_log()), tail(s.text())))

    text = pdns_log()
    after = text[pdns_mark:]
    for z in ZONES:
        name = z.rstrip(".")
        assert re.search(r"IXFR-in zone: '%s', primary: '127\.0\.0\.1', "
                         r"got \d+ deltas?, zone committed with serial %d"
                         % (re.escape(name), new[z]), after), tail(after)
        assert "AXFR-in zone: '%s'" % name not in after, tail(after)
        assert "Received secure NOTIFY for %s from 127.0.0.1, with TSIG " \
            "key 'xfr'" % name in after
    for bad in ("database is locked", "readonly database"):
        assert bad not in text, tail(text)
    # Only the SQLite backend runs.
    loaded = re.findall(r"Loading '([^']+)'", text)
    assert loaded and all("gsqlite3" in m for m in loaded), loaded
    if IS_ROOT:
        assert "Set effective user id to %d" % pwd.getpwnam(
            "pdns").pw_uid in text

    kz = s.text()
    for z in ZONES:
        assert "axfr for %s from %s" % (z, PDNS_SOURCE) in kz, tail(kz)
        assert "ixfr for %s from %s" % (z, PDNS_SOURCE) in kz[kz_mark:]
    assert "refused" not in kz, tail(kz)


# -- Unbound ------------------------------------------------------------------

UNBOUND_TEST_SERVER = """\
server:
    port: {port}
    chroot: ""
    username: "{user}"
    directory: "{dir}"
    pidfile: "{dir}/unbound.pid"
    logfile: "{dir}/unbound.log"
    use-syslog: no
    verbosity: 2
    # Unbound allows loopback by default; refuse it, so that, as for any
    # other address, only the documented access-control lets kubezone in.
    access-control: 127.0.0.0/8 refuse
"""


def test_unbound_as_documented(sync, snapshot, workdir, procs):
    doc = section("Unbound")
    ub_port = free_port()
    kz_port = free_port()
    d = os.path.join(workdir, "unbound")
    os.mkdir(d, 0o755)
    if IS_ROOT:
        shutil.chown(d, "unbound", "unbound")

    # Unbound transfers from the address of its route to kubezone: here
    # 127.0.0.1, which kubezone always allows.
    args = kubezone_args(doc, [("%s/32" % UNBOUND_ADDR, "127.0.0.1/32"),
                               (UNBOUND_ADDR, "127.0.0.1:%d" % ub_port)])
    assert args == ["--allow-transfer", "127.0.0.1/32",
                    "--notify", "127.0.0.1:%d" % ub_port], args
    s = sync(snapshot, *args, port=kz_port)

    conf = substitute(block_with(doc, "auth-zone:"), [
        ("interface: %s\n" % UNBOUND_ADDR, "interface: 127.0.0.1\n"),
        ("access-control: %s/32 allow" % KUBEZONE_ADDR,
         "access-control: 127.0.0.1/32 allow"),
        ("primary: %s@53\n" % KUBEZONE_ADDR, "primary: 127.0.0.1@%d\n"
         % kz_port),
        ('"/var/lib/unbound/', '"%s/' % d)])
    assert conf.count("auth-zone:") == 3
    text = UNBOUND_TEST_SERVER.format(port=ub_port, dir=d,
                                      user="unbound" if IS_ROOT else "")
    text += conf
    path = os.path.join(d, "unbound.conf")
    with open(path, "w") as f:
        f.write(text)
    r = subprocess.run(["unbound-checkconf", path], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    log_path = os.path.join(d, "unbound.log")
    err = open(os.path.join(d, "unbound.stderr"), "w")
    procs.append(subprocess.Popen(["unbound", "-d", "-c", path],
                                  stdout=err, stderr=err,
                                  stdin=subprocess.DEVNULL))
    err.close()

    def zonefile(z):
        return os.path.join(d, z.rstrip(".") + ".zone")

    def file_records(z):
        zo = dns.zone.from_file(zonefile(z), origin=z, relativize=False)
        return zone_records(zo)

    def file_serial(z):
        try:
            for rec in file_records(z):
                if rec[2] == "SOA":
                    return int(rec[3].split()[2])
        except Exception:
            return None
        return None

    def same_as_kubezone():
        for z in ZONES:
            want = axfr(z, kz_port)
            # The zone file Unbound wrote holds exactly kubezone's records.
            assert file_records(z) == want, (z, want ^ file_records(z))
            # And Unbound answers each RRset as kubezone does, with
            # authority.
            for (owner, rtype), rrs in by_rrset(want).items():
                rcode, aa, got = norec_rrset(owner, rtype, ub_port)
                assert (rcode, aa, got) == (dns.rcode.NOERROR, True, rrs), \
                    (owner, rtype, rcode, aa, got, rrs)

    try:
        first = serials(kz_port)
        for z in ZONES:
            wait_for(lambda: soa_serial(z, ub_port) == first[z] and
                     file_serial(z) == first[z], 20,
                     what="Unbound has %s" % z)
        same_as_kubezone()

        before = serials(kz_port)
        kz_mark, ub_mark = len(s.text()), len(read_text(log_path))
        change(snapshot)
        new = wait_new_serials(kz_port, before)
        for z in ZONES:
            wait_for(lambda: soa_serial(z, ub_port) == new[z] and
                     file_serial(z) == new[z], 15,
                     what="Unbound follows %s" % z)
        assert norec_rrset("77.12.96.10.in-addr.arpa.", "PTR", ub_port)[2] \
            == {(30, "web.shop.svc.cluster.local.")}
        same_as_kubezone()
    except AssertionError as e:
        raise AssertionError("%s\n--- Unbound log:\n%s\n--- kubezone:\n%s" %
                             (e, tail(read_text(log_path)), tail(s.text())))

    ub = read_text(log_path)[ub_mark:]
    kz = s.text()[kz_mark:]
    for z in ZONES:
        assert "received NOTIFY serial %d for %s from 127.0.0.1" % (
            new[z], z) in ub, tail(ub)
        # The change came by IXFR (NSD logs the transfers it serves).
        assert "ixfr for %s from 127.0.0.1" % z in kz, tail(kz)
