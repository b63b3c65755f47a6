/*
 * tests/unit/test_k8s.c -- syncer/k8s without a network: request URLs,
 * paginated lists with mark-and-sweep, watch events across chunks,
 * ERROR/410, malformed and oversized events, back-off, option rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "syncer/k8s.h"

struct fixture {
	struct sy_kubeconfig kc;
	struct zg_model model;
	struct sy_metrics *metrics;
	struct sy_k8s k;
	int changes;
};

static void
on_change(void *ctx)
{
	((struct fixture *)ctx)->changes++;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sy_k8s_opts o;

	kz_log_set_level(KZ_LOG_OFF);
	sy_kubeconfig_init(&f->kc);
	f->kc.server = strdup("http://127.0.0.1:1");
	zg_model_init(&f->model);
	f->metrics = sy_metrics_new();
	sy_k8s_opts_init(&o);
	o.pods = true;
	o.max_event = 1024;
	assert_int_equal(sy_k8s_init(&f->k, &o, &f->kc, &f->model, NULL,
	    f->metrics, on_change, f), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	sy_k8s_free(&f->k);
	sy_metrics_free(f->metrics);
	zg_model_free(&f->model);
	sy_kubeconfig_free(&f->kc);
	free(f);
	return 0;
}

static struct sy_reflector *
reflector(struct fixture *f, enum zg_kind kind)
{
	for (size_t i = 0; i < f->k.nrf; i++)
		if (f->k.rf[i].kind == kind)
			return &f->k.rf[i];
	fail();
	return NULL;
}

#define SVC(ns, name, ip) \
	"{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\"," \
	"\"resourceVersion\":\"7\"},\"spec\":{\"type\":\"ClusterIP\"," \
	"\"clusterIP\":\"" ip "\",\"clusterIPs\":[\"" ip "\"],\"ports\":" \
	"[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}"

static void
test_urls(void **state)
{
	struct fixture *f = *state;
	struct sy_reflector *r = reflector(f, ZG_KIND_SERVICE);
	struct sy_reflector *p = reflector(f, ZG_KIND_POD);
	char *u;
	unsigned t;

	assert_int_equal(f->k.nrf, 4);
	u = sy_reflector_url(r, false, 0);
	assert_string_equal(u, "http://127.0.0.1:1/api/v1/services?limit=500");
	free(u);
	r->cont = strdup("a b/c=");
	u = sy_reflector_url(r, false, 0);
	assert_string_equal(u, "http://127.0.0.1:1/api/v1/services?limit=500"
	    "&continue=a%20b%2Fc%3D");
	free(u);
	free(r->cont);
	r->cont = NULL;
	snprintf(r->rv, sizeof(r->rv), "4294967301");
	for (int i = 0; i < 50; i++) {
		u = sy_reflector_url(r, true, 0);
		assert_int_equal(sscanf(u, "http://127.0.0.1:1/api/v1/services?"
		    "watch=1&resourceVersion=4294967301&allowWatchBookmarks="
		    "true&timeoutSeconds=%u", &t), 1);
		assert_true(t >= 300 && t < 600);
		free(u);
	}
	u = sy_reflector_url(p, false, 0);
	assert_string_equal(u, "http://127.0.0.1:1/api/v1/pods?fieldSelector="
	    "status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed%2C"
	    "status.phase%21%3DUnknown&limit=500");
	free(u);
	u = sy_reflector_url(reflector(f, ZG_KIND_SLICE), false, 0);
	assert_string_equal(u, "http://127.0.0.1:1/apis/discovery.k8s.io/v1/"
	    "endpointslices?limit=500");
	free(u);
}

/*
 * ServiceImports (opts.imports): the reflector asks the group version's
 * discovery document first, then lists and watches the resource; its
 * list pages put ServiceImports into the model. Without opts.imports
 * there is no such reflector.
 */
