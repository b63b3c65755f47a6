/*
 * tests/unit/test_publish.c -- nsd-conf/publish: the zone database's
 * diffs into the feed, one serial per diff.
 *
 * Each test builds a small model (Services with slices and a Pod, the
 * cluster zone plus two reverse zones), loads it into a zone database,
 * and publishes it through a real feed (bound on loopback, never
 * polled: nothing here needs the network) with a serial store in a
 * temporary directory. Serial state failures are simulated by putting a
 * regular file where the store's directory should be, which fails for
 * root too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "nsd-conf/feed.h"
#include "nsd-conf/publish.h"
#include "nsd-conf/serial.h"
#include "zonegen/model.h"
#include "zonegen/names.h"
#include "zonegen/render.h"
#include "zonegen/zonedb.h"

#define CLOCK 1700000000u
#define MAXFD 16

struct fx {
	char dir[64];
	char statedir[128];	/* the serial store's directory */
	char state[192];	/* STATEDIR/serial.state */
	int fds[MAXFD];		/* what the feed watches */
	size_t nfds;
	struct zg_render_opts o;
	struct zg_model m;
	struct zg_db db;
	struct nc_feed feed;
	struct nc_serials sn;
	struct nc_publisher p;
};

/* --- the feed's io: record the fds, never poll them ------------------- */

static int
io_watch(void *ctx, int fd, short events)
{
	struct fx *x = ctx;

	(void)events;
	for (size_t i = 0; i < x->nfds; i++)
		if (x->fds[i] == fd)
			return 0;
	if (x->nfds == MAXFD)
		return -1;
	x->fds[x->nfds++] = fd;
	return 0;
}

static void
io_unwatch(void *ctx, int fd)
{
	struct fx *x = ctx;

	for (size_t i = 0; i < x->nfds; i++) {
		if (x->fds[i] == fd) {
			x->fds[i] = x->fds[--x->nfds];
			return;
		}
	}
}

/* --- the model ---------------------------------------------------------- */

static struct zg_port *
one_port(const char *name, uint16_t port)
{
	struct zg_port *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->name = strdup(name);
	assert_non_null(p->name);
	p->port = port;
	p->proto = ZG_TCP;
	return p;
}

static void
put_service(struct zg_model *m, const char *ns, const char *name,
    const char *ip, uint16_t port)
{
	struct zg_service *s = zg_service_new(m, ns, name);

	assert_non_null(s);
	s->type = ZG_SVC_CLUSTERIP;
	s->nips = 1;
	assert_int_equal(zg_ip_parse(&s->ips[0], ip), 0);
	s->ports = one_port("http", port);
	s->nports = 1;
	assert_int_equal(zg_model_put_service(m, s), 0);
}

/* A slice of Service NAME with one ready endpoint HOST at IP. */
static void
put_slice(struct zg_model *m, const char *ns, const char *name,
    const char *host, const char *ip)
{
	char sname[64];
	struct zg_slice *sl;

	snprintf(sname, sizeof(sname), "%s-abcde", name);
	sl = zg_slice_new(m, ns, sname);
	assert_non_null(sl);
	sl->service = strdup(name);
	sl->addr_type = ZG_ADDR_IPV4;
	sl->ports = one_port("http", 8080);
	sl->nports = 1;
	sl->strings = strdup(host);
	sl->addrs = calloc(1, sizeof(*sl->addrs));
	assert_true(sl->service && sl->strings && sl->addrs);
	sl->naddrs = 1;
	assert_int_equal(zg_ip_parse(&sl->addrs[0].ip, ip), 0);
	sl->addrs[0].ready = true;
	sl->addrs[0].hostname = sl->strings;
	assert_int_equal(zg_model_put_slice(m, sl), 0);
}

static void
put_pod(struct zg_model *m, const char *ns, const char *name, const char *ip)
{
	struct zg_pod *p = zg_pod_new(m, ns, name);

	assert_non_null(p);
	p->active = true;
	p->nips = 1;
	assert_int_equal(zg_ip_parse(&p->ips[0], ip), 0);
	assert_int_equal(zg_model_put_pod(m, p), 0);
}

