/*
 * tests/unit/test_model.c -- zonegen/model: keyed objects of every kind,
 * replacement and deletion, the change log, snapshot replacement,
 * interned namespaces and addresses.
 *
 * Objects are built by hand with the constructors, as the decoder and
 * the watch code build them; the model owns every object it is given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/map.h"
#include "zonegen/model.h"

/* --- helpers ------------------------------------------------------------- */

static struct zg_port *
ports_of(const char *name, uint16_t port)
{
	struct zg_port *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->name = name ? strdup(name) : NULL;
	p->port = port;
	p->proto = ZG_TCP;
	return p;
}

/* A ClusterIP Service with one address and one TCP port. */
static struct zg_service *
service(struct zg_model *m, const char *ns, const char *name, const char *ip,
    const char *port_name, uint16_t port)
{
	struct zg_service *s = zg_service_new(m, ns, name);

	assert_non_null(s);
	s->type = ZG_SVC_CLUSTERIP;
	s->nips = 1;
	assert_int_equal(zg_ip_parse(&s->ips[0], ip), 0);
	s->ports = ports_of(port_name, port);
	s->nports = 1;
	return s;
}

/* A slice of Service SVC with one ready endpoint HOST (pod TARGET) at IP. */
static struct zg_slice *
slice(struct zg_model *m, const char *ns, const char *name, const char *svc,
    const char *ip, const char *host, const char *target)
{
	struct zg_slice *s = zg_slice_new(m, ns, name);
	size_t hl = strlen(host), tl = strlen(target);

	assert_non_null(s);
	s->service = strdup(svc);
	s->ports = ports_of("http", 8080);
	s->nports = 1;
	s->addrs = calloc(1, sizeof(*s->addrs));
	s->strings = malloc(hl + tl + 2);
	assert_true(s->service && s->addrs && s->strings);
	memcpy(s->strings, host, hl + 1);
	memcpy(s->strings + hl + 1, target, tl + 1);
	s->naddrs = 1;
	assert_int_equal(zg_ip_parse(&s->addrs[0].ip, ip), 0);
	s->addr_type = s->addrs[0].ip.family == ZG_IPV4 ? ZG_ADDR_IPV4 :
	    ZG_ADDR_IPV6;
	s->addrs[0].ready = true;
	s->addrs[0].hostname = s->strings;
	s->addrs[0].target = s->strings + hl + 1;
	return s;
}

static struct zg_pod *
pod(struct zg_model *m, const char *ns, const char *name, const char *ip)
{
	struct zg_pod *p = zg_pod_new(m, ns, name);

	assert_non_null(p);
	p->active = true;
	p->nips = 1;
	assert_int_equal(zg_ip_parse(&p->ips[0], ip), 0);
	return p;
}

/* A ClusterSetIP import at IP with one named port. */
static struct zg_import *
import(struct zg_model *m, const char *ns, const char *name, const char *ip)
{
	struct zg_import *s = zg_import_new(m, ns, name);

	assert_non_null(s);
	s->type = ZG_IMPORT_CLUSTERSETIP;
	s->nips = 1;
	assert_int_equal(zg_ip_parse(&s->ips[0], ip), 0);
	s->nports = 1;
	s->ports = calloc(1, sizeof(*s->ports));
	s->ports[0].name = strdup("https");
	s->ports[0].port = 443;
	return s;
}

static const struct zg_slice *
get_slice(const struct zg_model *m, const char *key)
{
	return kz_map_get(&m->objects[ZG_KIND_SLICE], key);
}

static const struct zg_pod *
get_pod(const struct zg_model *m, const char *key)
{
	return kz_map_get(&m->objects[ZG_KIND_POD], key);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Take M's change log as text: "Kind key" entries, sorted, joined by
 * ", " ("" when empty). *RC gets the log's status.
 */
static char *
take(struct zg_model *m, int *rc)
{
	struct zg_change **v;
	struct kz_buf b;
	char **s, *out;
	size_t n;
	int lost;

	v = zg_model_take_changes(m, &n, &lost);
	if (rc)
		*rc = lost;
	s = calloc(n ? n : 1, sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]->key) + 32;
		s[i] = malloc(l);
		assert_non_null(s[i]);
		snprintf(s[i], l, "%s %s",
		    zg_kind_name((enum zg_kind)v[i]->kind), v[i]->key);
	}
	zg_changes_free(v, n);
	qsort(s, n, sizeof(*s), cmp_str);
	kz_buf_init(&b, SIZE_MAX / 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(kz_buf_printf(&b, "%s%s", i ? ", " : "",
		    s[i]), 0);
		free(s[i]);
	}
	free(s);
	out = b.len ? kz_buf_steal(&b, NULL) : strdup("");
	kz_buf_free(&b);
	assert_non_null(out);
	return out;
}

#define CHANGES(m, want) do { \
	char *got_ = take(m, NULL); \
	if (strcmp(got_, want) != 0) \
		fail_msg("changes: got '%s', want '%s'", got_, want); \
	free(got_); \
} while (0)

/* --- kinds, constructors, interning --------------------------------------- */

static void
test_kind_names(void **state)
{
	static const char *const names[ZG_KIND_COUNT] = {
		"Service", "EndpointSlice", "Pod", "Namespace", "ServiceImport"
	};

	(void)state;
	for (int k = 0; k < ZG_KIND_COUNT; k++) {
		assert_int_equal(zg_kind_from_name(names[k]), k);
		assert_string_equal(zg_kind_name((enum zg_kind)k), names[k]);
	}
	assert_int_equal(zg_kind_from_name("Deployment"), -1);
	assert_int_equal(zg_kind_from_name("Endpoints"), -1);
	assert_int_equal(zg_kind_from_name("ServiceList"), -1);
	assert_int_equal(zg_kind_from_name(""), -1);
}

