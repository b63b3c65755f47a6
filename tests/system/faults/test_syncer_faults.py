"""`kubezone sync` through API faults. Each test changes the cluster while
the fake kube-apiserver misbehaves, then checks that the zones served by NSD
equal a fresh `kubezone render` of the API's final state, and (through the
fake's request log) that the daemon reacted the way a robust client should.

Tests wait on conditions (a watch reopened, an error counted, a log line),
not for fixed times, so that they hold on a loaded machine and under the
sanitizers. Timing is asserted only as lower bounds (retries at least so
far apart), which load cannot break; the few sleeps left are commented.
"""

import json
import re
import socket
import time

import pytest

from syncer_harness import (FakeApi, Syncer, create, endpointslice, requests_of, service,
                            slice_path, svc_path, wait_converged, wait_for)

FAKE_ARGS = ["--bookmark-interval", "1"]


@pytest.fixture
def fake(tmp_path):
    with FakeApi(tmp_path / "fake", args=FAKE_ARGS) as server:
        server.write_kubeconfig()
        yield server


def start_syncer(fake, tmp_path, *args, kubeconfig=None):
    s = Syncer(tmp_path / "kz", kubeconfig or fake.workdir / "kubeconfig", args=args)
    s.start()
    s.wait_ready()
    return s


@pytest.fixture
def syncer(fake, tmp_path):
    s = start_syncer(fake, tmp_path, "--idle-timeout", "3s")
    yield s
    assert s.stop() == 0, s.log_text()[-2000:]


def lists_of(fake, path):
    return requests_of(fake, path, watch=False)


def watches_of(fake, path):
    return requests_of(fake, path, watch=True)


def ip_of(fake, name, ns="default"):
    return fake.api("GET", svc_path(ns, name))["spec"]["clusterIP"]


