/*
 * syncer/sync_cmd.c -- `kubezone sync` and `kubezone nsd-conf`.
 *
 * Two sources feed the same publish pipeline: a snapshot file
 * (--snapshot FILE, re-read on change) or the live Kubernetes API
 * (--kubeconfig, $KUBECONFIG or in-cluster; syncer/api.h), whose
 * events mark the model dirty and whose renders are paced by
 * --min-interval. Either way NSD only ever sees validated zones, and
 * /readyz turns 200 after the first publish.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/control.h"
#include "nsd-conf/nsd.h"
#include "nsd-conf/publish.h"
#include "syncer/api.h"
#include "syncer/http.h"
#include "syncer/loop.h"
#include "syncer/metrics.h"
#include "syncer/sync_cmd.h"
#include "zonegen/decode.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

#define SY_MAX_ZONES 64
#define SY_RETRY_MIN_MS 1000	/* first retry of a failed publish */
#define SY_RETRY_MAX_MS 30000

struct sync_cmd {
	char snapshot[PATH_MAX];
	unsigned long long debounce_ms;
};

struct sync {
	struct sync_cmd cmd;
	struct zg_render_opts ro;
	struct nc_opts no;
	struct nc_paths paths;
	struct nc_publisher pub;
	struct nc_nsd nsd;
	struct sy_loop loop;
	int sigfd;
	int inofd;
	char snap_dir[PATH_MAX];
	char snap_base[NAME_MAX + 1];
	struct sy_timer debounce;
	struct sy_timer nsd_timer;
	char zones[SY_MAX_ZONES][256];	/* configured in nsd.conf, no dot */
	char files[SY_MAX_ZONES][256];
	size_t nzones;
	bool conf_stale;		/* the zone set changed */
	bool reload_pending;		/* published while NSD was down */
	int status;			/* exit status */
	unsigned long loads;
	unsigned long load_failures;

	/* the live API source (when there is no --snapshot) */
	bool use_api;
	struct sy_api api;
	struct zg_model model;
	struct sy_timer api_timer;
	struct sy_timer http_timer;	/* MHD's own timeouts */
	struct sy_timer retry_timer;	/* publish again after a failure */
	uint64_t retry_ms;		/* its next delay; 0: none pending */
	bool published;			/* zones are being served: ready */

	/* the HTTP endpoint and metrics (both sources) */
	struct sy_http_opts http_opts;
	struct sy_http *http;
	struct sy_metrics *metrics;
	struct sy_metric *m_render, *m_publish, *m_records, *m_serial,
	    *m_nsd_restarts, *m_zone_failures;
};

/* --- options ---------------------------------------------------------- */

static int
set_snapshot(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct sync_cmd *c = ctx;

	if (*arg == '\0' || strlen(arg) >= sizeof(c->snapshot)) {
		snprintf(err, errsz, "empty or overlong path");
		return KZ_EINVAL;
	}
	snprintf(c->snapshot, sizeof(c->snapshot), "%s", arg);
	return KZ_OK;
}

static int
set_debounce(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct sync_cmd *c = ctx;

	if (kz_opt_duration_ms(arg, &c->debounce_ms) ||
	    c->debounce_ms > 60000) {
		snprintf(err, errsz, "expected a duration up to 1m (50ms)");
		return KZ_EINVAL;
	}
	return KZ_OK;
}