static void
test_constructors_and_interning(void **state)
{
	struct zg_model m;
	struct zg_service *s;
	struct zg_slice *sl;
	struct zg_pod *p;
	char ns[16], name[16];
	const char *shop;

	(void)state;
	zg_model_init(&m);
	/* Constructors copy their strings. */
	snprintf(ns, sizeof(ns), "shop");
	snprintf(name, sizeof(name), "web");
	s = zg_service_new(&m, ns, name);
	memset(ns, 'x', sizeof(ns) - 1);
	memset(name, 'x', sizeof(name) - 1);
	assert_non_null(s);
	assert_string_equal(s->key, "shop/web");
	assert_string_equal(s->ns, "shop");
	assert_string_equal(s->name, "web");
	assert_ptr_equal(s->name, s->key + strlen("shop") + 1);
	/* Everything else zero. */
	assert_int_equal(s->type, ZG_SVC_CLUSTERIP);
	assert_false(s->headless);
	assert_int_equal(s->nips, 0);
	assert_int_equal(s->nports, 0);
	assert_null(s->ports);
	assert_null(s->external_name);

	/* One interned copy per namespace, shared by every object. */
	shop = zg_model_intern(&m, "shop");
	assert_non_null(shop);
	assert_ptr_equal(s->ns, shop);
	assert_ptr_equal(zg_model_intern(&m, "shop"), shop);
	assert_true(zg_model_intern(&m, "shop2") != shop);
	sl = zg_slice_new(&m, "shop", "web-abcde");
	p = zg_pod_new(&m, "shop", "web-0");
	assert_true(sl && p);
	assert_ptr_equal(sl->ns, shop);
	assert_ptr_equal(p->ns, shop);
	assert_string_equal(sl->key, "shop/web-abcde");
	assert_string_equal(sl->name, "web-abcde");
	assert_null(sl->service);
	assert_int_equal(sl->naddrs, 0);
	assert_int_equal(sl->nports, 0);
	assert_null(sl->addrs);
	assert_null(sl->strings);
	assert_string_equal(p->key, "shop/web-0");
	assert_string_equal(p->name, "web-0");
	assert_false(p->active);
	assert_int_equal(p->nips, 0);

	/* Built but not put: not in the model. */
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_int_equal(zg_model_count(&m, (enum zg_kind)k), 0);
	zg_service_free(s);
	zg_slice_free(sl);
	zg_pod_free(p);

	/* A pod name may be a 253-character subdomain with dots. */
	{
		char longname[254];
		memset(longname, 'a', 253);
		longname[253] = '\0';
		longname[100] = '.';
		p = zg_pod_new(&m, "kube-system", longname);
		assert_non_null(p);
		assert_string_equal(p->name, longname);
		assert_int_equal(strlen(p->key), strlen("kube-system/") + 253);
		assert_int_equal(zg_model_put_pod(&m, p), 0);
		assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "kube-system",
		    longname), 1);
	}
	zg_model_free(&m);
}

/* --- put, get, delete ----------------------------------------------------- */

static void
test_put_get_each_kind(void **state)
{
	struct zg_model m;
	struct zg_service *s;
	struct zg_slice *sl;
	struct zg_pod *p;
	char ns[16];

	(void)state;
	zg_model_init(&m);
	s = service(&m, "shop", "web", "10.96.0.10", "http", 80);
	sl = slice(&m, "shop", "web-abcde", "web", "10.244.1.5", "web-0",
	    "web-0");
	p = pod(&m, "shop", "web-0", "10.244.1.5");
	assert_int_equal(zg_model_put_service(&m, s), 0);
	assert_int_equal(zg_model_put_slice(&m, sl), 0);
	assert_int_equal(zg_model_put_pod(&m, p), 0);
	snprintf(ns, sizeof(ns), "shop");
	assert_int_equal(zg_model_put_namespace(&m, ns), 0);
	memset(ns, 'x', sizeof(ns) - 1);	/* the name was copied */
	assert_int_equal(zg_model_put_import(&m, import(&m, "shop", "web",
	    "10.42.0.1")), 0);

	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_int_equal(zg_model_count(&m, (enum zg_kind)k), 1);
	assert_ptr_equal(zg_model_service(&m, "shop/web"), s);
	assert_ptr_equal(get_slice(&m, "shop/web-abcde"), sl);
	assert_ptr_equal(get_pod(&m, "shop/web-0"), p);
	assert_true(zg_model_has_namespace(&m, "shop"));

	/* Keys are exact: namespace and name both count. */
	assert_null(zg_model_service(&m, "web"));
	assert_null(zg_model_service(&m, "shop/web-0"));
	assert_null(zg_model_service(&m, "other/web"));
	assert_null(zg_model_service(&m, "shop/Web"));
	assert_null(get_pod(&m, "shop/web"));
	assert_false(zg_model_has_namespace(&m, "shop/web"));
	assert_false(zg_model_has_namespace(&m, "other"));

	/* The same name in another namespace, or of another kind, is
	 * another object. */
	assert_int_equal(zg_model_put_service(&m, service(&m, "other", "web",
	    "10.96.0.11", "http", 80)), 0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "shop", "web",
	    "10.244.1.6")), 0);
	assert_int_equal(zg_model_count(&m, ZG_KIND_SERVICE), 2);
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 2);
	assert_ptr_equal(zg_model_service(&m, "shop/web"), s);
	assert_string_equal(zg_model_service(&m, "other/web")->ns, "other");
	zg_model_free(&m);
}

