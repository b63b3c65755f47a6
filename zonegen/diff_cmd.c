/*
 * zonegen/diff_cmd.c -- `kubezone diff [OPTIONS] OLD NEW`
 *
 * OLD and NEW are Kubernetes JSON as `kubezone render` reads it (what
 * `kubectl get svc,endpointslices,pods,namespaces -A -o json` prints;
 * "-" reads standard input, for one of the two), decoded the same way
 * and rendered with the same options. Output, for each zone that
 * changed, in zone order (the cluster zone, then the reverse zones):
 *
 *   ;; zone cluster.local.
 *   - web.shop.svc.cluster.local.<TAB>30<TAB>IN<TAB>A<TAB>10.96.0.5<TAB>; WHY
 *   + web.shop.svc.cluster.local.<TAB>30<TAB>IN<TAB>A<TAB>10.96.0.6<TAB>; WHY
 *
 * Owner names are absolute and in DNS canonical order; at each owner
 * name the records removed come before those added, each group in
 * canonical order. A record whose SRV weight changed is removed and
 * added again. WHY names what the record comes from, as `render
 * --explain` does: in OLD for a removed record, in NEW for an added
 * one; --no-explain leaves the comments out. A zone that did not change
 * prints nothing; the counts go to stderr. Exit status, as diff(1): 0
 * no difference, 1 differences, 2 trouble (usage, an input unreadable,
 * malformed or empty, no memory).
 *
 * How: each input is loaded into a zone database of its own, and the
 * two are walked side by side with cursors (zonedb.h), owner name by
 * owner name, in canonical order: a merge of two sorted sequences.
 * Not the daemon's way (OLD loaded, NEW's objects applied as changes,
 * the apply's diff read), because a diff that explains must say where a
 * removed record came from, and the incremental database lets go of a
 * record's contributors as it applies the change (its diffs are wire
 * records only): keeping them would put explaining on the daemon's
 * path. Two loads leave that path alone, and give the same records (an
 * apply's diff equals the difference of two fresh loads:
 * tests/unit/test_zonedb.c). The OLD model is freed once its database
 * is loaded.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "zonegen/decode.h"
#include "zonegen/diff_cmd.h"
#include "zonegen/render.h"
#include "zonegen/render_cmd.h"
#include "zonegen/zonedb.h"

#define T_SRV 33
#define FLUSH_BYTES (64u << 10)

struct diff_cmd {
	bool no_explain;
};

/* The output of one zone while it is compared. */
struct diff_out {
	struct kz_buf b;
	const char *origin;
	bool header;		/* ";; zone ORIGIN" written */
	size_t del, add;
};

static int
set_no_explain(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct diff_cmd *)ctx)->no_explain = true;
	return KZ_OK;
}

static const struct kz_opt diff_cmd_table[] = {
	{ "no-explain", NULL, NULL, NULL, false, set_no_explain,
	  "Leave out the comment after each record that names the objects "
	  "it comes from and the rule." },
	{ "log-level", "LEVEL", "info", NULL, false, kz_log_opt_level,
	  "Lowest level logged: debug, info, warn, error or off." },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};

/* --- loading --------------------------------------------------------- */

/* Decode PATH and load it into DB (set up here; the caller frees it
 * whatever happens). 0, or -1 with the message printed. */
static int
load(struct zg_db *db, const struct zg_render_opts *ro, bool explain,
    const char *path)
{
	struct zg_decode_stats st = { 0 };
	struct zg_model m;
	int rc;

	zg_model_init(&m);
	rc = zg_db_init(db, ro);
	if (rc == 0 && explain)
		rc = zg_db_explain(db);
	if (rc == 0 && zg_render_read(&m, "diff", path, &st)) {
		zg_model_free(&m);
		return -1;
	}
	if (rc == 0)
		rc = zg_db_load(db, &m);
	zg_model_free(&m);
	if (rc) {
		fprintf(stderr, "kubezone diff: %s\n", kz_strerror(rc));
		return -1;
	}
	return 0;
}

/* --- comparing ----------------------------------------------------------- */

static int
cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	if (r)
		return r;
	return al < bl ? -1 : al > bl;
}

/* The order of records at one owner name (zg_db_write's): type, then
 * RDATA, SRV without its priority and weight (they follow the RRset). */
