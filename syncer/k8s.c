/*
 * syncer/k8s.c -- list/watch reflectors over libcurl's multi interface.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/k8s.h"
#include "zonegen/decode.h"
#include "zonegen/selector.h"

#define FAILURES_BEFORE_RELIST 3
#define GONE_RESTARTS 3		/* 410s on list pages restarted at once */
#define SHORT_WATCH_MS 1000
#define ERROR_BODY_MAX (64u * 1024)
#define KEEP_BODY_CAP (8u << 20)
#define STILL_DOWN_WARN_MS 30000
#define LIST_TIMEOUT_S 300
#define STALL_MS 1500		/* a loop iteration longer than this */
#define CRED_WAIT_MS 100	/* asking again for an exec credential */

struct resource_def {
	enum zg_kind kind;
	const char *resource, *path, *kind_name, *field_selector;
	const char *discovery;	/* a CRD's: the discovery document that
				 * lists it when installed, or NULL */
};

/* Pods: only those that may get records (CoreDNS's selector). */
static const struct resource_def resources[] = {
	{ ZG_KIND_NAMESPACE, "namespaces", "/api/v1/namespaces", "Namespace",
	  NULL },
	{ ZG_KIND_SERVICE, "services", "/api/v1/services", "Service", NULL },
	{ ZG_KIND_SLICE, "endpointslices",
	  "/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice", NULL },
	{ ZG_KIND_POD, "pods", "/api/v1/pods", "Pod",
	  "status.phase!=Succeeded,status.phase!=Failed,"
	  "status.phase!=Unknown" },
	/* The Multi-Cluster Services API's CRD: only with opts.imports,
	 * and only when discovery lists it. */
	{ ZG_KIND_IMPORT, "serviceimports",
	  "/apis/multicluster.x-k8s.io/v1alpha1/serviceimports",
	  "ServiceImport", NULL, "/apis/multicluster.x-k8s.io/v1alpha1" },
};

/* --- back-off ------------------------------------------------------ */

void
sy_backoff_init(struct sy_backoff *b, uint64_t initial_ms, uint64_t max_ms)
{
	memset(b, 0, sizeof(*b));
	b->initial_ms = initial_ms ? initial_ms : 1;
	b->max_ms = max_ms < b->initial_ms ? b->initial_ms : max_ms;
	b->reset_ms = 120000;
}

void
sy_backoff_reset(struct sy_backoff *b)
{
	b->cur_ms = 0;
	b->used = false;
}

uint64_t
sy_backoff_next(struct sy_backoff *b, uint64_t now_ms, double rand01)
{
	uint64_t base, d;

	if (!b->used || b->cur_ms == 0 || now_ms - b->last_ms >= b->reset_ms)
		b->cur_ms = b->initial_ms;
	base = b->cur_ms;
	b->cur_ms = base >= b->max_ms / 2 ? b->max_ms : base * 2;
	b->last_ms = now_ms;
	b->used = true;
	if (rand01 < 0)
		rand01 = 0;
	if (rand01 >= 1)
		rand01 = 0.999;
	d = base + (uint64_t)((double)base * rand01);
	return d > b->max_ms ? b->max_ms : d;
}

/* xorshift64*, seeded from the clock: jitter only, nothing secret. */
static double
rand01(struct sy_k8s *k)
{
	uint64_t x = k->rand_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	k->rand_state = x;
	return (double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* --- options ------------------------------------------------------- */

void
sy_k8s_opts_init(struct sy_k8s_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->page_size = 500;
	o->watch_timeout_ms = 300000;
	o->idle_timeout_ms = 130000;
	o->backoff_initial_ms = 800;
	o->backoff_max_ms = 30000;
	o->relist_ms = 1800000;
	o->connect_timeout_ms = 10000;
	o->token_refresh_ms = SY_TOKEN_REFRESH_MS;
	o->max_event = SY_FRAMER_MAX_LINE;
	o->max_page = (size_t)512 << 20;
}

static int
set_kubeconfig(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->kubeconfig = arg;
	return KZ_OK;
}

static int
set_context(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->context = arg;
	return KZ_OK;
}

/*
 * The setters below take values kz_opt_parse() has checked against the
 * table's range already: they only store them.
 */
static unsigned long
number(const char *arg)
{
	return strtoul(arg, NULL, 10);
}

static uint64_t
duration(const char *arg)
{
	unsigned long long v = 0;

	(void)kz_opt_duration_ms(arg, &v);
	return v;
}

static int
set_page_size(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->page_size = (unsigned)number(arg);
	return KZ_OK;
}

static int
set_watch_timeout(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->watch_timeout_ms = duration(arg);
	return KZ_OK;
}

static int
set_idle_timeout(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->idle_timeout_ms = duration(arg);
	return KZ_OK;
}

static int
set_backoff_max(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->backoff_max_ms = duration(arg);
	return KZ_OK;
}

static int
set_relist(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->relist_ms = duration(arg);
	return KZ_OK;
}

static int
set_token_refresh(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->token_refresh_ms = duration(arg);
	return KZ_OK;
}

static int
set_max_event(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct sy_k8s_opts *)ctx)->max_event = number(arg);
	return KZ_OK;
}

