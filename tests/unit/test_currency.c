/*
 * tests/unit/test_currency.c -- syncer/currency: serial arithmetic, the
 * publication history, which Services a diff changed, and the changes
 * waiting for NSD; the slice's trigger time as the decoder keeps it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "syncer/currency.h"
#include "zonegen/decode.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

static void
test_behind_serials(void **state)
{
	(void)state;
	assert_int_equal(sy_cur_behind_serials(1, 3), 2);
	assert_int_equal(sy_cur_behind_serials(3, 3), 0);
	assert_int_equal(sy_cur_behind_serials(5, 3), 0);	/* ahead */
	/* RFC 1982: across the wrap of the 32-bit space */
	assert_int_equal(sy_cur_behind_serials(0xfffffffeU, 2), 4);
	assert_int_equal(sy_cur_behind_serials(2, 0xfffffffeU), 0);
	/* 2^31 apart: undefined, not behind */
	assert_int_equal(sy_cur_behind_serials(0, 0x80000000U), 0);
	assert_int_equal(sy_cur_behind_serials(0, 0x7fffffffU), 0x7fffffffU);
}

static void
test_behind_since(void **state)
{
	struct sy_cur_hist *h = calloc(1, sizeof(*h));

	(void)state;
	assert_true(sy_cur_behind_since(h, true, 10) == 0);	/* nothing yet */
	assert_true(sy_cur_behind_since(h, false, 0) == 0);
	sy_cur_published(h, 10, 100);
	sy_cur_published(h, 11, 105);
	sy_cur_published(h, 12, 110);
	assert_true(sy_cur_behind_since(h, true, 12) == 0);	/* current */
	assert_true(sy_cur_behind_since(h, true, 13) == 0);	/* ahead */
	assert_true(sy_cur_behind_since(h, true, 11) == 110);
	assert_true(sy_cur_behind_since(h, true, 10) == 105);
	assert_true(sy_cur_behind_since(h, true, 9) == 100);
	assert_true(sy_cur_behind_since(h, true, 3) == 100);	/* older */
	assert_true(sy_cur_behind_since(h, false, 0) == 100);	/* no copy */
	/* serials across the wrap */
	memset(h, 0, sizeof(*h));
	sy_cur_published(h, 0xffffffffU, 200);
	sy_cur_published(h, 0, 201);
	sy_cur_published(h, 1, 202);
	assert_true(sy_cur_behind_since(h, true, 0xfffffffeU) == 200);
	assert_true(sy_cur_behind_since(h, true, 0xffffffffU) == 201);
	assert_true(sy_cur_behind_since(h, true, 0) == 202);
	assert_true(sy_cur_behind_since(h, true, 1) == 0);
	/* past the history: the oldest remembered */
	memset(h, 0, sizeof(*h));
	for (uint32_t s = 1; s <= SY_CUR_HISTORY + 44; s++)
		sy_cur_published(h, s, 1000 + s);
	assert_int_equal(h->n, SY_CUR_HISTORY);
	assert_true(sy_cur_behind_since(h, true, 1) == 1000 + 45);
	assert_true(sy_cur_behind_since(h, true, 45) == 1000 + 46);
	assert_true(sy_cur_behind_since(h, true, SY_CUR_HISTORY + 43) ==
	    1000 + SY_CUR_HISTORY + 44);
	free(h);
}

/* TEXT ("a.b.") in wire form into W; its length. */
static size_t
wire(const char *text, uint8_t *w)
{
	size_t n = 0;

	while (*text) {
		const char *dot = strchr(text, '.');
		size_t l = (size_t)(dot - text);

		w[n++] = (uint8_t)l;
		memcpy(w + n, text, l);
		n += l;
		text = dot + 1;
	}
	w[n++] = 0;
	return n;
}

static void
check_service(const char *name, const char *want)
{
	uint8_t w[300];
	char key[300] = "";
	size_t n = wire(name, w);
	bool ok = sy_cur_service_of(w, n, "cluster.local.", key, sizeof(key));

	if (want == NULL) {
		assert_false(ok);
	} else {
		assert_true(ok);
		assert_string_equal(key, want);
	}
}

static void
test_service_of(void **state)
{
	uint8_t w[300];
	char key[8];

	(void)state;
	check_service("db.default.svc.cluster.local.", "default/db");
	check_service("a.db.default.svc.cluster.local.", "default/db");
	check_service("_http._tcp.web.ns1.svc.cluster.local.", "ns1/web");
	check_service("Web.NS1.svc.Cluster.Local.", "ns1/web");
	check_service("10-1-0-1.ns.pod.cluster.local.", NULL);
	check_service("x.svc.cluster.local.", NULL);
	check_service("svc.cluster.local.", NULL);
	check_service("cluster.local.", NULL);
	check_service("ns.dns.cluster.local.", NULL);
	check_service("db.default.svc.other.local.", NULL);
	check_service("db.default.svc.xcluster.local.", NULL);
	check_service("1.0.1.10.in-addr.arpa.", NULL);
	/* malformed wire names, a key that does not fit */
	assert_false(sy_cur_service_of((const uint8_t *)"\x05" "ab", 3,
	    "cluster.local.", key, sizeof(key)));
	assert_false(sy_cur_service_of(w, 0, "cluster.local.", key,
	    sizeof(key)));
	assert_false(sy_cur_service_of(w, wire("database.default.svc."
	    "cluster.local.", w), "cluster.local.", key, sizeof(key)));
}

static double got[8];
static size_t ngot;

static void
collect(void *ctx, double latency)
{
	(void)ctx;
	got[ngot++] = latency;
}

