/*
 * tests/unit/test_common.c -- common/: buffers, arena, pool, map, log,
 * errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/map.h"
#include "common/pool.h"
#include "common/rfc3339.h"

static void
test_buf_bounded(void **state)
{
	struct kz_buf b;

	(void)state;
	kz_buf_init(&b, 10);
	assert_int_equal(kz_buf_puts(&b, "hello"), 0);
	assert_int_equal(kz_buf_printf(&b, "%d", 1234), 0);
	assert_string_equal(b.data, "hello1234");
	/* Past the maximum: refused, contents unchanged. */
	assert_int_equal(kz_buf_puts(&b, "xy"), KZ_ETOOBIG);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(kz_buf_putc(&b, '!'), 0);
	assert_int_equal(b.len, 10);
	kz_buf_consume(&b, 5);
	assert_string_equal(b.data, "1234!");
	kz_buf_free(&b);
	kz_buf_free(&b);	/* idempotent */
}

static void
test_arena(void **state)
{
	struct kz_arena a;
	char *s, *big;

	(void)state;
	kz_arena_init(&a, 128);
	s = kz_arena_printf(&a, "%s-%d", "x", 42);
	assert_string_equal(s, "x-42");
	big = kz_arena_alloc(&a, 4096);	/* larger than a chunk */
	assert_non_null(big);
	memset(big, 1, 4096);
	assert_string_equal(s, "x-42");
	assert_null(kz_arena_calloc(&a, SIZE_MAX / 2, 4));	/* overflow */
	for (int i = 0; i < 1000; i++)
		assert_non_null(kz_arena_strdup(&a, "abcdefghijklmnop"));
	assert_true(a.used >= 1000 * 17);
	/* A reset keeps one standard chunk, which the next use takes. */
	kz_arena_reset(&a);
	assert_int_equal(a.used, 0);
	assert_int_equal(a.reserved, 128);
	s = kz_arena_strdup(&a, "kept");
	assert_string_equal(s, "kept");
	big = kz_arena_alloc(&a, 4096);
	assert_non_null(big);
	kz_arena_reset(&a);
	assert_int_equal(a.reserved, 128);
	assert_ptr_equal(kz_arena_strdup(&a, "again"), s);
	kz_arena_free(&a);
	kz_arena_free(&a);
	kz_arena_reset(&a);	/* a freed arena: nothing to keep */
	assert_int_equal(a.reserved, 0);
}

static void
test_pool(void **state)
{
	struct kz_pool p;
	char *v[300], *big, *again;

	(void)state;
	kz_pool_init(&p);
	/* Blocks of many sizes, each its own: none overlaps another. */
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)i % 70 + 1;
		v[i] = kz_pool_alloc(&p, n);
		assert_non_null(v[i]);
		assert_int_equal((uintptr_t)v[i] % 8, 0);
		memset(v[i], 'a' + i % 26, n);
	}
	for (int i = 0; i < 300; i++) {
		size_t n = (size_t)i % 70 + 1;
		for (size_t k = 0; k < n; k++)
			assert_int_equal(v[i][k], 'a' + i % 26);
	}
	/* Sizes counted 8 bytes apart; a freed block serves its class. */
	assert_int_equal(p.used % 8, 0);
	kz_pool_free(&p, v[3], 4);
	again = kz_pool_alloc(&p, 7);
	assert_ptr_equal(again, v[3]);
	v[3] = again;
	/* Over KZ_POOL_MAX: malloc's own, counted while held. */
	big = kz_pool_alloc(&p, KZ_POOL_MAX + 1);
	assert_non_null(big);
	memset(big, 0, KZ_POOL_MAX + 1);
	assert_true(p.reserved >= KZ_POOL_SLAB + KZ_POOL_MAX + 1);
	kz_pool_free(&p, big, KZ_POOL_MAX + 1);
	for (int i = 0; i < 300; i++)
		kz_pool_free(&p, v[i], (size_t)i % 70 + 1);
	assert_int_equal(p.used, 0);
	kz_pool_free(&p, NULL, 8);
	kz_pool_destroy(&p);
	kz_pool_destroy(&p);	/* idempotent */
}

static void
test_map(void **state)
{
	struct kz_map m;
	char keys[2000][24];
	void *old;
	size_t it = 0, seen = 0;
	const char *k;
	void *v;

	(void)state;
	kz_map_init(&m);
	for (int i = 0; i < 2000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "ns/obj%d", i);
		assert_int_equal(kz_map_put(&m, keys[i], &keys[i], NULL), 0);
	}
	assert_int_equal(m.count, 2000);
	assert_ptr_equal(kz_map_get(&m, "ns/obj1999"), &keys[1999]);
	assert_null(kz_map_get(&m, "ns/obj2000"));
	assert_int_equal(kz_map_put(&m, keys[5], keys[6], &old), 0);
	assert_ptr_equal(old, &keys[5]);
	assert_int_equal(m.count, 2000);
	for (int i = 0; i < 2000; i += 2)
		assert_non_null(kz_map_del(&m, keys[i]));
	assert_null(kz_map_del(&m, keys[0]));
	assert_int_equal(m.count, 1000);
	/* Reinsert over tombstones, then iterate. */
	for (int i = 0; i < 2000; i += 4)
		assert_int_equal(kz_map_put(&m, keys[i], &keys[i], NULL), 0);
	while (kz_map_next(&m, &it, &k, &v))
		seen++;
	assert_int_equal(seen, 1500);
	assert_int_equal(m.count, 1500);
	kz_map_free(&m);
}

