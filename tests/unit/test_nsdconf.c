/*
 * tests/unit/test_nsdconf.c -- nsd-conf/conf and nsd: options, nsd.conf text.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "nsd-conf/catalog.h"
#include "nsd-conf/conf.h"
#include "nsd-conf/nsd.h"

/* A fixed feed: the real one has a random secret. */
static void
test_feed(struct nc_feed_ref *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->ip, sizeof(f->ip), "127.0.0.1");
	f->port = 25381;
	snprintf(f->key.name, sizeof(f->key.name), "kubezone-feed");
	snprintf(f->key.alg, sizeof(f->key.alg), "hmac-sha256");
	snprintf(f->key.secret, sizeof(f->key.secret),
	    "ZmVlZGZlZWRmZWVkZmVlZA==");
}

/* Parse ARGS (NULL-terminated, without argv[0]) into O. */
static int
parse(struct nc_opts *o, const char *const *args, char *err, size_t errsz)
{
	struct kz_opt_table t = { "NSD options", nc_opt_table, o };
	char *argv[32], *pos[32];
	size_t n = 0, npos;
	int help, rc;

	argv[n++] = (char *)"test";
	for (; *args; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	rc = kz_opt_parse((int)n, argv, &t, 1, pos, &npos, &help, err, errsz);
	if (rc == 0)
		rc = nc_opts_finish(o, err, errsz);
	return rc;
}

static void
test_addr_forms(void **state)
{
	struct nc_addr a;
	char err[256];

	(void)state;
	assert_int_equal(nc_parse_addr("127.0.0.1", 5353, false, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.ip, "127.0.0.1");
	assert_int_equal(a.port, 5353);
	assert_int_equal(a.family, 4);
	assert_int_equal(nc_parse_addr("10.1.2.3:53", 5353, false, &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.port, 53);
	assert_int_equal(nc_parse_addr("[::1]:5353", 53, false, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.ip, "::1");
	assert_int_equal(a.port, 5353);
	assert_int_equal(a.family, 6);
	assert_int_equal(nc_parse_addr("fd00::53", 53, false, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.ip, "fd00::53");
	assert_int_equal(a.port, 53);
	assert_int_equal(nc_parse_addr("192.0.2.1:5300,key=xfr", 53, true, &a,
	    err, sizeof(err)), 0);
	assert_string_equal(a.key, "xfr");
	assert_int_equal(a.port, 5300);
	assert_int_equal(nc_parse_addr("[fd00::1],key=k1", 53, true, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.ip, "fd00::1");
	assert_string_equal(a.key, "k1");
	/* Refused: a key on --listen, bad ports, not an address. */
	assert_int_equal(nc_parse_addr("127.0.0.1,key=x", 53, false, &a, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_addr("127.0.0.1:0", 53, false, &a, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_addr("127.0.0.1:65536", 53, false, &a, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_addr("localhost:53", 53, false, &a, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_addr("[::1", 53, false, &a, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_addr("1.2.3.4,secret=x", 53, true, &a, err,
	    sizeof(err)), KZ_EINVAL);
}

static void
test_acl_and_key(void **state)
{
	struct nc_acl acl;
	struct nc_key k;
	char err[256];

	(void)state;
	assert_int_equal(nc_parse_acl("10.0.0.0/8", &acl, err, sizeof(err)),
	    0);
	assert_string_equal(acl.cidr, "10.0.0.0/8");
	assert_string_equal(acl.key, "");
	assert_int_equal(nc_parse_acl("fd00::/64,key=xfr", &acl, err,
	    sizeof(err)), 0);
	assert_string_equal(acl.cidr, "fd00::/64");
	assert_string_equal(acl.key, "xfr");
	assert_int_equal(nc_parse_acl("10.0.0.0/33", &acl, err, sizeof(err)),
	    KZ_EINVAL);
	assert_int_equal(nc_parse_acl("nope/8", &acl, err, sizeof(err)),
	    KZ_EINVAL);

	assert_int_equal(nc_parse_key("xfr.:HMAC-SHA256:c2VjcmV0c2VjcmV0",
	    &k, err, sizeof(err)), 0);
	assert_string_equal(k.name, "xfr");
	assert_string_equal(k.alg, "hmac-sha256");
	assert_string_equal(k.secret, "c2VjcmV0c2VjcmV0");
	assert_int_equal(nc_parse_key("xfr:hmac-sha999:c2VjcmV0", &k, err,
	    sizeof(err)), KZ_EINVAL);
	assert_non_null(strstr(err, "hmac-sha999"));
	assert_int_equal(nc_parse_key("xfr:hmac-sha256:not base64!", &k, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_key("xfr:hmac-sha256", &k, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_key("bad name:hmac-sha256:c2VjcmV0", &k,
	    err, sizeof(err)), KZ_EINVAL);
}

/* An invalid --tsig-key names the key and the problem, not the secret. */
static void
test_key_error_hides_secret(void **state)
{
	const char *bad_secret[] = { "--tsig-key",
		"xfr:hmac-sha256:c2VjcmV0!TOPSECRET", NULL };
	const char *bad_alg[] = { "--tsig-key",
		"xfr:hmac-sha999:c2VjcmV0TOPSECRET", NULL };
	struct nc_opts o;
	char err[512];

	(void)state;
	nc_opts_init(&o);
	assert_int_equal(parse(&o, bad_secret, err, sizeof(err)), KZ_EUSAGE);
	assert_null(strstr(err, "TOPSECRET"));
	assert_non_null(strstr(err, "'xfr'"));
	assert_non_null(strstr(err, "not base64"));
	nc_opts_init(&o);
	assert_int_equal(parse(&o, bad_alg, err, sizeof(err)), KZ_EUSAGE);
	assert_null(strstr(err, "TOPSECRET"));
	assert_non_null(strstr(err, "'xfr'"));
	assert_non_null(strstr(err, "hmac-sha999"));
}

/* A key file that group or others may read is accepted with a warning. */
static void
test_key_file_readable_warns(void **state)
{
	char path[] = "/tmp/kz-test-keys-XXXXXX", err[256];
	const char *args[] = { "--tsig-key-file", path, NULL };
	struct nc_opts o;
	unsigned long before;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, "k:hmac-sha256:Zmlyc3RmaXJzdA==\n", 31) == 31);
	close(fd);
	before = kz_log_count(KZ_LOG_WARN);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(kz_log_count(KZ_LOG_WARN), before);
	chmod(path, 0640);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(kz_log_count(KZ_LOG_WARN), before + 1);
	assert_int_equal(o.nkeys, 1);
	unlink(path);
}

static void
test_key_file_and_refs(void **state)
{
	char path[] = "/tmp/kz-test-keys-XXXXXX", err[256];
	const char *args[] = { "--tsig-key-file", path, "--allow-transfer",
		"10.0.0.0/8,key=second", "--notify", "192.0.2.7:5300,key=first",
		NULL };
	const char *bad[] = { "--notify", "192.0.2.7,key=missing", NULL };
	struct nc_opts o;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "# keys\n\nfirst:hmac-sha256:Zmlyc3RmaXJzdA==\n"
	    "  second:hmac-sha512:c2Vjb25kc2Vjb25k  \n");
	fclose(f);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(o.nkeys, 2);
	assert_string_equal(o.keys[1].name, "second");
	assert_string_equal(o.keys[1].alg, "hmac-sha512");
	/* The default --listen is filled in by nc_opts_finish. */
	assert_int_equal(o.nlisten, 1);
	assert_string_equal(o.listen[0].ip, "127.0.0.1");
	assert_int_equal(o.listen[0].port, 5353);

	nc_opts_init(&o);
	assert_int_equal(parse(&o, bad, err, sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "missing"));
	unlink(path);
}

static const char expected_conf[] =
	"# nsd.conf generated by kubezone: do not edit, it is rewritten at "
	"every start.\n"
	"server:\n"
	"\tdebug-mode: yes\n"
	"\tip-address: 127.0.0.1@15353\n"
	"\tip-address: ::1@15353\n"
	"\tdo-ip4: yes\n"
	"\tdo-ip6: yes\n"
	"\tusername: \"\"\n"
	"\tchroot: \"\"\n"
	"\tdatabase: \"\"\n"
	"\tzonesdir: \"/var/lib/kz/zones\"\n"
	"\tpidfile: \"/var/lib/kz/nsd.pid\"\n"
	"\tzonelistfile: \"/var/lib/kz/zone.list\"\n"
	"\txfrdfile: \"/var/lib/kz/xfr/xfrd.state\"\n"
	"\txfrdir: \"/var/lib/kz/xfr\"\n"
	"\tverbosity: 1\n"
	"\tserver-count: 1\n"
	"\treuseport: no\n"
	"\trrl-size: 1000\n"
	"\trrl-ratelimit: 0\n"
	"\trrl-whitelist-ratelimit: 0\n"
	"\tround-robin: yes\n"
	"\tipv4-edns-size: 1232\n"
	"\tipv6-edns-size: 1232\n"
	"\tzonefiles-check: no\n"
	"\tzonefiles-write: 0\n"
	"\txfrd-reload-timeout: 0\n"
	"remote-control:\n"
	"\tcontrol-enable: yes\n"
	"\tcontrol-interface: \"/var/lib/kz/nsd.ctl\"\n"
	"key:\n"
	"\tname: \"kubezone-feed\"\n"
	"\talgorithm: hmac-sha256\n"
	"\tsecret: \"ZmVlZGZlZWRmZWVkZmVlZA==\"\n"
	"key:\n"
	"\tname: \"xfr\"\n"
	"\talgorithm: hmac-sha256\n"
	"\tsecret: \"c2VjcmV0c2VjcmV0\"\n"
	"pattern:\n"
	"\tname: \"kubezone\"\n"
	"\trequest-xfr: 127.0.0.1@25381 kubezone-feed\n"
	"\tallow-notify: 127.0.0.1 kubezone-feed\n"
	"\tallow-notify: ::1 kubezone-feed\n"
	"\tprovide-xfr: 127.0.0.1 NOKEY\n"
	"\tprovide-xfr: ::1 NOKEY\n"
	"\tprovide-xfr: 127.0.0.1 xfr\n"
	"\tprovide-xfr: ::1 xfr\n"
	"\tprovide-xfr: 10.0.0.0/8 xfr\n"
	"\tprovide-xfr: 192.0.2.0/24 NOKEY\n"
	"\tnotify: 10.1.1.1@53 xfr\n"
	"\tnotify: 127.0.0.1@15354 NOKEY\n"
	"\tstore-ixfr: yes\n"
	"\tixfr-number: 5\n"
	"zone:\n"
	"\tname: \"cluster.local\"\n"
	"\tzonefile: \"/var/lib/kz/zones/cluster.local.zone\"\n"
	"\tinclude-pattern: \"kubezone\"\n"
	"zone:\n"
	"\tname: \"in-addr.arpa\"\n"
	"\tzonefile: \"/var/lib/kz/zones/in-addr.arpa.zone\"\n"
	"\tinclude-pattern: \"kubezone\"\n";

static void
test_conf_render(void **state)
{
	const char *args[] = { "--listen", "127.0.0.1:15353", "--listen",
		"[::1]:15353", "--tsig-key", "xfr:hmac-sha256:c2VjcmV0c2VjcmV0",
		"--allow-transfer", "10.0.0.0/8,key=xfr", "--allow-transfer",
		"192.0.2.0/24", "--notify", "10.1.1.1,key=xfr", "--notify",
		"127.0.0.1:15354", "--state-dir", "/var/lib/kz", NULL };
	const struct nc_zone_ref zones[] = {
		{ "cluster.local", "cluster.local.zone" },
		{ "in-addr.arpa", "in-addr.arpa.zone" },
	};
	struct nc_feed_ref feed;
	struct nc_paths p;
	struct nc_opts o;
	struct kz_buf b;
	char err[256];

	(void)state;
	test_feed(&feed);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(nc_paths_init(&p, o.state_dir), 0);
	assert_string_equal(p.serials, "/var/lib/kz/serial.state");
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 2, &b), 0);
	assert_string_equal(b.data, expected_conf);
	kz_buf_free(&b);
}

/* The text of the zone: clause for NAME, up to the next clause. */
static const char *
zone_clause(const char *conf, const char *name, char *out, size_t outsz)
{
	char head[300];
	const char *s, *e;

	snprintf(head, sizeof(head), "zone:\n\tname: \"%s\"\n", name);
	s = strstr(conf, head);
	if (s == NULL)
		return NULL;
	e = strstr(s + 1, "\nzone:");
	e = e ? e + 1 : s + strlen(s);
	snprintf(out, outsz, "%.*s", (int)(e - s), s);
	return out;
}

/*
 * Every zone is a secondary of the feed: its clause names its zone file
 * in the state directory and includes the pattern, which asks the feed
 * for transfers and takes its NOTIFYs, both with the feed's key, which
 * has a key: clause before any use.
 */
static void
test_conf_secondary_of_feed(void **state)
{
	const char *args[] = { "--zonefiles-write", "0", "--state-dir",
		"/s", NULL };
	const struct nc_zone_ref zones[] = {
		{ "cluster.local", "cluster.local.zone" },
		{ "10.in-addr.arpa", "10.in-addr.arpa.zone" },
		{ "d.f.ip6.arpa", "d.f.ip6.arpa.zone" },
	};
	struct nc_feed_ref feed;
	struct nc_paths p;
	struct nc_opts o;
	struct kz_buf b;
	char err[256], zc[1024], want[512];
	const char *pat, *key;

	(void)state;
	assert_int_equal(nc_feed_ref_init(&feed, 40053), 0);
	assert_string_equal(feed.ip, "127.0.0.1");
	assert_string_equal(feed.key.name, "kubezone-feed");
	assert_string_equal(feed.key.alg, "hmac-sha256");
	assert_int_equal(strlen(feed.key.secret), 44);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(nc_paths_init(&p, o.state_dir), 0);
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 3, &b), 0);
	assert_non_null(strstr(b.data, "\tdatabase: \"\"\n"));
	assert_true(strstr(b.data, "\tzonefiles-write: 0\n") >
	    strstr(b.data, "\tdatabase: \"\"\n"));
	assert_non_null(strstr(b.data, "\txfrd-reload-timeout: 0\n"));
	assert_null(strstr(b.data, "create-ixfr"));

	snprintf(want, sizeof(want), "key:\n\tname: \"kubezone-feed\"\n"
	    "\talgorithm: hmac-sha256\n\tsecret: \"%s\"\n",
	    feed.key.secret);
	key = strstr(b.data, want);
	pat = strstr(b.data, "pattern:\n\tname: \"kubezone\"\n");
	assert_non_null(key);
	assert_non_null(pat);
	assert_true(key < pat);
	assert_non_null(strstr(pat, "\trequest-xfr: 127.0.0.1@40053 "
	    "kubezone-feed\n"));
	assert_non_null(strstr(pat, "\tallow-notify: 127.0.0.1 "
	    "kubezone-feed\n"));
	assert_non_null(strstr(pat, "\tallow-notify: ::1 kubezone-feed\n"));
	assert_non_null(strstr(pat, "\tstore-ixfr: yes\n\tixfr-number: 5\n"));

	for (size_t i = 0; i < 3; i++) {
		assert_non_null(zone_clause(pat, zones[i].name, zc,
		    sizeof(zc)));
		snprintf(want, sizeof(want), "\tzonefile: \"/s/zones/%s\"\n"
		    "\tinclude-pattern: \"kubezone\"\n", zones[i].file);
		assert_non_null(strstr(zc, want));
	}
	kz_buf_free(&b);
}

/* --notify ADDR[:PORT][,key=NAME][,zone=ZONE]...: fields in any order. */
static void
test_notify_forms(void **state)
{
	struct nc_notify n;
	char err[256], many[2048];
	size_t len;

	(void)state;
	assert_int_equal(nc_parse_notify("192.0.2.1", &n, err, sizeof(err)),
	    0);
	assert_string_equal(n.addr.ip, "192.0.2.1");
	assert_int_equal(n.addr.port, 53);
	assert_int_equal(n.nzones, 0);
	assert_true(nc_notify_serves(&n, "anything.example."));
	assert_int_equal(nc_parse_notify("192.0.2.1:5300,key=k,"
	    "zone=Cluster.Local.,zone=10.in-addr.arpa", &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n.addr.port, 5300);
	assert_string_equal(n.addr.key, "k");
	assert_int_equal(n.nzones, 2);
	assert_string_equal(n.zones[0], "cluster.local");
	assert_string_equal(n.zones[1], "10.in-addr.arpa");
	assert_true(nc_notify_serves(&n, "cluster.local."));
	assert_true(nc_notify_serves(&n, "CLUSTER.LOCAL"));
	assert_true(nc_notify_serves(&n, "10.in-addr.arpa."));
	assert_false(nc_notify_serves(&n, "in-addr.arpa."));
	assert_false(nc_notify_serves(&n, "cluster.local.x."));
	assert_false(nc_notify_serves(&n, "local."));
	assert_int_equal(nc_parse_notify("[fd00::1]:53,zone=ip6.arpa,key=k2",
	    &n, err, sizeof(err)), 0);
	assert_string_equal(n.addr.ip, "fd00::1");
	assert_string_equal(n.addr.key, "k2");
	assert_string_equal(n.zones[0], "ip6.arpa");
	assert_int_equal(nc_parse_notify("fd00::53,zone=cluster.local", &n,
	    err, sizeof(err)), 0);
	assert_string_equal(n.addr.ip, "fd00::53");

	/* Refused, each with a reason. */
	assert_int_equal(nc_parse_notify("192.0.2.1,zone=", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_non_null(strstr(err, "invalid zone name"));
	assert_int_equal(nc_parse_notify("192.0.2.1,zone=a..b", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_non_null(strstr(err, "'a..b'"));
	assert_int_equal(nc_parse_notify("192.0.2.1,zone=a b", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_notify("192.0.2.1,zone=.", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_notify("192.0.2.1,zones=cluster.local", &n,
	    err, sizeof(err)), KZ_EINVAL);
	assert_non_null(strstr(err, "expected key=NAME or zone=ZONE"));
	assert_int_equal(nc_parse_notify("192.0.2.1,key=a,key=b", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(nc_parse_notify("192.0.2.1,,zone=x", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_notify("192.0.2.1,zone=x,", &n, err,
	    sizeof(err)), KZ_EINVAL);
	assert_int_equal(nc_parse_notify("nohost,zone=x", &n, err,
	    sizeof(err)), KZ_EINVAL);
	len = (size_t)snprintf(many, sizeof(many), "192.0.2.1");
	for (int i = 0; i <= NC_NOTIFY_ZONES; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
		    ",zone=z%d.example", i);
	assert_int_equal(nc_parse_notify(many, &n, err, sizeof(err)),
	    KZ_EINVAL);
	assert_non_null(strstr(err, "at most"));
}

/*
 * A --notify that lists zones is notified of those zones only: its
 * notify: line is in their zone: clauses and not in the pattern; one
 * that lists none stays in the pattern, for every zone.
 */
static void
test_conf_notify_zones(void **state)
{
	const char *args[] = { "--tsig-key", "xfr:hmac-sha256:c2VjcmV0c2VjcmV0",
		"--notify", "192.0.2.1,key=xfr,zone=cluster.local.",
		"--notify", "192.0.2.2",
		"--notify", "[fd00::3]:5300,zone=10.in-addr.arpa,zone=ip6.arpa.",
		NULL };
	const struct nc_zone_ref zones[] = {
		{ "cluster.local", "cluster.local.zone" },
		{ "10.in-addr.arpa", "10.in-addr.arpa.zone" },
		{ "ip6.arpa", "ip6.arpa.zone" },
	};
	struct nc_feed_ref feed;
	struct nc_paths p;
	struct nc_opts o;
	struct kz_buf b;
	char err[256], zc[1024];
	const char *pat, *end;

	(void)state;
	test_feed(&feed);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(nc_opts_check_zones(&o, zones, 3, err, sizeof(err)),
	    0);
	assert_int_equal(nc_paths_init(&p, "/s"), 0);
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 3, &b), 0);

	pat = strstr(b.data, "pattern:\n");
	end = strstr(b.data, "\nzone:");
	assert_non_null(pat);
	assert_non_null(end);
	snprintf(zc, sizeof(zc), "%.*s", (int)(end - pat), pat);
	assert_non_null(strstr(zc, "\tnotify: 192.0.2.2@53 NOKEY\n"));
	assert_null(strstr(zc, "192.0.2.1"));
	assert_null(strstr(zc, "fd00::3"));

	assert_non_null(zone_clause(b.data, "cluster.local", zc, sizeof(zc)));
	assert_non_null(strstr(zc, "\tinclude-pattern: \"kubezone\"\n"
	    "\tnotify: 192.0.2.1@53 xfr\n"));
	assert_null(strstr(zc, "fd00::3"));
	assert_null(strstr(zc, "192.0.2.2"));
	assert_non_null(zone_clause(b.data, "10.in-addr.arpa", zc,
	    sizeof(zc)));
	assert_non_null(strstr(zc, "\tnotify: fd00::3@5300 NOKEY\n"));
	assert_null(strstr(zc, "192.0.2.1"));
	assert_non_null(zone_clause(b.data, "ip6.arpa", zc, sizeof(zc)));
	assert_non_null(strstr(zc, "\tnotify: fd00::3@5300 NOKEY\n"));
	assert_null(strstr(zc, "192.0.2.1"));
	kz_buf_free(&b);
}

/* A --notify zone kubezone does not serve is a usage error naming it. */
static void
test_notify_unknown_zone(void **state)
{
	const char *args[] = { "--notify", "192.0.2.1,zone=cluster.local",
		"--notify", "192.0.2.9,zone=in-addr.arpa.", NULL };
	const struct nc_zone_ref cidr_zones[] = {
		{ "cluster.local", "cluster.local.zone" },
		{ "96.10.in-addr.arpa", "96.10.in-addr.arpa.zone" },
	};
	const struct nc_zone_ref whole[] = {
		{ "cluster.local", "cluster.local.zone" },
		{ "in-addr.arpa", "in-addr.arpa.zone" },
	};
	struct nc_zone_ref many[40];
	char names[40][32];
	struct nc_opts o;
	char err[512];

	(void)state;
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(nc_opts_check_zones(&o, whole, 2, err, sizeof(err)),
	    0);
	assert_int_equal(nc_opts_check_zones(&o, cidr_zones, 2, err,
	    sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "--notify 192.0.2.9"));
	assert_non_null(strstr(err, "'in-addr.arpa.'"));
	assert_non_null(strstr(err, "96.10.in-addr.arpa."));
	/* Many zones served: the list in the message is cut short. */
	for (size_t i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "%zu.10.in-addr.arpa",
		    i + 60);
		many[i] = (struct nc_zone_ref){ names[i], names[i] };
	}
	many[0].name = "cluster.local";
	assert_int_equal(nc_opts_check_zones(&o, many, 40, err, sizeof(err)),
	    KZ_EUSAGE);
	assert_non_null(strstr(err, "'in-addr.arpa.' is not one kubezone "
	    "serves (cluster.local., 61.10.in-addr.arpa."));
	assert_non_null(strstr(err, ", ...; see --zone and --reverse-zone)"));
	/* Through the option parser: a malformed zone is a usage error. */
	nc_opts_init(&o);
	assert_int_equal(parse(&o, (const char *const[]){ "--notify",
	    "192.0.2.1,zone=-bad..", NULL }, err, sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "invalid zone name"));
}

/*
 * This host may transfer signed with any --tsig-key, not only unsigned:
 * `kubectl port-forward` + `dig -y` arrives from loopback. No key, no
 * keyed entry; nothing else is opened.
 */
static void
test_conf_loopback_keys(void **state)
{
	const char *args[] = { "--tsig-key", "xfr:hmac-sha256:c2VjcmV0c2VjcmV0",
		"--tsig-key", "ops:hmac-sha512:b3Bzb3Bzb3Bzb3Bz",
		"--allow-transfer", "192.0.2.0/24,key=xfr", NULL };
	const struct nc_zone_ref zones[] = {
		{ "cluster.local", "cluster.local.zone" },
	};
	struct nc_feed_ref feed;
	struct nc_paths p;
	struct nc_opts o;
	struct kz_buf b;
	char err[256];
	const char *s;
	size_t n = 0;

	(void)state;
	test_feed(&feed);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(nc_paths_init(&p, "/s"), 0);
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 1, &b), 0);
	assert_non_null(strstr(b.data, "\tprovide-xfr: 127.0.0.1 NOKEY\n"
	    "\tprovide-xfr: ::1 NOKEY\n"
	    "\tprovide-xfr: 127.0.0.1 xfr\n"
	    "\tprovide-xfr: ::1 xfr\n"
	    "\tprovide-xfr: 127.0.0.1 ops\n"
	    "\tprovide-xfr: ::1 ops\n"
	    "\tprovide-xfr: 192.0.2.0/24 xfr\n"));
	for (s = b.data; (s = strstr(s, "provide-xfr:")) != NULL; s++)
		n++;
	assert_int_equal(n, 7);
	/* The feed's key is NSD's own, never one to transfer with. */
	assert_null(strstr(b.data, "provide-xfr: 127.0.0.1 kubezone-feed"));
	kz_buf_free(&b);

	nc_opts_init(&o);
	assert_int_equal(parse(&o, (const char *const[]){ NULL }, err,
	    sizeof(err)), 0);
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 1, &b), 0);
	assert_non_null(strstr(b.data, "\tprovide-xfr: 127.0.0.1 NOKEY\n"
	    "\tprovide-xfr: ::1 NOKEY\n\tstore-ixfr"));
	kz_buf_free(&b);
}

/* Which --allow-transfer reaches beyond this host (the reverse warning). */
static void
test_remote_transfers(void **state)
{
	static const struct {
		const char *cidr;
		bool remote;
	} cases[] = {
		{ "127.0.0.3/32", false }, { "127.0.0.0/8", false },
		{ "127.0.0.1", false }, { "::1", false }, { "::1/128", false },
		{ "127.0.0.0/7", true }, { "10.0.0.0/8", true },
		{ "0.0.0.0/0,key=xfr", true }, { "::/0", true },
		{ "::1/127", true }, { "192.0.2.20", true },
	};
	struct nc_opts o;
	char err[256];

	(void)state;
	nc_opts_init(&o);
	assert_false(nc_opts_remote_transfers(&o));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *args[] = { "--tsig-key",
			"xfr:hmac-sha256:c2VjcmV0c2VjcmV0", "--allow-transfer",
			"127.0.0.2", "--allow-transfer", cases[i].cidr, NULL };

		nc_opts_init(&o);
		assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
		if (nc_opts_remote_transfers(&o) != cases[i].remote)
			fail_msg("--allow-transfer %s", cases[i].cidr);
	}
}

/* No feed, or a feed the config could not name: refused. */
static void
test_conf_feed_required(void **state)
{
	const char *args[] = { "--tsig-key",
		"kubezone-feed:hmac-sha256:c2VjcmV0c2VjcmV0", NULL };
	const struct nc_zone_ref zones[] = {
		{ "cluster.local", "cluster.local.zone" },
	};
	struct nc_feed_ref feed;
	struct nc_paths p;
	struct nc_opts o;
	struct kz_buf b;
	char err[256];

	(void)state;
	nc_opts_init(&o);
	assert_int_equal(parse(&o, (const char *const[]){ NULL }, err,
	    sizeof(err)), 0);
	assert_int_equal(nc_paths_init(&p, "/s"), 0);
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, NULL, zones, 1, &b),
	    KZ_EINVAL);
	test_feed(&feed);
	feed.port = 0;
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 1, &b),
	    KZ_EINVAL);
	test_feed(&feed);
	snprintf(feed.key.secret, sizeof(feed.key.secret), "not base64");
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 1, &b),
	    KZ_EINVAL);
	test_feed(&feed);
	snprintf(feed.ip, sizeof(feed.ip), "localhost");
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 1, &b),
	    KZ_EINVAL);
	assert_int_equal(b.len, 0);
	/* A --tsig-key with the feed key's name is refused as usage, and
	 * would be a second key: clause anyway. */
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "kubezone's own"));
	test_feed(&feed);
	assert_int_equal(nc_conf_render(&o, &p, &feed, zones, 1, &b),
	    KZ_EINVAL);
	assert_int_equal(nc_feed_ref_init(&feed, 0), KZ_EINVAL);
	kz_buf_free(&b);
}