/* --- set-up ------------------------------------------------------------- */

static void
rm_rf(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* Break the serial store: a regular file where its directory was. */
static void
break_state(struct fx *x)
{
	FILE *f;

	rm_rf(x->statedir);
	f = fopen(x->statedir, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
}

static void
mend_state(struct fx *x)
{
	assert_int_equal(unlink(x->statedir), 0);
	assert_int_equal(mkdir(x->statedir, 0750), 0);
}

/* Apply the render options ARGS (NULL-terminated, may be NULL) to O. */
static void
parse_opts(struct zg_render_opts *o, const char *const *args)
{
	struct kz_opt_table t = { "render options", zg_render_opt_table, o };
	char *argv[32] = { (char *)"kubezone" }, *pos[32], err[512];
	size_t npos = 0;
	int argc = 1, help = 0;

	while (args && *args && argc < 31)
		argv[argc++] = (char *)*args++;
	if (kz_opt_parse(argc, argv, &t, 1, pos, &npos, &help, err,
	    sizeof(err)) || zg_render_opts_finish(o, err, sizeof(err)))
		fail_msg("%s", err);
}

/*
 * Model, database (loaded, no diffs), feed and serial store (BLOCK);
 * the options are pod records, two reverse zones and ARGS (may be NULL).
 */
static void
fx_open_args(struct fx *x, uint32_t block, const char *const *args)
{
	struct nc_feed_io io = { io_watch, io_unwatch, x };
	char err[256];

	zg_render_opts_init(&x->o);
	x->o.pod_records = true;
	assert_int_equal(zg_cidr_parse(&x->o.reverse[x->o.nreverse++],
	    "10.96.0.0/16"), 0);
	assert_int_equal(zg_cidr_parse(&x->o.reverse[x->o.nreverse++],
	    "10.244.0.0/16"), 0);
	parse_opts(&x->o, args);
	zg_model_init(&x->m);
	zg_model_track(&x->m, true);
	put_service(&x->m, "shop", "web", "10.96.0.10", 80);
	put_service(&x->m, "shop", "db", "10.96.0.11", 5432);
	put_slice(&x->m, "shop", "web", "web-0", "10.244.1.5");
	put_pod(&x->m, "shop", "web-0", "10.244.1.5");
	assert_int_equal(zg_db_init(&x->db, &x->o), 0);
	assert_int_equal(x->db.nzones, 3);
	assert_true(zg_db_apply(&x->db, &x->m, false) > 0);
	for (size_t z = 0; z < x->db.nzones; z++)
		assert_true(x->db.zones[z].nrecords > 0);

	assert_int_equal(nc_feed_init(&x->feed, NULL, &io, err, sizeof(err)),
	    0);
	assert_true(x->nfds > 0);
	assert_int_equal(nc_serial_open(&x->sn, x->state, NULL, block, err,
	    sizeof(err)), 0);
}

static void
fx_open(struct fx *x, uint32_t block)
{
	fx_open_args(x, block, NULL);
}

static void
fx_close(struct fx *x)
{
	nc_pub_free(&x->p);
	nc_feed_free(&x->feed);
	assert_int_equal(x->nfds, 0);	/* every socket unwatched */
	nc_serial_free(&x->sn);
	zg_db_free(&x->db);
	zg_model_free(&x->m);
	zg_render_opts_free(&x->o);
}

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return -1;
	snprintf(x->dir, sizeof(x->dir), "/tmp/kz-test-publish-XXXXXX");
	if (mkdtemp(x->dir) == NULL)
		return -1;
	snprintf(x->statedir, sizeof(x->statedir), "%s/state", x->dir);
	snprintf(x->state, sizeof(x->state), "%s/serial.state", x->statedir);
	if (mkdir(x->statedir, 0750) != 0)
		return -1;
	kz_log_set_level(KZ_LOG_OFF);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd) != 0)
		return -1;
	free(x);
	return 0;
}

