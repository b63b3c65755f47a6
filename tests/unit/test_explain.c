/*
 * tests/unit/test_explain.c -- records that explain themselves
 * (zg_db_explain, zg_render_explain, the cursors `kubezone diff` walks).
 *
 * Each test decodes a few hand-chosen objects (JSON with ' for ") and
 * checks whole lines: the record, a tab, then "; " and what the record
 * comes from, written here from the rule book (which object, which
 * endpoint and pod, which rule), not copied from kubezone's output.
 * Records several objects contribute (E2 collapses them into one) name
 * every contributor, sorted, joined by "; ". Without explaining, the
 * text is exactly the explained text with the comments taken away.
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
#include "common/log.h"
#include "common/opt.h"
#include "zonegen/decode.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define CLUSTER "cluster.local."
#define REV4 "in-addr.arpa."

struct fixture {
	struct zg_model m;
	struct zg_render_opts o;
	struct zg_zoneset zs;		/* explained */
	struct zg_zoneset plain;	/* not explained */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	zg_model_init(&f->m);
	zg_render_opts_init(&f->o);
	kz_log_set_level(KZ_LOG_ERROR);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	zg_zoneset_free(&f->zs);
	zg_zoneset_free(&f->plain);
	zg_model_free(&f->m);
	zg_render_opts_free(&f->o);
	free(f);
	return 0;
}

/* Decode JSON (with ' for ") into M. */
static void
decode_into(struct zg_model *m, const char *json)
{
	struct zg_decode_stats st = { 0 };
	struct zg_decode_error err = { 0 };
	char *s = strdup(json);

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (zg_decode_buffer(m, s, strlen(s), "test", &st, &err) != 0)
		fail_msg("decode: %s at %zu", err.text, err.offset);
	free(s);
}

/* Parse render options ARGS (NULL-terminated) into F's options. */
static void
options(struct fixture *f, ...)
{
	char *argv[16], *pos[16], err[256];
	const struct kz_opt_table t = { "render", zg_render_opt_table, &f->o };
	size_t npos = 0;
	int argc = 1, help = 0;
	va_list ap;

	argv[0] = (char *)"render";
	va_start(ap, f);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (kz_opt_parse(argc, argv, &t, 1, pos, &npos, &help, err,
	    sizeof(err)))
		fail_msg("options: %s", err);
}

static void
render(struct fixture *f)
{
	zg_zoneset_free(&f->zs);
	zg_zoneset_free(&f->plain);
	assert_int_equal(zg_render_explain(&f->m, &f->o, &f->zs), 0);
	assert_int_equal(zg_render(&f->m, &f->o, &f->plain), 0);
}

static const char *
body(const struct zg_zoneset *zs, const char *origin)
{
	const struct zg_zone *z = zg_zoneset_find(zs, origin);

	if (z == NULL) {
		fail_msg("no zone %s", origin);
		return "";
	}
	return z->body.data ? z->body.data : "";
}

