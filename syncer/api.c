/*
 * syncer/api.c -- the live API source: kubeconfig, reflectors, pacing.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/api.h"

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
sy_api_opts_init(struct sy_api *a)
{
	memset(a, 0, sizeof(*a));
	sy_k8s_opts_init(&a->opts);
	sy_coalesce_init(&a->co, SY_MIN_INTERVAL_MS);
}

static void
on_change(void *ctx)
{
	struct sy_api *a = ctx;

	/* An event that changed nothing DNS sees (a status heartbeat, a
	 * label edit) left the change log empty: no work, and no render
	 * slot taken from the next real change. */
	if (a->model->track && a->model->nchanges == 0 &&
	    a->model->track_rc == 0)
		return;
	sy_coalesce_mark(&a->co, kz_now_ms());
}

int
sy_api_resolve(struct sy_api *a, char *err, size_t errsz)
{
	sy_kubeconfig_init(&a->kc);
	return sy_kubeconfig_resolve(&a->kc, a->opts.kubeconfig,
	    a->opts.context, err, errsz);
}

int
sy_api_setup(struct sy_api *a, bool pods, struct zg_model *model,
    CURLM *multi, struct sy_metrics *metrics, char *err, size_t errsz)
{
	int rc;

	a->model = model;
	a->opts.pods = pods;
	a->m_last_sync = sy_metrics_gauge(metrics,
	    "kubezone_last_sync_timestamp_seconds", "Unix time when the "
	    "served zones were last known to match the Kubernetes API "
	    "(0: never).", NULL);
	a->m_stale = sy_metrics_gauge(metrics, "kubezone_api_down_seconds",
	    "How long the API has been failing for the worst resource "
	    "(0: all watches fine).", NULL);
	a->m_objects = sy_metrics_gauge(metrics, "kubezone_model_objects",
	    "Objects in the cluster model, by kind.", "kind");
	rc = sy_k8s_init(&a->k8s, &a->opts, &a->kc, model, multi, metrics,
	    on_change, a);
	if (rc)
		snprintf(err, errsz, "cannot set up the API client: %s",
		    kz_strerror(rc));
	return rc;
}

void
sy_api_free(struct sy_api *a)
{
	sy_k8s_free(&a->k8s);
	sy_kubeconfig_free(&a->kc);
}

void
sy_api_start(struct sy_api *a, uint64_t now_ms)
{
	a->started = true;
	sy_k8s_start(&a->k8s, now_ms);
}

bool
sy_api_done(struct sy_api *a, CURL *easy, CURLcode result, uint64_t now_ms)
{
	return sy_k8s_done(&a->k8s, easy, result, now_ms);
}

/* While every watch is open and nothing waits for a render, the
 * published zones match the API. */
static void
refresh_sync_time(struct sy_api *a)
{
	if (a->published && !a->co.dirty && sy_k8s_connected(&a->k8s) &&
	    !sy_k8s_listing(&a->k8s))
		a->last_sync = wall_now();
}

void
sy_api_tick(struct sy_api *a, uint64_t now_ms)
{
	sy_k8s_tick(&a->k8s, now_ms);
	refresh_sync_time(a);
}

long
sy_api_timeout_ms(const struct sy_api *a, uint64_t now_ms)
{
	long t = sy_k8s_next_ms(&a->k8s, now_ms);
	long c = sy_coalesce_due_in(&a->co, now_ms);

	if (sy_k8s_synced(&a->k8s) && c >= 0 && c < t)
		t = c;
	return t;
}

bool
sy_api_render_due(const struct sy_api *a, uint64_t now_ms)
{
	if (!sy_k8s_synced(&a->k8s) || sy_k8s_listing(&a->k8s))
		return false;
	/* the first render happens even for an empty cluster */
	if (!a->published)
		return true;
	return sy_coalesce_due_in(&a->co, now_ms) == 0;
}

void
sy_api_rendered(struct sy_api *a, uint64_t now_ms, bool ok)
{
	sy_coalesce_done(&a->co, now_ms);
	if (!ok)
		return;
	a->published = true;
	refresh_sync_time(a);
	if (a->last_sync == 0)
		a->last_sync = wall_now();
}

void
sy_api_scrape(struct sy_api *a)
{
	uint64_t now = kz_now_ms();

	refresh_sync_time(a);
	sy_metric_set(a->m_last_sync, a->last_sync, NULL);
	sy_metric_set(a->m_stale, (double)sy_k8s_down_ms(&a->k8s, now) / 1000,
	    NULL);
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		sy_metric_set(a->m_objects, (double)zg_model_count(a->model,
		    (enum zg_kind)k),
		    (const char *[]){ zg_kind_name((enum zg_kind)k) });
}
