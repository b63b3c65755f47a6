/*
 * zonegen/model.c -- the cluster model: keyed objects, interned namespaces.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/pool.h"
#include "zonegen/model.h"

static const char *const kind_names[ZG_KIND_COUNT] = {
	"Service", "EndpointSlice", "Pod", "Namespace", "ServiceImport"
};

int
zg_kind_from_name(const char *kind)
{
	for (int i = 0; i < ZG_KIND_COUNT; i++)
		if (strcmp(kind, kind_names[i]) == 0)
			return i;
	return -1;
}

const char *
zg_kind_name(enum zg_kind kind)
{
	return kind < ZG_KIND_COUNT ? kind_names[kind] : "?";
}

void
zg_model_init(struct zg_model *m)
{
	for (int i = 0; i < ZG_KIND_COUNT; i++)
		kz_map_init(&m->objects[i]);
	kz_map_init(&m->interned);
	m->generation = 0;
	m->track = false;
	m->track_rc = 0;
	m->changes = NULL;
	m->nchanges = m->capchanges = 0;
	m->sel_objects = m->sel_namespaces = NULL;
}

void
zg_model_select(struct zg_model *m, const struct zg_sel *objects,
    const struct zg_sel *namespaces)
{
	m->sel_objects = objects;
	m->sel_namespaces = namespaces;
}

static void log_change(struct zg_model *m, enum zg_kind kind,
    const char *key);

static void
free_object(enum zg_kind kind, void *obj)
{
	switch (kind) {
	case ZG_KIND_SERVICE:
		zg_service_free(obj);
		break;
	case ZG_KIND_SLICE:
		zg_slice_free(obj);
		break;
	case ZG_KIND_POD:
		zg_pod_free(obj);
		break;
	case ZG_KIND_NAMESPACE:
		free(obj);	/* the name itself is interned */
		break;
	case ZG_KIND_IMPORT:
		zg_import_free(obj);
		break;
	default:
		break;
	}
}

void
zg_model_clear_kind(struct zg_model *m, enum zg_kind kind)
{
	size_t it = 0;
	const char *key;
	void *v;

	while (kz_map_next(&m->objects[kind], &it, &key, &v)) {
		log_change(m, kind, key);
		free_object(kind, v);
	}
	kz_map_free(&m->objects[kind]);
	m->generation++;
}

void
zg_model_free(struct zg_model *m)
{
	size_t it = 0;
	void *v;

	m->track = false;
	for (int i = 0; i < ZG_KIND_COUNT; i++)
		zg_model_clear_kind(m, (enum zg_kind)i);
	zg_changes_free(m->changes, m->nchanges);
	m->changes = NULL;
	m->nchanges = m->capchanges = 0;
	while (kz_map_next(&m->interned, &it, NULL, &v))
		free(v);
	kz_map_free(&m->interned);
}