/* LINE is a whole line of zone ORIGIN's explained text. */
static int
has(struct fixture *f, const char *origin, const char *line)
{
	const char *text = body(&f->zs, origin);
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define HAS(f, z, line) do { if (!has(f, z, line)) \
	fail_msg("missing in %s: %s\n--- zone ---\n%s", z, line, \
	    body(&(f)->zs, z)); } while (0)

/*
 * Every zone's explained text, each comment and the tab before it
 * taken away, is the plain text; every record line has a comment.
 */
static void
check_stripped(struct fixture *f)
{
	assert_int_equal(f->zs.nzones, f->plain.nzones);
	for (size_t i = 0; i < f->zs.nzones; i++) {
		const struct zg_zone *z = &f->zs.zones[i];
		struct kz_buf b;
		const char *p = z->body.data ? z->body.data : "";

		kz_buf_init(&b, 1 << 24);
		while (*p) {
			const char *nl = strchr(p, '\n');
			const char *c = strstr(p, "\t; ");

			assert_non_null(nl);
			if (c == NULL || c > nl)
				fail_msg("a line without its explanation: %.*s",
				    (int)(nl - p), p);
			assert_int_equal(kz_buf_append(&b, p, (size_t)(c - p)), 0);
			assert_int_equal(kz_buf_putc(&b, '\n'), 0);
			p = nl + 1;
		}
		assert_int_equal(b.len, f->plain.zones[i].body.len);
		if (b.len)
			assert_memory_equal(b.data, f->plain.zones[i].body.data,
			    b.len);
		assert_int_equal(z->nrecords, f->plain.zones[i].nrecords);
		kz_buf_free(&b);
	}
}

#define SVC(ns, name, ip, ports) \
	"{'kind':'Service','metadata':{'name':'" name "','namespace':'" ns "'}," \
	"'spec':{'type':'ClusterIP','clusterIP':'" ip "','clusterIPs':['" ip "']," \
	"'ports':[" ports "]}}"
#define HEADLESS(ns, name, ports) \
	"{'kind':'Service','metadata':{'name':'" name "','namespace':'" ns "'}," \
	"'spec':{'clusterIP':'None','clusterIPs':['None'],'ports':[" ports "]}}"
#define SLICE(ns, name, svc, ports, eps) \
	"{'kind':'EndpointSlice','metadata':{'name':'" name "','namespace':'" ns "'," \
	"'labels':{'kubernetes.io/service-name':'" svc "'}},'addressType':'IPv4'," \
	"'ports':[" ports "],'endpoints':[" eps "]}"
#define EPPOD(ip, pod) "{'addresses':['" ip "'],'conditions':{'ready':true}," \
	"'targetRef':{'kind':'Pod','name':'" pod "'}}"
#define EPHOST(ip, host, pod) "{'addresses':['" ip "'],'hostname':'" host "'," \
	"'conditions':{'ready':true},'targetRef':{'kind':'Pod','name':'" pod "'}}"
#define POD(ns, name, ip) "{'kind':'Pod','metadata':{'name':'" name "'," \
	"'namespace':'" ns "'},'status':{'phase':'Running','podIP':'" ip "'}}"
#define NS(name) "{'kind':'Namespace','metadata':{'name':'" name "'}}"
#define KUBE_DNS SVC("kube-system", "kube-dns", "10.96.0.10", \
	"{'name':'dns','protocol':'UDP','port':53}")
#define LIST(...) list_of(__VA_ARGS__, (const char *)NULL)

/* A List document of the given items (a static buffer: use at once). */
static const char *
list_of(const char *first, ...)
{
	static char buf[65536];
	size_t o;
	va_list ap;

	o = (size_t)snprintf(buf, sizeof(buf), "{'kind':'List','items':[%s",
	    first);
	va_start(ap, first);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ",%s", s);
	va_end(ap);
	snprintf(buf + o, sizeof(buf) - o, "]}");
	return buf;
}

/* --- the apex (R1-R4) --------------------------------------------------- */

static void
test_apex_from_kube_dns(void **state)
{
	struct fixture *f = *state;
	struct kz_buf b;

	decode_into(&f->m, LIST(KUBE_DNS));
	render(f);
	HAS(f, CLUSTER, "@\t30\tIN\tNS\tns.dns.cluster.local.\t; zone apex (R2)");
	HAS(f, REV4, "@\t30\tIN\tNS\tns.dns.cluster.local.\t; zone apex (R2)");
	HAS(f, CLUSTER, "ns.dns\t30\tIN\tA\t10.96.0.10\t; zone apex: ClusterIP "
	    "of Service kube-system/kube-dns (R3)");
	HAS(f, CLUSTER, "dns-version\t28800\tIN\tTXT\t\"1.1.0\"\t; schema "
	    "version (R4)");
	/* The SOA line of an explained zone says where it comes from. */
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(zg_zone_write(zg_zoneset_find(&f->zs, CLUSTER), 7,
	    &b), 0);
	assert_non_null(strstr(b.data, "\n@\t30\tIN\tSOA\tns.dns.cluster.local. "
	    "hostmaster.cluster.local. 7 7200 1800 86400 30\t; zone apex "
	    "(R1)\n"));
	kz_buf_reset(&b);
	assert_int_equal(zg_zone_write(zg_zoneset_find(&f->plain, CLUSTER), 7,
	    &b), 0);
	assert_null(strchr(b.data, ';'));
	kz_buf_free(&b);
	check_stripped(f);
}