static void
test_delete_each_kind(void **state)
{
	struct zg_model m;

	(void)state;
	zg_model_init(&m);
	assert_int_equal(zg_model_put_service(&m, service(&m, "shop", "web",
	    "10.96.0.10", "http", 80)), 0);
	assert_int_equal(zg_model_put_slice(&m, slice(&m, "shop", "web-abcde",
	    "web", "10.244.1.5", "web-0", "web-0")), 0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "shop", "web-0",
	    "10.244.1.5")), 0);
	assert_int_equal(zg_model_put_namespace(&m, "shop"), 0);
	zg_model_track(&m, true);

	/* Absent: nothing removed, nothing logged. */
	assert_int_equal(zg_model_del(&m, ZG_KIND_SERVICE, "other", "web"), 0);
	assert_int_equal(zg_model_del(&m, ZG_KIND_SERVICE, "shop", "db"), 0);
	assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "shop", "web"), 0);
	assert_int_equal(zg_model_del(&m, ZG_KIND_NAMESPACE, NULL, "other"),
	    0);
	CHANGES(&m, "");

	assert_int_equal(zg_model_del(&m, ZG_KIND_SERVICE, "shop", "web"), 1);
	assert_int_equal(zg_model_del(&m, ZG_KIND_SLICE, "shop", "web-abcde"),
	    1);
	assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "shop", "web-0"), 1);
	assert_int_equal(zg_model_del(&m, ZG_KIND_NAMESPACE, NULL, "shop"), 1);
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_int_equal(zg_model_count(&m, (enum zg_kind)k), 0);
	assert_null(zg_model_service(&m, "shop/web"));
	assert_null(get_slice(&m, "shop/web-abcde"));
	assert_null(get_pod(&m, "shop/web-0"));
	assert_false(zg_model_has_namespace(&m, "shop"));
	CHANGES(&m, "EndpointSlice shop/web-abcde, Namespace shop, "
	    "Pod shop/web-0, Service shop/web");

	/* A second delete finds nothing. */
	assert_int_equal(zg_model_del(&m, ZG_KIND_SERVICE, "shop", "web"), 0);
	assert_int_equal(zg_model_del(&m, ZG_KIND_NAMESPACE, NULL, "shop"), 0);
	CHANGES(&m, "");
	/* A key longer than any valid one is simply absent. */
	{
		char big[700];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "shop", big), 0);
	}
	zg_model_free(&m);
}

/* A Namespace goes alone: its objects stay, their namespace string too. */
static void
test_namespace_deletion(void **state)
{
	struct zg_model m;
	const struct zg_service *s;

	(void)state;
	zg_model_init(&m);
	assert_int_equal(zg_model_put_namespace(&m, "shop"), 0);
	assert_int_equal(zg_model_put_namespace(&m, "kube-system"), 0);
	assert_int_equal(zg_model_put_service(&m, service(&m, "shop", "web",
	    "10.96.0.10", "http", 80)), 0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "shop", "web-0",
	    "10.244.1.5")), 0);
	zg_model_track(&m, true);

	assert_int_equal(zg_model_del(&m, ZG_KIND_NAMESPACE, NULL, "shop"), 1);
	CHANGES(&m, "Namespace shop");
	assert_false(zg_model_has_namespace(&m, "shop"));
	assert_true(zg_model_has_namespace(&m, "kube-system"));
	assert_int_equal(zg_model_count(&m, ZG_KIND_NAMESPACE), 1);
	s = zg_model_service(&m, "shop/web");
	assert_non_null(s);
	assert_string_equal(s->ns, "shop");
	assert_ptr_equal(s->ns, zg_model_intern(&m, "shop"));
	assert_non_null(get_pod(&m, "shop/web-0"));

	/* It can come back. */
	assert_int_equal(zg_model_put_namespace(&m, "shop"), 0);
	CHANGES(&m, "Namespace shop");
	assert_true(zg_model_has_namespace(&m, "shop"));
	zg_model_free(&m);
}

/* --- replacement and the change log -------------------------------------- */

static void
test_put_replaces(void **state)
{
	struct zg_model m;
	struct zg_service *s1, *s2;
	struct zg_pod *p2;
	char text[64];

	(void)state;
	zg_model_init(&m);
	zg_model_track(&m, true);
	s1 = service(&m, "shop", "web", "10.96.0.10", "http", 80);
	assert_int_equal(zg_model_put_service(&m, s1), 0);
	CHANGES(&m, "Service shop/web");
	s2 = service(&m, "shop", "web", "10.96.0.20", "http", 80);
	assert_int_equal(zg_model_put_service(&m, s2), 0);
	CHANGES(&m, "Service shop/web");
	assert_int_equal(zg_model_count(&m, ZG_KIND_SERVICE), 1);
	assert_ptr_equal(zg_model_service(&m, "shop/web"), s2);
	assert_string_equal(zg_ip_str(&zg_model_service(&m, "shop/web")->ips[0],
	    text, sizeof(text)), "10.96.0.20");

	/* Last one wins, whatever came before. */
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.1")),
	    0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.2")),
	    0);
	p2 = pod(&m, "a", "p", "10.1.0.3");
	assert_int_equal(zg_model_put_pod(&m, p2), 0);
	assert_ptr_equal(get_pod(&m, "a/p"), p2);
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 1);
	/* Each put that changed something is logged; one key, three times. */
	{
		size_t n;
		int rc;
		struct zg_change **v = zg_model_take_changes(&m, &n, &rc);
		assert_int_equal(n, 3);
		assert_int_equal(rc, 0);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(v[i]->kind, ZG_KIND_POD);
			assert_string_equal(v[i]->key, "a/p");
		}
		zg_changes_free(v, n);
	}
	zg_model_free(&m);
}

