/*
 * nsd-conf/feed.c -- the zone feed: SOA/AXFR/IXFR server, NOTIFY, probes.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/pool.h"
#include "nsd-conf/feed.h"
#include "nsd-conf/tsig.h"

#define FUDGE 300
#define RR_MAX (256 + 10 + 65535)	/* one flat record at most */
#define SNAP_MAX ((size_t)1 << 31)	/* one transfer's records at most */
#define TCP_IN_MAX (2 + 65535)
#define UDP_BATCH 64
#define PROBE_RETRY_MS 250
#define FEED_BACKLOG 1024	/* TCP connections waiting for a slot */
#define BIND_TRIES 20		/* ephemeral ports tried */

enum { TS_OK, TS_NONE, TS_BADSIG = 16, TS_BADKEY = 17, TS_BADTIME = 18 };
enum { REQ_NOTIFY, REQ_PROBE };

/*
 * Records are kept "flat": a run of uncompressed wire RRs (owner, type,
 * class IN, ttl, rdlength, rdata), the form ldns_wire2rr() reads back.
 */
struct diff {
	uint32_t from, to;
	struct kz_buf rrs;	/* deleted records, then added ones */
	size_t delbytes;	/* where the added ones start */
	size_t nrr;
};

struct zone {
	char *name;
	ldns_rdf *origin;	/* canonical */
	uint8_t soa_names[2 * LDNS_MAX_DOMAINLEN + 2];	/* mname, rname */
	size_t soa_names_len;
	uint32_t refresh, retry, expire, minimum, ttl;
	uint32_t serial;
	bool published;
	nc_feed_foreach_fn fn;
	void *ctx;
	struct diff *j;		/* oldest first; j[k].to == j[k+1].from */
	size_t nj, jcap, jbytes;
};

struct xfer {
	struct kz_buf rrs;	/* what to send, SOAs included */
	size_t off, nrr;
	uint8_t qname[LDNS_MAX_DOMAINLEN + 1];	/* the question, wire */
	size_t qlen;
	uint16_t qtype, qclass;
	bool point;		/* qname is the origin: owners point to it */
	uint16_t id;
	uint8_t mac[64];	/* the request's, then the prior message's */
	size_t maclen;
	unsigned nmsg;
	const char *kind;
	size_t zone;
	uint32_t from, to;
	size_t bytes;
	uint64_t start;
};

struct conn {
	int fd;
	short events;
	uint64_t last;
	char peer[64];
	uint8_t *in;		/* TCP_IN_MAX bytes */
	size_t inlen;
	struct kz_buf out;
	size_t outoff;
	struct xfer *x;
};

struct target {
	struct sockaddr_storage sa;
	socklen_t salen;
	char name[64];
};

struct req {
	int kind;
	struct sockaddr_storage sa;
	socklen_t salen;
	char peer[64];
	uint16_t id;
	uint8_t *wire;
	size_t len;
	ldns_rdf *qname;	/* a probe's; NULL for a NOTIFY */
	ldns_rdf *mac;		/* NULL: unsigned */
	struct nc_feed_key key;
	unsigned tries, max_tries, interval;
	uint64_t next, end;
	size_t zone, target;	/* NOTIFY */
	uint32_t serial;
	nc_feed_probe_fn cb;	/* probe */
	void *ctx;
};

struct nc_feed_state {
	struct nc_feed_io io;
	size_t max_diffs, max_bytes;
	unsigned max_conns, idle_ms, retry_ms, tries;
	char alg[40];		/* ldns spells it with the final dot */
	ldns_rdf *key_rdf, *alg_rdf;
	struct nc_tsig tsig;	/* the key, prepared for NOTIFYs */
	int udp, tcp, cli4, cli6;
	struct zone *zones;
	size_t nzones;
	struct conn **conns;	/* max_conns slots */
	size_t nconns;
	bool accept_paused;	/* all slots taken: new ones wait in the
				   listen backlog */
	struct target *targets;
	size_t ntargets;
	struct req **reqs;
	size_t nreqs, reqcap;
};

/* --- small helpers -------------------------------------------------- */

const char *
nc_feed_strerror(int status)
{
	if (status <= NC_FEED_ERCODE(0) && status >= NC_FEED_ERCODE(15)) {
		switch (NC_FEED_ERCODE(0) - status) {
		case LDNS_RCODE_SERVFAIL:
			return "SERVFAIL";
		case LDNS_RCODE_REFUSED:
			return "REFUSED";
		case LDNS_RCODE_NOTAUTH:
			return "NOTAUTH";
		default:
			return "error rcode";
		}
	}
	return kz_strerror(status);
}

static bool
serial_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

static uint16_t
rand16(void)
{
	uint16_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint16_t)(kz_now_ms() * 2654435761u >> 7);
	return v;
}

static void
b64(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		v |= i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? in[i + 2] : 0;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Parse IP and PORT into SA; 0 or KZ_EINVAL. */
static int
parse_addr(const char *ip, uint16_t port, struct sockaddr_storage *sa,
    socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return KZ_OK;
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return KZ_OK;
	}
	return KZ_EINVAL;
}

static void
addr_str(const struct sockaddr_storage *sa, char *out, size_t outsz)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
	}
	snprintf(out, outsz, "%s@%u", ip, port);
}

static bool
addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *x = (const void *)a,
		    *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
}

static int
watch(struct nc_feed_state *s, int fd, short events)
{
	return s->io.watch ? s->io.watch(s->io.ctx, fd, events) : 0;
}

static void
close_fd(struct nc_feed_state *s, int *fd)
{
	if (*fd < 0)
		return;
	if (s->io.unwatch)
		s->io.unwatch(s->io.ctx, *fd);
	close(*fd);
	*fd = -1;
}

/* --- flat records ----------------------------------------------------- */

/* Length of the uncompressed wire name at P (at most MAX bytes), or 0. */
static size_t
name_len(const uint8_t *p, size_t max)
{
	size_t i = 0;

	while (i < max && i < LDNS_MAX_DOMAINLEN) {
		if (p[i] == 0)
			return i + 1;
		if (p[i] & 0xc0)
			return 0;
		i += (size_t)p[i] + 1;
	}
	return 0;
}

/* Length of the flat record at P (well-formed, written by rr_put). */
static size_t
flat_len(const uint8_t *p, size_t max)
{
	size_t n = name_len(p, max);

	if (n == 0 || n + 10 > max)
		return 0;
	n += 10 + ((size_t)p[n + 8] << 8 | p[n + 9]);
	return n <= max ? n : 0;
}