static void
test_apex_from_options(void **state)
{
	struct fixture *f = *state;

	options(f, "--ns", "ns1.cluster.local=192.0.2.53", "--ns",
	    "ns2.example.net", (char *)NULL);
	decode_into(&f->m, LIST(KUBE_DNS));
	render(f);
	HAS(f, CLUSTER, "@\t30\tIN\tNS\tns1.cluster.local.\t; zone apex: --ns "
	    "(R2)");
	HAS(f, CLUSTER, "@\t30\tIN\tNS\tns2.example.net.\t; zone apex: --ns "
	    "(R2)");
	HAS(f, CLUSTER, "ns1\t30\tIN\tA\t192.0.2.53\t; zone apex: --ns "
	    "ns1.cluster.local=192.0.2.53 (R3)");
	check_stripped(f);

	zg_render_opts_free(&f->o);
	zg_render_opts_init(&f->o);
	options(f, "--dns-ip", "10.96.0.53", (char *)NULL);
	render(f);
	HAS(f, CLUSTER, "ns.dns\t30\tIN\tA\t10.96.0.53\t; zone apex: --dns-ip "
	    "(R3)");
	check_stripped(f);
}

static void
test_apex_without_address(void **state)
{
	struct fixture *f = *state;

	decode_into(&f->m, LIST(SVC("shop", "web", "10.96.0.5", "")));
	render(f);
	HAS(f, CLUSTER, "@\t30\tIN\tNS\tlocalhost.\t; zone apex: no name server "
	    "address, localhost (R2)");
	check_stripped(f);
}

/* --- Services and their endpoints ------------------------------------ */

static void
test_clusterip_service_and_endpoint(void **state)
{
	struct fixture *f = *state;

	decode_into(&f->m, LIST(KUBE_DNS,
	    SVC("shop", "web", "10.96.0.5", "{'name':'http','port':80}"),
	    SLICE("shop", "web-abc12", "web", "{'name':'http','port':8080}",
	    EPPOD("10.244.1.10", "web-7d9-x2"))));
	render(f);
	HAS(f, CLUSTER, "web.shop.svc\t30\tIN\tA\t10.96.0.5\t; Service shop/web "
	    "(R5)");
	HAS(f, CLUSTER, "_http._tcp.web.shop.svc\t30\tIN\tSRV\t0 100 80 "
	    "web.shop.svc.cluster.local.\t; Service shop/web (R6)");
	HAS(f, CLUSTER, "web.shop.svc\t30\tIN\tSRV\t0 100 80 "
	    "web.shop.svc.cluster.local.\t; Service shop/web (R7)");
	HAS(f, REV4, "5.0.96.10\t30\tIN\tPTR\tweb.shop.svc.cluster.local.\t; "
	    "Service shop/web (R8)");
	HAS(f, CLUSTER, "10-244-1-10.web.shop.svc\t30\tIN\tA\t10.244.1.10\t; "
	    "Service shop/web, EndpointSlice shop/web-abc12 endpoint "
	    "10.244.1.10 (pod web-7d9-x2) (R14)");
	HAS(f, REV4, "10.1.244.10\t30\tIN\tPTR\t10-244-1-10.web.shop.svc."
	    "cluster.local.\t; Service shop/web, EndpointSlice shop/web-abc12 "
	    "endpoint 10.244.1.10 (pod web-7d9-x2) (R13)");
	check_stripped(f);
}

static void
test_headless_address_in_two_slices(void **state)
{
	struct fixture *f = *state;

	/* E2: the same address in two slices of one Service is one record
	 * of each kind, and each names both slices. */
	decode_into(&f->m, LIST(KUBE_DNS,
	    HEADLESS("data", "db", "{'name':'pg','port':5432}"),
	    SLICE("data", "db-a", "db", "{'name':'pg','port':5432}",
	    EPHOST("10.244.1.20", "db-0", "db-0")),
	    SLICE("data", "db-b", "db", "{'name':'pg','port':5432}",
	    EPHOST("10.244.1.20", "db-0", "db-0"))));
	render(f);
	HAS(f, CLUSTER, "db.data.svc\t30\tIN\tA\t10.244.1.20\t; Service data/db, "
	    "EndpointSlice data/db-a endpoint 10.244.1.20 (pod db-0) (R9); "
	    "Service data/db, EndpointSlice data/db-b endpoint 10.244.1.20 "
	    "(pod db-0) (R9)");
	HAS(f, CLUSTER, "db-0.db.data.svc\t30\tIN\tA\t10.244.1.20\t; Service "
	    "data/db, EndpointSlice data/db-a endpoint 10.244.1.20 (pod db-0) "
	    "(R10); Service data/db, EndpointSlice data/db-b endpoint "
	    "10.244.1.20 (pod db-0) (R10)");
	HAS(f, CLUSTER, "_pg._tcp.db.data.svc\t30\tIN\tSRV\t0 100 5432 "
	    "db-0.db.data.svc.cluster.local.\t; Service data/db, EndpointSlice "
	    "data/db-a endpoint 10.244.1.20 (pod db-0) (R11); Service data/db, "
	    "EndpointSlice data/db-b endpoint 10.244.1.20 (pod db-0) (R11)");
	HAS(f, CLUSTER, "db.data.svc\t30\tIN\tSRV\t0 100 5432 "
	    "db-0.db.data.svc.cluster.local.\t; Service data/db, EndpointSlice "
	    "data/db-a endpoint 10.244.1.20 (pod db-0) (R12); Service data/db, "
	    "EndpointSlice data/db-b endpoint 10.244.1.20 (pod db-0) (R12)");
	HAS(f, REV4, "20.1.244.10\t30\tIN\tPTR\tdb-0.db.data.svc.cluster.local."
	    "\t; Service data/db, EndpointSlice data/db-a endpoint 10.244.1.20 "
	    "(pod db-0) (R13); Service data/db, EndpointSlice data/db-b "
	    "endpoint 10.244.1.20 (pod db-0) (R13)");
	check_stripped(f);
}

