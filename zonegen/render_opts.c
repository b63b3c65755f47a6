/*
 * zonegen/render_opts.c -- the render options: defaults, table, setters.
 *
 * Declared in zonegen/render.h. Every command that renders (render,
 * sync, nsd-conf) parses these rows, so they mean the same everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "zonegen/names.h"
#include "zonegen/render.h"

void
zg_render_opts_init(struct zg_render_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->zone, sizeof(o->zone), "cluster.local");
	o->ttl = 30;
	o->clusterip_endpoint_names = true;
}

void
zg_render_opts_free(struct zg_render_opts *o)
{
	for (size_t i = 0; i < o->nnamespaces; i++)
		free(o->namespaces[i]);
	o->nnamespaces = 0;
}

static int
set_zone(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;
	char z[sizeof(o->zone)];
	const char *why;

	if (zg_name_parse(arg, z, sizeof(z), &why)) {
		snprintf(err, errsz, "%s", why);
		return KZ_EINVAL;
	}
	memcpy(o->zone, z, strlen(z) + 1);
	return KZ_OK;
}

static int
set_ttl(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct zg_render_opts *)ctx)->ttl = (uint32_t)strtoul(arg, NULL, 10);
	return KZ_OK;
}

static int
set_dns_ip(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	if (o->ndns_ips == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d addresses", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (zg_ip_parse(&o->dns_ips[o->ndns_ips], arg)) {
		snprintf(err, errsz, "not an IPv4 or IPv6 address");
		return KZ_EINVAL;
	}
	o->ndns_ips++;
	return KZ_OK;
}

static int
set_namespace(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	if (o->nnamespaces == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d namespaces", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (!zg_label_ok(arg, strlen(arg), false)) {
		snprintf(err, errsz, "not a namespace name (DNS label)");
		return KZ_EINVAL;
	}
	o->namespaces[o->nnamespaces] = strdup(arg);
	if (o->namespaces[o->nnamespaces] == NULL) {
		snprintf(err, errsz, "out of memory");
		return KZ_ENOMEM;
	}
	o->nnamespaces++;
	return KZ_OK;
}

static int
set_reverse(void *ctx, const char *arg, char *err, size_t errsz)
{
	struct zg_render_opts *o = ctx;

	if (o->nreverse == ZG_MAX_LIST) {
		snprintf(err, errsz, "at most %d CIDRs", ZG_MAX_LIST);
		return KZ_EINVAL;
	}
	if (zg_cidr_parse(&o->reverse[o->nreverse], arg)) {
		snprintf(err, errsz,
		    "expected a CIDR such as 10.96.0.0/12 (host bits zero)");
		return KZ_EINVAL;
	}
	o->nreverse++;
	return KZ_OK;
}

static int
set_pod_records(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->pod_records = true;
	return KZ_OK;
}

static int
set_endpoint_pod_names(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->endpoint_pod_names = true;
	return KZ_OK;
}

static int
set_no_cip_names(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)arg, (void)err, (void)errsz;
	((struct zg_render_opts *)ctx)->clusterip_endpoint_names = false;
	return KZ_OK;
}

static int
set_rrset_bytes(void *ctx, const char *arg, char *err, size_t errsz)
{
	(void)err, (void)errsz;		/* the table's range was checked */
	((struct zg_render_opts *)ctx)->rrset_bytes = (uint32_t)strtoul(arg, NULL, 10);
	return KZ_OK;
}

const struct kz_opt zg_render_opt_table[] = {
	{ "zone", "DOMAIN", "cluster.local", NULL, false, set_zone,
	  "The cluster domain: the forward zone's origin." },
	{ "ttl", "SECONDS", "30", NULL, false, set_ttl,
	  "TTL of every record but the dns-version TXT (28800); the SOA "
	  "gets min(TTL, 300) and TTL as its MINIMUM.", KZ_OPT_NUMBER, 0,
	  86400 },
	{ "dns-ip", "IP", "the ClusterIPs of kube-system/kube-dns", NULL, true,
	  set_dns_ip,
	  "Address of ns.dns.<zone>, the name server named by every SOA and NS." },
	{ "namespace", "NAME", "all namespaces", NULL, true, set_namespace,
	  "Expose only this namespace (forward and reverse records)." },
	{ "reverse-zone", "CIDR", "in-addr.arpa and ip6.arpa", NULL, true,
	  set_reverse,
	  "Serve the reverse zones covering CIDR, split on octet (IPv4) or "
	  "nibble (IPv6) boundaries; only those." },
	{ "pod-records", NULL, "off", NULL, false, set_pod_records,
	  "Serve A/AAAA records a-b-c-d.<ns>.pod.<zone> for existing pods." },
	{ "endpoint-pod-names", NULL, "off", NULL, false,
	  set_endpoint_pod_names,
	  "Name endpoints without a hostname after their pod, not their address." },
	{ "no-clusterip-endpoint-names", NULL, NULL, NULL, false,
	  set_no_cip_names,
	  "Leave out <endpoint>.<svc>.<ns>.svc.<zone> names (and their PTRs) "
	  "for ClusterIP Services." },
	{ "max-rrset-bytes", "BYTES", "64000", NULL, false, set_rrset_bytes,
	  "Cap each RRset at this many bytes of records (12 per record plus "
	  "its RDATA), keeping the first in DNS canonical order, so that one "
	  "DNS message over TCP can carry it: about 4,000 A records. A "
	  "capped RRset is logged with the object it comes from.",
	  KZ_OPT_NUMBER, 512, 65000 },
	{ NULL, NULL, NULL, NULL, false, NULL, NULL }
};
