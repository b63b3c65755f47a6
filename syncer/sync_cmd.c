/*
 * syncer/sync_cmd.c -- `kubezone sync` and `kubezone nsd-conf`.
 *
 * Two sources feed one pipeline: a snapshot file (--snapshot FILE,
 * re-read on change) or the live Kubernetes API (--kubeconfig,
 * $KUBECONFIG or in-cluster; syncer/api.h). Either way the source only
 * changes the model; the model's change log goes into the zone database
 * (zonegen/zonedb.h), which recomputes the objects that changed and
 * gives per-zone diffs; the publisher (nsd-conf/publish.h) commits each
 * diff with a new serial into the feed (nsd-conf/feed.h), which NOTIFYs
 * NSD and serves it the diff by IXFR. NSD holds every zone as a
 * secondary of the feed and keeps its zone files in the state directory.
 *
 * Start-up: NSD starts at once on the zone files it wrote last time (it
 * serves them while kubezone lists the cluster); serials are learned
 * from those files and from every --notify secondary (an SOA query to
 * each) before the first publication, so they continue above anything
 * served before. /readyz turns 200 once the source is synced and NSD
 * answers every zone with a serial published from it.
 *
 * Several clusters (--clusters FILE, zonegen/clusters.h): each cluster
 * is one more source with its own model, zone database and publisher,
 * all feeding the same feed, serial store and NSD; each follows its own
 * API with its own back-off, its API metrics carry cluster=, and its
 * log lines say cluster=. A cluster whose API is down keeps its zones
 * served (its kubezone_api_down_seconds grows) while the others go on.
 * With --catalog-zone one more database holds the catalog of every
 * cluster's zones. Zones are numbered across clusters: zone G is local
 * zone zloc[G] of cluster zcl[G].
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/opt.h"
#include "nsd-conf/catalog.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/control.h"
#include "nsd-conf/dnssec.h"
#include "nsd-conf/feed.h"
#include "nsd-conf/keys.h"
#include "nsd-conf/nsd.h"
#include "nsd-conf/publish.h"
#include "nsd-conf/serial.h"
#include "syncer/api.h"
#include "syncer/currency.h"
#include "syncer/http.h"
#include "syncer/loop.h"
#include "syncer/metrics.h"
#include "syncer/sync_cmd.h"
#include "zonegen/clusters.h"
#include "zonegen/decode.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define SY_RETRY_MIN_MS 1000	/* first retry of a failed publish */
#define SY_RETRY_MAX_MS 30000
#define SY_LEARN_TIMEOUT_MS 2000	/* SOA queries to secondaries */
#define SY_READY_PROBE_MS 1000	/* SOA queries to NSD for /readyz */
#define SY_READY_AGAIN_MS 50
#define SY_WATCH_MS 1000	/* NSD's serials checked once ready */
#define SY_LAG_CHECKS 3		/* checks behind before a new NOTIFY */
#define SY_SEC_WATCH_MS 250	/* the secondaries' serials, once ready */
#define SY_SEC_NEED_MAX 240	/* checks between two NOTIFYs to a
				 * secondary that does not move, at most */
#define SY_WRITE_WAIT_MS 2500	/* zone files written at a clean stop */
#define SY_SERVE_PROBE_MS 5	/* NSD asked while a change waits ... */
#define SY_SERVE_FAST_MS 10000	/* ... this long after a publish at most */
#define SY_LATENCY_MAX_S 3600	/* a longer latency is a stale annotation */
#define SY_SIGN_SLICE 256	/* signatures per turn of the loop (a few
				 * ms) while a zone is signed whole */

struct sync_cmd {
	char snapshot[PATH_MAX];
	char clusters[PATH_MAX];	/* --clusters FILE, or "" */
	unsigned long long debounce_ms;
	struct nc_dnssec_opts dnssec;	/* the DNSSEC options (sync only) */
};

struct sync;

/*
 * One cluster: a source and its own zones in the shared pipeline. The
 * catalog of several clusters is one too, without a source.
 */
struct cluster {
	struct sync *s;
	char name[ZG_CLUSTER_NAME_MAX + 1];	/* "" without --clusters */
	char logctx[ZG_CLUSTER_NAME_MAX + 16];	/* "cluster=NAME", or "" */
	const struct zg_render_opts *ro;	/* its options, borrowed */
	bool is_catalog;		/* the catalog of every cluster's zones */
	bool api_set;			/* API resolved (api to be freed) */
	struct zg_model model;
	struct zg_db db;
	struct nc_publisher pub;
	struct nc_dnssec dnssec;	/* the signer pub borrows (--dnssec;
					 * none for the catalog) */
	struct sy_api api;
	struct sy_metrics *metrics;	/* its cluster= scope, or NULL */
	struct sy_metric *m_ready;	/* kubezone_cluster_ready */
	bool ready;			/* NSD serves every zone of it */
	size_t zone0;			/* global index of its first zone */
	bool synced;			/* the snapshot source has loaded */
	struct sy_timer retry_timer;	/* publish again after a failure */
	uint64_t retry_ms;		/* its next delay; 0: none pending */
	bool failing;			/* the last publish failed */
	bool deferred;			/* a publish waits for a whole
					 * signing to end */
};

/* One zone's readiness probe. */
struct zprobe {
	struct sync *s;
	size_t z;
};

struct sync {
	struct sync_cmd cmd;
	struct zg_render_opts ro;
	struct nc_opts no;
	struct nc_paths paths;
	struct nc_nsd nsd;
	struct sy_loop loop;
	int sigfd;
	int inofd;
	char snap_dir[PATH_MAX];
	char snap_base[NAME_MAX + 1];
	struct sy_timer debounce;
	struct sy_timer nsd_timer;
	int status;			/* exit status */
	unsigned long loads;
	unsigned long load_failures;

	/* the pipeline: per cluster model -> zone database -> publisher;
	 * then the one feed */
	struct cluster *cl;		/* the clusters, the catalog last */
	size_t ncl;
	size_t nzones;			/* zones of every cluster */
	size_t *zcl, *zloc;		/* zone -> cluster, its local index */
	size_t catalog;			/* the catalog zone's index + 1, or 0 */
	struct zg_clusters clusters;	/* --clusters FILE */
	struct zg_render_opts cat_ro;	/* the catalog's options (cluster
					 * 0's, shallow, with --catalog-zone) */
	char **members;			/* the catalog's members (origins) */
	size_t nmembers;
	struct nc_serials serials;
	struct nc_feed feed;
	struct sy_timer feed_timer;
	char nsd_ip[64];		/* where NSD answers (NOTIFY, probes) */
	uint16_t nsd_port;
	unsigned learning;		/* SOA queries to secondaries out */

	/* readiness: NSD serves what was published from a synced model */
	struct zprobe *probes;
	bool *confirmed;
	unsigned *lag;			/* lag watch: checks NSD was behind */
	struct sy_timer zf_timer;	/* have NSD write its zone files */
	uint64_t zf_since;		/* first change not written, or 0 */
	unsigned sec_out;		/* their SOA queries under way */
	struct sy_timer sec_timer;
	unsigned probing;
	struct sy_timer ready_timer;
	bool ready;
	uint64_t started_ms;

	/* zones the catalog on disk lists and the options no longer give:
	 * NSD serves them from their files until the catalog drops them */
	char (*departing)[256];
	size_t ndeparting;

	/* the live API source (when there is no --snapshot); API holds the
	 * options every cluster's source starts from */
	bool use_api;
	struct sy_api api;
	struct sy_timer api_timer;
	struct sy_timer http_timer;	/* MHD's own timeouts */

	/* currency metrics: latency waits, publications, secondaries */
	struct sy_cur_wait cur_wait;
	struct sy_cur_hits cur_hits;
	struct sy_cur_hist *cur_hist;	/* per zone */
	struct sec_seen *sec_seen;	/* per --notify target and zone */
	struct zprobe *sprobes;		/* serve probes, per zone */
	bool *sprobing;
	struct sy_timer serve_timer;
	uint64_t serve_until;		/* fast serve probes end */
	unsigned long lat_clamped;

	/* DNSSEC: the refresh timer of every cluster's signer (--dnssec) */
	struct sy_timer sign_timer;
	struct sy_timer sign_work;	/* the next step of whole signings */
	uint64_t sign_last;		/* last refresh, kz_now_ms() */
	struct sy_metric *m_sig_expiry, *m_sign_s, *m_refreshes;

	/* the HTTP endpoint and metrics (both sources) */
	struct sy_http_opts http_opts;
	struct sy_http *http;
	struct sy_metrics *metrics;
	struct sy_metric *m_render, *m_publish, *m_records, *m_serial,
	    *m_nsd_restarts, *m_zone_failures, *m_capped, *m_transfers,
	    *m_notify, *m_latency, *m_lat_clamped, *m_served, *m_sec_serial,
	    *m_sec_behind, *m_sec_behind_s, *m_sec_up;
};

/* What a --notify secondary last answered about one zone, and where the
 * lag watch stands with it. */
struct sec_seen {
	bool asked;		/* it serves the zone and was asked */
	bool up;		/* the last query got its serial */
	bool known;		/* SERIAL holds the last serial it had */
	bool unserved;		/* REFUSED or NOTAUTH: not asked again */
	uint32_t serial;
	unsigned lag;		/* checks behind without moving */
	unsigned need;		/* checks before the next NOTIFY
				   (0: SY_LAG_CHECKS) */
};

/* --- zones across clusters --------------------------------------------- */

static struct cluster *
zcluster(const struct sync *s, size_t z)
{
	return &s->cl[s->zcl[z]];
}

static const struct zg_db_zone *
zone_of(const struct sync *s, size_t z)
{
	return &zcluster(s, z)->db.zones[s->zloc[z]];
}

/* The serial zone Z is published at (0 before its first). */
static uint32_t
zserial(const struct sync *s, size_t z)
{
	return nc_pub_serial(&zcluster(s, z)->pub, s->zloc[z]);
}

static bool
zheld(const struct sync *s, size_t z)
{
	return nc_pub_held(&zcluster(s, z)->pub, s->zloc[z]);
}

/* Zone Z's cluster has published and Z is in the feed (not still
 * being signed whole). */
static bool
zstarted(const struct sync *s, size_t z)
{
	const struct cluster *c = zcluster(s, z);

	return c->pub.started && !nc_pub_signing(&c->pub, s->zloc[z]);
}

/* When zone Z's first signature expires (0: not signed). */
static uint32_t
zexpiry(const struct sync *s, size_t z)
{
	return nc_dnssec_earliest(&zcluster(s, z)->dnssec, s->zloc[z]);
}

static uint32_t
zfirst(const struct sync *s, size_t z)
{
	return zcluster(s, z)->pub.first[s->zloc[z]];
}

static size_t
zfeed(const struct sync *s, size_t z)
{
	return zcluster(s, z)->pub.fz[s->zloc[z]];
}

/* Log lines from now on name cluster C (NULL: none). */
static void
log_cluster(const struct cluster *c)
{
	kz_log_set_context(c ? c->logctx : NULL);
}

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
set_clusters(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct sync_cmd *c = ctx;

	if (*arg == '\0' || strlen(arg) >= sizeof(c->clusters)) {
		snprintf(err, errsz, "empty or overlong path");
		return KZ_EINVAL;
	}
	snprintf(c->clusters, sizeof(c->clusters), "%s", arg);
	return KZ_OK;
}

static int
set_debounce(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct sync_cmd *c = ctx;

	(void)err, (void)errsz;		/* the table's range was checked */
	(void)kz_opt_duration_ms(arg, &c->debounce_ms);
	return KZ_OK;
}