/* The serial the feed serves for database zone Z; it must be published. */
static uint32_t
served(const struct fx *x, size_t z)
{
	bool published = false;
	uint32_t s = nc_feed_serial(&x->feed, x->p.fz[z], &published);

	assert_true(published);
	assert_int_equal(s, nc_pub_serial(&x->p, z));
	return s;
}

/* --- tests ---------------------------------------------------------------- */

/* Every zone goes out with a serial of its own; nothing before start. */
static void
test_start_publishes_every_zone(void **state)
{
	struct fx *x = *state;
	uint32_t last;

	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	for (size_t z = 0; z < x->db.nzones; z++) {
		bool published = true;

		(void)nc_feed_serial(&x->feed, x->p.fz[z], &published);
		assert_false(published);
		for (size_t y = 0; y < z; y++)
			assert_int_not_equal(x->p.fz[y], x->p.fz[z]);
	}
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	assert_true(x->p.started);
	for (size_t z = 0; z < x->db.nzones; z++) {
		/* Nothing known of any zone: each starts at the clock. */
		assert_int_equal(served(x, z), CLOCK);
		assert_int_equal(x->p.first[z], CLOCK);
		assert_false(x->p.whole[z]);
		assert_int_equal(nc_serial_last(&x->sn, x->db.zones[z].origin,
		    &last), 0);
		assert_int_equal(last, CLOCK);
	}
	assert_int_equal(x->p.stats.failed, 0);
	/* The serials were reserved on disk before they went out. */
	assert_true(x->sn.saves >= 1);
	assert_int_equal(access(x->state, R_OK), 0);
	fx_close(x);
}

/* A port of one Service changes: one serial, the cluster zone only. */
static void
test_service_change_is_one_serial(void **state)
{
	struct fx *x = *state;
	uint32_t before[3];
	const struct zg_diff *d;

	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	for (size_t z = 0; z < 3; z++)
		before[z] = served(x, z);

	put_service(&x->m, "shop", "web", "10.96.0.10", 8081);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	d = &x->db.zones[0].diff;
	assert_true(d->ndel > 0 && d->nadd > 0);	/* the SRV records */
	for (size_t z = 1; z < 3; z++)
		assert_int_equal(x->db.zones[z].diff.ndel +
		    x->db.zones[z].diff.nadd, 0);

	assert_int_equal(nc_pub_diffs(&x->p, CLOCK + 60), 1);
	assert_int_equal(served(x, 0), before[0] + 1);
	for (size_t z = 1; z < 3; z++)
		assert_int_equal(served(x, z), before[z]);
	assert_int_equal(x->p.stats.diffs, 1);
	assert_int_equal(x->p.stats.records, d->ndel + d->nadd);
	assert_int_equal(x->p.stats.failed, 0);

	/* A second change: +1 again, whatever the clock says. */
	put_service(&x->m, "shop", "web", "10.96.0.10", 8082);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK + 3600), 1);
	assert_int_equal(served(x, 0), before[0] + 2);
	for (size_t z = 1; z < 3; z++)
		assert_int_equal(served(x, z), before[z]);

	/* A new ClusterIP touches the cluster zone and one reverse zone. */
	put_service(&x->m, "shop", "web", "10.96.0.12", 8082);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK + 3601), 2);
	assert_int_equal(served(x, 0), before[0] + 3);
	assert_int_equal(served(x, 1), before[1] + 1);
	assert_int_equal(served(x, 2), before[2]);
	assert_int_equal(x->p.stats.diffs, 4);
	fx_close(x);
}