const struct kz_opt sy_k8s_opt_table[] = {
	{ "kubeconfig", "FILE", NULL, "KUBECONFIG", false, set_kubeconfig,
	  "Kubernetes API from this kubeconfig file (else $KUBECONFIG, a "
	  "\":\"-separated list, else the in-cluster service account)." },
	{ "context", "NAME", "current-context", NULL, false, set_context,
	  "The kubeconfig context to use." },
	{ "page-size", "N", "500", NULL, false, set_page_size,
	  "Objects per list page (limit); 0 lists in one response.",
	  KZ_OPT_NUMBER, 0, 100000 },
	{ "watch-timeout", "DURATION", "5m", NULL, false, set_watch_timeout,
	  "Each watch asks the server to end it after a random time from "
	  "DURATION to twice that (timeoutSeconds); it is then resumed.",
	  KZ_OPT_DURATION, 1000, 86400000 },
	{ "idle-timeout", "DURATION", "130s", NULL, false, set_idle_timeout,
	  "A watch or list that receives no byte (not even a bookmark) for "
	  "this long is taken for dead and reconnected.",
	  KZ_OPT_DURATION, 500, 86400000 },
	{ "backoff-max", "DURATION", "30s", NULL, false, set_backoff_max,
	  "Longest wait between retries after API errors (the wait starts "
	  "at 800ms and doubles, with jitter).",
	  KZ_OPT_DURATION, 100, 3600000 },
	{ "relist-interval", "DURATION", "30m", NULL, false, set_relist,
	  "Relist every resource this often (with jitter) as a safety net "
	  "against missed events.", KZ_OPT_DURATION, 1000, 604800000, true },
	{ "token-refresh", "DURATION", "1m", NULL, false, set_token_refresh,
	  "Re-read a token file (tokenFile, in-cluster token) this often, "
	  "and at once after a 401.", KZ_OPT_DURATION, 100,
	  SY_TOKEN_REFRESH_MS },
	{ "max-event-size", "BYTES", "16777216", NULL, false, set_max_event,
	  "Longest watch event line; longer ones are skipped and counted.",
	  KZ_OPT_NUMBER, 1024, 1UL << 30 },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

/* --- helpers ------------------------------------------------------- */

static void
count(struct sy_metric *m, const struct sy_reflector *r, const char *l2)
{
	sy_metric_add(m, 1, (const char *[]){ r->resource, l2 });
}

static void
changed(struct sy_reflector *r)
{
	if (r->k->on_change)
		r->k->on_change(r->k->ctx);
}

static void
set_rv(char *dst, size_t dstsz, const char *rv)
{
	if (rv && *rv && strlen(rv) < dstsz)
		memcpy(dst, rv, strlen(rv) + 1);
}

/*
 * A failed json_loadb() ran out of memory: jansson leaves the error text
 * empty (and its code unset) on most of those paths. ERR must have been
 * zeroed before the call.
 */
static bool
jansson_oom(const json_error_t *err)
{
	return err->text[0] == '\0' ||
	    json_error_code(err) == json_error_out_of_memory;
}

/* The model key of OBJ ("ns/name", or "name"); caller frees. */
static char *
object_key(json_t *obj, bool namespaced)
{
	const char *ns, *name;
	char *key;

	if (zg_decode_meta(obj, &ns, &name))
		return NULL;
	if (!namespaced || ns == NULL)
		return strdup(name);
	if (asprintf(&key, "%s/%s", ns, name) < 0)
		return NULL;
	return key;
}

static void
seen_clear(struct sy_reflector *r)
{
	size_t it = 0;
	const char *key;
	void *v;

	while (kz_map_next(&r->seen, &it, &key, &v))
		free((char *)key);
	kz_map_free(&r->seen);
	kz_map_init(&r->seen);
}

/* Delete the object with KEY of R's kind; 1 when it was there. */
static int
delete_key(struct sy_reflector *r, const char *key)
{
	const char *slash = strchr(key, '/');
	char ns[256];

	if (r->kind == ZG_KIND_NAMESPACE || slash == NULL)
		return zg_model_del(r->k->model, r->kind, NULL, key);
	if ((size_t)(slash - key) >= sizeof(ns))
		return 0;
	memcpy(ns, key, (size_t)(slash - key));
	ns[slash - key] = '\0';
	return zg_model_del(r->k->model, r->kind, ns, slash + 1);
}

/*
 * Put OBJ into the model. An object of our kind that cannot be used is
 * removed (a fresh snapshot would skip it too). 1 when the model
 * changed, 0 when not, KZ_ENOMEM.
 */
static int
put_object(struct sy_reflector *r, json_t *obj)
{
	struct zg_decode_error err;
	char *key;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = zg_decode_object(r->k->model, obj, r->kind_name, &err);
	if (rc == 0)
		return 1;
	if (rc == KZ_ENOMEM)
		return rc;
	key = object_key(obj, r->kind != ZG_KIND_NAMESPACE);
	kz_warn("object skipped", "kind=%s key=%s reason=\"%s\"", r->kind_name,
	    key ? key : "?", err.text);
	count(r->k->m_skipped, r, "invalid");
	rc = key ? delete_key(r, key) : 0;
	free(key);
	return rc;
}

/* --- lists --------------------------------------------------------- */

void
sy_reflector_list_begin(struct sy_reflector *r, const char *reason)
{
	seen_clear(r);
	/* A first list finds the model without objects of its kind: all
	 * it leaves there it listed, and 150,000 keys noted only to be
	 * freed at the end would leave as many holes in the heap. */
	r->note_seen = zg_model_count(r->k->model, r->kind) > 0;
	free(r->cont);
	r->cont = NULL;
	r->list_rv[0] = '\0';
	r->pages = 0;
	r->relist_reason = reason;
}

int
sy_reflector_list_end(struct sy_reflector *r)
{
	struct kz_map *objs = &r->k->model->objects[r->kind];
	size_t it = 0, n = 0, cap = 0, removed = 0;
	char **gone = NULL, **g;
	const char *key;
	void *v;
	int rc = 0;

	/* collect first: the map must not change while iterating */
	while (r->note_seen && kz_map_next(objs, &it, &key, &v)) {
		if (kz_map_get(&r->seen, key))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			g = realloc(gone, cap * sizeof(*gone));
			if (g == NULL) {
				rc = KZ_ENOMEM;
				break;
			}
			gone = g;
		}
		if ((gone[n] = strdup(key)) == NULL) {
			rc = KZ_ENOMEM;
			break;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			removed += (size_t)delete_key(r, gone[i]);
		free(gone[i]);
	}
	free(gone);
	seen_clear(r);
	if (rc)
		return rc;
	if (removed) {
		kz_info("relist removed objects deleted while not watching",
		    "resource=%s removed=%zu", r->resource, removed);
		changed(r);
	}
	set_rv(r->rv, sizeof(r->rv), r->list_rv);
	return 0;
}

static int
note_seen(struct sy_reflector *r, json_t *item)
{
	char *key;
	void *old = NULL;

	if (!r->note_seen)
		return 0;
	key = object_key(item, r->kind != ZG_KIND_NAMESPACE);
	if (key == NULL)
		return 0;	/* no name: cannot be in the model */
	if (kz_map_get(&r->seen, key)) {
		free(key);
		return 0;
	}
	if (kz_map_put(&r->seen, key, key, &old)) {
		free(key);
		return KZ_ENOMEM;
	}
	return 0;
}

/* A list page, decoded by the streaming decoder into the reflector. */
struct page {
	struct sy_reflector *r;
	json_t *meta;		/* the page's metadata (a new reference) */
	bool doc;		/* a top-level object was seen */
	bool bad_items;		/* "items" is neither an array nor null */
	int any;		/* an item changed the model */
};

static int
page_object(void *ctx, json_t *obj, const char *kind)
{
	struct page *pg = ctx;
	int c;

	(void)kind;		/* the resource says what its items are */
	if (json_object_get(obj, "items"))
		return 0;	/* the page itself: its items are null */
	if ((c = put_object(pg->r, obj)) < 0)
		return c;
	pg->any |= c;
	return note_seen(pg->r, obj);
}

static int
page_document(void *ctx, json_t *doc)
{
	struct page *pg = ctx;
	json_t *items = json_object_get(doc, "items");

	pg->doc = true;
	if (items && !json_is_null(items))
		pg->bad_items = true;	/* an array would have streamed */
	json_decref(pg->meta);
	pg->meta = json_incref(json_object_get(doc, "metadata"));
	return 0;
}

int
sy_reflector_list_page(struct sy_reflector *r, const char *data, size_t len)
{
	struct page pg = { .r = r };
	struct zg_decode_sink sink = { page_object, page_document, &pg };
	struct zg_decode_opts opts = { .sink = &sink };
	struct zg_decode_stats st = { 0 };
	struct zg_decode_error err;
	const char *cont;
	char msg[400];
	int rc;

	memset(&err, 0, sizeof(err));
	rc = zg_decode_mem(NULL, data, len, r->resource, &opts, &st, &err);
	if (rc == 0 && (!pg.doc || st.documents != 1 || pg.bad_items)) {
		snprintf(err.text, sizeof(err.text), "%s", !pg.doc ||
		    st.documents != 1 ? "not one JSON object" :
		    "\"items\" is not an array");
		rc = KZ_EPARSE;
	}
	if (rc == KZ_EPARSE || rc == KZ_EPROTO) {
		kz_warn("list response not usable", "resource=%s error=%s",
		    r->resource, kz_log_quote(msg, sizeof(msg), err.text));
		rc = KZ_EPARSE;
	}
	if (rc == 0)
		set_rv(r->list_rv, sizeof(r->list_rv), json_string_value(
		    json_object_get(pg.meta, "resourceVersion")));
	cont = json_string_value(json_object_get(pg.meta, "continue"));
	free(r->cont);
	r->cont = NULL;
	if (rc == 0 && cont && *cont && (r->cont = strdup(cont)) == NULL)
		rc = KZ_ENOMEM;
	json_decref(pg.meta);
	r->pages++;
	if (pg.any)
		changed(r);
	if (rc)
		return rc;
	return r->cont ? 1 : 0;
}

/* --- watch events -------------------------------------------------- */

static int
event_error(struct sy_reflector *r, json_t *status)
{
	json_int_t code = json_integer_value(json_object_get(status, "code"));
	const char *msg = json_string_value(json_object_get(status,
	    "message"));
	char q[512];

	kz_log(code == 410 ? KZ_LOG_INFO : KZ_LOG_WARN, "watch error event",
	    "resource=%s code=%" JSON_INTEGER_FORMAT " message=%s",
	    r->resource, code, kz_log_quote(q, sizeof(q), msg ? msg : ""));
	if (code == 410) {
		count(r->k->m_errors, r, "410");
		return SY_ABORT_GONE;
	}
	snprintf(q, sizeof(q), "%" JSON_INTEGER_FORMAT, code);
	count(r->k->m_errors, r, q);
	return SY_ABORT_ERROR_EVENT;
}

/* Apply one decoded event. 0, or an abort reason. */
static int
apply_event(struct sy_reflector *r, const char *type, json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	int rc = 0;

	if (strcmp(type, "ERROR") == 0)
		return event_error(r, obj);
	if (!json_is_object(obj))
		return SY_ABORT_MALFORMED;
	count(r->k->m_events, r, type);
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		rc = put_object(r, obj);
	} else if (strcmp(type, "DELETED") == 0) {
		char *key = object_key(obj, r->kind != ZG_KIND_NAMESPACE);
		rc = key ? delete_key(r, key) : 0;
		free(key);
	} else if (strcmp(type, "BOOKMARK") != 0) {
		kz_debug("unknown watch event type ignored", "resource=%s "
		    "type=%s", r->resource, type);
	}
	if (rc < 0)
		return SY_ABORT_NOMEM;
	if (rc > 0)
		changed(r);
	set_rv(r->rv, sizeof(r->rv),
	    json_string_value(json_object_get(meta, "resourceVersion")));
	r->watch_events++;
	r->bad_events = 0;
	return 0;
}

