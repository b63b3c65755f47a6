/*
 * syncer/currency.h -- is DNS current? The bookkeeping behind the
 * currency metrics, kept apart from the loop so that it is pure.
 *
 * Three questions, answered from what the loop already learns:
 *
 *   - How long after a Kubernetes change does NSD serve it (DNS
 *     programming latency)? An EndpointSlice carries the time its
 *     change was triggered (zonegen/model.h: trigger_time). When the
 *     change made a diff, the slice's Service is found in the diff (by
 *     owner name, or PTR target, under <svc>.<ns>.svc.<zone>), and the
 *     change waits (sy_cur_wait_add) until NSD answers, for every zone
 *     the Service's records changed in, with that diff's serial or a
 *     later one (sy_cur_served). The wait then ends in one observation.
 *   - Which serial a --notify secondary has, and how far it is behind:
 *     in serials (RFC 1982) and in seconds since the first serial it
 *     lacks was published (the publication history of each zone,
 *     sy_cur_hist).
 *
 * Wall-clock times (Unix seconds) throughout: the trigger time comes
 * from another host's clock. Ownership: each structure owns its
 * entries; free with the matching _free (NULL-safe, also after a
 * failure). Single-threaded.
 */
#ifndef KZ_SYNCER_CURRENCY_H
#define KZ_SYNCER_CURRENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/map.h"
#include "zonegen/zonedb.h"

/* Publications remembered per zone (a secondary further behind is
 * taken as behind since the oldest one remembered). */
#define SY_CUR_HISTORY 256
/* Latency observations waiting for NSD at most (beyond: not observed). */
#define SY_CUR_MAX_WAITING 65536

/* Wall-clock now, Unix seconds. */
double sy_cur_wall_now(void);

/* --- serials ------------------------------------------------------------ */

/* How many serials HAVE is behind PUBLISHED in RFC 1982 order; 0 when
 * it is not behind (equal, ahead, or undefined: 2^31 apart). */
uint32_t sy_cur_behind_serials(uint32_t have, uint32_t published);

/* When each recent serial of one zone was published. */
struct sy_cur_hist {
	struct {
		uint32_t serial;
		double at;		/* Unix seconds */
	} v[SY_CUR_HISTORY];
	size_t n, next;			/* entries; ring position */
};

/* Remember that SERIAL was published at AT (serials only go up). */
void sy_cur_published(struct sy_cur_hist *h, uint32_t serial, double at);

/*
 * Since when a secondary holding HAVE (KNOWN false: no copy at all) is
 * behind: the time the first serial above HAVE was published, or the
 * oldest publication remembered when HAVE is older than all of them
 * (or unknown). 0 when it is not behind the last serial published, or
 * nothing was published.
 */
double sy_cur_behind_since(const struct sy_cur_hist *h, bool known,
    uint32_t have);

/* --- programming latency --------------------------------------------------- */

/*
 * The Services a batch's diffs changed: "ns/name" -> the zones (by
 * database index) where records of the Service changed.
 */
struct sy_cur_hits {
	struct kz_map svc;
};

/*
 * The Service ("ns/name") a record at NAME (a wire name) belongs to in
 * the cluster zone ORIGIN ("cluster.local."): NAME is <svc>.<ns>.svc.
 * ORIGIN or below. KEY gets "ns/name" in lower case. True when so.
 */
bool sy_cur_service_of(const uint8_t *name, size_t len, const char *origin,
    char *key, size_t keysz);

/*
 * Fill HITS (emptied first) from the last diffs of DB: every record
 * added or removed whose owner (for a PTR, whose target) names a
 * Service. 0 or KZ_ENOMEM.
 */
int sy_cur_hits_collect(struct sy_cur_hits *hits, const struct zg_db *db);
/* The zones where Service KEY changed (*N of them), or NULL. */
const size_t *sy_cur_hits_zones(const struct sy_cur_hits *hits,
    const char *key, size_t *n);
void sy_cur_hits_free(struct sy_cur_hits *hits);

struct sy_cur_obs;

/* Changes waiting for NSD to serve them, and what NSD serves. */
struct sy_cur_wait {
	struct sy_cur_obs **v;
	size_t n, cap;
	size_t nzones;
	uint32_t *served;		/* per zone: NSD's last answer */
	bool *known;			/* per zone: has NSD answered */
	unsigned long dropped;		/* waits refused (the cap, memory) */
};

/* 0 or KZ_ENOMEM. */
int sy_cur_wait_init(struct sy_cur_wait *w, size_t nzones);
void sy_cur_wait_free(struct sy_cur_wait *w);

/*
 * A change triggered at TRIGGER is published in the zones ZONES[0..N)
 * with the serials SERIALS[0..N); it waits until NSD serves them all.
 * 0, or KZ_ENOMEM / KZ_ETOOBIG (not kept; counted in dropped).
 */
int sy_cur_wait_add(struct sy_cur_wait *w, double trigger,
    const size_t *zones, const uint32_t *serials, size_t n);

/*
 * NSD answered SERIAL for ZONE at NOW: each change now served in all
 * its zones ends with FN(CTX, NOW - its trigger). Returns their number.
 */
size_t sy_cur_served(struct sy_cur_wait *w, size_t zone, uint32_t serial,
    double now, void (*fn)(void *ctx, double latency), void *ctx);

/* Whether some change waits for NSD to serve ZONE. */
bool sy_cur_waiting(const struct sy_cur_wait *w, size_t zone);

#endif
