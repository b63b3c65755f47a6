/*
 * tests/unit/test_render.c -- zonegen/render: every record rule (R1-R23)
 * and edge case (E1-E30) of the rule book, with the exact records, and
 * the options that change the apex (--ns, --soa-*).
 *
 * Each test decodes a few Kubernetes objects written as JSON (single
 * quotes stand for double quotes, to keep the C readable), renders them
 * and checks lines of the zone text. Lines are "owner<TAB>ttl<TAB>IN
 * <TAB>type<TAB>rdata", owners relative to the zone origin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/opt.h"
#include "zonegen/decode.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

struct fixture {
	struct zg_model m;
	struct zg_render_opts o;
	struct zg_zoneset zs;
	unsigned long warns;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	zg_model_init(&f->m);
	zg_render_opts_init(&f->o);
	kz_log_set_level(KZ_LOG_ERROR);	/* count warnings, do not print */
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	zg_zoneset_free(&f->zs);
	zg_model_free(&f->m);
	zg_render_opts_free(&f->o);
	free(f);
	return 0;
}

/* Decode JSON (with ' for ") into the fixture's model. */
static void
load(struct fixture *f, const char *json)
{
	struct zg_decode_stats st = { 0 };
	struct zg_decode_error err = { 0 };
	char *s = strdup(json);

	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (zg_decode_buffer(&f->m, s, strlen(s), "test", &st, &err) != 0)
		fail_msg("decode: %s at %zu", err.text, err.offset);
	free(s);
}

/* Render, counting warnings (log level is raised to count them). */
static void
render(struct fixture *f)
{
	unsigned long before;
	FILE *null = fopen("/dev/null", "w");

	zg_zoneset_free(&f->zs);
	kz_log_set_stream(null);
	kz_log_set_level(KZ_LOG_WARN);
	before = kz_log_count(KZ_LOG_WARN);
	assert_int_equal(zg_render(&f->m, &f->o, &f->zs), 0);
	f->warns = kz_log_count(KZ_LOG_WARN) - before;
	kz_log_set_level(KZ_LOG_ERROR);
	kz_log_set_stream(NULL);
	fclose(null);
}

static const char *
body(struct fixture *f, const char *origin)
{
	const struct zg_zone *z = zg_zoneset_find(&f->zs, origin);

	if (z == NULL)
		fail_msg("no zone %s", origin);
	return z->body.data ? z->body.data : "";
}

/* LINE ("owner ttl type rdata", single spaces) must be in ZONE. */
static int
has(struct fixture *f, const char *origin, const char *line)
{
	char want[1024], owner[512], type[16];
	unsigned ttl;
	int n = 0;
	const char *text = body(f, origin);

	if (sscanf(line, "%511s %u %15s %n", owner, &ttl, type, &n) != 3)
		fail_msg("bad expectation '%s'", line);
	snprintf(want, sizeof(want), "%s\t%u\tIN\t%s\t%s\n", owner, ttl, type,
	    line + n);
	for (const char *p = text; (p = strstr(p, want)) != NULL; p++)
		if (p == text || p[-1] == '\n')
			return 1;
	return 0;
}

#define HAS(f, z, line) do { if (!has(f, z, line)) \
	fail_msg("missing in %s: %s\n--- zone ---\n%s", z, line, body(f, z)); \
	} while (0)
#define LACKS(f, z, line) do { if (has(f, z, line)) \
	fail_msg("unexpected in %s: %s", z, line); } while (0)

/* Records whose owner is OWNER (relative) in zone Z. */
static int
count_owner(struct fixture *f, const char *z, const char *owner)
{
	char want[512];
	int n = 0;
	const char *text = body(f, z);

	snprintf(want, sizeof(want), "%s\t", owner);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, want, strlen(want)) == 0)
			n++;
	return n;
}

#define CLUSTER "cluster.local."

/* A ClusterIP Service; PORTS is a JSON array body. */
#define SVC(ns, name, ip, ports) \
	"{'kind':'Service','metadata':{'name':'" name "','namespace':'" ns "'}," \
	"'spec':{'type':'ClusterIP','clusterIP':'" ip "','clusterIPs':['" ip "']," \
	"'ports':[" ports "]}}"
#define HEADLESS(ns, name, ports) \
	"{'kind':'Service','metadata':{'name':'" name "','namespace':'" ns "'}," \
	"'spec':{'clusterIP':'None','clusterIPs':['None'],'ports':[" ports "]}}"
#define SLICE(ns, name, svc, type, ports, eps) \
	"{'kind':'EndpointSlice','metadata':{'name':'" name "','namespace':'" ns "'," \
	"'labels':{'kubernetes.io/service-name':'" svc "'}},'addressType':'" type "'," \
	"'ports':[" ports "],'endpoints':[" eps "]}"
#define EP(ip) "{'addresses':['" ip "'],'conditions':{'ready':true}}"
#define EPH(ip, host) "{'addresses':['" ip "'],'hostname':'" host "','conditions':{'ready':true}}"
#define LIST(...) list_of(__VA_ARGS__, (const char *)NULL)

/* A List document of the given items (a static buffer: use at once). */
static const char *
list_of(const char *first, ...)
{
	static char buf[65536];
	size_t o;
	va_list ap;

	o = (size_t)snprintf(buf, sizeof(buf), "{'kind':'List','items':[%s", first);
	va_start(ap, first);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ",%s", s);
	va_end(ap);
	snprintf(buf + o, sizeof(buf) - o, "]}");
	return buf;
}

/* --- R1-R4: apex ------------------------------------------------------- */

static void
test_apex_records(void **state)
{
	struct fixture *f = *state;
	struct zg_buf_holder { struct kz_buf b; } h;
	const struct zg_zone *z;

	load(f, LIST(SVC("kube-system", "kube-dns", "10.96.0.10",
	    "{'name':'dns','protocol':'UDP','port':53}")));
	render(f);
	z = zg_zoneset_find(&f->zs, CLUSTER);
	assert_non_null(z);
	kz_buf_init(&h.b, 1 << 20);
	assert_int_equal(zg_zone_write(z, 1767225600u, &h.b), 0);
	/* R1: SOA first, TTL min(T,300), MINIMUM T. */
	assert_non_null(strstr(h.b.data, "$ORIGIN cluster.local.\n$TTL 30\n"
	    "@\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. "
	    "1767225600 7200 1800 86400 30\n"));
	kz_buf_free(&h.b);
	HAS(f, CLUSTER, "@ 30 NS ns.dns.cluster.local.");			/* R2 */
	HAS(f, CLUSTER, "ns.dns 30 A 10.96.0.10");			/* R3 */
	HAS(f, CLUSTER, "dns-version 28800 TXT \"1.1.0\"");		/* R4 */
	/* Reverse zones: their own SOA and NS at ns.dns.<zone>. */
	HAS(f, "in-addr.arpa.", "@ 30 NS ns.dns.cluster.local.");
	HAS(f, "ip6.arpa.", "@ 30 NS ns.dns.cluster.local.");
	assert_int_equal(f->zs.nzones, 3);
}

static void
test_dns_ip_option_and_soa_ttl_cap(void **state)
{
	struct fixture *f = *state;
	const struct zg_zone *z;

	assert_int_equal(zg_ip_parse(&f->o.dns_ips[0], "10.0.0.53"), 0);
	assert_int_equal(zg_ip_parse(&f->o.dns_ips[1], "fd00::53"), 0);
	f->o.ndns_ips = 2;
	f->o.ttl = 3600;
	load(f, LIST(SVC("kube-system", "kube-dns", "10.96.0.10", "")));
	render(f);
	HAS(f, CLUSTER, "ns.dns 3600 A 10.0.0.53");
	HAS(f, CLUSTER, "ns.dns 3600 AAAA fd00::53");
	LACKS(f, CLUSTER, "ns.dns 3600 A 10.96.0.10");
	z = zg_zoneset_find(&f->zs, CLUSTER);
	assert_int_equal(z->soa_ttl, 300);
	assert_int_equal(z->ttl, 3600);
}

/*
 * R2, R3 without an address for ns.dns (no --dns-ip, no kube-dns, or a
 * headless one): an NS inside the zone without an address makes BIND
 * and Knot refuse the zone, so every zone names localhost. instead.
 */
static void
test_no_dns_address_warns(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(SVC("default", "kubernetes", "10.96.0.1", ""),
	    HEADLESS("kube-system", "kube-dns", "")));
	render(f);
	assert_int_equal(count_owner(f, CLUSTER, "ns.dns"), 0);
	HAS(f, CLUSTER, "@ 30 NS localhost.");
	LACKS(f, CLUSTER, "@ 30 NS ns.dns.cluster.local.");
	HAS(f, "in-addr.arpa.", "@ 30 NS localhost.");
	HAS(f, "ip6.arpa.", "@ 30 NS localhost.");
	assert_int_equal(count_owner(f, CLUSTER, "@"), 1);	/* the NS */
	assert_int_equal(f->warns, 1);
}