static void
test_serviceimports_discovery(void **state)
{
	struct fixture *f = *state;
	struct sy_k8s k;
	struct sy_k8s_opts o;
	struct sy_reflector *r = NULL;
	static const char listed[] = "{\"kind\":\"APIResourceList\","
	    "\"groupVersion\":\"multicluster.x-k8s.io/v1alpha1\",\"resources\":"
	    "[{\"name\":\"serviceexports\"},{\"name\":\"serviceimports\","
	    "\"kind\":\"ServiceImport\",\"namespaced\":true}]}";
	static const char other[] = "{\"resources\":[{\"name\":"
	    "\"serviceexports\"}]}";
	static const char page[] = "{\"kind\":\"ServiceImportList\","
	    "\"metadata\":{\"resourceVersion\":\"12\"},\"items\":[{"
	    "\"metadata\":{\"namespace\":\"shop\",\"name\":\"web\"},"
	    "\"spec\":{\"type\":\"ClusterSetIP\",\"ips\":[\"10.42.0.1\"]}}]}";
	char *u;

	for (size_t i = 0; i < f->k.nrf; i++)
		assert_int_not_equal(f->k.rf[i].kind, ZG_KIND_IMPORT);
	sy_k8s_opts_init(&o);
	o.imports = true;
	assert_int_equal(sy_k8s_init(&k, &o, &f->kc, &f->model, NULL,
	    f->metrics, on_change, f), 0);
	assert_int_equal(k.nrf, 4);
	for (size_t i = 0; i < k.nrf; i++)
		if (k.rf[i].kind == ZG_KIND_IMPORT)
			r = &k.rf[i];
	assert_non_null(r);
	assert_true(r->discovering);
	u = sy_reflector_url(r, false, 0);
	assert_string_equal(u, "http://127.0.0.1:1/apis/multicluster.x-k8s.io/"
	    "v1alpha1");
	free(u);
	assert_int_equal(sy_reflector_discovery(r, listed, strlen(listed)), 1);
	assert_int_equal(sy_reflector_discovery(r, other, strlen(other)), 0);
	assert_int_equal(sy_reflector_discovery(r, "<html>", 6), KZ_EPARSE);
	assert_int_equal(sy_reflector_discovery(r, "{}", 2), KZ_EPARSE);
	r->discovering = false;
	u = sy_reflector_url(r, false, 0);
	assert_string_equal(u, "http://127.0.0.1:1/apis/multicluster.x-k8s.io/"
	    "v1alpha1/serviceimports?limit=500");
	free(u);
	sy_reflector_list_begin(r, "initial");
	assert_int_equal(sy_reflector_list_page(r, page, strlen(page)), 0);
	assert_int_equal(sy_reflector_list_end(r), 0);
	assert_int_equal(zg_model_count(&f->model, ZG_KIND_IMPORT), 1);
	assert_string_equal(r->rv, "12");
	sy_k8s_free(&k);
}

/* A relist puts every item and deletes what it did not see. */
static void
test_list_sweep(void **state)
{
	struct fixture *f = *state;
	struct sy_reflector *r = reflector(f, ZG_KIND_SERVICE);
	const char *page1 = "{\"kind\":\"ServiceList\",\"metadata\":"
	    "{\"resourceVersion\":\"40\",\"continue\":\"tok\"},\"items\":["
	    SVC("a", "one", "10.0.0.1") "," SVC("a", "two", "10.0.0.2") "]}";
	const char *page2 = "{\"kind\":\"ServiceList\",\"metadata\":"
	    "{\"resourceVersion\":\"40\"},\"items\":["
	    SVC("b", "four", "10.0.0.4") ","
	    "{\"metadata\":{\"namespace\":\"b\",\"name\":\"bad\"},"
	    "\"spec\":{\"clusterIP\":\"not-an-ip\"}}]}";
	const char *empty = "{\"metadata\":{\"resourceVersion\":\"41\"},"
	    "\"items\":null}";
	struct zg_service *s;

	/* the model before: one, three and an old "bad" */
	for (int i = 0; i < 3; i++) {
		const char *names[] = { "a/one", "a/three", "b/bad" };
		char ns[2] = { names[i][0], 0 };
		s = zg_service_new(&f->model, ns, names[i] + 2);
		assert_non_null(s);
		assert_int_equal(zg_model_put_service(&f->model, s), 0);
	}
	sy_reflector_list_begin(r, "gone");
	assert_int_equal(sy_reflector_list_page(r, page1, strlen(page1)), 1);
	assert_string_equal(r->cont, "tok");
	assert_int_equal(sy_reflector_list_page(r, page2, strlen(page2)), 0);
	assert_null(r->cont);
	assert_int_equal(sy_reflector_list_end(r), 0);
	assert_int_equal(zg_model_count(&f->model, ZG_KIND_SERVICE), 3);
	assert_non_null(zg_model_service(&f->model, "a/one"));
	assert_non_null(zg_model_service(&f->model, "a/two"));
	assert_non_null(zg_model_service(&f->model, "b/four"));
	assert_null(zg_model_service(&f->model, "a/three"));
	assert_null(zg_model_service(&f->model, "b/bad"));	/* invalid now */
	assert_string_equal(r->rv, "40");
	assert_true(f->changes > 0);
	assert_true(sy_metric_value(f->k.m_skipped,
	    (const char *[]){ "services", "invalid" }) == 1);

	/* an empty list (items null) removes everything */
	sy_reflector_list_begin(r, "periodic");
	assert_int_equal(sy_reflector_list_page(r, empty, strlen(empty)), 0);
	assert_int_equal(sy_reflector_list_end(r), 0);
	assert_int_equal(zg_model_count(&f->model, ZG_KIND_SERVICE), 0);
	assert_string_equal(r->rv, "41");

	assert_true(sy_metric_value(f->k.m_skipped,
	    (const char *[]){ "services", "invalid" }) == 1);

	/* garbage is an error, not a crash */
	sy_reflector_list_begin(r, "x");
	assert_int_equal(sy_reflector_list_page(r, "{\"items\":[", 10),
	    KZ_EPARSE);
	assert_int_equal(sy_reflector_list_page(r, "[]", 2), KZ_EPARSE);
	assert_int_equal(sy_reflector_list_page(r, "{\"items\":{}}", 12),
	    KZ_EPARSE);
	assert_int_equal(sy_reflector_list_page(r, "{\"items\":[]} {}", 15),
	    KZ_EPARSE);
	assert_int_equal(sy_reflector_list_page(r, "", 0), KZ_EPARSE);
	sy_reflector_list_begin(r, "x");
}

