/*
 * zonegen/selector.c -- Kubernetes label selectors (see selector.h).
 *
 * A small lexer gives tokens (a word, '!', '=', '==', '!=', ',', '(',
 * ')', the end) with their position; a recursive-descent parser reads
 * requirements from them. Words are runs of anything but whitespace and
 * the characters !=,(); "in" and "notin" are operators only where an
 * operator is expected, so they remain usable as values.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "zonegen/selector.h"

#define NAME_MAX_LEN 63
#define PREFIX_MAX_LEN 253

/* --- keys and values ----------------------------------------------------- */

static bool
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* 1 to 63 of [A-Za-z0-9_.-], a letter or digit at both ends. */
static bool
name_ok(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	if (!alnum(s[0]) || !alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool
lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A DNS subdomain (RFC 1123): labels of [a-z0-9-], a letter or digit
 * at both ends of each, at most 253 characters in all. */
static bool
subdomain_ok(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0 || len > PREFIX_MAX_LEN)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!lower_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || !lower_alnum(s[start]) ||
		    !lower_alnum(s[i - 1]) || i - start > NAME_MAX_LEN)
			return false;
		start = i + 1;
	}
	return true;
}

bool
zg_sel_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t plen;

	if (slash == NULL)
		return name_ok(s, len);
	plen = (size_t)(slash - s);
	return subdomain_ok(s, plen) &&
	    name_ok(slash + 1, len - plen - 1);
}

bool
zg_sel_value_ok(const char *s, size_t len)
{
	return len == 0 || name_ok(s, len);
}

/* --- lexer ---------------------------------------------------------------- */

enum tok {
	T_END = 0, T_WORD, T_NOT, T_EQ, T_EQ2, T_NE, T_COMMA, T_OPEN, T_CLOSE
};