static int
put_u16(struct kz_buf *b, uint16_t v)
{
	uint8_t w[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return kz_buf_append(b, w, 2);
}

static int
put_u32(struct kz_buf *b, uint32_t v)
{
	uint8_t w[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	return kz_buf_append(b, w, 4);
}

/* Append RR flat to B: 0, KZ_EINVAL for a malformed one, or a buf error. */
static int
rr_put(struct kz_buf *b, const struct nc_rr *rr)
{
	size_t mark = b->len;
	int rc;

	if (!rr->owner || name_len(rr->owner, rr->ownerlen) != rr->ownerlen ||
	    rr->rdlen > 65535 || (rr->rdlen && !rr->rdata) ||
	    rr->type == LDNS_RR_TYPE_SOA)
		return KZ_EINVAL;
	if ((rc = kz_buf_reserve(b, rr->ownerlen + 10 + rr->rdlen)))
		return rc;
	if ((rc = kz_buf_append(b, rr->owner, rr->ownerlen)) ||
	    (rc = put_u16(b, rr->type)) || (rc = put_u16(b, LDNS_RR_CLASS_IN)) ||
	    (rc = put_u32(b, rr->ttl)) || (rc = put_u16(b, (uint16_t)rr->rdlen)) ||
	    (rc = kz_buf_append(b, rr->rdata, rr->rdlen)))
		b->len = mark;
	return rc;
}

/* Append the SOA of Z with SERIAL to B. */
static int
soa_put(struct kz_buf *b, const struct zone *z, uint32_t serial)
{
	int rc;

	if ((rc = kz_buf_append(b, ldns_rdf_data(z->origin),
	    ldns_rdf_size(z->origin))) ||
	    (rc = put_u16(b, LDNS_RR_TYPE_SOA)) ||
	    (rc = put_u16(b, LDNS_RR_CLASS_IN)) || (rc = put_u32(b, z->ttl)) ||
	    (rc = put_u16(b, (uint16_t)(z->soa_names_len + 20))) ||
	    (rc = kz_buf_append(b, z->soa_names, z->soa_names_len)) ||
	    (rc = put_u32(b, serial)) || (rc = put_u32(b, z->refresh)) ||
	    (rc = put_u32(b, z->retry)) || (rc = put_u32(b, z->expire)) ||
	    (rc = put_u32(b, z->minimum)))
		return rc;
	return KZ_OK;
}

/* An ldns_rr for the SOA of Z with SERIAL, or NULL. */
static ldns_rr *
soa_rr(const struct zone *z, uint32_t serial)
{
	struct kz_buf b;
	ldns_rr *rr = NULL;
	size_t pos = 0;

	kz_buf_init(&b, RR_MAX);
	if (soa_put(&b, z, serial) == KZ_OK &&
	    ldns_wire2rr(&rr, (uint8_t *)b.data, b.len, &pos,
	    LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		rr = NULL;
	kz_buf_free(&b);
	return rr;
}

/* --- messages ------------------------------------------------------- */

/* A reply to ID with QUESTION (cloned, may be NULL). */
static ldns_pkt *
reply_new(uint16_t id, ldns_pkt_opcode op, const ldns_rr *question,
    ldns_pkt_rcode rcode, bool aa)
{
	ldns_pkt *r = ldns_pkt_new();
	ldns_rr *q;

	if (!r)
		return NULL;
	ldns_pkt_set_id(r, id);
	ldns_pkt_set_qr(r, true);
	ldns_pkt_set_opcode(r, op);
	ldns_pkt_set_aa(r, aa);
	ldns_pkt_set_rcode(r, rcode);
	if (question) {
		if (!(q = ldns_rr_clone(question)) ||
		    !ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, q)) {
			ldns_rr_free(q);
			ldns_pkt_free(r);
			return NULL;
		}
	}
	return r;
}

/*
 * Sign P with the feed's key (MAC: the request's or the prior message's;
 * TIMERS: RFC 8945 5.3.1 subsequent message) unless UNSIGNED, and turn
 * it into wire in *WIRE (malloc'd). 0 or KZ_ENOMEM.
 */
static int
finish(const struct nc_feed *f, ldns_pkt *p, bool sign, const ldns_rdf *mac,
    bool timers, uint8_t **wire, size_t *len)
{
	if (sign && ldns_pkt_tsig_sign_next(p, f->key.name, f->key.secret,
	    FUDGE, f->s->alg, mac, timers) != LDNS_STATUS_OK)
		return KZ_ENOMEM;
	if (ldns_pkt2wire(wire, p, len) != LDNS_STATUS_OK)
		return KZ_ENOMEM;
	return KZ_OK;
}

/* The MAC of P's TSIG (borrowed), or NULL. */
static const ldns_rdf *
tsig_mac(const ldns_pkt *p)
{
	ldns_rr *t = ldns_pkt_tsig(p);

	return t && ldns_rr_rd_count(t) >= 7 ? ldns_rr_rdf(t, 3) : NULL;
}

static int
tsig_check(const struct nc_feed *f, ldns_pkt *q, const uint8_t *wire,
    size_t len)
{
	ldns_rr *t = ldns_pkt_tsig(q);
	const uint8_t *tp;
	uint64_t signed_at;
	uint16_t fudge;
	time_t now = time(NULL);

	if (!t)
		return TS_NONE;
	if (ldns_rr_rd_count(t) < 7 ||
	    ldns_rdf_get_type(ldns_rr_rdf(t, 0)) != LDNS_RDF_TYPE_DNAME ||
	    ldns_dname_compare(ldns_rr_owner(t), f->s->key_rdf) != 0 ||
	    ldns_dname_compare(ldns_rr_rdf(t, 0), f->s->alg_rdf) != 0)
		return TS_BADKEY;
	if (!ldns_pkt_tsig_verify(q, wire, len, f->key.name, f->key.secret,
	    NULL))
		return TS_BADSIG;
	if (ldns_rdf_size(ldns_rr_rdf(t, 1)) != 6 ||
	    ldns_rdf_size(ldns_rr_rdf(t, 2)) != 2)
		return TS_BADSIG;
	tp = ldns_rdf_data(ldns_rr_rdf(t, 1));
	signed_at = (uint64_t)tp[0] << 40 | (uint64_t)tp[1] << 32 |
	    (uint64_t)tp[2] << 24 | (uint64_t)tp[3] << 16 |
	    (uint64_t)tp[4] << 8 | tp[5];
	fudge = ldns_rdf2native_int16(ldns_rr_rdf(t, 2));
	if (signed_at + fudge < (uint64_t)now ||
	    signed_at > (uint64_t)now + fudge)
		return TS_BADTIME;
	return TS_OK;
}

/* Give R the query's TSIG with an empty MAC and ERROR (unsigned). */
static void
tsig_error(ldns_pkt *r, const ldns_pkt *q, uint16_t error)
{
	ldns_rr *t = ldns_pkt_tsig(q) ? ldns_rr_clone(ldns_pkt_tsig(q)) : NULL;
	ldns_rdf *mac, *err, *old;

	if (!t || ldns_rr_rd_count(t) < 7) {
		ldns_rr_free(t);
		return;
	}
	mac = ldns_native2rdf_int16_data(0, NULL);
	err = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, error);
	if (!mac || !err) {
		ldns_rdf_deep_free(mac);
		ldns_rdf_deep_free(err);
		ldns_rr_free(t);
		return;
	}
	old = ldns_rr_set_rdf(t, mac, 3);
	ldns_rdf_deep_free(old);
	old = ldns_rr_set_rdf(t, err, 5);
	ldns_rdf_deep_free(old);
	ldns_pkt_set_tsig(r, t);
}

/* --- zones and journal --------------------------------------------------- */

static struct zone *
zone_get(const struct nc_feed *f, size_t zone)
{
	return f->s && zone < f->s->nzones ? &f->s->zones[zone] : NULL;
}

static struct zone *
zone_find(const struct nc_feed *f, const ldns_rdf *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < f->s->nzones; i++) {
		if (ldns_dname_compare(name, f->s->zones[i].origin) == 0) {
			*idx = i;
			return &f->s->zones[i];
		}
	}
	return NULL;
}

static void
diff_free(struct diff *d)
{
	kz_buf_free(&d->rrs);
}

static void
journal_clear(struct zone *z)
{
	size_t i;

	for (i = 0; i < z->nj; i++)
		diff_free(&z->j[i]);
	z->nj = 0;
	z->jbytes = 0;
}

static void
journal_drop_oldest(struct zone *z)
{
	z->jbytes -= z->j[0].rrs.len;
	diff_free(&z->j[0]);
	memmove(z->j, z->j + 1, (z->nj - 1) * sizeof(*z->j));
	z->nj--;
}

/* Append D (stolen on success) to Z's journal within the bounds. */
static int
journal_push(struct nc_feed_state *s, struct zone *z, struct diff *d)
{
	if (z->nj == z->jcap) {
		size_t cap = z->jcap ? z->jcap * 2 : 8;
		struct diff *j = reallocarray(z->j, cap, sizeof(*j));

		if (!j)
			return KZ_ENOMEM;
		z->j = j;
		z->jcap = cap;
	}
	if (d->rrs.len > s->max_bytes || s->max_diffs == 0) {
		journal_clear(z);
		diff_free(d);
		return KZ_OK;
	}
	while (z->nj && (z->nj + 1 > s->max_diffs ||
	    z->jbytes + d->rrs.len > s->max_bytes))
		journal_drop_oldest(z);
	z->j[z->nj++] = *d;
	z->jbytes += d->rrs.len;
	return KZ_OK;
}

/* --- outgoing requests: NOTIFY and probes -------------------------------- */

static void
req_free(struct req *r)
{
	if (!r)
		return;
	free(r->wire);
	ldns_rdf_deep_free(r->qname);
	ldns_rdf_deep_free(r->mac);
	free(r);
}

/* Take request I out of the list (order not kept) and return it. */
static struct req *
req_take(struct nc_feed_state *s, size_t i)
{
	struct req *r = s->reqs[i];

	s->reqs[i] = s->reqs[--s->nreqs];
	return r;
}

static int
req_add(struct nc_feed_state *s, struct req *r)
{
	if (s->nreqs == s->reqcap) {
		size_t cap = s->reqcap ? s->reqcap * 2 : 8;
		struct req **v = reallocarray(s->reqs, cap, sizeof(*v));

		if (!v)
			return KZ_ENOMEM;
		s->reqs = v;
		s->reqcap = cap;
	}
	s->reqs[s->nreqs++] = r;
	return KZ_OK;
}

/* The client socket for FAMILY, made and watched on first use. */
static int
cli_socket(struct nc_feed_state *s, int family)
{
	int *fd = family == AF_INET6 ? &s->cli6 : &s->cli4;

	if (*fd >= 0)
		return *fd;
	*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	if (watch(s, *fd, POLLIN)) {
		close(*fd);
		*fd = -1;
		return KZ_ENOMEM;
	}
	return *fd;
}

/*
 * Build probe R's wire: an SOA query for its QNAME, signed with its key
 * when that has a name (any algorithm ldns knows).
 */
static int
probe_build(struct req *r)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = ldns_rr_new();
	ldns_rdf *name = ldns_rdf_clone(r->qname);
	char alg[40];
	int rc = KZ_ENOMEM;

	free(r->wire);
	r->wire = NULL;
	ldns_rdf_deep_free(r->mac);
	r->mac = NULL;
	if (!p || !q || !name) {
		ldns_rdf_deep_free(name);
		ldns_rr_free(q);
		goto out;
	}
	ldns_rr_set_owner(q, name);
	ldns_rr_set_type(q, LDNS_RR_TYPE_SOA);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(q, true);
	r->id = rand16();
	ldns_pkt_set_id(p, r->id);
	ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
	if (!ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q)) {
		ldns_rr_free(q);
		goto out;
	}
	if (r->key.name[0]) {
		snprintf(alg, sizeof(alg), "%s.", r->key.alg);
		if (ldns_pkt_tsig_sign(p, r->key.name, r->key.secret, FUDGE,
		    alg, NULL) != LDNS_STATUS_OK) {
			rc = KZ_EINVAL;
			goto out;
		}
		if (!(r->mac = ldns_rdf_clone(tsig_mac(p))))
			goto out;
	}
	if (ldns_pkt2wire(&r->wire, p, &r->len) == LDNS_STATUS_OK)
		rc = KZ_OK;