static void
test_two_services_one_address(void **state)
{
	struct fixture *f = *state;

	/* One pod behind two Services: its address has a PTR from each
	 * (R13), each naming its own Service; an endpoint at some
	 * Service's ClusterIP gets none (R13), so that address names the
	 * Service alone (R8). */
	decode_into(&f->m, LIST(KUBE_DNS,
	    SVC("shop", "web", "10.96.0.5", ""),
	    SVC("shop", "admin", "10.96.0.6", ""),
	    SLICE("shop", "web-1", "web", "", EPPOD("10.244.1.10", "p1")),
	    SLICE("shop", "admin-1", "admin", "", EPPOD("10.244.1.10", "p1")),
	    SLICE("shop", "admin-2", "admin", "", EPPOD("10.96.0.5", "odd"))));
	render(f);
	HAS(f, REV4, "10.1.244.10\t30\tIN\tPTR\t10-244-1-10.admin.shop.svc."
	    "cluster.local.\t; Service shop/admin, EndpointSlice shop/admin-1 "
	    "endpoint 10.244.1.10 (pod p1) (R13)");
	HAS(f, REV4, "10.1.244.10\t30\tIN\tPTR\t10-244-1-10.web.shop.svc."
	    "cluster.local.\t; Service shop/web, EndpointSlice shop/web-1 "
	    "endpoint 10.244.1.10 (pod p1) (R13)");
	HAS(f, REV4, "5.0.96.10\t30\tIN\tPTR\tweb.shop.svc.cluster.local.\t; "
	    "Service shop/web (R8)");
	HAS(f, CLUSTER, "10-96-0-5.admin.shop.svc\t30\tIN\tA\t10.96.0.5\t; "
	    "Service shop/admin, EndpointSlice shop/admin-2 endpoint 10.96.0.5 "
	    "(pod odd) (R14)");
	check_stripped(f);
}

static void
test_external_name_and_namespaces(void **state)
{
	struct fixture *f = *state;

	/* With Namespace objects, a record exists only while its
	 * namespace does (R22): the Namespace is named too. */
	decode_into(&f->m, LIST(KUBE_DNS, NS("kube-system"), NS("shop"),
	    "{'kind':'Service','metadata':{'name':'mail','namespace':'shop'},"
	    "'spec':{'type':'ExternalName','externalName':'smtp.example.com'}}"));
	render(f);
	HAS(f, CLUSTER, "mail.shop.svc\t30\tIN\tCNAME\tsmtp.example.com.\t; "
	    "Service shop/mail, Namespace shop (R15)");
	HAS(f, CLUSTER, "kube-dns.kube-system.svc\t30\tIN\tA\t10.96.0.10\t; "
	    "Service kube-system/kube-dns, Namespace kube-system (R5)");
	check_stripped(f);
}

/* --- Pods (R16) ------------------------------------------------------ */

