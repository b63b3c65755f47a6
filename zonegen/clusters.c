/*
 * zonegen/clusters.c -- the clusters file (YAML, read with libyaml's
 * document API) into per-cluster render options, and the checks that
 * no zone is claimed twice.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/err.h"
#include "common/opt.h"
#include "zonegen/clusters.h"
#include "zonegen/names.h"

struct loader {
	struct zg_clusters *cs;
	yaml_document_t doc;
	char *err;
	size_t errsz;
};

static int fail(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "PATH:LINE: message" into the error buffer; always KZ_EUSAGE. */
static int
fail(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errsz, "%s:%zu: %s", l->cs->path,
	    n ? n->start_mark.line + 1 : 1, msg);
	return KZ_EUSAGE;
}

static yaml_node_t *
node(struct loader *l, int id)
{
	return id ? yaml_document_get_node(&l->doc, id) : NULL;
}

/* The text of scalar N, or NULL when N is not a scalar. */
static const char *
scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

/* true/false as YAML 1.2 writes them; -1 for anything else. */
static int
boolean(const yaml_node_t *n)
{
	const char *s = scalar(n);

	if (s && strcmp(s, "true") == 0)
		return 1;
	if (s && strcmp(s, "false") == 0)
		return 0;
	return -1;
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ZG_CLUSTER_NAME_MAX || s[0] == '-' ||
	    s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static const struct kz_opt *
find_opt(const char *name)
{
	for (const struct kz_opt *o = zg_render_opt_table; o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Apply "--NAME[=VALUE]" to C's options; errors carry N's line. */
static int
apply(struct loader *l, struct zg_cluster *c, const yaml_node_t *n,
    const char *name, const char *value)
{
	const struct kz_opt_table t = { "render options", zg_render_opt_table,
	    &c->opts };
	char arg[1200], msg[512], *argv[3], *pos[3];
	size_t npos = 0;
	int help = 0;

	if (value)
		snprintf(arg, sizeof(arg), "--%s=%s", name, value);
	else
		snprintf(arg, sizeof(arg), "--%s", name);
	argv[0] = (char *)"kubezone";
	argv[1] = arg;
	argv[2] = NULL;
	if (kz_opt_parse(2, argv, &t, 1, pos, &npos, &help, msg,
	    sizeof(msg)) == 0)
		return KZ_OK;
	return fail(l, n, "cluster %s: %s", c->name, msg);
}

/* One entry of a cluster's "options:" mapping. */
static int
option(struct loader *l, struct zg_cluster *c, yaml_node_pair_t *p)
{
	yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
	const char *name = scalar(k);
	const struct kz_opt *o;
	yaml_node_item_t *it;
	int b, rc;

	if (name == NULL)
		return fail(l, k, "cluster %s: an option name must be a "
		    "string", c->name);
	if (strcmp(name, "zone") == 0)
		return fail(l, k, "cluster %s: the zone is the cluster's "
		    "\"zone:\", not an option", c->name);
	if (strcmp(name, "catalog-zone") == 0)
		return fail(l, k, "cluster %s: the catalog zone is one for "
		    "all clusters: give --catalog-zone on the command line",
		    c->name);
	o = find_opt(name);
	if (o == NULL)
		return fail(l, k, "cluster %s: unknown option '%s' (the render "
		    "options of `kubezone render --help`, without --)",
		    c->name, name);
	if (o->metavar == NULL) {
		if ((b = boolean(v)) < 0)
			return fail(l, v, "cluster %s: %s is a flag: true or "
			    "false", c->name, name);
		return b ? apply(l, c, v, name, NULL) : KZ_OK;
	}
	if (v && v->type == YAML_SEQUENCE_NODE) {
		if (!o->repeatable)
			return fail(l, v, "cluster %s: %s takes one value, not "
			    "a list", c->name, name);
		for (it = v->data.sequence.items.start;
		    it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = node(l, *it);
			if (scalar(e) == NULL)
				return fail(l, e ? e : v, "cluster %s: %s: each "
				    "entry must be a value", c->name, name);
			rc = apply(l, c, e, name, scalar(e));
			if (rc)
				return rc;
		}
		return KZ_OK;
	}
	if (scalar(v) == NULL || scalar(v)[0] == '\0')
		return fail(l, v ? v : k, "cluster %s: %s needs a value",
		    c->name, name);
	return apply(l, c, v, name, scalar(v));
}

static int
set_string(struct loader *l, struct zg_cluster *c, const yaml_node_t *v,
    const char *key, char **out)
{
	const char *s = scalar(v);

	if (s == NULL || s[0] == '\0')
		return fail(l, v, "cluster %s: %s needs a value", c->name, key);
	*out = strdup(s);
	return *out ? KZ_OK : KZ_ENOMEM;
}

/* The keys of one cluster but its options. */
static int
cluster_key(struct loader *l, struct zg_cluster *c, const char *key,
    yaml_node_t *v, const yaml_node_t **zone, const yaml_node_t **opts)
{
	int b;

	if (strcmp(key, "kubeconfig") == 0)
		return set_string(l, c, v, key, &c->kubeconfig);
	if (strcmp(key, "context") == 0)
		return set_string(l, c, v, key, &c->context);
	if (strcmp(key, "in-cluster") == 0) {
		if ((b = boolean(v)) < 0)
			return fail(l, v, "cluster %s: in-cluster: true or "
			    "false", c->name);
		c->in_cluster = b;
		return KZ_OK;
	}
	if (strcmp(key, "zone") == 0) {
		*zone = v;
		return KZ_OK;
	}
	if (strcmp(key, "options") == 0) {
		if (v->type != YAML_MAPPING_NODE &&
		    !(v->type == YAML_SCALAR_NODE && scalar(v)[0] == '\0'))
			return fail(l, v, "cluster %s: options: a mapping of "
			    "option names to values", c->name);
		*opts = v;
		return KZ_OK;
	}
	if (strcmp(key, "name") == 0)
		return KZ_OK;
	return fail(l, v, "cluster %s: unknown key '%s' (name, kubeconfig, "
	    "context, in-cluster, zone, options)", c->name, key);
}

static int
load_cluster(struct loader *l, yaml_node_t *n, struct zg_cluster *c)
{
	const yaml_node_t *zone = NULL, *opts = NULL, *nm = NULL;
	yaml_node_pair_t *p;
	char msg[512];
	int rc;

	c->line = (unsigned)n->start_mark.line + 1;
	zg_render_opts_init(&c->opts);
	if (n->type != YAML_MAPPING_NODE)
		return fail(l, n, "each cluster is a mapping (name:, zone:, "
		    "...)");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++)
		if (scalar(node(l, p->key)) &&
		    strcmp(scalar(node(l, p->key)), "name") == 0)
			nm = node(l, p->value);
	if (nm == NULL)
		return fail(l, n, "a cluster without a name");
	if (scalar(nm) == NULL || !name_ok(scalar(nm)))
		return fail(l, nm, "cluster name '%.64s': lower-case letters, "
		    "digits and '-', at most %d, as a DNS label",
		    scalar(nm) ? scalar(nm) : "", ZG_CLUSTER_NAME_MAX);
	snprintf(c->name, sizeof(c->name), "%s", scalar(nm));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		if (scalar(k) == NULL)
			return fail(l, k, "cluster %s: keys are strings",
			    c->name);
		rc = cluster_key(l, c, scalar(k), v, &zone, &opts);
		if (rc)
			return rc;
	}
	if (c->in_cluster && (c->kubeconfig || c->context))
		return fail(l, n, "cluster %s: in-cluster and a kubeconfig or "
		    "context: give one", c->name);
	if (zone == NULL)
		return fail(l, n, "cluster %s: no zone (its forward zone, "
		    "such as %s.k8s.example)", c->name, c->name);
	if (scalar(zone) == NULL || scalar(zone)[0] == '\0')
		return fail(l, zone, "cluster %s: zone needs a value",
		    c->name);
	rc = apply(l, c, zone, "zone", scalar(zone));
	if (rc)
		return rc;
	if (opts && opts->type == YAML_MAPPING_NODE)
		for (p = opts->data.mapping.pairs.start;
		    p < opts->data.mapping.pairs.top; p++)
			if ((rc = option(l, c, p)) != 0)
				return rc;
	if (zg_render_opts_finish(&c->opts, msg, sizeof(msg)))
		return fail(l, n, "cluster %s: %s", c->name, msg);
	return KZ_OK;
}

static int
load_root(struct loader *l)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc), *list = NULL;
	struct zg_clusters *cs = l->cs;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	size_t n;
	int rc;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return fail(l, root, "expected a mapping with a \"clusters:\" "
		    "list");
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(l, p->key));
		if (k && strcmp(k, "clusters") == 0)
			list = node(l, p->value);
		else
			return fail(l, node(l, p->key), "unknown key '%s' "
			    "(the file has \"clusters:\" only)", k ? k : "");
	}
	if (list == NULL || list->type != YAML_SEQUENCE_NODE ||
	    list->data.sequence.items.top == list->data.sequence.items.start)
		return fail(l, list ? list : root, "\"clusters:\" must be a "
		    "list of one cluster or more");
	n = (size_t)(list->data.sequence.items.top -
	    list->data.sequence.items.start);
	if (n > ZG_CLUSTERS_MAX)
		return fail(l, list, "%zu clusters: at most %d", n,
		    ZG_CLUSTERS_MAX);
	cs->v = calloc(n, sizeof(*cs->v));
	if (cs->v == NULL)
		return KZ_ENOMEM;
	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		struct zg_cluster *c = &cs->v[cs->n++];
		rc = load_cluster(l, node(l, *it), c);
		if (rc)
			return rc;
	}
	return KZ_OK;
}

