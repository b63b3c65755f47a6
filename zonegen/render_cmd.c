/*
 * zonegen/render_cmd.c -- `kubezone render [OPTIONS] [--out DIR] FILE...`
 * and `kubezone render --clusters FILE [--catalog-zone NAME] [--out DIR]
 * CLUSTER=FILE...`
 *
 * With --clusters, each cluster of the clusters file (zonegen/clusters.h)
 * is rendered from its own inputs with its own options, and the zones
 * of every cluster go to the same place; --catalog-zone then gives one
 * catalog of them all.
 *
 * Reads Kubernetes JSON (FILE "-" is stdin), renders every zone and
 * writes them into DIR as <zone>.zone, or to stdout one after another,
 * each starting with its $ORIGIN line; with --explain every record line
 * ends with a comment naming what it comes from. Warnings and the
 * summary go to stderr. Exit status: 0 zones written, 1 input unreadable, malformed,
 * empty (no JSON document at all), not JSON (YAML) or an API error (or
 * output not writable), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/file.h"
#include "common/log.h"
#include "common/opt.h"
#include "zonegen/clusters.h"
#include "zonegen/decode.h"
#include "zonegen/render.h"
#include "zonegen/render_cmd.h"
#include "zonegen/zonedb.h"

#define PROGRESS_MIN_BYTES (8u << 20)	/* smaller inputs show none */

struct render_cmd {
	const char *out_dir;
	uint32_t serial;
	const char *clusters;	/* --clusters FILE, or NULL */
	bool explain;
};

struct progress {
	const char *source;
	size_t total;		/* 0 when unknown (a pipe) */
	size_t shown;
};

static int
set_out(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct render_cmd *)ctx)->out_dir = arg;
	return KZ_OK;
}

static int
set_explain(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct render_cmd *)ctx)->explain = true;
	return KZ_OK;
}

static int
set_serial(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct render_cmd *)ctx)->serial = (uint32_t)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_clusters(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;
	((struct render_cmd *)ctx)->clusters = arg;
	return KZ_OK;
}