static int
cmp_entry(const struct zg_db_entry *a, const struct zg_db_entry *b)
{
	const struct zg_rr *x = &a->rr, *y = &b->rr;
	size_t skip = x->type == T_SRV ? 4 : 0;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->rdlen < skip || y->rdlen < skip)
		skip = 0;
	return cmp_bytes(x->rdata + skip, x->rdlen - skip, y->rdata + skip,
	    y->rdlen - skip);
}

static bool
same_entry(const struct zg_db_entry *a, const struct zg_db_entry *b)
{
	return a->rr.ttl == b->rr.ttl && a->rr.rdlen == b->rr.rdlen &&
	    memcmp(a->rr.rdata, b->rr.rdata, a->rr.rdlen) == 0;
}

static int
flush(struct diff_out *d)
{
	if (d->b.len && fwrite(d->b.data, 1, d->b.len, stdout) != d->b.len)
		return errno ? -errno : -EIO;
	kz_buf_reset(&d->b);
	return 0;
}

/* "- RECORD<TAB>; WHY" (SIGN '-') or "+ ...", after the zone's header
 * when it is the zone's first. */
static int
put_change(struct diff_out *d, char sign, const struct zg_db_entry *e)
{
	int rc = 0;

	if (!d->header) {
		rc = kz_buf_printf(&d->b, ";; zone %s\n", d->origin);
		d->header = true;
	}
	rc = rc ? rc : kz_buf_putc(&d->b, sign);
	rc = rc ? rc : kz_buf_putc(&d->b, ' ');
	rc = rc ? rc : zg_rr_write_why(&e->rr, NULL, e->why, &d->b);
	if (sign == '-')
		d->del++;
	else
		d->add++;
	if (rc == 0 && d->b.len >= FLUSH_BYTES)
		rc = flush(d);
	return rc;
}

/* The records of X (one owner name) that Y (the same name, or NULL)
 * does not serve, as SIGN lines. Both are in cmp_entry order. */
static int
put_only_in(struct diff_out *d, char sign, const struct zg_db_owner_view *x,
    const struct zg_db_owner_view *y)
{
	size_t j = 0, ny = y ? y->n : 0;
	int rc = 0;

	for (size_t i = 0; i < x->n && rc == 0; i++) {
		while (j < ny && cmp_entry(&y->v[j], &x->v[i]) < 0)
			j++;
		if (j < ny && cmp_entry(&y->v[j], &x->v[i]) == 0 &&
		    same_entry(&y->v[j], &x->v[i]))
			continue;
		rc = put_change(d, sign, &x->v[i]);
	}
	return rc;
}

static int
next(struct zg_db_cursor *c, const struct zg_db_owner_view **v)
{
	int rc = zg_db_cursor_next(c, v);

	if (rc == 0)
		*v = NULL;
	return rc < 0 ? rc : 0;
}

/* Compare zone Z of OLD and NEW, owner name by owner name. */
static int
diff_zone(const struct zg_db *old, const struct zg_db *new, size_t z,
    struct diff_out *d)
{
	struct zg_db_cursor *a = NULL, *b = NULL;
	const struct zg_db_owner_view *va = NULL, *vb = NULL;
	int rc;

	rc = zg_db_cursor_new(old, z, &a);
	rc = rc ? rc : zg_db_cursor_new(new, z, &b);
	rc = rc ? rc : next(a, &va);
	rc = rc ? rc : next(b, &vb);
	while (rc == 0 && (va || vb)) {
		int c = va == NULL ? 1 : vb == NULL ? -1 :
		    cmp_bytes(va->key, va->keylen, vb->key, vb->keylen);

		if (c <= 0)
			rc = put_only_in(d, '-', va, c == 0 ? vb : NULL);
		if (rc == 0 && c >= 0)
			rc = put_only_in(d, '+', vb, c == 0 ? va : NULL);
		if (rc == 0 && c <= 0)
			rc = next(a, &va);
		if (rc == 0 && c >= 0)
			rc = next(b, &vb);
	}
	rc = rc ? rc : flush(d);
	zg_db_cursor_free(a);
	zg_db_cursor_free(b);
	return rc;
}

/* Print every zone's changes; the counts to stderr. 0 the same, 1
 * different, 2 trouble. */