/* --- R1-R3 with --ns and the --soa-* options --------------------------- */

/*
 * Parse the render options ARGS (NULL-terminated, as on a command line)
 * into fresh options of F, then check them together as every command
 * does. 0, or non-zero with the message in ERR.
 */
static int
parse(struct fixture *f, char *err, size_t errsz, ...)
{
	struct kz_opt_table t = { "render options", zg_render_opt_table,
	    &f->o };
	char *argv[160] = { (char *)"kubezone" }, *pos[160];
	size_t npos = 0;
	int argc = 1, help = 0;
	va_list ap;

	zg_render_opts_free(&f->o);
	zg_render_opts_init(&f->o);
	va_start(ap, errsz);
	while (argc < 159 &&
	    (argv[argc] = (char *)va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	err[0] = '\0';
	if (kz_opt_parse(argc, argv, &t, 1, pos, &npos, &help, err, errsz))
		return -1;
	return zg_render_opts_finish(&f->o, err, errsz);
}

#define PARSE_OK(f, ...) do { char e_[512]; \
	if (parse(f, e_, sizeof(e_), __VA_ARGS__, (const char *)NULL)) \
		fail_msg("refused: %s", e_); } while (0)

/* The SOA line zone ORIGIN gets with SERIAL (a static buffer). */
static const char *
soa_line(struct fixture *f, const char *origin, uint32_t serial)
{
	static char line[1024];
	const struct zg_zone *z = zg_zoneset_find(&f->zs, origin);
	struct kz_buf b;
	const char *p;

	assert_non_null(z);
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(zg_zone_write(z, serial, &b), 0);
	assert_int_equal(kz_buf_putc(&b, '\0'), 0);
	p = strstr(b.data, "\tSOA\t");
	assert_non_null(p);
	while (p > b.data && p[-1] != '\n')
		p--;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	kz_buf_free(&b);
	return line;
}

/*
 * R1-R3 with --ns: the NS RRset of every zone, forward and reverse, is
 * the servers given (names in any case, with or without the final dot,
 * one record each however often given); the first is the SOA MNAME; a
 * server inside the cluster domain gets its addresses there (R3) and
 * ns.dns.<zone> is no longer written, whatever kube-dns's ClusterIP.
 */
static void
test_ns_option_names_every_zone(void **state)
{
	struct fixture *f = *state;
	static const char *const zones[] = { CLUSTER, "in-addr.arpa.",
	    "ip6.arpa." };

	PARSE_OK(f, "--ns", "ns1.example.net", "--ns",
	    "NS2.Cluster.Local.=192.0.2.53", "--ns",
	    "ns2.cluster.local=2001:db8::53", "--ns", "ns1.example.net.");
	assert_int_equal(f->o.nns, 4);
	load(f, LIST(SVC("kube-system", "kube-dns", "10.96.0.10",
	    "{'name':'dns','protocol':'UDP','port':53}")));
	render(f);
	assert_int_equal(f->warns, 0);
	for (size_t i = 0; i < 3; i++) {
		HAS(f, zones[i], "@ 30 NS ns1.example.net.");
		HAS(f, zones[i], "@ 30 NS ns2.cluster.local.");
		assert_int_equal(count_owner(f, zones[i], "@"), 2);
		assert_string_equal(soa_line(f, zones[i], 1),
		    "@\t30\tIN\tSOA\tns1.example.net. hostmaster.cluster.local. "
		    "1 7200 1800 86400 30");
	}
	HAS(f, CLUSTER, "ns2 30 A 192.0.2.53");
	HAS(f, CLUSTER, "ns2 30 AAAA 2001:db8::53");
	assert_int_equal(count_owner(f, CLUSTER, "ns2"), 2);
	assert_int_equal(count_owner(f, CLUSTER, "ns.dns"), 0);
	HAS(f, CLUSTER, "dns-version 28800 TXT \"1.1.0\"");		/* R4 */
	HAS(f, CLUSTER, "kube-dns.kube-system.svc 30 A 10.96.0.10");

	/* An in-zone server given first is the MNAME; ns.dns is written
	 * when --ns names it, with the address given there. */
	PARSE_OK(f, "--ns", "ns.dns.cluster.local=10.0.0.53", "--ns",
	    "ns1.example.net");
	render(f);
	HAS(f, CLUSTER, "ns.dns 30 A 10.0.0.53");
	LACKS(f, CLUSTER, "ns.dns 30 A 10.96.0.10");
	assert_int_equal(count_owner(f, CLUSTER, "ns.dns"), 1);
	assert_string_equal(soa_line(f, "ip6.arpa.", 1), "@\t30\tIN\tSOA\t"
	    "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 "
	    "86400 30");

	/* Without kube-dns: no localhost. fallback and no warning. */
	zg_model_free(&f->m);
	zg_model_init(&f->m);
	load(f, LIST(SVC("default", "kubernetes", "10.96.0.1", "")));
	render(f);
	assert_int_equal(f->warns, 0);
	LACKS(f, CLUSTER, "@ 30 NS localhost.");
	HAS(f, "in-addr.arpa.", "@ 30 NS ns.dns.cluster.local.");
}

/*
 * R1 with --soa-rname and the timers: RFC 1035 section 8 writes the
 * mailbox local@domain as the name local.domain, a '.' in the local
 * part escaped; REFRESH, RETRY, EXPIRE and MINIMUM as given, in every
 * zone. The SOA TTL stays min(TTL, 300), and without --soa-minimum the
 * MINIMUM stays the TTL (R25). The zone hash covers the SOA.
 */
static void
test_soa_options(void **state)
{
	struct fixture *f = *state;
	static const char *const zones[] = { CLUSTER, "in-addr.arpa.",
	    "ip6.arpa." };
	uint64_t h;

	load(f, LIST(SVC("kube-system", "kube-dns", "10.96.0.10", "")));
	render(f);
	h = zg_zoneset_find(&f->zs, CLUSTER)->hash;
	PARSE_OK(f, "--soa-rname", "John.Doe@Example.COM", "--soa-refresh",
	    "3600", "--soa-retry", "600", "--soa-expire", "1209600",
	    "--soa-minimum", "60");
	render(f);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(soa_line(f, zones[i], 7), "@\t30\tIN\tSOA\t"
		    "ns.dns.cluster.local. john\\.doe.example.com. 7 3600 600 "
		    "1209600 60");
	assert_true(zg_zoneset_find(&f->zs, CLUSTER)->hash != h);
	HAS(f, CLUSTER, "@ 30 NS ns.dns.cluster.local.");

	/* A name is taken as it is (final dot optional, lower-cased). */
	PARSE_OK(f, "--soa-rname", "DNS-Admin.Example.NET.");
	render(f);
	assert_string_equal(soa_line(f, CLUSTER, 1), "@\t30\tIN\tSOA\t"
	    "ns.dns.cluster.local. dns-admin.example.net. 1 7200 1800 86400 "
	    "30");
	PARSE_OK(f, "--soa-rname", "hostmaster@example.net");
	render(f);
	assert_string_equal(soa_line(f, "in-addr.arpa.", 1), "@\t30\tIN\t"
	    "SOA\tns.dns.cluster.local. hostmaster.example.net. 1 7200 1800 "
	    "86400 30");

	/* MINIMUM follows --ttl unless given; the SOA TTL is capped. */
	PARSE_OK(f, "--ttl", "600");
	render(f);
	assert_string_equal(soa_line(f, CLUSTER, 1), "@\t300\tIN\tSOA\t"
	    "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 "
	    "86400 600");
	PARSE_OK(f, "--soa-minimum", "0", "--ttl", "600");
	render(f);
	assert_string_equal(soa_line(f, CLUSTER, 1), "@\t300\tIN\tSOA\t"
	    "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 "
	    "86400 0");
	/* EXPIRE exactly REFRESH + RETRY is accepted. */
	PARSE_OK(f, "--soa-refresh", "3000", "--soa-retry", "600",
	    "--soa-expire", "3600");
	/* Options are checked together once all are read. */
	PARSE_OK(f, "--ns", "ns1.k8s.example=10.0.0.53", "--zone",
	    "k8s.example");
	PARSE_OK(f, "--reverse-zone", "10.96.0.0/16", "--ns",
	    "ns.5.10.in-addr.arpa");
}

/* Each refused option value, and the words its message must hold. */
static void
test_ns_and_soa_option_errors(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *args[6];
		const char *msg;
	} bad[] = {
		{ { "--ns", "ns1.cluster.local" }, "--ns ns1.cluster.local: "
		  "inside cluster.local., so kubezone serves its address: "
		  "give it as --ns ns1.cluster.local=ADDR" },
		{ { "--ns", "ns1.k8s.example", "--zone", "k8s.example" },
		  "--ns ns1.k8s.example: inside k8s.example." },
		{ { "--ns", "ns1.example.net=192.0.2.1" },
		  "--ns ns1.example.net=192.0.2.1: ns1.example.net is "
		  "outside cluster.local." },
		{ { "--ns", "ns.96.10.in-addr.arpa" }, "--ns "
		  "ns.96.10.in-addr.arpa: inside the reverse zone "
		  "in-addr.arpa." },
		{ { "--ns", "ns.ip6.arpa." }, "inside the reverse zone "
		  "ip6.arpa." },
		{ { "--reverse-zone", "10.96.0.0/16", "--ns",
		    "ns.96.10.in-addr.arpa" }, "inside the reverse zone "
		  "96.10.in-addr.arpa." },
		{ { "--reverse-zone", "10.96.0.0/16", "--ns",
		    "96.10.in-addr.arpa" }, "inside the reverse zone "
		  "96.10.in-addr.arpa." },
		{ { "--ns", "dns.kube-system.svc.cluster.local=10.96.0.10" },
		  "inside svc.cluster.local. or pod.cluster.local." },
		{ { "--ns", "x.pod.cluster.local=10.244.0.1" },
		  "inside svc.cluster.local. or pod.cluster.local." },
		{ { "--dns-ip", "10.96.0.10", "--ns", "ns1.example.net" },
		  "--dns-ip: gives the addresses of ns.dns.cluster.local, "
		  "which --ns replaces" },
		{ { "--ns", "_dns.example.net" }, "--ns _dns.example.net: "
		  "not a host name" },
		{ { "--ns", "ns1..example.net" }, "--ns ns1..example.net: " },
		{ { "--ns", "" }, "--ns : empty name" },
		{ { "--ns", "=192.0.2.1" }, "empty name" },
		{ { "--ns", "ns2.cluster.local=192.0.2" }, "--ns "
		  "ns2.cluster.local=192.0.2: not an IPv4 or IPv6 address" },
		{ { "--ns", "ns2.cluster.local=" }, "not an IPv4 or IPv6" },
		{ { "--ns", "a23456789012345678901234567890123456789012345678"
		    "9012345678901234.example.net" }, "not a valid DNS name" },
		{ { "--soa-rname", "a@b@example.net" }, "--soa-rname "
		  "a@b@example.net: the part after '@' is not a domain name" },
		{ { "--soa-rname", "@example.net" }, "the part before '@' "
		  "must have 1 to 63 characters" },
		{ { "--soa-rname", "a b@example.net" }, "letters, digits" },
		{ { "--soa-rname", "a;b@example.net" }, "letters, digits" },
		{ { "--soa-rname", "a234567890123456789012345678901234567890"
		    "123456789012345678901234@example.net" }, "1 to 63" },
		{ { "--soa-rname", "host..example.net" }, "--soa-rname "
		  "host..example.net: " },
		{ { "--soa-refresh", "59" }, "--soa-refresh 59: expected a "
		  "number from 60 to 604800" },
		{ { "--soa-refresh", "604801" }, "from 60 to 604800" },
		{ { "--soa-retry", "59" }, "from 60 to 86400" },
		{ { "--soa-retry", "86401" }, "from 60 to 86400" },
		{ { "--soa-expire", "3599" }, "from 3600 to 2419200" },
		{ { "--soa-expire", "2419201" }, "from 3600 to 2419200" },
		{ { "--soa-minimum", "86401" }, "from 0 to 86400" },
		{ { "--soa-minimum", "-1" }, "from 0 to 86400" },
		{ { "--soa-refresh", "86400" }, "--soa-expire 86400: below "
		  "--soa-refresh + --soa-retry (86400 + 1800 = 88200)" },
		{ { "--soa-expire", "3600", "--soa-refresh", "3000",
		    "--soa-retry", "601" }, "--soa-expire 3600: below "
		  "--soa-refresh + --soa-retry (3000 + 601 = 3601)" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *const *a = bad[i].args;

		if (parse(f, err, sizeof(err), a[0], a[1], a[2], a[3], a[4],
		    a[5], (const char *)NULL) == 0)
			fail_msg("accepted: %s %s %s %s", a[0], a[1],
			    a[2] ? a[2] : "", a[3] ? a[3] : "");
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("%s %s: message '%s' lacks '%s'", a[0], a[1],
			    err, bad[i].msg);
	}
}

/* At most ZG_MAX_LIST name servers. */
static void
test_ns_option_limit(void **state)
{
	struct fixture *f = *state;
	struct kz_opt_table t = { "render options", zg_render_opt_table,
	    &f->o };
	char *argv[2 * ZG_MAX_LIST + 3], *pos[2 * ZG_MAX_LIST + 3];
	char names[ZG_MAX_LIST + 1][32], err[512];
	size_t npos;
	int argc = 1, help;

	argv[0] = (char *)"kubezone";
	for (int i = 0; i <= ZG_MAX_LIST; i++) {
		snprintf(names[i], sizeof(names[i]), "ns%d.example.net", i);
		argv[argc++] = (char *)"--ns";
		argv[argc++] = names[i];
	}
	assert_int_not_equal(kz_opt_parse(argc, argv, &t, 1, pos, &npos,
	    &help, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--ns ns64.example.net: at most 64 name "
	    "servers"));
	assert_int_equal(f->o.nns, ZG_MAX_LIST);
}

/* --- R5-R8: ClusterIP -------------------------------------------------- */

static void
test_clusterip_records(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(SVC("default", "kubernetes", "10.96.0.1",
	    "{'name':'https','protocol':'TCP','port':443}")));
	render(f);
	HAS(f, CLUSTER, "kubernetes.default.svc 30 A 10.96.0.1");		/* R5 */
	HAS(f, CLUSTER, "_https._tcp.kubernetes.default.svc 30 SRV 0 100 443 "
	    "kubernetes.default.svc.cluster.local.");			/* R6 */
	HAS(f, CLUSTER, "kubernetes.default.svc 30 SRV 0 100 443 "
	    "kubernetes.default.svc.cluster.local.");			/* R7 */
	HAS(f, "in-addr.arpa.", "1.0.96.10 30 PTR "
	    "kubernetes.default.svc.cluster.local.");			/* R8 */
	assert_int_equal(f->warns, 1);	/* no ns.dns address only */
}

