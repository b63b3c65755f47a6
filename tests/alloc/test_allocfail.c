/*
 * tests/alloc/test_allocfail.c -- kubezone when an allocation fails.
 *
 * For N = 1, 2, ... the Nth allocation of an operation fails (once),
 * until an operation completes without reaching N. Each time the
 * operation must fail cleanly: an error code (never a crash, and no
 * leak: the ASan build's LeakSanitizer checks at exit), and what was
 * there before stays intact:
 *
 *   render        KZ_ENOMEM; the model renders the same zones again
 *   decode        KZ_ENOMEM; the objects kept render without trouble
 *   watch event   SY_ABORT_NOMEM (or a malformed-event abort when the
 *                 line itself cannot be parsed); the resourceVersion
 *                 does not move, so the re-watch replays the event, and
 *                 the model is exactly as before it; replaying the
 *                 event then gives the model a clean run gives
 *   zone database KZ_ENOMEM from zg_db_load, from zg_db_apply over a
 *                 whole change log (a first load) and over a batch of
 *                 changes with diffs; that database is only freed (it
 *                 is unusable, as documented), and a fresh zg_db_load
 *                 of the same model equals zg_render
 *   exec kubeconfig KZ_ENOMEM (or a parse error, when libyaml's or
 *                 jansson's own allocation fails) from loading a
 *                 kubeconfig with an exec plugin; an ExecCredential
 *                 parse gives KZ_ENOMEM and holds nothing
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/execcred.h"
#include "syncer/k8s.h"
#include "syncer/kubeconfig.h"
#include "syncer/metrics.h"
#include "tests/alloc/failmalloc.h"
#include "zonegen/decode.h"
#include "zonegen/model.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define INPUT "tests/golden/small-cluster/input.json"
#define MAX_N 200000

/* Fail the test, with the stack of the failed allocation on stderr. */
#define FAIL(...) do {							\
	fm_dump();							\
	fail_msg(__VA_ARGS__);						\
} while (0)

static char *input;
static size_t input_len;

static int
load_input(void **state)
{
	FILE *f = fopen(INPUT, "rb");
	long n;

	(void)state;
	kz_log_set_level(KZ_LOG_OFF);
	fm_init();
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	input = malloc((size_t)n + 1);
	assert_non_null(input);
	assert_int_equal(fread(input, 1, (size_t)n, f), (size_t)n);
	input[n] = '\0';
	input_len = (size_t)n;
	fclose(f);
	return 0;
}

static int
free_input(void **state)
{
	(void)state;
	free(input);
	return 0;
}

static void
render_opts(struct zg_render_opts *o)
{
	zg_render_opts_init(o);
	o->pod_records = true;
}

/* Hash of every zone of ZS. */
static uint64_t
zs_digest(const struct zg_zoneset *zs)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < zs->nzones; i++)
		h = (h ^ zs->zones[i].hash ^ zs->zones[i].nrecords) *
		    1099511628211ULL;
	return h;
}

/* Hash of every zone of M: a summary of what M renders to. */
static uint64_t
model_digest(const struct zg_model *m)
{
	struct zg_render_opts o;
	struct zg_zoneset zs;
	uint64_t h;

	render_opts(&o);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(zg_render(m, &o, &zs), 0);
	h = zs_digest(&zs);
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		h = (h ^ zg_model_count(m, (enum zg_kind)k)) *
		    1099511628211ULL;
	zg_zoneset_free(&zs);
	zg_render_opts_free(&o);
	return h;
}

static void
decode_all(struct zg_model *m)
{
	zg_model_init(m);
	assert_int_equal(zg_decode_buffer(m, input, input_len, INPUT, NULL,
	    NULL), 0);
}

/* --- render ------------------------------------------------------- */

static void
test_render(void **state)
{
	struct zg_render_opts o;
	struct zg_zoneset zs;
	struct zg_model m;
	uint64_t want, want_zs, got;
	unsigned long n;
	int rc;

	(void)state;
	decode_all(&m);
	want = model_digest(&m);
	render_opts(&o);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(zg_render(&m, &o, &zs), 0);
	want_zs = zs_digest(&zs);
	zg_zoneset_free(&zs);
	for (n = 1; n < MAX_N; n++) {
		memset(&zs, 0, sizeof(zs));
		fm_arm(n);
		rc = zg_render(&m, &o, &zs);
		fm_disarm();
		got = zs_digest(&zs);
		zg_zoneset_free(&zs);
		if (!fm_tripped()) {
			assert_int_equal(rc, 0);
			break;
		}
		/* A failure may be absorbed, but never change the zones. */
		if (rc != KZ_ENOMEM && (rc != 0 || got != want_zs))
			FAIL("allocation %lu failed: render "
			    "returned %d", n, rc);
		assert_true(model_digest(&m) == want);
	}
	print_message("render: %lu allocations failed in turn\n", n - 1);
	assert_true(n > 10);
	zg_render_opts_free(&o);
	zg_model_free(&m);
}

