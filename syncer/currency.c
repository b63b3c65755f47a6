/*
 * syncer/currency.c -- bookkeeping behind the currency metrics.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "nsd-conf/serial.h"
#include "syncer/currency.h"

#define T_PTR 12

double
sy_cur_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- serials ------------------------------------------------------------ */

uint32_t
sy_cur_behind_serials(uint32_t have, uint32_t published)
{
	return nc_sn_cmp(have, published) < 0 ? published - have : 0;
}

void
sy_cur_published(struct sy_cur_hist *h, uint32_t serial, double at)
{
	h->v[h->next].serial = serial;
	h->v[h->next].at = at;
	h->next = (h->next + 1) % SY_CUR_HISTORY;
	if (h->n < SY_CUR_HISTORY)
		h->n++;
}

double
sy_cur_behind_since(const struct sy_cur_hist *h, bool known, uint32_t have)
{
	size_t oldest = (h->next + SY_CUR_HISTORY - h->n) % SY_CUR_HISTORY;
	size_t last = (h->next + SY_CUR_HISTORY - 1) % SY_CUR_HISTORY;

	if (h->n == 0 || (known && nc_sn_cmp(have, h->v[last].serial) >= 0))
		return 0;
	/* the oldest publication above HAVE (the history ascends) */
	for (size_t k = 0; known && k < h->n; k++) {
		size_t i = (oldest + k) % SY_CUR_HISTORY;

		if (nc_sn_cmp(h->v[i].serial, have) > 0)
			return h->v[i].at;
	}
	return h->v[oldest].at;
}

/* --- which Services a diff changed --------------------------------------- */

/* NAME (wire, uncompressed, LEN octets) as dotted lower-case text with
 * the final dot ("." for the root). False when malformed or too long. */
static bool
wire_text(const uint8_t *name, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	while (i < len && name[i] != 0) {
		size_t l = name[i++];

		if (l > 63 || i + l > len || o + l + 2 > outsz)
			return false;
		for (size_t k = 0; k < l; k++)
			out[o++] = (char)tolower(name[i + k]);
		out[o++] = '.';
		i += l;
	}
	if (i >= len || o + 2 > outsz)
		return false;
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return true;
}

bool
sy_cur_service_of(const uint8_t *name, size_t len, const char *origin,
    char *key, size_t keysz)
{
	char text[1100];
	size_t tl, ol = strlen(origin), n = 0;
	char *labels[3], *p;

	if (!wire_text(name, len, text, sizeof(text)))
		return false;
	tl = strlen(text);
	/* TEXT = <rest>.<origin> */
	if (ol == 0 || origin[ol - 1] != '.' || tl <= ol + 1 ||
	    strcasecmp(text + tl - ol, origin) != 0 || text[tl - ol - 1] != '.')
		return false;
	text[tl - ol - 1] = '\0';
	/* the last three labels of <rest>: <svc>.<ns>.svc */
	while (n < 3 && (p = strrchr(text, '.')) != NULL) {
		labels[n++] = p + 1;
		*p = '\0';
	}
	if (n < 3)
		labels[n++] = text;
	if (n < 3 || strcmp(labels[0], "svc") != 0 || !labels[1][0] ||
	    !labels[2][0])
		return false;
	return (size_t)snprintf(key, keysz, "%s/%s", labels[1], labels[2]) <
	    keysz;
}

/* Zones where one Service changed (value of sy_cur_hits.svc). */
struct hit {
	size_t n, cap;
	size_t *zones;
	char key[];
};

static int
hit_add(struct sy_cur_hits *hits, const char *key, size_t zone)
{
	struct hit *h = kz_map_get(&hits->svc, key);

	if (h == NULL) {
		h = calloc(1, sizeof(*h) + strlen(key) + 1);
		if (h == NULL)
			return KZ_ENOMEM;
		memcpy(h->key, key, strlen(key) + 1);
		if (kz_map_put(&hits->svc, h->key, h, NULL)) {
			free(h);
			return KZ_ENOMEM;
		}
	}
	for (size_t i = 0; i < h->n; i++)
		if (h->zones[i] == zone)
			return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 2;
		size_t *v = realloc(h->zones, cap * sizeof(*v));

		if (v == NULL)
			return KZ_ENOMEM;
		h->zones = v;
		h->cap = cap;
	}
	h->zones[h->n++] = zone;
	return 0;
}

