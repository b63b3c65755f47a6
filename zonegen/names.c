/*
 * zonegen/names.c -- labels, reverse names, canonical keys, CIDR zones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/err.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

static bool
label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool
zg_label_ok(const char *s, size_t len, bool underscore)
{
	size_t i = 0;

	if (len == 0 || len > ZG_LABEL_MAX)
		return false;
	if (underscore && s[0] == '_') {
		if (len == 1)
			return false;
		i = 1;
	}
	for (; i < len; i++)
		if (!label_char(s[i]))
			return false;
	return true;
}

size_t
zg_name_bare_len(const char *name)
{
	size_t n = strlen(name);

	return n > 1 && name[n - 1] == '.' ? n - 1 : n;
}

void
zg_name_bare(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "%.*s", (int)zg_name_bare_len(name), name);
}

size_t
zg_name_wire_len(const char *name)
{
	size_t n = strlen(name);

	/* Each dot becomes a length octet, plus the first and the root. */
	return n ? n + 2 : 1;
}

int
zg_name_check(const char *name, const char **why)
{
	const char *p = name, *dot;
	const char *reason = NULL;

	if (*name == '\0')
		reason = "empty name";
	else if (zg_name_wire_len(name) > ZG_NAME_MAX)
		reason = "name longer than 255 octets";
	while (reason == NULL) {
		size_t len;

		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0)
			reason = "empty label";
		else if (len > ZG_LABEL_MAX)
			reason = "label longer than 63 octets";
		else if (!zg_label_ok(p, len, true))
			reason = "label with characters outside [a-z0-9-]";
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (why)
		*why = reason;
	return reason ? KZ_ENAME : KZ_OK;
}

int
zg_name_parse(const char *text, char *out, size_t outsz, const char **why)
{
	ldns_rdf *rdf = NULL;
	char *str = NULL;
	size_t n;
	int rc = KZ_ENAME;

	*why = "not a valid DNS name";
	if (text == NULL || *text == '\0' || strcmp(text, ".") == 0) {
		*why = "empty name";
		return KZ_ENAME;
	}
	if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK || rdf == NULL)
		goto out;
	ldns_dname2canonical(rdf);
	str = ldns_rdf2str(rdf);
	if (str == NULL)
		goto out;
	n = strlen(str);
	if (n > 0 && str[n - 1] == '.')
		str[--n] = '\0';
	if (n + 1 > outsz) {
		*why = "name longer than 255 octets";
		goto out;
	}
	memcpy(out, str, n + 1);
	rc = zg_name_check(out, why);
out:
	free(str);
	ldns_rdf_deep_free(rdf);
	return rc;
}

const char *
zg_dashed_ip(const struct zg_ip *ip, char *buf, size_t bufsz)
{
	zg_ip_str(ip, buf, bufsz);
	for (char *p = buf; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '-';
	return buf;
}

const char *
zg_endpoint_label(const struct zg_epaddr *a, bool pod_names, char *buf,
    size_t bufsz)
{
	size_t n;

	if (a->hostname && a->hostname[0]) {
		snprintf(buf, bufsz, "%s", a->hostname);
		return buf;
	}
	if (pod_names && a->target && a->target[0] &&
	    strlen(a->target) < 64 && strchr(a->target, '.') == NULL) {
		snprintf(buf, bufsz, "%s", a->target);
		return buf;
	}
	zg_dashed_ip(&a->ip, buf, bufsz);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '-' && n + 1 < bufsz) {
		buf[n] = '0';
		buf[n + 1] = '\0';
	}
	return buf;
}

const char *
zg_pod_label(const struct zg_ip *ip, char *buf, size_t bufsz)
{
	return zg_dashed_ip(ip, buf, bufsz);
}