static void
test_dual_stack_clusterip(void **state)
{
	struct fixture *f = *state;

	load(f, LIST("{'kind':'Service','metadata':{'name':'web','namespace':'shop'},"
	    "'spec':{'clusterIP':'10.96.12.7','clusterIPs':['10.96.12.7','fd00:96::c07'],"
	    "'ipFamilies':['IPv4','IPv6'],'ports':[{'name':'http','port':80}]}}"));
	render(f);
	HAS(f, CLUSTER, "web.shop.svc 30 A 10.96.12.7");
	HAS(f, CLUSTER, "web.shop.svc 30 AAAA fd00:96::c07");
	/* R6 weight 100, one SRV (not two, not 50). */
	HAS(f, CLUSTER, "_http._tcp.web.shop.svc 30 SRV 0 100 80 "
	    "web.shop.svc.cluster.local.");
	assert_int_equal(count_owner(f, CLUSTER, "_http._tcp.web.shop.svc"), 1);
	HAS(f, "ip6.arpa.", "7.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "6.9.0.0.0.0.d.f 30 PTR web.shop.svc.cluster.local.");	/* E12 */
}

static void
test_unnamed_and_sctp_ports(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(SVC("shop", "legacy", "10.96.1.1", "{'port':8080}"),
	    SVC("core", "hss", "10.96.1.2",
	    "{'name':'diameter','protocol':'SCTP','port':3868}"),
	    SVC("kube-system", "kube-dns", "10.96.0.10",
	    "{'name':'dns','protocol':'UDP','port':53},"
	    "{'name':'dns-tcp','protocol':'TCP','port':53}")));
	render(f);
	/* E7: an unnamed port has only the bare SRV (R7). */
	HAS(f, CLUSTER, "legacy.shop.svc 30 SRV 0 100 8080 "
	    "legacy.shop.svc.cluster.local.");
	assert_int_equal(count_owner(f, CLUSTER, "legacy.shop.svc"), 2);
	/* E6: SCTP. */
	HAS(f, CLUSTER, "_diameter._sctp.hss.core.svc 30 SRV 0 100 3868 "
	    "hss.core.svc.cluster.local.");
	HAS(f, CLUSTER, "_dns._udp.kube-dns.kube-system.svc 30 SRV 0 100 53 "
	    "kube-dns.kube-system.svc.cluster.local.");
	HAS(f, CLUSTER, "_dns-tcp._tcp.kube-dns.kube-system.svc 30 SRV 0 100 53 "
	    "kube-dns.kube-system.svc.cluster.local.");
	assert_int_equal(count_owner(f, CLUSTER,
	    "_dns._tcp.kube-dns.kube-system.svc"), 0);
	/* Two ports with the same number: the bare SRV RRset dedups. */
	assert_int_equal(count_owner(f, CLUSTER, "kube-dns.kube-system.svc"), 2);
}

/* --- the clusterset zone (MCS API DNS specification 1.0.0) ------------- */

