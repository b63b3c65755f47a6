/*
 * tests/unit/test_loop.c -- syncer/loop: fds, timers, hooks, stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "syncer/loop.h"

struct record {
	char order[16];
	size_t n;
	int reads;
	int hooks;
	struct sy_timer a, b, c;
};

static void
fire_a(struct sy_loop *l, void *ctx)
{
	struct record *r = ctx;

	(void)l;
	r->order[r->n++] = 'a';
}

static void
fire_b(struct sy_loop *l, void *ctx)
{
	struct record *r = ctx;

	r->order[r->n++] = 'b';
	sy_loop_stop(l);
}

static void
fire_c(struct sy_loop *l, void *ctx)
{
	struct record *r = ctx;

	(void)l;
	r->order[r->n++] = 'c';
}

static void
test_timers(void **state)
{
	struct sy_loop l;
	struct record r = { 0 };
	uint64_t t0;

	(void)state;
	assert_int_equal(sy_loop_init(&l), 0);
	sy_timer_init(&r.a, fire_a, &r);
	sy_timer_init(&r.b, fire_b, &r);
	sy_timer_init(&r.c, fire_c, &r);
	t0 = kz_now_ms();
	sy_timer_in(&l, &r.b, 60);
	sy_timer_in(&l, &r.a, 20);
	sy_timer_in(&l, &r.c, 40);
	sy_timer_cancel(&l, &r.c);	/* cancelled: never fires */
	assert_int_equal(sy_loop_run(&l), 0);
	assert_string_equal(r.order, "ab");
	assert_true(kz_now_ms() - t0 >= 60);
	assert_true(kz_now_ms() - t0 < 1000);
	assert_false(r.a.armed);
	/* Re-arming moves a timer instead of adding it twice. */
	sy_timer_in(&l, &r.a, 5);
	sy_timer_in(&l, &r.a, 10);
	sy_timer_in(&l, &r.b, 30);
	assert_int_equal(sy_loop_run(&l), 0);
	assert_string_equal(r.order, "abab");
	sy_loop_free(&l);
}

static void
on_read(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct record *r = ctx;
	char c;

	assert_true(revents & POLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	r->reads++;
	if (r->reads == 2) {
		sy_loop_del_fd(l, fd);
		sy_loop_stop(l);
	}
}

static void
hook(struct sy_loop *l, void *ctx)
{
	struct record *r = ctx;

	(void)l;
	r->hooks++;
}

static void
test_fds_and_hooks(void **state)
{
	struct sy_loop l;
	struct record r = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(sy_loop_init(&l), 0);
	assert_int_equal(sy_loop_add_fd(&l, p[0], POLLIN, on_read, &r), 0);
	assert_int_equal(sy_loop_add_fd(&l, -1, POLLIN, on_read, &r),
	    KZ_EINVAL);
	assert_int_equal(sy_loop_add_hook(&l, hook, &r), 0);
	assert_int_equal(write(p[1], "xy", 2), 2);
	assert_int_equal(sy_loop_run(&l), 0);
	assert_int_equal(r.reads, 2);
	assert_true(r.hooks >= 2);
	/* The fd is gone: a bounded wait returns without reading it. */
	assert_int_equal(write(p[1], "z", 1), 1);
	assert_int_equal(sy_loop_once(&l, 10), 0);
	assert_int_equal(r.reads, 2);
	assert_int_equal(l.nfds, 0);
	assert_non_null(sy_loop_multi(&l));
	sy_loop_free(&l);
	close(p[0]);
	close(p[1]);
}

static void
test_fd_table_full(void **state)
{
	struct sy_loop l;
	struct record r = { 0 };

	(void)state;
	assert_int_equal(sy_loop_init(&l), 0);
	for (int i = 0; i < SY_LOOP_MAX_FDS; i++)
		assert_int_equal(sy_loop_add_fd(&l, 100 + i, POLLIN, on_read,
		    &r), 0);
	assert_int_equal(sy_loop_add_fd(&l, 999, POLLIN, on_read, &r),
	    KZ_ETOOBIG);
	/* Adding a known fd again updates it. */
	assert_int_equal(sy_loop_add_fd(&l, 100, POLLOUT, on_read, &r), 0);
	assert_int_equal(l.fds[0].events, POLLOUT);
	sy_loop_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_fds_and_hooks),
		cmocka_unit_test(test_fd_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