static const struct kz_opt sync_cmd_table[] = {
	{ "snapshot", "FILE", NULL, NULL, false, set_snapshot,
	  "Serve the cluster in FILE (kubectl get ... -o json) and follow "
	  "its changes." },
	{ "clusters", "FILE", "one cluster", NULL, false, set_clusters,
	  "Several clusters: FILE (YAML) names each cluster, its API "
	  "(kubeconfig and context, or in-cluster), its zone and its render "
	  "options (docs/operations.md, several clusters). sync follows each "
	  "cluster's API and one NSD serves every cluster's zones; nsd-conf "
	  "declares them all. Not with --snapshot, --kubeconfig, --context or "
	  "render options other than --catalog-zone, which then lists every "
	  "cluster's zones." },
	{ "debounce", "DURATION", "50ms", NULL, false, set_debounce,
	  "Wait this long after a partial write to FILE before reading it "
	  "(a rename into place or a close is read at once).",
	  KZ_OPT_DURATION, 0, 60000 },
	{ "log-level", "LEVEL", "info", NULL, false, kz_log_opt_level,
	  "Lowest level logged: debug, info, warn, error or off." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static int check_zones(const struct zg_render_opts *ro,
    const struct nc_opts *no, char *err, size_t errsz);

/* Parse ARGV against the three tables. 0 to go on, else an exit status
 * + 1 (so 1 means "exit 0"). */
static int
parse_args(const char *name, int argc, char **argv, struct sync_cmd *cmd,
    struct zg_render_opts *ro, struct nc_opts *no, struct sy_api *api,
    struct sy_http_opts *ho)
{
	struct kz_opt_table tables[7] = {
		{ "source options", sync_cmd_table, cmd },
		{ "render options", zg_render_opt_table, ro },
		{ "NSD options", nc_opt_table, no },
		{ "Kubernetes API options", sy_k8s_opt_table,
		    api ? (void *)&api->opts : NULL },
		{ "coalescing options", sy_coalesce_opt_table,
		    api ? (void *)&api->co : NULL },
		{ "HTTP options", sy_http_opt_table, ho },
		{ "DNSSEC options", nc_dnssec_opt_table, &cmd->dnssec },
	};
	size_t ntables = api && ho ? 7 : 3;
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
			    "[--snapshot FILE | --kubeconfig FILE | "
			    "--clusters FILE] " : "[--snapshot FILE] ");
			kz_opt_help(stdout, tables, ntables);
		}
		rc = 1;
	} else if (npos > 0) {
		fprintf(stderr, "kubezone %s: unexpected argument '%s'\n",
		    name, pos[0]);
		rc = 3;
	} else if (cmd->clusters[0] && ((api && (cmd->snapshot[0] ||
	    api->opts.kubeconfig || api->opts.context)) ||
	    zg_clusters_argv_check(argc, argv, err, sizeof(err)))) {
		if (api && (cmd->snapshot[0] || api->opts.kubeconfig ||
		    api->opts.context))
			fprintf(stderr, "kubezone %s: --clusters: each cluster's "
			    "API is in the clusters file (not with --snapshot, "
			    "--kubeconfig or --context)\n", name);
		else
			fprintf(stderr, "kubezone %s: %s\n", name, err);
		rc = 3;
	} else if (nc_opts_finish(no, err, sizeof(err)) ||
	    zg_render_opts_finish(ro, err, sizeof(err)) ||
	    (!cmd->clusters[0] && check_zones(ro, no, err, sizeof(err))) ||
	    (ntables == 7 && nc_dnssec_opts_finish(&cmd->dnssec, err,
	    sizeof(err)))) {
		fprintf(stderr, "kubezone %s: %s\n", name, err);
		rc = 3;
	}
	free(pos);
	return rc;
}

/* --- nsd.conf and NSD ---------------------------------------------------- */

/* Zone Z of the database CTX / of every cluster of the daemon CTX. */
typedef const struct zg_db_zone *(*zone_at_fn)(const void *ctx, size_t z);

static const struct zg_db_zone *
db_zone_at(const void *ctx, size_t z)
{
	return &((const struct zg_db *)ctx)->zones[z];
}

static const struct zg_db_zone *
sync_zone_at(const void *ctx, size_t z)
{
	return zone_of(ctx, z);
}

/* The NZ zones AT gives for nsd.conf (names without the final dot),
 * then the NEXTRA zones of EXTRA (names; their files "<name>.zone");
 * NAMES holds the names and files. Free both. */
static struct nc_zone_ref *
zone_refs(zone_at_fn at, const void *ctx, size_t nz,
    const char (*extra)[256], size_t nextra, char (**names)[2][264])
{
	size_t n = nz + nextra;
	struct nc_zone_ref *refs = calloc(n ? n : 1, sizeof(*refs));

	*names = calloc(n ? n : 1, sizeof(**names));
	if (refs == NULL || *names == NULL) {
		free(refs);
		free(*names);
		*names = NULL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char *name = (*names)[i][0], *file = (*names)[i][1];

		if (i < nz) {
			zg_name_bare(name, 256, at(ctx, i)->origin);
			snprintf(file, 264, "%s", at(ctx, i)->file);
		} else {
			snprintf(name, 256, "%s", extra[i - nz]);
			snprintf(file, 264, "%.255s.zone", name);
		}
		refs[i].name = name;
		refs[i].file = file;
	}
	return refs;
}

/*
 * What needs the zones the options give (--zone, --reverse-zone): every
 * zone a --notify lists is served. 0, or an error with ERR filled.
 */
static int
check_zones(const struct zg_render_opts *ro, const struct nc_opts *no,
    char *err, size_t errsz)
{
	struct zg_db db = { 0 };
	struct nc_zone_ref *refs = NULL;
	char (*names)[2][264] = NULL;
	int rc;

	rc = zg_db_init(&db, ro);
	if (rc == 0 && (refs = zone_refs(db_zone_at, &db, db.nzones, NULL, 0,
	    &names)) == NULL)
		rc = KZ_ENOMEM;
	if (rc)
		snprintf(err, errsz, "%s", kz_strerror(rc));
	else
		rc = nc_opts_check_zones(no, refs, db.nzones, err, errsz);
	free(refs);
	free(names);
	zg_db_free(&db);
	return rc;
}

/*
 * A whole reverse tree (in-addr.arpa., ip6.arpa.: no --reverse-zone)
 * that other hosts may transfer: a secondary holding it answers every
 * reverse lookup, NXDOMAIN for any address outside the cluster. Say so
 * once, at start.
 */
static void
warn_reverse_trees(const struct sync *s)
{
	char trees[64] = "";

	if (!nc_opts_remote_transfers(&s->no))
		return;
	for (size_t z = 0; z < s->nzones; z++) {
		const char *o = zone_of(s, z)->origin;

		if (strcasecmp(o, "in-addr.arpa.") == 0 ||
		    strcasecmp(o, "ip6.arpa.") == 0)
			snprintf(trees + strlen(trees), sizeof(trees) -
			    strlen(trees), "%s%s", trees[0] ? "," : "", o);
	}
	if (trees[0])
		kz_warn("whole reverse trees open to transfer: a secondary "
		    "holding them answers every reverse lookup, NXDOMAIN for "
		    "any address outside the cluster (8.8.8.8 too)", "zones=%s "
		    "hint=\"set --reverse-zone to the cluster's Service and "
		    "Pod CIDRs\"", trees);
}

static int
write_conf(struct sync *s)
{
	struct nc_zone_ref *refs;
	char (*names)[2][264] = NULL;
	struct nc_feed_ref feed = { .port = s->feed.port };
	struct kz_buf b;
	int rc = KZ_ENOMEM;

	snprintf(feed.ip, sizeof(feed.ip), "127.0.0.1");
	snprintf(feed.key.name, sizeof(feed.key.name), "%s", s->feed.key.name);
	snprintf(feed.key.alg, sizeof(feed.key.alg), "%s", s->feed.key.alg);
	snprintf(feed.key.secret, sizeof(feed.key.secret), "%s",
	    s->feed.key.secret);
	kz_buf_init(&b, 64 * 1024 * 1024);
	refs = zone_refs(sync_zone_at, s, s->nzones,
	    (const char (*)[256])s->departing, s->ndeparting, &names);
	if (refs == NULL)
		goto out;
	rc = nc_conf_render(&s->no, &s->paths, &feed, refs,
	    s->nzones + s->ndeparting, &b);
	if (rc == 0)
		rc = kz_file_write_atomic(s->paths.conf, b.data, b.len, 0600);
out:
	if (rc)
		kz_error("cannot write nsd.conf", "file=%s error=\"%s\"",
		    s->paths.conf, kz_strerror(rc));
	free(refs);
	free(names);
	kz_buf_free(&b);
	/* Zones added by hand with nsd-control addzone are not ours. */
	unlink(s->paths.zonelist);
	return rc;
}

/* --- zones leaving the catalog ------------------------------------------ */

static int
departing_add(void *ctx, const char *name)
{
	struct sync *s = ctx;
	char bare[256];
	void *v;

	for (size_t z = 0; z < s->nzones; z++) {
		zg_name_bare(bare, sizeof(bare), zone_of(s, z)->origin);
		if (strcasecmp(bare, name) == 0)
			return 0;
	}
	if (strlen(name) >= sizeof(*s->departing) || strchr(name, '/') ||
	    strchr(name, '"') || name[0] == '\0')
		return 0;	/* not a name kubezone would have served */
	v = reallocarray(s->departing, s->ndeparting + 1,
	    sizeof(*s->departing));
	if (v == NULL)
		return KZ_ENOMEM;
	s->departing = v;
	snprintf(s->departing[s->ndeparting++], sizeof(*s->departing), "%s",
	    name);
	return 0;
}

/*
 * The zones that the catalog NSD serves from its file (the last run's)
 * still lists and the options no longer give. A zone must leave the
 * catalog before NSD stops serving it, or a secondary would try to
 * transfer a zone NSD refuses: NSD keeps serving these from their files
 * until it serves the new catalog (drop_departing).
 */
static void
find_departing(struct sync *s)
{
	char path[PATH_MAX + 256], err[256], names[512] = "";
	const struct zg_db_zone *cz;
	int rc;

	if (s->catalog == 0)
		return;
	cz = zone_of(s, s->catalog - 1);
	snprintf(path, sizeof(path), "%s/%s", s->paths.zonedir, cz->file);
	rc = nc_catalog_members(path, cz->origin, departing_add, s, err,
	    sizeof(err));
	if (rc && rc != -ENOENT)
		kz_warn("cannot read the last catalog", "file=%s error=\"%s\"",
		    path, rc == KZ_EPARSE ? err : kz_strerror(rc));
	for (size_t i = 0; i < s->ndeparting; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
		    "%s%s", i ? "," : "", s->departing[i]);
	if (s->ndeparting)
		kz_info("zones leaving the catalog: nsd serves them until it "
		    "serves the new catalog", "zones=%s", names);
}

/* NSD serves the new catalog: it may now stop serving the zones that
 * left it. */
static void
drop_departing(struct sync *s)
{
	size_t n = s->ndeparting;
	char path[PATH_MAX + 256];

	s->ndeparting = 0;
	if (write_conf(s) ||
	    nc_control_cmd(s->paths.ctl, "reconfig", NULL, 2000)) {
		kz_warn("nsd still serves the zones that left the catalog "
		    "until its next restart", "zones=%zu", n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.zone", s->paths.zonedir,
		    s->departing[i]);
		unlink(path);
		kz_info("zone dropped after leaving the catalog", "zone=%s",
		    s->departing[i]);
	}
}

/* Where NSD answers: the first --listen, a wildcard as loopback. */
static void
nsd_address(struct sync *s)
{
	const struct nc_addr *a = &s->no.listen[0];

	if (strcmp(a->ip, "0.0.0.0") == 0)
		snprintf(s->nsd_ip, sizeof(s->nsd_ip), "127.0.0.1");
	else if (strcmp(a->ip, "::") == 0)
		snprintf(s->nsd_ip, sizeof(s->nsd_ip), "::1");
	else
		snprintf(s->nsd_ip, sizeof(s->nsd_ip), "%s", a->ip);
	s->nsd_port = a->port;
}

/* NSD (re)started: it loads its zone files and asks the feed for what
 * is newer (IXFR from the journal when it still holds the file's
 * serial); a NOTIFY makes it do so at once. */
static void
nsd_ready(void *ctx, struct nc_nsd *n)
{
	struct sync *s = ctx;

	(void)n;
	for (size_t z = 0; z < s->nzones; z++)
		if (zstarted(s, z))
			nc_feed_notify(&s->feed, zfeed(s, z));
}

/* --- the feed in the loop ------------------------------------------------ */

static void
feed_fd_ready(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct sync *s = ctx;

	(void)l;
	nc_feed_ready(&s->feed, fd, revents);
}