#define CSET "clusterset.local."
#define IMPORT(ns, name, type, ips, ports) \
	"{'apiVersion':'multicluster.x-k8s.io/v1alpha1','kind':'ServiceImport'," \
	"'metadata':{'name':'" name "','namespace':'" ns "'},'spec':{'type':'" \
	type "','ips':[" ips "],'ports':[" ports "]}}"
#define MCSLICE(ns, name, svc, cluster, type, ports, eps) \
	"{'kind':'EndpointSlice','metadata':{'name':'" name "','namespace':'" ns "'," \
	"'labels':{'multicluster.kubernetes.io/service-name':'" svc "'," \
	"'multicluster.kubernetes.io/source-cluster':'" cluster "'}}," \
	"'addressType':'" type "','ports':[" ports "],'endpoints':[" eps "]}"

/*
 * Section 2.2 and 2.3: the schema version TXT; a ClusterSetIP import's
 * A and AAAA at <svc>.<ns>.svc.<clustersetzone>, an SRV for each named
 * port (none for an unnamed one, none at the bare service name), a PTR
 * for each clusterset IP. No per-cluster names (2.3.4).
 */
static void
test_clusterset_ip_import(void **state)
{
	struct fixture *f = *state;

	snprintf(f->o.clusterset, sizeof(f->o.clusterset), "clusterset.local");
	f->o.ndns_ips = 1;
	assert_int_equal(zg_ip_parse(&f->o.dns_ips[0], "10.96.0.10"), 0);
	load(f, LIST(IMPORT("test", "myservice", "ClusterSetIP",
	    "'10.42.42.42','2001:db8::1'",
	    "{'name':'https','protocol':'TCP','port':443},{'port':8080}")));
	render(f);
	assert_string_equal(f->zs.zones[f->zs.nzones - 1].origin, CSET);
	HAS(f, CSET, "dns-version 28800 TXT \"1.0.0\"");
	HAS(f, CSET, "@ 30 NS ns.dns.cluster.local.");
	HAS(f, CSET, "myservice.test.svc 30 A 10.42.42.42");
	HAS(f, CSET, "myservice.test.svc 30 AAAA 2001:db8::1");
	HAS(f, CSET, "_https._tcp.myservice.test.svc 30 SRV 0 100 443 "
	    "myservice.test.svc.clusterset.local.");
	assert_int_equal(count_owner(f, CSET, "myservice.test.svc"), 2);
	assert_int_equal(count_owner(f, CSET, "_https._tcp.myservice.test.svc"), 1);
	HAS(f, "in-addr.arpa.", "42.42.42.10 30 PTR myservice.test.svc.clusterset.local.");
	HAS(f, "ip6.arpa.", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2 30 PTR myservice.test.svc.clusterset.local.");
	/* The cluster zone has nothing of the import. */
	assert_null(strstr(body(f, CLUSTER), "myservice"));
	assert_int_equal(f->warns, 0);
}

/*
 * Section 2.4: a Headless import: every ready endpoint of its
 * multicluster slices at the service name and at
 * <hostname>.<clusterid>.<svc>.<ns>.svc.<clustersetzone>, the SRV of
 * each named port over the endpoints of every cluster (N x M), PTRs to
 * the per-cluster names; an endpoint that is not ready has none.
 */
static void
test_clusterset_headless_import(void **state)
{
	struct fixture *f = *state;

	snprintf(f->o.clusterset, sizeof(f->o.clusterset), "clusterset.local");
	load(f, LIST(IMPORT("test", "headless", "Headless", "",
	    "{'name':'https','port':443}"),
	    MCSLICE("test", "headless-a", "headless", "clustera", "IPv4",
	    "{'name':'https','protocol':'TCP','port':443}",
	    EPH("10.3.0.100", "my-pet-1") "," EPH("10.3.0.101", "my-pet-2") ","
	    "{'addresses':['10.3.0.102'],'hostname':'my-pet-3',"
	    "'conditions':{'ready':false}}"),
	    MCSLICE("test", "headless-b", "headless", "clusterb", "IPv6",
	    "{'name':'https','protocol':'TCP','port':443}",
	    EPH("2001:db8::1", "my-pet-1"))));
	render(f);
	HAS(f, CSET, "headless.test.svc 30 A 10.3.0.100");
	HAS(f, CSET, "headless.test.svc 30 A 10.3.0.101");
	HAS(f, CSET, "headless.test.svc 30 AAAA 2001:db8::1");
	assert_int_equal(count_owner(f, CSET, "headless.test.svc"), 3);
	HAS(f, CSET, "my-pet-1.clustera.headless.test.svc 30 A 10.3.0.100");
	HAS(f, CSET, "my-pet-2.clustera.headless.test.svc 30 A 10.3.0.101");
	HAS(f, CSET, "my-pet-1.clusterb.headless.test.svc 30 AAAA 2001:db8::1");
	assert_int_equal(count_owner(f, CSET, "my-pet-3.clustera.headless.test.svc"), 0);
	/* Three ready endpoints, one named port: three SRV, weight 100/3. */
	HAS(f, CSET, "_https._tcp.headless.test.svc 30 SRV 0 33 443 "
	    "my-pet-1.clustera.headless.test.svc.clusterset.local.");
	HAS(f, CSET, "_https._tcp.headless.test.svc 30 SRV 0 33 443 "
	    "my-pet-2.clustera.headless.test.svc.clusterset.local.");
	HAS(f, CSET, "_https._tcp.headless.test.svc 30 SRV 0 33 443 "
	    "my-pet-1.clusterb.headless.test.svc.clusterset.local.");
	assert_int_equal(count_owner(f, CSET, "_https._tcp.headless.test.svc"), 3);
	HAS(f, "in-addr.arpa.", "100.0.3.10 30 PTR "
	    "my-pet-1.clustera.headless.test.svc.clusterset.local.");
	LACKS(f, "in-addr.arpa.", "102.0.3.10 30 PTR "
	    "my-pet-3.clustera.headless.test.svc.clusterset.local.");
}

/*
 * PTRs only where unambiguous (2.3.3 and 2.4.3, Limitations): none at
 * an address that already has a cluster-local PTR, none where two
 * clusterset names claim the address, none outside the served reverse
 * zones.
 */
static void
test_clusterset_ptr_unambiguous(void **state)
{
	struct fixture *f = *state;

	snprintf(f->o.clusterset, sizeof(f->o.clusterset), "clusterset.local");
	assert_int_equal(zg_cidr_parse(&f->o.reverse[f->o.nreverse++],
	    "10.96.0.0/16"), 0);
	load(f, LIST(SVC("test", "local", "10.96.0.20", "{'port':80}"),
	    IMPORT("test", "local", "ClusterSetIP", "'10.96.0.20'", ""),
	    IMPORT("test", "one", "ClusterSetIP", "'10.96.0.30'", ""),
	    IMPORT("test", "two", "ClusterSetIP", "'10.96.0.30'", ""),
	    IMPORT("test", "alone", "ClusterSetIP", "'10.96.0.40'", ""),
	    IMPORT("test", "outside", "ClusterSetIP", "'10.42.0.1'", "")));
	render(f);
	HAS(f, "96.10.in-addr.arpa.", "20.0 30 PTR local.test.svc.cluster.local.");
	assert_int_equal(count_owner(f, "96.10.in-addr.arpa.", "20.0"), 1);
	assert_int_equal(count_owner(f, "96.10.in-addr.arpa.", "30.0"), 0);
	HAS(f, "96.10.in-addr.arpa.", "40.0 30 PTR alone.test.svc.clusterset.local.");
	HAS(f, CSET, "local.test.svc 30 A 10.96.0.20");
	HAS(f, CSET, "one.test.svc 30 A 10.96.0.30");
	HAS(f, CSET, "outside.test.svc 30 A 10.42.0.1");
}

/* Without --clusterset-zone, ServiceImports give nothing; bad imports
 * are skipped with a warning. */
static void
test_clusterset_off_and_bad_imports(void **state)
{
	struct fixture *f = *state;
	struct zg_decode_stats st = { 0 };
	struct zg_decode_error err = { 0 };
	const char *bad[] = {
	    "{\"kind\":\"ServiceImport\",\"metadata\":{\"name\":\"a\"},\"spec\":{}}",
	    "{\"kind\":\"ServiceImport\",\"metadata\":{\"name\":\"a\"},\"spec\":"
	    "{\"type\":\"ClusterSetIP\"}}",
	    "{\"kind\":\"ServiceImport\",\"metadata\":{\"name\":\"a\"},\"spec\":"
	    "{\"type\":\"ClusterSetIP\",\"ips\":[\"x\"]}}",
	    "{\"kind\":\"ServiceImport\",\"metadata\":{\"name\":\"a\"},\"spec\":"
	    "{\"type\":\"LoadBalancer\",\"ips\":[\"10.1.1.1\"]}}",
	};

	load(f, LIST(IMPORT("test", "myservice", "ClusterSetIP",
	    "'10.42.42.42'", "{'name':'https','port':443}")));
	render(f);
	assert_int_equal(f->zs.nzones, 3);
	assert_null(strstr(body(f, CLUSTER), "myservice"));
	assert_null(strstr(body(f, "in-addr.arpa."), "myservice"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&st, 0, sizeof(st));
		assert_int_equal(zg_decode_buffer(&f->m, bad[i], strlen(bad[i]),
		    "test", &st, &err), 0);
		assert_int_equal(st.invalid, 1);
		assert_int_equal(st.decoded[ZG_KIND_IMPORT], 0);
	}
}

/* --- R9-R13: headless -------------------------------------------------- */

static void
test_headless_records(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(HEADLESS("shop", "db", "{'name':'pg','port':5432}"),
	    SLICE("shop", "db-v4", "db", "IPv4", "{'name':'pg','protocol':'TCP','port':5432}",
	    EPH("10.244.1.5", "db-0") "," EPH("10.244.2.9", "db-1") "," EP("10.244.3.4")),
	    SLICE("shop", "db-v6", "db", "IPv6", "{'name':'pg','protocol':'TCP','port':5432}",
	    EP("fd00:244::3:4"))));
	render(f);
	/* R9 */
	HAS(f, CLUSTER, "db.shop.svc 30 A 10.244.1.5");
	HAS(f, CLUSTER, "db.shop.svc 30 A 10.244.2.9");
	HAS(f, CLUSTER, "db.shop.svc 30 A 10.244.3.4");
	HAS(f, CLUSTER, "db.shop.svc 30 AAAA fd00:244::3:4");
	/* R10 */
	HAS(f, CLUSTER, "db-0.db.shop.svc 30 A 10.244.1.5");
	HAS(f, CLUSTER, "10-244-3-4.db.shop.svc 30 A 10.244.3.4");
	HAS(f, CLUSTER, "fd00-244--3-4.db.shop.svc 30 AAAA fd00:244::3:4");
	/* R11, weight 100/4 */
	HAS(f, CLUSTER, "_pg._tcp.db.shop.svc 30 SRV 0 25 5432 db-0.db.shop.svc.cluster.local.");
	HAS(f, CLUSTER, "_pg._tcp.db.shop.svc 30 SRV 0 25 5432 db-1.db.shop.svc.cluster.local.");
	HAS(f, CLUSTER, "_pg._tcp.db.shop.svc 30 SRV 0 25 5432 10-244-3-4.db.shop.svc.cluster.local.");
	HAS(f, CLUSTER, "_pg._tcp.db.shop.svc 30 SRV 0 25 5432 fd00-244--3-4.db.shop.svc.cluster.local.");
	/* R12 */
	HAS(f, CLUSTER, "db.shop.svc 30 SRV 0 25 5432 db-0.db.shop.svc.cluster.local.");
	/* R13 */
	HAS(f, "in-addr.arpa.", "5.1.244.10 30 PTR db-0.db.shop.svc.cluster.local.");
	HAS(f, "ip6.arpa.", "4.0.0.0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "4.4.2.0.0.0.d.f 30 PTR fd00-244--3-4.db.shop.svc.cluster.local.");
}

static void
test_headless_without_endpoints_is_nxdomain(void **state)
{
	struct fixture *f = *state;

	/* R19, E19: no slices, or only not-ready endpoints: no records. */
	load(f, LIST(HEADLESS("shop", "empty", "{'name':'x','port':1}"),
	    HEADLESS("shop", "down", "{'name':'x','port':1}"),
	    SLICE("shop", "down-1", "down", "IPv4", "{'name':'x','port':1}",
	    "{'addresses':['10.244.9.9'],'conditions':{'ready':false}}")));
	render(f);
	assert_null(strstr(body(f, CLUSTER), "empty.shop.svc"));
	assert_null(strstr(body(f, CLUSTER), "down.shop.svc"));
	assert_null(strstr(body(f, "in-addr.arpa."), "10.244"));
}

static void
test_headless_without_ports(void **state)
{
	struct fixture *f = *state;

	/* E26: A/AAAA and PTR, no SRV. */
	load(f, LIST(HEADLESS("shop", "np", ""),
	    SLICE("shop", "np-1", "np", "IPv4", "", EP("10.244.0.7"))));
	render(f);
	HAS(f, CLUSTER, "np.shop.svc 30 A 10.244.0.7");
	HAS(f, CLUSTER, "10-244-0-7.np.shop.svc 30 A 10.244.0.7");
	assert_null(strstr(body(f, CLUSTER), "SRV\t0 100 0"));
	assert_null(strstr(body(f, CLUSTER), "np.shop.svc\t30\tIN\tSRV"));
}

/* --- R14: endpoint names under ClusterIP Services ------------------------- */

static void
test_clusterip_endpoint_names(void **state)
{
	struct fixture *f = *state;
	const char *objs = LIST(SVC("shop", "web", "10.96.7.7", "{'name':'http','port':80}"),
	    SLICE("shop", "web-1", "web", "IPv4", "{'name':'http','port':8080}",
	    EP("10.244.7.3")));

	load(f, objs);
	render(f);
	HAS(f, CLUSTER, "10-244-7-3.web.shop.svc 30 A 10.244.7.3");
	HAS(f, "in-addr.arpa.", "3.7.244.10 30 PTR 10-244-7-3.web.shop.svc.cluster.local.");
	/* No SRV to endpoints and no endpoint A at the Service name. */
	LACKS(f, CLUSTER, "web.shop.svc 30 A 10.244.7.3");
	LACKS(f, CLUSTER, "_http._tcp.web.shop.svc 30 SRV 0 100 8080 "
	    "10-244-7-3.web.shop.svc.cluster.local.");

	f->o.clusterip_endpoint_names = false;
	render(f);
	assert_null(strstr(body(f, CLUSTER), "10-244-7-3"));
	assert_null(strstr(body(f, "in-addr.arpa."), "3.7.244.10\t"));
	HAS(f, "in-addr.arpa.", "7.7.96.10 30 PTR web.shop.svc.cluster.local.");
}

/* --- R15: ExternalName (E9, E10, E11) ------------------------------------- */

static void
test_external_name(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(
	    "{'kind':'Service','metadata':{'name':'mail','namespace':'shop'},"
	    "'spec':{'type':'ExternalName','externalName':'SMTP.Example.com.'}}",
	    "{'kind':'Service','metadata':{'name':'ip','namespace':'shop'},"
	    "'spec':{'type':'ExternalName','externalName':'1.2.3.4'}}",
	    "{'kind':'Service','metadata':{'name':'loop','namespace':'shop'},"
	    "'spec':{'type':'ExternalName','externalName':'x.loop.shop.svc.cluster.local'}}",
	    "{'kind':'Service','metadata':{'name':'inzone','namespace':'shop'},"
	    "'spec':{'type':'ExternalName','externalName':'web.shop.svc.cluster.local'}}",
	    "{'kind':'Service','metadata':{'name':'bad','namespace':'shop'},"
	    "'spec':{'type':'ExternalName','externalName':'a..b'}}",
	    SLICE("shop", "mail-1", "mail", "IPv4", "{'name':'smtp','port':25}",
	    EP("10.244.5.5"))));
	render(f);
	HAS(f, CLUSTER, "mail.shop.svc 30 CNAME smtp.example.com.");
	HAS(f, CLUSTER, "inzone.shop.svc 30 CNAME web.shop.svc.cluster.local.");
	/* Nothing else at or below an ExternalName, and no PTR. */
	assert_int_equal(count_owner(f, CLUSTER, "mail.shop.svc"), 1);
	assert_null(strstr(body(f, CLUSTER), "_smtp"));
	assert_null(strstr(body(f, "in-addr.arpa."), "mail"));
	/* E9, E10: IP, loop and invalid targets are skipped, each warned. */
	assert_null(strstr(body(f, CLUSTER), "ip.shop.svc"));
	assert_null(strstr(body(f, CLUSTER), "loop.shop.svc"));
	assert_null(strstr(body(f, CLUSTER), "bad.shop.svc"));
	assert_int_equal(f->zs.stats.skipped, 3);
}