static const struct kz_opt render_clusters_table[] = {
	{ "clusters", "FILE", "one cluster", NULL, false, set_clusters,
	  "Render several clusters: FILE (YAML) names each cluster with its "
	  "zone and render options (docs/operations.md, several clusters), "
	  "and each input is given as CLUSTER=FILE. Only --catalog-zone of "
	  "the render options may be given with it: one catalog of every "
	  "cluster's zones." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static const struct kz_opt render_cmd_table[] = {
	{ "out", "DIR", "stdout", NULL, false, set_out,
	  "Write each zone to DIR/<zone>.zone instead of stdout." },
	{ "serial", "N", "1", NULL, false, set_serial,
	  "SOA serial of every zone (sync manages serials itself).",
	  KZ_OPT_NUMBER, 0, 4294967295UL },
	{ "explain", NULL, "off", NULL, false, set_explain,
	  "Follow each record with a comment naming the objects it comes "
	  "from and the rule (\"; Service shop/web (R5)\"); the zones still "
	  "load in NSD, BIND and Knot." },
	{ "log-level", "LEVEL", "info", NULL, false, kz_log_opt_level,
	  "Lowest level logged: debug, info, warn, error or off." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

static void
show_progress(void *ctx, size_t bytes, size_t objects)
{
	struct progress *p = ctx;

	if (p->total)
		fprintf(stderr, "\rreading %s: %.1f of %.1f MB, %zu objects ",
		    p->source, bytes / 1e6, p->total / 1e6, objects);
	else
		fprintf(stderr, "\rreading %s: %.1f MB, %zu objects ",
		    p->source, bytes / 1e6, objects);
	p->shown = 1;
}

int
zg_render_read(struct zg_model *m, const char *cmd, const char *path,
    struct zg_decode_stats *st)
{
	size_t docs = st->documents;
	struct zg_decode_error err = { 0 };
	struct zg_decode_opts dopts = { 0 };
	struct progress prog = { .source = path };
	struct stat sb;
	char msg[768];
	int rc;

	if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
	    S_ISREG(sb.st_mode))
		prog.total = (size_t)sb.st_size;
	if (isatty(STDERR_FILENO) &&
	    (prog.total == 0 || prog.total >= PROGRESS_MIN_BYTES)) {
		dopts.progress = show_progress;
		dopts.progress_ctx = &prog;
	}
	rc = zg_decode_path(m, path, &dopts, st, &err);
	if (prog.shown)
		fprintf(stderr, "\r\033[K");
	if (rc) {
		fprintf(stderr, "kubezone %s: %s\n", cmd,
		    zg_decode_strerror(rc, &err, msg, sizeof(msg)));
		return -1;
	}
	if (st->documents == docs) {
		fprintf(stderr, "kubezone %s: no Kubernetes objects in %s "
		    "(the input is empty)\n", cmd, strcmp(path, "-") == 0 ?
		    "standard input" : path);
		return -1;
	}
	return 0;
}

/* Write DIR/NAME atomically (common/file.h). */
static int
write_file(const char *dir, const char *name, const struct kz_buf *b)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = kz_file_write_atomic(path, b->data, b->len, 0644);
	if (rc == 0)
		return 0;
	fprintf(stderr, "kubezone render: %s: %s\n", path, kz_strerror(rc));
	return -1;
}

static int
write_zones(const struct zg_zoneset *zs, const struct render_cmd *cmd)
{
	struct kz_buf b;
	int rc = 0;

	if (cmd->out_dir && mkdir(cmd->out_dir, 0755) != 0 &&
	    errno != EEXIST) {
		fprintf(stderr, "kubezone render: %s: %s\n", cmd->out_dir,
		    strerror(errno));
		return -1;
	}
	kz_buf_init(&b, (size_t)8 << 30);
	for (size_t i = 0; i < zs->nzones && rc == 0; i++) {
		kz_buf_reset(&b);
		if (zg_zone_write(&zs->zones[i], cmd->serial, &b)) {
			fprintf(stderr, "kubezone render: out of memory\n");
			rc = -1;
		} else if (cmd->out_dir) {
			rc = write_file(cmd->out_dir, zs->zones[i].file, &b);
		} else {
			if (i > 0)
				fputc('\n', stdout);
			if (fwrite(b.data, 1, b.len, stdout) != b.len)
				rc = -1;
		}
	}
	if (!cmd->out_dir && fflush(stdout) != 0) {
		fprintf(stderr, "kubezone render: stdout: %s\n", strerror(errno));
		rc = -1;
	}
	kz_buf_free(&b);
	return rc;
}

static void
print_summary(const char *cluster, const struct zg_decode_stats *st,
    const struct zg_zoneset *zs)
{
	size_t slices = st->decoded[ZG_KIND_SLICE] - st->slices_fqdn -
	    st->slices_unlabelled, unselected = 0;

	for (int k = 0; k < ZG_KIND_COUNT; k++)
		unselected += st->unselected[k];

	if (cluster)
		fprintf(stderr, "render: cluster %s: ", cluster);
	else
		fprintf(stderr, "render: ");
	fprintf(stderr,
	    "%zu objects read (%zu Service, %zu EndpointSlice, "
	    "%zu Pod, %zu Namespace", st->objects,
	    st->decoded[ZG_KIND_SERVICE], slices, st->decoded[ZG_KIND_POD],
	    st->decoded[ZG_KIND_NAMESPACE]);
	if (st->decoded[ZG_KIND_IMPORT])
		fprintf(stderr, ", %zu ServiceImport",
		    st->decoded[ZG_KIND_IMPORT]);
	fprintf(stderr, "); ignored: %zu Endpoints, %zu "
	    "EndpointSlice of addressType FQDN, %zu EndpointSlice without a "
	    "kubernetes.io/service-name label, %zu of other kinds; records:",
	    st->endpoints, st->slices_fqdn, st->slices_unlabelled,
	    st->skipped_kind - st->endpoints);
	for (size_t i = 0; i < zs->nzones; i++)
		fprintf(stderr, "%s %s %zu", i ? "," : "", zs->zones[i].origin,
		    zs->zones[i].nrecords);
	fprintf(stderr, "; skipped: %zu invalid objects, %zu Services without "
	    "a clusterIP, %zu records with invalid names or conflicts, %zu "
	    "objects outside the exposed namespaces", st->invalid,
	    st->no_cluster_ip, zs->stats.skipped, zs->stats.filtered);
	if (unselected)
		fprintf(stderr, ", %zu objects not selected by --labels or "
		    "--namespace-labels", unselected);
	fprintf(stderr, "; %zu objects given more than once (the later copy "
	    "kept)\n", st->duplicates);
}

static void
usage(FILE *f, const struct kz_opt_table *tables, size_t n)
{
	fprintf(f,
	    "usage: kubezone render [OPTIONS] [--out DIR] FILE...\n"
	    "       kubezone render --clusters FILE [--catalog-zone NAME] "
	    "[--out DIR] CLUSTER=FILE...\n"
	    "\n"
	    "Render Kubernetes JSON (what `kubectl get svc,endpointslices,pods,"
	    "namespaces\n"
	    "-A -o json` prints; FILE - reads stdin) as DNS zone files.\n");
	kz_opt_help(f, tables, n);
}

/* --- several clusters ------------------------------------------------- */

/* The inputs of cluster C: the positional "C=FILE" arguments, into OUT
 * (room for NPOS, or NULL to count them). */
static size_t
cluster_inputs(const struct zg_cluster *c, char **pos, size_t npos,
    const char **out)
{
	size_t n = 0, len = strlen(c->name);

	for (size_t i = 0; i < npos; i++)
		if (strncmp(pos[i], c->name, len) == 0 && pos[i][len] == '=') {
			if (out)
				out[n] = pos[i] + len + 1;
			n++;
		}
	return n;
}

/* Every positional argument is CLUSTER=FILE of a known cluster. */
static int
check_inputs(const struct zg_clusters *cs, char **pos, size_t npos)
{
	for (size_t i = 0; i < npos; i++) {
		const char *eq = strchr(pos[i], '=');
		char name[ZG_CLUSTER_NAME_MAX + 2];

		if (eq == NULL || eq == pos[i] || eq[1] == '\0') {
			fprintf(stderr, "kubezone render: %s: with --clusters, "
			    "give each input as CLUSTER=FILE\n", pos[i]);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(eq - pos[i]),
		    pos[i]);
		if ((size_t)(eq - pos[i]) > ZG_CLUSTER_NAME_MAX ||
		    zg_clusters_find(cs, name) == NULL) {
			fprintf(stderr, "kubezone render: %s: no cluster %s in "
			    "%s\n", pos[i], name, cs->path);
			return -1;
		}
	}
	for (size_t i = 0; i < cs->n; i++) {
		if (cluster_inputs(&cs->v[i], pos, npos, NULL) == 0) {
			fprintf(stderr, "kubezone render: cluster %s (%s:%u) "
			    "has no input: give %s=FILE\n", cs->v[i].name,
			    cs->path, cs->v[i].line, cs->v[i].name);
			return -1;
		}
	}
	return 0;
}

/* Render cluster C from its inputs and write its zones; its origins are
 * appended to *ORIGINS (for the catalog). 0 or -1 (said). */
static int
render_cluster(const struct zg_cluster *c, char **pos, size_t npos,
    const struct render_cmd *cmd, char ***origins, size_t *norigins)
{
	const char **in = calloc(npos ? npos : 1, sizeof(*in));
	struct zg_decode_stats st = { 0 };
	struct zg_zoneset zs = { 0 };
	struct zg_model m;
	size_t n;
	char **v;
	int rc = -1;

	zg_model_init(&m);
	if (in == NULL)
		goto out;
	zg_model_select(&m, c->opts.labels, c->opts.ns_labels);
	n = cluster_inputs(c, pos, npos, in);
	for (size_t i = 0; i < n; i++)
		if (zg_render_read(&m, "render", in[i], &st))
			goto out;
	if ((cmd->explain ? zg_render_explain(&m, &c->opts, &zs) :
	    zg_render(&m, &c->opts, &zs)) != 0) {
		fprintf(stderr, "kubezone render: cluster %s: out of memory\n",
		    c->name);
		goto out;
	}
	if (write_zones(&zs, cmd))
		goto out;
	print_summary(c->name, &st, &zs);
	v = realloc(*origins, (*norigins + zs.nzones + 1) * sizeof(*v));
	if (v == NULL)
		goto out;
	*origins = v;
	for (size_t i = 0; i < zs.nzones; i++)
		if ((v[(*norigins)++] = strdup(zs.zones[i].origin)) == NULL)
			goto out;
	rc = 0;
out:
	zg_zoneset_free(&zs);
	zg_model_free(&m);
	free(in);
	return rc;
}

/* The one catalog of every cluster's zones; its SOA is the first
 * cluster's. */
static int
render_catalog(const struct zg_clusters *cs, const char *catalog,
    char **origins, size_t n, const struct render_cmd *cmd)
{
	struct zg_render_opts o = cs->v[0].opts;	/* borrowed fields */
	struct zg_zoneset zs = { 0 };
	struct zg_model m;
	struct zg_db db;
	int rc;

	snprintf(o.catalog, sizeof(o.catalog), "%s", catalog);
	zg_model_init(&m);
	rc = zg_db_init_catalog(&db, &o, (const char *const *)origins, n);
	if (rc == 0)
		rc = zg_db_load(&db, &m);
	if (rc == 0)
		rc = zg_db_zoneset(&db, &zs);
	if (rc)
		fprintf(stderr, "kubezone render: %s\n", kz_strerror(rc));
	else
		rc = write_zones(&zs, cmd);
	zg_zoneset_free(&zs);
	zg_db_free(&db);
	zg_model_free(&m);
	return rc ? -1 : 0;
}

static int
render_clusters(int argc, char **argv, const struct zg_render_opts *ro,
    const struct render_cmd *cmd, char **pos, size_t npos)
{
	struct zg_clusters cs;
	char err[768], **origins = NULL;
	size_t norigins = 0;
	int status = 2, rc;

	if (zg_clusters_argv_check(argc, argv, err, sizeof(err))) {
		fprintf(stderr, "kubezone render: %s\n", err);
		return 2;
	}
	rc = zg_clusters_load(&cs, cmd->clusters, err, sizeof(err));
	if (rc == KZ_OK && ro->catalog[0])
		rc = zg_clusters_check(&cs, ro->catalog, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "kubezone render: %s\n", rc == KZ_ENOMEM ?
		    kz_strerror(rc) : err);
		status = rc == KZ_EUSAGE ? 2 : 1;
		goto out;
	}
	if (check_inputs(&cs, pos, npos))
		goto out;
	status = 1;
	for (size_t i = 0; i < cs.n; i++)
		if (render_cluster(&cs.v[i], pos, npos, cmd, &origins,
		    &norigins))
			goto out;
	if (ro->catalog[0] &&
	    render_catalog(&cs, ro->catalog, origins, norigins, cmd))
		goto out;
	status = 0;
out:
	for (size_t i = 0; i < norigins; i++)
		free(origins[i]);
	free(origins);
	zg_clusters_free(&cs);
	return status;
}

int
zg_render_main(int argc, char **argv)
{
	struct zg_render_opts ro;
	struct render_cmd cmd = { .serial = 1 };
	struct kz_opt_table tables[3];
	struct zg_decode_stats st = { 0 };
	struct zg_zoneset zs = { 0 };
	struct zg_model m;
	char err[512];
	char **pos = NULL;
	size_t npos = 0;
	int help = 0, status = 1, rc;
	double t0, t1, t2;

	zg_render_opts_init(&ro);
	zg_model_init(&m);
	tables[0] = (struct kz_opt_table){ "render options",
	    zg_render_opt_table, &ro };
	tables[1] = (struct kz_opt_table){ "several clusters",
	    render_clusters_table, &cmd };
	tables[2] = (struct kz_opt_table){ "output options",
	    render_cmd_table, &cmd };
	pos = calloc((size_t)argc + 1, sizeof(*pos));
	if (pos == NULL)
		goto out;
	if (kz_opt_parse(argc, argv, tables, 3, pos, &npos, &help, err,
	    sizeof(err))) {
		fprintf(stderr, "kubezone render: %s\n", err);
		usage(stderr, tables, 3);
		status = 2;
		goto out;
	}
	if (help) {
		if (help == 2)
			kz_opt_markdown(stdout, tables, 3);
		else
			usage(stdout, tables, 3);
		status = 0;
		goto out;
	}
	if (cmd.clusters) {
		status = render_clusters(argc, argv, &ro, &cmd, pos, npos);
		goto out;
	}
	if (zg_render_opts_finish(&ro, err, sizeof(err))) {
		fprintf(stderr, "kubezone render: %s\n", err);
		status = 2;
		goto out;
	}
	if (npos == 0) {
		fprintf(stderr, "kubezone render: no input (give FILE, or - for stdin)\n");
		usage(stderr, tables, 3);
		status = 2;
		goto out;
	}
	zg_model_select(&m, ro.labels, ro.ns_labels);
	t0 = kz_now_s();
	for (size_t i = 0; i < npos; i++)
		if (zg_render_read(&m, "render", pos[i], &st))
			goto out;
	if (ro.ns_labels && st.decoded[ZG_KIND_NAMESPACE] == 0 &&
	    st.unselected[ZG_KIND_NAMESPACE] == 0)
		kz_warn("no Namespace objects in the input: --namespace-labels "
		    "exposes no namespace", "hint=\"include namespaces: kubectl "
		    "get svc,endpointslices,pods,namespaces -A -o json\"");
	t1 = kz_now_s();
	if (kz_log_enabled(KZ_LOG_DEBUG)) {
		size_t objs = 0;
		for (int k = 0; k < ZG_KIND_COUNT; k++)
			objs += zg_model_count(&m, (enum zg_kind)k);
		kz_debug("model built", "objects=%zu bytes=%zu", objs,
		    zg_model_bytes(&m));
	}
	rc = cmd.explain ? zg_render_explain(&m, &ro, &zs) :
	    zg_render(&m, &ro, &zs);
	if (rc) {
		fprintf(stderr, "kubezone render: %s\n", kz_strerror(rc));
		goto out;
	}
	t2 = kz_now_s();
	if (write_zones(&zs, &cmd))
		goto out;
	kz_debug("timings", "decode_ms=%.1f render_ms=%.1f write_ms=%.1f",
	    (t1 - t0) * 1e3, (t2 - t1) * 1e3, (kz_now_s() - t2) * 1e3);
	print_summary(NULL, &st, &zs);
	status = 0;
out:
	zg_zoneset_free(&zs);
	zg_model_free(&m);
	zg_render_opts_free(&ro);
	free(pos);
	return status;
}
