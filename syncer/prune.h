/*
 * syncer/prune.h -- a watch event's JSON text without the members DNS
 * never reads.
 *
 * A Pod's watch event is mostly its spec (containers, volumes,
 * tolerations) and the conditions and container statuses of its
 * status, none of which the decoder reads (zg_decode_unread()). Parsed
 * by jansson, each of those strings, numbers, arrays and objects is an
 * allocation and a hash table insert. sy_prune_event() copies the event
 * text without them, in one pass that only follows strings and
 * brackets, so jansson parses what the model needs and little more.
 *
 * What is left out is checked for framing only (strings closed,
 * brackets matched); what is kept goes to jansson unchanged, which
 * validates it as before. Text that is not framed as the pruner
 * expects (not one object, an unterminated string, unbalanced brackets,
 * nesting deeper than SY_PRUNE_DEPTH inside a member left out) is not
 * pruned at all: the caller parses it as it came, and jansson reports
 * the error it always did.
 *
 * Keys are matched as they are spelled in the text; a key written with
 * escapes in an object the paths run through (which jansson might read
 * as one of them) means the event is not pruned. Members with the same
 * key are all left out.
 *
 * Ownership: struct sy_prune borrows the path strings (string
 * literals, in practice) and holds no memory of its own.
 */
#ifndef KZ_SYNCER_PRUNE_H
#define KZ_SYNCER_PRUNE_H

#include <stdbool.h>
#include <stddef.h>

#define SY_PRUNE_PATHS 16	/* paths at most */
#define SY_PRUNE_KEYS 4		/* keys per path at most */
#define SY_PRUNE_DEPTH 64	/* nesting inside a member left out */

struct sy_prune {
	struct {
		const char *key[SY_PRUNE_KEYS];
		size_t len[SY_PRUNE_KEYS];
		size_t n;
	} p[SY_PRUNE_PATHS];
	size_t n;
};

/*
 * Set PR up to leave out, from the member "object" of a watch event,
 * the members PATHS name: dotted paths from the object ("spec",
 * "status.conditions"), NULL-terminated. Paths beyond SY_PRUNE_PATHS,
 * or deeper than SY_PRUNE_KEYS - 1 keys, are ignored (kept). PATHS may
 * be NULL (nothing is left out). The strings must outlive PR.
 */
void sy_prune_init(struct sy_prune *pr, const char *const *paths);

/*
 * Copy the watch event IN (LEN bytes) to OUT (room for LEN bytes)
 * without the members PR names. Returns the length written (at most
 * LEN), or 0 when IN is not framed as expected or PR leaves nothing
 * out: the caller then parses IN itself.
 */
size_t sy_prune_event(const struct sy_prune *pr, const char *in,
    size_t len, char *out);

#endif