def watch_reopened(fake, path, ended_before):
    """The watch on PATH has ended since ENDED_BEFORE watches were logged
    (the fake logs a watch when it ends) and a new one is open."""
    return len(watches_of(fake, path)) > ended_before and any(
        w["path"].split("?")[0] == path for w in fake.state()["watches"])


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def accepting(port):
    """Whether something accepts TCP connections on 127.0.0.1:PORT."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_dropped_watches_resume_from_last_rv_without_relist(fake, syncer, tmp_path):
    fake.seed([service(f"seed{i}") for i in range(5)])
    wait_converged(fake, syncer, tmp_path / "r")
    fake.clear_log()
    for i in range(4):
        create(fake, service(f"drop{i}"))
        ended = len(watches_of(fake, "/api/v1/services"))
        fake.close_watches(abrupt=(i % 2 == 0))     # cut / clean end, in turn
        fake.api("DELETE", svc_path(name=f"seed{i}"))
        wait_for(lambda: watch_reopened(fake, "/api/v1/services", ended), 15,
                 interval=0.05, what=f"the services watch reopened after cut {i}")
    wait_converged(fake, syncer, tmp_path / "r")
    assert lists_of(fake, "/api/v1/services") == []            # never relisted
    watches = watches_of(fake, "/api/v1/services")
    assert len(watches) >= 4
    for w in watches:
        rv = w["path"].split("resourceVersion=")[1].split("&")[0]
        assert rv not in ("", "0"), w["path"]


def test_gone_mid_stream_relists(fake, syncer, tmp_path):
    create(fake, service("a"))
    syncer.wait_answer("a.default.svc.cluster.local", "A", [ip_of(fake, "a")])
    fake.clear_log()
    fake.compact(gone=True)         # ERROR 410 into every open watch
    create(fake, service("b"))
    wait_converged(fake, syncer, tmp_path / "r")
    assert len(lists_of(fake, "/api/v1/services")) >= 1
    assert syncer.metric('kubezone_relists_total{resource="services",reason="gone"}') >= 1


def test_http_410_on_watch_relists(fake, syncer, tmp_path):
    fake.clear_log()
    fake.fault(action="status", code=410, match="/api/v1/namespaces\\?", watch=True, count=1)
    fake.close_watches()
    create(fake, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    create(fake, service("web", ns="shop"))
    wait_converged(fake, syncer, tmp_path / "r")
    assert len(lists_of(fake, "/api/v1/namespaces")) >= 1


def test_api_down_at_startup_then_up(fake, tmp_path):
    port = fake.port
    fake.stop()
    s = Syncer(tmp_path / "kz", fake.workdir / "kubeconfig", args=["--idle-timeout", "3s"])
    s.start()
    try:
        wait_for(lambda: s.http("/healthz")[0] == 200, 10, what="healthz")
        # Not ready, serving nothing, once a list has failed.
        wait_for(lambda: s.metric(
            'kubezone_api_errors_total{resource="services",code="transport"}') >= 1, 15,
            what="a failed list counted")
        assert s.http("/readyz")[0] == 503
        assert s.query("kubernetes.default.svc.cluster.local", timeout=0.3)[0] != "NOERROR"
        m = s.metrics()
        assert m.get('kubezone_api_errors_total{resource="services",code="transport"}', 0) >= 1
        assert m["kubezone_last_sync_timestamp_seconds"] == 0
        fake.start(port=port)
        create(fake, service("late"))
        s.wait_ready(timeout=10)
        wait_converged(fake, s, tmp_path / "r")
    finally:
        assert s.stop() == 0


def test_unreachable_while_objects_are_deleted(fake, syncer, tmp_path):
    fake.seed([service(f"s{i}") for i in range(20)])
    wait_converged(fake, syncer, tmp_path / "r")
    fake.fault(action="drop", watch=True, count=0)          # every watch refused
    fake.close_watches(abrupt=True)
    for i in range(0, 20, 2):
        fake.api("DELETE", svc_path(name=f"s{i}"))
    create(fake, service("during"))
    fake.compact()                  # the daemon's RV is now too old to resume
    # the last zones keep being served while the API is away (a second and more)
    wait_for(lambda: syncer.metric("kubezone_api_down_seconds") >= 1, 15,
             interval=0.1, what="the API seen down for a second")
    assert syncer.query("s0.default.svc.cluster.local")[0] == "NOERROR"
    fake.clear_faults()
    wait_converged(fake, syncer, tmp_path / "r")            # deletions seen by the relist diff
    assert syncer.query("s0.default.svc.cluster.local")[0] == "NXDOMAIN"
    relists = {k: v for k, v in syncer.metrics().items()
               if k.startswith('kubezone_relists_total{resource="services"')}
    assert sum(relists.values()) >= 1, relists      # "errors" (3 failures) or "gone"


def test_connection_refused_for_seconds(fake, syncer, tmp_path):
    fake.down(refuse_seconds=2)
    wait_for(lambda: not accepting(fake.port), 10, interval=0.02,
             what="the fake refusing connections")
    wait_for(lambda: accepting(fake.port), 15, interval=0.05,
             what="the fake accepting again")
    create(fake, service("after"))
    wait_converged(fake, syncer, tmp_path / "r", timeout=15)


def test_malformed_and_oversized_events_are_skipped(fake, tmp_path):
    s = start_syncer(fake, tmp_path, "--max-event-size", "65536", "--idle-timeout", "3s")
    try:
        fake.fault(action="malformed", match="/api/v1/services", watch=True, after_events=1)
        fake.fault(action="bigline", match="/api/v1/services", watch=True, after_events=1,
                   size=200000)
        fake.close_watches()
        for i in range(6):
            create(fake, service(f"m{i}"))
            time.sleep(0.1)         # pacing only: events spread over the watch
        wait_converged(fake, s, tmp_path / "r")
        m = s.metrics()
        assert m['kubezone_watch_skipped_total{resource="services",reason="malformed"}'] >= 1
        assert m['kubezone_watch_skipped_total{resource="services",reason="oversized"}'] >= 1
        # a broken line as such (not replacing an event) is skipped too
        fake.inject("malformed")
        create(fake, service("after"))
        wait_converged(fake, s, tmp_path / "r")
        assert s.proc.poll() is None
    finally:
        assert s.stop() == 0


def test_stalled_watch_is_detected(fake, tmp_path):
    s = start_syncer(fake, tmp_path, "--idle-timeout", "2s")
    try:
        fake.clear_log()
        # Something that must NOT happen: a quiet watch cut as idle. Only
        # a window longer than --idle-timeout (2 s) can show it; the fake's
        # bookmarks (every 1 s) keep the watch alive meanwhile.
        time.sleep(2.5)
        assert len(watches_of(fake, "/api/v1/services")) == 0
        fake.inject("stall")
        create(fake, service("x"))
        # Without the idle check the stalled watch would hang until its own
        # timeout (the fake's is 30 minutes or more): any generous bound
        # tells the two apart; the counter says which way it went.
        s.wait_answer("x.default.svc.cluster.local", "A", [ip_of(fake, "x")], timeout=30)
        assert s.metric('kubezone_api_errors_total{resource="services",code="idle"}') >= 1
    finally:
        assert s.stop() == 0


def test_server_errors_back_off_and_recover(fake, tmp_path):
    s = start_syncer(fake, tmp_path, "--idle-timeout", "3s", "--log-level", "debug")
    try:
        fake.clear_log()
        fake.fault(action="status", code=500, match="/api/v1/services", count=5)
        fake.close_watches()
        create(fake, service("e"))
        wait_converged(fake, s, tmp_path / "r", timeout=30)
        times = [r["t"] for r in requests_of(fake, "/api/v1/services") if r["code"] == 500]
        assert len(times) == 5
        # Backed off: the retries really came that far apart (a lower
        # bound, which load cannot break).
        assert all(g >= 0.5 for g in gaps(times)), gaps(times)
        # Each wait as chosen: 800 ms doubling with jitter, capped by
        # --backoff-max 1s (the daemon's own figures: wall-clock gaps
        # would also count a loaded machine's delays).
        delays = [int(d) for d in re.findall(
            r'msg="retrying later" resource=services delay_ms=(\d+)', s.log_text())]
        assert len(delays) >= 5, delays        # the five 500s (and the cut watch)
        assert all(800 <= d <= 1000 for d in delays), delays
    finally:
        assert s.stop() == 0


def test_forbidden_does_not_hot_loop(fake, syncer, tmp_path):
    fake.clear_log()
    fake.fault(action="status", code=403, match="endpointslices", count=0)
    fake.close_watches()

    def refused():
        return [r["t"] for r in requests_of(fake, "endpointslices") if r["code"] == 403]
    wait_for(lambda: len(refused()) >= 3, 30, interval=0.1, what="three 403 answers")
    assert "RBAC" in syncer.log_text()
    # Retried at the longest back-off (--backoff-max 1s), not at once: a
    # lower bound on the gaps, which load cannot break.
    assert all(g >= 0.5 for g in gaps(refused())), gaps(refused())
    fake.clear_faults()
    create(fake, service("db", headless=True))
    create(fake, endpointslice("db-1", "db", ["10.1.0.1"]))
    wait_converged(fake, syncer, tmp_path / "r", timeout=10)


def test_token_file_rotation(tmp_path):
    with FakeApi(tmp_path / "fake", tls=True, token="t0", args=FAKE_ARGS) as fake:
        daemon_token = tmp_path / "daemon-token"
        daemon_token.write_text("t0\n")
        kc = fake.write_kubeconfig("kc-daemon", token_file=daemon_token)
        s = start_syncer(fake, tmp_path, "--token-refresh", "1s", kubeconfig=kc)
        try:
            fake.tokens(["t1"])             # both accepted while rotating
            daemon_token.write_text("t1\n")
            # The file is re-read at the first request once --token-refresh
            # (1 s) has passed since the last read: a sleep that only has to
            # be long enough, which load cannot make too short.
            time.sleep(1.5)
            fake.close_watches()            # make that request now
            wait_for(lambda: 'msg="token file changed; using the new token"' in s.log_text(),
                     15, what="the new token read")
            fake.set_token_file("t1")       # t0 is no longer accepted
            fake.clear_log()
            fake.close_watches()
            create(fake, service("rot"))
            wait_converged(fake, s, tmp_path / "r")
            assert [r for r in fake.requests() if r["code"] == 401] == []
        finally:
            assert s.stop() == 0


def with_server_name(path, name):
    config = json.loads(path.read_text())
    config["clusters"][0]["cluster"]["tls-server-name"] = name
    path.write_text(json.dumps(config))
    return path


def test_tls_server_name_is_the_name_checked(tmp_path):
    """tls-server-name is sent as SNI and checked in the certificate (the
    fake's names 127.0.0.1 and localhost, not wrong.example), while the
    connection still goes to the server's address."""
    with FakeApi(tmp_path / "fake", tls=True, token="t0", args=FAKE_ARGS) as fake:
        good = with_server_name(fake.write_kubeconfig("kc-good", token="t0"), "localhost")
        s = start_syncer(fake, tmp_path / "good", kubeconfig=good)
        try:
            wait_converged(fake, s, tmp_path / "r")
        finally:
            assert s.stop() == 0
        bad = with_server_name(fake.write_kubeconfig("kc-bad", token="t0"), "wrong.example")
        fake.clear_log()
        s = Syncer(tmp_path / "bad" / "kz", bad).start()
        try:
            wait_for(lambda: 'msg="list failed"' in s.log_text(), 15, what="a failed list")
            assert "wrong.example" in s.log_text() or "certificate" in s.log_text()
            assert s.http("/readyz")[0] != 200
            assert not [r for r in fake.requests() if r["path"].startswith("/api/v1/")]
        finally:
            s.stop()


def test_401_recovers_after_token_reread(tmp_path):
    with FakeApi(tmp_path / "fake", tls=True, token="t0", args=FAKE_ARGS) as fake:
        kc = fake.write_kubeconfig("kc-daemon", token_file=fake.token_file)
        s = start_syncer(fake, tmp_path, kubeconfig=kc)     # default refresh: 1m
        try:
            fake.set_token_file("t1")       # rotated under the daemon's feet
            fake.clear_log()
            fake.close_watches()
            create(fake, service("after401"))
            wait_converged(fake, s, tmp_path / "r", timeout=10)
            codes = [r["code"] for r in fake.requests() if r["path"].startswith("/api")]
            assert 1 <= codes.count(401) <= 6, codes
        finally:
            assert s.stop() == 0


def test_resource_versions_past_2_to_the_32(tmp_path):
    with FakeApi(tmp_path / "fake", args=FAKE_ARGS + ["--rv-start", "4294967290"]) as fake:
        fake.write_kubeconfig()
        s = start_syncer(fake, tmp_path)
        try:
            for i in range(10):
                create(fake, service(f"big{i}"))
            fake.close_watches()
            fake.api("DELETE", svc_path(name="big3"))
            wait_converged(fake, s, tmp_path / "r")
            assert fake.state()["rv"] > 2 ** 32
        finally:
            assert s.stop() == 0


def test_slices_with_nulls_and_before_their_service(fake, syncer, tmp_path):
    odd = endpointslice("odd-1", "odd", ["10.1.0.9"])
    odd["endpoints"][0]["conditions"] = {"ready": None}
    create(fake, odd)
    nulls = endpointslice("nul-1", "nul", [])
    nulls["endpoints"], nulls["ports"] = None, None
    create(fake, nulls)
    create(fake, service("odd", headless=True))
    create(fake, service("nul", headless=True))
    syncer.wait_answer("odd.default.svc.cluster.local", "A", ["10.1.0.9"])
    fake.api("DELETE", svc_path(name="odd"))        # service gone before its slice
    wait_converged(fake, syncer, tmp_path / "r")
    fake.api("DELETE", slice_path(name="odd-1"))
    wait_converged(fake, syncer, tmp_path / "r")


def test_startup_list_faults(fake, tmp_path):
    """An expired continue token restarts the list; a truncated list body, a
    proxy's HTML page and a 404 are retried; none of them is ever published
    half-done."""
    fake.seed([service(f"p{i:04d}") for i in range(1100)])
    fake.fault(action="status", code=410, match="/api/v1/services.*continue=", count=1)
    fake.fault(action="malformed", match="/api/v1/services\\?", watch=False, count=1)
    fake.fault(action="html", match="/api/v1/namespaces\\?", watch=False, count=1)
    fake.fault(action="status", code=404, match="endpointslices", watch=False, count=1)
    fake.clear_log()
    s = start_syncer(fake, tmp_path)
    try:
        wait_converged(fake, s, tmp_path / "r")
        lists = [r for r in lists_of(fake, "/api/v1/services")]
        firsts = [r for r in lists if "continue=" not in r["path"]]
        assert len(firsts) >= 3, [r["path"] for r in lists]      # malformed, 410: restarted
        m = s.metrics()
        assert m['kubezone_api_errors_total{resource="services",code="410"}'] == 1
        assert m['kubezone_api_errors_total{resource="services",code="malformed"}'] == 1
        assert m['kubezone_api_errors_total{resource="namespaces",code="not_json"}'] == 1
        assert m['kubezone_api_errors_total{resource="endpointslices",code="404"}'] == 1
    finally:
        assert s.stop() == 0


def test_list_whose_continue_tokens_keep_expiring_ends(fake, tmp_path):
    """Every continue token expires (410): the list restarts a bounded
    number of times, then backs off and lists without paging."""
    fake.seed([service(f"c{i:03d}") for i in range(30)])
    fake.fault(action="status", code=410, match="/api/v1/services.*continue=", count=0)
    fake.clear_log()
    s = start_syncer(fake, tmp_path, "--page-size", "5")
    try:
        wait_converged(fake, s, tmp_path / "r")
        lists = [r["path"] for r in lists_of(fake, "/api/v1/services")]
        gone = [p for p in lists if "continue=" in p]
        assert 1 <= len(gone) <= 4, lists          # 3 restarts, then no paging
        assert any("limit=" not in p for p in lists), lists
        assert 'msg="list keeps expiring; listing without paging"' in s.log_text()
        assert s.metric('kubezone_api_errors_total{resource="services",code="410"}') == len(gone)
    finally:
        assert s.stop() == 0


def test_periodic_relist_heals_a_resource_version_regression(fake, tmp_path):
    """After an etcd restore the server's RVs go back: a watch from the
    daemon's (now future) RV is accepted but silent. The periodic relist
    brings the zones back in line."""
    for i in range(30):
        create(fake, service(f"r{i}"))
    s = start_syncer(fake, tmp_path, "--relist-interval", "3s")
    try:
        fake.set_rv(5)                  # back in time; history dropped
        fake.close_watches()
        create(fake, service("after-restore"))
        fake.api("DELETE", svc_path(name="r0"))
        wait_converged(fake, s, tmp_path / "r", timeout=15)
        assert s.metric('kubezone_relists_total{resource="services",reason="periodic"}') >= 1
    finally:
        assert s.stop() == 0
