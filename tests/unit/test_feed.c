/*
 * tests/unit/test_feed.c -- nsd-conf/feed over real loopback sockets.
 *
 * The test is the feed's event loop (poll over the fds the feed asks
 * for) and, interleaved in the same loop, its DNS client: queries are
 * built and checked with ldns, every wait is on a condition with a
 * deadline. The last test runs a real NSD as the feed's secondary when
 * /usr/sbin/nsd exists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "nsd-conf/feed.h"

#define ZONE "cluster.local."
#define WAIT_MS 5000
#define MAXW 64

struct rec {
	uint8_t wire[512];	/* owner, type, class, ttl, rdlen, rdata */
	size_t ownerlen, rdlen;
	uint16_t type;
	uint32_t ttl;
	char text[256];
};

struct fx {
	struct nc_feed f;
	struct pollfd w[MAXW];
	size_t nw;
	size_t zone;
	struct rec *recs;
	size_t nrecs;
};

/* --- the loop ---------------------------------------------------------- */

static int
io_watch(void *ctx, int fd, short events)
{
	struct fx *x = ctx;
	size_t i;

	for (i = 0; i < x->nw; i++) {
		if (x->w[i].fd == fd) {
			x->w[i].events = events;
			return 0;
		}
	}
	if (x->nw == MAXW)
		return -1;
	x->w[x->nw].fd = fd;
	x->w[x->nw].events = events;
	x->nw++;
	return 0;
}

static void
io_unwatch(void *ctx, int fd)
{
	struct fx *x = ctx;
	size_t i;

	for (i = 0; i < x->nw; i++) {
		if (x->w[i].fd == fd) {
			x->w[i] = x->w[--x->nw];
			return;
		}
	}
}

/*
 * One round: poll the feed's fds and CFD (if >= 0) for CEV at most MS
 * ms, run the feed, and return CFD's revents.
 */
static short
pump(struct fx *x, int cfd, short cev, int ms)
{
	struct pollfd p[MAXW + 1];
	size_t n = x->nw, i;
	uint64_t now = kz_now_ms(), d = nc_feed_deadline(&x->f);
	short crev = 0;

	memcpy(p, x->w, n * sizeof(*p));
	if (cfd >= 0) {
		p[n].fd = cfd;
		p[n].events = cev;
		n++;
	}
	if (d && (d <= now || d - now < (uint64_t)ms))
		ms = d <= now ? 0 : (int)(d - now);
	assert_true(poll(p, n, ms) >= 0);
	for (i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (cfd >= 0 && i == n - 1)
			crev = p[i].revents;
		else
			nc_feed_ready(&x->f, p[i].fd, p[i].revents);
	}
	d = nc_feed_deadline(&x->f);
	now = kz_now_ms();
	if (d && d <= now)
		nc_feed_tick(&x->f, now);
	return crev;
}

/* Pump until *FLAG changes from START or WAIT_MS pass. */
static void
pump_until_ul(struct fx *x, const unsigned long *v, unsigned long want)
{
	uint64_t end = kz_now_ms() + WAIT_MS;

	while (*v < want && kz_now_ms() < end)
		pump(x, -1, 0, 50);
	assert_true(*v >= want);
}

/* --- zone data --------------------------------------------------------- */

static void
rec_make(struct rec *r, const char *text)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	char *s;

	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	ldns_rr2canonical(rr);
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &len),
	    LDNS_STATUS_OK);
	assert_true(len <= sizeof(r->wire));
	memcpy(r->wire, wire, len);
	r->ownerlen = ldns_rdf_size(ldns_rr_owner(rr));
	r->type = ldns_rr_get_type(rr);
	r->ttl = ldns_rr_ttl(rr);
	r->rdlen = len - r->ownerlen - 10;
	s = ldns_rr2str(rr);
	snprintf(r->text, sizeof(r->text), "%s", s);
	free(s);
	free(wire);
	ldns_rr_free(rr);
}

static struct nc_rr
rec_rr(const struct rec *r)
{
	struct nc_rr rr = { r->wire, r->ownerlen, r->type, r->ttl,
	    r->wire + r->ownerlen + 10, r->rdlen };

	return rr;
}

static int
foreach(void *ctx, size_t zone, int (*emit)(void *, const struct nc_rr *),
    void *ectx)
{
	struct fx *x = ctx;
	size_t i;
	int rc;

	(void)zone;
	for (i = 0; i < x->nrecs; i++) {
		struct nc_rr rr = rec_rr(&x->recs[i]);

		if ((rc = emit(ectx, &rr)))
			return rc;
	}
	return 0;
}

static void
make_recs(struct fx *x, size_t n)
{
	char text[256];
	size_t i;

	x->recs = calloc(n, sizeof(*x->recs));
	assert_non_null(x->recs);
	x->nrecs = n;
	for (i = 0; i < n; i++) {
		if (i % 3 == 2)
			snprintf(text, sizeof(text), "_http._tcp.s%zu.ns.svc."
			    ZONE " 30 IN SRV 0 100 80 s%zu.ns.svc." ZONE, i, i);
		else
			snprintf(text, sizeof(text), "s%zu.ns.svc." ZONE
			    " 30 IN A 10.%zu.%zu.%zu", i, i >> 16 & 255,
			    i >> 8 & 255, i & 255);
		rec_make(&x->recs[i], text);
	}
}