/* --- R16: pods --------------------------------------------------------- */

static void
test_pod_records(void **state)
{
	struct fixture *f = *state;
	const char *pods = LIST(
	    "{'kind':'Pod','metadata':{'name':'a','namespace':'shop'},"
	    "'status':{'phase':'Running','podIP':'10.244.1.5','podIPs':[{'ip':'10.244.1.5'},{'ip':'fd00:10:244:1::'}]}}",
	    "{'kind':'Pod','metadata':{'name':'done','namespace':'shop'},"
	    "'status':{'phase':'Succeeded','podIP':'10.244.1.6'}}",
	    "{'kind':'Pod','metadata':{'name':'bye','namespace':'shop','deletionTimestamp':'2026-01-01T00:00:00Z'},"
	    "'status':{'phase':'Running','podIP':'10.244.1.7'}}",
	    "{'kind':'Pod','metadata':{'name':'h1','namespace':'ns1'},"
	    "'status':{'phase':'Running','podIP':'10.0.0.5'}}",
	    "{'kind':'Pod','metadata':{'name':'h2','namespace':'ns1'},"
	    "'status':{'phase':'Running','podIP':'10.0.0.5'}}",
	    "{'kind':'Pod','metadata':{'name':'h3','namespace':'ns2'},"
	    "'status':{'phase':'Pending','podIP':'10.0.0.5'}}");

	load(f, pods);
	render(f);
	assert_null(strstr(body(f, CLUSTER), ".pod\t"));	/* off by default */
	f->o.pod_records = true;
	render(f);
	HAS(f, CLUSTER, "10-244-1-5.shop.pod 30 A 10.244.1.5");
	/* E16: the pod form of an address ending in "::" has no "0". */
	HAS(f, CLUSTER, "fd00-10-244-1--.shop.pod 30 AAAA fd00:10:244:1::");
	assert_null(strstr(body(f, CLUSTER), "10-244-1-6"));
	assert_null(strstr(body(f, CLUSTER), "10-244-1-7"));
	/* E27: one record per namespace, duplicates removed. */
	assert_int_equal(count_owner(f, CLUSTER, "10-0-0-5.ns1.pod"), 1);
	assert_int_equal(count_owner(f, CLUSTER, "10-0-0-5.ns2.pod"), 1);
	/* Pod IPs that back no Service get no PTR. */
	assert_null(strstr(body(f, "in-addr.arpa."), "5.1.244.10"));
}