static const struct kz_opt sync_cmd_table[] = {
	{ "snapshot", "FILE", NULL, NULL, false, set_snapshot,
	  "Serve the cluster in FILE (kubectl get ... -o json) and follow "
	  "its changes." },
	{ "debounce", "DURATION", "50ms", NULL, false, set_debounce,
	  "Wait this long after a partial write to FILE before reading it "
	  "(a rename into place or a close is read at once)." },
	{ "log-level", "LEVEL", "info", NULL, false, kz_log_opt_level,
	  "Lowest level logged: debug, info, warn, error or off." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

/* Parse ARGV against the three tables. 0 to go on, else an exit status
 * + 1 (so 1 means "exit 0"). */
static int
parse_args(const char *name, int argc, char **argv, struct sync_cmd *cmd,
    struct zg_render_opts *ro, struct nc_opts *no, struct sy_api *api,
    struct sy_http_opts *ho)
{
	struct kz_opt_table tables[6] = {
		{ "source options", sync_cmd_table, cmd },
		{ "render options", zg_render_opt_table, ro },
		{ "NSD options", nc_opt_table, no },
		{ "Kubernetes API options", sy_k8s_opt_table,
		    api ? (void *)&api->opts : NULL },
		{ "coalescing options", sy_coalesce_opt_table,
		    api ? (void *)&api->co : NULL },
		{ "HTTP options", sy_http_opt_table, ho },
	};
	size_t ntables = api && ho ? 6 : 3;
	char err[512];
	char **pos;
	size_t npos = 0;
	int help = 0, rc = 0;

	pos = calloc((size_t)argc + 1, sizeof(*pos));
	if (pos == NULL)
		return 2;
	if (kz_opt_parse(argc, argv, tables, ntables, pos, &npos, &help, err,
	    sizeof(err))) {
		fprintf(stderr, "kubezone %s: %s\n", name, err);
		rc = 3;
	} else if (help) {
		if (help == 2) {
			kz_opt_markdown(stdout, tables, ntables);
		} else {
			printf("usage: kubezone %s %s[OPTIONS]\n", name, api ?
			    "[--snapshot FILE | --kubeconfig FILE] " :
			    "[--snapshot FILE] ");
			kz_opt_help(stdout, tables, ntables);
		}
		rc = 1;
	} else if (npos > 0) {
		fprintf(stderr, "kubezone %s: unexpected argument '%s'\n",
		    name, pos[0]);
		rc = 3;
	} else if (nc_opts_finish(no, err, sizeof(err))) {
		fprintf(stderr, "kubezone %s: %s\n", name, err);
		rc = 3;
	}
	free(pos);
	return rc;
}

/* --- rendering -------------------------------------------------------- */

/* Decode PATH (or nothing when NULL) and render it into ZS. */
static int
render_file(const char *path, const struct zg_render_opts *ro,
    struct zg_zoneset *zs, struct zg_decode_stats *st, uint64_t *decode_ms,
    char *err, size_t errsz)
{
	struct zg_decode_error derr = { 0 };
	struct zg_model m;
	uint64_t t0 = sy_now_ms();
	int rc = KZ_OK;

	zg_model_init(&m);
	if (path) {
		rc = zg_decode_path(&m, path, NULL, st, &derr);
		if (rc) {
			zg_decode_strerror(rc, &derr, err, errsz);
			goto out;
		}
	}
	*decode_ms = sy_now_ms() - t0;
	rc = zg_render(&m, ro, zs);
	if (rc)
		snprintf(err, errsz, "render: %s", kz_strerror(rc));
out:
	zg_model_free(&m);
	return rc;
}

/* Whether ZS holds exactly the zones S configured NSD with. */
static bool
same_zone_set(const struct sync *s, const struct zg_zoneset *zs)
{
	char name[256];

	if (zs->nzones != s->nzones)
		return false;
	for (size_t i = 0; i < zs->nzones; i++) {
		zg_name_bare(name, sizeof(name), zs->zones[i].origin);
		if (strcmp(name, s->zones[i]) != 0 ||
		    strcmp(zs->zones[i].file, s->files[i]) != 0)
			return false;
	}
	return true;
}

static int
remember_zones(struct sync *s, const struct zg_zoneset *zs)
{
	if (zs->nzones > SY_MAX_ZONES) {
		kz_error("too many zones", "zones=%zu max=%d", zs->nzones,
		    SY_MAX_ZONES);
		return KZ_ETOOBIG;
	}
	for (size_t i = 0; i < zs->nzones; i++) {
		zg_name_bare(s->zones[i], sizeof(s->zones[i]),
		    zs->zones[i].origin);
		snprintf(s->files[i], sizeof(s->files[i]), "%s",
		    zs->zones[i].file);
	}
	s->nzones = zs->nzones;
	return KZ_OK;
}

static int
render_conf(const struct nc_opts *no, const struct nc_paths *paths,
    char zones[][256], char files[][256], size_t nzones, struct kz_buf *out)
{
	struct nc_zone_ref refs[SY_MAX_ZONES];

	for (size_t i = 0; i < nzones; i++) {
		refs[i].name = zones[i];
		refs[i].file = files[i];
	}
	return nc_conf_render(no, paths, refs, nzones, out);
}

static int
write_conf(struct sync *s)
{
	struct kz_buf b;
	int rc;

	kz_buf_init(&b, 1024 * 1024);
	rc = render_conf(&s->no, &s->paths, s->zones, s->files, s->nzones,
	    &b);
	if (rc == 0)
		rc = nc_write_atomic(s->paths.conf, b.data, b.len, 0600);
	if (rc)
		kz_error("cannot write nsd.conf", "file=%s error=\"%s\"",
		    s->paths.conf, kz_strerror(rc));
	kz_buf_free(&b);
	/* Zones added by hand with nsd-control addzone are not ours. */
	unlink(s->paths.zonelist);
	return rc;
}

/* --- NSD glue --------------------------------------------------------- */

static int
reload_zone(void *ctx, const char *origin)
{
	struct sync *s = ctx;
	int rc;

	if (s->nsd.state != NC_NSD_RUNNING) {
		s->reload_pending = true;
		return -EAGAIN;
	}
	rc = nc_control_reload(s->paths.ctl, origin);
	if (rc) {
		kz_error("nsd refused to reload a zone", "zone=%s "
		    "error=\"%s\"", origin, kz_strerror(rc));
		s->reload_pending = true;
	} else {
		kz_debug("zone reload requested", "zone=%s", origin);
	}
	return rc;
}

static void
nsd_ready(void *ctx, struct nc_nsd *n)
{
	struct sync *s = ctx;

	(void)n;
	if (!s->reload_pending)
		return;
	s->reload_pending = false;
	for (size_t i = 0; i < s->nzones; i++)
		reload_zone(s, s->zones[i]);
}

/* Restart NSD with a new nsd.conf (the zone set changed). */
static void
restart_nsd(struct sync *s)
{
	int rc;

	kz_info("zone set changed, restarting nsd", "zones=%zu", s->nzones);
	nc_nsd_stop(&s->nsd, 5000);
	if (write_conf(s))
		return;
	s->conf_stale = false;
	rc = nc_nsd_start(&s->nsd);
	if (rc)
		kz_error("cannot start nsd", "error=\"%s\"", kz_strerror(rc));
}

/* --- snapshot --------------------------------------------------------- */

static void note_published(struct sync *s, const struct zg_zoneset *zs,
    const struct nc_pub_result *res, double render_s, double publish_s);

/*
 * After a publish that could not write or validate a zone (a full or
 * read-only disk, say), try again later with a growing delay: the zones
 * must catch up with the cluster even when nothing else changes.
 */
static void
publish_outcome(struct sync *s, bool ok)
{
	if (ok) {
		if (s->retry_ms)
			kz_info("publishing works again", NULL);
		s->retry_ms = 0;
		sy_timer_cancel(&s->loop, &s->retry_timer);
		return;
	}
	s->retry_ms = s->retry_ms ? s->retry_ms * 2 : SY_RETRY_MIN_MS;
	if (s->retry_ms > SY_RETRY_MAX_MS)
		s->retry_ms = SY_RETRY_MAX_MS;
	kz_warn("publish failed, trying again", "retry_in_ms=%llu",
	    (unsigned long long)s->retry_ms);
	sy_timer_in(&s->loop, &s->retry_timer, s->retry_ms);
}

static int
load_snapshot(struct sync *s, bool initial)
{
	struct zg_decode_stats st = { 0 };
	struct zg_zoneset zs = { 0 };
	struct nc_pub_result res;
	char err[768];
	uint64_t t0 = sy_now_ms(), t1, decode_ms = 0;
	int rc;

	s->loads++;
	rc = render_file(s->cmd.snapshot, &s->ro, &zs, &st, &decode_ms, err,
	    sizeof(err));
	if (rc) {
		s->load_failures++;
		kz_error(initial ? "cannot load the snapshot" :
		    "snapshot rejected, the zones being served stay",
		    "error=\"%s\"", err);
		goto out;
	}
	if (!initial && !same_zone_set(s, &zs)) {
		if ((rc = remember_zones(s, &zs)))
			goto out;
		s->conf_stale = true;
	}
	t1 = sy_now_ms();
	rc = nc_pub_publish(&s->pub, &zs, (uint32_t)time(NULL), &res);
	if (rc == 0 || res.changed + res.unchanged > 0)
		note_published(s, &zs, &res, (double)(t1 - t0) / 1000,
		    (double)(sy_now_ms() - t1) / 1000);
	publish_outcome(s, rc == 0 && res.failed == 0);
	kz_info("snapshot loaded", "objects=%zu invalid=%zu skipped=%zu "
	    "records=%zu zones_changed=%zu zones_unchanged=%zu "
	    "zones_failed=%zu ms=%llu decode_ms=%llu render_ms=%llu "
	    "publish_ms=%llu",
	    st.objects, st.invalid, zs.stats.skipped, zs.stats.records,
	    res.changed, res.unchanged, res.failed,
	    (unsigned long long)(sy_now_ms() - t0),
	    (unsigned long long)decode_ms,
	    (unsigned long long)(t1 - t0 - decode_ms),
	    (unsigned long long)(sy_now_ms() - t1));
	if (initial) {
		/* Go on when every zone has a good file, maybe an older one. */
		rc = KZ_OK;
		for (size_t i = 0; i < zs.nzones && rc == KZ_OK; i++) {
			const struct nc_pub_zone *pz =
			    nc_pub_find(&s->pub, zs.zones[i].origin);

			if (pz == NULL || !pz->installed)
				rc = KZ_EPARSE;
		}
		if (rc == KZ_OK)
			rc = remember_zones(s, &zs);
		goto out;
	}
	if (s->conf_stale)
		restart_nsd(s);
out:
	zg_zoneset_free(&zs);
	return rc;
}

static void
debounce_fired(struct sy_loop *l, void *ctx)
{
	(void)l;
	load_snapshot(ctx, false);
}

static void publish_model(struct sync *s);

static void
retry_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

	(void)l;
	if (s->use_api)
		publish_model(s);
	else
		load_snapshot(s, false);
}

static void
inotify_ready(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct sync *s = ctx;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false, complete = false;

	(void)revents;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if ((ev->len > 0 && strcmp(ev->name, s->snap_base) ==
			    0) || (ev->mask & IN_Q_OVERFLOW)) {
				hit = true;
				/* A rename into place or a close after
				 * writing leaves a whole file: no need to
				 * wait for more writes. */
				complete = (ev->mask & (IN_MOVED_TO |
				    IN_CLOSE_WRITE)) != 0;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	if (hit)
		sy_timer_in(l, &s->debounce, complete ? 0 :
		    s->cmd.debounce_ms);
}

static int
watch_snapshot(struct sync *s)
{
	char tmp[PATH_MAX];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", s->cmd.snapshot);
	slash = strrchr(tmp, '/');
	if (strlen(slash ? slash + 1 : tmp) >= sizeof(s->snap_base))
		return -ENAMETOOLONG;
	if (slash == NULL) {
		snprintf(s->snap_dir, sizeof(s->snap_dir), ".");
		memcpy(s->snap_base, tmp, strlen(tmp) + 1);
	} else {
		memcpy(s->snap_base, slash + 1, strlen(slash + 1) + 1);
		if (slash == tmp)
			slash[1] = '\0';
		else
			*slash = '\0';
		snprintf(s->snap_dir, sizeof(s->snap_dir), "%s", tmp);
	}
	s->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inofd < 0)
		return -errno;
	/* Watch the directory: a rename over the file is a new inode. */
	if (inotify_add_watch(s->inofd, s->snap_dir, IN_CLOSE_WRITE |
	    IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE) < 0)
		return -errno;
	return sy_loop_add_fd(&s->loop, s->inofd, POLLIN, inotify_ready, s);
}

/* --- metrics and readiness (both sources) ------------------------------ */

/* Monotonic seconds, finer than sy_now_ms(), for the duration histograms. */
static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
setup_metrics(struct sync *s)
{
	struct sy_metrics *r = s->metrics;

	s->m_render = sy_metrics_histogram(r,
	    "kubezone_render_duration_seconds", "Time to render the model "
	    "into zones.", NULL, NULL, 0);
	s->m_publish = sy_metrics_histogram(r,
	    "kubezone_publish_duration_seconds", "Time to write, validate and "
	    "install the changed zones and ask NSD to reload them.", NULL,
	    NULL, 0);
	s->m_records = sy_metrics_gauge(r, "kubezone_zone_records",
	    "Records in each zone last rendered (SOA included).", "zone");
	s->m_serial = sy_metrics_gauge(r, "kubezone_zone_serial",
	    "SOA serial of each zone being served.", "zone");
	s->m_zone_failures = sy_metrics_counter(r,
	    "kubezone_zone_publish_failures_total", "Zones that failed to be "
	    "written or validated (the last good zone stays served).", NULL);
	s->m_nsd_restarts = sy_metrics_counter(r, "kubezone_nsd_restarts_total",
	    "Times NSD was restarted after it exited.", NULL);
}

/* Before /metrics answers: refresh what is read from elsewhere. */
static void
scrape(void *ctx)
{
	struct sync *s = ctx;

	sy_metric_set(s->m_nsd_restarts, s->nsd.restarts, NULL);
	if (s->use_api)
		sy_api_scrape(&s->api);
}

/* Record a publish of ZS: per-zone gauges; readiness follows (before_poll). */
static void
note_published(struct sync *s, const struct zg_zoneset *zs,
    const struct nc_pub_result *res, double render_s, double publish_s)
{
	char name[256];

	if (render_s >= 0)
		sy_metric_observe(s->m_render, render_s, NULL);
	sy_metric_observe(s->m_publish, publish_s, NULL);
	sy_metric_add(s->m_zone_failures, (double)res->failed, NULL);
	sy_metric_clear(s->m_records);
	sy_metric_clear(s->m_serial);
	for (size_t i = 0; i < zs->nzones; i++) {
		const struct nc_pub_zone *pz =
		    nc_pub_find(&s->pub, zs->zones[i].origin);

		zg_name_bare(name, sizeof(name), zs->zones[i].origin);
		sy_metric_set(s->m_records, (double)zs->zones[i].nrecords,
		    (const char *[]){ name });
		if (pz && pz->installed)
			sy_metric_set(s->m_serial, pz->serial,
			    (const char *[]){ name });
	}
	if (!s->published)
		kz_info("first zones published", "zones=%zu", zs->nzones);
	s->published = true;
}

/* --- the live API source ---------------------------------------------- */

/* Render the model and publish; the first publish also starts NSD. */
static void
publish_model(struct sync *s)
{
	struct zg_zoneset zs = { 0 };
	struct nc_pub_result res = { 0 };
	bool first = !s->published;
	double t0 = mono_s(), t1, t2;
	int rc;

	rc = zg_render(&s->model, &s->ro, &zs);
	t1 = mono_s();
	if (rc) {
		kz_error("render failed", "error=\"%s\"", kz_strerror(rc));
		sy_api_rendered(&s->api, sy_now_ms(), false);
		publish_outcome(s, false);
		goto out;
	}
	if (first || !same_zone_set(s, &zs)) {
		if ((rc = remember_zones(s, &zs)) != 0) {
			sy_api_rendered(&s->api, sy_now_ms(), false);
			goto out;
		}
		s->conf_stale = !first;
	}
	rc = nc_pub_publish(&s->pub, &zs, (uint32_t)time(NULL), &res);
	t2 = mono_s();
	publish_outcome(s, rc == 0 && res.failed == 0);
	kz_log(first ? KZ_LOG_INFO : KZ_LOG_DEBUG, "zones rendered",
	    "records=%zu skipped=%zu zones_changed=%zu zones_unchanged=%zu "
	    "zones_failed=%zu render_ms=%.1f publish_ms=%.1f model_bytes=%zu",
	    zs.stats.records, zs.stats.skipped, res.changed, res.unchanged,
	    res.failed, (t1 - t0) * 1000, (t2 - t1) * 1000,
	    zg_model_bytes(&s->model));
	note_published(s, &zs, &res, t1 - t0, t2 - t1);
	sy_api_rendered(&s->api, sy_now_ms(), res.failed == 0);
	if (first) {
		/* From now on each publish asks NSD to reload what changed. */
		s->pub.reload = reload_zone;
		s->pub.reload_ctx = s;
		if (write_conf(s) == 0 && (rc = nc_nsd_start(&s->nsd)) != 0)
			kz_error("cannot start nsd", "error=\"%s\"",
			    kz_strerror(rc));
	} else if (s->conf_stale) {
		restart_nsd(s);
	}
out:
	zg_zoneset_free(&zs);
}

static void
api_done(struct sy_loop *l, CURL *easy, CURLcode result, void *ctx)
{
	struct sync *s = ctx;

	if (!s->use_api ||
	    !sy_api_done(&s->api, easy, result, sy_now_ms())) {
		curl_multi_remove_handle(sy_loop_multi(l), easy);
		kz_warn("unknown transfer finished", NULL);
	}
}

/* The timer only bounds the wait; the work is in the hook. */
static void
api_timer_fired(struct sy_loop *l, void *ctx)
{
	(void)l, (void)ctx;
}

/* Before each wait: API timers, a render when due, the next wake-up. */
static void
api_before_poll(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	uint64_t now = sy_now_ms();
	long t;

	sy_api_tick(&s->api, now);
	if (sy_api_render_due(&s->api, now)) {
		publish_model(s);
		now = sy_now_ms();
	}
	t = sy_api_timeout_ms(&s->api, now);
	sy_timer_at(l, &s->api_timer, now + (uint64_t)(t > 0 ? t : 0));
}

static void
http_ready(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct sync *s = ctx;

	(void)l, (void)fd, (void)revents;
	sy_http_run(s->http);
}

/*
 * libmicrohttpd also has work without any event on its fd: idle
 * connections to time out (slow clients would otherwise hold their
 * slots for ever) and, after the connection limit was reached, the
 * listening socket to take back. Run it when it asks to, with either
 * source.
 */
static void
http_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

	(void)l;
	sy_http_run(s->http);
}