static const struct nc_feed_soa soa = { "ns.dns." ZONE, "hostmaster." ZONE,
    7200, 1800, 86400, 30, 30 };

static int
fx_setup(void **state, const struct nc_feed_opts *o, size_t nrecs)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct nc_feed_io io = { io_watch, io_unwatch, x };
	char err[256];

	assert_non_null(x);
	assert_int_equal(nc_feed_init(&x->f, o, &io, err, sizeof(err)), 0);
	assert_true(x->f.port > 0);
	make_recs(x, nrecs);
	assert_int_equal(nc_feed_add_zone(&x->f, ZONE, &soa, foreach, x,
	    &x->zone), 0);
	*state = x;
	return 0;
}

static int
setup(void **state)
{
	return fx_setup(state, NULL, 30);
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	nc_feed_free(&x->f);
	assert_int_equal(x->nw, 0);	/* every fd unwatched */
	nc_feed_free(&x->f);		/* twice is fine */
	free(x->recs);
	free(x);
	return 0;
}

/* --- the client side ----------------------------------------------------- */

struct q {
	uint8_t *wire;
	size_t len;
	ldns_rdf *mac;
};

/*
 * A query for NAME/TYPE (IXFR: with SERIAL in the authority section),
 * signed with KEY (NULL: unsigned).
 */
static void
q_make(struct q *q, const char *name, ldns_rr_type type, uint32_t serial,
    const struct nc_feed_key *key)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type,
	    LDNS_RR_CLASS_IN, 0);
	char text[256], alg[40];

	assert_non_null(p);
	ldns_pkt_set_random_id(p);
	if (type == LDNS_RR_TYPE_IXFR) {
		ldns_rr *rr = NULL;

		snprintf(text, sizeof(text), "%s 0 IN SOA . . %" PRIu32
		    " 0 0 0 0", name, serial);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr));
	}
	q->mac = NULL;
	if (key) {
		snprintf(alg, sizeof(alg), "%s.", key->alg);
		assert_int_equal(ldns_pkt_tsig_sign(p, key->name, key->secret,
		    300, alg, NULL), LDNS_STATUS_OK);
		q->mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
	}
	assert_int_equal(ldns_pkt2wire(&q->wire, p, &q->len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
}

static void
q_free(struct q *q)
{
	free(q->wire);
	ldns_rdf_deep_free(q->mac);
}

static int
udp_client(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send Q over UDP and return the parsed answer (its wire in WIRE). */
static ldns_pkt *
udp_ask(struct fx *x, const struct q *q, uint8_t *wire, size_t *len)
{
	int fd = udp_client(x->f.port);
	uint64_t end = kz_now_ms() + WAIT_MS;
	ldns_pkt *p = NULL;
	ssize_t n = -1;

	assert_int_equal(send(fd, q->wire, q->len, 0), (ssize_t)q->len);
	while (kz_now_ms() < end) {
		if (pump(x, fd, POLLIN, 100) & POLLIN) {
			n = recv(fd, wire, 65535, 0);
			break;
		}
	}
	close(fd);
	assert_true(n > 0);
	*len = (size_t)n;
	assert_int_equal(ldns_wire2pkt(&p, wire, *len), LDNS_STATUS_OK);
	return p;
}

struct msgs {
	ldns_pkt *p[256];
	uint8_t *wire[256];
	size_t len[256];
	size_t n, nrr;
};

static void
msgs_free(struct msgs *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		ldns_pkt_free(m->p[i]);
		free(m->wire[i]);
	}
	m->n = 0;
}

static int
tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Loopback: the kernel completes the handshake before accept. */
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/*
 * Send Q over TCP, read messages until WANT answer records came (or an
 * error rcode, EOF, the deadline) into M.
 */
static void
tcp_ask(struct fx *x, const struct q *q, size_t want, struct msgs *m)
{
	int fd = tcp_connect(x->f.port);
	uint8_t hdr[2] = { (uint8_t)(q->len >> 8), (uint8_t)q->len };
	uint8_t *buf = malloc(70000);
	size_t have = 0;
	uint64_t end = kz_now_ms() + WAIT_MS;

	assert_non_null(buf);
	memset(m, 0, sizeof(*m));
	assert_int_equal(send(fd, hdr, 2, 0), 2);
	assert_int_equal(send(fd, q->wire, q->len, 0), (ssize_t)q->len);
	while (m->nrr < want && kz_now_ms() < end) {
		ssize_t r;
		size_t n;

		if (!(pump(x, fd, POLLIN, 100) & (POLLIN | POLLHUP)))
			continue;
		r = recv(fd, buf + have, 70000 - have, 0);
		if (r <= 0)
			break;
		have += (size_t)r;
		while (have >= 2 && have >= 2 + (n = (size_t)buf[0] << 8 |
		    buf[1])) {
			ldns_pkt *p = NULL;

			assert_true(m->n < 256);
			assert_int_equal(ldns_wire2pkt(&p, buf + 2, n),
			    LDNS_STATUS_OK);
			m->p[m->n] = p;
			m->wire[m->n] = malloc(n);
			memcpy(m->wire[m->n], buf + 2, n);
			m->len[m->n++] = n;
			m->nrr += ldns_pkt_ancount(p);
			memmove(buf, buf + 2 + n, have - 2 - n);
			have -= 2 + n;
			if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
				want = 0;
		}
	}
	free(buf);
	close(fd);
}

/* Every message of M verifies, chained from the request MAC (RFC 8945). */
static void
check_tsig_chain(const struct fx *x, struct msgs *m, const ldns_rdf *reqmac)
{
	const ldns_rdf *mac = reqmac;
	size_t i;

	for (i = 0; i < m->n; i++) {
		assert_non_null(ldns_pkt_tsig(m->p[i]));
		assert_true(ldns_pkt_tsig_verify_next(m->p[i], m->wire[i],
		    m->len[i], x->f.key.name, x->f.key.secret, mac, i > 0));
		assert_true(m->len[i] <= NC_FEED_MSG_MAX);
		mac = ldns_rr_rdf(ldns_pkt_tsig(m->p[i]), 3);
	}
}

/* All answer records of M as text, in order; *N their count. */
static char **
msgs_texts(const struct msgs *m, size_t *n)
{
	char **v = calloc(m->nrr + 1, sizeof(*v));
	size_t i, k, o = 0;

	assert_non_null(v);
	for (i = 0; i < m->n; i++) {
		ldns_rr_list *an = ldns_pkt_answer(m->p[i]);

		for (k = 0; k < ldns_rr_list_rr_count(an); k++)
			v[o++] = ldns_rr2str(ldns_rr_list_rr(an, k));
	}
	*n = o;
	return v;
}

static void
texts_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint32_t
soa_serial_of(const char *text)
{
	ldns_rr *rr = NULL;
	uint32_t s;

	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
	    LDNS_STATUS_OK);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	s = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	ldns_rr_free(rr);
	return s;
}