/* No change, or a put of identical content: nothing is committed. */
static void
test_noop_commits_nothing(void **state)
{
	struct fx *x = *state;
	uint32_t before[3];
	unsigned long saves;

	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	for (size_t z = 0; z < 3; z++)
		before[z] = served(x, z);
	saves = x->sn.saves;

	assert_int_equal(zg_db_apply(&x->db, &x->m, true), 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK + 1), 0);

	put_service(&x->m, "shop", "db", "10.96.0.11", 5432);	/* the same */
	put_pod(&x->m, "shop", "web-0", "10.244.1.5");
	assert_int_equal(zg_db_apply(&x->db, &x->m, true), 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK + 2), 0);

	for (size_t z = 0; z < 3; z++)
		assert_int_equal(served(x, z), before[z]);
	assert_int_equal(x->p.stats.diffs, 0);
	assert_int_equal(x->p.stats.records, 0);
	assert_int_equal(x->sn.saves, saves);
	fx_close(x);
}

/* A learned serial (NSD's zone file, a secondary) is a floor. */
static void
test_continues_above_learned(void **state)
{
	struct fx *x = *state;

	fx_open(x, 0);
	assert_int_equal(nc_serial_learn(&x->sn, "cluster.local",
	    CLOCK + 1000), 0);
	/* Learned in RFC 1982 order: across the wrap. */
	assert_int_equal(nc_serial_learn(&x->sn, x->db.zones[2].origin,
	    0xfffffffeu), 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	assert_int_equal(served(x, 0), CLOCK + 1001);
	assert_int_equal(served(x, 1), CLOCK);	/* nothing learned */
	assert_int_equal(served(x, 2), 0xffffffffu);

	/* The next change of the wrapped zone goes on to 0. */
	put_pod(&x->m, "shop", "web-1", "10.244.1.6");
	put_slice(&x->m, "shop", "web", "web-1", "10.244.1.6");
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_true(x->db.zones[2].diff.nadd > 0);
	assert_int_equal(x->db.zones[1].diff.nadd +
	    x->db.zones[1].diff.ndel, 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK + 5), 2);
	assert_int_equal(served(x, 0), CLOCK + 1002);
	assert_int_equal(served(x, 1), CLOCK);
	assert_int_equal(served(x, 2), 0);
	fx_close(x);
}

/* After a restart the serials go on from the reservation on disk. */
static void
test_restart_never_reuses(void **state)
{
	struct fx *x = *state;
	uint32_t before[3];

	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	put_service(&x->m, "shop", "web", "10.96.0.10", 81);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK), 1);
	for (size_t z = 0; z < 3; z++)
		before[z] = served(x, z);
	fx_close(x);

	/* The clock went back: still above everything handed out. */
	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK - 100), 0);
	for (size_t z = 0; z < 3; z++)
		assert_int_equal(nc_sn_cmp(served(x, z), before[z]), 1);
	fx_close(x);
}

/* Serials ZONE may still hand out without writing the store. */
static uint32_t
reserved_left(const struct fx *x, size_t z)
{
	for (size_t i = 0; i < x->sn.nzones; i++) {
		const struct nc_sn_zone *sz = &x->sn.zones[i];

		if (strcmp(sz->origin, x->db.zones[z].origin) == 0) {
			assert_true(sz->have_reserved && sz->have_last);
			assert_true(nc_sn_cmp(sz->reserved, sz->last) >= 0);
			return sz->reserved - sz->last;
		}
	}
	fail_msg("zone %s not in the serial store", x->db.zones[z].origin);
	return 0;
}

/*
 * The serial store cannot write: the commit fails and the zone keeps
 * its serial; once the store works again, that zone goes out whole
 * under the next serial, even though the last apply changed nothing.
 */