out:
	ldns_pkt_free(p);
	return rc;
}

/*
 * Build NOTIFY R's wire for zone Z: opcode NOTIFY, AA, the question
 * ZONE/SOA and the SOA with R's serial in the answer, signed with the
 * feed's key. It goes out after every change, so it is written in wire
 * form and signed with the key's prepared HMAC (nsd-conf/tsig.h), not
 * built as an ldns packet.
 */
static int
notify_build(const struct nc_feed *f, struct req *r, const struct zone *z)
{
	uint8_t hdr[LDNS_HEADER_SIZE] = { 0 }, mac[NC_TSIG_MAC_LEN];
	size_t olen = ldns_rdf_size(z->origin), n;
	struct kz_buf b;
	int rc;

	free(r->wire);
	r->wire = NULL;
	ldns_rdf_deep_free(r->mac);
	r->mac = NULL;
	r->id = rand16();
	hdr[0] = (uint8_t)(r->id >> 8);
	hdr[1] = (uint8_t)r->id;
	hdr[2] = (uint8_t)(LDNS_PACKET_NOTIFY << 3) | 0x04;	/* AA */
	hdr[5] = 1;		/* QDCOUNT */
	hdr[7] = 1;		/* ANCOUNT */
	kz_buf_init(&b, RR_MAX + RR_MAX);
	if ((rc = kz_buf_reserve(&b, sizeof(hdr) + 2 * olen + 14 +
	    z->soa_names_len + 20 + NC_TSIG_MAX)) ||
	    (rc = kz_buf_append(&b, hdr, sizeof(hdr))) ||
	    (rc = kz_buf_append(&b, ldns_rdf_data(z->origin), olen)) ||
	    (rc = put_u16(&b, LDNS_RR_TYPE_SOA)) ||
	    (rc = put_u16(&b, LDNS_RR_CLASS_IN)) ||
	    (rc = soa_put(&b, z, r->serial)) ||
	    (rc = kz_buf_reserve(&b, NC_TSIG_MAX)))
		goto out;
	n = nc_tsig_sign(&f->s->tsig, (uint8_t *)b.data, b.len,
	    b.len + NC_TSIG_MAX, (uint64_t)time(NULL), FUDGE, mac);
	rc = KZ_EINVAL;
	if (n == 0)
		goto out;
	b.len = n;
	b.data[n] = '\0';
	rc = KZ_ENOMEM;
	if (!(r->mac = ldns_native2rdf_int16_data(sizeof(mac), mac)))
		goto out;
	r->wire = (uint8_t *)kz_buf_steal(&b, &r->len);
	rc = KZ_OK;
out:
	kz_buf_free(&b);
	return rc;
}

static void
req_send(struct nc_feed *f, struct req *r, uint64_t now)
{
	int fd = cli_socket(f->s, r->sa.ss_family);

	if (fd >= 0 && sendto(fd, r->wire, r->len, 0,
	    (struct sockaddr *)&r->sa, r->salen) < 0)
		kz_debug("feed: send failed", "peer=%s error=\"%s\"", r->peer,
		    strerror(errno));
	r->tries++;
	r->next = now + r->interval;
	r->interval *= 2;
	if (r->kind == REQ_NOTIFY) {
		f->stats.notify_sent++;
	} else if (r->next > r->end) {
		r->next = r->end;
	}
}

/* (Re)send a NOTIFY for ZONE to target T, superseding a pending one. */
static void
notify_one(struct nc_feed *f, size_t zone, size_t t)
{
	struct nc_feed_state *s = f->s;
	struct zone *z = &s->zones[zone];
	struct req *r = NULL;
	size_t i;

	for (i = 0; i < s->nreqs && !r; i++) {
		if (s->reqs[i]->kind == REQ_NOTIFY &&
		    s->reqs[i]->zone == zone && s->reqs[i]->target == t)
			r = s->reqs[i];
	}
	if (!r) {
		/* its qname stays NULL: only a probe's answer is read */
		if (!(r = kz_zalloc(sizeof(*r))) || req_add(s, r)) {
			req_free(r);
			kz_warn("feed: notify not sent", "zone=%s error=\"%s\"",
			    z->name, kz_strerror(KZ_ENOMEM));
			return;
		}
		r->kind = REQ_NOTIFY;
		r->zone = zone;
		r->target = t;
		r->sa = s->targets[t].sa;
		r->salen = s->targets[t].salen;
		snprintf(r->peer, sizeof(r->peer), "%s", s->targets[t].name);
		r->key = f->key;
	}
	r->serial = z->serial;
	r->tries = 0;
	r->max_tries = s->tries;
	r->interval = s->retry_ms;
	if (notify_build(f, r, z)) {
		/* Left without wire: the tick drops it as failed. */
		r->tries = r->max_tries;
		r->next = kz_now_ms();
		return;
	}
	req_send(f, r, kz_now_ms());
}