static int
feed_watch(void *ctx, int fd, short events)
{
	struct sync *s = ctx;

	return sy_loop_add_fd(&s->loop, fd, events, feed_fd_ready, s);
}

static void
feed_unwatch(void *ctx, int fd)
{
	struct sync *s = ctx;

	sy_loop_del_fd(&s->loop, fd);
}

static void
feed_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

	(void)l;
	nc_feed_tick(&s->feed, kz_now_ms());
}

/* --- the --notify secondaries ------------------------------------------- */

/*
 * kubezone asks every --notify secondary for its serial of every zone
 * (signed with the target's key, if it has one): before the first
 * publication, to learn serials (a lost state directory must not make
 * serials go back); once ready, every SY_SEC_WATCH_MS, to watch them
 * follow. A secondary behind that has not moved for SY_LAG_CHECKS
 * checks is notified again: NSD's NOTIFY may have been lost, or the
 * refresh it started cut short (NSD restarts its servers when it takes
 * a change, which resets a connection in progress), and a secondary
 * would otherwise wait for its SOA refresh. One that moves, even if
 * still behind, is following. Each NOTIFY to a secondary that still
 * does not move doubles the checks before the next (SY_SEC_NEED_MAX
 * at most); catching up starts over. A secondary that answers SERVFAIL
 * has no copy yet and lags like one that is behind. A target is asked
 * only about the zones its --notify lists (all when it lists none), and
 * a zone it turns out not to serve (REFUSED, NOTAUTH) is not asked
 * again.
 */
struct sec_probe {
	struct sync *s;
	size_t i;		/* index into sec_* : target * nzones + zone */
	bool learn;
};

static const char *
sec_target(const struct sync *s, size_t i)
{
	return s->no.notify[i / s->nzones].addr.ip;
}

static void
sec_learned(struct sync *s, size_t z, const char *target, int status,
    uint32_t serial)
{
	const char *origin = zone_of(s, z)->origin;

	if (status == 0) {
		nc_serial_learn(&s->serials, origin, serial);
		kz_info("secondary serial learned", "zone=%s secondary=%s "
		    "serial=%u", origin, target, serial);
	} else {
		kz_debug("secondary serial not learned", "zone=%s "
		    "secondary=%s error=\"%s\"", origin, target,
		    nc_feed_strerror(status));
	}
	if (--s->learning == 0)
		kz_info("serials learned", NULL);
}

/*
 * Have NSD NOTIFY its secondaries of zone Z again. HAVE is the
 * secondary's serial, "none" when it has no copy.
 */
static void
renotify(struct sync *s, size_t z, const char *target, const char *have)
{
	char cmd[300], name[256];

	zg_name_bare(name, sizeof(name), zone_of(s, z)->origin);
	kz_warn("secondary lags behind, nsd notifies again", "zone=%s "
	    "secondary=%s serial=%s published=%u", zone_of(s, z)->origin,
	    target, have, zserial(s, z));
	snprintf(cmd, sizeof(cmd), "notify %s", name);
	if (nc_control_cmd(s->paths.ctl, cmd, NULL, 1000))
		kz_warn("nsd did not take the notify command", "zone=%s",
		    zone_of(s, z)->origin);
}

/*
 * For the metrics: a secondary's answer. It keeps the last serial it
 * answered while it does not answer at all (a stopped secondary falls
 * behind as kubezone publishes); SERVFAIL is no copy at all.
 */
static void
sec_note(struct sync *s, size_t i, int status, uint32_t serial)
{
	struct sec_seen *w = &s->sec_seen[i];

	w->asked = true;
	w->up = status == 0;
	if (status == 0) {
		w->known = true;
		w->serial = serial;
	} else if (status == NC_FEED_ERCODE(LDNS_RCODE_SERVFAIL)) {
		w->known = false;
	} else if (status == NC_FEED_ERCODE(LDNS_RCODE_REFUSED) ||
	    status == NC_FEED_ERCODE(LDNS_RCODE_NOTAUTH)) {
		w->asked = false;	/* not a zone it serves */
	}
}

static void
sec_answered(void *ctx, int status, uint32_t serial)
{
	struct sec_probe *sp = ctx;
	struct sync *s = sp->s;
	size_t i = sp->i, z = i % s->nzones;
	struct sec_seen *w;
	unsigned need;
	bool moved;
	char have[16];

	if (sp->learn) {
		sec_learned(s, z, sec_target(s, i), status, serial);
		free(sp);
		return;
	}
	free(sp);
	s->sec_out--;
	w = &s->sec_seen[i];
	moved = status == 0 && (!w->known || w->serial != serial);
	sec_note(s, i, status, serial);
	if (status == NC_FEED_ERCODE(LDNS_RCODE_REFUSED) ||
	    status == NC_FEED_ERCODE(LDNS_RCODE_NOTAUTH)) {
		w->unserved = true;
		return;
	}
	/*
	 * SERVFAIL: the secondary has no copy yet (its first transfer
	 * failed, and it waits out a retry): behind like any other. No
	 * answer at all says nothing.
	 */
	if (status == NC_FEED_ERCODE(LDNS_RCODE_SERVFAIL))
		snprintf(have, sizeof(have), "none");
	else if (status == 0 &&
	    nc_sn_cmp(serial, zserial(s, z)) < 0)
		snprintf(have, sizeof(have), "%u", serial);
	else {
		w->lag = 0;
		if (status == 0)
			w->need = 0;	/* caught up */
		return;
	}
	if (moved) {
		w->lag = 0;	/* following */
		return;
	}
	need = w->need ? w->need : SY_LAG_CHECKS;
	if (++w->lag >= need) {
		renotify(s, z, sec_target(s, i), have);
		w->lag = 0;
		w->need = need * 2 < SY_SEC_NEED_MAX ? need * 2 :
		    SY_SEC_NEED_MAX;
	}
}

static const struct nc_key *
find_key(const struct nc_opts *o, const char *name)
{
	for (size_t i = 0; i < o->nkeys; i++)
		if (strcmp(o->keys[i].name, name) == 0)
			return &o->keys[i];
	return NULL;
}

/* Whether secondary T is to hear about zone Z (its --notify zone=). */
static bool
sec_serves(const struct sync *s, size_t t, size_t z)
{
	return nc_notify_serves(&s->no.notify[t], zone_of(s, z)->origin);
}

/* Ask secondary T for its serial of zone Z. 0 when under way. */
static int
sec_probe(struct sync *s, size_t t, size_t z, bool learn)
{
	const struct nc_addr *a = &s->no.notify[t].addr;
	const struct nc_key *k = a->key[0] ? find_key(&s->no, a->key) : NULL;
	struct nc_feed_key fk;
	struct sec_probe *sp;

	if (k && (strlen(k->name) >= sizeof(fk.name) ||
	    strlen(k->alg) >= sizeof(fk.alg) ||
	    strlen(k->secret) >= sizeof(fk.secret)))
		k = NULL;	/* longer than the feed takes */
	if (k) {
		memcpy(fk.name, k->name, strlen(k->name) + 1);
		memcpy(fk.alg, k->alg, strlen(k->alg) + 1);
		memcpy(fk.secret, k->secret, strlen(k->secret) + 1);
	}
	sp = malloc(sizeof(*sp));
	if (sp == NULL)
		return KZ_ENOMEM;
	*sp = (struct sec_probe){ s, t * s->nzones + z, learn };
	if (nc_feed_probe(&s->feed, a->ip, a->port, zone_of(s, z)->origin,
	    k ? &fk : NULL, learn ? SY_LEARN_TIMEOUT_MS : SY_READY_PROBE_MS,
	    sec_answered, sp)) {
		free(sp);
		return KZ_EINVAL;
	}
	return 0;
}

/* Learn every --notify secondary's serial of each zone it serves. */
static void
learn_from_secondaries(struct sync *s)
{
	for (size_t t = 0; t < s->no.nnotify; t++)
		for (size_t z = 0; z < s->nzones; z++)
			if (sec_serves(s, t, z) &&
			    sec_probe(s, t, z, true) == 0)
				s->learning++;
}

/* Once ready: a round of the secondaries' watch. */
static void
sec_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

	if (s->sec_out == 0 && s->ready)
		for (size_t i = 0; i < s->no.nnotify * s->nzones; i++) {
			size_t t = i / s->nzones, z = i % s->nzones;

			if (!s->sec_seen[i].unserved && sec_serves(s, t, z) &&
			    sec_probe(s, t, z, false) == 0)
				s->sec_out++;
		}
	if (s->no.nnotify)
		sy_timer_in(l, &s->sec_timer, SY_SEC_WATCH_MS);
}

/* The serial of NSD's zone file of zone Z. 0, or an error (no file). */
static int
zone_file_serial(const struct sync *s, size_t z, uint32_t *serial)
{
	char path[PATH_MAX + 256], err[256];

	snprintf(path, sizeof(path), "%s/%s", s->paths.zonedir,
	    zone_of(s, z)->file);
	return nc_zonefile_serial(path, zone_of(s, z)->origin, serial, err,
	    sizeof(err));
}

/* What NSD's zone files hold (written by NSD as a secondary). */
static void
learn_from_zone_files(struct sync *s)
{
	for (size_t z = 0; z < s->nzones; z++) {
		uint32_t serial;

		if (zone_file_serial(s, z, &serial) == 0)
			nc_serial_learn(&s->serials, zone_of(s, z)->origin,
			    serial);
	}
}

/* --- readiness, and NSD following -------------------------------------- */

/*
 * After the first publication kubezone asks NSD, over and over, which
 * serial it serves for each zone. Until NSD serves the first serial of
 * every zone, that is readiness (every SY_READY_AGAIN_MS). From then on,
 * once every SY_WATCH_MS, it is the lag watch: a zone NSD still serves
 * an older serial of after SY_LAG_CHECKS checks (a NOTIFY lost, a
 * transfer NSD could not store on a full disk) is NOTIFYed again.
 */
static void probe_nsd(struct sync *s);
static void zone_files_stale(struct sync *s);
static void nsd_served(struct sync *s, size_t z, uint32_t serial);

static void
ready_timer_fired(struct sy_loop *l, void *ctx)
{
	(void)l;
	probe_nsd(ctx);
}

/*
 * The catalog zone waits until NSD serves every other zone: a secondary
 * that learns a member from the catalog transfers it at once, and must
 * find it. Then the catalog is published (as a diff against NSD's zone
 * file when NSD has one: secondaries get an IXFR that adds the new
 * members and drops the ones no longer served).
 */
static void
release_catalog(struct sync *s, size_t done)
{
	size_t cz = s->catalog - 1;
	int rc;

	if (done + 1 < s->nzones)
		return;
	rc = nc_pub_release(&zcluster(s, cz)->pub, s->paths.zonedir,
	    (uint32_t)time(NULL));
	if (rc) {
		kz_warn("cannot publish the catalog zone yet", "zone=%s "
		    "error=\"%s\"", zone_of(s, cz)->origin, kz_strerror(rc));
		return;
	}
	kz_info("catalog published: nsd serves every member zone", "zone=%s "
	    "members=%zu serial=%u", zone_of(s, cz)->origin, s->nzones - 1,
	    zserial(s, cz));
	zone_files_stale(s);
}

/* Each cluster is ready once NSD serves all its zones. */
static void
clusters_ready(struct sync *s)
{
	for (size_t i = 0; i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];
		bool all = c->pub.started;

		for (size_t z = 0; all && z < c->db.nzones; z++)
			all = s->confirmed[c->zone0 + z];
		if (all && !c->ready && c->name[0])
			kz_info("cluster served", "cluster=%s zones=%zu", c->name,
			    c->db.nzones);
		c->ready |= all;
		sy_metric_set(c->m_ready, c->ready, NULL);
	}
}

static void
nsd_round_done(struct sync *s)
{
	size_t done = 0;

	for (size_t z = 0; z < s->nzones; z++)
		done += s->confirmed[z];
	clusters_ready(s);
	if (s->catalog && zstarted(s, s->catalog - 1) &&
	    zheld(s, s->catalog - 1))
		release_catalog(s, done);
	if (!s->ready && done == s->nzones) {
		s->ready = true;
		if (s->no.nnotify)
			sy_timer_in(&s->loop, &s->sec_timer, SY_SEC_WATCH_MS);
		kz_info("zones served", "zones=%zu ms_since_start=%llu", done,
		    (unsigned long long)(kz_now_ms() - s->started_ms));
		/* The first list, load and transfers are over: what they
		 * freed (JSON pages, the transfers' snapshots) sits in
		 * malloc's free lists; give the pages back to the system. */
		malloc_trim(0);
	}
	sy_timer_in(&s->loop, &s->ready_timer, s->ready ? SY_WATCH_MS :
	    SY_READY_AGAIN_MS);
}