const char *
zg_reverse_name(const struct zg_ip *ip, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (ip->family == ZG_IPV4) {
		struct zg_ip rev = { .family = ZG_IPV4 };
		char text[16];

		for (int i = 0; i < 4; i++)
			rev.addr[i] = ip->addr[3 - i];
		zg_ip_str(&rev, text, sizeof(text));
		snprintf(buf, bufsz, "%s.in-addr.arpa", text);
		return buf;
	}
	if (bufsz < 32 * 2 + sizeof("ip6.arpa")) {
		buf[0] = '\0';
		return buf;
	}
	for (int i = 15; i >= 0; i--) {
		buf[o++] = hex[ip->addr[i] & 0xf];
		buf[o++] = '.';
		buf[o++] = hex[ip->addr[i] >> 4];
		buf[o++] = '.';
	}
	memcpy(buf + o, "ip6.arpa", sizeof("ip6.arpa"));
	return buf;
}

size_t
zg_name_key(const char *name, uint8_t *out, size_t outsz)
{
	size_t len = strlen(name), o = 0, end = len;

	if (len == 0)
		return 0;
	/* Walk labels from the right: each ends at END and starts after
	 * the previous dot. */
	for (size_t i = len + 1; i-- > 0;) {
		if (i == 0 || name[i - 1] == '.') {
			size_t l = end - i;
			if (o + l + 1 > outsz)
				return o;
			memcpy(out + o, name + i, l);
			o += l;
			out[o++] = 0;
			end = i ? i - 1 : 0;
		}
	}
	return o;
}

size_t
zg_name_wire(const char *name, uint8_t *out, size_t outsz)
{
	size_t o = 0;
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (o + l + 1 > outsz)
			return o;
		out[o++] = (uint8_t)l;
		memcpy(out + o, p, l);
		o += l;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	if (o < outsz)
		out[o++] = 0;
	return o;
}

int
zg_cidr_parse(struct zg_cidr *c, const char *s)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	unsigned long prefix;
	char *end;
	int bits;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return KZ_EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (zg_ip_parse(&c->ip, addr))
		return KZ_EINVAL;
	bits = c->ip.family == ZG_IPV4 ? 32 : 128;
	if (slash[1] < '0' || slash[1] > '9')
		return KZ_EINVAL;
	prefix = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || prefix > (unsigned long)bits)
		return KZ_EINVAL;
	c->prefix = (uint8_t)prefix;
	/* Host bits must be zero, as in a Service CIDR. */
	for (int b = (int)prefix; b < bits; b++)
		if (c->ip.addr[b / 8] & (0x80 >> (b % 8)))
			return KZ_EINVAL;
	return KZ_OK;
}

/* The zone name of the first UNITS octets (IPv4) or nibbles (IPv6). */
static void
prefix_zone(const struct zg_ip *ip, int units, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	buf[0] = '\0';
	for (int i = units - 1; i >= 0 && o + 8 < bufsz; i--) {
		if (ip->family == ZG_IPV4) {
			o += (size_t)snprintf(buf + o, bufsz - o, "%u.",
			    ip->addr[i]);
		} else {
			uint8_t byte = ip->addr[i / 2];
			buf[o++] = hex[i % 2 ? byte & 0xf : byte >> 4];
			buf[o++] = '.';
		}
	}
	snprintf(buf + o, bufsz - o, "%s",
	    ip->family == ZG_IPV4 ? "in-addr.arpa" : "ip6.arpa");
}

int
zg_cidr_zones(const struct zg_cidr *c,
    int (*fn)(void *ctx, const char *zone), void *ctx)
{
	int unit = c->ip.family == ZG_IPV4 ? 8 : 4;
	int aligned = (c->prefix + unit - 1) / unit * unit;
	int spread = aligned - c->prefix;	/* < unit */
	char zone[ZG_NAME_TEXT];

	for (unsigned i = 0; i < (1u << spread); i++) {
		struct zg_ip ip = c->ip;
		int units = aligned / unit, rc;

		if (spread) {
			/* The varying bits are the low bits of the last unit. */
			int last = units - 1;
			if (unit == 8) {
				ip.addr[last] |= (uint8_t)i;
			} else if (last % 2) {
				ip.addr[last / 2] |= (uint8_t)i;
			} else {
				ip.addr[last / 2] |= (uint8_t)(i << 4);
			}
		}
		prefix_zone(&ip, units, zone, sizeof(zone));
		rc = fn(ctx, zone);
		if (rc)
			return rc;
	}
	return KZ_OK;
}
