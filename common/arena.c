/*
 * common/arena.c -- region allocator.
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"

#define ARENA_DEFAULT_CHUNK (64 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct kz_arena_chunk {
	struct kz_arena_chunk *next;
	size_t size;
	size_t off;
	alignas(max_align_t) unsigned char data[];
};

void
kz_arena_init(struct kz_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : ARENA_DEFAULT_CHUNK;
	a->used = 0;
	a->reserved = 0;
}

void
kz_arena_free(struct kz_arena *a)
{
	struct kz_arena_chunk *c = a->head, *next;

	while (c) {
		next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
	a->reserved = 0;
}

void
kz_arena_reset(struct kz_arena *a)
{
	struct kz_arena_chunk *c = a->head, *next, *keep = NULL;

	while (c) {
		next = c->next;
		if (keep == NULL && c->size == a->chunk_size)
			keep = c;
		else
			free(c);
		c = next;
	}
	a->head = keep;
	a->used = 0;
	a->reserved = 0;
	if (keep) {
		keep->next = NULL;
		keep->off = 0;
		a->reserved = keep->size;
	}
}

void *
kz_arena_alloc(struct kz_arena *a, size_t size)
{
	struct kz_arena_chunk *c = a->head;
	size_t csize;
	void *p;

	if (size > SIZE_MAX - ARENA_ALIGN - sizeof(*c))
		return NULL;
	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (c == NULL || c->size - c->off < size) {
		/* Large requests get a chunk of their own behind the head. */
		csize = size > a->chunk_size / 4 ? size : a->chunk_size;
		c = malloc(sizeof(*c) + csize);
		if (c == NULL)
			return NULL;
		c->size = csize;
		c->off = 0;
		if (csize != a->chunk_size && a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->reserved += csize;
	}
	p = c->data + c->off;
	c->off += size;
	a->used += size;
	return p;
}

void *
kz_arena_calloc(struct kz_arena *a, size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = kz_arena_alloc(a, nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

char *
kz_arena_strndup(struct kz_arena *a, const char *s, size_t n)
{
	char *p = kz_arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *
kz_arena_strdup(struct kz_arena *a, const char *s)
{
	return kz_arena_strndup(a, s, strlen(s));
}

char *
kz_arena_printf(struct kz_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = kz_arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