/* --- R17, R18: hostnames and readiness ----------------------------------- */

static void
test_readiness(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(HEADLESS("shop", "r", "{'name':'p','port':1}"),
	    SLICE("shop", "r-1", "r", "IPv4", "{'name':'p','port':1}",
	    "{'addresses':['10.1.0.1'],'conditions':{'ready':true}},"
	    "{'addresses':['10.1.0.2'],'conditions':{'ready':false}},"
	    "{'addresses':['10.1.0.3'],'conditions':{}},"
	    "{'addresses':['10.1.0.4']},"
	    "{'addresses':['10.1.0.5'],'conditions':{'ready':false,'serving':true,'terminating':true}},"
	    "{'addresses':['10.1.0.6'],'conditions':{'ready':true,'serving':true,'terminating':true}}")));
	render(f);
	HAS(f, CLUSTER, "r.shop.svc 30 A 10.1.0.1");
	LACKS(f, CLUSTER, "r.shop.svc 30 A 10.1.0.2");
	HAS(f, CLUSTER, "r.shop.svc 30 A 10.1.0.3");	/* absent = ready */
	HAS(f, CLUSTER, "r.shop.svc 30 A 10.1.0.4");
	LACKS(f, CLUSTER, "r.shop.svc 30 A 10.1.0.5");	/* terminating */
	/* publishNotReadyAddresses: the controller writes ready=true. */
	HAS(f, CLUSTER, "r.shop.svc 30 A 10.1.0.6");
	assert_null(strstr(body(f, "in-addr.arpa."), "2.0.1.10\t"));
}

/* --- E1-E5: merging, duplicates, collisions -------------------------------- */

static void
test_slices_merged_and_deduplicated(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(HEADLESS("shop", "m", "{'name':'http','port':80}"),
	    SLICE("shop", "m-a", "m", "IPv4", "{'name':'http','port':8080}",
	    EP("10.2.0.1") "," EP("10.2.0.2")),
	    SLICE("shop", "m-b", "m", "IPv4", "{'name':'http','port':9090}",
	    EP("10.2.0.2") "," EP("10.2.0.3"))));
	render(f);
	assert_int_equal(count_owner(f, CLUSTER, "10-2-0-2.m.shop.svc"), 1);
	/* E8: each endpoint's SRV carries its own slice's port. */
	HAS(f, CLUSTER, "_http._tcp.m.shop.svc 30 SRV 0 25 8080 10-2-0-1.m.shop.svc.cluster.local.");
	HAS(f, CLUSTER, "_http._tcp.m.shop.svc 30 SRV 0 25 9090 10-2-0-3.m.shop.svc.cluster.local.");
	/* E2: the moving endpoint shows up with both ports, once each. */
	HAS(f, CLUSTER, "_http._tcp.m.shop.svc 30 SRV 0 25 8080 10-2-0-2.m.shop.svc.cluster.local.");
	HAS(f, CLUSTER, "_http._tcp.m.shop.svc 30 SRV 0 25 9090 10-2-0-2.m.shop.svc.cluster.local.");
	assert_int_equal(count_owner(f, CLUSTER, "_http._tcp.m.shop.svc"), 4);
	assert_int_equal(count_owner(f, "in-addr.arpa.", "2.0.2.10"), 1);
}

static void
test_hostname_collisions(void **state)
{
	struct fixture *f = *state;

	/* E3: two endpoints with one hostname share a name. */
	load(f, LIST(HEADLESS("shop", "db", "{'name':'pg','port':5432}"),
	    SLICE("shop", "db-1", "db", "IPv4", "{'name':'pg','port':5432}",
	    EPH("10.3.0.1", "db") "," EPH("10.3.0.2", "db"))));
	render(f);
	HAS(f, CLUSTER, "db.db.shop.svc 30 A 10.3.0.1");
	HAS(f, CLUSTER, "db.db.shop.svc 30 A 10.3.0.2");
	assert_int_equal(count_owner(f, CLUSTER, "_pg._tcp.db.shop.svc"), 1);
	HAS(f, CLUSTER, "_pg._tcp.db.shop.svc 30 SRV 0 100 5432 db.db.shop.svc.cluster.local.");
	HAS(f, "in-addr.arpa.", "1.0.3.10 30 PTR db.db.shop.svc.cluster.local.");
	HAS(f, "in-addr.arpa.", "2.0.3.10 30 PTR db.db.shop.svc.cluster.local.");
	assert_int_equal(f->warns, 1);	/* only the missing ns.dns address */

	/* E4: a hostname equal to another endpoint's dashed address. */
	load(f, LIST(HEADLESS("shop", "e4", ""),
	    SLICE("shop", "e4-1", "e4", "IPv4", "",
	    EPH("10.3.1.1", "10-3-1-2") "," EP("10.3.1.2"))));
	render(f);
	HAS(f, CLUSTER, "10-3-1-2.e4.shop.svc 30 A 10.3.1.1");
	HAS(f, CLUSTER, "10-3-1-2.e4.shop.svc 30 A 10.3.1.2");
	assert_int_equal(f->warns, 2);
}

static void
test_service_named_like_address(void **state)
{
	struct fixture *f = *state;

	/* E5, E28: no collisions between svc, pod, dns-version, ns.dns. */
	f->o.pod_records = true;
	load(f, LIST(SVC("shop", "10-244-1-5", "10.96.0.5", ""),
	    SVC("dns", "ns", "10.96.0.6", ""),
	    SVC("svc", "dns-version", "10.96.0.7", ""),
	    "{'kind':'Pod','metadata':{'name':'p','namespace':'shop'},"
	    "'status':{'phase':'Running','podIP':'10.244.1.5'}}"));
	render(f);
	HAS(f, CLUSTER, "10-244-1-5.shop.svc 30 A 10.96.0.5");
	HAS(f, CLUSTER, "10-244-1-5.shop.pod 30 A 10.244.1.5");
	HAS(f, CLUSTER, "ns.dns.svc 30 A 10.96.0.6");
	HAS(f, CLUSTER, "dns-version.svc.svc 30 A 10.96.0.7");
	HAS(f, CLUSTER, "dns-version 28800 TXT \"1.1.0\"");
}

/* --- E13, E14: limits ---------------------------------------------------- */

static void
test_name_limits(void **state)
{
	struct fixture *f = *state;
	char json[4096], json2[4096], port63[64], zone[80];

	memset(port63, 'p', 63);
	port63[63] = '\0';
	snprintf(json, sizeof(json), SVC("shop", "lim", "10.96.3.3",
	    "{'name':'%s','port':1},{'name':'ok','port':2}"), port63);
	load(f, LIST(json));
	render(f);
	/* E13: a 64-octet "_" label is skipped with a warning. */
	assert_null(strstr(body(f, CLUSTER), port63));
	HAS(f, CLUSTER, "_ok._tcp.lim.shop.svc 30 SRV 0 100 2 lim.shop.svc.cluster.local.");
	HAS(f, CLUSTER, "lim.shop.svc 30 SRV 0 100 1 lim.shop.svc.cluster.local.");
	assert_int_equal(f->zs.stats.skipped, 1);

	/* Endpoint names overflow 255 octets under a long cluster domain:
	 * 3 x 63 + "svc" + a 62-character domain label (E13). */
	memset(zone, 'z', 62);
	zone[62] = '\0';
	snprintf(f->o.zone, sizeof(f->o.zone), "%s", zone);
	zg_model_free(&f->m);
	zg_model_init(&f->m);
	snprintf(json, sizeof(json), HEADLESS("%s", "%s", ""), port63, port63);
	snprintf(json2, sizeof(json2), SLICE("%s", "s1", "%s", "IPv4", "",
	    EPH("10.4.0.1", "%s")), port63, port63, port63);
	load(f, LIST(json, json2));
	render(f);
	/* The Service name fits (A at it), the endpoint name does not. */
	assert_non_null(strstr(body(f, f->o.zone), "\tA\t10.4.0.1\n"));
	assert_int_equal(count_owner(f, f->o.zone, port63), 0);
	assert_int_equal(f->zs.stats.skipped, 1);
}

