/*
 * tests/fuzz/fuzz_framer.c -- the watch-stream line framer.
 *
 * Input: byte 0 sets the line limit, byte 1 seeds the read sizes, the
 * rest is the stream. The stream is fed in reads of varying size and
 * the lines delivered must be exactly those a plain split of the whole
 * stream on "\n" gives (final "\r" dropped, empty lines skipped, lines
 * over the limit counted and dropped), whatever the read sizes.
 */
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "syncer/framer.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each line as a 4-byte length and its bytes. */
static int
collect(void *ctx, const char *line, size_t len)
{
	struct kz_buf *b = ctx;
	uint32_t n = (uint32_t)len;

	FUZZ_CHECK(len > 0, "empty line delivered");
	FUZZ_CHECK(memchr(line, '\n', len) == NULL, "newline inside a line");
	if (kz_buf_append(b, &n, sizeof(n)) || kz_buf_append(b, line, len))
		return KZ_ENOMEM;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kz_buf got, want;
	struct sy_framer f;
	unsigned long oversized = 0, lines = 0;
	const char *s, *p, *end, *nl;
	size_t max, len, pending = 0;
	uint32_t rnd;
	int rc;

	fuzz_quiet();
	if (size < 2)
		return 0;
	max = 1 + (size_t)data[0] * 4;
	rnd = data[1] * 2654435761u + 1;
	s = (const char *)data + 2;
	len = size - 2;

	/* The reference: split the whole stream. */
	kz_buf_init(&want, 64u * 1024 * 1024);
	for (p = s, end = s + len; p < end; p = nl + 1) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			n = (size_t)(end - p);
			if (n > max)
				oversized++;
			else
				pending = n;
			break;
		}
		n = (size_t)(nl - p);
		if (n > max) {
			oversized++;
			continue;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		lines++;
		FUZZ_CHECK(collect(&want, p, n) == 0, "out of memory");
	}

	/* The framer, fed in reads of 1 to 64 bytes. */
	kz_buf_init(&got, 64u * 1024 * 1024);
	sy_framer_init(&f, max);
	for (size_t off = 0; off < len;) {
		size_t n;

		rnd = rnd * 1103515245u + 12345u;
		n = 1 + (rnd >> 16) % 64;
		if (n > len - off)
			n = len - off;
		rc = sy_framer_feed(&f, s + off, n, collect, &got);
		FUZZ_CHECK(rc == 0, "feed returned %d", rc);
		off += n;
	}
	FUZZ_CHECK(f.lines == lines, "%lu lines, expected %lu", f.lines,
	    lines);
	FUZZ_CHECK(f.oversized == oversized, "%lu oversized, expected %lu",
	    f.oversized, oversized);
	FUZZ_CHECK(got.len == want.len && (got.len == 0 ||
	    memcmp(got.data, want.data, got.len) == 0),
	    "lines differ from a plain split");
	FUZZ_CHECK(sy_framer_pending(&f) == pending, "%zu bytes pending, "
	    "expected %zu", sy_framer_pending(&f), pending);

	/* A reset forgets the partial line; the framer goes on cleanly. */
	sy_framer_reset(&f);
	FUZZ_CHECK(sy_framer_pending(&f) == 0, "pending after reset");
	kz_buf_reset(&got);
	rc = sy_framer_feed(&f, "{}\n", 3, collect, &got);
	FUZZ_CHECK(rc == 0, "feed after reset returned %d", rc);
	FUZZ_CHECK(max < 2 || got.len == 4 + 2, "no line after reset");

	sy_framer_free(&f);
	kz_buf_free(&got);
	kz_buf_free(&want);
	return 0;
}
