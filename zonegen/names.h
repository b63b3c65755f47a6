/*
 * zonegen/names.h -- DNS names for Kubernetes objects.
 *
 * Names are handled as lower-case dotted text without the final dot
 * ("web.shop.svc.cluster.local"). These helpers derive the labels the
 * Kubernetes DNS rules use (endpoint and pod labels, reverse names),
 * check the limits a zone file imposes (63-octet labels, 255-octet
 * names) and compute sort keys that put names in DNS canonical order
 * (RFC 4034 section 6.1) under plain memcmp().
 */
#ifndef KZ_ZONEGEN_NAMES_H
#define KZ_ZONEGEN_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zonegen/model.h"

#define ZG_NAME_MAX 255		/* wire octets of a whole name */
#define ZG_LABEL_MAX 63		/* octets of one label */
#define ZG_NAME_TEXT 256	/* buffer for dotted text, NUL included */

struct zg_cidr;

/*
 * True when S[0..LEN) is a label kubezone writes unescaped: 1 to 63 of
 * [a-z0-9-], and with UNDERSCORE a leading '_' is allowed as well.
 */
bool zg_label_ok(const char *s, size_t len, bool underscore);

/*
 * Check a dotted name (no final dot): non-empty labels, each valid for
 * zg_label_ok (labels may start with '_'), at most 255 wire octets.
 * Returns 0, or KZ_ENAME with a reason in WHY (may be NULL).
 */
int zg_name_check(const char *name, const char **why);

/*
 * Parse a name given as text from outside the cluster model (an
 * ExternalName target, the --zone option) with ldns: accepts an optional
 * final dot and any case; writes the lower-case dotted form without the
 * final dot into OUT (ZG_NAME_TEXT bytes). The result must also pass
 * zg_name_check(). Returns 0, or KZ_ENAME with a reason in WHY.
 */
int zg_name_parse(const char *text, char *out, size_t outsz,
    const char **why);

/*
 * Length of NAME without its final dot ("cluster.local." -> 13); the
 * root "." keeps it. zg_name_bare() copies that part into OUT.
 */
size_t zg_name_bare_len(const char *name);
void zg_name_bare(char *out, size_t outsz, const char *name);

/* Wire length of a dotted name without final dot ("" is the root: 1). */
size_t zg_name_wire_len(const char *name);

/*
 * The label for one endpoint address (spec section 1.2): the hostname
 * when set; with POD_NAMES the target pod's name when it is a single
 * label shorter than 64 octets; otherwise the address with '.' or ':'
 * turned into '-' (and "0" appended when an IPv6 form ends in '-').
 * Writes into BUF (ZG_NAME_TEXT bytes) and returns BUF.
 */
const char *zg_endpoint_label(const struct zg_epaddr *a, bool pod_names,
    char *buf, size_t bufsz);

/* The label of a pod address (section 1.3: no "0" appended). */
const char *zg_pod_label(const struct zg_ip *ip, char *buf, size_t bufsz);

/* The dashed form of an address (rule 3/4 of section 1.2). */
const char *zg_dashed_ip(const struct zg_ip *ip, char *buf, size_t bufsz);

/* "d.c.b.a.in-addr.arpa" or the 32-nibble ip6.arpa name. */
const char *zg_reverse_name(const struct zg_ip *ip, char *buf,
    size_t bufsz);

/*
 * Canonical-order key of a dotted name: its labels from the right, each
 * followed by a 0 octet. memcmp() on two keys (the shorter first when
 * one is a prefix of the other) orders names as RFC 4034 6.1 does.
 * Writes at most OUTSZ bytes; returns the key length.
 */
size_t zg_name_key(const char *name, uint8_t *out, size_t outsz);

/* Uncompressed wire form of a dotted name (for RDATA ordering). */
size_t zg_name_wire(const char *name, uint8_t *out, size_t outsz);

/* Parse "10.96.0.0/12" or "fd00::/108"; host bits must be zero. */
int zg_cidr_parse(struct zg_cidr *c, const char *s);

/*
 * The reverse zones covering C, split on octet (IPv4) or nibble (IPv6)
 * boundaries as CoreDNS does: 10.96.0.0/12 gives 96.10.in-addr.arpa ...
 * 111.10.in-addr.arpa. Calls FN(ctx, zone) for each zone in order;
 * stops and returns FN's non-zero result. At most 256 zones per CIDR.
 */
int zg_cidr_zones(const struct zg_cidr *c,
    int (*fn)(void *ctx, const char *zone), void *ctx);

#endif
