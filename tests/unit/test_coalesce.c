/*
 * tests/unit/test_coalesce.c -- syncer/coalesce: the render pacing.
 *
 * The pacer keeps no clock of its own: every call is given the time, so
 * these tests drive it with made-up millisecond timestamps.
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
#include "common/opt.h"
#include "syncer/coalesce.h"

static void
test_coalesce(void **state)
{
	struct sy_coalesce c;
	uint64_t t = 5000;

	(void)state;
	sy_coalesce_init(&c, 100);
	assert_int_equal(sy_coalesce_due_in(&c, t), -1);
	sy_coalesce_mark(&c, t);
	assert_int_equal(sy_coalesce_due_in(&c, t), 0);	/* first: at once */
	sy_coalesce_done(&c, t);
	/* a burst: one render per interval, however many events */
	for (int i = 0; i < 10000; i++)
		sy_coalesce_mark(&c, t + 10);
	assert_int_equal(sy_coalesce_due_in(&c, t + 10), 90);
	assert_int_equal(sy_coalesce_due_in(&c, t + 100), 0);
	sy_coalesce_done(&c, t + 100);
	assert_int_equal(sy_coalesce_due_in(&c, t + 150), -1);
	/* after a quiet spell the next change renders at once */
	sy_coalesce_mark(&c, t + 5000);
	assert_int_equal(sy_coalesce_due_in(&c, t + 5000), 0);
	assert_int_equal(c.renders, 2);
	assert_int_equal(c.marks, 10002);
}

/* Nothing marked: nothing is ever due, whatever the time. */
static void
test_idle_is_never_due(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 100);
	assert_int_equal(sy_coalesce_due_in(&c, 0), -1);
	assert_int_equal(sy_coalesce_due_in(&c, 1000000), -1);
	assert_int_equal(c.marks, 0);
	assert_int_equal(c.renders, 0);
	assert_int_equal(c.min_interval_ms, 100);
	/* A render reported with nothing marked leaves nothing pending. */
	sy_coalesce_done(&c, 50);
	assert_int_equal(sy_coalesce_due_in(&c, 60), -1);
}

/* The very first change is rendered at once, however long the interval. */
static void
test_first_change_at_once(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 3600000);
	sy_coalesce_mark(&c, 42);
	assert_int_equal(sy_coalesce_due_in(&c, 42), 0);
	assert_int_equal(sy_coalesce_due_in(&c, 43), 0);
	/* Starting at time 0 is not special. */
	sy_coalesce_init(&c, 250);
	sy_coalesce_mark(&c, 0);
	assert_int_equal(sy_coalesce_due_in(&c, 0), 0);
}

/* After a render, the next one waits out min-interval from that render. */
static void
test_min_interval_counts_from_last_render(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 100);
	sy_coalesce_mark(&c, 1000);
	sy_coalesce_done(&c, 1000);
	assert_int_equal(sy_coalesce_due_in(&c, 1000), -1);
	sy_coalesce_mark(&c, 1030);
	assert_int_equal(sy_coalesce_due_in(&c, 1030), 70);
	assert_int_equal(sy_coalesce_due_in(&c, 1080), 20);
	assert_int_equal(sy_coalesce_due_in(&c, 1099), 1);
	assert_int_equal(sy_coalesce_due_in(&c, 1100), 0);
	/* Overdue stays due, never negative. */
	assert_int_equal(sy_coalesce_due_in(&c, 1500), 0);
	/* The render may finish later than it was due: the interval runs
	 * from the time reported. */
	sy_coalesce_done(&c, 1530);
	sy_coalesce_mark(&c, 1540);
	assert_int_equal(sy_coalesce_due_in(&c, 1540), 90);
}

/* The first and the latest change of a pending render are both kept:
 * the daemon logs how long each waited for its publish. */
static void
test_first_and_latest_change(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 100);
	sy_coalesce_mark(&c, 500);
	sy_coalesce_mark(&c, 530);
	sy_coalesce_mark(&c, 560);
	assert_int_equal(c.dirty_since_ms, 500);
	assert_int_equal(c.last_mark_ms, 560);
	sy_coalesce_done(&c, 600);
	sy_coalesce_mark(&c, 650);
	assert_int_equal(c.dirty_since_ms, 650);
	assert_int_equal(c.last_mark_ms, 650);
}

/*
 * A steady stream of changes does not push the render back: the wait
 * after a render never exceeds min-interval, plus at most a quarter of
 * it while the changes are still arriving, so no change waits longer
 * than that for its render.
 */