static void
test_wait_served(void **state)
{
	struct sy_cur_wait w;
	const size_t z01[] = { 0, 1 }, z1[] = { 1 };
	const uint32_t s01[] = { 5, 7 }, s1[] = { 2 };

	(void)state;
	ngot = 0;
	assert_int_equal(sy_cur_wait_init(&w, 2), 0);
	assert_int_equal(sy_cur_wait_add(&w, 100, z01, s01, 2), 0);
	assert_true(sy_cur_waiting(&w, 0) && sy_cur_waiting(&w, 1));
	/* one zone served is not enough */
	assert_int_equal(sy_cur_served(&w, 0, 5, 102, collect, NULL), 0);
	assert_int_equal(sy_cur_served(&w, 1, 6, 102.5, collect, NULL), 0);
	assert_int_equal(sy_cur_wait_add(&w, 101, z1, s1, 1), 0);
	/* 7 in zone 1 ends both (2 < 7); zone 0 still serves 5 */
	assert_int_equal(sy_cur_served(&w, 1, 7, 103, collect, NULL), 2);
	assert_int_equal(ngot, 2);
	assert_true(got[0] == 3 && got[1] == 2);
	assert_false(sy_cur_waiting(&w, 0) || sy_cur_waiting(&w, 1));
	/* a serial past the wrap is later */
	assert_int_equal(sy_cur_wait_add(&w, 200, z1, (const uint32_t[]){ 1 },
	    1), 0);
	assert_int_equal(sy_cur_served(&w, 1, 0xffffffffU, 201, collect,
	    NULL), 0);
	assert_int_equal(sy_cur_served(&w, 1, 3, 201.25, collect, NULL), 1);
	assert_true(got[2] == 1.25);
	assert_int_equal(sy_cur_served(&w, 9, 3, 1, collect, NULL), 0);
	sy_cur_wait_free(&w);
	sy_cur_wait_free(&w);
}

static void
put(struct zg_model *m, const char *text)
{
	struct zg_decode_error err = { 0 };
	json_t *obj = json_loads(text, 0, NULL);

	assert_non_null(obj);
	assert_int_equal(zg_decode_object(m, obj, NULL, &err), 0);
	json_decref(obj);
}

#define SLICE(addr, host, when) "{\"kind\": \"EndpointSlice\", " \
	"\"metadata\": {\"name\": \"db-1\", \"namespace\": \"default\", " \
	"\"labels\": {\"kubernetes.io/service-name\": \"db\"}, " \
	"\"annotations\": {\"endpoints.kubernetes.io/" \
	"last-change-trigger-time\": \"" when "\"}}, " \
	"\"addressType\": \"IPv4\", \"endpoints\": [{\"addresses\": " \
	"[\"" addr "\"], \"hostname\": \"" host "\"}]}"

static const struct zg_slice *
slice(const struct zg_model *m)
{
	return kz_map_get(&m->objects[ZG_KIND_SLICE], "default/db-1");
}

/* The decoder keeps the trigger time; the diff names the Service. */
static void
test_trigger_and_hits(void **state)
{
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct sy_cur_hits hits;
	const size_t *zones;
	size_t n;
	long rev;

	(void)state;
	zg_render_opts_init(&o);
	zg_model_init(&m);
	zg_model_track(&m, true);
	kz_map_init(&hits.svc);
	assert_int_equal(zg_db_init(&db, &o), 0);
	put(&m, "{\"kind\": \"Service\", \"metadata\": {\"name\": \"db\", "
	    "\"namespace\": \"default\"}, \"spec\": {\"clusterIP\": \"None\"}}");
	put(&m, SLICE("10.1.0.1", "a", "2026-12-03T14:43:32.5+01:00"));
	assert_true(slice(&m)->trigger_time == 1796309012.5 - 3600);
	assert_true(zg_db_apply(&db, &m, false) > 0);
	/* only the annotation: not a change, the old time stays */
	put(&m, SLICE("10.1.0.1", "a", "2026-12-03T14:50:00Z"));
	assert_int_equal(m.nchanges, 0);
	assert_true(slice(&m)->trigger_time == 1796309012.5 - 3600);
	/* a new address: the Service changed in both zones */
	put(&m, SLICE("10.1.0.2", "a", "2026-12-03T14:50:00Z"));
	assert_int_equal(m.nchanges, 1);
	assert_true(slice(&m)->trigger_time == 1796309400);
	assert_true(zg_db_apply(&db, &m, true) > 0);
	assert_int_equal(sy_cur_hits_collect(&hits, &db), 0);
	zones = sy_cur_hits_zones(&hits, "default/db", &n);
	rev = zg_db_find(&db, "in-addr.arpa.");
	assert_true(rev > 0);
	assert_int_equal(n, 2);
	assert_true((zones[0] == 0 && zones[1] == (size_t)rev) ||
	    (zones[1] == 0 && zones[0] == (size_t)rev));
	assert_null(sy_cur_hits_zones(&hits, "default/other", &n));
	assert_int_equal(n, 0);
	/* an unreadable annotation is no time, and no error */
	put(&m, SLICE("10.1.0.3", "a", "yesterday"));
	assert_true(slice(&m)->trigger_time == 0);
	sy_cur_hits_free(&hits);
	zg_db_free(&db);
	zg_model_free(&m);
	zg_render_opts_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_behind_serials),
		cmocka_unit_test(test_behind_since),
		cmocka_unit_test(test_service_of),
		cmocka_unit_test(test_wait_served),
		cmocka_unit_test(test_trigger_and_hits),
	};
	return cmocka_run_group_tests_name("currency", tests, NULL, NULL);
}