static void
nsd_answered(void *ctx, int status, uint32_t serial)
{
	struct zprobe *zp = ctx;
	struct sync *s = zp->s;
	size_t z = zp->z;
	uint32_t cur = zserial(s, z);

	if (status == 0 && !zheld(s, z))
		nsd_served(s, z, serial);
	if (status == 0 && !zheld(s, z) &&
	    nc_sn_cmp(serial, zfirst(s, z)) >= 0) {
		s->confirmed[z] = true;
		if (z + 1 == s->catalog && s->ndeparting)
			drop_departing(s);
	}
	if (s->ready && status == 0 && nc_sn_cmp(serial, cur) < 0) {
		if (++s->lag[z] == SY_LAG_CHECKS) {
			kz_warn("nsd lags behind, notifying again", "zone=%s "
			    "served=%u published=%u", zone_of(s, z)->origin,
			    serial, cur);
			nc_feed_notify(&s->feed, zfeed(s, z));
			s->lag[z] = 0;
		}
	} else {
		s->lag[z] = 0;
	}
	if (--s->probing == 0)
		nsd_round_done(s);
}

/* Ask NSD for the serial of each zone (before readiness: of each zone
 * not yet confirmed; never of a cluster's zones before it published). */
static void
probe_nsd(struct sync *s)
{
	if (s->probing)
		return;
	for (size_t z = 0; z < s->nzones; z++) {
		if ((!s->ready && s->confirmed[z]) || !zstarted(s, z) ||
		    zheld(s, z))
			continue;
		if (nc_feed_probe(&s->feed, s->nsd_ip, s->nsd_port,
		    zone_of(s, z)->origin, NULL, SY_READY_PROBE_MS,
		    nsd_answered, &s->probes[z]) == 0)
			s->probing++;
	}
	if (s->probing == 0)
		nsd_round_done(s);
}

/* --- DNS programming latency ----------------------------------------------- */

/*
 * An EndpointSlice change that made a diff waits until NSD serves the
 * diff's serial in every zone where the slice's Service changed; then
 * the time from the change's trigger (the slice's annotation) is
 * observed. Only changes after the first publication count (the first
 * list or snapshot is no change: its annotations may be days old), and
 * only those that changed DNS: a slice update with no DNS effect, a
 * slice deleted (no annotation) or a change without the annotation
 * observes nothing. The attribution is per Service and per publish: a
 * slice is observed when its Service's records changed in the diff
 * that carried it. While changes wait, NSD is asked every
 * SY_SERVE_PROBE_MS (for SY_SERVE_FAST_MS after a publish; then the
 * once-a-second lag watch ends the waits).
 */
struct lat_cand {
	double trigger;
	char svc[];		/* "ns/service", lower case */
};

static void
observe_latency(void *ctx, double v)
{
	struct sync *s = ctx;

	if (v < 0 || v > SY_LATENCY_MAX_S) {	/* clock skew, stale */
		s->lat_clamped++;
		v = 0;
	}
	sy_metric_observe(s->m_latency, v, NULL);
}

/* NSD answered SERIAL for zone Z. */
static void
nsd_served(struct sync *s, size_t z, uint32_t serial)
{
	char name[256];

	zg_name_bare(name, sizeof(name), zone_of(s, z)->origin);
	sy_metric_set(s->m_served, serial, (const char *[]){ name });
	sy_cur_served(&s->cur_wait, z, serial, sy_cur_wall_now(),
	    observe_latency, s);
}

static void
serve_again(struct sync *s)
{
	if (s->cur_wait.n && kz_now_ms() < s->serve_until &&
	    !s->serve_timer.armed)
		sy_timer_in(&s->loop, &s->serve_timer, SY_SERVE_PROBE_MS);
}

static void
serve_answered(void *ctx, int status, uint32_t serial)
{
	struct zprobe *zp = ctx;
	struct sync *s = zp->s;

	s->sprobing[zp->z] = false;
	if (status == 0)
		nsd_served(s, zp->z, serial);
	serve_again(s);
}

static void
serve_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	bool out = false;

	(void)l;
	for (size_t z = 0; z < s->nzones; z++) {
		if (!s->sprobing[z] && sy_cur_waiting(&s->cur_wait, z) &&
		    nc_feed_probe(&s->feed, s->nsd_ip, s->nsd_port,
		    zone_of(s, z)->origin, NULL, SY_READY_PROBE_MS,
		    serve_answered, &s->sprobes[z]) == 0)
			s->sprobing[z] = true;
		out |= s->sprobing[z];
	}
	if (!out)
		serve_again(s);
}

/*
 * The slices in the change log that may be observed (NULL: none), each
 * once: updates of one slice that one publish takes together are one
 * change to DNS, triggered when the last of them was.
 */