/* --- decode ------------------------------------------------------- */

/*
 * STATE points to a bool: whether jansson's allocations fail too. Those
 * are held to less: jansson 2.14 drops characters of a token when
 * growing its token buffer fails, so a parse may "succeed" with altered
 * text (see docs/reliability.md); the decode must still end cleanly.
 */
static void
test_decode(void **state)
{
	bool json = *(bool *)*state;
	struct zg_decode_error err;
	struct zg_model m;
	unsigned long n;
	int rc;

	fm_scope(json);
	for (n = 1; n < MAX_N; n++) {
		zg_model_init(&m);
		memset(&err, 0, sizeof(err));
		fm_arm(n);
		rc = zg_decode_buffer(&m, input, input_len, INPUT, NULL, &err);
		fm_disarm();
		if (!fm_tripped()) {
			assert_int_equal(rc, 0);
			zg_model_free(&m);
			break;
		}
		if (rc != KZ_ENOMEM && !(json && (rc == 0 ||
		    rc == KZ_EPARSE)))
			FAIL("allocation %lu failed: decode "
			    "returned %d (%s)", n, rc, err.text);
		(void)model_digest(&m);	/* what was kept is usable */
		zg_model_free(&m);
	}
	fm_scope(false);
	print_message("decode%s: %lu allocations failed in turn\n",
	    json ? " (jansson too)" : "", n - 1);
	assert_true(n > 10);
}

/* --- watch events ------------------------------------------------- */

struct watch {
	struct sy_kubeconfig kc;
	struct sy_metrics *metrics;
	struct zg_model m;
	struct sy_k8s k;
	struct sy_reflector *r;
};

static char server[] = "http://127.0.0.1:1";

static void
nothing(void *ctx)
{
	(void)ctx;
}

/* A reflector for KIND whose model holds the whole input, at RV 100. */
static void
watch_init(struct watch *w, enum zg_kind kind)
{
	struct sy_k8s_opts o;

	memset(w, 0, sizeof(*w));
	sy_kubeconfig_init(&w->kc);
	w->kc.server = server;
	decode_all(&w->m);
	w->metrics = sy_metrics_new();
	assert_non_null(w->metrics);
	sy_k8s_opts_init(&o);
	o.pods = true;
	assert_int_equal(sy_k8s_init(&w->k, &o, &w->kc, &w->m, NULL,
	    w->metrics, nothing, NULL), 0);
	for (size_t i = 0; i < w->k.nrf; i++)
		if (w->k.rf[i].kind == kind)
			w->r = &w->k.rf[i];
	assert_non_null(w->r);
	snprintf(w->r->rv, sizeof(w->r->rv), "100");
}

static void
watch_free(struct watch *w)
{
	sy_k8s_free(&w->k);
	sy_metrics_free(w->metrics);
	zg_model_free(&w->m);
	w->kc.server = NULL;
	sy_kubeconfig_free(&w->kc);
}

