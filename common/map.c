/*
 * common/map.c -- open-addressing hash map with linear probing.
 *
 * Slots keep no hash (two pointers, not three words: the maps of a
 * large cluster hold 600,000 slots): a probe compares keys, and a
 * resize hashes the keys again.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/map.h"

static const char map_tomb_key;
#define KZ_MAP_TOMB (&map_tomb_key)

uint32_t
kz_map_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

uint64_t
kz_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void
kz_map_init(struct kz_map *m)
{
	memset(m, 0, sizeof(*m));
}

void
kz_map_free(struct kz_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static struct kz_map_slot *
map_find(const struct kz_map *m, const char *key, uint32_t h)
{
	size_t mask, i;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct kz_map_slot *s = &m->slots[i];
		if (s->key == NULL)
			return NULL;
		if (s->key != KZ_MAP_TOMB && strcmp(s->key, key) == 0)
			return s;
	}
}

void *
kz_map_get(const struct kz_map *m, const char *key)
{
	struct kz_map_slot *s = map_find(m, key, kz_map_hash(key));

	return s ? s->value : NULL;
}

static int
map_resize(struct kz_map *m, size_t cap)
{
	struct kz_map_slot *old = m->slots, *slots;
	size_t oldcap = m->cap, i, j, mask = cap - 1;

	slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return KZ_ENOMEM;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key == NULL || old[i].key == KZ_MAP_TOMB)
			continue;
		for (j = kz_map_hash(old[i].key) & mask; slots[j].key;
		    j = (j + 1) & mask)
			;
		slots[j] = old[i];
	}
	free(old);
	m->slots = slots;
	m->cap = cap;
	m->used = m->count;
	return KZ_OK;
}

int
kz_map_put(struct kz_map *m, const char *key, void *value, void **old)
{
	uint32_t h = kz_map_hash(key);
	struct kz_map_slot *s = map_find(m, key, h), *tomb = NULL;
	size_t mask, i;
	int rc;

	if (old)
		*old = NULL;
	if (s) {
		if (old)
			*old = s->value;
		s->key = key;
		s->value = value;
		return KZ_OK;
	}
	/* Keep the load (live + tombstones) under 3/4. */
	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap ? m->cap : 16;
		/* Grow to keep live entries at most half; same size drops
		 * the tombstones. */
		while ((m->count + 1) * 2 > cap)
			cap *= 2;
		rc = map_resize(m, cap);
		if (rc)
			return rc;
	}
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].key; i = (i + 1) & mask)
		if (m->slots[i].key == KZ_MAP_TOMB && tomb == NULL)
			tomb = &m->slots[i];
	s = tomb ? tomb : &m->slots[i];
	if (tomb == NULL)
		m->used++;
	s->key = key;
	s->value = value;
	m->count++;
	return KZ_OK;
}

void *
kz_map_del(struct kz_map *m, const char *key)
{
	struct kz_map_slot *s = map_find(m, key, kz_map_hash(key));
	void *v;

	if (s == NULL)
		return NULL;
	v = s->value;
	s->key = KZ_MAP_TOMB;
	s->value = NULL;
	m->count--;
	return v;
}

int
kz_map_next(const struct kz_map *m, size_t *iter, const char **key,
    void **value)
{
	for (; *iter < m->cap; (*iter)++) {
		struct kz_map_slot *s = &m->slots[*iter];
		if (s->key == NULL || s->key == KZ_MAP_TOMB)
			continue;
		if (key)
			*key = s->key;
		if (value)
			*value = s->value;
		(*iter)++;
		return 1;
	}
	return 0;
}