/*
 * jansson's allocations while one watch event is decoded come from one
 * region, given back whole when the event is done: a Pod event is a few
 * hundred small allocations, and malloc() on a heap that holds the
 * cluster made them most of the event's cost. What does not fit (or
 * is asked outside an event) goes to the allocator installed before.
 */
#define EV_REGION (256u * 1024)

static struct {
	char *base;
	size_t used;
	bool on;
	bool spilled;		/* an allocation of this event went past */
	json_malloc_t next_malloc;
	json_free_t next_free;
} ev_rg;

static void *
ev_malloc(size_t n)
{
	size_t a = (n + 15) & ~(size_t)15;

	if (ev_rg.on && a >= n && a <= EV_REGION - ev_rg.used) {
		void *p = ev_rg.base + ev_rg.used;
		ev_rg.used += a;
		return p;
	}
	ev_rg.spilled = true;
	return ev_rg.next_malloc(n);
}

static void
ev_free(void *p)
{
	if (ev_rg.base && (char *)p >= ev_rg.base &&
	    (char *)p < ev_rg.base + EV_REGION)
		return;		/* given back with the region */
	ev_rg.next_free(p);
}

/* Install the region allocator once (idempotent). */
static void
ev_region_init(void)
{
	if (ev_rg.base || (ev_rg.base = malloc(EV_REGION)) == NULL)
		return;
	json_get_alloc_funcs(&ev_rg.next_malloc, &ev_rg.next_free);
	json_set_alloc_funcs(ev_malloc, ev_free);
}

/*
 * The text to parse for the event LINE (*LEN bytes): the event without
 * what the decoder never reads (syncer/prune.h) in K's buffer, or LINE
 * itself when it cannot be pruned or there is no memory for the copy.
 */
static const char *
event_text(struct sy_reflector *r, const char *line, size_t *len)
{
	struct sy_k8s *k = r->k;
	size_t n;

	if (*len > k->pruned_cap) {
		char *p = realloc(k->pruned, *len);

		if (p == NULL)
			return line;
		k->pruned = p;
		k->pruned_cap = *len;
	}
	n = sy_prune_event(&r->prune, line, *len, k->pruned);
	if (n == 0)
		return line;
	*len = n;
	return k->pruned;
}

/* Parse LINE (pruned, if it can be) with jansson's allocations in the
 * event region. */
