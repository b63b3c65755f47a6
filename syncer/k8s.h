/*
 * syncer/k8s.h -- follow the Kubernetes API: one reflector per resource.
 *
 * A reflector lists its resource page by page (limit, continue), then
 * watches it from the list's resourceVersion with bookmarks and a
 * server timeout, and applies every event to the cluster model:
 * ADDED/MODIFIED put the object, DELETED removes it, BOOKMARK only
 * moves the resourceVersion on. What happens when things go wrong:
 *
 *   watch ends normally (server timeout)  re-watch from the last RV
 *   connection cut, unexpected EOF        re-watch from the last RV
 *   410 Gone (HTTP or ERROR event)        relist, then watch again
 *   410 on list pages, again and again    restart the list 3 times,
 *                                         then back off and list
 *                                         without paging (no continue)
 *   5xx, 429, connect errors              back off, re-watch; relist
 *                                         after 3 failures in a row
 *   401                                   re-read the token, back off;
 *                                         with an exec plugin: run it
 *                                         again, retry at once (once)
 *   403                                   log loudly, longest backoff
 *   malformed or oversized event          logged, counted, skipped;
 *                                         re-watch from the last good RV
 *                                         (which replays what was lost)
 *   no byte within --idle-timeout         the connection is dead:
 *                                         abort and re-watch
 *
 * A relist is a mark-and-sweep: every listed object is put again and
 * noted; at the end, objects of that kind not seen are deleted, so what
 * was deleted while the watch was down disappears. Back-off is
 * exponential with jitter (800 ms doubling up to --backoff-max, reset
 * after two minutes without failures). A periodic full relist
 * (--relist-interval) bounds the harm of any missed event.
 *
 * A CRD's resource (ServiceImports, with opts.imports) starts with a
 * discovery request instead of a list: when its group version's
 * discovery document lists it, the reflector lists and watches it like
 * the others; when the API answers 404 or does not list it, kubezone
 * says so once and never asks again (the resource counts as listed and
 * empty); other failures back off as a failed list does.
 *
 * Transfers are curl easy handles in the caller's multi handle; the
 * caller drives the multi and reports finished transfers through
 * sy_k8s_done(), and calls sy_k8s_tick() when sy_k8s_next_ms() says.
 * Events never render anything: they call the change hook, which only
 * marks the model dirty.
 *
 * Ownership: the client borrows the model, the multi handle, the
 * kubeconfig and the metrics registry, which must outlive it; it owns
 * its easy handles and buffers.
 */
#ifndef KZ_SYNCER_K8S_H
#define KZ_SYNCER_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/map.h"
#include "common/opt.h"
#include "syncer/framer.h"
#include "syncer/kubeconfig.h"
#include "syncer/metrics.h"
#include "syncer/prune.h"
#include "zonegen/model.h"

/* Tunables; sy_k8s_opts_init() sets the defaults shown. */
struct sy_k8s_opts {
	const char *kubeconfig;		/* --kubeconfig FILE, or NULL */
	const char *context;		/* --context NAME, or NULL */
	bool pods;			/* watch Pods (pod records on) */
	bool imports;			/* follow ServiceImports, when the
					   CRD is there (a clusterset zone) */
	unsigned page_size;		/* --page-size 500 */
	uint64_t watch_timeout_ms;	/* --watch-timeout 5m: each watch
					   asks for [t, 2t) */
	uint64_t idle_timeout_ms;	/* --idle-timeout 130s */
	uint64_t backoff_initial_ms;	/* 800ms */
	uint64_t backoff_max_ms;	/* --backoff-max 30s */
	uint64_t relist_ms;		/* --relist-interval 30m; 0: never */
	uint64_t connect_timeout_ms;	/* 10s */
	uint64_t token_refresh_ms;	/* --token-refresh 1m */
	size_t max_event;		/* --max-event-size 16MiB */
	size_t max_page;		/* largest list page: 512MiB */
};

void sy_k8s_opts_init(struct sy_k8s_opts *o);