static struct lat_cand **
lat_candidates(struct cluster *cl, size_t *n)
{
	struct lat_cand **v = NULL;
	struct kz_map seen;

	*n = 0;
	if (!cl->pub.started || cl->model.nchanges == 0 ||
	    (v = reallocarray(NULL, cl->model.nchanges, sizeof(*v))) == NULL)
		return NULL;
	kz_map_init(&seen);
	for (size_t i = 0; i < cl->model.nchanges; i++) {
		const struct zg_change *c = cl->model.changes[i];
		const struct zg_slice *sl;
		size_t len;

		if (c->kind != ZG_KIND_SLICE || (sl = kz_map_get(
		    &cl->model.objects[ZG_KIND_SLICE], c->key)) == NULL ||
		    sl->service == NULL || sl->trigger_time <= 0 ||
		    kz_map_get(&seen, c->key) ||
		    kz_map_put(&seen, c->key, (void *)c, NULL))
			continue;
		len = strlen(sl->ns) + strlen(sl->service) + 2;
		if ((v[*n] = malloc(sizeof(**v) + len)) == NULL)
			break;
		v[*n]->trigger = sl->trigger_time;
		snprintf(v[*n]->svc, len, "%s/%s", sl->ns, sl->service);
		for (char *p = v[*n]->svc; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		(*n)++;
	}
	kz_map_free(&seen);
	return v;
}

/* After a publish of diffs of cluster CL: the candidates whose Service
 * changed wait for NSD. Frees V. */
static void
lat_wait(struct cluster *cl, struct lat_cand **v, size_t n, bool published)
{
	struct sync *s = cl->s;
	size_t nz, waits = 0, *global = NULL;
	const size_t *zones;
	uint32_t *serials = NULL;

	if (published && n && sy_cur_hits_collect(&s->cur_hits, &cl->db) == 0) {
		serials = calloc(cl->db.nzones, sizeof(*serials));
		global = calloc(cl->db.nzones, sizeof(*global));
	}
	for (size_t i = 0; serials && global && i < n; i++) {
		zones = sy_cur_hits_zones(&s->cur_hits, v[i]->svc, &nz);
		for (size_t k = 0; k < nz; k++) {
			global[k] = cl->zone0 + zones[k];
			serials[k] = zserial(s, global[k]);
		}
		if (nz && sy_cur_wait_add(&s->cur_wait, v[i]->trigger, global,
		    serials, nz) == 0)
			waits++;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(serials);
	free(global);
	sy_cur_hits_free(&s->cur_hits);
	if (waits) {
		s->serve_until = kz_now_ms() + SY_SERVE_FAST_MS;
		serve_again(s);
	}
}

/* Remember when each zone's serial was published. */
static void
note_published(struct sync *s)
{
	double now = sy_cur_wall_now();

	for (size_t z = 0; z < s->nzones; z++) {
		struct sy_cur_hist *h = &s->cur_hist[z];
		uint32_t serial = zserial(s, z);
		size_t last = (h->next + SY_CUR_HISTORY - 1) % SY_CUR_HISTORY;

		if (h->n == 0 || h->v[last].serial != serial)
			sy_cur_published(h, serial, now);
	}
}

/* --- metrics --------------------------------------------------------------- */

/* Programming latency: milliseconds (NSD takes a diff in a few) to
 * minutes (an API outage, a stuck secondary of the apiserver). */
static const double lat_buckets[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
	120, 300
};

static void
setup_metrics(struct sync *s)
{
	struct sy_metrics *r = s->metrics;

	s->m_render = sy_metrics_histogram(r,
	    "kubezone_render_duration_seconds", "Time to bring the zones up "
	    "to date with a change of the model (the objects it touched).",
	    NULL, NULL, 0);
	s->m_publish = sy_metrics_histogram(r,
	    "kubezone_publish_duration_seconds", "Time to commit the diffs "
	    "of a change to the feed and NOTIFY NSD.", NULL, NULL, 0);
	s->m_records = sy_metrics_gauge(r, "kubezone_zone_records",
	    "Records in each zone (SOA included).", "zone");
	s->m_serial = sy_metrics_gauge(r, "kubezone_zone_serial",
	    "SOA serial of each zone as published to NSD (the feed's; NSD "
	    "may still serve an older one: kubezone_zone_served_serial).",
	    "zone");
	s->m_served = sy_metrics_gauge(r, "kubezone_zone_served_serial",
	    "SOA serial NSD answers for each zone (an SOA query to NSD, once "
	    "a second and while a change waits); below kubezone_zone_serial "
	    "while NSD has not taken the last publish.", "zone");
	s->m_zone_failures = sy_metrics_counter(r,
	    "kubezone_zone_publish_failures_total", "Changes that could not "
	    "be published (the zone is published whole on the next try).",
	    NULL);
	s->m_nsd_restarts = sy_metrics_counter(r, "kubezone_nsd_restarts_total",
	    "Times NSD was restarted after it exited.", NULL);
	s->m_capped = sy_metrics_gauge(r, "kubezone_rrsets_capped",
	    "RRsets cut to what one DNS message can carry, per zone.", "zone");
	s->m_transfers = sy_metrics_counter(r, "kubezone_feed_transfers_total",
	    "Zone transfers the feed served to NSD, by kind (axfr, ixfr, "
	    "ixfr_fallback: an IXFR answered with the whole zone).", "kind");
	s->m_notify = sy_metrics_counter(r, "kubezone_feed_notify_total",
	    "NOTIFY messages the feed sent to NSD, by result (sent, acked, "
	    "failed).", "result");
	s->m_latency = sy_metrics_histogram(r,
	    "kubezone_dns_programming_latency_seconds", "Time from an "
	    "EndpointSlice change (its endpoints.kubernetes.io/"
	    "last-change-trigger-time) to NSD answering with the serial of "
	    "the diff that carried it; only changes that changed DNS, after "
	    "the first sync.", NULL, lat_buckets,
	    sizeof(lat_buckets) / sizeof(lat_buckets[0]));
	s->m_lat_clamped = sy_metrics_counter(r,
	    "kubezone_dns_programming_latency_clamped_total", "Programming "
	    "latencies below 0 or above 1 h (clock skew, a stale annotation), "
	    "observed as 0.", NULL);
	s->m_sec_up = sy_metrics_gauge(r, "kubezone_secondary_up", "1 when "
	    "the --notify secondary answered the last SOA query for the zone "
	    "with a serial, 0 when it did not answer or has no copy.",
	    "secondary,zone");
	s->m_sec_serial = sy_metrics_gauge(r, "kubezone_secondary_serial",
	    "SOA serial the --notify secondary last answered for the zone "
	    "(absent while it has no copy).", "secondary,zone");
	s->m_sec_behind = sy_metrics_gauge(r,
	    "kubezone_secondary_behind_serials", "Serials the secondary's "
	    "last answer is behind kubezone_zone_serial (RFC 1982).",
	    "secondary,zone");
	s->m_sec_behind_s = sy_metrics_gauge(r,
	    "kubezone_secondary_behind_seconds", "Seconds since the first "
	    "serial the secondary does not have was published; 0 when "
	    "current.", "secondary,zone");
	s->m_sig_expiry = sy_metrics_gauge(r,
	    "kubezone_dnssec_signature_expiry_earliest_timestamp_seconds",
	    "Unix time at which the zone's first RRSIG expires (--dnssec).",
	    "zone");
	s->m_sign_s = sy_metrics_gauge(r, "kubezone_dnssec_sign_seconds",
	    "CPU seconds the zone's last full signing took (--dnssec).",
	    "zone");
	s->m_refreshes = sy_metrics_counter(r,
	    "kubezone_dnssec_refreshes_total", "Signature refreshes "
	    "committed, one serial each (--dnssec).", NULL);
}

/* The secondaries' metrics, from their last answers. */
static void
scrape_secondaries(struct sync *s)
{
	double now = sy_cur_wall_now();
	char name[256], target[80];

	sy_metric_clear(s->m_sec_up);
	sy_metric_clear(s->m_sec_serial);
	sy_metric_clear(s->m_sec_behind);
	sy_metric_clear(s->m_sec_behind_s);
	for (size_t i = 0; i < s->no.nnotify * s->nzones; i++) {
		const struct nc_addr *a = &s->no.notify[i / s->nzones].addr;
		const struct sec_seen *w = &s->sec_seen[i];
		size_t z = i % s->nzones;
		uint32_t pub = zserial(s, z);
		double since;
		const char *lv[2] = { target, name };

		if (!w->asked)
			continue;
		zg_name_bare(name, sizeof(name), zone_of(s, z)->origin);
		snprintf(target, sizeof(target), a->family == 6 ? "[%s]:%u" :
		    "%s:%u", a->ip, a->port);
		since = sy_cur_behind_since(&s->cur_hist[z], w->known,
		    w->serial);
		sy_metric_set(s->m_sec_up, w->up, lv);
		if (w->known) {
			sy_metric_set(s->m_sec_serial, w->serial, lv);
			sy_metric_set(s->m_sec_behind,
			    sy_cur_behind_serials(w->serial, pub), lv);
		}
		sy_metric_set(s->m_sec_behind_s, since > 0 && now > since ?
		    now - since : 0, lv);
	}
}

/* Before /metrics answers: refresh what is read from elsewhere. */
static void
scrape(void *ctx)
{
	struct sync *s = ctx;
	const struct nc_feed_stats *fs = &s->feed.stats;
	unsigned long failed = 0, refreshes = 0;
	bool started = false;
	char name[256];

	sy_metric_set(s->m_nsd_restarts, s->nsd.restarts, NULL);
	sy_metric_set(s->m_lat_clamped, (double)s->lat_clamped, NULL);
	sy_metric_set(s->m_transfers, fs->axfr, (const char *[]){ "axfr" });
	sy_metric_set(s->m_transfers, fs->ixfr, (const char *[]){ "ixfr" });
	sy_metric_set(s->m_transfers, fs->ixfr_fallback,
	    (const char *[]){ "ixfr_fallback" });
	sy_metric_set(s->m_notify, fs->notify_sent, (const char *[]){ "sent" });
	sy_metric_set(s->m_notify, fs->notify_acked,
	    (const char *[]){ "acked" });
	sy_metric_set(s->m_notify, fs->notify_failed,
	    (const char *[]){ "failed" });
	for (size_t c = 0; c < s->ncl; c++) {
		failed += s->cl[c].pub.stats.failed;
		refreshes += s->cl[c].pub.stats.refreshes;
	}
	sy_metric_set(s->m_zone_failures, (double)failed, NULL);
	for (size_t z = 0; z < s->nzones; z++) {
		if (!zstarted(s, z))
			continue;
		started = true;
		zg_name_bare(name, sizeof(name), zone_of(s, z)->origin);
		sy_metric_set(s->m_records, (double)zone_of(s, z)->nrecords + 1,
		    (const char *[]){ name });
		sy_metric_set(s->m_serial, zserial(s, z),
		    (const char *[]){ name });
		sy_metric_set(s->m_capped, (double)zone_of(s, z)->capped,
		    (const char *[]){ name });
		if (zexpiry(s, z)) {
			sy_metric_set(s->m_sig_expiry, zexpiry(s, z),
			    (const char *[]){ name });
			sy_metric_set(s->m_sign_s,
			    zcluster(s, z)->pub.sign_seconds[s->zloc[z]],
			    (const char *[]){ name });
		}
	}
	if (s->cmd.dnssec.on)
		sy_metric_set(s->m_refreshes, (double)refreshes, NULL);
	if (started)
		scrape_secondaries(s);
	for (size_t c = 0; s->use_api && c < s->ncl; c++)
		if (s->cl[c].api_set)
			sy_api_scrape(&s->cl[c].api);
}

/* --- publishing ------------------------------------------------------------ */

/*
 * After a publish that failed (a full disk for the serial state, no
 * memory), try again later with a growing delay: the zones must catch
 * up with the cluster even when nothing else changes.
 */
static void
publish_outcome(struct cluster *c, bool ok)
{
	struct sync *s = c->s;

	if (ok) {
		if (c->failing)
			kz_info("publishing works again", NULL);
		c->failing = false;
		c->retry_ms = 0;
		sy_timer_cancel(&s->loop, &c->retry_timer);
		return;
	}
	c->failing = true;
	c->retry_ms = c->retry_ms ? c->retry_ms * 2 : SY_RETRY_MIN_MS;
	if (c->retry_ms > SY_RETRY_MAX_MS)
		c->retry_ms = SY_RETRY_MAX_MS;
	kz_warn("publish failed, trying again", "retry_in_ms=%llu",
	    (unsigned long long)c->retry_ms);
	sy_timer_in(&s->loop, &c->retry_timer, c->retry_ms);
}

/* Set C's database up: a cluster's zones, or the catalog of them all. */
static int
cluster_db_init(struct cluster *c)
{
	struct sync *s = c->s;

	if (c->is_catalog)
		return zg_db_init_catalog(&c->db, c->ro,
		    (const char *const *)s->members, s->nmembers);
	return zg_db_init(&c->db, c->ro);
}

/* The database ran out of memory mid-change: build it again whole. */
static long
rebuild_db(struct cluster *c)
{
	int rc;

	kz_error("zone database rebuilt after running out of memory", NULL);
	zg_db_free(&c->db);
	rc = cluster_db_init(c);
	if (rc == 0)
		rc = zg_db_load(&c->db, &c->model);
	for (size_t z = 0; rc == 0 && z < c->db.nzones; z++)
		c->pub.whole[z] = true;
	return rc;
}

/*
 * NSD's zone files: NSD writes them when asked (nsd.conf says never by
 * itself), after --zonefiles-write seconds without a change and at the
 * latest 12 times that after the first change not written. A write
 * holds NSD's next update back for as long as it lasts (0.65 s for a
 * 350,000-record zone), so it is done in a quiet moment when there is
 * one; under constant change the files stay at most a minute behind.
 */
static void
zf_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

	if (s->nsd.state != NC_NSD_RUNNING) {
		sy_timer_in(l, &s->zf_timer, 1000);
		return;
	}
	if (nc_control_cmd(s->paths.ctl, "write", NULL, 1000))
		kz_warn("nsd did not take the write command", NULL);
	s->zf_since = 0;
}

static void
zone_files_stale(struct sync *s)
{
	uint64_t now = kz_now_ms(), quiet = 1000ULL * s->no.zonefiles_write;
	uint64_t at;

	if (quiet == 0)
		return;
	if (s->zf_since == 0)
		s->zf_since = now;
	at = now + quiet;
	if (at > s->zf_since + 12 * quiet)
		at = s->zf_since + 12 * quiet;
	sy_timer_at(&s->loop, &s->zf_timer, at);
}

/* --- DNSSEC ---------------------------------------------------------------- */

/*
 * The refresh timer: at the next signature due in any cluster, but at
 * most once per gap (nc_dnssec_gap), so that signatures falling due one
 * by one are refreshed in batches.
 */
static void
arm_refresh(struct sync *s)
{
	uint32_t due = 0, now = (uint32_t)time(NULL);
	uint64_t gap = 1000ULL * nc_dnssec_gap(&s->cmd.dnssec), at;

	if (!s->cmd.dnssec.on)
		return;
	for (size_t i = 0; i < s->ncl; i++) {
		uint32_t t = nc_pub_next_refresh(&s->cl[i].pub);

		if (t && (due == 0 || t < due))
			due = t;
	}
	if (due == 0)
		return;
	at = kz_now_ms() + (due > now ? 1000ULL * (due - now) : 0);
	if (s->sign_last && at < s->sign_last + gap)
		at = s->sign_last + gap;
	sy_timer_at(&s->loop, &s->sign_timer, at);
}

/* Earliest expiries within the refresh period: refreshes are failing. */
static void
warn_expiry(struct sync *s, uint32_t now)
{
	for (size_t z = 0; z < s->nzones; z++) {
		uint32_t e = zexpiry(s, z);

		if (e && e < now + s->cmd.dnssec.refresh)
			kz_warn("a signature expires within the refresh period",
			    "zone=%s expires_in_s=%ld", zone_of(s, z)->origin,
			    (long)e - (long)now);
	}
}

static void
sign_timer_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	uint32_t now = (uint32_t)time(NULL);
	bool committed = false;

	(void)l;
	s->sign_last = kz_now_ms();
	for (size_t i = 0; i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];
		long r;

		if (c->pub.sign == NULL)
			continue;	/* the catalog of several clusters */
		log_cluster(c);
		r = nc_pub_refresh(&c->pub, now, 0);
		if (r < 0)
			publish_outcome(c, false);	/* retried whole */
		committed |= r > 0;
		log_cluster(NULL);
	}
	if (committed) {
		note_published(s);
		zone_files_stale(s);
	}
	warn_expiry(s, now);
	arm_refresh(s);
}

/* Keys for zone Z of cluster C: the --dnssec-key files of the zone,
 * else those in the state directory, else a new CSK made there. */
