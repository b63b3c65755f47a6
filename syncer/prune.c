/*
 * syncer/prune.c -- leave the members DNS never reads out of event text.
 */
#include <stdint.h>
#include <string.h>

#include "syncer/prune.h"

#define EVENT_OBJECT "object"

void
sy_prune_init(struct sy_prune *pr, const char *const *paths)
{
	memset(pr, 0, sizeof(*pr));
	for (size_t i = 0; paths && paths[i] && pr->n < SY_PRUNE_PATHS; i++) {
		const char *s = paths[i];
		size_t n = 1;

		pr->p[pr->n].key[0] = EVENT_OBJECT;
		pr->p[pr->n].len[0] = strlen(EVENT_OBJECT);
		while (*s && n < SY_PRUNE_KEYS) {
			const char *dot = strchr(s, '.');
			size_t l = dot ? (size_t)(dot - s) : strlen(s);

			pr->p[pr->n].key[n] = s;
			pr->p[pr->n].len[n++] = l;
			s += l;
			if (*s == '.')
				s++;
		}
		if (*s == '\0' && n > 1)	/* deeper ones are kept */
			pr->p[pr->n++].n = n;
	}
}

/* The scan: IN is read at P; what is kept goes to OUT from MARK on. */
struct scan {
	const struct sy_prune *pr;
	const char *p, *end;
	const char *mark;	/* first input byte not yet copied */
	char *out;
	size_t o;
	size_t dropped;
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && is_ws(*s->p))
		s->p++;
}

/* Leave the input [FROM, TO) out (FROM >= the mark). */
static void
drop(struct scan *s, const char *from, const char *to)
{
	size_t n = (size_t)(from - s->mark);

	memcpy(s->out + s->o, s->mark, n);
	s->o += n;
	s->mark = to;
	s->dropped++;
}

/* P is at '"': past the closing quote (one not escaped by an odd
 * run of backslashes). */
static bool
skip_string(struct scan *s)
{
	const char *p = s->p + 1, *q;

	while ((q = memchr(p, '"', (size_t)(s->end - p))) != NULL) {
		const char *b = q;

		while (b > p && b[-1] == '\\')
			b--;
		p = q + 1;
		if ((q - b) % 2 == 0) {
			s->p = p;
			return true;
		}
	}
	return false;
}

/* Bytes that matter inside a member left out: 1 for each. */
static const unsigned char bracket_class[256] = {
	['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1
};

/* P is at '{' or '[': past the matching bracket. */
static bool
skip_brackets(struct scan *s)
{
	uint64_t is_obj = 0;
	unsigned depth = 0;

	while (s->p < s->end) {
		char c;

		while (s->p < s->end && !bracket_class[(unsigned char)*s->p])
			s->p++;
		if (s->p == s->end)
			break;
		c = *s->p;
		if (c == '"') {
			if (!skip_string(s))
				return false;
			continue;
		}
		s->p++;
		if (c == '{' || c == '[') {
			if (depth == SY_PRUNE_DEPTH)
				return false;
			is_obj = is_obj << 1 | (c == '{');
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0 || (is_obj & 1) != (c == '}'))
				return false;
			is_obj >>= 1;
			if (--depth == 0)
				return true;
		}
	}
	return false;
}

/* One value at P (after white space): past it. */
static bool
skip_value(struct scan *s)
{
	const char *start = s->p;

	if (s->p == s->end)
		return false;
	if (*s->p == '"')
		return skip_string(s);
	if (*s->p == '{' || *s->p == '[')
		return skip_brackets(s);
	/* a number or literal: jansson checks it when it is kept */
	while (s->p < s->end && !is_ws(*s->p) && *s->p != ',' &&
	    *s->p != '}' && *s->p != ']' && *s->p != '"' && *s->p != '{' &&
	    *s->p != '[' && *s->p != ':')
		s->p++;
	return s->p > start;
}

/*
 * Of the paths in MASK (their first LEVEL keys matched), those whose
 * key at LEVEL is KEY: *LEAF when one ends there, else their mask.
 */
static uint32_t
match(const struct sy_prune *pr, uint32_t mask, size_t level,
    const char *key, size_t len, bool *leaf)
{
	uint32_t sub = 0;

	*leaf = false;
	for (size_t i = 0; i < pr->n; i++) {
		if (!(mask & (1u << i)) || pr->p[i].len[level] != len ||
		    memcmp(pr->p[i].key[level], key, len) != 0)
			continue;
		if (pr->p[i].n == level + 1)
			*leaf = true;
		else
			sub |= 1u << i;
	}
	return sub;
}

/*
 * The object at P ('{'), where the paths in MASK have matched LEVEL
 * keys: its members, those a path ends at left out with their comma.
 */
static bool
object(struct scan *s, uint32_t mask, size_t level)
{
	const char *comma = NULL;	/* before the current member */
	bool kept = false;		/* a member before it was kept */

	s->p++;
	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		const char *kstart, *vend;
		uint32_t sub;
		bool leaf;

		skip_ws(s);
		kstart = s->p;
		if (s->p == s->end || *s->p != '"' || !skip_string(s))
			return false;
		/* a key spelled with escapes could be one of the paths' */
		if (memchr(kstart + 1, '\\', (size_t)(s->p - kstart - 2)))
			return false;
		sub = match(s->pr, mask, level, kstart + 1,
		    (size_t)(s->p - kstart - 2), &leaf);
		skip_ws(s);
		if (s->p == s->end || *s->p != ':')
			return false;
		s->p++;
		skip_ws(s);
		if (!leaf && sub && s->p < s->end && *s->p == '{') {
			if (!object(s, sub, level + 1))
				return false;
		} else if (!skip_value(s)) {
			return false;
		}
		vend = s->p;
		skip_ws(s);
		if (s->p == s->end || (*s->p != ',' && *s->p != '}'))
			return false;
		if (leaf && kept)
			drop(s, comma, vend);		/* ,"key":value */
		else if (leaf)				/* "key":value, */
			drop(s, kstart, *s->p == ',' ? s->p + 1 : vend);
		kept = kept || !leaf;
		if (*s->p++ == '}')
			return true;
		comma = s->p - 1;
	}
}

size_t
sy_prune_event(const struct sy_prune *pr, const char *in, size_t len,
    char *out)
{
	struct scan s = { pr, in, in + len, in, out, 0, 0 };
	size_t n;

	if (pr->n == 0)
		return 0;
	skip_ws(&s);
	if (s.p == s.end || *s.p != '{' ||
	    !object(&s, (uint32_t)((1ull << pr->n) - 1), 0))
		return 0;
	skip_ws(&s);
	if (s.p != s.end || s.dropped == 0)
		return 0;
	n = (size_t)(s.end - s.mark);
	memcpy(s.out + s.o, s.mark, n);
	return s.o + n;
}