static void
test_illegal_labels(void **state)
{
	struct fixture *f = *state;

	/* E14, E17: invalid hostnames, dotted pod names. */
	f->o.endpoint_pod_names = true;
	load(f, LIST(HEADLESS("shop", "h", ""),
	    SLICE("shop", "h-1", "h", "IPv4", "",
	    EPH("10.5.0.1", "Bad_Host") ","
	    "{'addresses':['10.5.0.2'],'targetRef':{'kind':'Pod','name':'a.b'}},"
	    "{'addresses':['10.5.0.3'],'targetRef':{'kind':'Pod','name':'db-7f9c-x2x'}},"
	    "{'addresses':['10.5.0.4'],'targetRef':{'kind':'Node','name':'node1'}}"),
	    SVC("BadNS", "x", "10.96.9.9", "")));
	render(f);
	/* The invalid hostname: the Service-level A stays, the name goes. */
	HAS(f, CLUSTER, "h.shop.svc 30 A 10.5.0.1");
	assert_null(strstr(body(f, CLUSTER), "Bad_Host"));
	HAS(f, CLUSTER, "10-5-0-2.h.shop.svc 30 A 10.5.0.2");	/* E17 */
	HAS(f, CLUSTER, "db-7f9c-x2x.h.shop.svc 30 A 10.5.0.3");	/* R23 */
	HAS(f, CLUSTER, "10-5-0-4.h.shop.svc 30 A 10.5.0.4");	/* not a Pod */
	assert_null(strstr(body(f, CLUSTER), "BadNS"));
	assert_int_equal(f->zs.stats.skipped, 2);
}

/* --- E15, E16: IPv6 labels ------------------------------------------------ */

static void
test_ipv6_labels(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(HEADLESS("shop", "v6", ""),
	    SLICE("shop", "v6-1", "v6", "IPv6", "",
	    EP("fd00:10:244:1::") "," EP("::1") "," EP("FD00:0:0:0:0:0:0:7")),
	    SLICE("shop", "v6-2", "v6", "IPv4", "", EP("10.6.0.1"))));
	render(f);
	HAS(f, CLUSTER, "fd00-10-244-1--0.v6.shop.svc 30 AAAA fd00:10:244:1::");
	HAS(f, CLUSTER, "--1.v6.shop.svc 30 AAAA ::1");
	/* Canonicalised (RFC 5952) before the label is derived. */
	HAS(f, CLUSTER, "fd00--7.v6.shop.svc 30 AAAA fd00::7");
	/* E15: dual-stack without hostnames: two labels. */
	HAS(f, CLUSTER, "10-6-0-1.v6.shop.svc 30 A 10.6.0.1");
}

/* --- E20, E21: orphan and odd slices ------------------------------------- */

static void
test_orphan_and_fqdn_slices(void **state)
{
	struct fixture *f = *state;

	load(f, LIST(SLICE("shop", "orphan-1", "gone", "IPv4", "", EP("10.7.0.1")),
	    HEADLESS("shop", "f", ""),
	    SLICE("shop", "f-1", "f", "FQDN", "", "{'addresses':['foo.example.com']}"),
	    "{'kind':'EndpointSlice','metadata':{'name':'nolabel','namespace':'shop'},"
	    "'addressType':'IPv4','endpoints':[" EP("10.7.0.2") "]}"));
	render(f);
	assert_null(strstr(body(f, CLUSTER), "gone"));
	assert_null(strstr(body(f, "in-addr.arpa."), "1.0.7.10"));
	assert_null(strstr(body(f, CLUSTER), "f.shop.svc"));
	assert_null(strstr(body(f, CLUSTER), "10.7.0.2"));
}

/* --- R20: reverse zones -------------------------------------------------- */

static void
test_reverse_zone_split(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(zg_cidr_parse(&f->o.reverse[0], "10.96.0.0/12"), 0);
	assert_int_equal(zg_cidr_parse(&f->o.reverse[1], "fd00:94::/30"), 0);
	f->o.nreverse = 2;
	load(f, LIST(SVC("default", "kubernetes", "10.96.0.1", ""),
	    SVC("shop", "out", "10.200.0.1", ""),
	    SVC("shop", "six", "fd00:96::1", "")));
	render(f);
	/* 1 forward + 16 IPv4 /16 zones + 4 IPv6 /32 zones. */
	assert_int_equal(f->zs.nzones, 1 + 16 + 4);
	assert_non_null(zg_zoneset_find(&f->zs, "96.10.in-addr.arpa."));
	assert_non_null(zg_zoneset_find(&f->zs, "111.10.in-addr.arpa."));
	assert_null(zg_zoneset_find(&f->zs, "112.10.in-addr.arpa."));
	assert_null(zg_zoneset_find(&f->zs, "in-addr.arpa."));
	assert_non_null(zg_zoneset_find(&f->zs, "4.9.0.0.0.0.d.f.ip6.arpa."));
	assert_non_null(zg_zoneset_find(&f->zs, "7.9.0.0.0.0.d.f.ip6.arpa."));
	assert_null(zg_zoneset_find(&f->zs, "8.9.0.0.0.0.d.f.ip6.arpa."));
	HAS(f, "96.10.in-addr.arpa.", "1.0 30 PTR kubernetes.default.svc.cluster.local.");
	/* No kube-dns Service here: the name server is localhost. (R2). */
	HAS(f, "96.10.in-addr.arpa.", "@ 30 NS localhost.");
	/* Outside every served reverse zone: no PTR anywhere. */
	for (size_t i = 1; i < f->zs.nzones; i++)
		assert_null(strstr(f->zs.zones[i].body.data, "out.shop"));
	HAS(f, "6.9.0.0.0.0.d.f.ip6.arpa.", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0 30 PTR six.shop.svc.cluster.local.");
}

/* --- R22, E22, E30: namespace filter --------------------------------------- */

static void
test_namespace_filter(void **state)
{
	struct fixture *f = *state;

	f->o.namespaces[0] = strdup("shop");
	f->o.nnamespaces = 1;
	load(f, LIST(SVC("shop", "web", "10.96.8.1", ""),
	    SVC("hidden", "web", "10.96.8.2", ""),
	    HEADLESS("hidden", "h", ""),
	    SLICE("hidden", "h-1", "h", "IPv4", "", EP("10.8.0.1")),
	    HEADLESS("shop", "h", ""),
	    SLICE("shop", "h-1", "h", "IPv4", "", EP("10.8.0.1"))));
	render(f);
	HAS(f, CLUSTER, "web.shop.svc 30 A 10.96.8.1");
	assert_null(strstr(body(f, CLUSTER), "hidden"));
	/* E22/E30: PTRs follow the filter. */
	assert_null(strstr(body(f, "in-addr.arpa."), "hidden"));
	HAS(f, "in-addr.arpa.", "1.0.8.10 30 PTR 10-8-0-1.h.shop.svc.cluster.local.");
	assert_int_equal(count_owner(f, "in-addr.arpa.", "1.0.8.10"), 1);
}

static void
test_namespace_objects_define_existence(void **state)
{
	struct fixture *f = *state;

	load(f, LIST("{'kind':'Namespace','metadata':{'name':'shop'}}",
	    SVC("shop", "web", "10.96.8.1", ""),
	    SVC("ghost", "web", "10.96.8.2", ""),
	    SLICE("ghost", "web-1", "web", "IPv4", "", EP("10.8.0.9"))));
	render(f);
	HAS(f, CLUSTER, "web.shop.svc 30 A 10.96.8.1");
	assert_null(strstr(body(f, CLUSTER), "ghost"));
	/* the Service and its slice: objects outside */
	assert_int_equal(f->zs.stats.filtered, 2);
}

/* --- E23, E24, R13 exclusion ---------------------------------------------- */

static void
test_endpoint_ptr_not_for_clusterips(void **state)
{
	struct fixture *f = *state;

	/* An endpoint address that is also a ClusterIP: only R8's PTR. */
	load(f, LIST(SVC("default", "kubernetes", "10.96.0.1", "{'name':'https','port':443}"),
	    SVC("shop", "odd", "10.96.0.9", ""),
	    SLICE("shop", "odd-1", "odd", "IPv4", "", EP("10.96.0.1"))));
	render(f);
	assert_int_equal(count_owner(f, "in-addr.arpa.", "1.0.96.10"), 1);
	HAS(f, "in-addr.arpa.", "1.0.96.10 30 PTR kubernetes.default.svc.cluster.local.");

	/* E24: a hostname under a ClusterIP Service (R14 names it). */
	load(f, LIST(SVC("shop", "sub", "10.96.0.8", ""),
	    SLICE("shop", "sub-1", "sub", "IPv4", "", EPH("10.9.0.1", "querier-2"))));
	render(f);
	HAS(f, CLUSTER, "querier-2.sub.shop.svc 30 A 10.9.0.1");
}

/* --- R21, E29: never a wildcard ------------------------------------------- */

#define EXTNAME(ns, name, target) \
	"{'kind':'Service','metadata':{'name':'" name "','namespace':'" ns "'}," \
	"'spec':{'type':'ExternalName','externalName':'" target "'}}"

/*
 * Names that would be zone-file syntax ("*", a newline and a record
 * after it, $INCLUDE, ";" comments, "@", quotes, backslashes) never
 * reach a zone: every line is the header or a record of plain labels.
 */
static void
test_no_wildcards(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = { "*", "$INCLUDE", "$ORIGIN", ";", "@", "\"",
	    "\\", "(", " IN NS " };

	load(f, LIST(SVC("shop", "web", "10.96.8.1", "{'name':'http','port':80}"),
	    SVC("shop", "*", "10.96.8.2", ""),
	    SVC("shop", "mail", "10.96.8.3",
	    "{'name':'*','port':25},{'name':'a;b','port':26}"),
	    HEADLESS("shop", "db", "{'name':'pg','port':5432}"),
	    SLICE("shop", "db-1", "db", "IPv4", "{'name':'pg','port':5432}",
	    EPH("10.8.0.1", "*") "," EPH("10.8.0.2", "a\\nb IN NS x.") ","
	    EPH("10.8.0.3", "$INCLUDE")),
	    EXTNAME("shop", "ext1", "$INCLUDE /etc/passwd"),
	    EXTNAME("shop", "ext2", "evil.example.\\n@ IN NS x."),
	    EXTNAME("shop", "ext3", "*.example.com"),
	    EXTNAME("shop", "ext4", "a;b.example.com")));
	render(f);
	HAS(f, CLUSTER, "web.shop.svc 30 A 10.96.8.1");
	HAS(f, CLUSTER, "mail.shop.svc 30 A 10.96.8.3");
	for (size_t i = 0; i < f->zs.nzones; i++) {
		const char *line = f->zs.zones[i].body.data, *end;

		for (; line && *line; line = end ? end + 1 : NULL) {
			char l[512];
			size_t n;

			end = strchr(line, '\n');
			n = end ? (size_t)(end - line) : strlen(line);
			snprintf(l, sizeof(l), "%.*s", (int)n, line);
			/* the apex NS and the schema TXT are the rules' own */
			if (strncmp(l, "@\t30\tIN\tNS\t", 11) == 0 ||
			    strcmp(l, "dns-version\t28800\tIN\tTXT\t"
			    "\"1.1.0\"") == 0)
				continue;
			/* anything else: an owner of plain labels, a TAB */
			n = strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789-_.");
			if (n == 0 || l[n] != '\t')
				fail_msg("%s: line \"%s\"",
				    f->zs.zones[i].origin, l);
			for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]);
			    b++)
				if (strstr(l, bad[b]))
					fail_msg("%s holds \"%s\": %s",
					    f->zs.zones[i].origin, bad[b], l);
		}
	}
	assert_true(f->zs.stats.skipped > 0);
}