static void
notify_zone(struct nc_feed *f, size_t zone)
{
	size_t t;

	for (t = 0; t < f->s->ntargets; t++)
		notify_one(f, zone, t);
}

/* The SOA serial of P's answer for QNAME; false if there is none. */
static bool
answer_serial(ldns_pkt *p, const ldns_rdf *qname, uint32_t *serial)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_rd_count(rr) >= 7 &&
		    ldns_dname_compare(ldns_rr_owner(rr), qname) == 0) {
			*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
			return true;
		}
	}
	return false;
}

/* Conclude request R (taken out of the list) and free it. */
static void
req_done(struct nc_feed *f, struct req *r, int status, uint32_t serial)
{
	if (r->kind == REQ_NOTIFY) {
		if (status == 0) {
			f->stats.notify_acked++;
			kz_debug("feed: notify acknowledged", "zone=%s peer=%s "
			    "serial=%" PRIu32 " tries=%u",
			    f->s->zones[r->zone].name, r->peer, r->serial,
			    r->tries);
		} else {
			f->stats.notify_failed++;
			kz_warn("feed: notify failed", "zone=%s peer=%s "
			    "serial=%" PRIu32 " tries=%u error=%s",
			    f->s->zones[r->zone].name, r->peer, r->serial,
			    r->tries, nc_feed_strerror(status));
		}
	} else if (r->cb) {
		r->cb(r->ctx, status, serial);
	}
	req_free(r);
}

/* Handle the answer P (WIRE) from FROM, if it belongs to a request. */
static void
req_answer(struct nc_feed *f, ldns_pkt *p, const uint8_t *wire, size_t len,
    const struct sockaddr_storage *from)
{
	struct nc_feed_state *s = f->s;
	struct req *r = NULL;
	bool signed_ok;
	uint32_t serial = 0;
	int status;
	size_t i;

	for (i = 0; i < s->nreqs; i++) {
		r = s->reqs[i];
		if (r->id == ldns_pkt_id(p) && r->wire &&
		    addr_eq(&r->sa, from))
			break;
	}
	if (i == s->nreqs || !r || !ldns_pkt_qr(p))
		return;
	if (ldns_pkt_get_opcode(p) != (r->kind == REQ_NOTIFY ?
	    LDNS_PACKET_NOTIFY : LDNS_PACKET_QUERY))
		return;
	signed_ok = !r->mac || (ldns_pkt_tsig(p) && ldns_pkt_tsig_verify(p,
	    wire, len, r->key.name, r->key.secret, r->mac));
	if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
		status = NC_FEED_ERCODE(ldns_pkt_get_rcode(p));
	else if (!signed_ok)
		status = KZ_EPROTO;
	else if (r->kind == REQ_PROBE && (!ldns_pkt_aa(p) ||
	    !answer_serial(p, r->qname, &serial)))
		status = KZ_EPROTO;
	else
		status = 0;
	if (!signed_ok && status == KZ_EPROTO && r->kind == REQ_NOTIFY)
		return;		/* not the answer we wait for */
	req_done(f, req_take(s, i), status, serial);
}

/* --- serving queries ---------------------------------------------------- */

static int
snap_emit(void *ectx, const struct nc_rr *rr)
{
	struct xfer *x = ectx;
	int rc = rr_put(&x->rrs, rr);

	if (rc == KZ_OK)
		x->nrr++;
	return rc;
}

static void
xfer_free(struct xfer *x)
{
	if (!x)
		return;
	kz_buf_free(&x->rrs);
	free(x);
}

/*
 * X's question and the request's MAC, from QUERY (signed: the caller
 * checked its TSIG); whether owners in zone Z can point to the
 * question's name. 0 or KZ_EINVAL.
 */
static int
xfer_question(struct xfer *x, const struct zone *z, const ldns_pkt *query)
{
	const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	const ldns_rdf *mac = tsig_mac(query);
	const ldns_rdf *qn = q ? ldns_rr_owner(q) : NULL;

	if (!qn || ldns_rdf_size(qn) > sizeof(x->qname) || !mac ||
	    ldns_rdf_size(mac) < 2 ||
	    ldns_rdf_size(mac) - 2 > sizeof(x->mac))
		return KZ_EINVAL;
	x->qlen = ldns_rdf_size(qn);
	memcpy(x->qname, ldns_rdf_data(qn), x->qlen);
	x->qtype = (uint16_t)ldns_rr_get_type(q);
	x->qclass = (uint16_t)ldns_rr_get_class(q);
	x->maclen = ldns_rdf_size(mac) - 2;
	memcpy(x->mac, ldns_rdf_data(mac) + 2, x->maclen);
	x->point = ldns_rdf_size(z->origin) == x->qlen &&
	    memcmp(ldns_rdf_data(z->origin), x->qname, x->qlen) == 0;
	return KZ_OK;
}

/* Append diffs j[k..] of Z and the closing SOA to X. */
static int
xfer_ixfr(struct xfer *x, const struct zone *z, size_t k)
{
	int rc = KZ_OK;

	for (; k < z->nj && !rc; k++) {
		const struct diff *d = &z->j[k];

		if ((rc = soa_put(&x->rrs, z, d->from)) ||
		    (rc = kz_buf_append(&x->rrs, d->rrs.data, d->delbytes)) ||
		    (rc = soa_put(&x->rrs, z, d->to)) ||
		    (rc = kz_buf_append(&x->rrs, d->rrs.data + d->delbytes,
		    d->rrs.len - d->delbytes)))
			break;
		x->nrr += d->nrr + 2;
	}
	return rc ? rc : soa_put(&x->rrs, z, z->serial);
}

/*
 * A transfer of zone ZI for QTYPE (AXFR, or IXFR from CLIENT serial)
 * answering QUERY, with the records it will send; NULL on failure.
 */
static struct xfer *
xfer_new(struct nc_feed *f, size_t zi, ldns_rr_type qtype, uint32_t client,
    const ldns_pkt *query)
{
	struct zone *z = &f->s->zones[zi];
	struct xfer *x = calloc(1, sizeof(*x));
	size_t k = z->nj;
	int rc;

	if (!x)
		return NULL;
	kz_buf_init(&x->rrs, SNAP_MAX);
	x->zone = zi;
	x->id = ldns_pkt_id(query);
	x->start = kz_now_ms();
	x->to = z->serial;
	x->from = qtype == LDNS_RR_TYPE_IXFR ? client : 0;
	if (xfer_question(x, z, query))
		goto fail;
	if ((rc = soa_put(&x->rrs, z, z->serial)))
		goto fail;
	x->nrr = 1;
	if (qtype == LDNS_RR_TYPE_IXFR) {
		if (serial_ge(client, z->serial)) {
			x->kind = "ixfr";
			f->stats.ixfr++;
			return x;
		}
		for (k = 0; k < z->nj && z->j[k].from != client; k++)
			;
	}
	if (k < z->nj) {
		if ((rc = xfer_ixfr(x, z, k)))
			goto fail;
		x->nrr++;
		x->kind = "ixfr";
		f->stats.ixfr++;
		return x;
	}
	x->kind = qtype == LDNS_RR_TYPE_IXFR ? "ixfr-fallback" : "axfr";
	if ((rc = z->fn(z->ctx, zi, snap_emit, x)) ||
	    (rc = soa_put(&x->rrs, z, z->serial))) {
		kz_warn("feed: zone snapshot failed", "zone=%s error=\"%s\"",
		    z->name, kz_strerror(rc < 0 ? rc : KZ_EINVAL));
		goto fail;
	}
	x->nrr++;
	if (qtype == LDNS_RR_TYPE_IXFR)
		f->stats.ixfr_fallback++;
	else
		f->stats.axfr++;
	return x;
fail:
	xfer_free(x);
	return NULL;
}