static void
http_before_poll(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	long t = sy_http_timeout_ms(s->http);

	if (t >= 0)
		sy_timer_in(l, &s->http_timer, (uint64_t)t);
	else
		sy_timer_cancel(l, &s->http_timer);
}

/* Start the HTTP endpoint and, for the API source, the client. */
static int
start_services(struct sync *s, char *err, size_t errsz)
{
	int rc;

	rc = sy_http_start(&s->http, &s->http_opts, s->metrics, scrape, s, err,
	    errsz);
	if (rc)
		return rc;
	if (s->http && ((rc = sy_loop_add_fd(&s->loop, sy_http_fd(s->http),
	    POLLIN, http_ready, s)) != 0 ||
	    (rc = sy_loop_add_hook(&s->loop, http_before_poll, s)) != 0)) {
		snprintf(err, errsz, "%s", kz_strerror(rc));
		return rc;
	}
	if (!s->use_api)
		return 0;
	rc = sy_api_setup(&s->api, s->ro.pod_records, &s->model,
	    sy_loop_multi(&s->loop), s->metrics, err, errsz);
	if (rc == 0 && (rc = sy_loop_add_hook(&s->loop, api_before_poll,
	    s)) != 0)
		snprintf(err, errsz, "%s", kz_strerror(rc));
	if (rc == 0) {
		sy_loop_on_done(&s->loop, api_done, s);
		sy_api_start(&s->api, sy_now_ms());
	}
	return rc;
}