/* Check M is SOA(SERIAL), the fixture's records (any order), SOA(SERIAL). */
static void
check_full_zone(struct fx *x, struct msgs *m, uint32_t serial)
{
	size_t n, i;
	char **got = msgs_texts(m, &n);
	char **want = calloc(x->nrecs, sizeof(*want));

	assert_int_equal(n, x->nrecs + 2);
	assert_int_equal(soa_serial_of(got[0]), serial);
	assert_int_equal(soa_serial_of(got[n - 1]), serial);
	for (i = 0; i < x->nrecs; i++)
		want[i] = x->recs[i].text;
	qsort(got + 1, n - 2, sizeof(*got), cmp_str);
	qsort(want, x->nrecs, sizeof(*want), cmp_str);
	for (i = 0; i < x->nrecs; i++)
		assert_string_equal(got[i + 1], want[i]);
	free(want);
	texts_free(got, n);
}

/* --- tests ------------------------------------------------------------- */

static void
test_soa_udp_tcp(void **state)
{
	struct fx *x = *state;
	uint8_t wire[65535];
	size_t len;
	struct msgs m;
	struct q q;
	ldns_pkt *p;
	bool pub;

	assert_int_equal(nc_feed_serial(&x->f, x->zone, &pub), 0);
	assert_false(pub);
	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 10), 0);
	assert_int_equal(nc_feed_serial(&x->f, x->zone, &pub), 10);
	assert_true(pub);
	assert_string_equal(x->f.key.name, NC_FEED_KEY_NAME);
	assert_string_equal(x->f.key.alg, "hmac-sha256");
	assert_int_equal(strlen(x->f.key.secret), 44);

	q_make(&q, "Cluster.Local.", LDNS_RR_TYPE_SOA, 0, &x->f.key);
	p = udp_ask(x, &q, wire, &len);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(
	    ldns_rr_list_rr(ldns_pkt_answer(p), 0), 2)), 10);
	assert_true(ldns_pkt_tsig_verify(p, wire, len, x->f.key.name,
	    x->f.key.secret, q.mac));
	ldns_pkt_free(p);

	tcp_ask(x, &q, 1, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(ldns_pkt_get_rcode(m.p[0]), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(m.p[0]));
	assert_int_equal(m.nrr, 1);
	check_tsig_chain(x, &m, q.mac);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.queries, 2);
	assert_int_equal(x->f.stats.tsig_failures, 0);
}

/* The rcode and TSIG error of the answer to Q over UDP. */
static void
ask_expect(struct fx *x, const struct q *q, ldns_pkt_rcode rcode,
    int tsig_error)
{
	uint8_t wire[65535];
	size_t len;
	ldns_pkt *p = udp_ask(x, q, wire, &len);

	assert_int_equal(ldns_pkt_get_rcode(p), rcode);
	if (tsig_error < 0) {
		assert_null(ldns_pkt_tsig(p));
	} else {
		ldns_rr *t = ldns_pkt_tsig(p);

		assert_non_null(t);
		assert_int_equal(ldns_rdf2native_int16(ldns_rr_rdf(t, 5)),
		    tsig_error);
		if (tsig_error)		/* unsigned: an empty MAC */
			assert_int_equal(ldns_rdf_size(ldns_rr_rdf(t, 3)), 2);
		else
			assert_true(ldns_pkt_tsig_verify(p, wire, len,
			    x->f.key.name, x->f.key.secret, q->mac));
	}
	ldns_pkt_free(p);
}