/* zg_model_set_pod: a known Pod updated in place, a new one added. */
static void
test_set_pod(void **state)
{
	struct zg_pod p = { .active = true, .nips = 1 };
	const struct zg_pod *got;
	char longname[400];
	struct zg_model m;

	(void)state;
	zg_model_init(&m);
	zg_model_track(&m, true);
	assert_int_equal(zg_ip_parse(&p.ips[0], "10.1.0.1"), 0);
	assert_int_equal(zg_model_set_pod(&m, "a", "p", &p), 0);
	CHANGES(&m, "Pod a/p");
	got = get_pod(&m, "a/p");
	assert_non_null(got);
	assert_string_equal(got->ns, "a");
	assert_string_equal(got->name, "p");
	assert_true(got->active);
	assert_int_equal(got->nips, 1);

	/* the same content: no change */
	assert_int_equal(zg_model_set_pod(&m, "a", "p", &p), 0);
	CHANGES(&m, "");
	/* new content: the same object, changed and logged */
	assert_int_equal(zg_ip_parse(&p.ips[1], "fd00::1"), 0);
	p.nips = 2;
	p.active = false;
	assert_int_equal(zg_model_set_pod(&m, "a", "p", &p), 0);
	CHANGES(&m, "Pod a/p");
	assert_ptr_equal(get_pod(&m, "a/p"), got);
	assert_false(got->active);
	assert_int_equal(got->nips, 2);
	assert_int_equal(zg_ip_cmp(&got->ips[1], &p.ips[1]), 0);

	/* a key longer than the stack copy goes the allocating way */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(zg_model_set_pod(&m, "a", longname, &p), 0);
	assert_int_equal(zg_model_set_pod(&m, "a", longname, &p), 0);
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 2);
	zg_model_free(&m);
}

/* A put of identical content is no change: the old object stays. */
static void
test_identical_put_is_noop(void **state)
{
	struct zg_model m;
	struct zg_service *s;
	struct zg_slice *sl;
	struct zg_pod *p;
	unsigned long gen;

	(void)state;
	zg_model_init(&m);
	zg_model_track(&m, true);
	s = service(&m, "shop", "web", "10.96.0.10", "http", 80);
	sl = slice(&m, "shop", "web-abcde", "web", "10.244.1.5", "web-0",
	    "web-0");
	p = pod(&m, "shop", "web-0", "10.244.1.5");
	assert_int_equal(zg_model_put_service(&m, s), 0);
	assert_int_equal(zg_model_put_slice(&m, sl), 0);
	assert_int_equal(zg_model_put_pod(&m, p), 0);
	assert_int_equal(zg_model_put_namespace(&m, "shop"), 0);
	assert_int_equal(zg_model_put_import(&m, import(&m, "shop", "web",
	    "10.42.0.1")), 0);
	CHANGES(&m, "EndpointSlice shop/web-abcde, Namespace shop, "
	    "Pod shop/web-0, Service shop/web, ServiceImport shop/web");
	gen = m.generation;

	/* New objects, same content (their strings elsewhere). */
	assert_int_equal(zg_model_put_service(&m, service(&m, "shop", "web",
	    "10.96.0.10", "http", 80)), 0);
	assert_int_equal(zg_model_put_slice(&m, slice(&m, "shop", "web-abcde",
	    "web", "10.244.1.5", "web-0", "web-0")), 0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "shop", "web-0",
	    "10.244.1.5")), 0);
	assert_int_equal(zg_model_put_namespace(&m, "shop"), 0);
	assert_int_equal(zg_model_put_import(&m, import(&m, "shop", "web",
	    "10.42.0.1")), 0);
	CHANGES(&m, "");
	assert_true(m.generation == gen);
	assert_ptr_equal(zg_model_service(&m, "shop/web"), s);
	assert_ptr_equal(get_slice(&m, "shop/web-abcde"), sl);
	assert_ptr_equal(get_pod(&m, "shop/web-0"), p);
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_int_equal(zg_model_count(&m, (enum zg_kind)k), 1);
	zg_model_free(&m);
}

/* Change one thing DNS can see in S (WHICH picks it); false past the end. */
static bool
change_service(struct zg_service *s, int which)
{
	switch (which) {
	case 0: s->type = ZG_SVC_NODEPORT; break;
	case 1: s->headless = true; s->nips = 0; break;
	case 2: s->ips[0].addr[3]++; break;
	case 3: assert_int_equal(zg_ip_parse(&s->ips[1], "fd00::10"), 0);
		s->nips = 2; break;
	case 4: s->ports[0].port = 8080; break;
	case 5: s->ports[0].proto = ZG_UDP; break;
	case 6: free(s->ports[0].name); s->ports[0].name = strdup("https");
		break;
	case 7: free(s->ports[0].name); s->ports[0].name = NULL; break;
	case 8: s->type = ZG_SVC_EXTERNALNAME; s->nips = 0;
		s->external_name = strdup("db.example.com"); break;
	case 9: {
		struct zg_port *p = realloc(s->ports, 2 * sizeof(*p));
		assert_non_null(p);
		s->ports = p;
		p[1] = p[0];
		p[1].name = strdup("dns");
		p[1].port = 53;
		s->nports = 2;
		break;
	}
	case 10: free(s->ports[0].name); s->ports[0].name = NULL;
		s->nports = 0; break;
	default: return false;
	}
	return true;
}