/* The client serial of an IXFR query (the SOA in its authority section). */
static bool
ixfr_serial(const ldns_pkt *q, uint32_t *serial)
{
	ldns_rr_list *ns = ldns_pkt_authority(q);
	ldns_rr *rr;

	if (ldns_rr_list_rr_count(ns) < 1)
		return false;
	rr = ldns_rr_list_rr(ns, 0);
	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
	    ldns_rr_rd_count(rr) < 7)
		return false;
	*serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	return true;
}

/*
 * Decide the answer to Q: the rcode, and for a positive one the SOA to
 * send (*SOA_ZONE) or the transfer to start over TCP (*XOUT).
 */
static ldns_pkt_rcode
serve_decide(struct nc_feed *f, const ldns_pkt *q, bool tcp, const char *peer,
    struct zone **soa_zone, struct xfer **xout)
{
	ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	ldns_rr_type qt;
	uint32_t client = 0;
	struct zone *z;
	size_t zi;

	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY || !qrr ||
	    ldns_pkt_qdcount(q) != 1 ||
	    ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN)
		return LDNS_RCODE_REFUSED;
	if (!(z = zone_find(f, ldns_rr_owner(qrr), &zi)))
		return LDNS_RCODE_REFUSED;
	if (!z->published)
		return LDNS_RCODE_SERVFAIL;
	qt = ldns_rr_get_type(qrr);
	if (qt == LDNS_RR_TYPE_SOA ||
	    (qt == LDNS_RR_TYPE_IXFR && !tcp)) {
		*soa_zone = z;
		return LDNS_RCODE_NOERROR;
	}
	if (qt == LDNS_RR_TYPE_IXFR && !ixfr_serial(q, &client))
		return LDNS_RCODE_FORMERR;
	if ((qt != LDNS_RR_TYPE_AXFR && qt != LDNS_RR_TYPE_IXFR) || !tcp)
		return LDNS_RCODE_REFUSED;
	if (!(*xout = xfer_new(f, zi, qt, client, q)))
		return LDNS_RCODE_SERVFAIL;
	kz_debug("feed: transfer started", "zone=%s kind=%s peer=%s "
	    "from=%" PRIu32 " to=%" PRIu32, z->name, (*xout)->kind, peer,
	    client, z->serial);
	return LDNS_RCODE_NOERROR;
}

/*
 * Answer the query WIRE from PEER: the reply in *OUT (malloc'd; NULL:
 * none) or, for a transfer over TCP, *XOUT to stream.
 */
static void
serve(struct nc_feed *f, const uint8_t *wire, size_t len, bool tcp,
    const char *peer, uint8_t **out, size_t *outlen, struct xfer **xout)
{
	static const char *const tsname[] = { [TS_NONE] = "no TSIG",
	    [TS_BADSIG] = "BADSIG", [TS_BADKEY] = "BADKEY",
	    [TS_BADTIME] = "BADTIME" };
	ldns_pkt *q = NULL, *r = NULL;
	struct zone *soa_zone = NULL;
	ldns_rr *soa;
	ldns_pkt_rcode rcode;
	int ts;

	*out = NULL;
	*xout = NULL;
	f->stats.queries++;
	if (ldns_wire2pkt(&q, wire, len) != LDNS_STATUS_OK) {
		kz_debug("feed: malformed query dropped", "peer=%s len=%zu",
		    peer, len);
		return;
	}
	if (ldns_pkt_qr(q))
		goto out;
	ts = tsig_check(f, q, wire, len);
	if (ts != TS_OK) {
		f->stats.tsig_failures++;
		kz_warn("feed: query without a valid TSIG refused",
		    "peer=%s tsig=\"%s\"", peer, tsname[ts]);
		r = reply_new(ldns_pkt_id(q), ldns_pkt_get_opcode(q),
		    ldns_rr_list_rr(ldns_pkt_question(q), 0),
		    ts == TS_NONE ? LDNS_RCODE_REFUSED : LDNS_RCODE_NOTAUTH,
		    false);
		if (r && ts != TS_NONE)
			tsig_error(r, q, (uint16_t)ts);
		if (r && finish(f, r, false, NULL, false, out, outlen))
			*out = NULL;
		goto out;
	}
	rcode = serve_decide(f, q, tcp, peer, &soa_zone, xout);
	if (*xout)
		goto out;
	r = reply_new(ldns_pkt_id(q), ldns_pkt_get_opcode(q),
	    ldns_rr_list_rr(ldns_pkt_question(q), 0), rcode, soa_zone != NULL);
	if (r && soa_zone) {
		if (!(soa = soa_rr(soa_zone, soa_zone->serial)) ||
		    !ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, soa)) {
			ldns_rr_free(soa);
			ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
			ldns_pkt_set_aa(r, false);
		}
	}
	if (r && finish(f, r, true, tsig_mac(q), false, out, outlen))
		*out = NULL;
out:
	ldns_pkt_free(r);
	ldns_pkt_free(q);
}

static void
udp_ready(struct nc_feed *f)
{
	uint8_t buf[65535];
	int i;

	for (i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		ssize_t n;
		struct xfer *x;
		uint8_t *out;
		size_t outlen;
		char peer[64];

		memset(&sa, 0, sizeof(sa));
		if ((n = recvfrom(f->s->udp, buf, sizeof(buf), 0,
		    (struct sockaddr *)&sa, &salen)) < 0)
			return;
		addr_str(&sa, peer, sizeof(peer));
		serve(f, buf, (size_t)n, false, peer, &out, &outlen, &x);
		xfer_free(x);
		if (out && sendto(f->s->udp, out, outlen, 0,
		    (struct sockaddr *)&sa, salen) < 0)
			kz_debug("feed: reply not sent", "peer=%s error=\"%s\"",
			    peer, strerror(errno));
		free(out);
	}
}

static void
cli_ready(struct nc_feed *f, int fd)
{
	uint8_t buf[65535];
	int i;

	for (i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		ssize_t n;
		ldns_pkt *p = NULL;

		memset(&sa, 0, sizeof(sa));
		if ((n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&sa, &salen)) < 0)
			return;
		if (ldns_wire2pkt(&p, buf, (size_t)n) == LDNS_STATUS_OK)
			req_answer(f, p, buf, (size_t)n, &sa);
		ldns_pkt_free(p);
	}
}

/* --- TCP connections ------------------------------------------------------ */

static void
conn_free(struct nc_feed_state *s, struct conn *c)
{
	close_fd(s, &c->fd);
	free(c->in);
	kz_buf_free(&c->out);
	xfer_free(c->x);
	free(c);
}

static void
conn_close(struct nc_feed *f, struct conn *c)
{
	struct nc_feed_state *s = f->s;
	size_t i;

	for (i = 0; i < s->nconns; i++) {
		if (s->conns[i] == c) {
			s->conns[i] = s->conns[--s->nconns];
			break;
		}
	}
	if (c->x)
		kz_warn("feed: transfer aborted", "zone=%s kind=%s peer=%s "
		    "sent=%zu records=%zu",
		    s->zones[c->x->zone].name, c->x->kind, c->peer,
		    c->x->bytes, c->x->nrr);
	conn_free(s, c);
	if (s->accept_paused && s->tcp >= 0 && watch(s, s->tcp, POLLIN) == 0)
		s->accept_paused = false;	/* a slot is free again */
}

/*
 * Where the owner name at P (LEN bytes, uncompressed) ends in X's zone
 * origin (spelled as the question's name when X->point), on a label
 * boundary: the length of the labels before it, or LEN when it does
 * not (or when X's owners cannot point to it).
 */