static void
test_host_network_pods_share_a_record(void **state)
{
	struct fixture *f = *state;

	/* Two host-network pods of one namespace on one node: one A record
	 * (duplicates by namespace and address go), both pods named. */
	options(f, "--pod-records", (char *)NULL);
	decode_into(&f->m, LIST(KUBE_DNS,
	    POD("kube-system", "proxy-b", "192.168.49.2"),
	    POD("kube-system", "collector-a", "192.168.49.2"),
	    POD("shop", "web-7d9-x2", "10.244.1.10")));
	render(f);
	HAS(f, CLUSTER, "192-168-49-2.kube-system.pod\t30\tIN\tA\t192.168.49.2"
	    "\t; Pod kube-system/collector-a (R16); Pod kube-system/proxy-b (R16)");
	HAS(f, CLUSTER, "10-244-1-10.shop.pod\t30\tIN\tA\t10.244.1.10\t; Pod "
	    "shop/web-7d9-x2 (R16)");
	check_stripped(f);
}

/* --- what names cannot smuggle ------------------------------------- */

static void
test_names_stay_inside_the_comment(void **state)
{
	struct fixture *f = *state;
	const char *text;

	/* Slice and target pod names are not DNS names and are not
	 * checked: a line break would end the comment. */
	decode_into(&f->m, LIST(KUBE_DNS,
	    SVC("shop", "web", "10.96.0.5", ""),
	    SLICE("shop", "web-1\\nevil\\t30\\tIN\\tA\\t6.6.6.6", "web", "",
	    EPPOD("10.244.1.10", "p\\r\\n$INCLUDE /etc/passwd"))));
	render(f);
	HAS(f, CLUSTER, "10-244-1-10.web.shop.svc\t30\tIN\tA\t10.244.1.10\t; "
	    "Service shop/web, EndpointSlice shop/web-1?evil?30?IN?A?6.6.6.6 "
	    "endpoint 10.244.1.10 (pod p??$INCLUDE /etc/passwd) (R14)");
	text = body(&f->zs, CLUSTER);
	assert_null(strstr(text, "\nevil"));
	assert_null(strstr(text, "\n$INCLUDE"));
	check_stripped(f);
}

/* --- the database: cursors, changes, writers -------------------------- */

/* The zone as a cursor gives it, written like zg_db_write. */
static void
walk_zone(const struct zg_db *db, size_t zone, struct kz_buf *out)
{
	struct zg_db_cursor *c = NULL;
	const struct zg_db_owner_view *v;
	int rc;

	assert_int_equal(zg_db_cursor_new(db, zone, &c), 0);
	while ((rc = zg_db_cursor_next(c, &v)) == 1) {
		assert_true(v->n >= 1);
		for (size_t i = 0; i < v->n; i++)
			assert_int_equal(zg_rr_write_why(&v->v[i].rr,
			    db->zones[zone].origin, v->v[i].why, out), 0);
	}
	assert_int_equal(rc, 0);
	zg_db_cursor_free(c);
}

static void
check_db(struct zg_db *db, const struct zg_model *m,
    const struct zg_render_opts *o)
{
	struct zg_zoneset want;

	assert_int_equal(zg_render_explain(m, o, &want), 0);
	assert_int_equal(want.nzones, db->nzones);
	for (size_t z = 0; z < db->nzones; z++) {
		struct kz_buf w, c;

		kz_buf_init(&w, 1 << 24);
		kz_buf_init(&c, 1 << 24);
		assert_int_equal(zg_db_write(db, z, &w, NULL), 0);
		walk_zone(db, z, &c);
		assert_string_equal(w.data ? w.data : "",
		    want.zones[z].body.data ? want.zones[z].body.data : "");
		assert_string_equal(c.data ? c.data : "", w.data ? w.data : "");
		kz_buf_free(&w);
		kz_buf_free(&c);
	}
	zg_zoneset_free(&want);
}