static int
zone_keys(struct cluster *c, size_t z, char *err, size_t errsz)
{
	struct sync *s = c->s;
	const struct nc_dnssec_opts *o = &s->cmd.dnssec;
	const char *origin = c->db.zones[z].origin;
	struct nc_dkey *keys = calloc(NC_DNSSEC_KEYS_MAX, sizeof(*keys));
	size_t n = 0;
	int rc = keys ? 0 : KZ_ENOMEM;

	for (size_t i = 0; rc == 0 && i < o->nkey_files; i++) {
		struct nc_dkey k;

		if ((rc = nc_key_load(&k, o->key_files[i], err, errsz)) != 0)
			break;
		if (strcasecmp(k.zone, origin) == 0)
			keys[n++] = k;
		else
			nc_key_free(&k);
	}
	if (rc == 0 && n == 0) {
		free(keys);
		keys = NULL;
		rc = nc_keys_find(s->paths.dir, origin, &keys, &n, err, errsz);
		if (rc == 0 && n == 0) {
			keys = calloc(1, sizeof(*keys));
			rc = keys ? nc_key_generate(&keys[0], origin,
			    o->alg, s->paths.dir, err, errsz) : KZ_ENOMEM;
			n = rc == 0;
		}
	}
	if (rc) {
		nc_keys_free(keys, n);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		kz_info("dnssec key", "zone=%s algorithm=%u tag=%u flags=%u "
		    "file=%s", origin, keys[i].alg, keys[i].tag, keys[i].flags,
		    keys[i].path);
	rc = nc_dnssec_zone_keys(&c->dnssec, z, origin, keys, n);
	if (rc)
		snprintf(err, errsz, "zone %s: %s", origin, kz_strerror(rc));
	return rc;
}

/* Whether some cluster's database holds zone ORIGIN. */
static bool
zone_served(const struct sync *s, const char *origin)
{
	for (size_t i = 0; i < s->ncl; i++)
		if (zg_db_find(&s->cl[i].db, origin) >= 0)
			return true;
	return false;
}

/* Cluster C's signer, with keys for each of its zones but the catalog;
 * its publisher borrows it. The catalog of several clusters has none. */
static int
setup_cluster_dnssec(struct cluster *c, char *err, size_t errsz)
{
	int rc;

	if (c->is_catalog)
		return 0;
	if ((rc = nc_dnssec_init(&c->dnssec, &c->s->cmd.dnssec,
	    c->db.nzones))) {
		snprintf(err, errsz, "%s", kz_strerror(rc));
		return rc;
	}
	for (size_t z = 0; z < c->db.nzones; z++)
		if (z + 1 != c->db.catalog && (rc = zone_keys(c, z, err,
		    errsz)) != 0)
			return rc;
	nc_pub_sign(&c->pub, &c->dnssec);
	return 0;
}

/* --dnssec: every --dnssec-key belongs to a zone served, and each
 * cluster signs its own zones (keys are per zone name, and no zone is
 * two clusters'). */
static int
setup_dnssec(struct sync *s, char *err, size_t errsz)
{
	int rc;

	if (!s->cmd.dnssec.on)
		return 0;
	for (size_t i = 0; i < s->cmd.dnssec.nkey_files; i++) {
		struct nc_dkey k;

		if ((rc = nc_key_load(&k, s->cmd.dnssec.key_files[i], err,
		    errsz)) != 0)
			return rc;
		rc = zone_served(s, k.zone) ? 0 : KZ_EINVAL;
		if (rc)
			snprintf(err, errsz, "--dnssec-key %s: zone %s is not "
			    "served", s->cmd.dnssec.key_files[i], k.zone);
		nc_key_free(&k);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < s->ncl; i++)
		if ((rc = setup_cluster_dnssec(&s->cl[i], err, errsz)) != 0)
			return rc;
	return 0;
}

/* The catalog of several clusters: published (held until NSD serves
 * every other zone) once a cluster has. */
static void
start_catalog(struct sync *s)
{
	struct cluster *c = s->catalog ? zcluster(s, s->catalog - 1) : NULL;

	if (c == NULL || !c->is_catalog || c->pub.started)
		return;
	if (zg_db_apply(&c->db, &c->model, false) < 0 ||
	    nc_pub_start(&c->pub, s->paths.zonedir, (uint32_t)time(NULL)))
		kz_warn("cannot set the catalog zone up yet", "zone=%s",
		    c->ro->catalog);
}

/*
 * Bring cluster C's zones up to date with its model and publish what
 * changed. The first time (the source just synced, serials learned),
 * every zone is published whole; then each change is a diff.
 */
static void
publish_now(struct cluster *c)
{
	struct sync *s = c->s;
	bool first = !c->pub.started;
	double t0 = kz_now_s(), t1, t2;
	uint64_t cpu0 = kz_cpu_ns(), cpu;
	unsigned long events = 0, oldest_ms = 0, newest_ms = 0;
	double events_us = 0;
	size_t ncand = 0;
	struct lat_cand **cand = lat_candidates(c, &ncand);
	long n;
	int rc = 0;

	if (s->use_api && c->api.co.dirty) {
		/* How long the changes of this publish waited for it. */
		uint64_t now = kz_now_ms();

		oldest_ms = (unsigned long)(now - c->api.co.dirty_since_ms);
		newest_ms = (unsigned long)(now - c->api.co.last_mark_ms);
	}
	/* The lines of the publish go out with "zones updated", after the
	 * NOTIFY, in one write. */
	kz_log_hold();
	log_cluster(c);
	n = zg_db_apply(&c->db, &c->model, !first);
	if (n < 0)
		n = rebuild_db(c);
	t1 = kz_now_s();
	if (n < 0) {
		rc = (int)n;
	} else if (first) {
		rc = nc_pub_start(&c->pub, s->paths.zonedir, (uint32_t)time(NULL));
	} else {
		long r = nc_pub_diffs(&c->pub, (uint32_t)time(NULL));
		rc = r < 0 ? (int)r : 0;
	}
	t2 = kz_now_s();
	cpu = kz_cpu_ns() - cpu0;	/* rules, commit and NOTIFY */
	if (s->use_api) {
		events = c->api.k8s.events;
		events_us = (double)c->api.k8s.events_cpu_ns / 1000;
		c->api.k8s.events = 0;
		c->api.k8s.events_cpu_ns = 0;
	}
	/* The reservation of serials is renewed after the NOTIFY left. */
	if (nc_serial_wants_save(&s->serials) && nc_serial_save(&s->serials))
		kz_warn("cannot save the serial state", "file=%s",
		    s->serials.path);
	if (n > 0 || first) {
		sy_metric_observe(s->m_render, t1 - t0, NULL);
		sy_metric_observe(s->m_publish, t2 - t1, NULL);
	}
	kz_log(first ? KZ_LOG_INFO : KZ_LOG_DEBUG, "zones updated",
	    "records_changed=%ld render_ms=%.2f publish_ms=%.2f cpu_us=%.0f "
	    "events=%lu events_cpu_us=%.0f oldest_change_ms=%lu "
	    "newest_change_ms=%lu objects=%lu db_bytes=%zu", n,
	    (t1 - t0) * 1000, (t2 - t1) * 1000, (double)cpu / 1000, events,
	    events_us, oldest_ms, newest_ms, c->db.stats.objects,
	    first ? zg_db_bytes(&c->db) : 0);
	kz_log_release();
	if (s->use_api)
		sy_api_rendered(&c->api, kz_now_ms(), rc == 0);
	publish_outcome(c, rc == 0);
	if (rc == 0)
		note_published(s);
	lat_wait(c, cand, ncand, rc == 0 && n > 0 && !first);
	log_cluster(NULL);
	if (rc == 0 && first)
		start_catalog(s);
	if (rc == 0 && first)
		probe_nsd(s);
	if (rc == 0 && (n > 0 || first))
		zone_files_stale(s);
	if (rc == 0)
		arm_refresh(s);
	if (nc_pub_busy(&c->pub))
		sy_timer_in(&s->loop, &s->sign_work, 0);
}

/* Publish C's changes, unless a zone of C is being signed whole: then
 * once it is (the database waits). */
static void
publish(struct cluster *c)
{
	if (nc_pub_busy(&c->pub)) {
		c->deferred = true;
		return;
	}
	publish_now(c);
}

/*
 * A step of the whole signings under way (a zone's first publication
 * with --dnssec, or one that goes out whole again): SY_SIGN_SLICE
 * signatures per turn of the loop, so that the API's events, NSD, the
 * feed and /healthz are served in between. A cluster's publishes wait
 * until its zones are signed (its database must not change meanwhile).
 */
static void
sign_work_fired(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	bool more = false;

	(void)l;
	for (size_t i = 0; i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];
		int r;

		if (!nc_pub_busy(&c->pub))
			continue;
		log_cluster(c);
		r = nc_pub_work(&c->pub, (uint32_t)time(NULL), SY_SIGN_SLICE);
		log_cluster(NULL);
		if (r > 0) {
			more = true;
			break;		/* one step per turn */
		}
		if (r < 0) {
			publish_outcome(c, false);	/* retried whole */
			continue;
		}
		note_published(s);
		probe_nsd(s);
		zone_files_stale(s);
		arm_refresh(s);
		if (c->deferred) {
			c->deferred = false;
			publish_now(c);
		}
		more |= nc_pub_busy(&c->pub);
	}
	if (more)
		sy_timer_in(&s->loop, &s->sign_work, 0);
}

static void
retry_fired(struct sy_loop *l, void *ctx)
{
	(void)l;
	publish(ctx);
}

/* --- snapshot --------------------------------------------------------- */

/* Read the snapshot (the one cluster's): into the model itself the
 * first time; then into a new model that replaces it, so only what
 * differs is logged. */
static int
load_snapshot(struct sync *s, bool initial)
{
	struct cluster *c = &s->cl[0];
	struct zg_decode_stats st = { 0 };
	struct zg_decode_error derr = { 0 };
	struct zg_model next;
	char err[768];
	uint64_t t0 = kz_now_ms();
	int rc;

	s->loads++;
	zg_model_init(&next);
	zg_model_select(&next, s->ro.labels, s->ro.ns_labels);
	rc = zg_decode_path(initial ? &c->model : &next, s->cmd.snapshot, NULL,
	    &st, &derr);
	if (rc) {
		zg_decode_strerror(rc, &derr, err, sizeof(err));
		s->load_failures++;
		kz_error(initial ? "cannot load the snapshot" :
		    "snapshot rejected, the zones being served stay",
		    "error=\"%s\"", err);
		zg_model_free(&next);
		return rc;
	}
	if (!initial && (rc = zg_model_replace(&c->model, &next)) != 0)
		kz_error("snapshot only partly applied", "error=\"%s\"",
		    kz_strerror(rc));
	zg_model_free(&next);
	kz_info("snapshot loaded", "objects=%zu invalid=%zu changes=%zu "
	    "decode_ms=%llu", st.objects, st.invalid, c->model.nchanges,
	    (unsigned long long)(kz_now_ms() - t0));
	c->synced = true;
	return 0;
}

