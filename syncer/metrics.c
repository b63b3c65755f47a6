/*
 * syncer/metrics.c -- a small Prometheus registry and its text format.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "syncer/metrics.h"

const double sy_metrics_duration_buckets[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30, 60
};
const size_t sy_metrics_duration_nbuckets =
    sizeof(sy_metrics_duration_buckets) / sizeof(sy_metrics_duration_buckets[0]);

struct sy_series {
	struct sy_series *next;
	char *values[SY_METRIC_MAX_LABELS];
	double value;			/* counter, gauge; histogram sum */
	unsigned long long count;	/* histogram observations */
	unsigned long long *buckets;	/* histogram, per bound (not cumulative) */
};

struct sy_metric {
	struct sy_metric *next;
	struct sy_metrics *reg;
	enum sy_metric_type type;
	char *name;
	char *help;
	size_t nlabels;
	char *labels[SY_METRIC_MAX_LABELS];
	size_t nb;
	double bounds[SY_METRIC_MAX_BUCKETS];
	struct sy_series *series, *last;
	/* A scope's handle (sy_metrics_scope): updates go to FAMILY with
	 * SCOPE as the value of its first label; nothing else is set. */
	struct sy_metric *family;
	const char *scope;
};

struct sy_metrics {
	struct sy_metric *head, *tail;
	unsigned long long dropped;
	/* a scope: metrics are registered in PARENT with LABEL first */
	struct sy_metrics *parent;
	char *label, *value;
};

struct sy_metrics *
sy_metrics_new(void)
{
	return calloc(1, sizeof(struct sy_metrics));
}

static void
series_free(struct sy_series *s)
{
	for (size_t i = 0; i < SY_METRIC_MAX_LABELS; i++)
		free(s->values[i]);
	free(s->buckets);
	free(s);
}

void
sy_metric_clear(struct sy_metric *m)
{
	struct sy_series *s, *next, *keep = NULL, *last = NULL;
	const char *scope = m ? m->scope : NULL;

	if (m == NULL)
		return;
	if (m->family)	/* a scope's handle: its own series only */
		m = m->family;
	for (s = m->series; s; s = next) {
		next = s->next;
		s->next = NULL;
		if (scope && strcmp(s->values[0], scope) != 0) {
			if (last)
				last->next = s;
			else
				keep = s;
			last = s;
			continue;
		}
		series_free(s);
	}
	m->series = keep;
	m->last = last;
}

static void
metric_free(struct sy_metric *m)
{
	sy_metric_clear(m);
	free(m->name);
	free(m->help);
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m);
}

static bool valid_name(const char *s, size_t n, bool label);

void
sy_metrics_free(struct sy_metrics *r)
{
	struct sy_metric *m, *next;

	if (r == NULL)
		return;
	for (m = r->head; m; m = next) {
		next = m->next;
		if (m->family)
			free(m);	/* a scope's handle: the series are
					 * the family's */
		else
			metric_free(m);
	}
	free(r->label);
	free(r->value);
	free(r);
}

struct sy_metrics *
sy_metrics_scope(struct sy_metrics *parent, const char *label,
    const char *value)
{
	struct sy_metrics *r;

	if (parent == NULL || parent->parent != NULL ||
	    !valid_name(label, strlen(label), true))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->parent = parent;
	r->label = strdup(label);
	r->value = strdup(value);
	if (r->label == NULL || r->value == NULL) {
		sy_metrics_free(r);
		return NULL;
	}
	return r;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no ':'). */
static bool
valid_name(const char *s, size_t n, bool label)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (!label && c == ':') ||
		    (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

/* Split "a,b" into M's label names. 0 or -1. */
static int
set_labels(struct sy_metric *m, const char *labels)
{
	const char *p = labels, *comma;
	size_t n;

	while (labels && *p) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (m->nlabels == SY_METRIC_MAX_LABELS ||
		    !valid_name(p, n, true) ||
		    (m->labels[m->nlabels] = strndup(p, n)) == NULL)
			return -1;
		m->nlabels++;
		p += n + (comma ? 1 : 0);
	}
	return 0;
}

