/*
 * tests/fuzz/fuzz_opt.c -- command-line options of every command.
 *
 * The input is an argument list: arguments separated by NUL or newline
 * bytes. Byte 0 picks the command whose tables parse it: `render`
 * (render options), `nsd-conf` (render and NSD options) or `sync`
 * (render, NSD, Kubernetes API, coalescing and HTTP options). What a
 * successful parse yields is then used the way the command would: the
 * NSD options are finished and nsd.conf rendered, an empty cluster is
 * rendered with the render options, the HTTP address is parsed. Each
 * argument also goes through the bounded number, duration and NSD row
 * parsers alone.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/opt.h"
#include "nsd-conf/conf.h"
#include "syncer/coalesce.h"
#include "syncer/http.h"
#include "syncer/k8s.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/model.h"
#include "zonegen/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

struct opts {
	struct zg_render_opts ro;
	struct nc_opts no;
	struct sy_k8s_opts ko;
	struct sy_coalesce co;
	struct sy_http_opts ho;
};

static void
alone(const char *a)
{
	unsigned long ul;
	unsigned long long ms;
	char err[256];
	struct nc_addr addr;
	struct nc_acl acl;
	struct nc_key key;

	if (kz_opt_ulong(a, 0, 65535, &ul) == 0)
		FUZZ_CHECK(ul <= 65535, "ulong out of range: %lu", ul);
	if (kz_opt_duration_ms(a, &ms) == 0)
		FUZZ_CHECK(ms < 1000000000ULL * 3600000ULL * 64,
		    "duration %llu", ms);
	if (nc_parse_addr(a, 53, true, &addr, err, sizeof(err)) == 0) {
		FUZZ_CHECK(addr.family == 4 || addr.family == 6,
		    "address family %u", addr.family);
		FUZZ_CHECK(memchr(addr.ip, '\0', sizeof(addr.ip)),
		    "address not terminated");
	}
	(void)nc_parse_acl(a, &acl, err, sizeof(err));
	(void)nc_parse_key(a, &key, err, sizeof(err));
}

/* Whether O has a --tsig-key named NAME (any case, final dot or not). */
static bool
has_key(const struct nc_opts *o, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < o->nkeys; i++) {
		const char *k = o->keys[i].name;

		if (strncasecmp(k, name, n) == 0 && (k[n] == '\0' ||
		    (k[n] == '.' && k[n + 1] == '\0')))
			return true;
	}
	return false;
}

/*
 * Accepted render options give every zone one SOA: MNAME the first
 * --ns (or ns.dns.<zone>), EXPIRE at least REFRESH + RETRY; and the
 * apex NS RRset of the cluster zone names every --ns.
 */
static void
check_soa(const struct zg_render_opts *ro, const struct zg_zoneset *zs)
{
	const struct zg_zone *z0 = &zs->zones[0];

	for (size_t i = 0; i < zs->nzones; i++) {
		const struct zg_zone *z = &zs->zones[i];

		FUZZ_CHECK(strcmp(z->mname, z0->mname) == 0 &&
		    strcmp(z->rname, z0->rname) == 0, "zones differ in SOA");
		FUZZ_CHECK((uint64_t)z->refresh + z->retry <= z->expire,
		    "EXPIRE %u below REFRESH %u + RETRY %u", z->expire,
		    z->refresh, z->retry);
	}
	if (ro->nns) {
		size_t n = strlen(ro->ns[0].name);

		FUZZ_CHECK(strncmp(z0->mname, ro->ns[0].name, n) == 0 &&
		    strcmp(z0->mname + n, ".") == 0, "MNAME %s, not the first "
		    "--ns %s", z0->mname, ro->ns[0].name);
		for (size_t i = 0; i < ro->nns; i++) {
			char line[300];

			snprintf(line, sizeof(line), "@\t%u\tIN\tNS\t%s.\n",
			    ro->ttl, ro->ns[i].name);
			FUZZ_CHECK(z0->body.data && strstr(z0->body.data, line),
			    "no NS record for --ns %s", ro->ns[i].name);
		}
	}
}