static size_t
owner_prefix(const struct xfer *x, const uint8_t *p, size_t len)
{
	size_t i = 0;

	if (!x->point || len < x->qlen)
		return len;
	while (len - i > x->qlen)
		i += (size_t)p[i] + 1;
	if (len - i == x->qlen && memcmp(p + i, x->qname, x->qlen) == 0)
		return i;
	return len;
}

/*
 * Put the next message of C's transfer into its output, in wire form:
 * the header, the question, as many records as fit, each owner ending
 * in a pointer to the question's name (the zone) where it can, and a
 * TSIG over the prior MAC (RFC 8945 5.3).
 */
static int
xfer_next(struct nc_feed *f, struct conn *c)
{
	struct xfer *x = c->x;
	size_t start = c->out.len, len, room = 65535 - NC_TSIG_MAX;
	size_t budget = NC_FEED_MSG_MAX - NC_TSIG_MAX;
	uint8_t *m, *p, mac[NC_TSIG_MAC_LEN];
	unsigned an = 0;
	int rc;

	if ((rc = kz_buf_reserve(&c->out, 2 + 65535)))
		return rc;
	m = (uint8_t *)c->out.data + start + 2;
	memset(m, 0, LDNS_HEADER_SIZE);
	m[0] = (uint8_t)(x->id >> 8);
	m[1] = (uint8_t)x->id;
	m[2] = 0x84;			/* QR, opcode QUERY, AA */
	m[5] = 1;			/* QDCOUNT */
	p = m + LDNS_HEADER_SIZE;
	memcpy(p, x->qname, x->qlen);
	p += x->qlen;
	*p++ = (uint8_t)(x->qtype >> 8);
	*p++ = (uint8_t)x->qtype;
	*p++ = (uint8_t)(x->qclass >> 8);
	*p++ = (uint8_t)x->qclass;
	len = (size_t)(p - m);
	while (x->off < x->rrs.len && an < 0xffff) {
		const uint8_t *at = (uint8_t *)x->rrs.data + x->off;
		size_t n = flat_len(at, x->rrs.len - x->off);
		size_t own = n ? name_len(at, n) : 0, pre, out;

		if (n == 0) {
			kz_warn("feed: unreadable record in transfer",
			    "zone=%s offset=%zu", f->s->zones[x->zone].name,
			    x->off);
			return KZ_EPROTO;
		}
		pre = owner_prefix(x, at, own);
		out = pre < own ? n - own + pre + 2 : n;
		if (an && len + out > budget)
			break;
		if (len + out > room) {
			kz_warn("feed: record too large for a message",
			    "zone=%s bytes=%zu", f->s->zones[x->zone].name, n);
			return KZ_ETOOBIG;
		}
		memcpy(m + len, at, pre);
		len += pre;
		if (pre < own) {
			m[len++] = 0xc0;	/* the question's name, at 12 */
			m[len++] = LDNS_HEADER_SIZE;
		}
		memcpy(m + len, at + own, n - own);
		len += n - own;
		x->off += n;
		an++;
	}
	m[6] = (uint8_t)(an >> 8);
	m[7] = (uint8_t)an;
	len = nc_tsig_sign_reply(&f->s->tsig, m, len, 65535, (uint64_t)time(NULL),
	    FUDGE, x->mac, x->maclen, x->nmsg > 0, mac);
	if (len == 0)
		return KZ_EINVAL;
	memcpy(x->mac, mac, sizeof(mac));
	x->maclen = sizeof(mac);
	c->out.data[start] = (char)(len >> 8);
	c->out.data[start + 1] = (char)len;
	c->out.len = start + 2 + len;
	c->out.data[c->out.len] = '\0';
	x->nmsg++;
	x->bytes += len + 2;
	return KZ_OK;
}

static void
xfer_done(struct nc_feed *f, struct conn *c)
{
	struct xfer *x = c->x;

	kz_info("feed: transfer served", "zone=%s kind=%s from=%" PRIu32
	    " to=%" PRIu32 " records=%zu bytes=%zu messages=%u ms=%" PRIu64
	    " peer=%s", f->s->zones[x->zone].name, x->kind, x->from, x->to,
	    x->nrr, x->bytes, x->nmsg, kz_now_ms() - x->start, c->peer);
	xfer_free(x);
	c->x = NULL;
}

/* Answer the first complete query in C's input, if there is one. */
static int
conn_query(struct nc_feed *f, struct conn *c)
{
	size_t n;
	uint8_t *out;
	size_t outlen;
	int rc;

	if (c->inlen < 2)
		return 0;
	n = (size_t)c->in[0] << 8 | c->in[1];
	if (c->inlen < 2 + n)
		return 0;
	serve(f, c->in + 2, n, true, c->peer, &out, &outlen, &c->x);
	memmove(c->in, c->in + 2 + n, c->inlen - 2 - n);
	c->inlen -= 2 + n;
	if (!out)
		return 1;
	rc = put_u16(&c->out, (uint16_t)outlen);
	if (!rc)
		rc = kz_buf_append(&c->out, out, outlen);
	free(out);
	return rc ? rc : 1;
}

/*
 * Move C along: write what is pending, produce the next transfer
 * message, answer the next query; stop when the socket is full or
 * nothing is left. 0 or a code meaning "close".
 */
static int
conn_pump(struct nc_feed *f, struct conn *c)
{
	int rc;

	for (;;) {
		while (c->outoff < c->out.len) {
			ssize_t w = send(c->fd, c->out.data + c->outoff,
			    c->out.len - c->outoff, MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			if (w < 0)
				return -errno;
			c->outoff += (size_t)w;
			c->last = kz_now_ms();
		}
		kz_buf_reset(&c->out);
		c->outoff = 0;
		if (c->x && c->x->off == c->x->rrs.len) {
			xfer_done(f, c);
		} else if (c->x) {
			if ((rc = xfer_next(f, c)))
				return rc;
		} else if ((rc = conn_query(f, c)) <= 0) {
			return rc;
		}
	}
}

static int
conn_read(struct conn *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->inlen,
		    TCP_IN_MAX - c->inlen, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r <= 0)
			return r == 0 ? -ECONNRESET : -errno;
		c->inlen += (size_t)r;
		c->last = kz_now_ms();
		if (c->inlen == TCP_IN_MAX)
			return 0;
	}
}

static void
conn_ready(struct nc_feed *f, struct conn *c, short revents)
{
	bool busy = c->x || c->outoff < c->out.len;
	short want;
	int rc = 0;

	if (revents & (POLLERR | POLLNVAL))
		rc = -ECONNRESET;
	else if (!busy && (revents & (POLLIN | POLLHUP)))
		rc = conn_read(c);
	if (!rc)
		rc = conn_pump(f, c);
	if (rc) {
		if (rc != -ECONNRESET)
			kz_debug("feed: connection closed", "peer=%s error=\"%s\"",
			    c->peer, kz_strerror(rc));
		conn_close(f, c);
		return;
	}
	want = c->x || c->outoff < c->out.len ? POLLOUT : POLLIN;
	if (want != c->events) {
		c->events = want;
		if (watch(f->s, c->fd, want))
			conn_close(f, c);
	}
}