static void
debounce_fired(struct sy_loop *l, void *ctx)
{
	(void)l;
	load_snapshot(ctx, false);
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

/* --- the live API source ---------------------------------------------- */

static void
api_done(struct sy_loop *l, CURL *easy, CURLcode result, void *ctx)
{
	struct sync *s = ctx;
	bool mine = false;

	for (size_t i = 0; s->use_api && !mine && i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];

		if (!c->api_set)
			continue;
		log_cluster(c);
		mine = sy_api_done(&c->api, easy, result, kz_now_ms());
		log_cluster(NULL);
	}
	if (!mine) {
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

/* Before each wait: each cluster's API timers and publish when due;
 * the next wake-up. */
static void
api_before_poll(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;
	uint64_t now = kz_now_ms();
	long t = 1000;

	for (size_t i = 0; i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];
		long ct;

		if (!c->api_set)
			continue;
		log_cluster(c);
		sy_api_tick(&c->api, now);
		log_cluster(NULL);
		if (s->learning == 0 && !c->failing &&
		    sy_api_render_due(&c->api, now)) {
			publish(c);
			now = kz_now_ms();
		}
		ct = sy_api_timeout_ms(&c->api, now);
		if (ct < t)
			t = ct;
	}
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
	for (size_t i = 0; rc == 0 && i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];

		if (!c->api_set)
			continue;
		sy_kubeconfig_attach(&c->api.kc, &s->loop);	/* exec plugins */
		c->api.opts.imports = c->ro->clusterset[0] != '\0';
		rc = sy_api_setup(&c->api, c->ro->pod_records, &c->model,
		    sy_loop_multi(&s->loop), c->metrics ? c->metrics :
		    s->metrics, err, errsz);
	}
	if (rc == 0 && (rc = sy_loop_add_hook(&s->loop, api_before_poll,
	    s)) != 0)
		snprintf(err, errsz, "%s", kz_strerror(rc));
	if (rc == 0) {
		sy_loop_on_done(&s->loop, api_done, s);
		for (size_t i = 0; i < s->ncl; i++) {
			if (!s->cl[i].api_set)
				continue;
			log_cluster(&s->cl[i]);
			sy_api_start(&s->cl[i].api, kz_now_ms());
			log_cluster(NULL);
		}
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

static void
arm(struct sy_loop *l, struct sy_timer *t, uint64_t deadline)
{
	if (deadline == 0)
		sy_timer_cancel(l, t);
	else if (!t->armed || t->deadline_ms != deadline)
		sy_timer_at(l, t, deadline);
}

/* Before each wait: timers on their deadlines, a snapshot change to
 * publish, failure noticed, readiness. */
static void
before_poll(struct sy_loop *l, void *ctx)
{
	struct sync *s = ctx;

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
	if (!s->use_api && s->cl[0].synced && s->learning == 0 &&
	    !s->cl[0].failing && (!s->cl[0].pub.started ||
	    s->cl[0].model.nchanges > 0 || s->cl[0].model.track_rc))
		publish(&s->cl[0]);
	arm(l, &s->nsd_timer, nc_nsd_deadline(&s->nsd));
	arm(l, &s->feed_timer, nc_feed_deadline(&s->feed));
	sy_http_set_ready(s->http, s->ready &&
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

/*
 * Every cluster's zone database; with several clusters and a catalog,
 * the catalog's (its members: every other zone). Then the zones are
 * numbered across clusters.
 */
static int
setup_dbs(struct sync *s)
{
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];

		if (c->is_catalog) {
			s->members = calloc(n ? n : 1, sizeof(*s->members));
			if (s->members == NULL)
				return KZ_ENOMEM;
			for (size_t k = 0; k < i; k++)
				for (size_t z = 0; z < s->cl[k].db.nzones; z++)
					if ((s->members[s->nmembers++] = strdup(
					    s->cl[k].db.zones[z].origin)) ==
					    NULL)
						return KZ_ENOMEM;
		}
		zg_model_track(&c->model, true);
		rc = cluster_db_init(c);
		c->zone0 = n;
		n += c->db.nzones;
	}
	if (rc)
		return rc;
	s->nzones = n;
	s->zcl = calloc(n ? n : 1, sizeof(*s->zcl));
	s->zloc = calloc(n ? n : 1, sizeof(*s->zloc));
	if (s->zcl == NULL || s->zloc == NULL)
		return KZ_ENOMEM;
	for (size_t i = 0; i < s->ncl; i++) {
		const struct cluster *c = &s->cl[i];

		for (size_t z = 0; z < c->db.nzones; z++) {
			s->zcl[c->zone0 + z] = i;
			s->zloc[c->zone0 + z] = z;
		}
		if (c->db.catalog)
			s->catalog = c->zone0 + c->db.catalog;
	}
	return 0;
}

/* With several clusters, what --notify zone= lists must be served (the
 * command line's check could not know the clusters' zones). */
static int
check_cluster_zones(struct sync *s, char *err, size_t errsz)
{
	struct nc_zone_ref *refs;
	char (*names)[2][264] = NULL;
	int rc;

	if (s->cmd.clusters[0] == '\0')
		return 0;
	refs = zone_refs(sync_zone_at, s, s->nzones, NULL, 0, &names);
	if (refs == NULL) {
		snprintf(err, errsz, "out of memory");
		return KZ_ENOMEM;
	}
	rc = nc_opts_check_zones(&s->no, refs, s->nzones, err, errsz);
	free(refs);
	free(names);
	return rc;
}

/* The ports NSD (--listen), the HTTP endpoint and the secondaries
 * (--notify, perhaps on this host) bind, into OUT (2 * NC_MAX_LIST + 1
 * entries); their number. */
static size_t
later_ports(const struct sync *s, uint16_t *out)
{
	struct sockaddr_storage sa;
	unsigned salen = sizeof(sa);
	size_t n = 0;

	for (size_t i = 0; i < s->no.nlisten && i < NC_MAX_LIST; i++)
		out[n++] = s->no.listen[i].port;
	for (size_t i = 0; i < s->no.nnotify && i < NC_MAX_LIST; i++)
		out[n++] = s->no.notify[i].addr.port;
	if (s->http_opts.listen[0] &&
	    sy_http_parse_addr(s->http_opts.listen, &sa, &salen) == 0)
		out[n++] = ntohs(sa.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&sa)->sin6_port :
		    ((struct sockaddr_in *)&sa)->sin_port);
	return n;
}

/* The pipeline: databases, serials, feed, publishers, readiness state. */
static int
setup_pipeline(struct sync *s, char *err, size_t errsz)
{
	struct nc_feed_io io = { feed_watch, feed_unwatch, s };
	struct nc_feed_opts fo = { .journal_max_diffs = s->no.journal_diffs };
	uint16_t avoid[2 * NC_MAX_LIST + 1];
	int rc;

	if ((rc = setup_dbs(s)) != 0) {
		snprintf(err, errsz, "%s", kz_strerror(rc));
		return rc;
	}
	if ((rc = check_cluster_zones(s, err, errsz)) != 0)
		return rc;
	rc = nc_serial_open(&s->serials, s->paths.serials, s->paths.state, 0,
	    err, errsz);
	if (rc)
		return rc;
	/* NSD and the HTTP endpoint bind after the feed, a secondary may
	 * start after it: its ephemeral port must not be one of theirs. */
	fo.avoid = avoid;
	fo.navoid = later_ports(s, avoid);
	rc = nc_feed_init(&s->feed, &fo, &io, err, errsz);
	if (rc)
		return rc;
	nsd_address(s);
	rc = nc_feed_add_notify(&s->feed, s->nsd_ip, s->nsd_port);
	for (size_t i = 0; rc == 0 && i < s->ncl; i++)
		rc = nc_pub_init(&s->cl[i].pub, &s->cl[i].db, &s->feed,
		    &s->serials);
	if (rc) {
		snprintf(err, errsz, "%s", kz_strerror(rc));
		return rc;
	}
	s->probes = calloc(s->nzones, sizeof(*s->probes));
	s->confirmed = calloc(s->nzones, sizeof(*s->confirmed));
	s->lag = calloc(s->nzones, sizeof(*s->lag));
	s->sec_seen = calloc(s->no.nnotify * s->nzones + 1,
	    sizeof(*s->sec_seen));
	s->cur_hist = calloc(s->nzones + 1, sizeof(*s->cur_hist));
	s->sprobes = calloc(s->nzones + 1, sizeof(*s->sprobes));
	s->sprobing = calloc(s->nzones + 1, sizeof(*s->sprobing));
	if (s->probes == NULL || s->confirmed == NULL || s->lag == NULL ||
	    s->sec_seen == NULL || s->cur_hist == NULL ||
	    s->sprobes == NULL || s->sprobing == NULL ||
	    sy_cur_wait_init(&s->cur_wait, s->nzones)) {
		snprintf(err, errsz, "out of memory");
		return KZ_ENOMEM;
	}
	for (size_t z = 0; z < s->nzones; z++) {
		s->probes[z] = (struct zprobe){ s, z };
		s->sprobes[z] = (struct zprobe){ s, z };
	}
	if (s->catalog)
		nc_pub_hold(&zcluster(s, s->catalog - 1)->pub,
		    s->zloc[s->catalog - 1]);
	if ((rc = setup_dnssec(s, err, errsz)) != 0)
		return rc;
	warn_reverse_trees(s);
	learn_from_zone_files(s);
	learn_from_secondaries(s);
	kz_info("feed ready", "address=127.0.0.1 port=%u zones=%zu",
	    s->feed.port, s->nzones);
	return 0;
}

/* Whether every zone file holds the serial the feed publishes. */
static bool
zone_files_current(struct sync *s)
{
	for (size_t z = 0; z < s->nzones; z++) {
		uint32_t serial;

		if (zheld(s, z) || !zstarted(s, z))
			continue;	/* NSD's file is the older catalog, or
					 * the last run's */
		if (zone_file_serial(s, z, &serial) ||
		    serial != zserial(s, z))
			return false;
	}
	return true;
}

/*
 * At a clean stop, have NSD write its zone files and wait (at most
 * SY_WRITE_WAIT_MS: the loop is over) until they hold what was
 * published: they are what a restarted NSD serves first, and what the
 * next start resumes from.
 */
static void
write_zone_files(struct sync *s)
{
	uint64_t until = kz_now_ms() + SY_WRITE_WAIT_MS;
	bool started = false;

	for (size_t i = 0; i < s->ncl; i++)
		started |= s->cl[i].pub.started;
	if (s->nsd.state != NC_NSD_RUNNING || !started)
		return;
	if (nc_control_cmd(s->paths.ctl, "write", NULL, SY_WRITE_WAIT_MS)) {
		kz_warn("nsd did not write its zone files", NULL);
		return;
	}
	while (!zone_files_current(s)) {
		struct timespec ts = { 0, 20 * 1000000 };

		if (kz_now_ms() >= until) {
			kz_warn("nsd's zone files are behind what was "
			    "published", "hint=\"the next start resumes from "
			    "them all the same\"");
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/* C starts empty: its model, its retry timer, the API options. */
static void
cluster_init(struct sync *s, struct cluster *c, const char *name,
    const struct zg_render_opts *ro, bool is_catalog)
{
	c->s = s;
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (name[0])
		snprintf(c->logctx, sizeof(c->logctx), "cluster=%s", name);
	c->ro = ro;
	c->is_catalog = is_catalog;
	zg_model_init(&c->model);
	zg_model_select(&c->model, ro->labels, ro->ns_labels);
	sy_timer_init(&c->retry_timer, retry_fired, c);
	c->api.opts = s->api.opts;
	c->api.co = s->api.co;
}

/*
 * The clusters: the command line's one, or the clusters file's and,
 * with --catalog-zone, the catalog of them all. 0, or an exit status.
 */
static int
make_clusters(struct sync *s)
{
	const struct zg_clusters *cs = &s->clusters;
	char err[768];
	size_t n;
	int rc;

	if (s->cmd.clusters[0] == '\0') {
		if ((s->cl = calloc(1, sizeof(*s->cl))) == NULL)
			return 1;
		s->ncl = 1;
		cluster_init(s, &s->cl[0], "", &s->ro, false);
		return 0;
	}
	rc = zg_clusters_load(&s->clusters, s->cmd.clusters, err, sizeof(err));
	if (rc == 0 && s->ro.catalog[0])
		rc = zg_clusters_check(cs, s->ro.catalog, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "kubezone sync: %s\n", rc == KZ_ENOMEM ?
		    kz_strerror(rc) : err);
		return rc == KZ_EUSAGE ? 2 : 1;
	}
	n = cs->n + (s->ro.catalog[0] ? 1 : 0);
	if ((s->cl = calloc(n, sizeof(*s->cl))) == NULL)
		return 1;
	s->ncl = n;
	for (size_t i = 0; i < cs->n; i++)
		cluster_init(s, &s->cl[i], cs->v[i].name, &cs->v[i].opts,
		    false);
	if (s->ro.catalog[0]) {
		s->cat_ro = cs->v[0].opts;	/* shallow: never freed */
		snprintf(s->cat_ro.catalog, sizeof(s->cat_ro.catalog), "%s",
		    s->ro.catalog);
		cluster_init(s, &s->cl[n - 1], "", &s->cat_ro, true);
	}
	return 0;
}

/* Find each cluster's API (its kubeconfig and context, in-cluster, or
 * the default). 0, or an error with ERR filled. */
static int
resolve_clusters(struct sync *s, char *err, size_t errsz)
{
	char msg[600];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];
		const struct zg_cluster *conf = s->clusters.n ?
		    zg_clusters_find(&s->clusters, c->name) : NULL;

		if (c->is_catalog)
			continue;
		if (conf) {
			c->api.opts.kubeconfig = conf->kubeconfig;
			c->api.opts.context = conf->context;
		}
		if (conf && conf->in_cluster) {
			sy_kubeconfig_init(&c->api.kc);
			rc = sy_kubeconfig_in_cluster(&c->api.kc,
			    getenv("KUBERNETES_SERVICE_HOST"),
			    getenv("KUBERNETES_SERVICE_PORT"), SY_SA_DIR, msg,
			    sizeof(msg));
		} else {
			rc = sy_api_resolve(&c->api, msg, sizeof(msg));
		}
		c->api_set = true;
		if (rc && c->name[0])
			snprintf(err, errsz, "cluster %s: %s", c->name, msg);
		else if (rc)
			snprintf(err, errsz, "%s", msg);
	}
	return rc;
}

/* A cluster= scope of the metrics per cluster (with --clusters), and
 * each cluster's readiness gauge. */
static int
scope_metrics(struct sync *s)
{
	for (size_t i = 0; i < s->ncl; i++) {
		struct cluster *c = &s->cl[i];

		if (c->is_catalog)
			continue;
		if (c->name[0] && (c->metrics = sy_metrics_scope(s->metrics,
		    "cluster", c->name)) == NULL)
			return KZ_ENOMEM;
		c->m_ready = sy_metrics_gauge(c->metrics ? c->metrics :
		    s->metrics, "kubezone_cluster_ready", "1 once NSD serves "
		    "every zone of the cluster as published from its first "
		    "complete list (with --clusters, per cluster); /readyz "
		    "waits for every cluster.", NULL);
		sy_metric_set(c->m_ready, 0, NULL);
	}
	return 0;
}

int
sy_sync_main(int argc, char **argv)
{
	struct sync *s;
	char err[768], bin[PATH_MAX];
	int rc, status = 1;

	/*
	 * No fast bins. glibc keeps small freed chunks there, unmerged,
	 * until a large allocation or free consolidates them all at once;
	 * the daemon's bursts between events (a transfer served, a probe)
	 * ended that way, and the next watch event's first allocations paid
	 * for sorting what was left (decoding an event: p50 94 -> 59 us,
	 * docs/benchmarks-incremental.md). Without them a free merges its
	 * chunk at once.
	 */
	mallopt(M_MXFAST, 0);
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		fprintf(stderr, "kubezone sync: out of memory\n");
		return 1;
	}
	s->started_ms = kz_now_ms();
	s->sigfd = s->inofd = -1;
	s->nsd.logfd = s->nsd.logw = -1;
	s->cmd.debounce_ms = 50;
	nc_dnssec_opts_init(&s->cmd.dnssec);
	zg_render_opts_init(&s->ro);
	nc_opts_init(&s->no);
	sy_api_opts_init(&s->api);
	sy_http_opts_init(&s->http_opts);
	sy_timer_init(&s->debounce, debounce_fired, s);
	sy_timer_init(&s->nsd_timer, nsd_timer_fired, s);
	sy_timer_init(&s->feed_timer, feed_timer_fired, s);
	sy_timer_init(&s->api_timer, api_timer_fired, s);
	sy_timer_init(&s->http_timer, http_timer_fired, s);
	sy_timer_init(&s->ready_timer, ready_timer_fired, s);
	sy_timer_init(&s->sec_timer, sec_timer_fired, s);
	sy_timer_init(&s->zf_timer, zf_timer_fired, s);
	sy_timer_init(&s->serve_timer, serve_timer_fired, s);
	sy_timer_init(&s->sign_timer, sign_timer_fired, s);
	sy_timer_init(&s->sign_work, sign_work_fired, s);
	kz_map_init(&s->cur_hits.svc);
	rc = parse_args("sync", argc, argv, &s->cmd, &s->ro, &s->no, &s->api,
	    &s->http_opts);
	if (rc) {
		status = rc - 1;
		goto out_opts;
	}
	if ((status = make_clusters(s)) != 0)
		goto out_opts;
	status = 1;
	if (s->cmd.snapshot[0] == '\0') {
		/* no snapshot: the Kubernetes API, or a clear error */
		if (resolve_clusters(s, err, sizeof(err))) {
			fprintf(stderr, "kubezone sync: %s\n", err);
			status = 2;
			goto out_opts;
		}
		s->use_api = true;
	}
	if ((s->metrics = sy_metrics_new()) == NULL || scope_metrics(s)) {
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
	    s->paths.pidfile)) || (rc = sy_loop_init(&s->loop))) {
		fprintf(stderr, "kubezone sync: %s\n", kz_strerror(rc));
		goto out;
	}
	snprintf(s->nsd.xfrdfile, sizeof(s->nsd.xfrdfile), "%s",
	    s->paths.xfrdfile);
	s->nsd.on_ready = nsd_ready;
	s->nsd.ctx = s;
	if ((rc = setup_pipeline(s, err, sizeof(err))) != 0) {
		fprintf(stderr, "kubezone sync: %s\n", err);
		if (rc == KZ_EUSAGE)
			status = 2;
		goto out;
	}
	if ((rc = setup_signals(s)) || (rc = sy_loop_add_fd(&s->loop,
	    s->nsd.logfd, POLLIN, nsd_log_ready, s)) ||
	    (rc = sy_loop_add_hook(&s->loop, before_poll, s))) {
		fprintf(stderr, "kubezone sync: %s\n", kz_strerror(rc));
		goto out;
	}
	find_departing(s);
	/* NSD starts at once, on the zone files it wrote last time. */
	if (write_conf(s))
		goto out;
	if ((rc = nc_nsd_start(&s->nsd))) {
		fprintf(stderr, "kubezone sync: cannot start %s: %s\n", bin,
		    kz_strerror(rc));
		goto out;
	}
	if (start_services(s, err, sizeof(err))) {
		fprintf(stderr, "kubezone sync: %s\n", err);
		goto out;
	}
	if (!s->use_api && (rc = watch_snapshot(s))) {
		fprintf(stderr, "kubezone sync: cannot watch %s: %s\n",
		    s->snap_dir, kz_strerror(rc));
		goto out;
	}
	if (!s->use_api && load_snapshot(s, true)) {
		fprintf(stderr, "kubezone sync: the first snapshot must load "
		    "(see the error above)\n");
		goto out;
	}
	s->status = 0;
	rc = sy_loop_run(&s->loop);
	status = rc ? 1 : s->status;
	if (status == 0)
		write_zone_files(s);