static void
test_changes_keep_explanations(void **state)
{
	struct fixture *f = *state;
	struct zg_db db;

	/* A database that explains and follows changes writes what a fresh
	 * explained render of the same model writes; a cursor gives the
	 * same lines. */
	options(f, "--pod-records", (char *)NULL);
	zg_model_track(&f->m, true);
	assert_int_equal(zg_db_init(&db, &f->o), 0);
	assert_int_equal(zg_db_explain(&db), 0);
	decode_into(&f->m, LIST(KUBE_DNS,
	    SVC("shop", "web", "10.96.0.5", "{'name':'http','port':80}"),
	    SLICE("shop", "web-1", "web", "{'name':'http','port':8080}",
	    EPPOD("10.244.1.10", "a")),
	    POD("shop", "a", "10.244.1.10")));
	assert_true(zg_db_apply(&db, &f->m, true) > 0);
	check_db(&db, &f->m, &f->o);
	/* The pod moves to another slice; a second Service shares it. */
	decode_into(&f->m, LIST(
	    SLICE("shop", "web-1", "web", "{'name':'http','port':8080}",
	    EPPOD("10.244.1.11", "b")),
	    SLICE("shop", "web-2", "web", "{'name':'http','port':8080}",
	    EPPOD("10.244.1.10", "a")),
	    HEADLESS("shop", "peers", ""),
	    SLICE("shop", "peers-1", "peers", "", EPPOD("10.244.1.10", "a")),
	    NS("shop"), NS("kube-system")));
	assert_true(zg_db_apply(&db, &f->m, true) > 0);
	check_db(&db, &f->m, &f->o);
	assert_int_equal(zg_model_del(&f->m, ZG_KIND_NAMESPACE, NULL, "shop"),
	    1);
	assert_true(zg_db_apply(&db, &f->m, true) > 0);
	check_db(&db, &f->m, &f->o);
	zg_db_free(&db);
}

static void
test_record_lines(void **state)
{
	static const uint8_t owner[] = { 3, 'w', 'e', 'b', 4, 's', 'h', 'o',
	    'p', 3, 's', 'v', 'c', 7, 'c', 'l', 'u', 's', 't', 'e', 'r', 5,
	    'l', 'o', 'c', 'a', 'l', 0 };
	static const uint8_t a[] = { 10, 96, 0, 5 };
	struct zg_rr rr = { owner, sizeof(owner), 1, 30, a, sizeof(a) };
	struct kz_buf b;

	(void)state;
	kz_buf_init(&b, 4096);
	assert_int_equal(zg_rr_write_why(&rr, NULL, "Service shop/web (R5)",
	    &b), 0);
	assert_int_equal(zg_rr_write_why(&rr, CLUSTER, "", &b), 0);
	assert_int_equal(zg_rr_write_why(&rr, CLUSTER, NULL, &b), 0);
	assert_int_equal(zg_rr_write(&rr, "example.", &b), 0);
	assert_string_equal(b.data,
	    "web.shop.svc.cluster.local.\t30\tIN\tA\t10.96.0.5\t; Service "
	    "shop/web (R5)\n"
	    "web.shop.svc\t30\tIN\tA\t10.96.0.5\n"
	    "web.shop.svc\t30\tIN\tA\t10.96.0.5\n"
	    "web.shop.svc.cluster.local.\t30\tIN\tA\t10.96.0.5\n");
	kz_buf_free(&b);
}

static void
test_plain_database_keeps_no_text(void **state)
{
	struct fixture *f = *state;
	struct zg_db plain, explained;

	/* Without zg_db_explain, nothing is kept: the records take the
	 * bytes they took before, and the cursor has no explanation. */
	decode_into(&f->m, LIST(KUBE_DNS,
	    SVC("shop", "web", "10.96.0.5", "{'name':'http','port':80}")));
	assert_int_equal(zg_db_init(&plain, &f->o), 0);
	assert_int_equal(zg_db_init(&explained, &f->o), 0);
	assert_int_equal(zg_db_explain(&explained), 0);
	assert_int_equal(zg_db_load(&plain, &f->m), 0);
	assert_int_equal(zg_db_load(&explained, &f->m), 0);
	assert_null(plain.note);
	assert_true(zg_db_bytes(&explained) > zg_db_bytes(&plain));
	{
		struct zg_db_cursor *c = NULL;
		const struct zg_db_owner_view *v;

		assert_int_equal(zg_db_cursor_new(&plain, 0, &c), 0);
		while (zg_db_cursor_next(c, &v) == 1)
			for (size_t i = 0; i < v->n; i++)
				assert_null(v->v[i].why);
		zg_db_cursor_free(c);
	}
	zg_db_free(&plain);
	zg_db_free(&explained);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apex_from_kube_dns, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apex_from_options, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_apex_without_address,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_clusterip_service_and_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_headless_address_in_two_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_services_one_address,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_external_name_and_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_host_network_pods_share_a_record, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_names_stay_inside_the_comment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_keep_explanations,
		    setup, teardown),
		cmocka_unit_test(test_record_lines),
		cmocka_unit_test_setup_teardown(
		    test_plain_database_keeps_no_text, setup, teardown),
	};

	kz_log_set_level(KZ_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