static void
test_failed_commit_goes_whole(void **state)
{
	struct fx *x = *state;
	uint32_t before[3], left;
	long n;

	/* Small blocks: a write comes after a few serials. */
	fx_open(x, 2);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	for (size_t z = 0; z < 3; z++)
		before[z] = served(x, z);
	break_state(x);

	/* Within the reservation: no write, so they go through. */
	left = reserved_left(x, 0);
	assert_true(left >= 1 && left <= 4);
	for (uint32_t i = 0; i < left; i++) {
		put_service(&x->m, "shop", "web", "10.96.0.10",
		    (uint16_t)(100 + i));
		assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
		assert_int_equal(nc_pub_diffs(&x->p, CLOCK), 1);
	}
	assert_int_equal(served(x, 0), before[0] + left);
	before[0] += left;

	/* Past it: the reservation cannot be written. */
	put_service(&x->m, "shop", "web", "10.96.0.10", 82);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	n = nc_pub_diffs(&x->p, CLOCK);
	assert_true(n < 0);
	assert_true(x->p.whole[0]);
	assert_false(x->p.whole[1] || x->p.whole[2]);
	assert_int_equal(x->p.stats.failed, 1);
	assert_int_equal(served(x, 0), before[0]);

	/* Still broken: zone 0 fails again, zone 2 has serials left. */
	assert_true(reserved_left(x, 2) >= 1);
	put_pod(&x->m, "shop", "web-1", "10.244.1.6");
	put_slice(&x->m, "shop", "web", "web-1", "10.244.1.6");
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_true(x->db.zones[2].diff.nadd > 0);
	n = nc_pub_diffs(&x->p, CLOCK);
	assert_true(n < 0);
	assert_true(x->p.whole[0]);
	assert_int_equal(x->p.stats.failed, 2);
	assert_int_equal(served(x, 0), before[0]);
	assert_int_equal(served(x, 2), before[2] + 1);
	assert_false(x->p.whole[2]);

	/* Mended: nothing changed, yet zone 0 goes out whole. */
	mend_state(x);
	assert_int_equal(zg_db_apply(&x->db, &x->m, true), 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK), 1);
	assert_false(x->p.whole[0]);
	/* The failed attempts used no serial. */
	assert_int_equal(served(x, 0), before[0] + 1);
	assert_int_equal(served(x, 1), before[1]);
	assert_int_equal(served(x, 2), before[2] + 1);
	assert_int_equal(access(x->state, R_OK), 0);

	/* And then diffs again. */
	put_service(&x->m, "shop", "web", "10.96.0.10", 83);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_int_equal(nc_pub_diffs(&x->p, CLOCK), 1);
	assert_int_equal(served(x, 0), before[0] + 2);
	assert_false(x->p.whole[0]);
	assert_int_equal(x->p.stats.failed, 2);
	fx_close(x);
}

/* --- what the feed serves: zg_db_foreach against zg_db_write ----------- */

struct lines {
	char **v;
	size_t n, cap;
};

static void
lines_add(struct lines *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n] = strndup(s, len);
	assert_non_null(l->v[l->n]);
	l->n++;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split TEXT into lines (each without its newline), sorted. */
static void
lines_split(struct lines *l, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lines_add(l, p, n);
		p += n + 1;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_text);
}

struct collect {
	const char *origin;
	struct kz_buf text;
	size_t n;
};

static int
collect_rr(void *ctx, const struct zg_rr *rr)
{
	struct collect *c = ctx;

	c->n++;
	return zg_rr_write(rr, c->origin, &c->text);
}

static void
check_foreach(const struct zg_db *db)
{
	for (size_t z = 0; z < db->nzones; z++) {
		struct collect c = { db->zones[z].origin, { 0 }, 0 };
		struct lines got = { 0 }, want = { 0 };
		struct kz_buf w;
		size_t nw = 0;

		kz_buf_init(&c.text, 1 << 20);
		kz_buf_init(&w, 1 << 20);
		assert_int_equal(zg_db_foreach(db, z, collect_rr, &c), 0);
		assert_int_equal(zg_db_write(db, z, &w, &nw), 0);
		assert_int_equal(c.n, nw);
		assert_int_equal(c.n, db->zones[z].nrecords);
		lines_split(&got, c.text.data, c.text.len);
		lines_split(&want, w.data, w.len);
		assert_int_equal(got.n, want.n);
		assert_int_equal(got.n, nw);
		for (size_t i = 0; i < got.n; i++)
			assert_string_equal(got.v[i], want.v[i]);
		lines_free(&got);
		lines_free(&want);
		kz_buf_free(&c.text);
		kz_buf_free(&w);
	}
}

