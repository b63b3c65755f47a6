/*
 * common/map.h -- a string-keyed hash map (open addressing).
 *
 * The map stores the key and value pointers; it owns neither. A key
 * must stay valid and unchanged while it is in the map: the usual use
 * keeps the key inside the value ("ns/name" of a Kubernetes object).
 */
#ifndef KZ_COMMON_MAP_H
#define KZ_COMMON_MAP_H

#include <stddef.h>
#include <stdint.h>

struct kz_map_slot {
	const char *key;	/* NULL: empty; KZ_MAP_TOMB: deleted */
	void *value;
};

struct kz_map {
	struct kz_map_slot *slots;
	size_t cap;		/* a power of two, or 0 */
	size_t count;
	size_t used;		/* count + tombstones */
};

void kz_map_init(struct kz_map *m);
/* Free the table (not the keys or values). */
void kz_map_free(struct kz_map *m);

/* The value for KEY, or NULL. */
void *kz_map_get(const struct kz_map *m, const char *key);

/*
 * Insert or replace. When KEY was present, its old value is stored in
 * *OLD (if OLD is not NULL) and the new KEY pointer replaces the old one.
 * Returns 0 or KZ_ENOMEM (the map is unchanged on failure).
 */
int kz_map_put(struct kz_map *m, const char *key, void *value, void **old);

/* Remove KEY; return its value, or NULL when absent. */
void *kz_map_del(struct kz_map *m, const char *key);

/*
 * Iterate: start with *ITER = 0; returns 1 and sets *KEY and *VALUE per
 * entry, 0 at the end. The map must not change during an iteration.
 */
int kz_map_next(const struct kz_map *m, size_t *iter, const char **key,
    void **value);

/* FNV-1a hash of S, used by the map; exposed for tests. */
uint32_t kz_map_hash(const char *s);

/* 64-bit FNV-1a: continue hash H over N bytes at P (start with
 * KZ_FNV64_INIT). For content fingerprints, not for security. */
#define KZ_FNV64_INIT 14695981039346656037ULL
uint64_t kz_fnv64(uint64_t h, const void *p, size_t n);

#endif
