/*
 * zonegen/render.h -- the Kubernetes DNS rules: model in, zones out.
 *
 * zg_render() turns a cluster model into the forward zone (<zone>) and
 * the reverse zones, following the Kubernetes DNS-Based Service
 * Discovery specification and what CoreDNS answers (records R1-R25,
 * edge cases E1-E30 of the project's rule book; docs/records.md). It is
 * pure: no I/O but warnings through common/log.
 *
 * Output is canonical: within a zone the SOA comes first, then every
 * record in DNS canonical order (RFC 4034 section 6: owner names
 * compared label by label from the right, then type, then RDATA in wire
 * form), duplicates removed. The same model gives byte-identical zones
 * whatever the order objects were added in.
 *
 * The serial is not part of a rendered zone: zg_zone_write() takes it,
 * and zg_zone.hash covers everything else, so a publisher can tell
 * whether content changed before it chooses a serial.
 */
#ifndef KZ_ZONEGEN_RENDER_H
#define KZ_ZONEGEN_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/opt.h"
#include "zonegen/model.h"
#include "zonegen/selector.h"

#define ZG_MAX_LIST 64		/* entries in each repeatable option */

/* A reverse zone given as a CIDR (--reverse-zone). */
struct zg_cidr {
	struct zg_ip ip;
	uint8_t prefix;
};

/* One --ns NAME[=ADDR]. */
struct zg_ns {
	char *name;			/* lower case, no final dot; owned */
	bool has_ip;
	struct zg_ip ip;		/* with has_ip: its A or AAAA */
};

/* The SOA timers kubezone always wrote (CoreDNS's): the defaults. */
#define ZG_SOA_REFRESH 7200
#define ZG_SOA_RETRY 1800
#define ZG_SOA_EXPIRE 86400

/* Room for an RNAME as zone-file text: 255 octets, escapes included. */
#define ZG_RNAME_TEXT 320

struct zg_render_opts {
	char zone[256];			/* "cluster.local", no final dot */
	uint32_t ttl;			/* default 30 */
	size_t ndns_ips;
	struct zg_ip dns_ips[ZG_MAX_LIST];	/* --dns-ip */
	size_t nnamespaces;
	char *namespaces[ZG_MAX_LIST];	/* --namespace filter, owned */
	size_t nreverse;
	struct zg_cidr reverse[ZG_MAX_LIST];	/* --reverse-zone */
	bool pod_records;		/* --pod-records */
	bool endpoint_pod_names;	/* --endpoint-pod-names */
	bool clusterip_endpoint_names;	/* R14; on unless
					 * --no-clusterip-endpoint-names */
	uint32_t rrset_bytes;		/* RRset cap (--max-rrset-bytes) */
	size_t nns;
	struct zg_ns ns[ZG_MAX_LIST];	/* --ns; none: ns.dns.<zone> */
	char soa_rname[ZG_RNAME_TEXT];	/* --soa-rname as zone-file text,
					 * no final dot; "": hostmaster.<zone> */
	uint32_t soa_refresh, soa_retry, soa_expire;	/* --soa-* */
	uint32_t soa_minimum;		/* --soa-minimum, when set */
	bool soa_minimum_set;		/* else the SOA MINIMUM is the TTL */
	char catalog[256];		/* --catalog-zone, no final dot;
					 * "": none */
	char clusterset[256];		/* --clusterset-zone, no final dot;
					 * "": none */
	struct zg_sel *labels;		/* --labels: Services, EndpointSlices
					 * and Pods it selects; NULL: all.
					 * Owned */
	struct zg_sel *ns_labels;	/* --namespace-labels: the Namespaces
					 * it selects are exposed, no other;
					 * NULL: no such filter. Owned */
};

/* Set the defaults. */
void zg_render_opts_init(struct zg_render_opts *o);
/* Free what the options own (namespace and name server names, the
 * label selectors). */
void zg_render_opts_free(struct zg_render_opts *o);