int
zg_clusters_load(struct zg_clusters *cs, const char *path, char *err,
    size_t errsz)
{
	struct loader l = { .cs = cs, .err = err, .errsz = errsz };
	yaml_parser_t parser;
	bool loaded = false;
	FILE *f;
	int rc;

	memset(cs, 0, sizeof(*cs));
	cs->path = strdup(path);
	if (cs->path == NULL)
		return KZ_ENOMEM;
	f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		snprintf(err, errsz, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return KZ_ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l.doc)) {
		snprintf(err, errsz, "%s:%zu: %s", path,
		    parser.problem_mark.line + 1,
		    parser.problem ? parser.problem : "invalid YAML");
		rc = KZ_EUSAGE;
	} else {
		loaded = true;
		rc = load_root(&l);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (loaded)
		yaml_document_delete(&l.doc);
	if (rc == KZ_OK)
		rc = zg_clusters_check(cs, "", err, errsz);
	return rc;
}

/* --- zones claimed twice ------------------------------------------------ */

/* True when A and B are the same name or one is below the other. */
static bool
nested(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	const char *lo = na >= nb ? a : b, *hi = na >= nb ? b : a;
	size_t nl = na >= nb ? na : nb, nh = na >= nb ? nb : na;

	if (nl == nh)
		return strcmp(a, b) == 0;
	return lo[nl - nh - 1] == '.' && strcmp(lo + nl - nh, hi) == 0;
}

