/*
 * syncer/framer.c -- watch-stream line framing with a bounded buffer.
 */
#include <string.h>

#include "common/err.h"
#include "syncer/framer.h"

#define SHRINK_ABOVE (1u << 20)

void
sy_framer_init(struct sy_framer *f, size_t max_line)
{
	memset(f, 0, sizeof(*f));
	f->max_line = max_line ? max_line : SY_FRAMER_MAX_LINE;
	kz_buf_init(&f->partial, f->max_line);
}

void
sy_framer_free(struct sy_framer *f)
{
	kz_buf_free(&f->partial);
	f->skipping = false;
}

void
sy_framer_reset(struct sy_framer *f)
{
	kz_buf_reset(&f->partial);
	f->skipping = false;
}

size_t
sy_framer_pending(const struct sy_framer *f)
{
	return f->partial.len;
}

/* Deliver one complete line, minus a trailing "\r"; skip empty ones. */
static int
deliver(struct sy_framer *f, const char *line, size_t len,
    sy_framer_line_fn cb, void *ctx)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	f->lines++;
	return cb(ctx, line, len);
}

/* Start dropping the current line: it is longer than the maximum. */
static void
start_skip(struct sy_framer *f)
{
	f->oversized++;
	f->skipping = true;
	kz_buf_reset(&f->partial);
}

/*
 * Handle the bytes of one line: SEG/N, ending the line when EOL. Lines
 * already complete in the chunk and with nothing buffered go straight
 * to the callback without a copy.
 */
static int
segment(struct sy_framer *f, const char *seg, size_t n, bool eol,
    sy_framer_line_fn cb, void *ctx)
{
	int rc;

	if (f->skipping) {
		if (eol)
			f->skipping = false;
		return 0;
	}
	if (n > f->max_line - f->partial.len) {
		start_skip(f);
		f->skipping = !eol;
		return 0;
	}
	if (eol && f->partial.len == 0)
		return deliver(f, seg, n, cb, ctx);
	rc = kz_buf_append(&f->partial, seg, n);
	if (rc)
		return rc;
	if (!eol)
		return 0;
	rc = deliver(f, f->partial.data, f->partial.len, cb, ctx);
	if (f->partial.cap > SHRINK_ABOVE)
		kz_buf_free(&f->partial);	/* do not keep a huge line's memory */
	else
		kz_buf_reset(&f->partial);
	return rc;
}

int
sy_framer_feed(struct sy_framer *f, const char *data, size_t len,
    sy_framer_line_fn cb, void *ctx)
{
	const char *p = data, *end = data + len, *nl;
	int rc;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			return segment(f, p, (size_t)(end - p), false, cb, ctx);
		rc = segment(f, p, (size_t)(nl - p), true, cb, ctx);
		if (rc)
			return rc;
		p = nl + 1;
	}
	return 0;
}