static json_t *
event_parse(struct sy_reflector *r, const char *line, size_t len,
    json_error_t *jerr)
{
	size_t n = len;
	const char *text = event_text(r, line, &n);
	json_t *ev;

	ev_rg.on = ev_rg.base != NULL;
	ev_rg.used = 0;
	ev_rg.spilled = false;
	ev = json_loadb(text, n, 0, jerr);
	if (ev == NULL && text != line) {
		/* the error as the event's own text gives it */
		memset(jerr, 0, sizeof(*jerr));
		ev_rg.used = 0;
		ev = json_loadb(line, len, 0, jerr);
	}
	ev_rg.on = false;
	return ev;
}

/* Done with EV: a tree that lies wholly in the region goes with it. */
static void
event_free(json_t *ev)
{
	if (ev_rg.spilled || ev_rg.base == NULL)
		json_decref(ev);
}

static int
on_line(void *ctx, const char *line, size_t len)
{
	struct sy_reflector *r = ctx;
	uint64_t cpu = kz_cpu_ns();
	json_error_t jerr;
	json_t *ev;
	const char *type;
	int rc;

	memset(&jerr, 0, sizeof(jerr));
	ev = event_parse(r, line, len, &jerr);
	if (ev == NULL && jansson_oom(&jerr))
		return SY_ABORT_NOMEM;	/* re-watch from the last good RV */
	type = json_string_value(json_object_get(ev, "type"));
	if (ev == NULL || type == NULL) {
		kz_warn("malformed watch event skipped", "resource=%s bytes=%zu "
		    "error=\"%s\" rv=%s", r->resource, len,
		    ev ? "no type" : jerr.text, r->rv);
		count(r->k->m_skipped, r, "malformed");
		event_free(ev);
		return SY_ABORT_MALFORMED;
	}
	rc = apply_event(r, type, json_object_get(ev, "object"));
	event_free(ev);
	r->k->events++;
	r->k->events_cpu_ns += kz_cpu_ns() - cpu;
	return rc;
}

int
sy_reflector_watch_bytes(struct sy_reflector *r, const char *data,
    size_t len)
{
	unsigned long before = r->framer.oversized;
	int rc;

	rc = sy_framer_feed(&r->framer, data, len, on_line, r);
	if (rc == KZ_ENOMEM)
		rc = SY_ABORT_NOMEM;
	if (rc == 0 && r->framer.oversized != before) {
		kz_warn("oversized watch event skipped", "resource=%s "
		    "limit=%zu rv=%s", r->resource, r->framer.max_line, r->rv);
		count(r->k->m_skipped, r, "oversized");
		rc = SY_ABORT_OVERSIZED;
	}
	if (rc)
		r->abort = (enum sy_rf_abort)rc;
	return rc;
}

/* --- transfers ----------------------------------------------------- */

static int
url_param(struct kz_buf *b, CURL *h, const char *name, const char *value)
{
	char *esc = curl_easy_escape(h, value, 0);
	int rc;

	if (esc == NULL)
		return KZ_ENOMEM;
	rc = kz_buf_printf(b, "%c%s=%s", strchr(b->data, '?') ? '&' : '?',
	    name, esc);
	curl_free(esc);
	return rc;
}

/*
 * The label selector the API server applies to R's resource: the
 * model's (--labels for Services, EndpointSlices and Pods, as CoreDNS
 * sends it; --namespace-labels for Namespaces), or NULL. The decoder
 * applies the same selector to what comes back.
 */
static const struct zg_sel *
label_selector(const struct sy_reflector *r)
{
	const struct zg_model *m = r->k->model;
	const struct zg_sel *sel = r->kind == ZG_KIND_NAMESPACE ?
	    m->sel_namespaces : m->sel_objects;

	return sel && sel->nreqs ? sel : NULL;
}

char *
sy_reflector_url(struct sy_reflector *r, bool watch, uint64_t now_ms)
{
	const struct sy_k8s_opts *o = &r->k->opts;
	const struct zg_sel *sel;
	struct kz_buf b;
	char num[32];
	int rc;

	(void)now_ms;
	kz_buf_init(&b, 64 * 1024);
	if (r->discovering) {
		rc = kz_buf_printf(&b, "%s%s", sy_kubeconfig_base(r->k->kc),
		    r->discovery);
		if (rc) {
			kz_buf_free(&b);
			return NULL;
		}
		return kz_buf_steal(&b, NULL);
	}
	rc = kz_buf_printf(&b, "%s%s", sy_kubeconfig_base(r->k->kc), r->path);
	if (rc == 0 && r->field_selector)
		rc = url_param(&b, r->easy, "fieldSelector", r->field_selector);
	if (rc == 0 && (sel = label_selector(r)) != NULL)
		rc = url_param(&b, r->easy, "labelSelector", zg_sel_text(sel));
	if (watch) {
		uint64_t t = o->watch_timeout_ms / 1000;
		t += (uint64_t)((double)t * rand01(r->k));
		snprintf(num, sizeof(num), "%" PRIu64, t ? t : 1);
		if (rc == 0)
			rc = kz_buf_puts(&b, strchr(b.data, '?') ?
			    "&watch=1" : "?watch=1");
		if (rc == 0)
			rc = url_param(&b, r->easy, "resourceVersion", r->rv);
		if (rc == 0)
			rc = kz_buf_puts(&b, "&allowWatchBookmarks=true");
		if (rc == 0)
			rc = url_param(&b, r->easy, "timeoutSeconds", num);
	} else {
		snprintf(num, sizeof(num), "%u", o->page_size);
		if (rc == 0 && o->page_size && !r->unpaged)
			rc = url_param(&b, r->easy, "limit", num);
		if (rc == 0 && r->cont)
			rc = url_param(&b, r->easy, "continue", r->cont);
	}
	if (rc) {
		kz_buf_free(&b);
		return NULL;
	}
	return kz_buf_steal(&b, NULL);
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sy_reflector *r = ctx;
	size_t n = size * nmemb;
	const char *ct = NULL;

	r->last_byte_ms = kz_now_ms();
	if (r->http_status == 0) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
		    &r->http_status);
		curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
		r->is_json = ct && strncmp(ct, "application/json", 16) == 0;
	}
	if (r->http_status != 200 || !r->is_json) {
		/* keep the start of an error body for the log */
		if (r->body.len < ERROR_BODY_MAX)
			kz_buf_append(&r->body, data, n < ERROR_BODY_MAX -
			    r->body.len ? n : ERROR_BODY_MAX - r->body.len);
		return n;
	}
	if (r->state == SY_RF_WATCHING)
		return sy_reflector_watch_bytes(r, data, n) ? 0 : n;
	if (kz_buf_append(&r->body, data, n)) {
		r->abort = SY_ABORT_TOO_BIG;
		return 0;
	}
	return n;
}