const char *
zg_model_intern(struct zg_model *m, const char *ns)
{
	char *s = kz_map_get(&m->interned, ns);

	if (s)
		return s;
	s = strdup(ns);
	if (s == NULL)
		return NULL;
	if (kz_map_put(&m->interned, s, s, NULL)) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Allocate a zeroed object of SIZE bytes whose first members are
 * "char *key; const char *ns; const char *name;" (every keyed kind),
 * with those three set. The key "ns/name" follows the object in the
 * same block (one allocation per object: a cluster has 150,000 Pods),
 * so it goes with the object's own free(). NULL on allocation failure.
 */
struct keyed {
	char *key;
	const char *ns;
	const char *name;
};

#define SAME_HEAD(type) \
	_Static_assert(offsetof(type, key) == offsetof(struct keyed, key) && \
	    offsetof(type, ns) == offsetof(struct keyed, ns) && \
	    offsetof(type, name) == offsetof(struct keyed, name), \
	    #type " must start like struct keyed")
SAME_HEAD(struct zg_service);
SAME_HEAD(struct zg_slice);
SAME_HEAD(struct zg_pod);
SAME_HEAD(struct zg_import);

static void *
keyed_new(struct zg_model *m, size_t size, const char *ns, const char *name)
{
	size_t nl = strlen(ns), ml = strlen(name);
	const char *ins = zg_model_intern(m, ns);
	struct keyed *k;

	if (ins == NULL || nl + ml + 2 > SIZE_MAX - size)
		return NULL;
	k = kz_zalloc(size + nl + ml + 2);
	if (k == NULL)
		return NULL;
	k->key = (char *)k + size;
	memcpy(k->key, ns, nl);
	k->key[nl] = '/';
	memcpy(k->key + nl + 1, name, ml + 1);
	k->ns = ins;
	k->name = k->key + nl + 1;
	return k;
}

struct zg_service *
zg_service_new(struct zg_model *m, const char *ns, const char *name)
{
	return keyed_new(m, sizeof(struct zg_service), ns, name);
}

struct zg_slice *
zg_slice_new(struct zg_model *m, const char *ns, const char *name)
{
	return keyed_new(m, sizeof(struct zg_slice), ns, name);
}

struct zg_pod *
zg_pod_new(struct zg_model *m, const char *ns, const char *name)
{
	return keyed_new(m, sizeof(struct zg_pod), ns, name);
}

struct zg_import *
zg_import_new(struct zg_model *m, const char *ns, const char *name)
{
	return keyed_new(m, sizeof(struct zg_import), ns, name);
}

static void
free_ports(struct zg_port *ports, size_t n)
{
	for (size_t i = 0; ports && i < n; i++)
		free(ports[i].name);
	free(ports);
}

void
zg_service_free(struct zg_service *s)
{
	if (s == NULL)
		return;
	free_ports(s->ports, s->nports);
	free(s->external_name);
	free(s);
}

void
zg_slice_free(struct zg_slice *s)
{
	if (s == NULL)
		return;
	free_ports(s->ports, s->nports);
	free(s->addrs);
	free(s->strings);
	free(s->service);
	free(s->mc_service);
	free(s->mc_cluster);
	free(s);
}

void
zg_import_free(struct zg_import *s)
{
	if (s == NULL)
		return;
	free_ports(s->ports, s->nports);
	free(s);
}

void
zg_pod_free(struct zg_pod *p)
{
	if (p == NULL)
		return;
	free(p);
}

/* --- the change log ------------------------------------------------------ */

void
zg_model_track(struct zg_model *m, bool on)
{
	m->track = on;
}

/*
 * A log longer than this and than half the model says "everything": a
 * first list, a relist after a long outage. Its consumer recomputes the
 * whole model then, at about the cost of the log, and the entries are
 * not kept: freed after the first publish, 150,000 keys left as many
 * holes between the objects decoded beside them.
 */
#define LOG_MIN 4096

static size_t
model_objects(const struct zg_model *m)
{
	size_t n = 0;

	for (int i = 0; i < ZG_KIND_COUNT; i++)
		n += zg_model_count(m, (enum zg_kind)i);
	return n;
}

static void
log_change(struct zg_model *m, enum zg_kind kind, const char *key)
{
	size_t n = strlen(key);
	struct zg_change *c;

	if (!m->track || m->track_rc == KZ_ETOOBIG)
		return;
	if (m->nchanges >= LOG_MIN && m->nchanges >= model_objects(m) / 2) {
		zg_changes_free(m->changes, m->nchanges);
		m->changes = NULL;
		m->nchanges = m->capchanges = 0;
		m->track_rc = KZ_ETOOBIG;
		return;
	}
	if (m->nchanges == m->capchanges) {
		size_t cap = m->capchanges ? m->capchanges * 2 : 64;
		struct zg_change **v = realloc(m->changes, cap * sizeof(*v));
		if (v == NULL)
			goto nomem;
		m->changes = v;
		m->capchanges = cap;
	}
	c = malloc(sizeof(*c) + n + 1);
	if (c == NULL)
		goto nomem;
	c->kind = (uint8_t)kind;
	memcpy(c->key, key, n + 1);
	m->changes[m->nchanges++] = c;
	return;
nomem:
	if (m->track_rc == 0)
		m->track_rc = KZ_ENOMEM;
}

struct zg_change **
zg_model_take_changes(struct zg_model *m, size_t *n, int *rc)
{
	struct zg_change **v = m->changes;

	*n = m->nchanges;
	*rc = m->track_rc;
	m->changes = NULL;
	m->nchanges = m->capchanges = 0;
	m->track_rc = 0;
	return v;
}

void
zg_changes_free(struct zg_change **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* --- equality: what DNS can see of an object --------------------------- */

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Port names: NULL and "" both mean unnamed. */
static bool
same_port_name(const char *a, const char *b)
{
	return same_str(a ? a : "", b ? b : "");
}

static bool
same_ip(const struct zg_ip *a, const struct zg_ip *b)
{
	return a->family == b->family && zg_ip_cmp(a, b) == 0;
}

static bool
same_ports(const struct zg_port *a, const struct zg_port *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].port != b[i].port || a[i].proto != b[i].proto ||
		    !same_port_name(a[i].name, b[i].name))
			return false;
	return true;
}

static bool
same_service(const struct zg_service *a, const struct zg_service *b)
{
	if (a->type != b->type || a->headless != b->headless ||
	    a->nips != b->nips || a->nports != b->nports ||
	    !same_str(a->external_name, b->external_name))
		return false;
	for (uint8_t i = 0; i < a->nips; i++)
		if (!same_ip(&a->ips[i], &b->ips[i]))
			return false;
	return same_ports(a->ports, b->ports, a->nports);
}

static bool
same_slice(const struct zg_slice *a, const struct zg_slice *b)
{
	if (a->addr_type != b->addr_type || a->nports != b->nports ||
	    a->naddrs != b->naddrs || !same_str(a->service, b->service) ||
	    !same_str(a->mc_service, b->mc_service) ||
	    !same_str(a->mc_cluster, b->mc_cluster) ||
	    !same_ports(a->ports, b->ports, a->nports))
		return false;
	for (uint32_t i = 0; i < a->naddrs; i++) {
		const struct zg_epaddr *x = &a->addrs[i], *y = &b->addrs[i];
		if (x->ready != y->ready || !same_ip(&x->ip, &y->ip) ||
		    !same_str(x->hostname, y->hostname) ||
		    !same_str(x->target, y->target))
			return false;
	}
	return true;
}

static bool
same_pod(const struct zg_pod *a, const struct zg_pod *b)
{
	if (a->active != b->active || a->nips != b->nips)
		return false;
	for (uint8_t i = 0; i < a->nips; i++)
		if (!same_ip(&a->ips[i], &b->ips[i]))
			return false;
	return true;
}

static bool
same_import(const struct zg_import *a, const struct zg_import *b)
{
	if (a->type != b->type || a->nips != b->nips ||
	    a->nports != b->nports)
		return false;
	for (uint8_t i = 0; i < a->nips; i++)
		if (!same_ip(&a->ips[i], &b->ips[i]))
			return false;
	return same_ports(a->ports, b->ports, a->nports);
}

static bool
same_object(enum zg_kind kind, const void *a, const void *b)
{
	switch (kind) {
	case ZG_KIND_SERVICE:
		return same_service(a, b);
	case ZG_KIND_SLICE:
		return same_slice(a, b);
	case ZG_KIND_POD:
		return same_pod(a, b);
	case ZG_KIND_IMPORT:
		return same_import(a, b);
	default:
		return true;	/* a Namespace is its name */
	}
}

static int
model_put(struct zg_model *m, enum zg_kind kind, const char *key, void *obj)
{
	void *old = kz_map_get(&m->objects[kind], key);

	/* Nothing DNS can see changed (a status heartbeat, a label edit,
	 * a resourceVersion bump): keep the object, no work at all. */
	if (old && same_object(kind, old, obj)) {
		free_object(kind, obj);
		return KZ_OK;
	}
	if (kz_map_put(&m->objects[kind], key, obj, &old)) {
		free_object(kind, obj);
		return KZ_ENOMEM;
	}
	if (old)
		free_object(kind, old);
	m->generation++;
	log_change(m, kind, key);
	return KZ_OK;
}

int
zg_model_put_service(struct zg_model *m, struct zg_service *s)
{
	return model_put(m, ZG_KIND_SERVICE, s->key, s);
}

int
zg_model_put_slice(struct zg_model *m, struct zg_slice *s)
{
	return model_put(m, ZG_KIND_SLICE, s->key, s);
}

int
zg_model_put_pod(struct zg_model *m, struct zg_pod *p)
{
	return model_put(m, ZG_KIND_POD, p->key, p);
}

static void
pod_copy(struct zg_pod *dst, const struct zg_pod *src)
{
	dst->active = src->active;
	dst->nips = src->nips;
	memcpy(dst->ips, src->ips, sizeof(dst->ips));
}

int
zg_model_set_pod(struct zg_model *m, const char *ns, const char *name,
    const struct zg_pod *p)
{
	size_t nl = strlen(ns), ml = strlen(name);
	struct zg_pod *old = NULL, *n;
	char key[320];

	if (nl + ml + 2 <= sizeof(key)) {
		memcpy(key, ns, nl);
		key[nl] = '/';
		memcpy(key + nl + 1, name, ml + 1);
		old = kz_map_get(&m->objects[ZG_KIND_POD], key);
	}
	if (old != NULL) {
		/* as model_put(): nothing DNS can see changed, no work */
		if (!same_pod(old, p)) {
			pod_copy(old, p);
			m->generation++;
			log_change(m, ZG_KIND_POD, old->key);
		}
		return KZ_OK;
	}
	if ((n = zg_pod_new(m, ns, name)) == NULL)
		return KZ_ENOMEM;
	pod_copy(n, p);
	return zg_model_put_pod(m, n);
}

int
zg_model_put_import(struct zg_model *m, struct zg_import *s)
{
	return model_put(m, ZG_KIND_IMPORT, s->key, s);
}

int
zg_model_put_namespace(struct zg_model *m, const char *name)
{
	struct zg_namespace *n;

	if (kz_map_get(&m->objects[ZG_KIND_NAMESPACE], name))
		return KZ_OK;
	n = malloc(sizeof(*n));
	if (n == NULL)
		return KZ_ENOMEM;
	n->name = zg_model_intern(m, name);
	if (n->name == NULL) {
		free(n);
		return KZ_ENOMEM;
	}
	return model_put(m, ZG_KIND_NAMESPACE, n->name, n);
}

int
zg_model_del(struct zg_model *m, enum zg_kind kind, const char *ns,
    const char *name)
{
	char buf[512];
	const char *key = name;
	void *v;

	if (kind != ZG_KIND_NAMESPACE) {
		int n = snprintf(buf, sizeof(buf), "%s/%s", ns ? ns : "", name);
		if (n < 0 || (size_t)n >= sizeof(buf))
			return 0;	/* longer than any valid key */
		key = buf;
	}
	v = kz_map_del(&m->objects[kind], key);
	if (v == NULL)
		return 0;
	log_change(m, kind, key);
	free_object(kind, v);
	m->generation++;
	return 1;
}

/* Move OBJ (of KIND, from another model) into M, its namespace interned
 * again in M. */
static int
move_object(struct zg_model *m, enum zg_kind kind, void *obj)
{
	struct keyed *k = obj;
	const char *ns;

	if (kind == ZG_KIND_NAMESPACE) {
		const char *name = ((struct zg_namespace *)obj)->name;
		int rc = zg_model_put_namespace(m, name);
		free(obj);
		return rc;
	}
	ns = zg_model_intern(m, k->ns);
	if (ns == NULL) {
		free_object(kind, obj);
		return KZ_ENOMEM;
	}
	k->ns = ns;
	return model_put(m, kind, k->key, obj);
}

int
zg_model_replace(struct zg_model *dst, struct zg_model *src)
{
	int rc = KZ_OK;

	for (int kind = 0; kind < ZG_KIND_COUNT; kind++) {
		struct kz_map *from = &src->objects[kind];
		struct kz_map *to = &dst->objects[kind];
		char **gone = NULL;
		size_t ngone = 0, it = 0;
		const char *key;
		void *v;

		/* What DST has and SRC lacks goes (keys copied first: a
		 * delete frees them). */
		gone = malloc((to->count ? to->count : 1) * sizeof(*gone));
		if (gone == NULL)
			return KZ_ENOMEM;
		while (kz_map_next(to, &it, &key, NULL)) {
			if (kz_map_get(from, key) != NULL)
				continue;
			if ((gone[ngone] = strdup(key)) == NULL)
				rc = KZ_ENOMEM;
			else
				ngone++;
		}
		for (size_t i = 0; i < ngone; i++) {
			void *old = kz_map_del(to, gone[i]);
			if (old) {
				log_change(dst, (enum zg_kind)kind, gone[i]);
				free_object((enum zg_kind)kind, old);
			}
			free(gone[i]);
		}
		free(gone);
		for (it = 0; kz_map_next(from, &it, NULL, &v);)
			if (move_object(dst, (enum zg_kind)kind, v) && rc == 0)
				rc = KZ_ENOMEM;
		kz_map_free(from);	/* every object moved or freed */
	}
	dst->generation++;
	return rc;
}

const struct zg_service *
zg_model_service(const struct zg_model *m, const char *key)
{
	return kz_map_get(&m->objects[ZG_KIND_SERVICE], key);
}

bool
zg_model_has_namespace(const struct zg_model *m, const char *name)
{
	return kz_map_get(&m->objects[ZG_KIND_NAMESPACE], name) != NULL;
}

size_t
zg_model_count(const struct zg_model *m, enum zg_kind kind)
{
	return m->objects[kind].count;
}

/* Rough malloc cost of a block: payload rounded up plus a header. */
static size_t
heap_cost(size_t n)
{
	return n ? ((n + 8 + 15) & ~(size_t)15) : 0;
}

static size_t
ports_bytes(const struct zg_port *p, size_t n)
{
	size_t b = heap_cost(n * sizeof(*p));

	for (size_t i = 0; p && i < n; i++)
		if (p[i].name)
			b += heap_cost(strlen(p[i].name) + 1);
	return b;
}

size_t
zg_model_bytes(const struct zg_model *m)
{
	size_t b = 0, it;
	const char *k;
	void *v;

	for (int i = 0; i < ZG_KIND_COUNT; i++)
		b += m->objects[i].cap * sizeof(struct kz_map_slot);
	b += m->interned.cap * sizeof(struct kz_map_slot);
	for (it = 0; kz_map_next(&m->interned, &it, &k, NULL);)
		b += heap_cost(strlen(k) + 1);
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_SERVICE], &it, &k, &v);) {
		struct zg_service *s = v;
		b += heap_cost(sizeof(*s) + strlen(k) + 1) +
		    ports_bytes(s->ports, s->nports);
		if (s->external_name)
			b += heap_cost(strlen(s->external_name) + 1);
	}
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_SLICE], &it, &k, &v);) {
		struct zg_slice *s = v;
		b += heap_cost(sizeof(*s) + strlen(k) + 1) +
		    ports_bytes(s->ports, s->nports) +
		    heap_cost(s->naddrs * sizeof(*s->addrs));
		if (s->service)
			b += heap_cost(strlen(s->service) + 1);
		if (s->mc_service)
			b += heap_cost(strlen(s->mc_service) + 1) +
			    heap_cost(strlen(s->mc_cluster) + 1);
		/* The string blob's size is not recorded; estimate it. */
		for (uint32_t a = 0; a < s->naddrs; a++) {
			if (s->addrs[a].hostname)
				b += strlen(s->addrs[a].hostname) + 1;
			if (s->addrs[a].target)
				b += strlen(s->addrs[a].target) + 1;
		}
	}
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_POD], &it, &k, NULL);)
		b += heap_cost(sizeof(struct zg_pod) + strlen(k) + 1);
	b += m->objects[ZG_KIND_NAMESPACE].count *
	    heap_cost(sizeof(struct zg_namespace));
	for (it = 0; kz_map_next(&m->objects[ZG_KIND_IMPORT], &it, &k, &v);) {
		struct zg_import *s = v;
		b += heap_cost(sizeof(*s) + strlen(k) + 1) +
		    ports_bytes(s->ports, s->nports);
	}
	return b;
}