static void
test_tsig_refused(void **state)
{
	struct fx *x = *state;
	struct nc_feed_key wrong = x->f.key, other = x->f.key;
	struct q q;

	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 1), 0);
	wrong.secret[0] = wrong.secret[0] == 'A' ? 'B' : 'A';
	snprintf(other.name, sizeof(other.name), "other-key");

	q_make(&q, ZONE, LDNS_RR_TYPE_SOA, 0, NULL);
	ask_expect(x, &q, LDNS_RCODE_REFUSED, -1);
	q_free(&q);
	q_make(&q, ZONE, LDNS_RR_TYPE_SOA, 0, &wrong);
	ask_expect(x, &q, LDNS_RCODE_NOTAUTH, 16);	/* BADSIG */
	q_free(&q);
	q_make(&q, ZONE, LDNS_RR_TYPE_SOA, 0, &other);
	ask_expect(x, &q, LDNS_RCODE_NOTAUTH, 17);	/* BADKEY */
	q_free(&q);
	/* An unsigned AXFR over TCP is refused too. */
	{
		struct msgs m;

		q_make(&q, ZONE, LDNS_RR_TYPE_AXFR, 0, NULL);
		tcp_ask(x, &q, 1, &m);
		assert_int_equal(m.n, 1);
		assert_int_equal(ldns_pkt_get_rcode(m.p[0]),
		    LDNS_RCODE_REFUSED);
		assert_int_equal(m.nrr, 0);
		msgs_free(&m);
		q_free(&q);
	}
	assert_int_equal(x->f.stats.tsig_failures, 4);
	assert_int_equal(x->f.stats.axfr, 0);
}

static void
test_unpublished_unknown_other(void **state)
{
	struct fx *x = *state;
	struct q q;

	q_make(&q, ZONE, LDNS_RR_TYPE_SOA, 0, &x->f.key);
	ask_expect(x, &q, LDNS_RCODE_SERVFAIL, 0);
	q_free(&q);
	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 5), 0);
	q_make(&q, "example.org.", LDNS_RR_TYPE_SOA, 0, &x->f.key);
	ask_expect(x, &q, LDNS_RCODE_REFUSED, 0);
	q_free(&q);
	q_make(&q, ZONE, LDNS_RR_TYPE_A, 0, &x->f.key);
	ask_expect(x, &q, LDNS_RCODE_REFUSED, 0);
	q_free(&q);
	q_make(&q, ZONE, LDNS_RR_TYPE_AXFR, 0, &x->f.key);
	ask_expect(x, &q, LDNS_RCODE_REFUSED, 0);	/* AXFR over UDP */
	q_free(&q);
	/* IXFR over UDP: the current SOA alone. */
	{
		uint8_t wire[65535];
		size_t len;
		ldns_pkt *p;

		q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 1, &x->f.key);
		p = udp_ask(x, &q, wire, &len);
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		assert_int_equal(ldns_pkt_ancount(p), 1);
		assert_true(ldns_pkt_tsig_verify(p, wire, len, x->f.key.name,
		    x->f.key.secret, q.mac));
		ldns_pkt_free(p);
		q_free(&q);
	}
	/* The same zone twice is refused; a second zone can be added. */
	{
		size_t z2;

		assert_int_equal(nc_feed_add_zone(&x->f, "CLUSTER.local", &soa,
		    foreach, x, &z2), KZ_EINVAL);
		assert_int_equal(nc_feed_add_zone(&x->f, "10.in-addr.arpa.",
		    &soa, foreach, x, &z2), 0);
		assert_int_equal(z2, 1);
	}
}

static int
setup_big(void **state)
{
	return fx_setup(state, NULL, 4000);
}

static void
test_axfr(void **state)
{
	struct fx *x = *state;
	struct msgs m;
	struct q q;

	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 2024), 0);
	q_make(&q, ZONE, LDNS_RR_TYPE_AXFR, 0, &x->f.key);
	tcp_ask(x, &q, x->nrecs + 2, &m);
	assert_true(m.n >= 3);		/* ~200 KB: several messages */
	check_tsig_chain(x, &m, q.mac);
	check_full_zone(x, &m, 2024);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.axfr, 1);
}

/*
 * Owners point to the question's name only when it is spelled as the
 * zone is: a question in other case gets the records as they are, not
 * renamed to its spelling; the zone is found all the same.
 */
static void
test_axfr_question_case(void **state)
{
	struct fx *x = *state;
	struct msgs m;
	struct q q, lower;
	size_t bytes = 0, lower_bytes = 0, i;

	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 2024), 0);
	q_make(&q, "Cluster.LOCAL.", LDNS_RR_TYPE_AXFR, 0, &x->f.key);
	tcp_ask(x, &q, x->nrecs + 2, &m);
	check_tsig_chain(x, &m, q.mac);
	check_full_zone(x, &m, 2024);
	assert_string_equal(ldns_rdf_data(ldns_rr_owner(ldns_rr_list_rr(
	    ldns_pkt_question(m.p[0]), 0))) + 1, "Cluster\005LOCAL");
	for (i = 0; i < m.n; i++)
		bytes += m.len[i];
	msgs_free(&m);
	q_free(&q);
	/* The same zone asked as spelled: the owners are pointers, the
	 * transfer smaller. */
	q_make(&lower, ZONE, LDNS_RR_TYPE_AXFR, 0, &x->f.key);
	tcp_ask(x, &lower, x->nrecs + 2, &m);
	check_full_zone(x, &m, 2024);
	for (i = 0; i < m.n; i++)
		lower_bytes += m.len[i];
	msgs_free(&m);
	q_free(&lower);
	assert_true(lower_bytes + x->nrecs * (sizeof(ZONE) - 1 - 2) / 2 <
	    bytes);
}