out:
	for (size_t i = 0; i < s->ncl; i++)	/* easy handles leave the multi */
		sy_api_free(&s->cl[i].api);
	sy_http_free(s->http);
	nc_nsd_free(&s->nsd);
	if (status == 0) {
		unsigned long diffs = 0, failed = 0;

		for (size_t i = 0; i < s->ncl; i++) {
			diffs += s->cl[i].pub.stats.diffs;
			failed += s->cl[i].pub.stats.failed;
		}
		kz_info("stopped", "loads=%lu load_failures=%lu diffs=%lu "
		    "publish_failures=%lu", s->loads, s->load_failures, diffs,
		    failed);
	}
	for (size_t i = 0; i < s->ncl; i++) {
		nc_pub_free(&s->cl[i].pub);
		nc_dnssec_free(&s->cl[i].dnssec);
	}
	nc_feed_free(&s->feed);
	nc_serial_free(&s->serials);
	for (size_t i = 0; i < s->ncl; i++)
		zg_db_free(&s->cl[i].db);
	free(s->zcl);
	free(s->zloc);
	for (size_t i = 0; i < s->nmembers; i++)
		free(s->members[i]);
	free(s->members);
	free(s->probes);
	free(s->confirmed);
	free(s->departing);
	free(s->lag);
	free(s->sec_seen);
	free(s->cur_hist);
	free(s->sprobes);
	free(s->sprobing);
	sy_cur_wait_free(&s->cur_wait);
	sy_cur_hits_free(&s->cur_hits);
	sy_loop_free(&s->loop);
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->inofd >= 0)
		close(s->inofd);
out_opts:
	nc_dnssec_opts_free(&s->cmd.dnssec);
	sy_api_free(&s->api);
	for (size_t i = 0; i < s->ncl; i++) {
		sy_api_free(&s->cl[i].api);
		zg_model_free(&s->cl[i].model);
		sy_metrics_free(s->cl[i].metrics);
	}
	free(s->cl);
	zg_clusters_free(&s->clusters);
	sy_metrics_free(s->metrics);
	zg_render_opts_free(&s->ro);
	free(s);
	return status;
}

/* --- nsd-conf --------------------------------------------------------- */

/* The zones nsd-conf writes with --clusters: every cluster's, then the
 * catalog of them all. */
struct zone_list {
	struct zg_clusters cs;
	struct zg_db *dbs;		/* one per cluster, the catalog last */
	size_t ndbs;
	struct zg_render_opts cat_ro;	/* shallow: never freed */
	char **members;
	size_t nmembers;
	const struct zg_db_zone **v;
	size_t n;
};

static const struct zg_db_zone *
list_zone_at(const void *ctx, size_t z)
{
	return ((const struct zone_list *)ctx)->v[z];
}

static void
zone_list_free(struct zone_list *l)
{
	for (size_t i = 0; l->dbs && i < l->ndbs; i++)
		zg_db_free(&l->dbs[i]);
	free(l->dbs);
	for (size_t i = 0; i < l->nmembers; i++)
		free(l->members[i]);
	free(l->members);
	free(l->v);
	zg_clusters_free(&l->cs);
}

/* Load the clusters file PATH and set every cluster's zones up (and
 * the catalog's, with CATALOG). 0, or an exit status with the error
 * said. */
static int
zone_list_load(struct zone_list *l, const char *path, const char *catalog)
{
	char err[768];
	size_t total = 0;
	int rc;

	rc = zg_clusters_load(&l->cs, path, err, sizeof(err));
	if (rc == 0 && catalog[0])
		rc = zg_clusters_check(&l->cs, catalog, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "kubezone nsd-conf: %s\n", rc == KZ_ENOMEM ?
		    kz_strerror(rc) : err);
		return rc == KZ_EUSAGE ? 2 : 1;
	}
	l->dbs = calloc(l->cs.n + 1, sizeof(*l->dbs));
	if (l->dbs == NULL)
		goto nomem;
	for (; l->ndbs < l->cs.n; l->ndbs++) {
		if (zg_db_init(&l->dbs[l->ndbs], &l->cs.v[l->ndbs].opts))
			goto nomem;
		total += l->dbs[l->ndbs].nzones;
	}
	if (catalog[0]) {
		l->members = calloc(total ? total : 1, sizeof(*l->members));
		if (l->members == NULL)
			goto nomem;
		for (size_t i = 0; i < l->ndbs; i++)
			for (size_t z = 0; z < l->dbs[i].nzones; z++)
				if ((l->members[l->nmembers++] = strdup(
				    l->dbs[i].zones[z].origin)) == NULL)
					goto nomem;
		l->cat_ro = l->cs.v[0].opts;
		snprintf(l->cat_ro.catalog, sizeof(l->cat_ro.catalog), "%s",
		    catalog);
		if (zg_db_init_catalog(&l->dbs[l->ndbs++], &l->cat_ro,
		    (const char *const *)l->members, l->nmembers))
			goto nomem;
		total++;
	}
	l->v = calloc(total ? total : 1, sizeof(*l->v));
	if (l->v == NULL)
		goto nomem;
	for (size_t i = 0; i < l->ndbs; i++)
		for (size_t z = 0; z < l->dbs[i].nzones; z++)
			l->v[l->n++] = &l->dbs[i].zones[z];
	return 0;
nomem:
	fprintf(stderr, "kubezone nsd-conf: out of memory\n");
	return 1;
}

int
sy_nsdconf_main(int argc, char **argv)
{
	struct sync_cmd cmd = { .debounce_ms = 50 };
	struct zg_render_opts ro;
	struct zg_db db = { 0 };
	struct zone_list list = { 0 };
	zone_at_fn at = db_zone_at;
	const void *ctx = &db;
	size_t nz;
	struct nc_feed_ref feed;
	struct nc_paths paths;
	struct nc_zone_ref *refs = NULL;
	char (*names)[2][264] = NULL;
	struct kz_buf b;
	struct nc_opts *no;
	char dir[PATH_MAX], cwd[PATH_MAX], err[512];
	int rc, status = 1;

	no = calloc(1, sizeof(*no));
	if (no == NULL)
		return 1;
	nc_opts_init(no);
	zg_render_opts_init(&ro);
	kz_buf_init(&b, 64 * 1024 * 1024);
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
	/* As root, NSD is told to drop to its own user, as sync does. */
	if (nc_paths_nsd_user(&paths, err, sizeof(err))) {
		fprintf(stderr, "kubezone nsd-conf: %s\n", err);
		goto out;
	}
	if (cmd.clusters[0]) {
		if ((rc = zone_list_load(&list, cmd.clusters, ro.catalog)) != 0) {
			status = rc;
			goto out;
		}
		at = list_zone_at;
		ctx = &list;
	}
	/* The zones follow from the options alone; the feed's port and key
	 * are chosen by `kubezone sync` at each start: these are samples. */
	if ((!cmd.clusters[0] && zg_db_init(&db, &ro)) ||
	    nc_feed_ref_init(&feed, 53535)) {
		fprintf(stderr, "kubezone nsd-conf: out of memory\n");
		goto out;
	}
	nz = cmd.clusters[0] ? list.n : db.nzones;
	if ((refs = zone_refs(at, ctx, nz, NULL, 0, &names)) == NULL) {
		fprintf(stderr, "kubezone nsd-conf: out of memory\n");
		goto out;
	}
	if (cmd.clusters[0] && nc_opts_check_zones(no, refs, nz, err,
	    sizeof(err))) {
		fprintf(stderr, "kubezone nsd-conf: %s\n", err);
		status = 2;
		goto out;
	}
	if (nc_conf_render(no, &paths, &feed, refs, nz, &b)) {
		fprintf(stderr, "kubezone nsd-conf: out of memory\n");
		goto out;
	}
	fwrite(b.data, 1, b.len, stdout);
	status = fflush(stdout) == 0 ? 0 : 1;
out:
	free(refs);
	free(names);
	zg_db_free(&db);
	zone_list_free(&list);
	kz_buf_free(&b);
	zg_render_opts_free(&ro);
	free(no);
	return status;
}