static void
test_zonefiles_write_option(void **state)
{
	const char *bad[] = { "--zonefiles-write", "86401", NULL };
	const char *neg[] = { "--zonefiles-write", "-1", NULL };
	struct nc_opts o;
	char err[256];

	(void)state;
	nc_opts_init(&o);
	assert_int_equal(o.zonefiles_write, 5);
	assert_int_not_equal(parse(&o, bad, err, sizeof(err)), 0);
	nc_opts_init(&o);
	assert_int_not_equal(parse(&o, neg, err, sizeof(err)), 0);
}

static void
test_conf_v4_only_no_ixfr(void **state)
{
	const char *args[] = { "--ixfr-number", "0", "--edns-size", "4096",
		NULL };
	struct nc_feed_ref feed;
	struct nc_paths p;
	struct nc_opts o;
	struct kz_buf b;
	char err[256];

	(void)state;
	test_feed(&feed);
	nc_opts_init(&o);
	assert_int_equal(parse(&o, args, err, sizeof(err)), 0);
	assert_int_equal(nc_paths_init(&p, "/s/"), 0);
	assert_string_equal(p.ctl, "/s/nsd.ctl");
	kz_buf_init(&b, 1 << 20);
	assert_int_equal(nc_conf_render(&o, &p, &feed, NULL, 0, &b), 0);
	assert_non_null(strstr(b.data, "\tip-address: 127.0.0.1@5353\n"
	    "\tdo-ip4: yes\n\tdo-ip6: no\n"));
	assert_non_null(strstr(b.data, "\tipv4-edns-size: 4096\n"));
	assert_non_null(strstr(b.data, "\tstore-ixfr: no\n"));
	assert_null(strstr(b.data, "create-ixfr"));
	assert_null(strstr(b.data, "\nzone:"));
	kz_buf_free(&b);
}