static struct sy_metric *
find(struct sy_metrics *r, const char *name)
{
	for (struct sy_metric *m = r->head; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

static struct sy_metric *add_metric(struct sy_metrics *r,
    enum sy_metric_type type, const char *name, const char *help,
    const char *labels, const double *b, size_t nb);

/* Register in a scope: the family in the parent, with the scope's label
 * first, and a handle owned by the scope. */
static struct sy_metric *
add_scoped(struct sy_metrics *r, enum sy_metric_type type, const char *name,
    const char *help, const char *labels, const double *b, size_t nb)
{
	char all[256];
	struct sy_metric *fam, *h;

	snprintf(all, sizeof(all), "%s%s%s", r->label, labels ? "," : "",
	    labels ? labels : "");
	fam = add_metric(r->parent, type, name, help, all, b, nb);
	if (fam == NULL || fam->nlabels == 0 ||
	    strcmp(fam->labels[0], r->label) != 0)
		return NULL;
	for (h = r->head; h; h = h->next)
		if (h->family == fam)
			return h;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->reg = r;
	h->type = type;
	h->family = fam;
	h->scope = r->value;
	if (r->tail)
		r->tail->next = h;
	else
		r->head = h;
	r->tail = h;
	return h;
}

static struct sy_metric *
add_metric(struct sy_metrics *r, enum sy_metric_type type, const char *name,
    const char *help, const char *labels, const double *b, size_t nb)
{
	struct sy_metric *m;

	if (r == NULL || name == NULL || !valid_name(name, strlen(name), false))
		return NULL;
	if (r->parent)
		return add_scoped(r, type, name, help, labels, b, nb);
	if ((m = find(r, name)) != NULL)
		return m->type == type ? m : NULL;
	if (nb > SY_METRIC_MAX_BUCKETS)
		return NULL;
	for (size_t i = 1; i < nb; i++)
		if (!(b[i] > b[i - 1]))
			return NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->reg = r;
	m->type = type;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	if (m->name == NULL || m->help == NULL || set_labels(m, labels)) {
		metric_free(m);
		return NULL;
	}
	m->nb = nb;
	if (nb)
		memcpy(m->bounds, b, nb * sizeof(*b));
	if (r->tail)
		r->tail->next = m;
	else
		r->head = m;
	r->tail = m;
	return m;
}

struct sy_metric *
sy_metrics_counter(struct sy_metrics *r, const char *name, const char *help,
    const char *labels)
{
	return add_metric(r, SY_COUNTER, name, help, labels, NULL, 0);
}

struct sy_metric *
sy_metrics_gauge(struct sy_metrics *r, const char *name, const char *help,
    const char *labels)
{
	return add_metric(r, SY_GAUGE, name, help, labels, NULL, 0);
}

struct sy_metric *
sy_metrics_histogram(struct sy_metrics *r, const char *name,
    const char *help, const char *labels, const double *buckets, size_t nb)
{
	if (buckets == NULL) {
		buckets = sy_metrics_duration_buckets;
		nb = sy_metrics_duration_nbuckets;
	}
	return add_metric(r, SY_HISTOGRAM, name, help, labels, buckets, nb);
}

static bool
same_values(const struct sy_metric *m, const struct sy_series *s,
    const char *const *values)
{
	for (size_t i = 0; i < m->nlabels; i++) {
		const char *v = values && values[i] ? values[i] : "";
		if (strcmp(s->values[i], v) != 0)
			return false;
	}
	return true;
}

static struct sy_series *
lookup(const struct sy_metric *m, const char *const *values)
{
	for (struct sy_series *s = m->series; s; s = s->next)
		if (same_values(m, s, values))
			return s;
	return NULL;
}

/* The series for VALUES, created when absent; NULL on failure. */
static struct sy_series *
series_get(struct sy_metric *m, const char *const *values)
{
	struct sy_series *s = lookup(m, values);

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto fail;
	for (size_t i = 0; i < m->nlabels; i++) {
		s->values[i] = strdup(values && values[i] ? values[i] : "");
		if (s->values[i] == NULL)
			goto fail;
	}
	if (m->type == SY_HISTOGRAM && m->nb &&
	    (s->buckets = calloc(m->nb, sizeof(*s->buckets))) == NULL)
		goto fail;
	if (m->last)
		m->last->next = s;
	else
		m->series = s;
	m->last = s;
	return s;
fail:
	if (s)
		series_free(s);
	m->reg->dropped++;
	return NULL;
}

/*
 * The family and label values an update of M goes to: M and VALUES
 * themselves, or for a scope's handle its family with the scope's value
 * first (into BUF).
 */
static struct sy_metric *
target(const struct sy_metric *m, const char *const **values,
    const char *buf[SY_METRIC_MAX_LABELS])
{
	const struct sy_metric *f;

	if (m == NULL || m->family == NULL)
		return (struct sy_metric *)m;
	f = m->family;
	buf[0] = m->scope;
	for (size_t i = 1; i < f->nlabels; i++)
		buf[i] = *values ? (*values)[i - 1] : "";
	*values = buf;
	return (struct sy_metric *)f;
}

void
sy_metric_add(struct sy_metric *m, double v, const char *const *values)
{
	const char *buf[SY_METRIC_MAX_LABELS];
	struct sy_series *s;

	m = target(m, &values, buf);
	if (m == NULL || m->type == SY_HISTOGRAM)
		return;
	if ((s = series_get(m, values)) != NULL)
		s->value += v;
}

void
sy_metric_set(struct sy_metric *m, double v, const char *const *values)
{
	const char *buf[SY_METRIC_MAX_LABELS];
	struct sy_series *s;

	m = target(m, &values, buf);
	if (m == NULL || m->type == SY_HISTOGRAM)
		return;
	if ((s = series_get(m, values)) != NULL)
		s->value = v;
}

void
sy_metric_observe(struct sy_metric *m, double v, const char *const *values)
{
	const char *buf[SY_METRIC_MAX_LABELS];
	struct sy_series *s;

	m = target(m, &values, buf);
	if (m == NULL || m->type != SY_HISTOGRAM)
		return;
	if ((s = series_get(m, values)) == NULL)
		return;
	s->value += v;
	s->count++;
	for (size_t i = 0; i < m->nb; i++)
		if (v <= m->bounds[i]) {
			s->buckets[i]++;
			break;
		}
}

double
sy_metric_value(const struct sy_metric *m, const char *const *values)
{
	const char *buf[SY_METRIC_MAX_LABELS];
	const struct sy_series *s;

	m = target(m, &values, buf);
	s = m ? lookup(m, values) : NULL;
	return s ? s->value : 0;
}

unsigned long long
sy_metric_count(const struct sy_metric *m, const char *const *values)
{
	const char *buf[SY_METRIC_MAX_LABELS];
	const struct sy_series *s;

	m = target(m, &values, buf);
	s = m ? lookup(m, values) : NULL;
	return s ? s->count : 0;
}

/* --- exposition ---------------------------------------------------- */

/* Escape for HELP (\\ and \n) or, with QUOTE, a label value (also \"). */
static int
put_escaped(struct kz_buf *out, const char *s, bool quote)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		if (*s == '\\')
			rc = kz_buf_puts(out, "\\\\");
		else if (*s == '\n')
			rc = kz_buf_puts(out, "\\n");
		else if (*s == '"' && quote)
			rc = kz_buf_puts(out, "\\\"");
		else
			rc = kz_buf_putc(out, *s);
	}
	return rc;
}