/* Commit diff SERIAL: delete DEL (may be NULL), add ADD. */
static void
commit1(struct fx *x, uint32_t serial, const char *del, const char *add)
{
	struct rec d, a;
	struct nc_rr dr, ar;

	if (del) {
		rec_make(&d, del);
		dr = rec_rr(&d);
	}
	rec_make(&a, add);
	ar = rec_rr(&a);
	assert_int_equal(nc_feed_commit(&x->f, x->zone, serial, del ? &dr :
	    NULL, del ? 1 : 0, &ar, 1), 0);
}

static const char *const diffs[][2] = {
	{ NULL, "new1." ZONE "\t30\tIN\tA\t10.1.1.1" },
	{ "new1." ZONE "\t30\tIN\tA\t10.1.1.1", "new2." ZONE "\t30\tIN\tA\t10.1.1.2" },
	{ "new2." ZONE "\t30\tIN\tA\t10.1.1.2", "new3." ZONE "\t30\tIN\tA\t10.1.1.3" },
};

static void
test_ixfr(void **state)
{
	struct fx *x = *state;
	struct msgs m;
	struct q q;
	char **got;
	size_t n, i;

	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 100), 0);
	for (i = 0; i < 3; i++)
		commit1(x, 101 + (uint32_t)i, diffs[i][0], diffs[i][1]);
	assert_int_equal(nc_feed_serial(&x->f, x->zone, NULL), 103);

	/* Up to date: one SOA. */
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 103, &x->f.key);
	tcp_ask(x, &q, 1, &m);
	assert_int_equal(m.nrr, 1);
	check_tsig_chain(x, &m, q.mac);
	got = msgs_texts(&m, &n);
	assert_int_equal(soa_serial_of(got[0]), 103);
	texts_free(got, n);
	msgs_free(&m);
	q_free(&q);

	/* Two diffs back: the exact RFC 1995 sequence. */
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 101, &x->f.key);
	tcp_ask(x, &q, 10, &m);
	check_tsig_chain(x, &m, q.mac);
	got = msgs_texts(&m, &n);
	assert_int_equal(n, 10);
	assert_int_equal(soa_serial_of(got[0]), 103);
	assert_int_equal(soa_serial_of(got[1]), 101);
	assert_non_null(strstr(got[2], "new1."));
	assert_int_equal(soa_serial_of(got[3]), 102);
	assert_non_null(strstr(got[4], "new2."));
	assert_int_equal(soa_serial_of(got[5]), 102);
	assert_non_null(strstr(got[6], "new2."));
	assert_int_equal(soa_serial_of(got[7]), 103);
	assert_non_null(strstr(got[8], "new3."));
	assert_int_equal(soa_serial_of(got[9]), 103);
	texts_free(got, n);
	msgs_free(&m);
	q_free(&q);

	/* From the start of the journal: the first diff has no deletion. */
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 100, &x->f.key);
	tcp_ask(x, &q, 13, &m);
	assert_int_equal(m.nrr, 13);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.ixfr, 3);

	/* An unknown serial: the whole zone. */
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 55, &x->f.key);
	tcp_ask(x, &q, x->nrecs + 2, &m);
	check_tsig_chain(x, &m, q.mac);
	check_full_zone(x, &m, 103);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.ixfr_fallback, 1);

	/* set_serial clears the journal: IXFR from 102 falls back. */
	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 200), 0);
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 102, &x->f.key);
	tcp_ask(x, &q, x->nrecs + 2, &m);
	check_full_zone(x, &m, 200);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.ixfr_fallback, 2);
}

static int
setup_small_journal(void **state)
{
	static const struct nc_feed_opts o = { .journal_max_diffs = 2 };

	return fx_setup(state, &o, 20);
}

static void
test_journal_bound(void **state)
{
	struct fx *x = *state;
	struct msgs m;
	struct q q;
	size_t i;

	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 100), 0);
	for (i = 0; i < 3; i++)
		commit1(x, 101 + (uint32_t)i, diffs[i][0], diffs[i][1]);
	/* 100->101 was dropped (two diffs kept): from 100 is a fallback. */
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 100, &x->f.key);
	tcp_ask(x, &q, x->nrecs + 2, &m);
	check_full_zone(x, &m, 103);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.ixfr_fallback, 1);
	/* from 101 still incremental */
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 101, &x->f.key);
	tcp_ask(x, &q, 10, &m);
	assert_int_equal(m.nrr, 10);
	msgs_free(&m);
	q_free(&q);
	assert_int_equal(x->f.stats.ixfr, 1);
	/* A serial bump without records is a diff too. */
	assert_int_equal(nc_feed_commit(&x->f, x->zone, 104, NULL, 0, NULL, 0),
	    0);
	q_make(&q, ZONE, LDNS_RR_TYPE_IXFR, 103, &x->f.key);
	tcp_ask(x, &q, 4, &m);
	assert_int_equal(m.nrr, 4);
	msgs_free(&m);
	q_free(&q);
}

static int
setup_notify(void **state)
{
	static const struct nc_feed_opts o = { .notify_retry_ms = 30,
	    .notify_tries = 3 };

	return fx_setup(state, &o, 5);
}

