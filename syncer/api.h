/*
 * syncer/api.h -- the live Kubernetes API as a source of the sync daemon.
 *
 * Bundles what `kubezone sync` needs to follow the API instead of a
 * snapshot file: where the API is (kubeconfig.h), the reflectors that
 * keep the model current (k8s.h) and the pacing of renders
 * (coalesce.h). The daemon's loop drives it:
 *
 *   sy_api_resolve()     find the API (kubeconfig, in-cluster)
 *   sy_api_setup()       set the reflectors up
 *   sy_api_start()       first lists
 *   sy_api_done()        a curl transfer of the multi handle finished
 *   sy_api_tick()        timers (back-off, watchdog, periodic relist)
 *   sy_api_timeout_ms()  how long the loop may sleep
 *   sy_api_render_due()  render and publish now?
 *   sy_api_rendered()    a render/publish happened
 *
 * Nothing is due before every resource has been listed once, nor while
 * a list is being transferred, so a zone is never rendered from a
 * half-listed cluster. kubezone_last_sync_timestamp_seconds says when
 * the published zones were last known to match the API.
 *
 * Ownership: borrows the model, the multi handle and the metrics
 * registry; owns the rest. sy_api_free() accepts a zeroed struct.
 */
#ifndef KZ_SYNCER_API_H
#define KZ_SYNCER_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "syncer/coalesce.h"
#include "syncer/k8s.h"
#include "syncer/kubeconfig.h"
#include "syncer/metrics.h"
#include "zonegen/model.h"

struct sy_api {
	struct sy_k8s_opts opts;	/* parsed by sy_k8s_opt_table */
	struct sy_coalesce co;		/* parsed by sy_coalesce_opt_table */
	struct sy_kubeconfig kc;
	struct sy_k8s k8s;
	struct zg_model *model;
	bool started;
	bool published;			/* a publish followed the first sync */
	double last_sync;		/* Unix seconds, 0: never */
	struct sy_metric *m_last_sync, *m_objects, *m_stale;
};

/* Defaults for the options (call before parsing). */
void sy_api_opts_init(struct sy_api *a);

/*
 * Resolve the API source from the options, $KUBECONFIG or the
 * in-cluster environment. 0, or an error with a message in ERR (no
 * source at all: KZ_ENOTFOUND; a bad kubeconfig, an exec plugin).
 */
int sy_api_resolve(struct sy_api *a, char *err, size_t errsz);

/*
 * Set up the reflectors (Pods too when PODS) after sy_api_resolve().
 * 0, or an error with a message in ERR.
 */
int sy_api_setup(struct sy_api *a, bool pods, struct zg_model *model,
    CURLM *multi, struct sy_metrics *metrics, char *err, size_t errsz);
void sy_api_free(struct sy_api *a);

void sy_api_start(struct sy_api *a, uint64_t now_ms);
bool sy_api_done(struct sy_api *a, CURL *easy, CURLcode result,
    uint64_t now_ms);
void sy_api_tick(struct sy_api *a, uint64_t now_ms);
long sy_api_timeout_ms(const struct sy_api *a, uint64_t now_ms);

/* A render is due now. */
bool sy_api_render_due(const struct sy_api *a, uint64_t now_ms);
/*
 * A render of the model finished at NOW_MS; OK when its zones were
 * published (or were unchanged).
 */
void sy_api_rendered(struct sy_api *a, uint64_t now_ms, bool ok);

/* Refresh the gauges (called before /metrics answers). */
void sy_api_scrape(struct sy_api *a);

#endif