static bool
change_slice(struct zg_slice *s, int which)
{
	switch (which) {
	case 0: free(s->service); s->service = strdup("db"); break;
	case 1: free(s->service); s->service = NULL; break;
	case 2: s->addrs[0].ready = false; break;
	case 3: s->addrs[0].ip.addr[3]++; break;
	case 4: s->addrs[0].hostname = NULL; break;
	case 5: s->addrs[0].hostname = s->addrs[0].target; break;
	case 6: s->addrs[0].target = NULL; break;
	case 7: s->addrs[0].target = s->addrs[0].hostname + 1; break;
	case 8: s->ports[0].port = 9090; break;
	case 9: s->ports[0].proto = ZG_SCTP; break;
	case 10: free(s->ports[0].name); s->ports[0].name = strdup("metrics");
		break;
	case 11: s->addr_type = ZG_ADDR_FQDN; break;
	case 12: {
		struct zg_epaddr *a = realloc(s->addrs, 2 * sizeof(*a));
		assert_non_null(a);
		s->addrs = a;
		a[1] = a[0];
		a[1].ip.addr[3]++;
		s->naddrs = 2;
		break;
	}
	case 13: s->naddrs = 0; break;
	default: return false;
	}
	return true;
}

static bool
change_pod(struct zg_pod *p, int which)
{
	switch (which) {
	case 0: p->active = false; break;
	case 1: p->ips[0].addr[3]++; break;
	case 2: assert_int_equal(zg_ip_parse(&p->ips[1], "fd00::5"), 0);
		p->nips = 2; break;
	case 3: p->nips = 0; break;
	default: return false;
	}
	return true;
}

/* Every field DNS can see makes a put a change, logged once. */
static void
test_visible_differences_logged(void **state)
{
	struct zg_model m;
	int which;

	(void)state;
	for (which = 0;; which++) {
		struct zg_service *s;
		zg_model_init(&m);
		zg_model_track(&m, true);
		assert_int_equal(zg_model_put_service(&m, service(&m, "shop",
		    "web", "10.96.0.10", "http", 80)), 0);
		CHANGES(&m, "Service shop/web");
		s = service(&m, "shop", "web", "10.96.0.10", "http", 80);
		if (!change_service(s, which)) {
			zg_service_free(s);
			zg_model_free(&m);
			break;
		}
		assert_int_equal(zg_model_put_service(&m, s), 0);
		if (zg_model_service(&m, "shop/web") != s)
			fail_msg("service change %d not applied", which);
		CHANGES(&m, "Service shop/web");
		zg_model_free(&m);
	}
	assert_int_equal(which, 11);
	for (which = 0;; which++) {
		struct zg_slice *s;
		zg_model_init(&m);
		zg_model_track(&m, true);
		assert_int_equal(zg_model_put_slice(&m, slice(&m, "shop", "w-1",
		    "web", "10.244.1.5", "web-0", "web-0x")), 0);
		CHANGES(&m, "EndpointSlice shop/w-1");
		s = slice(&m, "shop", "w-1", "web", "10.244.1.5", "web-0",
		    "web-0x");
		if (!change_slice(s, which)) {
			zg_slice_free(s);
			zg_model_free(&m);
			break;
		}
		assert_int_equal(zg_model_put_slice(&m, s), 0);
		if (get_slice(&m, "shop/w-1") != s)
			fail_msg("slice change %d not applied", which);
		CHANGES(&m, "EndpointSlice shop/w-1");
		zg_model_free(&m);
	}
	assert_int_equal(which, 14);
	for (which = 0;; which++) {
		struct zg_pod *p;
		zg_model_init(&m);
		zg_model_track(&m, true);
		assert_int_equal(zg_model_put_pod(&m, pod(&m, "shop", "web-0",
		    "10.244.1.5")), 0);
		CHANGES(&m, "Pod shop/web-0");
		p = pod(&m, "shop", "web-0", "10.244.1.5");
		if (!change_pod(p, which)) {
			zg_pod_free(p);
			zg_model_free(&m);
			break;
		}
		assert_int_equal(zg_model_put_pod(&m, p), 0);
		if (get_pod(&m, "shop/web-0") != p)
			fail_msg("pod change %d not applied", which);
		CHANGES(&m, "Pod shop/web-0");
		zg_model_free(&m);
	}
	assert_int_equal(which, 4);
}

/* An unnamed port is NULL or "": the two are the same content. */
static void
test_unnamed_port_forms_are_equal(void **state)
{
	struct zg_model m;
	struct zg_service *s;
	struct zg_slice *sl;

	(void)state;
	zg_model_init(&m);
	zg_model_track(&m, true);
	s = service(&m, "shop", "web", "10.96.0.10", NULL, 80);
	assert_int_equal(zg_model_put_service(&m, s), 0);
	sl = slice(&m, "shop", "w-1", "web", "10.244.1.5", "web-0", "web-0");
	free(sl->ports[0].name);
	sl->ports[0].name = strdup("");
	assert_int_equal(zg_model_put_slice(&m, sl), 0);
	CHANGES(&m, "EndpointSlice shop/w-1, Service shop/web");

	assert_int_equal(zg_model_put_service(&m, service(&m, "shop", "web",
	    "10.96.0.10", "", 80)), 0);
	{
		struct zg_slice *again = slice(&m, "shop", "w-1", "web",
		    "10.244.1.5", "web-0", "web-0");
		free(again->ports[0].name);
		again->ports[0].name = NULL;
		assert_int_equal(zg_model_put_slice(&m, again), 0);
	}
	CHANGES(&m, "");
	assert_ptr_equal(zg_model_service(&m, "shop/web"), s);
	assert_ptr_equal(get_slice(&m, "shop/w-1"), sl);
	zg_model_free(&m);
}