/* The page is streamed: its metadata may come after its items. */
static void
test_list_metadata_last(void **state)
{
	struct fixture *f = *state;
	struct sy_reflector *r = reflector(f, ZG_KIND_SERVICE);
	const char *page = "{\"items\":[" SVC("a", "one", "10.0.0.1") "],"
	    "\"kind\":\"ServiceList\",\"metadata\":{\"continue\":\"next\","
	    "\"resourceVersion\":\"77\"}}";

	sy_reflector_list_begin(r, "initial");
	assert_int_equal(sy_reflector_list_page(r, page, strlen(page)), 1);
	assert_string_equal(r->cont, "next");
	assert_non_null(zg_model_service(&f->model, "a/one"));
	free(r->cont);
	r->cont = NULL;
	assert_int_equal(sy_reflector_list_end(r), 0);
	assert_string_equal(r->rv, "77");
}

/*
 * An event larger than the region jansson's allocations come from
 * during one event: what does not fit comes from malloc and goes back
 * to free, and the next event starts from an empty region.
 */
static void
test_watch_event_beyond_region(void **state)
{
	struct fixture *f = *state;
	struct sy_reflector *r = reflector(f, ZG_KIND_SERVICE);
	const size_t big = 600 * 1024;
	struct kz_buf b;

	r->state = SY_RF_WATCHING;
	r->framer.max_line = 2 * big;
	kz_buf_init(&b, 4 * big);
	for (int round = 0; round < 3; round++) {
		kz_buf_reset(&b);
		assert_int_equal(kz_buf_printf(&b, "{\"type\":\"ADDED\","
		    "\"object\":{\"metadata\":{\"namespace\":\"a\",\"name\":"
		    "\"big%d\",\"annotations\":{\"a\":\"", round), 0);
		for (size_t i = 0; i < big / 64; i++)
			assert_int_equal(kz_buf_printf(&b, "%s", "0123456789"
			    "012345678901234567890123456789012345678901234567890"
			    "12"), 0);
		assert_int_equal(kz_buf_printf(&b, "\"}},\"spec\":{\"type\":"
		    "\"ClusterIP\",\"clusterIP\":\"10.0.1.%d\"}}}\n"
		    "{\"type\":\"ADDED\",\"object\":" SVC("a", "small",
		    "10.0.0.7") "}\n", round + 1), 0);
		assert_int_equal(sy_reflector_watch_bytes(r, b.data, b.len), 0);
	}
	kz_buf_free(&b);
	assert_non_null(zg_model_service(&f->model, "a/big0"));
	assert_non_null(zg_model_service(&f->model, "a/big2"));
	assert_non_null(zg_model_service(&f->model, "a/small"));
	assert_int_equal(f->k.events, 6);
	assert_true(f->k.events_cpu_ns > 0);
}

