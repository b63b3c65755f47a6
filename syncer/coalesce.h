/*
 * syncer/coalesce.h -- turn a stream of changes into few renders.
 *
 * Watch events only mark the model dirty (sy_coalesce_mark). A render is
 * due at once after the first change following a quiet period, and then
 * at most once every min-interval while changes keep coming, so a burst
 * of 10,000 events costs a few renders, not 10,000. A render held back by
 * the interval that falls due while changes are still arriving waits for
 * a pause of SY_COALESCE_GAP_MS in them, at most a quarter of the
 * interval more: the tail of a burst goes out with it instead of one
 * interval later. The caller asks
 * sy_coalesce_due_in() for its poll timeout and reports each render with
 * sy_coalesce_done(). Pure state: no clock, no I/O.
 */
#ifndef KZ_SYNCER_COALESCE_H
#define KZ_SYNCER_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/opt.h"

#define SY_MIN_INTERVAL_MS 100
#define SY_COALESCE_GAP_MS 2	/* changes that paused this long: a burst's end */

struct sy_coalesce {
	uint64_t min_interval_ms;	/* --min-interval */
	bool dirty;
	uint64_t dirty_since_ms;	/* first change not yet rendered */
	uint64_t last_mark_ms;		/* the latest change */
	uint64_t last_render_ms;
	bool rendered;			/* a render has happened */
	unsigned long marks;		/* changes marked */
	unsigned long renders;		/* renders reported */
};

void sy_coalesce_init(struct sy_coalesce *c, uint64_t min_interval_ms);

/* The model changed at NOW_MS. */
void sy_coalesce_mark(struct sy_coalesce *c, uint64_t now_ms);

/*
 * Milliseconds until a render is due (0: now), or -1 when nothing is
 * pending.
 */
long sy_coalesce_due_in(const struct sy_coalesce *c, uint64_t now_ms);

/* A render of everything marked so far finished (or started) at NOW_MS. */
void sy_coalesce_done(struct sy_coalesce *c, uint64_t now_ms);

/* The option rows (ctx: struct sy_coalesce). */
extern const struct kz_opt sy_coalesce_opt_table[];

#endif
