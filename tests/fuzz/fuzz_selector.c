/*
 * tests/fuzz/fuzz_selector.c -- label selectors.
 *
 * The input is a selector, then (after the first newline) labels, one
 * "key=value" a line. Every input must give a selector or a message
 * naming a character inside the text; a selector that parses has only
 * keys and values Kubernetes takes; written out again in its plain form
 * ("k in (a,b)", "!k", ...) it parses to the same requirements and
 * makes the same decision on the labels.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LABELS 32

struct labels {
	size_t n;
	char *k[MAX_LABELS], *v[MAX_LABELS];
};

static const char *
lookup(void *ctx, const char *key)
{
	struct labels *l = ctx;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->k[i], key) == 0)
			return l->v[i];
	return NULL;
}

/* Lines "k=v" of TEXT (modified in place) into L. */
static void
read_labels(char *text, struct labels *l)
{
	char *line = text;

	l->n = 0;
	while (line && l->n < MAX_LABELS) {
		char *nl = strchr(line, '\n'), *eq;

		if (nl)
			*nl = '\0';
		eq = strchr(line, '=');
		if (eq) {
			*eq = '\0';
			l->k[l->n] = line;
			l->v[l->n] = eq + 1;
			l->n++;
		}
		line = nl ? nl + 1 : NULL;
	}
}

static const char *const op_text[] = { "=", "!=", " in ", " notin " };

/* The plain form of S into B. */
static void
write_plain(const struct zg_sel *s, struct kz_buf *b)
{
	for (size_t i = 0; i < s->nreqs; i++) {
		const struct zg_sel_req *r = &s->reqs[i];

		if (i)
			kz_buf_append(b, ",", 1);
		if (r->op == ZG_SEL_ABSENT)
			kz_buf_append(b, "!", 1);
		kz_buf_append(b, r->key, strlen(r->key));
		if (r->op == ZG_SEL_EXISTS || r->op == ZG_SEL_ABSENT)
			continue;
		kz_buf_append(b, op_text[r->op], strlen(op_text[r->op]));
		if (r->op == ZG_SEL_IN || r->op == ZG_SEL_NOTIN)
			kz_buf_append(b, "(", 1);
		for (size_t j = 0; j < r->nvalues; j++) {
			if (j)
				kz_buf_append(b, ",", 1);
			kz_buf_append(b, r->values[j], strlen(r->values[j]));
		}
		if (r->op == ZG_SEL_IN || r->op == ZG_SEL_NOTIN)
			kz_buf_append(b, ")", 1);
	}
	kz_buf_append(b, "", 1);
}

static void
same(const struct zg_sel *a, const struct zg_sel *b)
{
	FUZZ_CHECK(a->nreqs == b->nreqs, "%zu != %zu requirements",
	    a->nreqs, b->nreqs);
	for (size_t i = 0; i < a->nreqs; i++) {
		const struct zg_sel_req *x = &a->reqs[i], *y = &b->reqs[i];

		FUZZ_CHECK(x->op == y->op && strcmp(x->key, y->key) == 0 &&
		    x->nvalues == y->nvalues, "requirement %zu differs", i);
		for (size_t j = 0; j < x->nvalues; j++)
			FUZZ_CHECK(strcmp(x->values[j], y->values[j]) == 0,
			    "value %zu of requirement %zu differs", j, i);
	}
}

static void
check_parsed(const struct zg_sel *s, struct labels *l)
{
	struct kz_buf b;
	struct zg_sel *again = NULL;
	char err[512];

	for (size_t i = 0; i < s->nreqs; i++) {
		const struct zg_sel_req *r = &s->reqs[i];

		FUZZ_CHECK(zg_sel_key_ok(r->key, strlen(r->key)), "key '%s'",
		    r->key);
		for (size_t j = 0; j < r->nvalues; j++)
			FUZZ_CHECK(zg_sel_value_ok(r->values[j],
			    strlen(r->values[j])), "value '%s'", r->values[j]);
	}
	kz_buf_init(&b, 1 << 20);
	write_plain(s, &b);
	if (b.data == NULL)
		goto out;
	FUZZ_CHECK(zg_sel_parse(b.data, &again, err, sizeof(err)) == 0,
	    "plain form '%s' refused: %s", b.data, err);
	same(s, again);
	FUZZ_CHECK(zg_sel_match(s, lookup, l) == zg_sel_match(again, lookup,
	    l), "the plain form '%s' decides otherwise", b.data);
out:
	zg_sel_free(again);
	kz_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *nl, err[512];
	struct labels l = { 0 };
	struct zg_sel *s = NULL;
	int rc;

	fuzz_quiet();
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		read_labels(nl + 1, &l);
	}
	err[0] = '\0';
	rc = zg_sel_parse(text, &s, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == KZ_EINVAL || rc == KZ_ENOMEM,
	    "returned %d", rc);
	if (rc == KZ_EINVAL) {
		unsigned long at = 0;
		FUZZ_CHECK(s == NULL, "a selector after a failure");
		if (sscanf(err, "at character %lu", &at) == 1)
			FUZZ_CHECK(at >= 1 && at <= strlen(text) + 1,
			    "position %lu outside the text", at);
		else
			FUZZ_CHECK(strstr(err, "longer than"), "message '%s'",
			    err);
	}
	if (rc == 0)
		check_parsed(s, &l);
	zg_sel_free(s);
	free(text);
	return 0;
}