static void
test_clear_kind(void **state)
{
	struct zg_model m;

	(void)state;
	zg_model_init(&m);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p1", "10.1.0.1")),
	    0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p2", "10.1.0.2")),
	    0);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "b", "p3", "10.1.0.3")),
	    0);
	assert_int_equal(zg_model_put_service(&m, service(&m, "a", "s",
	    "10.96.0.1", "http", 80)), 0);
	zg_model_track(&m, true);

	zg_model_clear_kind(&m, ZG_KIND_POD);
	CHANGES(&m, "Pod a/p1, Pod a/p2, Pod b/p3");
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 0);
	assert_null(get_pod(&m, "a/p1"));
	assert_int_equal(zg_model_count(&m, ZG_KIND_SERVICE), 1);
	assert_non_null(zg_model_service(&m, "a/s"));
	/* Nothing to clear: nothing logged. */
	zg_model_clear_kind(&m, ZG_KIND_NAMESPACE);
	zg_model_clear_kind(&m, ZG_KIND_POD);
	CHANGES(&m, "");
	/* The kind is usable again (a relist follows a clear). */
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p1", "10.1.0.1")),
	    0);
	CHANGES(&m, "Pod a/p1");
	assert_non_null(get_pod(&m, "a/p1"));
	zg_model_free(&m);
}

static void
test_tracking_and_take(void **state)
{
	struct zg_model m;
	struct zg_change **v;
	size_t n = 99;
	int rc = 99;

	(void)state;
	zg_model_init(&m);
	/* Off by default: nothing is kept. */
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.1")),
	    0);
	assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "a", "p"), 1);
	v = zg_model_take_changes(&m, &n, &rc);
	assert_int_equal(n, 0);
	assert_int_equal(rc, 0);
	zg_changes_free(v, n);

	zg_model_track(&m, true);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.1")),
	    0);
	assert_int_equal(zg_model_put_namespace(&m, "a"), 0);
	v = zg_model_take_changes(&m, &n, &rc);
	assert_int_equal(n, 2);
	assert_int_equal(rc, 0);
	assert_int_equal(v[0]->kind, ZG_KIND_POD);
	assert_string_equal(v[0]->key, "a/p");
	assert_int_equal(v[1]->kind, ZG_KIND_NAMESPACE);
	assert_string_equal(v[1]->key, "a");	/* the name alone */
	zg_changes_free(v, n);
	/* Taking empties the log. */
	v = zg_model_take_changes(&m, &n, &rc);
	assert_int_equal(n, 0);
	zg_changes_free(v, n);
	zg_changes_free(NULL, 0);

	/* Off again: later changes are not kept. */
	zg_model_track(&m, false);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.2")),
	    0);
	CHANGES(&m, "");

	/* Entries left in the log are freed with the model. */
	zg_model_track(&m, true);
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "q", "10.1.0.3")),
	    0);
	zg_model_free(&m);
}

static void
test_log_of_everything_is_dropped(void **state)
{
	struct zg_model m;
	struct zg_change **v;
	char name[32];
	size_t n;
	int rc;

	(void)state;
	zg_model_init(&m);
	zg_model_track(&m, true);
	/* A first list: a log as long as the model says "everything". */
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", name,
		    "10.1.0.1")), 0);
	}
	v = zg_model_take_changes(&m, &n, &rc);
	assert_int_equal(rc, KZ_ETOOBIG);
	assert_int_equal(n, 0);
	zg_changes_free(v, n);
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 5000);
	/* Then changes are kept again, one entry each. */
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p1", "10.1.0.2")),
	    0);
	CHANGES(&m, "Pod a/p1");
	/* A log longer than 4,096 entries but not half the model stays. */
	for (int i = 0; i < 4200; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		assert_int_equal(zg_model_put_pod(&m, pod(&m, "b", name,
		    "10.1.0.1")), 0);
	}
	v = zg_model_take_changes(&m, &n, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(n, 4200);
	zg_changes_free(v, n);
	/* Deleting most of the model is everything again. */
	for (int i = 0; i < 8000; i++) {
		snprintf(name, sizeof(name), "%c%d", i < 4200 ? 'q' : 'p',
		    i < 4200 ? i : i - 4200);
		assert_int_equal(zg_model_del(&m, ZG_KIND_POD,
		    i < 4200 ? "b" : "a", name), 1);
	}
	v = zg_model_take_changes(&m, &n, &rc);
	assert_int_equal(rc, KZ_ETOOBIG);
	assert_int_equal(n, 0);
	zg_changes_free(v, n);
	zg_model_free(&m);
}

static void
test_generation(void **state)
{
	struct zg_model m;
	unsigned long g;

	(void)state;
	zg_model_init(&m);
	g = m.generation;
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.1")),
	    0);
	assert_true(m.generation > g);
	g = m.generation;
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.1")),
	    0);
	assert_true(m.generation == g);		/* identical */
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.2")),
	    0);
	assert_true(m.generation > g);
	g = m.generation;
	assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "a", "x"), 0);
	assert_true(m.generation == g);		/* nothing deleted */
	assert_int_equal(zg_model_put_namespace(&m, "a"), 0);
	assert_true(m.generation > g);
	g = m.generation;
	assert_int_equal(zg_model_put_namespace(&m, "a"), 0);
	assert_true(m.generation == g);
	assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "a", "p"), 1);
	assert_true(m.generation > g);
	g = m.generation;
	assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", "p", "10.1.0.1")),
	    0);
	zg_model_clear_kind(&m, ZG_KIND_POD);
	assert_true(m.generation > g);
	zg_model_free(&m);
}

/* --- snapshot replacement ------------------------------------------------- */

