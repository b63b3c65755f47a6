/*
 * common/buf.h -- growable byte buffers with a hard maximum.
 *
 * A buffer cannot be created without its maximum size: appending past
 * it fails with KZ_ETOOBIG and leaves the contents as they were. The
 * data is always NUL-terminated (the terminator is not counted in len).
 * The buffer owns its memory; kz_buf_free() releases it and may be
 * called on a zeroed or already freed buffer.
 */
#ifndef KZ_COMMON_BUF_H
#define KZ_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct kz_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Initialise an empty buffer that may grow to MAX bytes. */
void kz_buf_init(struct kz_buf *b, size_t max);
void kz_buf_free(struct kz_buf *b);

/* Empty the buffer, keeping its memory. */
void kz_buf_reset(struct kz_buf *b);

/* Make room for N more bytes. 0, KZ_ENOMEM or KZ_ETOOBIG. */
int kz_buf_reserve(struct kz_buf *b, size_t n);

int kz_buf_append(struct kz_buf *b, const void *p, size_t n);
int kz_buf_puts(struct kz_buf *b, const char *s);
int kz_buf_putc(struct kz_buf *b, char c);
int kz_buf_printf(struct kz_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kz_buf_vprintf(struct kz_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Remove the first N bytes (N <= len). */
void kz_buf_consume(struct kz_buf *b, size_t n);

/* Hand the data to the caller (who frees it) and reset the buffer. */
char *kz_buf_steal(struct kz_buf *b, size_t *len);

#endif