/* FN's first non-zero result stops the walk and comes back. */
static int
stop_at_two(void *ctx, const struct zg_rr *rr)
{
	size_t *n = ctx;

	(void)rr;
	return ++*n == 2 ? 42 : 0;
}

static void
test_foreach_equals_write(void **state)
{
	struct fx *x = *state;
	size_t n = 0;

	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	check_foreach(&x->db);

	/* After changes, deletes included. */
	put_service(&x->m, "shop", "web", "10.96.0.12", 81);
	put_pod(&x->m, "shop", "web-1", "10.244.1.6");
	assert_int_equal(zg_model_del(&x->m, ZG_KIND_SERVICE, "shop", "db"),
	    1);
	assert_true(zg_db_apply(&x->db, &x->m, true) > 0);
	assert_true(nc_pub_diffs(&x->p, CLOCK) > 0);
	check_foreach(&x->db);

	assert_true(x->db.zones[0].nrecords >= 2);
	assert_int_equal(zg_db_foreach(&x->db, 0, stop_at_two, &n), 42);
	assert_int_equal(n, 2);
	fx_close(x);
}

/* --- the SOA: from the options to the feed ------------------------------ */

/*
 * The SOA the feed answers for ORIGIN, as zone-file text (a signed SOA
 * query over UDP; the feed's fds are polled here). Free the result.
 */
static char *
feed_soa(struct fx *x, const char *origin)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(origin),
	    LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0), *r = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons(x->feed.port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	uint8_t *wire = NULL, buf[65535];
	char alg[40], *text;
	ssize_t n = -1;
	size_t len;

	assert_non_null(q);
	assert_true(fd >= 0);
	ldns_pkt_set_random_id(q);
	snprintf(alg, sizeof(alg), "%s.", x->feed.key.alg);
	assert_int_equal(ldns_pkt_tsig_sign(q, x->feed.key.name,
	    x->feed.key.secret, 300, alg, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, wire, len, 0), (ssize_t)len);
	for (int round = 0; round < 100 && n < 0; round++) {
		struct pollfd p[MAXFD + 1];
		size_t k, nf = x->nfds;

		for (k = 0; k < nf; k++)
			p[k] = (struct pollfd){ x->fds[k], POLLIN, 0 };
		p[nf] = (struct pollfd){ fd, POLLIN, 0 };
		assert_true(poll(p, nf + 1, 50) >= 0);
		for (k = 0; k < nf; k++)
			if (p[k].revents)
				nc_feed_ready(&x->feed, p[k].fd, p[k].revents);
		if (p[nf].revents & POLLIN)
			n = recv(fd, buf, sizeof(buf), 0);
	}
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&r, buf, (size_t)n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(r), 1);
	text = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(r), 0));
	assert_non_null(text);
	ldns_pkt_free(r);
	ldns_pkt_free(q);
	free(wire);
	close(fd);
	return text;
}

/*
 * R1 with --ns and --soa-*: what the feed hands NSD is the SOA of the
 * options, in the cluster zone and the reverse zones alike: MNAME the
 * first --ns, RNAME the mailbox as RFC 1035 writes it, the timers
 * given, the TTL min(--ttl, 300).
 */