/* Wait for a NOTIFY on FD; return it parsed, its source in SA. */
static ldns_pkt *
recv_notify(struct fx *x, int fd, struct sockaddr_in *sa, uint8_t *wire,
    size_t *len)
{
	uint64_t end = kz_now_ms() + WAIT_MS;
	socklen_t salen = sizeof(*sa);
	ldns_pkt *p = NULL;
	ssize_t n = -1;

	while (kz_now_ms() < end) {
		if (pump(x, fd, POLLIN, 50) & POLLIN) {
			n = recvfrom(fd, wire, 65535, 0, (struct sockaddr *)sa,
			    &salen);
			break;
		}
	}
	assert_true(n > 0);
	*len = (size_t)n;
	assert_int_equal(ldns_wire2pkt(&p, wire, *len), LDNS_STATUS_OK);
	return p;
}

static void
test_notify(void **state)
{
	struct fx *x = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	uint8_t wire[65535];
	size_t len;
	ldns_pkt *p1, *p2, *r;
	uint8_t *rw;
	size_t rlen;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	assert_int_equal(nc_feed_add_notify(&x->f, "127.0.0.1",
	    ntohs(sa.sin_port)), 0);
	assert_int_equal(nc_feed_add_notify(&x->f, "not-an-ip", 53),
	    KZ_EINVAL);
	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 7), 0);
	commit1(x, 8, NULL, diffs[0][1]);	/* supersedes the one for 7 */

	p1 = recv_notify(x, fd, &sa, wire, &len);
	assert_int_equal(ldns_pkt_get_opcode(p1), LDNS_PACKET_NOTIFY);
	assert_true(ldns_pkt_aa(p1));
	assert_false(ldns_pkt_qr(p1));
	assert_true(ldns_pkt_tsig_verify(p1, wire, len, x->f.key.name,
	    x->f.key.secret, NULL));
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
	    ldns_pkt_question(p1), 0)), LDNS_RR_TYPE_SOA);
	/* The first one may be the superseded one for 7: skip it then. */
	if (ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(
	    ldns_pkt_answer(p1), 0), 2)) == 7) {
		ldns_pkt_free(p1);
		p1 = recv_notify(x, fd, &sa, wire, &len);
	}
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(
	    ldns_pkt_answer(p1), 0), 2)), 8);
	/* Unanswered: it comes again, same id. */
	p2 = recv_notify(x, fd, &sa, wire, &len);
	assert_int_equal(ldns_pkt_id(p2), ldns_pkt_id(p1));
	/* Answer it (signed, chained to its MAC): the retries stop. */
	r = ldns_pkt_new();
	ldns_pkt_set_id(r, ldns_pkt_id(p2));
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_aa(r, true);
	ldns_pkt_set_opcode(r, LDNS_PACKET_NOTIFY);
	ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(
	    ldns_rr_list_rr(ldns_pkt_question(p2), 0)));
	assert_int_equal(ldns_pkt_tsig_sign(r, x->f.key.name, x->f.key.secret,
	    300, "hmac-sha256.", ldns_rr_rdf(ldns_pkt_tsig(p2), 3)),
	    LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt2wire(&rw, r, &rlen), LDNS_STATUS_OK);
	assert_int_equal(sendto(fd, rw, rlen, 0, (struct sockaddr *)&sa,
	    sizeof(sa)), (ssize_t)rlen);
	free(rw);
	ldns_pkt_free(r);
	ldns_pkt_free(p1);
	ldns_pkt_free(p2);
	pump_until_ul(x, &x->f.stats.notify_acked, 1);
	assert_int_equal(nc_feed_deadline(&x->f), 0);	/* nothing pending */
	assert_int_equal(x->f.stats.notify_failed, 0);

	/* Never answered: 3 sends, then given up. */
	x->f.stats.notify_sent = 0;
	commit1(x, 9, diffs[0][1], diffs[1][1]);
	pump_until_ul(x, &x->f.stats.notify_failed, 1);
	assert_int_equal(x->f.stats.notify_sent, 3);
	assert_int_equal(nc_feed_deadline(&x->f), 0);
	close(fd);
}

struct probe_res {
	int done, status;
	uint32_t serial;
};

static void
probe_cb(void *ctx, int status, uint32_t serial)
{
	struct probe_res *r = ctx;

	r->done++;
	r->status = status;
	r->serial = serial;
}

static void
probe_wait(struct fx *x, struct probe_res *r)
{
	uint64_t end = kz_now_ms() + WAIT_MS;

	while (!r->done && kz_now_ms() < end)
		pump(x, -1, 0, 50);
	assert_int_equal(r->done, 1);
}

static void
test_probe(void **state)
{
	struct fx *x = *state;
	struct probe_res a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	uint64_t t0;

	/* Not published yet: SERVFAIL. */
	assert_int_equal(nc_feed_probe(&x->f, "127.0.0.1", x->f.port, ZONE,
	    &x->f.key, 2000, probe_cb, &a), 0);
	probe_wait(x, &a);
	assert_int_equal(a.status, NC_FEED_ERCODE(LDNS_RCODE_SERVFAIL));
	assert_string_equal(nc_feed_strerror(a.status), "SERVFAIL");

	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 4242), 0);
	memset(&a, 0, sizeof(a));
	/* Two at once: signed and unsigned. */
	assert_int_equal(nc_feed_probe(&x->f, "127.0.0.1", x->f.port, ZONE,
	    &x->f.key, 2000, probe_cb, &a), 0);
	assert_int_equal(nc_feed_probe(&x->f, "127.0.0.1", x->f.port, ZONE,
	    NULL, 2000, probe_cb, &b), 0);
	probe_wait(x, &a);
	probe_wait(x, &b);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.serial, 4242);
	assert_int_equal(b.status, NC_FEED_ERCODE(LDNS_RCODE_REFUSED));

	/* A port that never answers: a timeout, after about timeout_ms. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(silent, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(silent, (struct sockaddr *)&sa, &salen),
	    0);
	t0 = kz_now_ms();
	assert_int_equal(nc_feed_probe(&x->f, "127.0.0.1", ntohs(sa.sin_port),
	    ZONE, &x->f.key, 300, probe_cb, &c), 0);
	probe_wait(x, &c);
	assert_int_equal(c.status, -ETIMEDOUT);
	assert_true(kz_now_ms() - t0 >= 300);
	close(silent);

	assert_int_equal(nc_feed_probe(&x->f, "nope", 53, ZONE, NULL, 100,
	    probe_cb, &d), KZ_EINVAL);
	assert_int_equal(d.done, 0);
	assert_int_equal(nc_feed_deadline(&x->f), 0);
}

static int
setup_idle(void **state)
{
	static const struct nc_feed_opts o = { .idle_ms = 50, .max_conns = 2 };

	return fx_setup(state, &o, 5);
}

/* --- ports the feed must leave to others ---------------------------------- */