static void
tcp_accept(struct nc_feed *f)
{
	struct nc_feed_state *s = f->s;

	for (;;) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		struct conn *c;
		int fd;

		memset(&sa, 0, sizeof(sa));
		/*
		 * Every slot taken (NSD transferring many zones at once):
		 * the next connections wait in the listen backlog until one
		 * closes, rather than being reset and retried by NSD much
		 * later.
		 */
		if (s->nconns >= s->max_conns) {
			if (!s->accept_paused && watch(s, s->tcp, 0) == 0) {
				s->accept_paused = true;
				kz_debug("feed: all connections busy, new ones "
				    "wait", "max=%u", s->max_conns);
			}
			return;
		}
		if ((fd = accept4(s->tcp, (struct sockaddr *)&sa, &salen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
			return;
		if (!(c = calloc(1, sizeof(*c))) ||
		    !(c->in = malloc(TCP_IN_MAX))) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->events = POLLIN;
		c->last = kz_now_ms();
		kz_buf_init(&c->out, 2 * 65536);
		addr_str(&sa, c->peer, sizeof(c->peer));
		if (watch(s, fd, POLLIN)) {
			conn_free(s, c);
			continue;
		}
		s->conns[s->nconns++] = c;
	}
}

/* --- life cycle --------------------------------------------------------- */

/* A non-blocking socket of TYPE bound to SA. */
static int
bind_socket(const struct sockaddr_storage *sa, socklen_t salen, int type)
{
	int fd = socket(sa->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, salen) ||
	    (type == SOCK_STREAM && listen(fd, FEED_BACKLOG))) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static bool
port_avoided(const struct nc_feed_opts *o, uint16_t port)
{
	for (size_t i = 0; i < o->navoid; i++)
		if (o->avoid[i] == port)
			return true;
	return false;
}

/*
 * Bind TCP, then UDP on the same port. An ephemeral port is retried a
 * few times: when UDP's is taken, and when the kernel hands out a port
 * of O->avoid (kept open until the end, so it is not handed out again).
 */
static int
bind_both(struct nc_feed *f, const char *addr, const struct nc_feed_opts *o)
{
	struct nc_feed_state *s = f->s;
	struct sockaddr_storage sa;
	socklen_t salen;
	int held[BIND_TRIES];
	int tries, nheld = 0, rc = KZ_EINVAL;

	if (parse_addr(addr, o->port, &sa, &salen))
		return KZ_EINVAL;
	for (tries = 0; tries < BIND_TRIES; tries++) {
		struct sockaddr_storage got;
		socklen_t glen = sizeof(got);

		memset(&got, 0, sizeof(got));

		if ((rc = bind_socket(&sa, salen, SOCK_STREAM)) < 0)
			break;
		s->tcp = rc;
		if (getsockname(s->tcp, (struct sockaddr *)&got, &glen)) {
			rc = -errno;
			break;
		}
		f->port = ntohs(got.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&got)->sin6_port :
		    ((struct sockaddr_in *)&got)->sin_port);
		if (o->port == 0 && port_avoided(o, f->port)) {
			held[nheld++] = s->tcp;
			s->tcp = -1;
			rc = -EADDRINUSE;
			continue;
		}
		if (got.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&sa)->sin6_port = htons(f->port);
		else
			((struct sockaddr_in *)&sa)->sin_port = htons(f->port);
		if ((rc = bind_socket(&sa, salen, SOCK_DGRAM)) >= 0) {
			s->udp = rc;
			rc = KZ_OK;
			break;
		}
		close(s->tcp);
		s->tcp = -1;
		if (o->port || rc != -EADDRINUSE)
			break;
		parse_addr(addr, 0, &sa, &salen);
	}
	while (nheld > 0)
		close(held[--nheld]);
	return rc;
}

static int
make_key(struct nc_feed *f, const char *name)
{
	uint8_t raw[32];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	if (strlen(name) >= sizeof(f->key.name))
		return KZ_ENAME;
	snprintf(f->key.name, sizeof(f->key.name), "%s", name);
	snprintf(f->key.alg, sizeof(f->key.alg), "%s", NC_FEED_KEY_ALG);
	b64(raw, sizeof(raw), f->key.secret);
	snprintf(f->s->alg, sizeof(f->s->alg), "%s.", NC_FEED_KEY_ALG);
	f->s->key_rdf = ldns_dname_new_frm_str(name);
	f->s->alg_rdf = ldns_dname_new_frm_str(f->s->alg);
	if (!f->s->key_rdf || !f->s->alg_rdf)
		return KZ_ENAME;
	return nc_tsig_init(&f->s->tsig, name, f->key.alg, f->key.secret);
}

#define OR_DEFAULT(v, d) ((v) ? (v) : (d))

int
nc_feed_init(struct nc_feed *f, const struct nc_feed_opts *o,
    const struct nc_feed_io *io, char *err, size_t errsz)
{
	static const struct nc_feed_opts none;
	struct nc_feed_state *s;
	const char *addr;
	int rc;

	memset(f, 0, sizeof(*f));
	o = o ? o : &none;
	addr = OR_DEFAULT(o->addr, "127.0.0.1");
	if (!(s = f->s = calloc(1, sizeof(*s)))) {
		snprintf(err, errsz, "feed: %s", kz_strerror(KZ_ENOMEM));
		return KZ_ENOMEM;
	}
	s->udp = s->tcp = s->cli4 = s->cli6 = -1;
	if (io)
		s->io = *io;
	s->max_diffs = OR_DEFAULT(o->journal_max_diffs, 64);
	s->max_bytes = OR_DEFAULT(o->journal_max_bytes, (size_t)16 << 20);
	s->max_conns = OR_DEFAULT(o->max_conns, 16);
	s->idle_ms = OR_DEFAULT(o->idle_ms, 30000);
	s->retry_ms = OR_DEFAULT(o->notify_retry_ms, 250);
	s->tries = OR_DEFAULT(o->notify_tries, 5);
	if (!(s->conns = calloc(s->max_conns, sizeof(*s->conns)))) {
		rc = KZ_ENOMEM;
		snprintf(err, errsz, "feed: %s", kz_strerror(rc));
		goto fail;
	}
	if ((rc = make_key(f, OR_DEFAULT(o->key_name, NC_FEED_KEY_NAME)))) {
		snprintf(err, errsz, "feed: TSIG key: %s", kz_strerror(rc));
		goto fail;
	}
	if ((rc = bind_both(f, addr, o))) {
		snprintf(err, errsz, "feed: cannot listen on %s@%u: %s", addr,
		    (unsigned)o->port, kz_strerror(rc));
		goto fail;
	}
	if (watch(s, s->udp, POLLIN) || watch(s, s->tcp, POLLIN)) {
		rc = KZ_ENOMEM;
		snprintf(err, errsz, "feed: cannot watch its sockets");
		goto fail;
	}
	kz_info("feed: listening", "addr=%s port=%u key=%s", addr,
	    (unsigned)f->port, f->key.name);
	return KZ_OK;
fail:
	nc_feed_free(f);
	return rc;
}

void
nc_feed_free(struct nc_feed *f)
{
	struct nc_feed_state *s = f->s;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nconns; i++)
		conn_free(s, s->conns[i]);
	free(s->conns);
	for (i = 0; i < s->nreqs; i++)
		req_free(s->reqs[i]);
	free(s->reqs);
	for (i = 0; i < s->nzones; i++) {
		journal_clear(&s->zones[i]);
		free(s->zones[i].j);
		free(s->zones[i].name);
		ldns_rdf_deep_free(s->zones[i].origin);
	}
	free(s->zones);
	free(s->targets);
	close_fd(s, &s->udp);
	close_fd(s, &s->tcp);
	close_fd(s, &s->cli4);
	close_fd(s, &s->cli6);
	ldns_rdf_deep_free(s->key_rdf);
	ldns_rdf_deep_free(s->alg_rdf);
	free(s);
	memset(f, 0, sizeof(*f));
}

/* Append the wire form of the name TEXT to Z's SOA names. */
static int
soa_name(struct zone *z, const char *text)
{
	ldns_rdf *d = text ? ldns_dname_new_frm_str(text) : NULL;
	int rc = KZ_ENAME;

	if (d && z->soa_names_len + ldns_rdf_size(d) <= sizeof(z->soa_names)) {
		ldns_dname2canonical(d);
		memcpy(z->soa_names + z->soa_names_len, ldns_rdf_data(d),
		    ldns_rdf_size(d));
		z->soa_names_len += ldns_rdf_size(d);
		rc = KZ_OK;
	}
	ldns_rdf_deep_free(d);
	return rc;
}