int
zg_ip_parse(struct zg_ip *ip, const char *s)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->addr) == 1) {
		ip->family = ZG_IPV4;
		return KZ_OK;
	}
	if (inet_pton(AF_INET6, s, ip->addr) == 1) {
		ip->family = ZG_IPV6;
		return KZ_OK;
	}
	return KZ_EINVAL;
}

/* "a.b.c.d" without printf: this runs for every address rendered. */
static size_t
ipv4_str(const uint8_t *a, char *out)
{
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			out[o++] = '.';
		if (v >= 100)
			out[o++] = (char)('0' + v / 100);
		if (v >= 10)
			out[o++] = (char)('0' + v / 10 % 10);
		out[o++] = (char)('0' + v % 10);
	}
	out[o] = '\0';
	return o;
}

const char *
zg_ip_str(const struct zg_ip *ip, char *out, size_t outsz)
{
	if (ip->family == ZG_IPV4 && outsz >= 16) {
		ipv4_str(ip->addr, out);
		return out;
	}
	if (inet_ntop(ip->family == ZG_IPV4 ? AF_INET : AF_INET6, ip->addr,
	    out, (socklen_t)outsz) == NULL)
		snprintf(out, outsz, "?");
	return out;
}

int
zg_ip_cmp(const struct zg_ip *a, const struct zg_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, a->family == ZG_IPV4 ? 4 : 16);
}