static void
use(struct opts *o, int cmd)
{
	struct nc_paths paths;
	struct nc_zone_ref zref[4] = {
		{ "cluster.local", "cluster.local.zone" },
		{ "in-addr.arpa", "in-addr.arpa.zone" },
	};
	struct nc_feed_ref feed;
	struct zg_zoneset zs;
	struct zg_model m;
	struct kz_buf conf;
	char err[512];
	bool finished;
	int rc;

	err[0] = '\0';
	finished = zg_render_opts_finish(&o->ro, err, sizeof(err)) == 0;
	FUZZ_CHECK(finished || err[0] != '\0', "render options refused "
	    "without a message");
	memset(&zs, 0, sizeof(zs));
	zg_model_init(&m);
	rc = zg_render(&m, &o->ro, &zs);
	FUZZ_CHECK(rc == 0, "empty render returned %d", rc);
	FUZZ_CHECK(zs.nzones >= 1, "no forward zone");
	if (finished)
		check_soa(&o->ro, &zs);
	zref[0].name = o->ro.zone;
	zg_zoneset_free(&zs);
	zg_model_free(&m);
	if (cmd == 0)
		return;

	err[0] = '\0';
	rc = nc_opts_finish(&o->no, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(err[0] != '\0', "finish failed without a message");
		return;
	}
	FUZZ_CHECK(o->no.nlisten >= 1, "no listen address after finish");
	FUZZ_CHECK(nc_paths_init(&paths, "/var/lib/kubezone") == 0,
	    "paths");
	FUZZ_CHECK(nc_feed_ref_init(&feed, 53) == 0, "feed reference");
	kz_buf_init(&conf, 1024 * 1024);
	rc = nc_conf_render(&o->no, &paths, &feed, zref, 2, &conf);
	/* Only a --tsig-key that takes the feed key's name is refused. */
	FUZZ_CHECK(rc == 0 || (rc == KZ_EINVAL && has_key(&o->no,
	    feed.key.name)), "nc_conf_render returned %d", rc);
	FUZZ_CHECK(rc != 0 || strstr(conf.data, "server:") != NULL,
	    "no server clause");
	FUZZ_CHECK(rc != 0 || strstr(conf.data, feed.key.secret) != NULL,
	    "the feed's key is not in nsd.conf");
	kz_buf_free(&conf);

	if (cmd == 2 && o->ho.listen[0]) {
		struct sockaddr_storage sa;
		unsigned salen = sizeof(sa);

		(void)sy_http_parse_addr(o->ho.listen, &sa, &salen);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2], *pos[MAX_ARGS + 2], *buf, err[512];
	static const char *const names[] = { "render", "nsd-conf", "sync" };
	struct opts *o;
	int argc = 1, cmd, help, rc;
	size_t npos, ntables;

	fuzz_quiet();
	if (size < 1 || size > 16384)
		return 0;
	cmd = data[0] % 3;
	buf = malloc(size);
	o = malloc(sizeof(*o));
	FUZZ_CHECK(buf && o, "out of memory");
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[0] = (char *)names[cmd];
	for (char *p = buf, *e = buf + size - 1; p <= e && argc <= MAX_ARGS;) {
		char *q = p;

		while (q < e && *q != '\n' && *q != '\0')
			q++;
		*q = '\0';
		argv[argc++] = p;
		p = q + 1;
	}
	argv[argc] = NULL;

	zg_render_opts_init(&o->ro);
	nc_opts_init(&o->no);
	sy_k8s_opts_init(&o->ko);
	sy_coalesce_init(&o->co, SY_MIN_INTERVAL_MS);
	sy_http_opts_init(&o->ho);
	{
		const struct kz_opt_table tables[5] = {
			{ "render options", zg_render_opt_table, &o->ro },
			{ "NSD options", nc_opt_table, &o->no },
			{ "Kubernetes API options", sy_k8s_opt_table, &o->ko },
			{ "coalescing options", sy_coalesce_opt_table, &o->co },
			{ "HTTP options", sy_http_opt_table, &o->ho },
		};

		ntables = cmd == 0 ? 1 : cmd == 1 ? 2 : 5;
		err[0] = '\0';
		rc = kz_opt_parse(argc, argv, tables, ntables, pos, &npos,
		    &help, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == KZ_EUSAGE, "parse returned %d",
		    rc);
		FUZZ_CHECK(rc == 0 || err[0] != '\0', "usage error without "
		    "a message");
		FUZZ_CHECK(npos < (size_t)argc, "%zu positional of %d", npos,
		    argc);
		for (size_t i = 0; i < npos; i++)
			FUZZ_CHECK(pos[i] >= buf && pos[i] < buf + size,
			    "positional outside argv");
		if (rc == 0 && !help)
			use(o, cmd);
	}
	for (int i = 1; i < argc; i++)
		alone(argv[i]);
	zg_render_opts_free(&o->ro);
	free(o);
	free(buf);
	return 0;
}