/* The zones one cluster claims, with what each came from. */
struct claim {
	char zone[ZG_NAME_TEXT];
	const char *what;		/* "zone", "reverse zone", ... */
};

struct claims {
	struct claim *v;
	size_t n, cap;
	const char *what;
};

static int
claim_add(void *ctx, const char *zone)
{
	struct claims *c = ctx;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct claim *v = realloc(c->v, cap * sizeof(*v));
		if (v == NULL)
			return KZ_ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	snprintf(c->v[c->n].zone, sizeof(c->v[c->n].zone), "%s", zone);
	c->v[c->n++].what = c->what;
	return 0;
}

static int
claims_of(const struct zg_render_opts *o, struct claims *c)
{
	static const char *const all[] = { "in-addr.arpa", "ip6.arpa" };
	int rc;

	c->what = "zone";
	rc = claim_add(c, o->zone);
	c->what = o->nreverse ? "reverse zone" : "default reverse zone";
	for (size_t i = 0; rc == 0 && i < o->nreverse; i++)
		rc = zg_cidr_zones(&o->reverse[i], claim_add, c);
	for (size_t i = 0; rc == 0 && o->nreverse == 0 && i < 2; i++)
		rc = claim_add(c, all[i]);
	c->what = "clusterset zone";
	if (rc == 0 && o->clusterset[0])
		rc = claim_add(c, o->clusterset);
	return rc;
}