static void
test_watch_events(void **state)
{
	struct fixture *f = *state;
	struct sy_reflector *r = reflector(f, ZG_KIND_SERVICE);
	struct sy_reflector *ns = reflector(f, ZG_KIND_NAMESPACE);
	char stream[4096];
	size_t n;

	r->state = SY_RF_WATCHING;
	n = (size_t)snprintf(stream, sizeof(stream),
	    "{\"type\":\"ADDED\",\"object\":" SVC("a", "web", "10.0.0.9") "}\n"
	    "{\"type\":\"ADDED\",\"object\":" SVC("a", "db", "10.0.0.8") "}\n"
	    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"namespace\":"
	    "\"a\",\"name\":\"db\",\"resourceVersion\":\"52\"}}}\n"
	    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Service\","
	    "\"metadata\":{\"resourceVersion\":\"60\"}}}\n");
	/* fed in odd pieces */
	for (size_t i = 0; i < n; i += 7)
		assert_int_equal(sy_reflector_watch_bytes(r, stream + i,
		    n - i < 7 ? n - i : 7), 0);
	assert_non_null(zg_model_service(&f->model, "a/web"));
	assert_null(zg_model_service(&f->model, "a/db"));
	assert_string_equal(r->rv, "60");
	assert_int_equal(r->watch_events, 4);
	assert_true(sy_metric_value(f->k.m_events,
	    (const char *[]){ "services", "ADDED" }) == 2);
	assert_true(sy_metric_value(f->k.m_events,
	    (const char *[]){ "services", "BOOKMARK" }) == 1);

	/* MODIFIED into something unusable removes the old object */
	n = (size_t)snprintf(stream, sizeof(stream), "{\"type\":\"MODIFIED\","
	    "\"object\":{\"metadata\":{\"namespace\":\"a\",\"name\":\"web\","
	    "\"resourceVersion\":\"61\"},\"spec\":{\"clusterIP\":\"x\"}}}\n");
	assert_int_equal(sy_reflector_watch_bytes(r, stream, n), 0);
	assert_null(zg_model_service(&f->model, "a/web"));
	assert_string_equal(r->rv, "61");

	/* malformed: skipped, counted, the RV stays at the last good one */
	assert_int_equal(sy_reflector_watch_bytes(r, "{\"type\":\"ADD\n", 13),
	    SY_ABORT_MALFORMED);
	assert_string_equal(r->rv, "61");
	assert_true(sy_metric_value(f->k.m_skipped,
	    (const char *[]){ "services", "malformed" }) == 1);

	/* oversized (limit 1024 here) */
	sy_framer_reset(&r->framer);
	memset(stream, 'x', 2000);
	stream[2000] = '\n';
	assert_int_equal(sy_reflector_watch_bytes(r, stream, 2001),
	    SY_ABORT_OVERSIZED);
	assert_true(sy_metric_value(f->k.m_skipped,
	    (const char *[]){ "services", "oversized" }) == 1);

	/* ERROR 410 asks for a relist; other errors end the watch */
	n = (size_t)snprintf(stream, sizeof(stream), "{\"type\":\"ERROR\","
	    "\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":"
	    "\"Expired\",\"message\":\"too old resource version: 3 (13)\"}}\n");
	assert_int_equal(sy_reflector_watch_bytes(r, stream, n), SY_ABORT_GONE);
	n = (size_t)snprintf(stream, sizeof(stream), "{\"type\":\"ERROR\","
	    "\"object\":{\"kind\":\"Status\",\"code\":500}}\n");
	assert_int_equal(sy_reflector_watch_bytes(r, stream, n),
	    SY_ABORT_ERROR_EVENT);
	assert_true(sy_metric_value(f->k.m_errors,
	    (const char *[]){ "services", "410" }) == 1);

	/* namespaces are keyed by name */
	ns->state = SY_RF_WATCHING;
	n = (size_t)snprintf(stream, sizeof(stream),
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"shop\","
	    "\"resourceVersion\":\"70\"}}}\n");
	assert_int_equal(sy_reflector_watch_bytes(ns, stream, n), 0);
	assert_true(zg_model_has_namespace(&f->model, "shop"));
	n = (size_t)snprintf(stream, sizeof(stream),
	    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"shop\","
	    "\"resourceVersion\":\"71\"}}}\n");
	assert_int_equal(sy_reflector_watch_bytes(ns, stream, n), 0);
	assert_false(zg_model_has_namespace(&f->model, "shop"));
	assert_string_equal(ns->rv, "71");
}