static void
test_changes_do_not_postpone(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 100);
	sy_coalesce_mark(&c, 0);
	sy_coalesce_done(&c, 0);
	for (uint64_t t = 1; t < 100; t++) {
		sy_coalesce_mark(&c, t);
		assert_int_equal(sy_coalesce_due_in(&c, t), (long)(100 - t));
	}
	/* Due at 100, but the last change came at 99: wait for a pause. */
	assert_int_equal(sy_coalesce_due_in(&c, 100), 1);
	assert_int_equal(sy_coalesce_due_in(&c, 101), 0);
	/* Changes that keep coming hold it a quarter interval at most. */
	for (uint64_t t = 100; t < 200; t++) {
		sy_coalesce_mark(&c, t);
		assert_int_equal(sy_coalesce_due_in(&c, t),
		    t < 124 ? 2 : t < 125 ? 1 : 0);
	}
	/* A change late in the interval waits only for what is left. */
	sy_coalesce_done(&c, 200);
	sy_coalesce_mark(&c, 290);
	assert_int_equal(sy_coalesce_due_in(&c, 290), 10);
}

/* The tail of a burst that streams in past the due time goes out with
 * it, not one interval later; with a pause already there, at once. */
static void
test_burst_tail_waits_for_a_pause(void **state)
{
	struct sy_coalesce c;
	uint64_t t;

	(void)state;
	sy_coalesce_init(&c, 100);
	sy_coalesce_mark(&c, 1000);
	sy_coalesce_done(&c, 1000);	/* the burst's first change */
	for (t = 1001; t <= 1111; t++) {	/* the rest, until 1111 */
		sy_coalesce_mark(&c, t);
		if (sy_coalesce_due_in(&c, t) == 0)
			sy_coalesce_done(&c, t);
	}
	assert_int_equal(c.renders, 1);
	assert_int_equal(sy_coalesce_due_in(&c, 1112), 1);
	assert_int_equal(sy_coalesce_due_in(&c, 1113), 0);
	sy_coalesce_done(&c, 1113);
	assert_int_equal(sy_coalesce_due_in(&c, 1300), -1);
	/* Changes that stopped before the due time: at the due time. */
	sy_coalesce_mark(&c, 1150);
	assert_int_equal(sy_coalesce_due_in(&c, 1213), 0);
	/* min-interval 0: every change at once, no pause awaited. */
	sy_coalesce_init(&c, 0);
	sy_coalesce_mark(&c, 5);
	sy_coalesce_done(&c, 5);
	sy_coalesce_mark(&c, 5);
	assert_int_equal(sy_coalesce_due_in(&c, 5), 0);
}

/*
 * A caller that renders whenever something is due: changes every
 * millisecond for ten seconds, never pausing, cost one render per
 * min-interval and a quarter, and the last change is never left waiting
 * longer than that.
 */
static void
test_burst_costs_one_render_per_interval(void **state)
{
	struct sy_coalesce c;
	uint64_t t;

	(void)state;
	sy_coalesce_init(&c, 100);
	for (t = 0; t < 10000; t++) {
		sy_coalesce_mark(&c, t);
		if (sy_coalesce_due_in(&c, t) == 0)
			sy_coalesce_done(&c, t);
	}
	assert_int_equal(c.marks, 10000);
	/* At 0 (first change), then at 125, 250, ..., 9875. */
	assert_int_equal(c.renders, 80);
	assert_int_equal(c.last_render_ms, 9875);
	assert_int_equal(sy_coalesce_due_in(&c, 9999), 1);
	assert_int_equal(sy_coalesce_due_in(&c, 10000), 0);
}

/* After a quiet spell longer than min-interval, a change renders at once. */
static void
test_quiet_spell_renders_at_once(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 500);
	sy_coalesce_mark(&c, 10);
	sy_coalesce_done(&c, 10);
	sy_coalesce_mark(&c, 510);	/* min-interval later */
	assert_int_equal(sy_coalesce_due_in(&c, 510), 0);
	sy_coalesce_done(&c, 510);
	sy_coalesce_mark(&c, 60000);
	assert_int_equal(sy_coalesce_due_in(&c, 60000), 0);
}

/* A render reports everything marked so far: nothing stays pending. */
static void
test_done_clears_pending(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 100);
	sy_coalesce_mark(&c, 1);
	sy_coalesce_mark(&c, 2);
	sy_coalesce_mark(&c, 3);
	sy_coalesce_done(&c, 3);
	assert_int_equal(sy_coalesce_due_in(&c, 3), -1);
	assert_int_equal(sy_coalesce_due_in(&c, 1000), -1);
	assert_int_equal(c.marks, 3);
	assert_int_equal(c.renders, 1);
	/* The next change is pending again. */
	sy_coalesce_mark(&c, 50);
	assert_int_equal(sy_coalesce_due_in(&c, 50), 53);
}