static const struct {
	enum zg_kind kind;
	const char *line;
} events[] = {
	{ ZG_KIND_SERVICE,
	  "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Service\",\"apiVersion\":"
	  "\"v1\",\"metadata\":{\"name\":\"fresh\",\"namespace\":\"shop\","
	  "\"resourceVersion\":\"101\",\"labels\":{\"app\":\"fresh\"}},"
	  "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"10.96.7.7\","
	  "\"clusterIPs\":[\"10.96.7.7\",\"fd00:96::7\"],\"ports\":[{\"name\":"
	  "\"http\",\"port\":80,\"protocol\":\"TCP\"},{\"name\":\"dns\","
	  "\"port\":53,\"protocol\":\"UDP\"}]}}}\n" },
	{ ZG_KIND_SLICE,
	  "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"EndpointSlice\","
	  "\"apiVersion\":\"discovery.k8s.io/v1\",\"metadata\":{\"name\":"
	  "\"web-7qxz2\",\"namespace\":\"shop\",\"resourceVersion\":\"101\","
	  "\"labels\":{\"kubernetes.io/service-name\":\"web\"}},"
	  "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\",\"port\":"
	  "8080,\"protocol\":\"TCP\"}],\"endpoints\":[{\"addresses\":"
	  "[\"10.244.9.1\"],\"hostname\":\"web-0\",\"conditions\":{\"ready\":"
	  "true},\"targetRef\":{\"kind\":\"Pod\",\"name\":\"web-0\"}},"
	  "{\"addresses\":[\"10.244.9.2\"],\"conditions\":{\"ready\":false}}"
	  "]}}\n" },
	{ ZG_KIND_POD,
	  "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":"
	  "\"v1\",\"metadata\":{\"name\":\"p1\",\"namespace\":\"shop\","
	  "\"resourceVersion\":\"101\"},\"status\":{\"phase\":\"Running\","
	  "\"podIP\":\"10.244.9.9\",\"podIPs\":[{\"ip\":\"10.244.9.9\"}]}}}\n" },
	{ ZG_KIND_NAMESPACE,
	  "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"apiVersion\":"
	  "\"v1\",\"metadata\":{\"name\":\"brand-new\",\"resourceVersion\":"
	  "\"101\"}}}\n" },
	{ ZG_KIND_SERVICE,
	  "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Service\",\"apiVersion\":"
	  "\"v1\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
	  "\"resourceVersion\":\"101\"},\"spec\":{\"clusterIP\":\"10.96.1.1\"}}}"
	  "\n" },
};

static void
test_watch_event(void **state)
{
	bool json = *(bool *)*state;
	unsigned long total = 0;

	for (size_t e = 0; e < sizeof(events) / sizeof(events[0]); e++) {
		const char *line = events[e].line;
		struct watch w;
		uint64_t before, after;
		unsigned long n;
		int rc;

		/* the clean run: what the event does */
		watch_init(&w, events[e].kind);
		before = model_digest(&w.m);
		assert_int_equal(sy_reflector_watch_bytes(w.r, line,
		    strlen(line)), 0);
		assert_string_equal(w.r->rv, "101");
		after = model_digest(&w.m);
		if (after == before)
			fail_msg("event %zu changes nothing", e);
		watch_free(&w);

		for (n = 1; n < MAX_N; n++) {
			watch_init(&w, events[e].kind);
			fm_scope(json);
			fm_arm(n);
			rc = sy_reflector_watch_bytes(w.r, line, strlen(line));
			fm_disarm();
			fm_scope(false);
			if (!fm_tripped()) {
				assert_int_equal(rc, 0);
				watch_free(&w);
				break;
			}
			if (rc == 0 && json) {
				/* jansson may have altered the text */
			} else if (rc == 0) {
				/* only a metric update may be lost */
				if (strcmp(w.r->rv, "101") != 0 ||
				    model_digest(&w.m) != after)
					FAIL("event %zu, allocation %lu "
					    "failed: event taken "
					    "but not applied (rv %s)", e, n,
					    w.r->rv);
			} else {
				if (rc != SY_ABORT_NOMEM &&
				    rc != SY_ABORT_MALFORMED)
					FAIL("event %zu, allocation %lu "
					    "failed: abort %d", e, n,
					    rc);
				assert_string_equal(w.r->rv, "100");
				if (model_digest(&w.m) != before)
					FAIL("event %zu, allocation %lu "
					    "failed: the model "
					    "changed", e, n);
				/* the re-watch replays the event */
				sy_framer_reset(&w.r->framer);
				assert_int_equal(sy_reflector_watch_bytes(w.r,
				    line, strlen(line)), 0);
				assert_true(model_digest(&w.m) == after);
			}
			watch_free(&w);
		}
		total += n - 1;
	}
	print_message("watch events%s: %lu allocations failed in turn\n",
	    json ? " (jansson too)" : "", total);
	assert_true(total > 10);
}

/* --- the zone database -------------------------------------------- */

static void
db_opts(struct zg_render_opts *o)
{
	render_opts(o);
	assert_int_equal(zg_cidr_parse(&o->reverse[o->nreverse++],
	    "10.0.0.0/8"), 0);
	assert_int_equal(zg_cidr_parse(&o->reverse[o->nreverse++],
	    "fd00::/8"), 0);
}

/* Zone for zone, the same text: 0 when A and B are equal. */
static int
zs_cmp(const struct zg_zoneset *a, const struct zg_zoneset *b)
{
	if (a->nzones != b->nzones)
		return -1;
	for (size_t i = 0; i < a->nzones; i++) {
		const struct zg_zone *x = &a->zones[i], *y = &b->zones[i];

		if (strcmp(x->origin, y->origin) != 0 ||
		    x->nrecords != y->nrecords || x->hash != y->hash ||
		    x->body.len != y->body.len || (x->body.len &&
		    memcmp(x->body.data, y->body.data, x->body.len) != 0))
			return -1;
	}
	return 0;
}