/* The option rows (ctx: struct sy_k8s_opts). */
extern const struct kz_opt sy_k8s_opt_table[];

/* Exponential back-off with jitter (client-go's numbers). */
struct sy_backoff {
	uint64_t initial_ms, max_ms;
	uint64_t reset_ms;		/* forget the back-off after this */
	uint64_t cur_ms;		/* next base delay; 0: initial */
	uint64_t last_ms;		/* when the last back-off was taken */
	bool used;
};

void sy_backoff_init(struct sy_backoff *b, uint64_t initial_ms,
    uint64_t max_ms);
/*
 * The delay before the next try at NOW_MS: the base delay times
 * (1 + RAND01), at most max_ms; the base doubles every call and goes
 * back to initial_ms after reset_ms without a call.
 */
uint64_t sy_backoff_next(struct sy_backoff *b, uint64_t now_ms,
    double rand01);
void sy_backoff_reset(struct sy_backoff *b);

enum sy_rf_state {
	SY_RF_IDLE = 0,		/* waiting for next_ms */
	SY_RF_LISTING,		/* a list page transfer is running */
	SY_RF_WATCHING		/* a watch transfer is running */
};

/* Why a transfer was cut short by us. */
enum sy_rf_abort {
	SY_ABORT_NONE = 0,
	SY_ABORT_GONE,		/* 410: relist */
	SY_ABORT_ERROR_EVENT,	/* another ERROR event */
	SY_ABORT_MALFORMED,	/* unparsable event line */
	SY_ABORT_OVERSIZED,	/* event over --max-event-size */
	SY_ABORT_IDLE,		/* no byte within idle_timeout */
	SY_ABORT_RELIST,	/* periodic relist */
	SY_ABORT_TOO_BIG,	/* list page over max_page */
	SY_ABORT_NOMEM,
	SY_ABORT_BAD_TYPE	/* response is not JSON */
};

struct sy_k8s;

/* One watched resource. Internal state, public for tests. */
struct sy_reflector {
	struct sy_k8s *k;
	enum zg_kind kind;
	const char *resource;		/* "services" (metrics, logs) */
	const char *path;		/* "/api/v1/services" */
	const char *kind_name;		/* "Service" */
	const char *field_selector;	/* or NULL */
	const char *discovery;		/* a CRD's discovery path, or NULL */
	bool discovering;		/* the next "list" is discovery */
	bool absent;			/* discovery found no such resource:
					   never followed */

	enum sy_rf_state state;
	bool next_is_list;		/* what IDLE starts */
	uint64_t next_ms;		/* when IDLE starts it */
	bool synced;			/* listed completely at least once */
	bool ever_listed_ok;

	CURL *easy;
	struct curl_slist *headers;
	char *url;
	long http_status;		/* of the running transfer; 0: none */
	bool is_json;
	enum sy_rf_abort abort;
	struct kz_buf body;		/* list page, or an error body */

	/* list */
	char *cont;			/* continue token of the next page */
	char list_rv[256];
	struct kz_map seen;		/* keys listed (strdup'd, owned) */
	bool note_seen;			/* the model held objects of this
					 * kind when the list began: keys
					 * not listed are deleted at its
					 * end (else nothing can be) */
	unsigned long pages;
	const char *relist_reason;
	unsigned gone_lists;		/* 410s on list pages in a row */
	bool unpaged;			/* list without limit (after 410s) */

	/* watch */
	struct sy_framer framer;
	struct sy_prune prune;		/* what events leave out (decode
					   never reads it) */
	char rv[256];			/* last resourceVersion seen */
	unsigned long watch_events;	/* events in the running watch */
	uint64_t started_ms;		/* transfer start */
	uint64_t last_byte_ms;		/* last byte received */
	unsigned failures;		/* watch failures in a row */
	unsigned bad_events;		/* malformed/oversized in a row */
	uint64_t relist_at_ms;		/* next periodic relist; 0: none */
	uint64_t down_since_ms;		/* first failure of a run; 0: up */
	uint64_t warned_ms;		/* last "still down" warning */

