/*
 * zonegen/selector.h -- Kubernetes label selectors: parse and match.
 *
 * The syntax the API server takes in a labelSelector parameter (and
 * kubectl in -l): requirements separated by commas, all of which must
 * hold.
 *
 *   key=value, key==value   the label is there with that value
 *   key!=value              the label is absent or has another value
 *   key in (v1,v2)          the label is there with one of the values
 *   key notin (v1,v2)       the label is absent or has none of them
 *   key                     the label is there (any value)
 *   !key                    the label is absent
 *
 * Whitespace may surround every token. A key is a qualified name: an
 * optional prefix (a DNS subdomain: lower case, at most 253 characters)
 * and '/', then a name of 1 to 63 characters [A-Za-z0-9_.-] starting
 * and ending with a letter or digit. A value is empty or 1 to 63 of the
 * same characters, starting and ending with a letter or digit. Inside
 * parentheses an empty entry is the empty value (as the API server
 * reads "(a,)" and "()"). The empty selector matches every object.
 *
 * Pure: no I/O, no global state. Ownership: zg_sel_parse() gives a
 * selector the caller frees with zg_sel_free(); it keeps a copy of the
 * text it was parsed from (zg_sel_text()).
 */
#ifndef KZ_ZONEGEN_SELECTOR_H
#define KZ_ZONEGEN_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#define ZG_SEL_MAX_TEXT 4096	/* longest selector accepted */

enum zg_sel_op {
	ZG_SEL_EQ = 0,		/* key=value, key==value */
	ZG_SEL_NE,		/* key!=value */
	ZG_SEL_IN,		/* key in (...) */
	ZG_SEL_NOTIN,		/* key notin (...) */
	ZG_SEL_EXISTS,		/* key */
	ZG_SEL_ABSENT		/* !key */
};

struct zg_sel_req {
	unsigned char op;	/* enum zg_sel_op */
	char *key;		/* owned */
	size_t nvalues;		/* 1 for EQ and NE, 0 for EXISTS, ABSENT */
	char **values;		/* owned */
};

struct zg_sel {
	char *text;		/* as given, owned */
	size_t nreqs;
	struct zg_sel_req *reqs;	/* owned */
};

/*
 * Parse TEXT into *OUT. Returns 0, KZ_EINVAL with a message in ERR
 * ("at character N: ...", N counted from 1) for a bad selector, or
 * KZ_ENOMEM. *OUT is NULL after a failure.
 */
int zg_sel_parse(const char *text, struct zg_sel **out, char *err,
    size_t errsz);
void zg_sel_free(struct zg_sel *s);

/* The text the selector was parsed from. */
const char *zg_sel_text(const struct zg_sel *s);

/*
 * A label lookup: the value of the label KEY of one object, or NULL
 * when the object has no such label.
 */
typedef const char *(*zg_sel_lookup_fn)(void *ctx, const char *key);

/* True when the object whose labels LOOKUP reads matches S. A NULL S
 * matches everything. */
bool zg_sel_match(const struct zg_sel *s, zg_sel_lookup_fn lookup,
    void *ctx);

/* True when S[0..LEN) is a label key / a label value Kubernetes takes. */
bool zg_sel_key_ok(const char *s, size_t len);
bool zg_sel_value_ok(const char *s, size_t len);

#endif
