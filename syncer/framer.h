/*
 * syncer/framer.h -- split a watch stream into lines across chunk
 * boundaries, with a bounded buffer.
 *
 * A Kubernetes watch body is one JSON object per line, but transport
 * chunks are not lines: a read may end inside an event or carry several.
 * sy_framer_feed() takes the bytes of each read in order and calls the
 * line callback once per complete line (without its "\n" or a final
 * "\r"; empty lines are skipped). A line longer than the maximum is
 * never buffered whole: its bytes are dropped up to the next "\n", it is
 * counted in `oversized` and the stream goes on with the next line.
 *
 * Ownership: the framer owns its buffer; a line passed to the callback
 * is borrowed and valid only during the call.
 */
#ifndef KZ_SYNCER_FRAMER_H
#define KZ_SYNCER_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Default longest line (etcd caps objects at about 1.5 MiB). */
#define SY_FRAMER_MAX_LINE (16u * 1024 * 1024)

/*
 * Called with each complete line. A non-zero return stops the feed,
 * which returns that value; the rest of that chunk is dropped.
 */
typedef int (*sy_framer_line_fn)(void *ctx, const char *line, size_t len);

struct sy_framer {
	struct kz_buf partial;	/* bytes of an unfinished line */
	size_t max_line;
	bool skipping;		/* dropping an oversized line up to "\n" */
	unsigned long lines;	/* lines delivered */
	unsigned long oversized;	/* lines dropped for their size */
};

/* Initialise; MAX_LINE 0 picks SY_FRAMER_MAX_LINE. */
void sy_framer_init(struct sy_framer *f, size_t max_line);
/* Free the buffer; accepts a zeroed or freed framer. */
void sy_framer_free(struct sy_framer *f);

/* Forget an unfinished line (a new connection starts clean). */
void sy_framer_reset(struct sy_framer *f);

/* Bytes held of an unfinished line. */
size_t sy_framer_pending(const struct sy_framer *f);

/*
 * Feed LEN bytes of DATA. Returns 0, KZ_ENOMEM, or the first non-zero
 * value returned by CB.
 */
int sy_framer_feed(struct sy_framer *f, const char *data, size_t len,
    sy_framer_line_fn cb, void *ctx);

#endif
