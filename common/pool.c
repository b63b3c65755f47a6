/*
 * common/pool.c -- size-class allocator for small objects.
 *
 * A free block holds the pointer to the next free block of its class.
 * Slabs are carved from the front; the rest of the newest slab is used
 * up before another is taken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_GRAIN 8

struct kz_pool_slab {
	struct kz_pool_slab *next;
	uint64_t data[KZ_POOL_SLAB / sizeof(uint64_t)];
};

static size_t
class_size(size_t size)
{
	return (size + POOL_GRAIN - 1) & ~(size_t)(POOL_GRAIN - 1);
}

void
kz_pool_init(struct kz_pool *p)
{
	memset(p, 0, sizeof(*p));
}

void
kz_pool_destroy(struct kz_pool *p)
{
	struct kz_pool_slab *s = p->slabs, *next;

	for (; s; s = next) {
		next = s->next;
		UNPOISON(s->data, sizeof(s->data));
		free(s);
	}
	memset(p, 0, sizeof(*p));
}

/* A block of class size CS from the newest slab, or a new slab. */
static void *
carve(struct kz_pool *p, size_t cs)
{
	struct kz_pool_slab *s = p->slabs;
	void *b;

	if (s == NULL || sizeof(s->data) - p->off < cs) {
		s = malloc(sizeof(*s));
		if (s == NULL)
			return NULL;
		POISON(s->data, sizeof(s->data));
		s->next = p->slabs;
		p->slabs = s;
		p->off = 0;
		p->reserved += sizeof(*s);
	}
	b = (char *)s->data + p->off;
	p->off += cs;
	return b;
}

void *
kz_pool_alloc(struct kz_pool *p, size_t size)
{
	size_t cs, c;
	void *b;

	if (size == 0)
		size = 1;
	if (size > KZ_POOL_MAX) {
		b = malloc(size);
		if (b != NULL) {
			p->reserved += size;
			p->used += size;
		}
		return b;
	}
	cs = class_size(size);
	c = cs / POOL_GRAIN - 1;
	b = p->free[c];
	if (b != NULL) {
		UNPOISON(b, sizeof(void *));
		memcpy(&p->free[c], b, sizeof(void *));
	} else if ((b = carve(p, cs)) == NULL) {
		return NULL;
	}
	UNPOISON(b, cs);
	p->used += cs;
	return b;
}

void
kz_pool_free(struct kz_pool *p, void *block, size_t size)
{
	size_t cs, c;

	if (block == NULL)
		return;
	if (size == 0)
		size = 1;
	if (size > KZ_POOL_MAX) {
		free(block);
		p->reserved -= size;
		p->used -= size;
		return;
	}
	cs = class_size(size);
	c = cs / POOL_GRAIN - 1;
	memcpy(block, &p->free[c], sizeof(void *));
	p->free[c] = block;
	POISON(block, cs);
	p->used -= cs;
}

void *
kz_zalloc(size_t size)
{
	void *p = malloc(size);

	/* explicit_bzero(): the compiler turns malloc() followed by
	 * memset() back into calloc() */
	if (p)
		explicit_bzero(p, size);
	return p;
}
