/*
 * common/pool.h -- size classes for many small objects freed one by one.
 *
 * A pool hands out blocks of up to KZ_POOL_MAX bytes from slabs of
 * KZ_POOL_SLAB bytes, in size classes 8 bytes apart, with no header per
 * block: kz_pool_free() must be given the size the block was asked
 * with. A freed block goes onto its class's free list and is handed out
 * again for the same class; slabs go back to malloc only with
 * kz_pool_destroy(). Larger requests go to malloc itself: free each of
 * those with kz_pool_free() before kz_pool_destroy(). Blocks are
 * aligned for pointers and 8-byte integers.
 *
 * What it is for: hundreds of thousands of records of 24 to 100 bytes
 * (the zone database), where malloc's header and 16-byte rounding cost
 * about as much as the data. Allocation failures return NULL. Under
 * AddressSanitizer free blocks are poisoned, so a use after free is
 * still reported.
 *
 * Ownership: the pool owns its slabs; kz_pool_destroy() releases them
 * (every class block with them) and accepts a zeroed pool.
 */
#ifndef KZ_COMMON_POOL_H
#define KZ_COMMON_POOL_H

#include <stddef.h>

#define KZ_POOL_MAX 512			/* larger blocks come from malloc */
#define KZ_POOL_SLAB (64 * 1024)	/* bytes per slab */
#define KZ_POOL_CLASSES (KZ_POOL_MAX / 8)

struct kz_pool_slab;

struct kz_pool {
	void *free[KZ_POOL_CLASSES];	/* per class: freed blocks */
	struct kz_pool_slab *slabs;	/* the newest first */
	size_t off;			/* first unused byte of the newest */
	size_t reserved;		/* bytes in slabs and large blocks */
	size_t used;			/* bytes handed out (class sizes),
					 * large blocks included */
};

void kz_pool_init(struct kz_pool *p);
/* Release every slab (and every block handed out). */
void kz_pool_destroy(struct kz_pool *p);

/* SIZE bytes (SIZE > 0), or NULL. */
void *kz_pool_alloc(struct kz_pool *p, size_t size);
/* Give back BLOCK (NULL is ignored), allocated with SIZE. */
void kz_pool_free(struct kz_pool *p, void *block, size_t size);

/*
 * SIZE zeroed bytes from malloc (free them with free()), or NULL: for
 * the per-event path, where calloc() would bypass glibc's thread cache
 * (each call then sorts whatever frees left in the unsorted bin).
 */
void *kz_zalloc(size_t size);

#endif
