/*
 * syncer/http.h -- the daemon's HTTP endpoint: /healthz, /readyz, /metrics.
 *
 * libmicrohttpd runs without threads of its own, in external epoll mode:
 * the event loop waits for sy_http_fd() to be readable (together with
 * everything else) and then calls sy_http_run(); sy_http_timeout_ms()
 * bounds the loop's wait so idle connections are closed in time.
 *
 *   /healthz   200 "ok" while the process runs its loop
 *   /readyz    200 "ok" while the caller says so (sync: zones published
 *              and NSD answering), else 503
 *   /metrics   the metrics registry, Prometheus text format 0.0.4
 *
 * Ownership: the server borrows the metrics registry (which must
 * outlive it); sy_http_free() stops it and accepts NULL.
 */
#ifndef KZ_SYNCER_HTTP_H
#define KZ_SYNCER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/opt.h"
#include "syncer/metrics.h"

#define SY_HTTP_DEFAULT "127.0.0.1:9154"

struct sy_http_opts {
	char listen[128];	/* "ADDR:PORT", "[v6]:PORT"; "" = off */
};

void sy_http_opts_init(struct sy_http_opts *o);

/* The option rows (ctx: struct sy_http_opts). */
extern const struct kz_opt sy_http_opt_table[];

/*
 * Parse "ADDR:PORT" or "[ADDR]:PORT" into a socket address (IPv4/IPv6
 * literal only). 0 or KZ_EINVAL.
 */
int sy_http_parse_addr(const char *s, void *sa, unsigned *salen);

/* Called before each /metrics answer, to refresh gauges. */
typedef void (*sy_http_scrape_fn)(void *ctx);

struct sy_http;

/*
 * Listen on O->listen. *OUT is NULL (and 0 returned) when the endpoint
 * is off. Errors: KZ_EINVAL or -errno, with a message in ERR.
 */
int sy_http_start(struct sy_http **out, const struct sy_http_opts *o,
    struct sy_metrics *metrics, sy_http_scrape_fn scrape, void *ctx,
    char *err, size_t errsz);
void sy_http_free(struct sy_http *h);

/* The fd to wait on for reading; -1 when off. */
int sy_http_fd(const struct sy_http *h);
/* Longest the loop may wait before sy_http_run(), in ms (at most 1000,
 * so work libmicrohttpd holds without an event is never stranded); -1 when
 * the endpoint is off. */
long sy_http_timeout_ms(struct sy_http *h);
/* Serve whatever is ready; never blocks. */
void sy_http_run(struct sy_http *h);

/* /readyz turns 200 once READY. */
void sy_http_set_ready(struct sy_http *h, bool ready);

#endif