/* --- signals and the loop --------------------------------------------- */

static void
signal_ready(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct sync *s = ctx;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			kz_info("stopping", "signal=%s",
			    sigabbrev_np((int)si.ssi_signo));
			s->status = 0;
			sy_loop_stop(l);
			break;
		case SIGHUP:
			if (s->use_api) {
				kz_info("SIGHUP ignored: following the API",
				    NULL);
				break;
			}
			kz_info("SIGHUP: re-reading the snapshot", NULL);
			sy_timer_in(l, &s->debounce, 0);
			break;
		case SIGCHLD:
			nc_nsd_reap(&s->nsd);
			break;
		default:
			break;
		}
	}
}

static void
nsd_log_ready(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct sync *s = ctx;

	(void)l, (void)fd, (void)revents;
	nc_nsd_read_log(&s->nsd);
}

static void
nsd_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

	(void)l;
	nc_nsd_tick(&s->nsd);
}

/* Before each wait: keep the NSD timer on its deadline; notice failure. */
static void
before_poll(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	uint64_t d = nc_nsd_deadline(&s->nsd);

	if (s->nsd.state == NC_NSD_FAILED) {
		char hint[160] = "";

		if (strstr(s->nsd.last_error, "already in use"))
			snprintf(hint, sizeof(hint), " (another server is "
			    "using --listen %s:%u?)", s->no.listen[0].ip,
			    s->no.listen[0].port);
		fprintf(stderr, "kubezone sync: NSD could not start: %s%s\n",
		    s->nsd.last_error[0] ? s->nsd.last_error :
		    "it exited at once (see its log above)", hint);
		s->status = 1;
		sy_loop_stop(l);
		return;
	}
	if (d == 0)
		sy_timer_cancel(l, &s->nsd_timer);
	else if (!s->nsd_timer.armed || s->nsd_timer.deadline_ms != d)
		sy_timer_at(l, &s->nsd_timer, d);
	/* ready: zones published and NSD answering */
	sy_http_set_ready(s->http, s->published &&
	    s->nsd.state == NC_NSD_RUNNING);
}