#define RANGE_LO 40000		/* a network namespace's two ephemeral ports */
#define RANGE_HI 40001

/* In a new network namespace: loopback up, two ephemeral ports. 0 on
 * success, 77 when namespaces are not allowed here, 1 on an error. */
static int
tiny_netns(void)
{
	struct ifreq ifr;
	int fd;
	FILE *f;

	if (unshare(CLONE_NEWNET))
		return errno == EPERM ? 77 : 1;
	if (!(f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w")))
		return 77;
	fprintf(f, "%d %d\n", RANGE_LO, RANGE_HI);
	if (fclose(f))
		return 1;
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return 1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		return 1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return 1;
	close(fd);
	return 0;
}

/* The port of a feed opened with AVOID (0: none); 0 when it fails. */
static uint16_t
feed_port(const uint16_t *avoid, size_t navoid)
{
	struct nc_feed_opts o = { .avoid = avoid, .navoid = navoid };
	struct nc_feed f;
	char err[256];
	uint16_t port;

	if (nc_feed_init(&f, &o, NULL, err, sizeof(err)))
		return 0;
	port = f.port;
	nc_feed_free(&f);
	return port;
}

/* Child: where the kernel hands out one port first, a feed told to
 * avoid it takes the other, every time. Exit status 0 when so. */
static int
avoid_child(void)
{
	uint16_t first, avoid[1];
	int rc, i;

	if ((rc = tiny_netns()))
		return rc;
	/* The port handed out first, asked the same way the feed asks. */
	first = feed_port(NULL, 0);
	if (first != RANGE_LO && first != RANGE_HI)
		return 2;
	if (feed_port(NULL, 0) != first)
		return 3;	/* the test needs a repeatable first port */
	avoid[0] = first;
	for (i = 0; i < 20; i++) {
		uint16_t p = feed_port(avoid, 1);

		if (p == 0 || p == first)
			return 4;
	}
	return 0;
}

/* NSD and the HTTP endpoint bind their ports after the feed opened its
 * ephemeral one: the feed never takes one of theirs. */
static void
test_avoided_ports(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	if ((pid = fork()) == 0)
		_exit(avoid_child());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Idle connections are closed; over the cap, new ones are dropped. */
static void
test_idle_and_cap(void **state)
{
	struct fx *x = *state;
	int a = tcp_connect(x->f.port), b = tcp_connect(x->f.port);
	int c = tcp_connect(x->f.port);
	uint64_t end = kz_now_ms() + WAIT_MS;
	int closed = 0;
	char ch;

	while (closed != 7 && kz_now_ms() < end) {
		int fds[3] = { a, b, c };
		int i;

		for (i = 0; i < 3; i++) {
			if (closed & 1 << i)
				continue;
			if ((pump(x, fds[i], POLLIN, 20) & (POLLIN | POLLHUP)) &&
			    recv(fds[i], &ch, 1, 0) <= 0)
				closed |= 1 << i;
		}
	}
	assert_int_equal(closed, 7);
	close(a);
	close(b);
	close(c);
}

/* --- a real NSD as the secondary ----------------------------------------- */

static int
free_port(int type)
{
	/* A port free for TYPE and, for a server, for the other type too
	 * (NSD binds both): an ephemeral one of TYPE, checked. */
	for (int tries = 0; tries < 64; tries++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t salen = sizeof(sa);
		int fd = socket(AF_INET, type, 0), other, port, ok;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)),
		    0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&sa,
		    &salen), 0);
		port = ntohs(sa.sin_port);
		other = socket(AF_INET, type == SOCK_DGRAM ? SOCK_STREAM :
		    SOCK_DGRAM, 0);
		ok = bind(other, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(other);
		close(fd);
		if (ok)
			return port;
	}
	fail_msg("no port free for both UDP and TCP");
	return -1;
}