int
nc_feed_add_zone(struct nc_feed *f, const char *origin,
    const struct nc_feed_soa *soa, nc_feed_foreach_fn fn, void *ctx,
    size_t *zone_out)
{
	struct nc_feed_state *s = f->s;
	struct zone z = { 0 }, *v;
	size_t dup;
	int rc;

	if (!s || !origin || !soa || !fn)
		return KZ_EINVAL;
	if (!(z.origin = ldns_dname_new_frm_str(origin)))
		return KZ_ENAME;
	ldns_dname2canonical(z.origin);
	rc = KZ_EINVAL;
	if (zone_find(f, z.origin, &dup))
		goto fail;
	if ((rc = soa_name(&z, soa->mname)) || (rc = soa_name(&z, soa->rname)))
		goto fail;
	rc = KZ_ENOMEM;
	if (!(z.name = ldns_rdf2str(z.origin)))
		goto fail;
	if (!(v = reallocarray(s->zones, s->nzones + 1, sizeof(*v))))
		goto fail;
	s->zones = v;
	z.refresh = soa->refresh;
	z.retry = soa->retry;
	z.expire = soa->expire;
	z.minimum = soa->minimum;
	z.ttl = soa->ttl;
	z.fn = fn;
	z.ctx = ctx;
	s->zones[s->nzones] = z;
	if (zone_out)
		*zone_out = s->nzones;
	s->nzones++;
	return KZ_OK;
fail:
	free(z.name);
	ldns_rdf_deep_free(z.origin);
	return rc;
}

uint32_t
nc_feed_serial(const struct nc_feed *f, size_t zone, bool *published)
{
	const struct zone *z = zone_get(f, zone);

	if (published)
		*published = z && z->published;
	return z ? z->serial : 0;
}

int
nc_feed_set_serial(struct nc_feed *f, size_t zone, uint32_t serial)
{
	struct zone *z = zone_get(f, zone);

	if (!z)
		return KZ_EINVAL;
	journal_clear(z);
	z->serial = serial;
	z->published = true;
	kz_debug("feed: serial set", "zone=%s serial=%" PRIu32, z->name,
	    serial);
	notify_zone(f, zone);
	return KZ_OK;
}

int
nc_feed_notify(struct nc_feed *f, size_t zone)
{
	struct zone *z = zone_get(f, zone);

	if (!z || !z->published)
		return KZ_EINVAL;
	notify_zone(f, zone);
	return KZ_OK;
}

int
nc_feed_commit(struct nc_feed *f, size_t zone, uint32_t new_serial,
    const struct nc_rr *del, size_t ndel, const struct nc_rr *add,
    size_t nadd)
{
	struct zone *z = zone_get(f, zone);
	struct diff d = { 0 };
	size_t i;
	int rc = KZ_OK;

	if (!z || (ndel && !del) || (nadd && !add))
		return KZ_EINVAL;
	if (!z->published)
		return nc_feed_set_serial(f, zone, new_serial);
	kz_buf_init(&d.rrs, SNAP_MAX);
	d.from = z->serial;
	d.to = new_serial;
	for (i = 0; i < ndel && !rc; i++)
		rc = rr_put(&d.rrs, &del[i]);
	d.delbytes = d.rrs.len;
	for (i = 0; i < nadd && !rc; i++)
		rc = rr_put(&d.rrs, &add[i]);
	d.nrr = ndel + nadd;
	if (rc || (rc = journal_push(f->s, z, &d))) {
		diff_free(&d);
		return rc;
	}
	z->serial = new_serial;
	kz_debug("feed: commit", "zone=%s from=%" PRIu32 " to=%" PRIu32
	    " deleted=%zu added=%zu journal=%zu", z->name, d.from, d.to, ndel,
	    nadd, z->nj);
	notify_zone(f, zone);
	return KZ_OK;
}

int
nc_feed_add_notify(struct nc_feed *f, const char *ip, uint16_t port)
{
	struct nc_feed_state *s = f->s;
	struct target *v;

	if (!s || !ip)
		return KZ_EINVAL;
	if (!(v = reallocarray(s->targets, s->ntargets + 1, sizeof(*v))))
		return KZ_ENOMEM;
	s->targets = v;
	v = &s->targets[s->ntargets];
	if (parse_addr(ip, port, &v->sa, &v->salen))
		return KZ_EINVAL;
	addr_str(&v->sa, v->name, sizeof(v->name));
	s->ntargets++;
	return KZ_OK;
}

int
nc_feed_probe(struct nc_feed *f, const char *ip, uint16_t port,
    const char *zone_origin, const struct nc_feed_key *key,
    unsigned timeout_ms, nc_feed_probe_fn cb, void *ctx)
{
	struct nc_feed_state *s = f->s;
	struct req *r;
	uint64_t now = kz_now_ms();
	int rc = KZ_EINVAL;

	if (!s || !ip || !zone_origin || !cb)
		return KZ_EINVAL;
	if (!(r = calloc(1, sizeof(*r))))
		return KZ_ENOMEM;
	r->kind = REQ_PROBE;
	r->cb = cb;
	r->ctx = ctx;
	r->interval = PROBE_RETRY_MS;
	r->end = now + timeout_ms;
	if (key)
		r->key = *key;
	if (parse_addr(ip, port, &r->sa, &r->salen))
		goto fail;
	addr_str(&r->sa, r->peer, sizeof(r->peer));
	rc = KZ_ENAME;
	if (!(r->qname = ldns_dname_new_frm_str(zone_origin)))
		goto fail;
	if ((rc = probe_build(r)) ||
	    (rc = cli_socket(s, r->sa.ss_family)) < 0 || (rc = req_add(s, r)))
		goto fail;
	req_send(f, r, now);
	return KZ_OK;
fail:
	req_free(r);
	return rc;
}

/* --- the loop ----------------------------------------------------------- */

void
nc_feed_ready(struct nc_feed *f, int fd, short revents)
{
	struct nc_feed_state *s = f->s;
	size_t i;

	if (!s || fd < 0)
		return;
	if (fd == s->udp) {
		udp_ready(f);
	} else if (fd == s->tcp) {
		tcp_accept(f);
	} else if (fd == s->cli4 || fd == s->cli6) {
		cli_ready(f, fd);
	} else {
		for (i = 0; i < s->nconns; i++) {
			if (s->conns[i]->fd == fd) {
				conn_ready(f, s->conns[i], revents);
				return;
			}
		}
	}
}

uint64_t
nc_feed_deadline(const struct nc_feed *f)
{
	const struct nc_feed_state *s = f->s;
	uint64_t d = 0;
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < s->nreqs; i++) {
		if (!d || s->reqs[i]->next < d)
			d = s->reqs[i]->next;
	}
	for (i = 0; i < s->nconns; i++) {
		uint64_t t = s->conns[i]->last + s->idle_ms;

		if (!d || t < d)
			d = t;
	}
	return d;
}

void
nc_feed_tick(struct nc_feed *f, uint64_t now)
{
	struct nc_feed_state *s = f->s;
	size_t i = 0;

	if (!s)
		return;
	while (i < s->nreqs) {
		struct req *r = s->reqs[i];

		if (now < r->next) {
			i++;
		} else if (r->kind == REQ_NOTIFY ? r->tries >= r->max_tries :
		    now >= r->end) {
			req_done(f, req_take(s, i), -ETIMEDOUT, 0);
		} else {
			req_send(f, r, now);
			i++;
		}
	}
	/* Backwards: conn_close() moves the last connection into the gap. */
	for (i = s->nconns; i-- > 0;) {
		struct conn *c = s->conns[i];

		if (now >= c->last + s->idle_ms) {
			kz_info("feed: idle connection closed", "peer=%s",
			    c->peer);
			conn_close(f, c);
		}
	}
}