	struct sy_backoff backoff;
};

/* Called after the model changed. */
typedef void (*sy_k8s_change_fn)(void *ctx);

struct sy_k8s {
	struct sy_k8s_opts opts;
	struct sy_kubeconfig *kc;
	struct zg_model *model;
	CURLM *multi;
	struct sy_metrics *metrics;
	sy_k8s_change_fn on_change;
	void *ctx;
	char user_agent[64];
	uint64_t rand_state;
	uint64_t last_tick_ms;		/* to tell a busy loop from silence */
	/* watch events decoded and applied, and the CPU they took; the
	 * daemon reads and resets both at each publish */
	unsigned long events;
	uint64_t events_cpu_ns;
	char *pruned;			/* an event's text, pruned (owned) */
	size_t pruned_cap;

	size_t nrf;
	struct sy_reflector rf[ZG_KIND_COUNT];

	struct sy_metric *m_events, *m_relists, *m_errors, *m_skipped,
	    *m_requests, *m_synced;
};

/*
 * Set up the reflectors (Services, EndpointSlices, Namespaces, Pods
 * when O->pods, ServiceImports when O->imports) in K; nothing starts until sy_k8s_start(). METRICS may
 * be NULL. 0 or KZ_ENOMEM.
 */
int sy_k8s_init(struct sy_k8s *k, const struct sy_k8s_opts *o,
    struct sy_kubeconfig *kc, struct zg_model *model, CURLM *multi,
    struct sy_metrics *metrics, sy_k8s_change_fn on_change, void *ctx);
/* Stop every transfer and free everything K owns. */
void sy_k8s_free(struct sy_k8s *k);

/* Begin listing every resource. */
void sy_k8s_start(struct sy_k8s *k, uint64_t now_ms);

/*
 * A transfer of the multi handle finished: returns true when EASY was
 * one of K's (and handles it), false otherwise.
 */
bool sy_k8s_done(struct sy_k8s *k, CURL *easy, CURLcode result,
    uint64_t now_ms);

/* Start what is due, abort dead transfers. */
void sy_k8s_tick(struct sy_k8s *k, uint64_t now_ms);

/* Milliseconds until sy_k8s_tick() has something to do (at most 1000). */
long sy_k8s_next_ms(const struct sy_k8s *k, uint64_t now_ms);

/* Every resource has been listed completely at least once. */
bool sy_k8s_synced(const struct sy_k8s *k);
/* A list is being transferred: the model may be mid-relist. */
bool sy_k8s_listing(const struct sy_k8s *k);
/* Every resource has its watch open (the model is current). */
bool sy_k8s_connected(const struct sy_k8s *k);
/* Longest time any resource has been failing, in ms (0: all fine). */
uint64_t sy_k8s_down_ms(const struct sy_k8s *k, uint64_t now_ms);

/* --- internals exposed for tests ----------------------------------- */

/* The request URL for R's next list page or watch; caller frees. */
char *sy_reflector_url(struct sy_reflector *r, bool watch, uint64_t now_ms);
/* Start a list from scratch (mark phase), or finish one (sweep). */
void sy_reflector_list_begin(struct sy_reflector *r, const char *reason);
int sy_reflector_list_end(struct sy_reflector *r);
/*
 * Apply one list page: put every item and note it. Returns 1 when
 * another page follows (r->cont set), 0 when this was the last, or
 * KZ_EPARSE / KZ_ENOMEM.
 */
int sy_reflector_list_page(struct sy_reflector *r, const char *data,
    size_t len);
/*
 * Read R's discovery document (an APIResourceList): 1 when it lists R's
 * resource, 0 when it does not, KZ_EPARSE when it is not one.
 */
int sy_reflector_discovery(const struct sy_reflector *r, const char *data,
    size_t len);
/*
 * Feed bytes of a watch stream; returns 0 to go on, or an abort reason
 * (also stored in r->abort).
 */
int sy_reflector_watch_bytes(struct sy_reflector *r, const char *data,
    size_t len);

#endif