static int
put_double(struct kz_buf *out, double v)
{
	if (isnan(v))
		return kz_buf_puts(out, "NaN");
	if (isinf(v))
		return kz_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15)
		return kz_buf_printf(out, "%.0f", v);
	/* the shortest text that reads back as V */
	for (int prec = 1; prec <= 17; prec++) {
		char t[40];

		snprintf(t, sizeof(t), "%.*g", prec, v);
		if (strtod(t, NULL) == v || prec == 17)
			return kz_buf_puts(out, t);
	}
	return 0;
}

/* "{a="x",le="0.5"}" or nothing; LE may be NULL. */
static int
put_labels(struct kz_buf *out, const struct sy_metric *m,
    const struct sy_series *s, const char *le)
{
	int rc = 0;

	if (m->nlabels == 0 && le == NULL)
		return 0;
	rc = kz_buf_putc(out, '{');
	for (size_t i = 0; i < m->nlabels && rc == 0; i++) {
		rc = kz_buf_printf(out, "%s%s=\"", i ? "," : "", m->labels[i]);
		if (rc == 0)
			rc = put_escaped(out, s->values[i], true);
		if (rc == 0)
			rc = kz_buf_putc(out, '"');
	}
	if (rc == 0 && le)
		rc = kz_buf_printf(out, "%sle=\"%s\"", m->nlabels ? "," : "", le);
	if (rc == 0)
		rc = kz_buf_putc(out, '}');
	return rc;
}