/* The objects of one snapshot; VARIANT 1 differs from 0 in places. */
static void
fill(struct zg_model *m, int variant)
{
	assert_int_equal(zg_model_put_service(m, service(m, "shop", "a",
	    "10.96.0.1", "http", 80)), 0);
	assert_int_equal(zg_model_put_service(m, service(m, "shop", "b",
	    variant ? "10.96.0.3" : "10.96.0.2", "http", 80)), 0);
	assert_int_equal(zg_model_put_slice(m, slice(m, "shop", "a-1", "a",
	    "10.244.0.1", "a-0", "a-0")), 0);
	assert_int_equal(zg_model_put_namespace(m, "shop"), 0);
	if (variant == 0) {
		assert_int_equal(zg_model_put_pod(m, pod(m, "shop", "p",
		    "10.244.0.9")), 0);
		assert_int_equal(zg_model_put_namespace(m, "gone"), 0);
	} else {
		assert_int_equal(zg_model_put_service(m, service(m, "other",
		    "c", "10.96.0.4", "http", 80)), 0);
		assert_int_equal(zg_model_put_slice(m, slice(m, "other", "c-1",
		    "c", "10.244.0.2", "c-0", "c-0")), 0);
		assert_int_equal(zg_model_put_namespace(m, "new"), 0);
	}
}

static void
test_replace_logs_only_differences(void **state)
{
	struct zg_model dst, src;
	const struct zg_service *a, *b, *c;
	const struct zg_slice *sl;
	char text[64];

	(void)state;
	zg_model_init(&dst);
	fill(&dst, 0);
	zg_model_track(&dst, true);
	a = zg_model_service(&dst, "shop/a");
	assert_non_null(a);

	zg_model_init(&src);
	fill(&src, 1);
	assert_int_equal(zg_model_replace(&dst, &src), 0);
	/* Changed, added and removed objects; not shop/a, shop/a-1 and
	 * Namespace shop, which are the same. */
	CHANGES(&dst, "EndpointSlice other/c-1, Namespace gone, "
	    "Namespace new, Pod shop/p, Service other/c, Service shop/b");
	/* SRC is left empty. */
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_int_equal(zg_model_count(&src, (enum zg_kind)k), 0);
	/* The unchanged object is the one DST had. */
	assert_ptr_equal(zg_model_service(&dst, "shop/a"), a);
	zg_model_free(&src);	/* DST must not depend on SRC any more */

	assert_int_equal(zg_model_count(&dst, ZG_KIND_SERVICE), 3);
	assert_int_equal(zg_model_count(&dst, ZG_KIND_SLICE), 2);
	assert_int_equal(zg_model_count(&dst, ZG_KIND_POD), 0);
	assert_int_equal(zg_model_count(&dst, ZG_KIND_NAMESPACE), 2);
	b = zg_model_service(&dst, "shop/b");
	assert_string_equal(zg_ip_str(&b->ips[0], text, sizeof(text)),
	    "10.96.0.3");
	c = zg_model_service(&dst, "other/c");
	assert_non_null(c);
	assert_string_equal(c->ns, "other");
	assert_string_equal(c->name, "c");
	assert_ptr_equal(c->ns, zg_model_intern(&dst, "other"));
	assert_ptr_equal(b->ns, zg_model_intern(&dst, "shop"));
	sl = get_slice(&dst, "other/c-1");
	assert_non_null(sl);
	assert_ptr_equal(sl->ns, c->ns);
	assert_string_equal(sl->addrs[0].hostname, "c-0");
	assert_true(zg_model_has_namespace(&dst, "new"));
	assert_true(zg_model_has_namespace(&dst, "shop"));
	assert_false(zg_model_has_namespace(&dst, "gone"));
	assert_null(get_pod(&dst, "shop/p"));

	/* The same snapshot again: nothing to log. */
	zg_model_init(&src);
	fill(&src, 1);
	assert_int_equal(zg_model_replace(&dst, &src), 0);
	CHANGES(&dst, "");
	zg_model_free(&src);

	/* An empty snapshot: everything goes, every object logged. */
	zg_model_init(&src);
	assert_int_equal(zg_model_replace(&dst, &src), 0);
	CHANGES(&dst, "EndpointSlice other/c-1, EndpointSlice shop/a-1, "
	    "Namespace new, Namespace shop, Service other/c, Service shop/a, "
	    "Service shop/b");
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		assert_int_equal(zg_model_count(&dst, (enum zg_kind)k), 0);
	zg_model_free(&src);
	zg_model_free(&dst);
}

/* Without tracking, a replace changes the objects and logs nothing. */
static void
test_replace_untracked(void **state)
{
	struct zg_model dst, src;

	(void)state;
	zg_model_init(&dst);
	fill(&dst, 0);
	zg_model_init(&src);
	fill(&src, 1);
	assert_int_equal(zg_model_replace(&dst, &src), 0);
	zg_model_free(&src);
	CHANGES(&dst, "");
	assert_non_null(zg_model_service(&dst, "other/c"));
	assert_int_equal(zg_model_count(&dst, ZG_KIND_POD), 0);
	zg_model_free(&dst);
}

/* --- sizes ---------------------------------------------------------------- */

static void
test_count_and_bytes(void **state)
{
	struct zg_model m;
	size_t empty, full;

	(void)state;
	zg_model_init(&m);
	empty = zg_model_bytes(&m);
	for (int i = 0; i < 100; i++) {
		char name[16], ip[32];
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(ip, sizeof(ip), "10.1.0.%d", i);
		assert_int_equal(zg_model_put_pod(&m, pod(&m, "a", name, ip)),
		    0);
	}
	assert_int_equal(zg_model_put_service(&m, service(&m, "a", "s",
	    "10.96.0.1", "http", 80)), 0);
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 100);
	assert_int_equal(zg_model_count(&m, ZG_KIND_SERVICE), 1);
	assert_int_equal(zg_model_count(&m, ZG_KIND_SLICE), 0);
	full = zg_model_bytes(&m);
	/* At least the objects themselves and their keys. */
	assert_true(full >= empty + 100 * (sizeof(struct zg_pod) + 4) +
	    sizeof(struct zg_service));
	/* Fewer objects, fewer bytes. */
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(zg_model_del(&m, ZG_KIND_POD, "a", name), 1);
	}
	assert_int_equal(zg_model_count(&m, ZG_KIND_POD), 50);
	assert_true(zg_model_bytes(&m) < full);
	zg_model_free(&m);
}