/* --- canonical order and determinism -------------------------------------- */

static void
test_canonical_order(void **state)
{
	struct fixture *f = *state;
	const char *text, *a, *b, *c, *d;

	load(f, LIST(SVC("b", "z", "10.96.0.20", ""), SVC("a", "y", "10.96.0.3", ""),
	    SVC("a", "y-x", "10.96.0.4", ""), SVC("a", "a", "10.96.0.100", "")));
	render(f);
	text = body(f, CLUSTER);
	/* Labels compared from the right: a.svc < y.a.svc < y-x.a.svc. */
	a = strstr(text, "a.a.svc\t");
	b = strstr(text, "y.a.svc\t");
	c = strstr(text, "y-x.a.svc\t");
	d = strstr(text, "z.b.svc\t");
	assert_true(a && b && c && d);
	assert_true(a < b && b < c && c < d);
	/* PTRs: numeric octets sort as labels, 100 < 20 < 3 < 4. */
	text = body(f, "in-addr.arpa.");
	assert_true(strstr(text, "100.0.96.10") < strstr(text, "20.0.96.10"));
	assert_true(strstr(text, "20.0.96.10") < strstr(text, "3.0.96.10"));
}

static void
test_deterministic_whatever_the_order(void **state)
{
	struct fixture *f = *state;
	struct zg_model m2;
	struct zg_zoneset zs2;
	struct zg_decode_stats st = { 0 };
	struct zg_decode_error err = { 0 };
	char *s;
	const char *fwd = LIST(HEADLESS("shop", "db", "{'name':'pg','port':5432}"),
	    SLICE("shop", "db-1", "db", "IPv4", "{'name':'pg','port':5432}",
	    EP("10.1.1.1") "," EP("10.1.1.2")),
	    SLICE("shop", "db-2", "db", "IPv4", "{'name':'pg','port':5432}",
	    EP("10.1.1.3")), SVC("shop", "web", "10.96.3.3", "{'name':'h','port':1}"));
	const char *rev = LIST(SVC("shop", "web", "10.96.3.3", "{'name':'h','port':1}"),
	    SLICE("shop", "db-2", "db", "IPv4", "{'name':'pg','port':5432}",
	    EP("10.1.1.3")), SLICE("shop", "db-1", "db", "IPv4", "{'name':'pg','port':5432}",
	    EP("10.1.1.2") "," EP("10.1.1.1")),
	    HEADLESS("shop", "db", "{'name':'pg','port':5432}"));

	load(f, fwd);
	render(f);
	zg_model_init(&m2);
	s = strdup(rev);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	assert_int_equal(zg_decode_buffer(&m2, s, strlen(s), "t", &st, &err), 0);
	free(s);
	assert_int_equal(zg_render(&m2, &f->o, &zs2), 0);
	assert_int_equal(zs2.nzones, f->zs.nzones);
	for (size_t i = 0; i < zs2.nzones; i++) {
		assert_string_equal(zs2.zones[i].body.data, f->zs.zones[i].body.data);
		assert_true(zs2.zones[i].hash == f->zs.zones[i].hash);
	}
	zg_zoneset_free(&zs2);
	zg_model_free(&m2);
}

static void
test_hash_tracks_content(void **state)
{
	struct fixture *f = *state;
	uint64_t h1, h2;

	load(f, LIST(SVC("shop", "web", "10.96.3.3", "")));
	render(f);
	h1 = zg_zoneset_find(&f->zs, CLUSTER)->hash;
	render(f);
	assert_true(h1 == zg_zoneset_find(&f->zs, CLUSTER)->hash);
	load(f, LIST(SVC("shop", "web", "10.96.3.4", "")));	/* replaces */
	render(f);
	h2 = zg_zoneset_find(&f->zs, CLUSTER)->hash;
	assert_true(h1 != h2);
	LACKS(f, CLUSTER, "web.shop.svc 30 A 10.96.3.3");
	HAS(f, CLUSTER, "web.shop.svc 30 A 10.96.3.4");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_apex_records),
		T(test_dns_ip_option_and_soa_ttl_cap),
		T(test_no_dns_address_warns),
		T(test_ns_option_names_every_zone),
		T(test_soa_options),
		T(test_ns_and_soa_option_errors),
		T(test_ns_option_limit),
		T(test_clusterip_records),
		T(test_dual_stack_clusterip),
		T(test_unnamed_and_sctp_ports),
		T(test_clusterset_ip_import),
		T(test_clusterset_headless_import),
		T(test_clusterset_ptr_unambiguous),
		T(test_clusterset_off_and_bad_imports),
		T(test_headless_records),
		T(test_headless_without_endpoints_is_nxdomain),
		T(test_headless_without_ports),
		T(test_clusterip_endpoint_names),
		T(test_external_name),
		T(test_pod_records),
		T(test_readiness),
		T(test_slices_merged_and_deduplicated),
		T(test_hostname_collisions),
		T(test_service_named_like_address),
		T(test_name_limits),
		T(test_illegal_labels),
		T(test_ipv6_labels),
		T(test_orphan_and_fqdn_slices),
		T(test_reverse_zone_split),
		T(test_namespace_filter),
		T(test_namespace_objects_define_existence),
		T(test_endpoint_ptr_not_for_clusterips),
		T(test_no_wildcards),
		T(test_canonical_order),
		T(test_deterministic_whatever_the_order),
		T(test_hash_tracks_content),
#undef T
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