void
sy_cur_hits_free(struct sy_cur_hits *hits)
{
	size_t it = 0;
	void *v;

	while (kz_map_next(&hits->svc, &it, NULL, &v)) {
		struct hit *h = v;

		free(h->zones);
		free(h);
	}
	kz_map_free(&hits->svc);
	kz_map_init(&hits->svc);
}

static int
hits_of(struct sy_cur_hits *hits, const char *origin, size_t zone,
    const struct zg_rr *rr, size_t n)
{
	char key[300];

	for (size_t i = 0; i < n; i++) {
		const struct zg_rr *r = &rr[i];
		bool ok = r->type == T_PTR ?
		    sy_cur_service_of(r->rdata, r->rdlen, origin, key,
		    sizeof(key)) :
		    sy_cur_service_of(r->owner, r->ownerlen, origin, key,
		    sizeof(key));

		if (ok && hit_add(hits, key, zone))
			return KZ_ENOMEM;
	}
	return 0;
}

int
sy_cur_hits_collect(struct sy_cur_hits *hits, const struct zg_db *db)
{
	const char *origin = db->nzones ? db->zones[0].origin : "";

	sy_cur_hits_free(hits);
	for (size_t z = 0; z < db->nzones; z++) {
		const struct zg_diff *d = &db->zones[z].diff;

		if (hits_of(hits, origin, z, d->del, d->ndel) ||
		    hits_of(hits, origin, z, d->add, d->nadd))
			return KZ_ENOMEM;
	}
	return 0;
}

const size_t *
sy_cur_hits_zones(const struct sy_cur_hits *hits, const char *key,
    size_t *n)
{
	const struct hit *h = kz_map_get(&hits->svc, key);

	*n = h ? h->n : 0;
	return h ? h->zones : NULL;
}

/* --- changes waiting for NSD ------------------------------------------------ */

struct sy_cur_obs {
	double trigger;
	size_t n;
	struct {
		size_t zone;
		uint32_t serial;
	} z[];
};

int
sy_cur_wait_init(struct sy_cur_wait *w, size_t nzones)
{
	memset(w, 0, sizeof(*w));
	w->nzones = nzones;
	w->served = calloc(nzones ? nzones : 1, sizeof(*w->served));
	w->known = calloc(nzones ? nzones : 1, sizeof(*w->known));
	return w->served && w->known ? 0 : KZ_ENOMEM;
}

void
sy_cur_wait_free(struct sy_cur_wait *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	free(w->served);
	free(w->known);
	memset(w, 0, sizeof(*w));
}

int
sy_cur_wait_add(struct sy_cur_wait *w, double trigger,
    const size_t *zones, const uint32_t *serials, size_t n)
{
	struct sy_cur_obs *o;

	if (w->n >= SY_CUR_MAX_WAITING) {
		w->dropped++;
		return KZ_ETOOBIG;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct sy_cur_obs **v = realloc(w->v, cap * sizeof(*v));

		if (v == NULL)
			goto nomem;
		w->v = v;
		w->cap = cap;
	}
	o = malloc(sizeof(*o) + n * sizeof(o->z[0]));
	if (o == NULL)
		goto nomem;
	o->trigger = trigger;
	o->n = n;
	for (size_t i = 0; i < n; i++) {
		o->z[i].zone = zones[i];
		o->z[i].serial = serials[i];
	}
	w->v[w->n++] = o;
	return 0;
nomem:
	w->dropped++;
	return KZ_ENOMEM;
}

static bool
obs_served(const struct sy_cur_wait *w, const struct sy_cur_obs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		size_t z = o->z[i].zone;

		if (z >= w->nzones || !w->known[z] ||
		    nc_sn_cmp(w->served[z], o->z[i].serial) < 0)
			return false;
	}
	return true;
}

size_t
sy_cur_served(struct sy_cur_wait *w, size_t zone, uint32_t serial,
    double now, void (*fn)(void *ctx, double latency), void *ctx)
{
	size_t done = 0, keep = 0;

	if (zone >= w->nzones)
		return 0;
	w->served[zone] = serial;
	w->known[zone] = true;
	for (size_t i = 0; i < w->n; i++) {
		struct sy_cur_obs *o = w->v[i];

		if (obs_served(w, o)) {
			fn(ctx, now - o->trigger);
			free(o);
			done++;
		} else {
			w->v[keep++] = o;
		}
	}
	w->n = keep;
	return done;
}

bool
sy_cur_waiting(const struct sy_cur_wait *w, size_t zone)
{
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->v[i]->n; k++)
			if (w->v[i]->z[k].zone == zone)
				return true;
	return false;
}
