/*
 * common/arena.h -- a region allocator: many small allocations, one free.
 *
 * Everything allocated from an arena lives until kz_arena_free(), which
 * releases it all at once. Allocation failures return NULL (never exit).
 * Sizes are overflow-checked. kz_arena_free() accepts a zeroed arena.
 */
#ifndef KZ_COMMON_ARENA_H
#define KZ_COMMON_ARENA_H

#include <stddef.h>

struct kz_arena_chunk;

struct kz_arena {
	struct kz_arena_chunk *head;
	size_t chunk_size;
	size_t used;		/* bytes handed out, for accounting */
	size_t reserved;	/* bytes obtained from malloc */
};

/* Initialise; CHUNK_SIZE 0 picks the default (64 KiB). */
void kz_arena_init(struct kz_arena *a, size_t chunk_size);
void kz_arena_free(struct kz_arena *a);
/*
 * Give back everything allocated but keep one chunk of the standard
 * size for what comes next: an arena used again and again (a batch's
 * scratch) then costs no malloc() or free() per use.
 */
void kz_arena_reset(struct kz_arena *a);

/* SIZE bytes aligned for any type; NULL on failure. */
void *kz_arena_alloc(struct kz_arena *a, size_t size);
/* NMEMB * SIZE zeroed bytes, overflow-checked; NULL on failure. */
void *kz_arena_calloc(struct kz_arena *a, size_t nmemb, size_t size);
/* Copies of S / of the first N bytes of S, NUL-terminated. */
char *kz_arena_strdup(struct kz_arena *a, const char *s);
char *kz_arena_strndup(struct kz_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *kz_arena_printf(struct kz_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