static int
diff_dbs(const struct zg_db *old, const struct zg_db *new)
{
	struct diff_out d = { 0 };
	struct kz_buf sum;
	size_t changed = 0;
	int rc = 0;

	kz_buf_init(&d.b, (size_t)1 << 30);
	kz_buf_init(&sum, (size_t)1 << 24);
	for (size_t z = 0; z < old->nzones && rc == 0; z++) {
		d.origin = old->zones[z].origin;
		d.header = false;
		d.del = d.add = 0;
		rc = diff_zone(old, new, z, &d);
		if (rc == 0 && (d.del || d.add))
			rc = kz_buf_printf(&sum, "%s %s %zu removed, %zu added",
			    changed++ ? ";" : "diff:", d.origin, d.del, d.add);
	}
	kz_buf_free(&d.b);
	if (rc == 0 && fflush(stdout) != 0)
		rc = errno ? -errno : -EIO;
	if (rc == 0)
		fprintf(stderr, "%s\n", changed ? sum.data :
		    "diff: the zones are the same");
	else
		fprintf(stderr, "kubezone diff: %s%s\n", rc == KZ_ENOMEM ||
		    rc == KZ_ETOOBIG ? "" : "stdout: ", kz_strerror(rc));
	kz_buf_free(&sum);
	if (rc)
		return 2;
	return changed ? 1 : 0;
}

/* --- the command --------------------------------------------------------- */

static void
usage(FILE *f, const struct kz_opt_table *tables, size_t n)
{
	fprintf(f,
	    "usage: kubezone diff [OPTIONS] OLD NEW\n"
	    "\n"
	    "Compare the zones two Kubernetes JSON dumps give (each what "
	    "`kubectl get\n"
	    "svc,endpointslices,pods,namespaces -A -o json` prints; - reads "
	    "stdin): per\n"
	    "zone that changed, a line \";; zone ORIGIN\", then \"- RECORD\" "
	    "for each record\n"
	    "removed and \"+ RECORD\" for each added, with a comment naming "
	    "what it comes\n"
	    "from. Exit status: 0 the same, 1 different, 2 trouble.\n");
	kz_opt_help(f, tables, n);
}

int
zg_diff_main(int argc, char **argv)
{
	struct zg_render_opts ro;
	struct diff_cmd cmd = { 0 };
	struct kz_opt_table tables[2];
	struct zg_db old, new;
	char err[512];
	char **pos = NULL;
	size_t npos = 0;
	int help = 0, status = 2;

	memset(&old, 0, sizeof(old));
	memset(&new, 0, sizeof(new));
	zg_render_opts_init(&ro);
	tables[0] = (struct kz_opt_table){ "render options",
	    zg_render_opt_table, &ro };
	tables[1] = (struct kz_opt_table){ "diff options", diff_cmd_table,
	    &cmd };
	pos = calloc((size_t)argc + 1, sizeof(*pos));
	if (pos == NULL)
		goto out;
	if (kz_opt_parse(argc, argv, tables, 2, pos, &npos, &help, err,
	    sizeof(err))) {
		fprintf(stderr, "kubezone diff: %s\n", err);
		usage(stderr, tables, 2);
		goto out;
	}
	if (help) {
		if (help == 2)
			kz_opt_markdown(stdout, tables, 2);
		else
			usage(stdout, tables, 2);
		status = 0;
		goto out;
	}
	if (zg_render_opts_finish(&ro, err, sizeof(err))) {
		fprintf(stderr, "kubezone diff: %s\n", err);
		goto out;
	}
	if (npos != 2) {
		fprintf(stderr, "kubezone diff: give two inputs, OLD and NEW "
		    "(- for stdin)\n");
		usage(stderr, tables, 2);
		goto out;
	}
	if (strcmp(pos[0], "-") == 0 && strcmp(pos[1], "-") == 0) {
		fprintf(stderr, "kubezone diff: only one of OLD and NEW can "
		    "be standard input\n");
		goto out;
	}
	if (load(&old, &ro, !cmd.no_explain, pos[0]) ||
	    load(&new, &ro, !cmd.no_explain, pos[1]))
		goto out;
	status = diff_dbs(&old, &new);
out:
	zg_db_free(&old);
	zg_db_free(&new);
	zg_render_opts_free(&ro);
	free(pos);
	return status;
}