static int
check_pair(const struct zg_clusters *cs, size_t i, size_t j,
    const struct claims *a, const struct claims *b, char *err, size_t errsz)
{
	const struct zg_cluster *x = &cs->v[i], *y = &cs->v[j];

	for (size_t p = 0; p < a->n; p++)
		for (size_t q = 0; q < b->n; q++) {
			if (!nested(a->v[p].zone, b->v[q].zone))
				continue;
			snprintf(err, errsz, "%s:%u: cluster %s: %s %s %s %s %s "
			    "of cluster %s (%s:%u): a zone belongs to one "
			    "cluster%s", cs->path, y->line, y->name,
			    b->v[q].what, b->v[q].zone, strcmp(a->v[p].zone,
			    b->v[q].zone) == 0 ? "is the" : "overlaps the",
			    a->v[p].what, a->v[p].zone, x->name, cs->path,
			    x->line, strstr(a->v[p].what, "default") ||
			    strstr(b->v[q].what, "default") ? " (without "
			    "reverse-zone a cluster claims all of in-addr.arpa "
			    "and ip6.arpa: give each cluster reverse-zone "
			    "CIDRs of its own)" : "");
			return KZ_EUSAGE;
		}
	return KZ_OK;
}

int
zg_clusters_check(const struct zg_clusters *cs, const char *catalog,
    char *err, size_t errsz)
{
	struct claims *c = calloc(cs->n ? cs->n : 1, sizeof(*c));
	int rc = c ? KZ_OK : KZ_ENOMEM;

	for (size_t i = 0; rc == 0 && i < cs->n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(cs->v[i].name, cs->v[j].name) == 0) {
				snprintf(err, errsz, "%s:%u: cluster %s: the "
				    "name of the cluster at line %u too",
				    cs->path, cs->v[i].line, cs->v[i].name,
				    cs->v[j].line);
				rc = KZ_EUSAGE;
			}
		if (rc == 0)
			rc = claims_of(&cs->v[i].opts, &c[i]);
		for (size_t j = 0; rc == 0 && j < i; j++)
			rc = check_pair(cs, j, i, &c[j], &c[i], err, errsz);
		for (size_t p = 0; rc == 0 && catalog[0] && p < c[i].n; p++)
			if (nested(catalog, c[i].v[p].zone)) {
				snprintf(err, errsz, "--catalog-zone %s: overlaps "
				    "the %s %s of cluster %s (%s:%u)", catalog,
				    c[i].v[p].what, c[i].v[p].zone,
				    cs->v[i].name, cs->path, cs->v[i].line);
				rc = KZ_EUSAGE;
			}
	}
	for (size_t i = 0; c && i < cs->n; i++)
		free(c[i].v);
	free(c);
	return rc;
}

int
zg_clusters_argv_check(int argc, char **argv, char *err, size_t errsz)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		char name[64];
		size_t n;

		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		n = strcspn(argv[i] + 2, "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, argv[i] + 2);
		if (strcmp(name, "catalog-zone") != 0 && find_opt(name)) {
			snprintf(err, errsz, "--%s: with --clusters, each "
			    "cluster's render options are in the clusters "
			    "file", name);
			return KZ_EUSAGE;
		}
	}
	return KZ_OK;
}

const struct zg_cluster *
zg_clusters_find(const struct zg_clusters *cs, const char *name)
{
	for (size_t i = 0; i < cs->n; i++)
		if (strcmp(cs->v[i].name, name) == 0)
			return &cs->v[i];
	return NULL;
}

void
zg_clusters_free(struct zg_clusters *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].kubeconfig);
		free(cs->v[i].context);
		zg_render_opts_free(&cs->v[i].opts);
	}
	free(cs->v);
	free(cs->path);
	memset(cs, 0, sizeof(*cs));
}