/*
 * Check what depends on several options, once every option is parsed:
 * a --ns name inside the cluster domain has an address, one outside it
 * has none, none is at or below a served reverse zone or under svc. or
 * pod. of the cluster domain, --dns-ip is not given with --ns, and the
 * SOA EXPIRE is at least REFRESH + RETRY. Returns 0, or KZ_EUSAGE with
 * a message naming the option and the value in ERR.
 */
int zg_render_opts_finish(const struct zg_render_opts *o, char *err,
    size_t errsz);

/*
 * The member label of zone ORIGIN in a catalog zone (RFC 9432 section
 * 4.1): 16 lower-case hex digits of a 64-bit FNV-1a hash of the origin
 * in lower case with its final dot. A function of the name alone, so a
 * zone keeps its label across restarts and wherever it is rendered.
 * OUT holds at least 17 bytes.
 */
void zg_catalog_label(const char *origin, char *out, size_t outsz);

/* True when NAME (lower case, no final dot) is the cluster domain or
 * below it. */
bool zg_in_cluster_zone(const struct zg_render_opts *o, const char *name);

/* The SOA fields every zone shares: MNAME and RNAME absolute, with the
 * final dot (buffers of ZG_RNAME_TEXT + 1 bytes), and MINIMUM. */
void zg_soa_mname(const struct zg_render_opts *o, char *out, size_t outsz);
void zg_soa_rname(const struct zg_render_opts *o, char *out, size_t outsz);
uint32_t zg_soa_minimum(const struct zg_render_opts *o);

/* The option rows for render options (ctx: struct zg_render_opts). */
extern const struct kz_opt zg_render_opt_table[];

struct zg_zone {
	char *origin;		/* "cluster.local." (final dot) */
	char *file;		/* "cluster.local.zone" */
	struct kz_buf body;	/* every record after the SOA, as text */
	char *mname;		/* SOA MNAME, absolute */
	char *rname;		/* SOA RNAME, absolute */
	uint32_t soa_ttl;
	uint32_t ttl;		/* $TTL */
	uint32_t refresh, retry, expire, minimum;	/* SOA timers */
	size_t nrecords;	/* records in the zone, SOA included */
	uint64_t hash;		/* of everything but the serial */
	bool explained;		/* lines end with what they come from */
};

struct zg_render_stats {
	size_t services;	/* Services rendered */
	size_t skipped;		/* objects or records skipped with a warning */
	size_t filtered;	/* objects outside the exposed namespaces */
	size_t records;		/* records in all zones */
};

struct zg_zoneset {
	struct zg_zone *zones;	/* the forward zone first, then reverse */
	size_t nzones;
	struct zg_render_stats stats;
};

/*
 * Render M with O into OUT (which the caller later frees with
 * zg_zoneset_free, also after a failure). Returns 0 or KZ_ENOMEM.
 * Invalid objects never fail a render: they are skipped with one
 * warning each and counted in OUT->stats.skipped.
 */
int zg_render(const struct zg_model *m, const struct zg_render_opts *o,
    struct zg_zoneset *out);

/*
 * zg_render() with every record line followed by a comment naming what
 * it comes from (zg_db_explain): `kubezone render --explain`. The lines
 * without their comments are exactly what zg_render() writes.
 */
int zg_render_explain(const struct zg_model *m,
    const struct zg_render_opts *o, struct zg_zoneset *out);
void zg_zoneset_free(struct zg_zoneset *zs);

struct zg_db;
/* Every zone of DB as text (what zg_render() writes). 0 or KZ_ENOMEM;
 * free OUT with zg_zoneset_free (also after a failure). */
int zg_db_zoneset(const struct zg_db *db, struct zg_zoneset *out);

/* The zone with ORIGIN ("cluster.local." or "cluster.local"), or NULL. */
const struct zg_zone *zg_zoneset_find(const struct zg_zoneset *zs,
    const char *origin);

/*
 * Append the whole zone file text with SERIAL to OUT: "$ORIGIN",
 * "$TTL", the SOA, then the body. An explained zone's SOA line ends
 * with "; zone apex (R1)". 0, KZ_ENOMEM or KZ_ETOOBIG.
 */
int zg_zone_write(const struct zg_zone *z, uint32_t serial,
    struct kz_buf *out);

#endif