static int
setup_signals(struct sync *s)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sigfd < 0)
		return -errno;
	return sy_loop_add_fd(&s->loop, s->sigfd, POLLIN, signal_ready, s);
}

int
sy_sync_main(int argc, char **argv)
{
	struct sync *s;
	char err[768], bin[PATH_MAX];
	int rc, status = 1;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		fprintf(stderr, "kubezone sync: out of memory\n");
		return 1;
	}
	s->sigfd = s->inofd = -1;
	s->nsd.logfd = s->nsd.logw = -1;
	s->cmd.debounce_ms = 50;
	zg_render_opts_init(&s->ro);
	nc_opts_init(&s->no);
	sy_api_opts_init(&s->api);
	sy_http_opts_init(&s->http_opts);
	zg_model_init(&s->model);
	sy_timer_init(&s->debounce, debounce_fired, s);
	sy_timer_init(&s->nsd_timer, nsd_timer_fired, s);
	sy_timer_init(&s->api_timer, api_timer_fired, s);
	sy_timer_init(&s->http_timer, http_timer_fired, s);
	sy_timer_init(&s->retry_timer, retry_fired, s);
	rc = parse_args("sync", argc, argv, &s->cmd, &s->ro, &s->no, &s->api,
	    &s->http_opts);
	if (rc) {
		status = rc - 1;
		goto out_opts;
	}
	if (s->cmd.snapshot[0] == '\0') {
		/* no snapshot: the Kubernetes API, or a clear error */
		if (sy_api_resolve(&s->api, err, sizeof(err))) {
			fprintf(stderr, "kubezone sync: %s\n", err);
			status = 2;
			goto out_opts;
		}
		s->use_api = true;
	}
	if ((s->metrics = sy_metrics_new()) == NULL) {
		fprintf(stderr, "kubezone sync: out of memory\n");
		goto out_opts;
	}
	setup_metrics(s);
	if (nc_state_dir_prepare(s->no.state_dir, &s->paths, err,
	    sizeof(err))) {
		fprintf(stderr, "kubezone sync: %s\n", err);
		goto out_opts;
	}
	if (nc_nsd_find(s->no.nsd, bin, sizeof(bin), err, sizeof(err))) {
		fprintf(stderr, "kubezone sync: %s\n", err);
		goto out_opts;
	}
	if (nc_nsd_kill_stale(s->paths.pidfile, s->paths.conf) < 0) {
		fprintf(stderr, "kubezone sync: a stale NSD (pidfile %s) "
		    "would not stop\n", s->paths.pidfile);
		goto out_opts;
	}
	if ((rc = nc_nsd_init(&s->nsd, bin, s->paths.conf, s->paths.ctl,
	    s->paths.pidfile)) || (rc = sy_loop_init(&s->loop)) ||
	    (rc = nc_pub_init(&s->pub, s->paths.zonedir, s->paths.state))) {
		fprintf(stderr, "kubezone sync: %s\n", kz_strerror(rc));
		goto out;
	}
	s->nsd.on_ready = nsd_ready;
	s->nsd.ctx = s;
	if ((rc = setup_signals(s)) || (rc = sy_loop_add_fd(&s->loop,
	    s->nsd.logfd, POLLIN, nsd_log_ready, s)) ||
	    (rc = sy_loop_add_hook(&s->loop, before_poll, s))) {
		fprintf(stderr, "kubezone sync: %s\n", kz_strerror(rc));
		goto out;
	}
	if (start_services(s, err, sizeof(err))) {
		fprintf(stderr, "kubezone sync: %s\n", err);
		goto out;
	}
	/* The API source starts NSD after its first publish. */
	if (!s->use_api && (rc = watch_snapshot(s))) {
		fprintf(stderr, "kubezone sync: cannot watch %s: %s\n",
		    s->snap_dir, kz_strerror(rc));
		goto out;
	}
	/* The first publish comes before NSD starts, so it has zones. */
	if (!s->use_api && load_snapshot(s, true)) {
		fprintf(stderr, "kubezone sync: the first snapshot must load "
		    "(see the error above)\n");
		goto out;
	}
	if (!s->use_api && write_conf(s))
		goto out;
	/* From now on each publish asks NSD to reload what changed. */
	if (!s->use_api) {
		s->pub.reload = reload_zone;
		s->pub.reload_ctx = s;
	}
	if (!s->use_api && (rc = nc_nsd_start(&s->nsd))) {
		fprintf(stderr, "kubezone sync: cannot start %s: %s\n", bin,
		    kz_strerror(rc));
		goto out;
	}
	s->status = 0;
	rc = sy_loop_run(&s->loop);
	status = rc ? 1 : s->status;