/* Ask NSD at PORT for NAME/A; true when it answers ADDR. */
static bool
nsd_has(struct fx *x, int port, const char *name, const char *addr)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name),
	    LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	struct q q = { NULL, 0, NULL };
	uint8_t wire[65535];
	uint64_t end = kz_now_ms() + 300;
	bool found = false;
	int fd = udp_client((uint16_t)port);
	ssize_t n;

	ldns_pkt_set_random_id(p);
	assert_int_equal(ldns_pkt2wire(&q.wire, p, &q.len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	(void)send(fd, q.wire, q.len, 0);
	while (kz_now_ms() < end) {
		ldns_pkt *r = NULL;
		char *s;

		if (!(pump(x, fd, POLLIN, 20) & POLLIN))
			continue;
		n = recv(fd, wire, sizeof(wire), 0);
		if (n > 0 && ldns_wire2pkt(&r, wire, (size_t)n) ==
		    LDNS_STATUS_OK && ldns_pkt_ancount(r) > 0) {
			s = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(r), 0));
			found = strstr(s, addr) != NULL;
			free(s);
		}
		ldns_pkt_free(r);
		break;
	}
	close(fd);
	q_free(&q);
	return found;
}

static bool
wait_nsd(struct fx *x, int port, const char *name, const char *addr)
{
	uint64_t end = kz_now_ms() + 15000;

	while (kz_now_ms() < end) {
		if (nsd_has(x, port, name, addr))
			return true;
		pump(x, -1, 0, 20);
	}
	return false;
}

/*
 * The size NSD logs for its update to SERIAL ("received update to
 * serial S ... of N bytes"), or 0.
 */
static unsigned long
nsd_update_bytes(const char *path, uint32_t serial)
{
	FILE *f = fopen(path, "r");
	char line[1024], needle[64];
	unsigned long n = 0;

	snprintf(needle, sizeof(needle), "update to serial %" PRIu32 " ",
	    serial);
	while (f && !n && fgets(line, sizeof(line), f)) {
		const char *of = strstr(line, " of ");

		if (strstr(line, needle) && of)
			n = strtoul(of + 4, NULL, 10);
	}
	if (f)
		fclose(f);
	return n;
}

static void
test_real_nsd(void **state)
{
	struct fx *x = *state;
	char dir[] = "/tmp/kz-feed-XXXXXX", conf[128], log[128];
	int port, status;
	unsigned long full, diff;
	pid_t pid;
	FILE *f;

	if (access("/usr/sbin/nsd", X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0777);
	port = free_port(SOCK_DGRAM);
	snprintf(conf, sizeof(conf), "%s/nsd.conf", dir);
	snprintf(log, sizeof(log), "%s/nsd.log", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "server:\n  ip-address: 127.0.0.1@%d\n  database: \"\"\n"
	    "  zonesdir: \"%s\"\n  pidfile: \"%s/nsd.pid\"\n"
	    "  xfrdfile: \"%s/xfrd.state\"\n  zonelistfile: \"%s/zone.list\"\n"
	    "  logfile: \"%s\"\n  verbosity: 2\n  xfrd-reload-timeout: 0\n"
	    "  server-count: 1\n  rrl-size: 1000\n  rrl-ratelimit: 0\n"
	    "  zonefiles-write: 0\n%s"
	    "remote-control:\n  control-enable: no\n"
	    "key:\n  name: \"%s\"\n  algorithm: %s\n  secret: \"%s\"\n"
	    "zone:\n  name: \"%s\"\n  request-xfr: 127.0.0.1@%u %s\n"
	    "  allow-notify: 127.0.0.1 %s\n",
	    port, dir, dir, dir, dir, log,
	    geteuid() == 0 ? "  username: \"\"\n" : "",
	    x->f.key.name, x->f.key.alg, x->f.key.secret, ZONE,
	    (unsigned)x->f.port, x->f.key.name, x->f.key.name);
	fclose(f);
	assert_int_equal(nc_feed_add_notify(&x->f, "127.0.0.1",
	    (uint16_t)port), 0);
	assert_int_equal(nc_feed_set_serial(&x->f, x->zone, 1000), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/sbin/nsd", "nsd", "-d", "-c", conf, (char *)NULL);
		_exit(127);
	}
	/* The initial transfer (AXFR-style), then one diff by IXFR. */
	assert_true(wait_nsd(x, port, "s1.ns.svc." ZONE, "10.0.0.1"));
	commit1(x, 1001, NULL, "fresh." ZONE " 30 IN A 192.0.2.7");
	assert_true(wait_nsd(x, port, "fresh." ZONE, "192.0.2.7"));
	pump_until_ul(x, &x->f.stats.ixfr, 1);
	assert_true(x->f.stats.notify_acked >= 1);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	/*
	 * NSD 4.6.1 does not name the transfer kind in its log, but the
	 * size of what it received tells: the whole zone at first, one
	 * small diff after the commit. Our counters agree: one full
	 * transfer in all, the rest from the journal.
	 */
	full = nsd_update_bytes(log, 1000);
	diff = nsd_update_bytes(log, 1001);
	print_message("nsd received %lu bytes (full), %lu bytes (diff)\n",
	    full, diff);
	assert_true(full > 1000);
	assert_true(diff > 0 && diff < 400);
	assert_int_equal(x->f.stats.axfr + x->f.stats.ixfr_fallback, 1);
	{
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_soa_udp_tcp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tsig_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unpublished_unknown_other,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_axfr, setup_big, teardown),
		cmocka_unit_test_setup_teardown(test_axfr_question_case,
		    setup_big, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_bound,
		    setup_small_journal, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup_notify,
		    teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_and_cap, setup_idle,
		    teardown),
		cmocka_unit_test_setup_teardown(test_real_nsd, setup_big,
		    teardown),
		cmocka_unit_test(test_avoided_ports),
	};

	signal(SIGPIPE, SIG_IGN);
	kz_log_set_level(KZ_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