static void
test_log_format(void **state)
{
	char q[64], *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_string_equal(kz_log_quote(q, sizeof(q), "plain"), "plain");
	assert_string_equal(kz_log_quote(q, sizeof(q), "a b\"c"),
	    "\"a b\\\"c\"");
	assert_string_equal(kz_log_quote(q, sizeof(q), ""), "\"\"");
	assert_int_equal(kz_log_parse_level("warn"), KZ_LOG_WARN);
	assert_int_equal(kz_log_parse_level("loud"), -1);
	kz_log_set_stream(f);
	kz_log_set_level(KZ_LOG_INFO);
	kz_debug("hidden", NULL);
	kz_warn("zone published", "zone=%s serial=%u", "cluster.local", 7u);
	kz_log_set_context("cluster=prod-eu");
	kz_info("resource listed", "resource=%s", "services");
	kz_info("no fields", NULL);
	kz_log_set_context(NULL);
	kz_info("after", "x=%d", 1);
	kz_log_set_stream(NULL);
	fclose(f);
	assert_non_null(strstr(out,
	    "level=warn msg=\"zone published\" zone=cluster.local serial=7\n"));
	assert_non_null(strstr(out, "level=info msg=\"resource listed\" "
	    "cluster=prod-eu resource=services\n"));
	assert_non_null(strstr(out, "level=info msg=\"no fields\" "
	    "cluster=prod-eu\n"));
	assert_non_null(strstr(out, "level=info msg=after x=1\n"));
	assert_null(strstr(out, "hidden"));
	assert_int_equal(strncmp(out, "ts=", 3), 0);
	free(out);
}

/* Held lines wait for the release, or for a warning, in order. */
static void
test_log_hold(void **state)
{
	char *out = NULL, big[3000];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char *a, *b, *c;

	(void)state;
	kz_log_set_stream(f);
	kz_log_set_level(KZ_LOG_DEBUG);
	kz_log_hold();
	kz_log_hold();
	kz_debug("first", NULL);
	kz_info("second", NULL);
	fflush(f);
	assert_int_equal(len, 0);
	kz_warn("third", NULL);		/* writes what is held, then itself */
	fflush(f);
	a = strstr(out, "msg=first\n");
	b = strstr(out, "msg=second\n");
	c = strstr(out, "msg=third\n");
	assert_true(a && b && c && a < b && b < c);
	kz_debug("fourth", NULL);
	fflush(f);
	assert_null(strstr(out, "fourth"));
	/* more than the hold keeps: what is held goes first */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 8; i++)
		kz_debug("big", "v=%s", big);
	fflush(f);
	assert_non_null(strstr(out, "msg=fourth\n"));
	kz_log_release();
	fflush(f);
	assert_int_equal(kz_log_count(KZ_LOG_DEBUG) >= 9, 1);
	kz_info("after", NULL);		/* not held any more */
	fflush(f);
	assert_non_null(strstr(out, "msg=after\n"));
	/* every line whole: as many line ends as lines */
	{
		size_t lines = 0;

		for (size_t i = 0; i < len; i++)
			lines += out[i] == '\n';
		assert_int_equal(lines, 13);
	}
	kz_log_set_stream(NULL);
	kz_log_set_level(KZ_LOG_INFO);
	fclose(f);
	free(out);
}

static void
test_strerror(void **state)
{
	(void)state;
	assert_string_equal(kz_strerror(KZ_ETOOBIG), "size limit exceeded");
	assert_string_equal(kz_strerror(-ENOENT), strerror(ENOENT));
}

/* Expected values: calendar.timegm of the same fields. */
static void
test_rfc3339(void **state)
{
	double t = -1;

	(void)state;
	assert_int_equal(kz_rfc3339_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_true(t == 0);
	assert_int_equal(kz_rfc3339_parse("2000-02-29T23:59:59Z", &t), 0);
	assert_true(t == 951868799);
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32Z", &t), 0);
	assert_true(t == 1796309012);
	/* fractions of any length */
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32.5Z", &t), 0);
	assert_true(t == 1796309012.5);
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32.123456789Z",
	    &t), 0);
	assert_true(t > 1796309012.123456 && t < 1796309012.123458);
	/* offsets: the same instant */
	assert_int_equal(kz_rfc3339_parse("2026-12-03T16:43:32+02:00", &t), 0);
	assert_true(t == 1796309012);
	assert_int_equal(kz_rfc3339_parse("2026-12-03t09:13:32.25-05:30", &t),
	    0);
	assert_true(t == 1796309012.25);
	assert_int_equal(kz_rfc3339_parse("1970-01-01T00:00:00+01:00", &t), 0);
	assert_true(t == -3600);
	assert_int_equal(kz_rfc3339_parse("2024-02-29 23:59:60Z", &t), 0);
	assert_true(t == 1709251200);	/* a leap second: 03-01 00:00 */
	/* refused, T untouched */
	t = 7;
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32", &t),
	    KZ_EPARSE);	/* no zone */
	assert_int_equal(kz_rfc3339_parse("2025-02-29T00:00:00Z", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("2026-13-03T14:43:32Z", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("2026-12-03T24:00:00Z", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32.Z", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32Zx", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("2026-12-03T14:43:32+0200", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("26-12-03T14:43:32Z", &t),
	    KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse("", &t), KZ_EPARSE);
	assert_int_equal(kz_rfc3339_parse(NULL, &t), KZ_EPARSE);
	assert_true(t == 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_hold),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_rfc3339),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