out:
	sy_api_free(&s->api);		/* its easy handles leave the multi */
	sy_http_free(s->http);
	nc_nsd_free(&s->nsd);
	nc_pub_free(&s->pub);
	sy_loop_free(&s->loop);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->inofd >= 0)
		close(s->inofd);
	if (status == 0)
		kz_info("stopped", "loads=%lu load_failures=%lu "
		    "zones_published=%lu zones_failed=%lu", s->loads,
		    s->load_failures, s->pub.stats.published,
		    s->pub.stats.failed);
out_opts:
	sy_api_free(&s->api);
	zg_model_free(&s->model);
	sy_metrics_free(s->metrics);
	zg_render_opts_free(&s->ro);
	free(s);
	return status;
}

/* --- nsd-conf --------------------------------------------------------- */

int
sy_nsdconf_main(int argc, char **argv)
{
	struct sync_cmd cmd = { .debounce_ms = 50 };
	struct zg_render_opts ro;
	struct zg_zoneset zs = { 0 };
	struct zg_decode_stats st = { 0 };
	uint64_t decode_ms;
	struct nc_paths paths;
	struct kz_buf b;
	struct nc_opts *no;
	char (*zones)[256] = NULL, (*files)[256] = NULL;
	char err[768], dir[PATH_MAX], cwd[PATH_MAX];
	int rc, status = 1;

	no = calloc(1, sizeof(*no));
	if (no == NULL)
		return 1;
	nc_opts_init(no);
	zg_render_opts_init(&ro);
	kz_buf_init(&b, 1024 * 1024);
	rc = parse_args("nsd-conf", argc, argv, &cmd, &ro, no, NULL, NULL);
	if (rc) {
		status = rc - 1;
		goto out;
	}
	if (no->state_dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(dir, sizeof(dir), "%s", no->state_dir);
	else if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", cwd,
	    no->state_dir) >= sizeof(dir))
		goto out;
	if (nc_paths_init(&paths, dir)) {
		fprintf(stderr, "kubezone nsd-conf: state directory path too "
		    "long\n");
		goto out;
	}
	if (render_file(cmd.snapshot[0] ? cmd.snapshot : NULL, &ro, &zs, &st,
	    &decode_ms, err, sizeof(err))) {
		fprintf(stderr, "kubezone nsd-conf: %s\n", err);
		goto out;
	}
	if (zs.nzones > SY_MAX_ZONES)
		goto out;
	zones = calloc(SY_MAX_ZONES, sizeof(*zones));
	files = calloc(SY_MAX_ZONES, sizeof(*files));
	if (zones == NULL || files == NULL)
		goto out;
	for (size_t i = 0; i < zs.nzones; i++) {
		zg_name_bare(zones[i], sizeof(zones[i]), zs.zones[i].origin);
		snprintf(files[i], sizeof(files[i]), "%s", zs.zones[i].file);
	}
	if (render_conf(no, &paths, zones, files, zs.nzones, &b)) {
		fprintf(stderr, "kubezone nsd-conf: out of memory\n");
		goto out;
	}
	fwrite(b.data, 1, b.len, stdout);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	free(zones);
	free(files);
	kz_buf_free(&b);
	zg_zoneset_free(&zs);
	zg_render_opts_free(&ro);
	free(no);
	return status;
}
