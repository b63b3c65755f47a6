/*
 * syncer/coalesce.c -- render promptly, then at most every min-interval.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "syncer/coalesce.h"

void
sy_coalesce_init(struct sy_coalesce *c, uint64_t min_interval_ms)
{
	memset(c, 0, sizeof(*c));
	c->min_interval_ms = min_interval_ms;
}

void
sy_coalesce_mark(struct sy_coalesce *c, uint64_t now_ms)
{
	if (!c->dirty)
		c->dirty_since_ms = now_ms;
	c->last_mark_ms = now_ms;
	c->dirty = true;
	c->marks++;
}

long
sy_coalesce_due_in(const struct sy_coalesce *c, uint64_t now_ms)
{
	uint64_t next, until, cap;

	if (!c->dirty)
		return -1;
	if (!c->rendered)
		return 0;
	next = c->last_render_ms + c->min_interval_ms;
	if (c->dirty_since_ms >= next)
		return 0;		/* the first change after a quiet spell */
	if (now_ms < next)
		return (long)(next - now_ms);
	/* Held back by the interval and due now: if changes are still
	 * arriving (a burst streamed by the API), wait for them to pause,
	 * so that its tail is not left for one more interval. */
	until = c->last_mark_ms + SY_COALESCE_GAP_MS;
	cap = next + c->min_interval_ms / 4;
	if (until > cap)
		until = cap;
	return until > now_ms ? (long)(until - now_ms) : 0;
}

void
sy_coalesce_done(struct sy_coalesce *c, uint64_t now_ms)
{
	c->dirty = false;
	c->rendered = true;
	c->last_render_ms = now_ms;
	c->renders++;
}

static int
set_min_interval(void *ctx, const char *arg, char *err, size_t errsz)
{
	unsigned long long ms = 0;

	(void)err, (void)errsz;		/* the table's range was checked */
	(void)kz_opt_duration_ms(arg, &ms);
	((struct sy_coalesce *)ctx)->min_interval_ms = ms;
	return KZ_OK;
}

const struct kz_opt sy_coalesce_opt_table[] = {
	{ "min-interval", "DURATION", "100ms", NULL, false, set_min_interval,
	  "Shortest time between two renders of a changing cluster; the first "
	  "change after a quiet spell renders at once. A render that falls due "
	  "while changes are still arriving waits for a 2 ms pause in them, "
	  "at most a quarter of this longer.", KZ_OPT_DURATION, 0,
	  3600000 },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};