/* Headers prove the connection alive too. */
static size_t
header_cb(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct sy_reflector *r = ctx;
	size_t n = size * nmemb;
	const char *ct = NULL;
	long code = 0;

	r->last_byte_ms = kz_now_ms();
	if ((n == 2 && data[0] == '\r') || (n == 1 && data[0] == '\n')) {
		/* end of a header block: a final status? */
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200) {
			r->http_status = code;
			curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
			r->is_json = ct &&
			    strncmp(ct, "application/json", 16) == 0;
		}
	}
	return n;
}

static int
set_headers(struct sy_reflector *r, uint64_t now_ms)
{
	const char *token = sy_kubeconfig_token(r->k->kc, now_ms);
	struct curl_slist *h = NULL, *t;
	char *auth = NULL;

	curl_slist_free_all(r->headers);
	r->headers = NULL;
	h = curl_slist_append(NULL, "Accept: application/json");
	if (h == NULL)
		return KZ_ENOMEM;
	if (r->k->kc->host_header) {
		if ((t = curl_slist_append(h, r->k->kc->host_header)) == NULL) {
			curl_slist_free_all(h);
			return KZ_ENOMEM;
		}
		h = t;
	}
	if (token) {
		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
			curl_slist_free_all(h);
			return KZ_ENOMEM;
		}
		t = curl_slist_append(h, auth);
		free(auth);
		if (t == NULL) {
			curl_slist_free_all(h);
			return KZ_ENOMEM;
		}
		h = t;
	}
	r->headers = h;
	return 0;
}

static int
prepare(struct sy_reflector *r, bool watch, uint64_t now_ms)
{
	const struct sy_k8s_opts *o = &r->k->opts;
	CURL *e = r->easy;
	long timeout;

	free(r->url);
	r->url = sy_reflector_url(r, watch, now_ms);
	if (r->url == NULL || set_headers(r, now_ms))
		return KZ_ENOMEM;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, r->k->user_agent);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)o->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
	if (watch) {
		timeout = (long)(o->watch_timeout_ms / 1000) * 2 + 30;
	} else {
		timeout = LIST_TIMEOUT_S;
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	}
	curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout);
	if (sy_kubeconfig_apply(r->k->kc, e))
		return KZ_EINVAL;
	return 0;
}

static void
start_transfer(struct sy_reflector *r, bool watch, uint64_t now_ms);

/* Wait DELAY_MS, then list (LIST) or watch. */
static void
schedule(struct sy_reflector *r, bool list, uint64_t delay_ms,
    uint64_t now_ms)
{
	r->state = SY_RF_IDLE;
	r->next_is_list = list;
	r->next_ms = now_ms + delay_ms;
}

/*
 * No credential yet (the exec plugin is running or failing): wait for
 * it, asking again every CRED_WAIT_MS; the request is queued, not failed.
 */
static void mark_down(struct sy_reflector *r, uint64_t now_ms);

static bool
wait_credential(struct sy_reflector *r, bool watch, uint64_t now_ms)
{
	if (sy_kubeconfig_ready(r->k->kc, now_ms))
		return false;
	if (sy_kubeconfig_exec_error(r->k->kc)) {
		mark_down(r, now_ms);	/* and look again less often */
		schedule(r, !watch, 10 * CRED_WAIT_MS, now_ms);
		return true;
	}
	schedule(r, !watch, CRED_WAIT_MS, now_ms);
	return true;
}

static void
start_transfer(struct sy_reflector *r, bool watch, uint64_t now_ms)
{
	CURLMcode mc;

	if (wait_credential(r, watch, now_ms))
		return;

	r->http_status = 0;
	r->is_json = false;
	r->abort = SY_ABORT_NONE;
	r->started_ms = r->last_byte_ms = now_ms;
	r->watch_events = 0;
	kz_buf_reset(&r->body);
	sy_framer_reset(&r->framer);
	if (prepare(r, watch, now_ms)) {
		kz_error("cannot prepare API request", "resource=%s",
		    r->resource);
		schedule(r, !watch, sy_backoff_next(&r->backoff, now_ms,
		    rand01(r->k)), now_ms);
		return;
	}
	mc = curl_multi_add_handle(r->k->multi, r->easy);
	if (mc != CURLM_OK) {
		kz_error("cannot start API request", "resource=%s error=\"%s\"",
		    r->resource, curl_multi_strerror(mc));
		schedule(r, !watch, sy_backoff_next(&r->backoff, now_ms,
		    rand01(r->k)), now_ms);
		return;
	}
	r->state = watch ? SY_RF_WATCHING : SY_RF_LISTING;
	count(r->k->m_requests, r, watch ? "watch" : "list");
	kz_debug(watch ? "watch started" : "list page requested",
	    "resource=%s rv=%s", r->resource, watch ? r->rv : "");
}

/* Stop R's running transfer without handling its result. */
static void
stop_transfer(struct sy_reflector *r)
{
	if (r->state != SY_RF_IDLE && r->easy)
		curl_multi_remove_handle(r->k->multi, r->easy);
	r->state = SY_RF_IDLE;
}

/* --- outcomes ------------------------------------------------------ */

static void
mark_up(struct sy_reflector *r, uint64_t now_ms)
{
	if (r->down_since_ms)
		kz_info("API reachable again", "resource=%s down_ms=%" PRIu64,
		    r->resource, now_ms - r->down_since_ms);
	r->down_since_ms = 0;
}

static void
mark_down(struct sy_reflector *r, uint64_t now_ms)
{
	if (r->down_since_ms == 0)
		r->down_since_ms = now_ms;
}

/* Back off, then retry: a list when LIST or after repeated failures. */
static void
retry_later(struct sy_reflector *r, bool list, uint64_t now_ms,
    bool longest)
{
	uint64_t d = sy_backoff_next(&r->backoff, now_ms, rand01(r->k));

	if (longest)
		d = r->backoff.max_ms;
	r->failures++;
	if (!r->synced || r->failures >= FAILURES_BEFORE_RELIST)
		list = true;
	if (list && r->cont == NULL && r->relist_reason == NULL)
		r->relist_reason = "errors";
	mark_down(r, now_ms);
	kz_debug("retrying later", "resource=%s delay_ms=%" PRIu64
	    " list=%d failures=%u", r->resource, d, list, r->failures);
	schedule(r, list, d, now_ms);
}

/*
 * A list page answered 410 (its continue token expired): list again from
 * the start, at once the first GONE_RESTARTS times in a row; after that
 * back off and list without paging, which needs no continue token.
 */