/* min-interval 0: every change is due at once. */
static void
test_zero_interval(void **state)
{
	struct sy_coalesce c;

	(void)state;
	sy_coalesce_init(&c, 0);
	for (uint64_t t = 100; t < 110; t++) {
		sy_coalesce_mark(&c, t);
		assert_int_equal(sy_coalesce_due_in(&c, t), 0);
		sy_coalesce_done(&c, t);
		assert_int_equal(sy_coalesce_due_in(&c, t), -1);
	}
	assert_int_equal(c.renders, 10);
}

/* Parse ARG for --min-interval into C; 0 or KZ_EUSAGE with ERR set. */
static int
parse_min_interval(struct sy_coalesce *c, const char *arg, char *err,
    size_t errsz)
{
	struct kz_opt_table t = { "coalescing", sy_coalesce_opt_table, c };
	char a0[] = "sync", a1[] = "--min-interval", a2[64];
	char *argv[4] = { a0, a1, a2, NULL };
	char *pos[4];
	size_t npos;
	int help;

	snprintf(a2, sizeof(a2), "%s", arg);
	return kz_opt_parse(3, argv, &t, 1, pos, &npos, &help, err, errsz);
}

static void
test_min_interval_option(void **state)
{
	const struct kz_opt *o = &sy_coalesce_opt_table[0];
	struct sy_coalesce c;
	char err[256];

	(void)state;
	/* One row, whose documented default is the built-in one. */
	assert_string_equal(o->name, "min-interval");
	assert_non_null(o->metavar);
	assert_string_equal(o->defval, "100ms");
	assert_int_equal(SY_MIN_INTERVAL_MS, 100);
	assert_null(sy_coalesce_opt_table[1].name);

	sy_coalesce_init(&c, SY_MIN_INTERVAL_MS);
	assert_int_equal(parse_min_interval(&c, "250ms", err, sizeof(err)), 0);
	assert_int_equal(c.min_interval_ms, 250);
	assert_int_equal(parse_min_interval(&c, "2s", err, sizeof(err)), 0);
	assert_int_equal(c.min_interval_ms, 2000);
	assert_int_equal(parse_min_interval(&c, "1m30s", err, sizeof(err)), 0);
	assert_int_equal(c.min_interval_ms, 90000);
	assert_int_equal(parse_min_interval(&c, "0", err, sizeof(err)), 0);
	assert_int_equal(c.min_interval_ms, 0);
	assert_int_equal(parse_min_interval(&c, "1h", err, sizeof(err)), 0);
	assert_int_equal(c.min_interval_ms, 3600000);

	/* Over an hour, no unit, not a duration: refused, value unchanged,
	 * and the message names the option, the value and the reason. */
	assert_int_equal(parse_min_interval(&c, "1h1ms", err, sizeof(err)),
	    KZ_EUSAGE);
	assert_int_equal(c.min_interval_ms, 3600000);
	assert_non_null(strstr(err, "--min-interval"));
	assert_non_null(strstr(err, "1h1ms"));
	assert_non_null(strstr(err, "from 0ms to 1h"));
	assert_int_equal(parse_min_interval(&c, "100", err, sizeof(err)),
	    KZ_EUSAGE);
	assert_non_null(strstr(err, "duration"));
	assert_int_equal(parse_min_interval(&c, "fast", err, sizeof(err)),
	    KZ_EUSAGE);
	assert_non_null(strstr(err, "--min-interval fast"));
	assert_int_equal(c.min_interval_ms, 3600000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_idle_is_never_due),
		cmocka_unit_test(test_first_change_at_once),
		cmocka_unit_test(test_min_interval_counts_from_last_render),
		cmocka_unit_test(test_first_and_latest_change),
		cmocka_unit_test(test_changes_do_not_postpone),
		cmocka_unit_test(test_burst_tail_waits_for_a_pause),
		cmocka_unit_test(test_burst_costs_one_render_per_interval),
		cmocka_unit_test(test_quiet_spell_renders_at_once),
		cmocka_unit_test(test_done_clears_pending),
		cmocka_unit_test(test_zero_interval),
		cmocka_unit_test(test_min_interval_option),
	};

	return cmocka_run_group_tests_name("coalesce", tests, NULL, NULL);
}
