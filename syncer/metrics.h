/*
 * syncer/metrics.h -- a small Prometheus registry: counters, gauges and
 * histograms with labels, written in the text exposition format 0.0.4.
 *
 *   struct sy_metrics *r = sy_metrics_new();
 *   struct sy_metric *ev = sy_metrics_counter(r, "kubezone_watch_events_total",
 *       "Watch events received.", "resource,type");
 *   sy_metric_add(ev, 1, (const char *[]){ "services", "ADDED" });
 *
 * A metric has up to SY_METRIC_MAX_LABELS label names, given as one
 * comma-separated string; each distinct tuple of label values is a
 * series, created on first use and kept in creation order. A metric
 * without labels has exactly one series (pass NULL as values).
 *
 * Ownership: the registry owns its metrics and series, and copies every
 * name, help text and label value it is given. Metric pointers stay
 * valid until sy_metrics_free(). Nothing here allocates per update once
 * a series exists. Single-threaded.
 */
#ifndef KZ_SYNCER_METRICS_H
#define KZ_SYNCER_METRICS_H

#include <stddef.h>

#include "common/buf.h"

#define SY_METRIC_MAX_LABELS 3
#define SY_METRIC_MAX_BUCKETS 24

enum sy_metric_type { SY_COUNTER, SY_GAUGE, SY_HISTOGRAM };

struct sy_metrics;
struct sy_metric;

struct sy_metrics *sy_metrics_new(void);
/* Free the registry and all its metrics; NULL is fine. */
void sy_metrics_free(struct sy_metrics *r);

/*
 * A scope of registry PARENT (a registry itself, not a scope): a metric
 * registered in it is PARENT's metric with LABEL as its first label,
 * and every update through it has VALUE there ("cluster", "prod-eu").
 * Two scopes registering the same name share the one metric, each with
 * its own series; sy_metric_clear() of a scope's metric drops that
 * scope's series only. Free it with sy_metrics_free() before PARENT;
 * its metrics are not valid after that. NULL on allocation failure or
 * when PARENT is a scope.
 */
struct sy_metrics *sy_metrics_scope(struct sy_metrics *parent,
    const char *label, const char *value);

/*
 * Register a metric. LABELS is NULL or "a,b" (at most
 * SY_METRIC_MAX_LABELS names). Registering a name twice returns the
 * existing metric when the type matches. NULL on allocation failure,
 * an invalid name or a type clash.
 */
struct sy_metric *sy_metrics_counter(struct sy_metrics *r, const char *name,
    const char *help, const char *labels);
struct sy_metric *sy_metrics_gauge(struct sy_metrics *r, const char *name,
    const char *help, const char *labels);
/* BUCKETS: NB ascending upper bounds (at most SY_METRIC_MAX_BUCKETS). */
struct sy_metric *sy_metrics_histogram(struct sy_metrics *r,
    const char *name, const char *help, const char *labels,
    const double *buckets, size_t nb);

/* Default histogram bounds for durations in seconds (1 ms .. 60 s). */
extern const double sy_metrics_duration_buckets[];
extern const size_t sy_metrics_duration_nbuckets;

/*
 * Update the series of M for label VALUES (an array of as many strings
 * as M has labels; NULL for a metric without labels). A NULL M is
 * ignored, so callers need not check registration. On allocation
 * failure the update is dropped (and counted in the exposition as
 * kubezone_metrics_dropped_total).
 */
void sy_metric_add(struct sy_metric *m, double v, const char *const *values);
void sy_metric_set(struct sy_metric *m, double v, const char *const *values);
void sy_metric_observe(struct sy_metric *m, double v,
    const char *const *values);

/* The current value of a counter or gauge series (0 when absent). */
double sy_metric_value(const struct sy_metric *m, const char *const *values);
/* Observations in a histogram series (0 when absent). */
unsigned long long sy_metric_count(const struct sy_metric *m,
    const char *const *values);

/* Drop every series of M (e.g. per-zone gauges before a republish). */
void sy_metric_clear(struct sy_metric *m);

/* Append the whole registry in the text format. 0, KZ_ENOMEM, KZ_ETOOBIG. */
int sy_metrics_write(const struct sy_metrics *r, struct kz_buf *out);

/* The exposition's Content-Type. */
#define SY_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
