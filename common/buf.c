/*
 * common/buf.c -- bounded growable buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

void
kz_buf_init(struct kz_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
kz_buf_free(struct kz_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
kz_buf_reset(struct kz_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int
kz_buf_reserve(struct kz_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return KZ_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return KZ_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (p == NULL)
		return KZ_ENOMEM;
	b->data = p;
	b->cap = cap;
	return KZ_OK;
}

int
kz_buf_append(struct kz_buf *b, const void *p, size_t n)
{
	int rc = kz_buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return KZ_OK;
}

int
kz_buf_puts(struct kz_buf *b, const char *s)
{
	return kz_buf_append(b, s, strlen(s));
}

int
kz_buf_putc(struct kz_buf *b, char c)
{
	return kz_buf_append(b, &c, 1);
}

int
kz_buf_vprintf(struct kz_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n, rc;

	/* One pass when the text fits in the spare room (the usual case). */
	va_copy(ap2, ap);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return KZ_EINVAL;
	if ((size_t)n < room) {
		if ((size_t)n > b->max - b->len) {
			b->data[b->len] = '\0';
			return KZ_ETOOBIG;
		}
		b->len += (size_t)n;
		return KZ_OK;
	}
	rc = kz_buf_reserve(b, (size_t)n);
	if (rc) {
		if (b->data)
			b->data[b->len] = '\0';
		return rc;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return KZ_OK;
}

int
kz_buf_printf(struct kz_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = kz_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
kz_buf_consume(struct kz_buf *b, size_t n)
{
	if (n >= b->len) {
		kz_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *
kz_buf_steal(struct kz_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