static void
list_gone(struct sy_reflector *r, uint64_t now_ms)
{
	uint64_t delay = 0;

	sy_reflector_list_begin(r, "gone");
	if (++r->gone_lists > GONE_RESTARTS) {
		delay = sy_backoff_next(&r->backoff, now_ms, rand01(r->k));
		if (!r->unpaged)
			kz_warn("list keeps expiring; listing without paging",
			    "resource=%s restarts=%u delay_ms=%" PRIu64,
			    r->resource, r->gone_lists - 1, delay);
		r->unpaged = true;
	}
	schedule(r, true, delay, now_ms);
}

/* A non-200 answer: log it with the Status message, react by code. */
static void
http_error(struct sy_reflector *r, bool watch, uint64_t now_ms)
{
	json_t *st = json_loadb(r->body.data ? r->body.data : "", r->body.len,
	    0, NULL);
	const char *msg = json_string_value(json_object_get(st, "message"));
	long code = r->http_status;
	char q[512], codes[16];

	snprintf(codes, sizeof(codes), "%ld", code);
	count(r->k->m_errors, r, codes);
	kz_log(code == 410 ? KZ_LOG_INFO : code == 403 ? KZ_LOG_ERROR :
	    KZ_LOG_WARN, watch ? "watch request failed" : "list request failed",
	    "resource=%s code=%ld message=%s", r->resource, code,
	    kz_log_quote(q, sizeof(q), msg ? msg : (r->is_json ? "" :
	    "response is not JSON")));
	json_decref(st);
	if (code == 410) {
		/* expired RV or continue token: list again from scratch */
		if (!watch) {
			list_gone(r, now_ms);
			return;
		}
		schedule(r, true, 0, now_ms);
		r->relist_reason = "gone";
		return;
	}
	if (code == 429 || code == 503) {
		curl_off_t after = 0;

		curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &after);
		retry_later(r, !watch, now_ms, false);
		if (after > 0 && after < 600 &&
		    r->next_ms < now_ms + (uint64_t)after * 1000)
			r->next_ms = now_ms + (uint64_t)after * 1000;
		return;
	}
	if (code == 401) {
		/* a new exec credential is coming: retry with it at once */
		if (sy_kubeconfig_unauthorized(r->k->kc, r->started_ms)) {
			mark_down(r, now_ms);
			schedule(r, !watch, 0, now_ms);
			return;
		}
		retry_later(r, !watch, now_ms, false);
		return;
	}
	if (code == 403)
		kz_error("access denied: the daemon needs list and watch on "
		    "this resource (see docs/syncer.md for the RBAC rules)",
		    "resource=%s", r->resource);
	retry_later(r, !watch, now_ms, code == 403);
}

int
sy_reflector_discovery(const struct sy_reflector *r, const char *data,
    size_t len)
{
	json_t *doc = json_loadb(data ? data : "", len, 0, NULL);
	json_t *list = json_object_get(doc, "resources"), *v;
	size_t i;
	int found = 0;

	if (!json_is_array(list)) {
		json_decref(doc);
		return KZ_EPARSE;
	}
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v,
		    "name"));
		if (name && strcmp(name, r->resource) == 0)
			found = 1;
	}
	json_decref(doc);
	return found;
}

/* The CRD is not installed: say so once and never ask again (the
 * resource counts as listed, empty). */
static void
resource_absent(struct sy_reflector *r, uint64_t now_ms)
{
	kz_info("resource not in the API; not followed", "resource=%s "
	    "discovery=%s hint=\"the %s CRD is not installed: its zone holds "
	    "its apex records only; restart kubezone once it is\"",
	    r->resource, r->discovery, r->kind_name);
	mark_up(r, now_ms);
	r->discovering = false;
	r->absent = true;
	r->synced = true;
	r->state = SY_RF_IDLE;
	r->next_ms = UINT64_MAX;
	sy_metric_set(r->k->m_synced, 1, (const char *[]){ r->resource });
}

/* The answer to a CRD's discovery request: list it, or note it absent;
 * errors back off like a failed list. */
static void
discovery_done(struct sy_reflector *r, CURLcode res, uint64_t now_ms)
{
	int found;

	if (res == CURLE_OK && r->http_status == 404) {
		resource_absent(r, now_ms);
		return;
	}
	if (res == CURLE_OK && r->http_status && r->http_status != 200) {
		http_error(r, false, now_ms);
		return;
	}
	found = res == CURLE_OK && r->is_json ?
	    sy_reflector_discovery(r, r->body.data, r->body.len) : KZ_EPARSE;
	if (found < 0) {
		kz_warn("discovery failed", "resource=%s error=\"%s\"",
		    r->resource, res == CURLE_OK ? "not an APIResourceList" :
		    curl_easy_strerror(res));
		count(r->k->m_errors, r, res == CURLE_OK ? "not_json" :
		    "transport");
		retry_later(r, true, now_ms, false);
		return;
	}
	if (found == 0) {
		resource_absent(r, now_ms);
		return;
	}
	kz_info("resource found in the API", "resource=%s", r->resource);
	r->discovering = false;
	mark_up(r, now_ms);
	start_transfer(r, false, now_ms);
}

static void
list_done(struct sy_reflector *r, CURLcode res, uint64_t now_ms)
{
	int rc;

	if (r->discovering) {
		discovery_done(r, res, now_ms);
		return;
	}
	if (res != CURLE_OK || r->http_status != 200 || !r->is_json) {
		if (res == CURLE_OK && r->http_status && r->http_status != 200) {
			http_error(r, false, now_ms);
			return;
		}
		kz_warn("list failed", "resource=%s error=\"%s\"", r->resource,
		    r->abort == SY_ABORT_TOO_BIG ? "page too large" :
		    res == CURLE_OK ? "response is not JSON" :
		    curl_easy_strerror(res));
		count(r->k->m_errors, r, res == CURLE_OK ? "not_json" :
		    "transport");
		retry_later(r, true, now_ms, false);
		return;
	}
	rc = sy_reflector_list_page(r, r->body.data, r->body.len);
	if (r->body.cap > KEEP_BODY_CAP)
		kz_buf_free(&r->body);
	if (rc < 0) {
		count(r->k->m_errors, r, "malformed");
		sy_reflector_list_begin(r, r->relist_reason);
		retry_later(r, true, now_ms, false);
		return;
	}
	mark_up(r, now_ms);
	if (rc == 1) {
		start_transfer(r, false, now_ms);
		return;
	}
	/* The page buffer is for the next list: the watch does not use it. */
	kz_buf_free(&r->body);
	if (sy_reflector_list_end(r)) {
		retry_later(r, true, now_ms, false);
		return;
	}
	if (!r->synced)
		kz_info("resource listed", "resource=%s objects=%zu pages=%lu "
		    "rv=%s", r->resource, zg_model_count(r->k->model, r->kind),
		    r->pages, r->rv);
	else
		kz_info("resource relisted", "resource=%s reason=%s "
		    "objects=%zu rv=%s", r->resource, r->relist_reason ?
		    r->relist_reason : "", zg_model_count(r->k->model, r->kind),
		    r->rv);
	r->synced = true;
	r->failures = 0;
	r->gone_lists = 0;
	r->unpaged = false;
	r->relist_reason = NULL;
	sy_metric_set(r->k->m_synced, 1, (const char *[]){ r->resource });
	if (r->k->opts.relist_ms)
		r->relist_at_ms = now_ms + r->k->opts.relist_ms +
		    (uint64_t)((double)r->k->opts.relist_ms * 0.5 *
		    rand01(r->k));
	start_transfer(r, true, now_ms);
}