struct lex {
	const char *s;
	size_t pos;		/* next byte */
	enum tok t;		/* the current token */
	size_t at, len;		/* its position and length */
	char *err;
	size_t errsz;
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

static bool
is_special(char c)
{
	return c == '!' || c == '=' || c == ',' || c == '(' || c == ')';
}

/* Read the next token into L. */
static void
lex_next(struct lex *l)
{
	const char *s = l->s;

	while (is_space(s[l->pos]))
		l->pos++;
	l->at = l->pos;
	l->len = 1;
	switch (s[l->pos]) {
	case '\0':
		l->t = T_END;
		l->len = 0;
		return;
	case '!':
		l->t = s[l->pos + 1] == '=' ? T_NE : T_NOT;
		break;
	case '=':
		l->t = s[l->pos + 1] == '=' ? T_EQ2 : T_EQ;
		break;
	case ',':
		l->t = T_COMMA;
		break;
	case '(':
		l->t = T_OPEN;
		break;
	case ')':
		l->t = T_CLOSE;
		break;
	default:
		l->t = T_WORD;
		l->len = 0;
		while (s[l->pos + l->len] && !is_space(s[l->pos + l->len]) &&
		    !is_special(s[l->pos + l->len]))
			l->len++;
		break;
	}
	if (l->t == T_NE || l->t == T_EQ2)
		l->len = 2;
	l->pos += l->len;
}

static bool
word_is(const struct lex *l, const char *w)
{
	return l->t == T_WORD && l->len == strlen(w) &&
	    memcmp(l->s + l->at, w, l->len) == 0;
}

static int lex_fail(struct lex *l, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
lex_fail(struct lex *l, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(l->err, l->errsz, "at character %zu: ", at + 1);

	if (n >= 0 && (size_t)n < l->errsz) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return KZ_EINVAL;
}

/* What the current token is, for messages. */
static const char *
tok_what(const struct lex *l, char *buf, size_t bufsz)
{
	if (l->t == T_END)
		return "the end";
	snprintf(buf, bufsz, "'%.*s'", (int)(l->len > 40 ? 40 : l->len),
	    l->s + l->at);
	return buf;
}

/* --- parser --------------------------------------------------------------- */

static void
req_free(struct zg_sel_req *r)
{
	free(r->key);
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
}

static int
add_value(struct zg_sel_req *r, const char *s, size_t len)
{
	char **v = realloc(r->values, (r->nvalues + 1) * sizeof(*v));

	if (v == NULL)
		return KZ_ENOMEM;
	r->values = v;
	v[r->nvalues] = strndup(s, len);
	if (v[r->nvalues] == NULL)
		return KZ_ENOMEM;
	r->nvalues++;
	return KZ_OK;
}

/* A value token (the current one, or none: the empty value) into R. */
static int
take_value(struct lex *l, struct zg_sel_req *r)
{
	if (l->t != T_WORD)
		return add_value(r, "", 0);
	if (!zg_sel_value_ok(l->s + l->at, l->len))
		return lex_fail(l, l->at, "'%.*s' is not a label value (at "
		    "most 63 characters of letters, digits, '-', '_', '.', "
		    "starting and ending with a letter or digit)",
		    (int)(l->len > 80 ? 80 : l->len), l->s + l->at);
	if (add_value(r, l->s + l->at, l->len))
		return KZ_ENOMEM;
	lex_next(l);
	return KZ_OK;
}

/* "(v1, v2, ...)" after in / notin; the current token is '('. */
static int
parse_set(struct lex *l, struct zg_sel_req *r)
{
	char what[48];
	int rc;

	if (l->t != T_OPEN)
		return lex_fail(l, l->at, "expected '(' after '%s', found %s",
		    r->op == ZG_SEL_IN ? "in" : "notin",
		    tok_what(l, what, sizeof(what)));
	lex_next(l);
	for (;;) {
		if ((rc = take_value(l, r)) != 0)
			return rc;
		if (l->t == T_CLOSE)
			break;
		if (l->t != T_COMMA)
			return lex_fail(l, l->at, "expected ',' or ')' in the "
			    "values, found %s", tok_what(l, what, sizeof(what)));
		lex_next(l);
	}
	lex_next(l);
	return KZ_OK;
}

static int
parse_key(struct lex *l, struct zg_sel_req *r)
{
	char what[48];

	if (l->t != T_WORD)
		return lex_fail(l, l->at, "expected a label key, found %s",
		    tok_what(l, what, sizeof(what)));
	if (!zg_sel_key_ok(l->s + l->at, l->len))
		return lex_fail(l, l->at, "'%.*s' is not a label key (an "
		    "optional DNS subdomain prefix and '/', then 1 to 63 "
		    "characters of letters, digits, '-', '_', '.', starting "
		    "and ending with a letter or digit)",
		    (int)(l->len > 80 ? 80 : l->len), l->s + l->at);
	r->key = strndup(l->s + l->at, l->len);
	if (r->key == NULL)
		return KZ_ENOMEM;
	lex_next(l);
	return KZ_OK;
}

/* The operator and values after a key. */
static int
parse_op(struct lex *l, struct zg_sel_req *r)
{
	char what[48];

	switch (l->t) {
	case T_END:
	case T_COMMA:
		r->op = ZG_SEL_EXISTS;
		return KZ_OK;
	case T_EQ:
	case T_EQ2:
	case T_NE:
		r->op = l->t == T_NE ? ZG_SEL_NE : ZG_SEL_EQ;
		lex_next(l);
		return take_value(l, r);
	default:
		break;
	}
	if (word_is(l, "in") || word_is(l, "notin")) {
		r->op = word_is(l, "in") ? ZG_SEL_IN : ZG_SEL_NOTIN;
		lex_next(l);
		return parse_set(l, r);
	}
	return lex_fail(l, l->at, "expected '=', '==', '!=', 'in', 'notin', "
	    "',' or the end after the key, found %s",
	    tok_what(l, what, sizeof(what)));
}

static int
parse_req(struct lex *l, struct zg_sel_req *r)
{
	int rc;

	if (l->t == T_NOT) {
		lex_next(l);
		r->op = ZG_SEL_ABSENT;
		return parse_key(l, r);
	}
	if ((rc = parse_key(l, r)) != 0)
		return rc;
	return parse_op(l, r);
}

static int
sel_add(struct zg_sel *s, struct lex *l)
{
	struct zg_sel_req *v = realloc(s->reqs, (s->nreqs + 1) * sizeof(*v));
	int rc;

	if (v == NULL)
		return KZ_ENOMEM;
	s->reqs = v;
	memset(&v[s->nreqs], 0, sizeof(*v));
	s->nreqs++;
	rc = parse_req(l, &v[s->nreqs - 1]);
	return rc;
}

static int
parse_all(struct zg_sel *s, struct lex *l)
{
	char what[48];
	int rc;

	lex_next(l);
	if (l->t == T_END)
		return KZ_OK;		/* the empty selector */
	for (;;) {
		if ((rc = sel_add(s, l)) != 0)
			return rc;
		if (l->t == T_END)
			return KZ_OK;
		if (l->t != T_COMMA)
			return lex_fail(l, l->at, "expected ',' or the end, "
			    "found %s", tok_what(l, what, sizeof(what)));
		lex_next(l);
	}
}

int
zg_sel_parse(const char *text, struct zg_sel **out, char *err,
    size_t errsz)
{
	struct lex l = { .s = text, .err = err, .errsz = errsz };
	struct zg_sel *s;
	size_t n = strlen(text);
	int rc;

	*out = NULL;
	if (n > ZG_SEL_MAX_TEXT) {
		snprintf(err, errsz, "longer than %d characters",
		    ZG_SEL_MAX_TEXT);
		return KZ_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->text = strdup(text)) == NULL) {
		rc = KZ_ENOMEM;
		goto fail;
	}
	if ((rc = parse_all(s, &l)) != 0)
		goto fail;
	*out = s;
	return KZ_OK;
fail:
	if (rc == KZ_ENOMEM)
		snprintf(err, errsz, "out of memory");
	zg_sel_free(s);
	return rc;
}

void
zg_sel_free(struct zg_sel *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nreqs; i++)
		req_free(&s->reqs[i]);
	free(s->reqs);
	free(s->text);
	free(s);
}

const char *
zg_sel_text(const struct zg_sel *s)
{
	return s->text;
}

/* --- matching ------------------------------------------------------------- */

static bool
in_values(const struct zg_sel_req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

static bool
req_match(const struct zg_sel_req *r, zg_sel_lookup_fn lookup, void *ctx)
{
	const char *v = lookup(ctx, r->key);

	switch (r->op) {
	case ZG_SEL_EQ:
	case ZG_SEL_IN:
		return v != NULL && in_values(r, v);
	case ZG_SEL_NE:
	case ZG_SEL_NOTIN:
		return v == NULL || !in_values(r, v);
	case ZG_SEL_EXISTS:
		return v != NULL;
	case ZG_SEL_ABSENT:
		return v == NULL;
	default:
		return false;
	}
}

bool
zg_sel_match(const struct zg_sel *s, zg_sel_lookup_fn lookup, void *ctx)
{
	if (s == NULL)
		return true;
	for (size_t i = 0; i < s->nreqs; i++)
		if (!req_match(&s->reqs[i], lookup, ctx))
			return false;
	return true;
}