/* DB holds exactly what zg_render() gives for M. */
static bool
db_equals_render(const struct zg_db *db, const struct zg_model *m,
    const struct zg_render_opts *o)
{
	struct zg_zoneset want, got;
	bool eq;

	memset(&got, 0, sizeof(got));
	assert_int_equal(zg_render(m, o, &want), 0);
	assert_int_equal(zg_db_zoneset(db, &got), 0);
	eq = zs_cmp(&want, &got) == 0;
	zg_zoneset_free(&want);
	zg_zoneset_free(&got);
	return eq;
}

static void
put_service(struct zg_model *m)
{
	struct zg_service *s = zg_service_new(m, "shop", "fresh");

	assert_non_null(s);
	s->nips = 2;
	assert_int_equal(zg_ip_parse(&s->ips[0], "10.96.7.7"), 0);
	assert_int_equal(zg_ip_parse(&s->ips[1], "fd00:96::7"), 0);
	s->ports = calloc(2, sizeof(*s->ports));
	assert_non_null(s->ports);
	s->nports = 2;
	s->ports[0].name = strdup("http");
	s->ports[0].port = 80;
	s->ports[1].name = strdup("dns");
	s->ports[1].port = 53;
	s->ports[1].proto = ZG_UDP;
	assert_true(s->ports[0].name && s->ports[1].name);
	assert_int_equal(zg_model_put_service(m, s), 0);
}

/* A batch of changes of every kind to the golden cluster. */
static void
change(struct zg_model *m)
{
	struct zg_pod *p;

	assert_int_equal(zg_model_del(m, ZG_KIND_SERVICE, "shop", "web"), 1);
	assert_int_equal(zg_model_del(m, ZG_KIND_NAMESPACE, NULL, "data"), 1);
	assert_int_equal(zg_model_put_namespace(m, "brand-new"), 0);
	put_service(m);
	p = zg_pod_new(m, "shop", "p1");
	assert_non_null(p);
	p->active = true;
	p->nips = 1;
	assert_int_equal(zg_ip_parse(&p->ips[0], "10.244.9.9"), 0);
	assert_int_equal(zg_model_put_pod(m, p), 0);
}

/* What test_db_apply fails allocations in. */
enum db_step {
	DB_LOAD,	/* zg_db_load of the whole model into a fresh database */
	DB_FIRST,	/* zg_db_apply without diffs: the whole change log */
	DB_CHANGES	/* zg_db_apply with diffs: a batch after the load */
};

static const char *const db_step_names[] = { "zg_db_load",
    "first apply", "changes" };

/* The golden cluster in M, every object in its change log. */
static void
decode_tracked(struct zg_model *m)
{
	zg_model_init(m);
	zg_model_track(m, true);
	assert_int_equal(zg_decode_buffer(m, input, input_len, INPUT, NULL,
	    NULL), 0);
}

/* Run STEP on DB and M (whatever is before it runs unarmed). */
static long
db_step(enum db_step step, struct zg_db *db, struct zg_model *m, bool armed,
    unsigned long n)
{
	long rc;

	if (step == DB_CHANGES) {
		assert_true(zg_db_apply(db, m, false) > 0);
		change(m);
	}
	if (armed)
		fm_arm(n);
	if (step == DB_LOAD)
		rc = zg_db_load(db, m);
	else
		rc = zg_db_apply(db, m, step == DB_CHANGES);
	fm_disarm();
	return rc;
}

/*
 * STATE points to an enum db_step. The step must give KZ_ENOMEM (or
 * absorb the failure and still be right); the database is then only
 * freed, and a fresh one loaded from the same model must equal a
 * render.
 */