static void
test_paths_too_long(void **state)
{
	char dir[200];
	struct nc_paths p;

	(void)state;
	memset(dir, 'a', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	/* The control socket would not fit in sun_path. */
	assert_int_equal(nc_paths_init(&p, dir), KZ_ETOOBIG);
}

static void
test_nsd_version(void **state)
{
	int ma, mi, pa;

	(void)state;
	assert_int_equal(nc_nsd_parse_version("NSD version 4.6.1\nWritten "
	    "by NLnet Labs.\n", &ma, &mi, &pa), 0);
	assert_int_equal(ma, 4);
	assert_int_equal(mi, 6);
	assert_int_equal(pa, 1);
	assert_int_equal(nc_nsd_parse_version("NSD version 4.10\n", &ma, &mi,
	    &pa), 0);
	assert_int_equal(mi, 10);
	assert_int_equal(pa, 0);
	assert_int_equal(nc_nsd_parse_version("BIND 9.18", &ma, &mi, &pa),
	    KZ_EPARSE);
}

static void
test_nsd_find_missing(void **state)
{
	char out[4096], err[512];

	(void)state;
	assert_int_equal(nc_nsd_find("/nonexistent/nsd", out, sizeof(out),
	    err, sizeof(err)), KZ_ENOTFOUND);
	assert_non_null(strstr(err, "/nonexistent/nsd"));
	/* Not NSD at all. */
	assert_int_equal(nc_nsd_find("/bin/true", out, sizeof(out), err,
	    sizeof(err)), KZ_ECHILD);
	assert_non_null(strstr(err, "does not look like NSD"));
}

/* NSD's files are read only when regular: no symlink, no FIFO. */
static void
test_fopen_regular(void **state)
{
	char dir[] = "/tmp/kz-test-open-XXXXXX", path[4200], link[4200];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/z.zone", dir);
	snprintf(link, sizeof(link), "%s/l.zone", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	f = nc_fopen_regular(path);
	assert_non_null(f);
	fclose(f);
	assert_int_equal(symlink(path, link), 0);
	assert_null(nc_fopen_regular(link));
	unlink(link);
	assert_int_equal(mkfifo(link, 0600), 0);
	assert_null(nc_fopen_regular(link));
	unlink(link);
	unlink(path);
	rmdir(dir);
}

static void
rm_state(const char *dir)
{
	char p[4200];
	const char *sub[] = { "zones", "xfr", NULL };

	for (int i = 0; sub[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
		unlink(p);
		rmdir(p);
	}
	rmdir(dir);
}

/* The state directory is created 0700 (0710 when NSD drops root). */
static void
test_state_dir_created_private(void **state)
{
	char base[] = "/tmp/kz-test-state-XXXXXX", dir[4200], err[512];
	struct nc_paths p;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/state", base);
	assert_int_equal(nc_state_dir_prepare(dir, &p, err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, geteuid() == 0 ? 0710 : 0700);
	assert_int_equal(stat(p.zonedir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	if (geteuid() == 0) {
		assert_string_equal(p.nsd_user, NC_NSD_USER);
		assert_int_equal(st.st_uid, p.nsd_uid);
		assert_int_not_equal(p.nsd_uid, 0);
	} else {
		assert_string_equal(p.nsd_user, "");
	}
	/* xfrd.state lives where NSD may write: in xfr/. */
	assert_non_null(strstr(p.xfrdfile, "/xfr/xfrd.state"));
	rm_state(dir);
	rmdir(base);
}

/* Refused: world- or group-writable, owned by another, symlinked subdir. */
static void
test_state_dir_refuses_unsafe(void **state)
{
	char dir[] = "/tmp/kz-test-state-XXXXXX", sub[4200], err[512];
	struct nc_paths p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0777);
	assert_int_equal(nc_state_dir_prepare(dir, &p, err, sizeof(err)),
	    -EPERM);
	assert_non_null(strstr(err, "world-writable"));
	chmod(dir, 0770);
	assert_int_equal(nc_state_dir_prepare(dir, &p, err, sizeof(err)),
	    -EPERM);
	assert_non_null(strstr(err, "group- or world-writable"));
	chmod(dir, 0700);
	snprintf(sub, sizeof(sub), "%s/zones", dir);
	assert_int_equal(symlink("/tmp", sub), 0);
	assert_int_not_equal(nc_state_dir_prepare(dir, &p, err, sizeof(err)),
	    0);
	assert_non_null(strstr(err, "symbolic link"));
	unlink(sub);
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 4242, 4242), 0);
		assert_int_equal(nc_state_dir_prepare(dir, &p, err,
		    sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by uid 4242"));
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	assert_int_equal(nc_state_dir_prepare(dir, &p, err, sizeof(err)), 0);
	rm_state(dir);
}

static int
collect(void *ctx, const char *name)
{
	struct kz_buf *b = ctx;

	return kz_buf_append(b, name, strlen(name)) ||
	    kz_buf_append(b, ";", 1) ? KZ_ENOMEM : 0;
}

/*
 * The members of a catalog zone file (RFC 9432): the PTRs of
 * <label>.zones.<catalog> only; not a PTR deeper down (a property of
 * a member, section 4.4), nor one elsewhere in the zone.
 */
static void
test_catalog_members(void **state)
{
	static const char zone[] =
	    "$ORIGIN catalog.invalid.\n"
	    "$TTL 30\n"
	    "@ SOA invalid. invalid. 7 3600 600 86400 30\n"
	    "@ NS invalid.\n"
	    "version TXT \"2\"\n"
	    "aaaa.zones PTR Cluster.Local.\n"
	    "bbbb.ZONES.catalog.invalid. 30 IN PTR 0.96.10.in-addr.arpa.\n"
	    "group.aaaa.zones TXT \"x\"\n"
	    "coo.aaaa.zones PTR other.example.\n"
	    "elsewhere PTR not.a.member.\n"
	    "cccc.zones 30 IN TXT \"not a PTR\"\n";
	char path[] = "/tmp/kz-test-cat-XXXXXX", err[256];
	struct kz_buf b;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, zone, sizeof(zone) - 1) ==
	    (ssize_t)sizeof(zone) - 1);
	close(fd);
	kz_buf_init(&b, 4096);
	assert_int_equal(nc_catalog_members(path, "catalog.invalid.", collect,
	    &b, err, sizeof(err)), 0);
	assert_int_equal(kz_buf_append(&b, "", 1), 0);
	assert_string_equal(b.data, "cluster.local;0.96.10.in-addr.arpa;");
	/* A broken file: an error naming the line. */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_true(write(fd, "x.zones PTR ..bad\n", 18) == 18);
	close(fd);
	kz_buf_reset(&b);
	assert_int_equal(nc_catalog_members(path, "catalog.invalid", collect,
	    &b, err, sizeof(err)), KZ_EPARSE);
	if (strstr(err, "line 12") == NULL)
		fail_msg("%s", err);
	unlink(path);
	assert_int_equal(nc_catalog_members(path, "catalog.invalid", collect,
	    &b, err, sizeof(err)), -ENOENT);
	kz_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_forms),
		cmocka_unit_test(test_catalog_members),
		cmocka_unit_test(test_acl_and_key),
		cmocka_unit_test(test_key_file_and_refs),
		cmocka_unit_test(test_conf_render),
		cmocka_unit_test(test_conf_v4_only_no_ixfr),
		cmocka_unit_test(test_conf_secondary_of_feed),
		cmocka_unit_test(test_conf_feed_required),
		cmocka_unit_test(test_notify_forms),
		cmocka_unit_test(test_conf_notify_zones),
		cmocka_unit_test(test_notify_unknown_zone),
		cmocka_unit_test(test_conf_loopback_keys),
		cmocka_unit_test(test_remote_transfers),
		cmocka_unit_test(test_zonefiles_write_option),
		cmocka_unit_test(test_paths_too_long),
		cmocka_unit_test(test_nsd_version),
		cmocka_unit_test(test_nsd_find_missing),
		cmocka_unit_test(test_key_error_hides_secret),
		cmocka_unit_test(test_key_file_readable_warns),
		cmocka_unit_test(test_fopen_regular),
		cmocka_unit_test(test_state_dir_created_private),
		cmocka_unit_test(test_state_dir_refuses_unsafe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