static int
put_sample(struct kz_buf *out, const struct sy_metric *m,
    const struct sy_series *s, const char *suffix, const char *le, double v)
{
	int rc = kz_buf_printf(out, "%s%s", m->name, suffix);

	if (rc == 0)
		rc = put_labels(out, m, s, le);
	if (rc == 0)
		rc = kz_buf_putc(out, ' ');
	if (rc == 0)
		rc = put_double(out, v);
	if (rc == 0)
		rc = kz_buf_putc(out, '\n');
	return rc;
}

static int
put_histogram(struct kz_buf *out, const struct sy_metric *m,
    const struct sy_series *s)
{
	unsigned long long cum = 0;
	char le[64];
	int rc = 0;

	for (size_t i = 0; i < m->nb && rc == 0; i++) {
		struct kz_buf t;

		cum += s->buckets[i];
		kz_buf_init(&t, sizeof(le) - 1);
		rc = put_double(&t, m->bounds[i]);
		snprintf(le, sizeof(le), "%s", rc == 0 ? t.data : "0");
		kz_buf_free(&t);
		if (rc == 0)
			rc = put_sample(out, m, s, "_bucket", le, (double)cum);
	}
	if (rc == 0)
		rc = put_sample(out, m, s, "_bucket", "+Inf", (double)s->count);
	if (rc == 0)
		rc = put_sample(out, m, s, "_sum", NULL, s->value);
	if (rc == 0)
		rc = put_sample(out, m, s, "_count", NULL, (double)s->count);
	return rc;
}

static int
put_metric(struct kz_buf *out, const struct sy_metric *m)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct sy_series zero = { 0 };
	unsigned long long zb[SY_METRIC_MAX_BUCKETS] = { 0 };
	int rc;

	rc = kz_buf_printf(out, "# HELP %s ", m->name);
	if (rc == 0)
		rc = put_escaped(out, m->help, false);
	if (rc == 0)
		rc = kz_buf_printf(out, "\n# TYPE %s %s\n", m->name, types[m->type]);
	if (rc == 0 && m->series == NULL && m->nlabels == 0) {
		/* an unlabelled metric always shows its one series */
		zero.buckets = zb;
		for (size_t i = 0; i < SY_METRIC_MAX_LABELS; i++)
			zero.values[i] = NULL;
		return m->type == SY_HISTOGRAM ? put_histogram(out, m, &zero) :
		    put_sample(out, m, &zero, "", NULL, 0);
	}
	for (const struct sy_series *s = m->series; s && rc == 0; s = s->next)
		rc = m->type == SY_HISTOGRAM ? put_histogram(out, m, s) :
		    put_sample(out, m, s, "", NULL, s->value);
	return rc;
}

int
sy_metrics_write(const struct sy_metrics *r, struct kz_buf *out)
{
	int rc = 0;

	for (const struct sy_metric *m = r->head; m && rc == 0; m = m->next)
		rc = put_metric(out, m);
	if (rc == 0 && r->dropped)
		rc = kz_buf_printf(out, "# HELP kubezone_metrics_dropped_total "
		    "Metric updates lost to allocation failures.\n"
		    "# TYPE kubezone_metrics_dropped_total counter\n"
		    "kubezone_metrics_dropped_total %llu\n", r->dropped);
	return rc;
}