static void
test_db_apply(void **state)
{
	enum db_step step = *(enum db_step *)*state;
	struct zg_render_opts o;
	unsigned long n;

	db_opts(&o);
	for (n = 1; n < MAX_N; n++) {
		struct zg_model m;
		struct zg_db db, fresh;
		long rc;

		decode_tracked(&m);
		assert_int_equal(zg_db_init(&db, &o), 0);
		rc = db_step(step, &db, &m, true, n);
		if (!fm_tripped()) {
			assert_true(rc >= 0);
			if (!db_equals_render(&db, &m, &o))
				fail_msg("%s: the database differs from a "
				    "render", db_step_names[step]);
			zg_db_free(&db);
			zg_model_free(&m);
			break;
		}
		if (rc != KZ_ENOMEM && (rc < 0 ||
		    !db_equals_render(&db, &m, &o)))
			FAIL("%s: allocation %lu failed: returned %ld",
			    db_step_names[step], n, rc);
		zg_db_free(&db);
		/* The caller rebuilds: a fresh load equals a render. */
		assert_int_equal(zg_db_init(&fresh, &o), 0);
		assert_int_equal(zg_db_load(&fresh, &m), 0);
		if (!db_equals_render(&fresh, &m, &o))
			FAIL("%s: allocation %lu failed: a fresh load "
			    "differs from a render", db_step_names[step], n);
		zg_db_free(&fresh);
		zg_model_free(&m);
	}
	print_message("zone database (%s): %lu allocations failed in "
	    "turn\n", db_step_names[step], n - 1);
	assert_true(n > 10);
	zg_render_opts_free(&o);
}

static bool own = false, with_json = true;
static enum db_step db_load = DB_LOAD, db_first = DB_FIRST,
    db_changes = DB_CHANGES;

/* --- exec credentials -------------------------------------------- */

static const char exec_kubeconfig[] =
    "current-context: c\n"
    "clusters: [{name: k, cluster: {server: 'https://x:1', "
    "certificate-authority-data: UEVN, tls-server-name: api}}]\n"
    "users:\n"
    "- name: u\n"
    "  user:\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1\n"
    "      command: bin/plugin\n"
    "      args: [get-token, --cluster, prod]\n"
    "      env: [{name: A, value: b}, {name: C, value: d}]\n"
    "      provideClusterInfo: true\n"
    "      installHint: install it\n"
    "contexts: [{name: c, context: {cluster: k, user: u}}]\n";

static const char exec_credential[] =
    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
    "\"ExecCredential\",\"status\":{\"clientCertificateData\":\"-----BEGIN "
    "CERTIFICATE-----\\nMIIB\\n\",\"clientKeyData\":\"-----BEGIN EC PRIVATE "
    "KEY-----\\nMHc\\n\",\"token\":\"t\",\"expirationTimestamp\":"
    "\"2030-01-01T00:00:00Z\"}}";

static void
test_exec(void **state)
{
	char path[] = "/tmp/kz-allocfail-XXXXXX", err[512];
	struct sy_kubeconfig kc;
	struct sy_ec_cred c;
	unsigned long n;
	int fd, rc;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, exec_kubeconfig, strlen(exec_kubeconfig)),
	    (ssize_t)strlen(exec_kubeconfig));
	close(fd);
	fm_scope(true);
	for (n = 1; n < MAX_N; n++) {
		sy_kubeconfig_init(&kc);
		fm_arm(n);
		rc = sy_kubeconfig_load(&kc, path, NULL, err, sizeof(err));
		fm_disarm();
		sy_kubeconfig_free(&kc);
		if (!fm_tripped()) {
			assert_int_equal(rc, 0);
			break;
		}
		if (rc == 0)
			FAIL("allocation %lu failed: kubeconfig loaded", n);
	}
	print_message("exec kubeconfig: %lu allocations failed in turn\n",
	    n - 1);
	assert_true(n > 10);
	for (n = 1; n < MAX_N; n++) {
		fm_arm(n);
		rc = sy_ec_parse(exec_credential, strlen(exec_credential),
		    SY_EC_API_V1, &c, err, sizeof(err));
		fm_disarm();
		if (!fm_tripped()) {
			assert_int_equal(rc, 0);
			sy_ec_cred_free(&c);
			break;
		}
		if (rc != KZ_ENOMEM && rc != KZ_EPARSE)
			FAIL("allocation %lu failed: parse returned %d", n, rc);
		if (rc != 0 && (c.token || c.cert || c.key))
			FAIL("allocation %lu failed: a credential was left", n);
		sy_ec_cred_free(&c);
	}
	print_message("ExecCredential: %lu allocations failed in turn\n",
	    n - 1);
	assert_true(n > 5);
	fm_scope(false);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test_prestate(test_decode, &own),
		cmocka_unit_test_prestate(test_decode, &with_json),
		cmocka_unit_test_prestate(test_watch_event, &own),
		cmocka_unit_test_prestate(test_watch_event, &with_json),
		cmocka_unit_test_prestate(test_db_apply, &db_load),
		cmocka_unit_test_prestate(test_db_apply, &db_first),
		cmocka_unit_test_prestate(test_db_apply, &db_changes),
		cmocka_unit_test(test_exec),
	};

	return cmocka_run_group_tests(tests, load_input, free_input);
}
