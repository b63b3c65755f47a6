/*
 * tests/unit/test_framer.c -- syncer/framer: lines across chunks,
 * oversized and empty lines, bounded memory.
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
#include "syncer/framer.h"

struct lines {
	char got[16][64];
	size_t n;
	int stop_at;		/* return 7 on this line number (1-based) */
};

static int
collect(void *ctx, const char *line, size_t len)
{
	struct lines *l = ctx;

	assert_true(l->n < 16);
	assert_true(len < 64);
	memcpy(l->got[l->n], line, len);
	l->got[l->n][len] = '\0';
	l->n++;
	return (int)l->n == l->stop_at ? 7 : 0;
}

/* Feed TEXT split at every possible pair of places; always 3 lines. */
static void
test_every_split(void **state)
{
	static const char text[] = "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n";
	size_t n = strlen(text);

	(void)state;
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct sy_framer f;
			struct lines l = { .n = 0 };

			sy_framer_init(&f, 64);
			assert_int_equal(sy_framer_feed(&f, text, i, collect, &l), 0);
			assert_int_equal(sy_framer_feed(&f, text + i, j - i,
			    collect, &l), 0);
			assert_int_equal(sy_framer_feed(&f, text + j, n - j,
			    collect, &l), 0);
			assert_int_equal(l.n, 3);
			assert_string_equal(l.got[0], "{\"a\":1}");
			assert_string_equal(l.got[1], "{\"b\":2}");
			assert_string_equal(l.got[2], "{\"c\":3}");
			assert_int_equal(sy_framer_pending(&f), 0);
			sy_framer_free(&f);
		}
	}
}

static void
test_byte_at_a_time(void **state)
{
	static const char text[] = "one\ntwo\nthree";
	struct sy_framer f;
	struct lines l = { .n = 0 };

	(void)state;
	sy_framer_init(&f, 0);
	for (size_t i = 0; i < strlen(text); i++)
		assert_int_equal(sy_framer_feed(&f, text + i, 1, collect, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.got[1], "two");
	assert_int_equal(sy_framer_pending(&f), 5);	/* "three" waits */
	sy_framer_reset(&f);				/* connection lost */
	assert_int_equal(sy_framer_pending(&f), 0);
	assert_int_equal(sy_framer_feed(&f, "four\n", 5, collect, &l), 0);
	assert_string_equal(l.got[2], "four");
	assert_int_equal(f.lines, 3);
	sy_framer_free(&f);
}

/* A line over the maximum is dropped whole, counted, and framing goes on. */
static void
test_oversized(void **state)
{
	struct sy_framer f;
	struct lines l = { .n = 0 };
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	sy_framer_init(&f, 16);
	/* in one chunk */
	assert_int_equal(sy_framer_feed(&f, "ok1\n", 4, collect, &l), 0);
	assert_int_equal(sy_framer_feed(&f, big, 40, collect, &l), 0);
	assert_int_equal(sy_framer_feed(&f, "\nok2\n", 5, collect, &l), 0);
	/* spread over chunks, each under the limit */
	for (int i = 0; i < 10; i++)
		assert_int_equal(sy_framer_feed(&f, big, 5, collect, &l), 0);
	assert_true(sy_framer_pending(&f) <= 16);
	assert_int_equal(sy_framer_feed(&f, "x\nok3\n", 6, collect, &l), 0);
	/* exactly the maximum is fine */
	assert_int_equal(sy_framer_feed(&f, big, 16, collect, &l), 0);
	assert_int_equal(sy_framer_feed(&f, "\n", 1, collect, &l), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.got[0], "ok1");
	assert_string_equal(l.got[1], "ok2");
	assert_string_equal(l.got[2], "ok3");
	assert_int_equal(strlen(l.got[3]), 16);
	assert_int_equal(f.oversized, 2);
	sy_framer_free(&f);
}

static void
test_callback_stops(void **state)
{
	struct sy_framer f;
	struct lines l = { .n = 0, .stop_at = 2 };

	(void)state;
	sy_framer_init(&f, 0);
	assert_int_equal(sy_framer_feed(&f, "a\nb\nc\n", 6, collect, &l), 7);
	assert_int_equal(l.n, 2);
	sy_framer_free(&f);
	sy_framer_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_callback_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