/* Silence is only counted while the loop could have read something. */
static void
test_idle_watchdog(void **state)
{
	struct fixture *f = *state;
	struct sy_reflector *r = reflector(f, ZG_KIND_SERVICE);
	const char *idle[] = { "services", "idle" };
	uint64_t t = 1000000;

	f->k.opts.idle_timeout_ms = 5000;
	for (size_t i = 0; i < f->k.nrf; i++) {
		f->k.rf[i].state = SY_RF_IDLE;
		f->k.rf[i].next_ms = UINT64_MAX;
	}
	r->state = SY_RF_WATCHING;
	r->last_byte_ms = t;
	sy_k8s_tick(&f->k, t);
	sy_k8s_tick(&f->k, t + 10000);	/* one 10 s iteration: a busy loop */
	assert_int_equal(r->state, SY_RF_WATCHING);
	assert_true(sy_metric_value(f->k.m_errors, idle) == 0);
	for (uint64_t s2 = 1; s2 <= 6; s2++)	/* then 6 s of ticks, no data */
		sy_k8s_tick(&f->k, t + 10000 + s2 * 1000);
	assert_true(sy_metric_value(f->k.m_errors, idle) == 1);
}

static void
test_backoff(void **state)
{
	struct sy_backoff b;
	uint64_t t = 1000000;

	(void)state;
	sy_backoff_init(&b, 800, 30000);
	assert_int_equal(sy_backoff_next(&b, t, 0), 800);
	assert_int_equal(sy_backoff_next(&b, t, 0), 1600);
	assert_int_equal(sy_backoff_next(&b, t, 0.5), 4800);	/* 3200 * 1.5 */
	assert_int_equal(sy_backoff_next(&b, t, 0), 6400);
	assert_int_equal(sy_backoff_next(&b, t, 0), 12800);
	assert_int_equal(sy_backoff_next(&b, t, 0.99), 30000);	/* capped */
	assert_int_equal(sy_backoff_next(&b, t, 0), 30000);
	assert_int_equal(sy_backoff_next(&b, t, 0), 30000);
	/* two minutes without failures: back to the start */
	assert_int_equal(sy_backoff_next(&b, t + 120000, 0), 800);
	sy_backoff_reset(&b);
	assert_int_equal(sy_backoff_next(&b, t + 120001, 0), 800);
}

static void
test_options(void **state)
{
	struct sy_k8s_opts o;
	struct kz_opt_table t = { "api", sy_k8s_opt_table, &o };
	char a[][32] = { "sync", "--watch-timeout", "2s", "--idle-timeout=3s",
		"--relist-interval", "0", "--backoff-max", "1500ms",
		"--kubeconfig", "/k", "--context", "c", "--page-size", "7" };
	char b[][32] = { "sync", "--idle-timeout", "10" };
	char *argv[15], *bad[4];
	char *pos[16], err[256];
	size_t npos = 0;
	int help = 0;

	(void)state;
	for (size_t i = 0; i < 14; i++)
		argv[i] = a[i];
	for (size_t i = 0; i < 3; i++)
		bad[i] = b[i];
	argv[14] = bad[3] = NULL;
	sy_k8s_opts_init(&o);
	assert_int_equal(kz_opt_parse(14, argv, &t, 1, pos, &npos, &help, err,
	    sizeof(err)), 0);
	assert_int_equal(o.watch_timeout_ms, 2000);
	assert_int_equal(o.idle_timeout_ms, 3000);
	assert_int_equal(o.relist_ms, 0);
	assert_int_equal(o.backoff_max_ms, 1500);
	assert_string_equal(o.kubeconfig, "/k");
	assert_string_equal(o.context, "c");
	assert_int_equal(o.page_size, 7);
	assert_int_not_equal(kz_opt_parse(3, bad, &t, 1, pos, &npos, &help,
	    err, sizeof(err)), 0);
	assert_non_null(strstr(err, "duration"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serviceimports_discovery,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_metadata_last, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watch_event_beyond_region,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sweep, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watch_events, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle_watchdog, setup,
		    teardown),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