/* --- addresses ------------------------------------------------------------ */

static void
test_ip_parse(void **state)
{
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.1/32", " 10.0.0.1",
		"10.0.0.1 ", "10.0.0.1.1", "fd00::g", "1:2:3:4:5:6:7:8:9",
		"fd00:::1", "fd00::1::2", "None", "localhost", "[::1]",
	};
	struct zg_ip ip;

	(void)state;
	assert_int_equal(zg_ip_parse(&ip, "10.244.1.5"), 0);
	assert_int_equal(ip.family, ZG_IPV4);
	assert_int_equal(ip.addr[0], 10);
	assert_int_equal(ip.addr[1], 244);
	assert_int_equal(ip.addr[2], 1);
	assert_int_equal(ip.addr[3], 5);
	assert_int_equal(zg_ip_parse(&ip, "fd00::1"), 0);
	assert_int_equal(ip.family, ZG_IPV6);
	assert_int_equal(ip.addr[0], 0xfd);
	assert_int_equal(ip.addr[1], 0);
	assert_int_equal(ip.addr[15], 1);
	assert_int_equal(zg_ip_parse(&ip, "::ffff:10.0.0.1"), 0);
	assert_int_equal(ip.family, ZG_IPV6);	/* mapped stays IPv6 */
	assert_int_equal(ip.addr[10], 0xff);
	assert_int_equal(ip.addr[12], 10);
	assert_int_equal(zg_ip_parse(&ip, "FD00:0:0:0:0:0:0:ABCD"), 0);
	assert_int_equal(ip.addr[14], 0xab);
	assert_int_equal(ip.addr[15], 0xcd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (zg_ip_parse(&ip, bad[i]) != KZ_EINVAL)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_ip_str(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "10.0.0.1", "10.0.0.1" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "192.168.100.9", "192.168.100.9" },
		/* RFC 5952: lower case, no leading zeros ... */
		{ "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		/* ... the longest run of zero fields compressed ... */
		{ "2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::" },
		/* ... the first of equal runs ... */
		{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
		/* ... and never a single zero field. */
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "fd00::", "fd00::" },
		{ "fd00:10:244:1:0:0:0:0", "fd00:10:244:1::" },
		/* IPv4-mapped addresses keep the dotted tail (section 5). */
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
	};
	char out[64];
	struct zg_ip ip, back;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(zg_ip_parse(&ip, cases[i].in), 0);
		assert_ptr_equal(zg_ip_str(&ip, out, sizeof(out)), out);
		assert_string_equal(out, cases[i].out);
		/* The text reads back as the same address. */
		assert_int_equal(zg_ip_parse(&back, out), 0);
		assert_int_equal(zg_ip_cmp(&ip, &back), 0);
	}
	/* 46 bytes are enough for the longest form. */
	assert_int_equal(zg_ip_parse(&ip,
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"), 0);
	zg_ip_str(&ip, out, 46);
	assert_string_equal(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void
test_ip_cmp(void **state)
{
	/* In order: IPv4 before IPv6, then by the address bytes. */
	static const char *const order[] = {
		"0.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.9", "10.0.0.10",
		"10.0.1.0", "10.244.0.1", "255.255.255.255",
		"::", "::1", "::ffff:10.0.0.1", "2001:db8::1", "fd00::",
		"fd00::1", "fd00:1::",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	size_t n = sizeof(order) / sizeof(order[0]);
	struct zg_ip a, b;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(zg_ip_parse(&a, order[i]), 0);
		assert_int_equal(zg_ip_cmp(&a, &a), 0);
		for (size_t j = i + 1; j < n; j++) {
			assert_int_equal(zg_ip_parse(&b, order[j]), 0);
			if (zg_ip_cmp(&a, &b) >= 0 || zg_ip_cmp(&b, &a) <= 0)
				fail_msg("%s should sort before %s", order[i],
				    order[j]);
		}
	}
	/* Equal addresses however written. */
	assert_int_equal(zg_ip_parse(&a, "FD00:0::0001"), 0);
	assert_int_equal(zg_ip_parse(&b, "fd00::1"), 0);
	assert_int_equal(zg_ip_cmp(&a, &b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_constructors_and_interning),
		cmocka_unit_test(test_put_get_each_kind),
		cmocka_unit_test(test_delete_each_kind),
		cmocka_unit_test(test_namespace_deletion),
		cmocka_unit_test(test_put_replaces),
		cmocka_unit_test(test_set_pod),
		cmocka_unit_test(test_identical_put_is_noop),
		cmocka_unit_test(test_visible_differences_logged),
		cmocka_unit_test(test_unnamed_port_forms_are_equal),
		cmocka_unit_test(test_clear_kind),
		cmocka_unit_test(test_tracking_and_take),
		cmocka_unit_test(test_log_of_everything_is_dropped),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_replace_logs_only_differences),
		cmocka_unit_test(test_replace_untracked),
		cmocka_unit_test(test_count_and_bytes),
		cmocka_unit_test(test_ip_parse),
		cmocka_unit_test(test_ip_str),
		cmocka_unit_test(test_ip_cmp),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