static void
watch_done(struct sy_reflector *r, CURLcode res, uint64_t now_ms)
{
	bool healthy = r->watch_events > 0 ||
	    now_ms - r->started_ms >= SHORT_WATCH_MS;

	if (res == CURLE_OK && r->http_status && r->http_status != 200) {
		http_error(r, true, now_ms);
		return;
	}
	switch (r->abort) {
	case SY_ABORT_GONE:
		schedule(r, true, 0, now_ms);
		r->relist_reason = "gone";
		return;
	case SY_ABORT_MALFORMED:
	case SY_ABORT_OVERSIZED:
		/* re-watch from the last good RV: the server replays the rest */
		if (++r->bad_events >= FAILURES_BEFORE_RELIST) {
			r->bad_events = 0;
			r->relist_reason = "bad-events";
			schedule(r, true, sy_backoff_next(&r->backoff, now_ms,
			    rand01(r->k)), now_ms);
		} else {
			schedule(r, false, r->bad_events > 1 ?
			    sy_backoff_next(&r->backoff, now_ms, rand01(r->k)) :
			    0, now_ms);
		}
		return;
	case SY_ABORT_ERROR_EVENT:
	case SY_ABORT_NOMEM:
		retry_later(r, false, now_ms, false);
		return;
	default:
		break;
	}
	if (!r->is_json && r->http_status == 200) {
		count(r->k->m_errors, r, "not_json");
		kz_warn("watch response is not JSON", "resource=%s",
		    r->resource);
		retry_later(r, false, now_ms, false);
		return;
	}
	if (res != CURLE_OK && !healthy) {
		count(r->k->m_errors, r, "transport");
		kz_warn("watch failed", "resource=%s error=\"%s\"", r->resource,
		    curl_easy_strerror(res));
		retry_later(r, false, now_ms, false);
		return;
	}
	if (res == CURLE_OK && !healthy) {
		/* a very short empty watch: do not spin */
		retry_later(r, false, now_ms, false);
		return;
	}
	if (res != CURLE_OK)
		kz_info("watch connection lost; resuming", "resource=%s "
		    "error=\"%s\" rv=%s", r->resource, curl_easy_strerror(res),
		    r->rv);
	else
		kz_debug("watch ended; resuming", "resource=%s rv=%s",
		    r->resource, r->rv);
	r->failures = 0;
	mark_up(r, now_ms);
	start_transfer(r, true, now_ms);
}

bool
sy_k8s_done(struct sy_k8s *k, CURL *easy, CURLcode result, uint64_t now_ms)
{
	for (size_t i = 0; i < k->nrf; i++) {
		struct sy_reflector *r = &k->rf[i];
		enum sy_rf_state st = r->state;

		if (r->easy != easy || st == SY_RF_IDLE)
			continue;
		curl_multi_remove_handle(k->multi, easy);
		r->state = SY_RF_IDLE;
		if (r->http_status == 0)
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE,
			    &r->http_status);
		if (st == SY_RF_LISTING)
			list_done(r, result, now_ms);
		else
			watch_done(r, result, now_ms);
		return true;
	}
	return false;
}

/* --- life cycle ---------------------------------------------------- */

int
sy_k8s_init(struct sy_k8s *k, const struct sy_k8s_opts *o,
    struct sy_kubeconfig *kc, struct zg_model *model, CURLM *multi,
    struct sy_metrics *metrics, sy_k8s_change_fn on_change, void *ctx)
{
	memset(k, 0, sizeof(*k));
	ev_region_init();
	k->opts = *o;
	k->kc = kc;
	kc->refresh_ms = o->token_refresh_ms;
	k->model = model;
	k->multi = multi;
	k->metrics = metrics;
	k->on_change = on_change;
	k->ctx = ctx;
	k->rand_state = kz_now_ms() * 0x9E3779B97F4A7C15ULL | 1;
	snprintf(k->user_agent, sizeof(k->user_agent), "kubezone/%s",
	    KZ_VERSION);
	k->m_events = sy_metrics_counter(metrics,
	    "kubezone_watch_events_total", "Watch events received, by "
	    "resource and event type.", "resource,type");
	k->m_relists = sy_metrics_counter(metrics, "kubezone_relists_total",
	    "Complete lists after the first one, by resource and reason "
	    "(gone, errors, bad-events, periodic).", "resource,reason");
	k->m_errors = sy_metrics_counter(metrics, "kubezone_api_errors_total",
	    "Failed API requests and ERROR events, by resource and HTTP code "
	    "(or transport, not_json, malformed).", "resource,code");
	k->m_skipped = sy_metrics_counter(metrics,
	    "kubezone_watch_skipped_total", "Events and objects skipped, by "
	    "resource and reason (malformed, oversized, invalid).",
	    "resource,reason");
	k->m_requests = sy_metrics_counter(metrics,
	    "kubezone_api_requests_total", "API requests started, by "
	    "resource and verb (list page or watch).", "resource,verb");
	k->m_synced = sy_metrics_gauge(metrics, "kubezone_resource_synced",
	    "1 once the resource has been listed completely.", "resource");
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		const struct resource_def *d = &resources[i];
		struct sy_reflector *r;