static void
test_feed_serves_the_soa_of_the_options(void **state)
{
	static const char *const args[] = { "--ns", "ns1.example.net",
	    "--ns", "ns2.cluster.local=192.0.2.53", "--soa-rname",
	    "dns.admin@example.net", "--soa-refresh", "3600", "--soa-retry",
	    "600", "--soa-expire", "1209600", "--soa-minimum", "60", NULL };
	static const char *const zones[] = { "cluster.local.",
	    "96.10.in-addr.arpa.", "244.10.in-addr.arpa." };
	struct fx *x = *state;

	fx_open_args(x, 0, args);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	for (size_t i = 0; i < 3; i++) {
		char want[256], *got = feed_soa(x, zones[i]);

		snprintf(want, sizeof(want), "%s\t30\tIN\tSOA\tns1.example.net. "
		    "dns\\.admin.example.net. %u 3600 600 1209600 60\n",
		    zones[i], served(x, (size_t)zg_db_find(&x->db, zones[i])));
		assert_string_equal(got, want);
		free(got);
	}
	fx_close(x);

	/* The defaults: what kubezone always served (CoreDNS's timers). */
	fx_open(x, 0);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, NULL, CLOCK), 0);
	{
		char want[256], *got = feed_soa(x, "244.10.in-addr.arpa.");

		snprintf(want, sizeof(want), "244.10.in-addr.arpa.\t30\tIN\t"
		    "SOA\tns.dns.cluster.local. hostmaster.cluster.local. %u "
		    "7200 1800 86400 30\n", served(x, 2));
		assert_string_equal(got, want);
		free(got);
	}
	fx_close(x);
}

/* Write every zone of X's database into DIR as NSD would, with SERIAL. */
static void
write_zone_files(struct fx *x, const char *dir, uint32_t serial)
{
	struct zg_zoneset zs = { 0 };

	assert_int_equal(zg_db_zoneset(&x->db, &zs), 0);
	for (size_t z = 0; z < zs.nzones; z++) {
		char path[256];
		struct kz_buf b;
		FILE *f;

		kz_buf_init(&b, 1 << 20);
		assert_int_equal(zg_zone_write(&zs.zones[z], serial, &b), 0);
		snprintf(path, sizeof(path), "%s/%s", dir, zs.zones[z].file);
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
		assert_int_equal(fclose(f), 0);
		kz_buf_free(&b);
	}
	zg_zoneset_free(&zs);
}

/*
 * A restart resumes each zone from NSD's zone file only while the
 * file's SOA is the zone's: the SOA is in no diff, so a changed
 * --soa-expire (or --ns, --soa-rname, ...) with the same records would
 * otherwise keep NSD serving the old SOA under the old serial. Such a
 * zone goes out whole with a new serial.
 */
static void
test_resume_needs_the_same_soa(void **state)
{
	static const char *const expire[] = { "--soa-expire", "1209600",
	    NULL };
	static const char *const rname[] = { "--soa-rname",
	    "HostMaster.Cluster.Local", NULL };
	struct fx *x = *state;
	char zonedir[128];

	snprintf(zonedir, sizeof(zonedir), "%s/zones", x->dir);
	assert_int_equal(mkdir(zonedir, 0750), 0);
	fx_open(x, 0);
	write_zone_files(x, zonedir, 5000);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, zonedir, CLOCK), 0);
	for (size_t z = 0; z < x->db.nzones; z++)
		assert_int_equal(served(x, z), 5000);	/* resumed */
	fx_close(x);

	/* The same name in another case is the same RNAME: resumed. */
	fx_open_args(x, 0, rname);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, zonedir, CLOCK), 0);
	for (size_t z = 0; z < x->db.nzones; z++)
		assert_int_equal(served(x, z), 5000);
	fx_close(x);

	fx_open_args(x, 0, expire);
	assert_int_equal(nc_pub_init(&x->p, &x->db, &x->feed, &x->sn), 0);
	assert_int_equal(nc_pub_start(&x->p, zonedir, CLOCK), 0);
	for (size_t z = 0; z < x->db.nzones; z++) {
		uint32_t s = served(x, z);

		assert_true(s > 5000);
		assert_int_equal(x->p.first[z], s);
	}
	fx_close(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_publishes_every_zone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_service_change_is_one_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noop_commits_nothing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_continues_above_learned,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_never_reuses,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_goes_whole,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_equals_write,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_serves_the_soa_of_the_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_needs_the_same_soa,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