		if ((d->kind == ZG_KIND_POD && !o->pods) ||
		    (d->kind == ZG_KIND_IMPORT && !o->imports))
			continue;
		r = &k->rf[k->nrf++];
		r->k = k;
		r->kind = d->kind;
		r->resource = d->resource;
		r->path = d->path;
		r->kind_name = d->kind_name;
		r->field_selector = d->field_selector;
		r->discovery = d->discovery;
		r->discovering = d->discovery != NULL;
		r->next_is_list = true;
		kz_map_init(&r->seen);
		kz_buf_init(&r->body, o->max_page);
		sy_framer_init(&r->framer, o->max_event);
		sy_prune_init(&r->prune, zg_decode_unread(r->kind));
		sy_backoff_init(&r->backoff, o->backoff_initial_ms,
		    o->backoff_max_ms);
		sy_metric_set(k->m_synced, 0, (const char *[]){ r->resource });
		r->easy = curl_easy_init();
		if (r->easy == NULL) {
			sy_k8s_free(k);
			return KZ_ENOMEM;
		}
	}
	return 0;
}

void
sy_k8s_free(struct sy_k8s *k)
{
	for (size_t i = 0; i < k->nrf; i++) {
		struct sy_reflector *r = &k->rf[i];

		stop_transfer(r);
		if (r->easy)
			curl_easy_cleanup(r->easy);
		r->easy = NULL;
		curl_slist_free_all(r->headers);
		r->headers = NULL;
		free(r->url);
		r->url = NULL;
		free(r->cont);
		r->cont = NULL;
		seen_clear(r);
		kz_map_free(&r->seen);
		kz_buf_free(&r->body);
		sy_framer_free(&r->framer);
	}
	k->nrf = 0;
	free(k->pruned);
	k->pruned = NULL;
	k->pruned_cap = 0;
}

void
sy_k8s_start(struct sy_k8s *k, uint64_t now_ms)
{
	kz_info("following the Kubernetes API", "server=%s source=\"%s\" "
	    "resources=%zu", k->kc->server, k->kc->source, k->nrf);
	for (size_t i = 0; i < k->nrf; i++) {
		sy_reflector_list_begin(&k->rf[i], "initial");
		schedule(&k->rf[i], true, 0, now_ms);
	}
	sy_k8s_tick(k, now_ms);
}

static void
warn_if_down(struct sy_reflector *r, uint64_t now_ms)
{
	if (r->down_since_ms == 0 ||
	    now_ms - r->down_since_ms < STILL_DOWN_WARN_MS ||
	    now_ms - r->warned_ms < STILL_DOWN_WARN_MS)
		return;
	r->warned_ms = now_ms;
	kz_warn("API unreachable; serving the last zones", "resource=%s "
	    "down_s=%" PRIu64, r->resource, (now_ms - r->down_since_ms) / 1000);
}

static void
tick_one(struct sy_reflector *r, uint64_t now_ms)
{
	const struct sy_k8s_opts *o = &r->k->opts;

	if (r->absent)
		return;
	if (r->state != SY_RF_IDLE && now_ms > r->last_byte_ms &&
	    now_ms - r->last_byte_ms >= o->idle_timeout_ms) {
		bool listing = r->state == SY_RF_LISTING;

		kz_info("no data from the API; reconnecting", "resource=%s "
		    "idle_ms=%" PRIu64, r->resource, now_ms - r->last_byte_ms);
		count(r->k->m_errors, r, "idle");
		r->abort = SY_ABORT_IDLE;
		stop_transfer(r);
		if (listing)
			retry_later(r, true, now_ms, false);
		else	/* a dead or merely quiet watch: resume it at once */
			start_transfer(r, true, now_ms);
		return;
	}
	if (r->state == SY_RF_WATCHING && r->relist_at_ms &&
	    now_ms >= r->relist_at_ms) {
		stop_transfer(r);
		r->relist_reason = "periodic";
		schedule(r, true, 0, now_ms);
	}
	warn_if_down(r, now_ms);
	if (r->state != SY_RF_IDLE || now_ms < r->next_ms ||
	    wait_credential(r, !r->next_is_list, now_ms))
		return;
	if (r->next_is_list) {
		if (r->cont == NULL) {
			/* a list from the start (not a retried page) */
			if (r->synced)
				count(r->k->m_relists, r, r->relist_reason ?
				    r->relist_reason : "errors");
			sy_reflector_list_begin(r, r->relist_reason);
		}
		start_transfer(r, false, now_ms);
	} else {
		start_transfer(r, true, now_ms);
	}
}

void
sy_k8s_tick(struct sy_k8s *k, uint64_t now_ms)
{
	/*
	 * The loop was busy elsewhere (a long render): nothing could be
	 * read meanwhile, so that time does not count as silence.
	 */
	if (k->last_tick_ms && now_ms - k->last_tick_ms > STALL_MS)
		for (size_t i = 0; i < k->nrf; i++) {
			struct sy_reflector *r = &k->rf[i];
			uint64_t t = r->last_byte_ms + (now_ms - k->last_tick_ms);

			if (r->state != SY_RF_IDLE)
				r->last_byte_ms = t < now_ms ? t : now_ms;
		}
	k->last_tick_ms = now_ms;
	for (size_t i = 0; i < k->nrf; i++)
		tick_one(&k->rf[i], now_ms);
}

long
sy_k8s_next_ms(const struct sy_k8s *k, uint64_t now_ms)
{
	long best = 1000;

	for (size_t i = 0; i < k->nrf; i++) {
		const struct sy_reflector *r = &k->rf[i];
		if (r->state == SY_RF_IDLE && !r->absent) {
			long d = r->next_ms > now_ms ?
			    (long)(r->next_ms - now_ms) : 0;
			if (d < best)
				best = d;
		}
	}
	return best;
}

bool
sy_k8s_synced(const struct sy_k8s *k)
{
	for (size_t i = 0; i < k->nrf; i++)
		if (!k->rf[i].synced)
			return false;
	return k->nrf > 0;
}

bool
sy_k8s_listing(const struct sy_k8s *k)
{
	for (size_t i = 0; i < k->nrf; i++)
		if (k->rf[i].state == SY_RF_LISTING || k->rf[i].cont)
			return true;
	return false;
}

bool
sy_k8s_connected(const struct sy_k8s *k)
{
	for (size_t i = 0; i < k->nrf; i++)
		if (!k->rf[i].absent && (k->rf[i].state != SY_RF_WATCHING ||
		    k->rf[i].http_status != 200))
			return false;
	return k->nrf > 0;
}

uint64_t
sy_k8s_down_ms(const struct sy_k8s *k, uint64_t now_ms)
{
	uint64_t worst = 0;

	for (size_t i = 0; i < k->nrf; i++) {
		uint64_t s = k->rf[i].down_since_ms;
		if (s && now_ms - s > worst)
			worst = now_ms - s;
	}
	return worst;
}
