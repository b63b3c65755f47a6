/*
 * tests/fuzz/fuzz_render.c -- the renderer as a whole: JSON in, zones out.
 *
 * Input: an optional first line "#opts ARG ARG ..." (render options,
 * space separated), then Kubernetes JSON. What decodes goes into the
 * model (a decode error keeps what came before it), the model is
 * rendered, and every zone written with a serial must parse back with
 * ldns from memory: the SOA first, every record inside the zone, as
 * many records as the renderer counted. Rendering the same model again
 * must give the same bytes. The explained render (--explain) must load
 * the same way, every record line must carry its comment, and without
 * the comments it must be the plain render, byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "common/buf.h"
#include "common/opt.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/decode.h"
#include "zonegen/model.h"
#include "zonegen/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

/* Parse "#opts ..." into O; 0 when usable. */
static int
parse_opts(const char *line, size_t len, struct zg_render_opts *o)
{
	char *buf, *argv[MAX_ARGS + 2], *pos[MAX_ARGS + 2], err[256];
	const struct kz_opt_table t = { "render", zg_render_opt_table, o };
	int argc = 1, help, rc;
	size_t npos;

	buf = strndup(line, len);
	FUZZ_CHECK(buf != NULL, "out of memory");
	argv[0] = (char *)"render";
	for (char *save = NULL, *p = strtok_r(buf, " ", &save);
	    p && argc <= MAX_ARGS; p = strtok_r(NULL, " ", &save))
		argv[argc++] = p;
	argv[argc] = NULL;
	rc = kz_opt_parse(argc, argv, &t, 1, pos, &npos, &help, err,
	    sizeof(err));
	free(buf);
	return rc || help || npos ? -1 : 0;
}

static void
check_zone(const struct zg_zone *z, uint32_t serial)
{
	struct kz_buf text;
	ldns_zone *lz = NULL;
	ldns_rdf *origin = NULL;
	ldns_status st;
	int line = 0;
	FILE *f;

	kz_buf_init(&text, 256u * 1024 * 1024);
	FUZZ_CHECK(zg_zone_write(z, serial, &text) == 0, "zone write");
	FUZZ_CHECK(ldns_str2rdf_dname(&origin, z->origin) == LDNS_STATUS_OK,
	    "origin %s", z->origin);
	f = fmemopen(text.data, text.len, "r");
	FUZZ_CHECK(f != NULL, "fmemopen");
	st = ldns_zone_new_frm_fp_l(&lz, f, origin, z->ttl, LDNS_RR_CLASS_IN,
	    &line);
	FUZZ_CHECK(st == LDNS_STATUS_OK, "zone %s line %d: %s\n%s", z->origin,
	    line, ldns_get_errorstr_by_id(st), text.data);
	FUZZ_CHECK(ldns_zone_soa(lz) != NULL, "zone %s without SOA",
	    z->origin);
	FUZZ_CHECK(ldns_rr_list_rr_count(ldns_zone_rrs(lz)) + 1 ==
	    z->nrecords, "zone %s: ldns reads %zu records, render counted %zu",
	    z->origin, ldns_rr_list_rr_count(ldns_zone_rrs(lz)) + 1,
	    z->nrecords);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_zone_rrs(lz)); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_zone_rrs(lz), i);
		ldns_rdf *owner = ldns_rr_owner(rr);

		FUZZ_CHECK(ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA,
		    "second SOA in %s", z->origin);
		FUZZ_CHECK(ldns_dname_compare(owner, origin) == 0 ||
		    ldns_dname_is_subdomain(owner, origin),
		    "record outside zone %s", z->origin);
	}
	fclose(f);
	ldns_zone_deep_free(lz);
	ldns_rdf_deep_free(origin);
	kz_buf_free(&text);
}

/* EXPLAINED without its comments ("\t; ..." to the end of each line)
 * is PLAIN; every line has one. */
static void
check_explained(const struct zg_zone *explained, const struct zg_zone *plain)
{
	const char *p = explained->body.data ? explained->body.data : "";
	const char *want = plain->body.data ? plain->body.data : "";
	size_t off = 0;

	FUZZ_CHECK(explained->nrecords == plain->nrecords,
	    "explained zone %s has %zu records, plain %zu", plain->origin,
	    explained->nrecords, plain->nrecords);
	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *c = strstr(p, "\t; ");
		size_t n;

		FUZZ_CHECK(nl != NULL && c != NULL && c < nl,
		    "explained line without its comment in %s", plain->origin);
		n = (size_t)(c - p);
		FUZZ_CHECK(off + n + 1 <= plain->body.len &&
		    memcmp(want + off, p, n) == 0 && want[off + n] == '\n',
		    "explained zone %s differs from the plain one", plain->origin);
		off += n + 1;
		p = nl + 1;
	}
	FUZZ_CHECK(off == plain->body.len, "explained zone %s lacks lines",
	    plain->origin);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct zg_zoneset zs, again;
	struct zg_render_opts o;
	struct zg_model m;
	size_t len = size;
	int rc;

	fuzz_quiet();
	if (size > 512 * 1024)
		return 0;
	zg_render_opts_init(&o);
	if (len >= 6 && memcmp(s, "#opts ", 6) == 0) {
		const char *nl = memchr(s, '\n', len);

		if (nl == NULL || memchr(s, '\0', (size_t)(nl - s)) ||
		    parse_opts(s + 6, (size_t)(nl - s - 6), &o)) {
			zg_render_opts_free(&o);
			return 0;
		}
		len -= (size_t)(nl + 1 - s);
		s = nl + 1;
	}
	zg_model_init(&m);
	zg_model_select(&m, o.labels, o.ns_labels);
	(void)zg_decode_buffer(&m, s, len, "fuzz", NULL, NULL);

	memset(&zs, 0, sizeof(zs));
	rc = zg_render(&m, &o, &zs);
	FUZZ_CHECK(rc == 0, "render returned %d", rc);
	FUZZ_CHECK(zs.nzones >= 1, "no zones");
	for (size_t i = 0; i < zs.nzones; i++)
		check_zone(&zs.zones[i], 2026112201u);

	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(zg_render(&m, &o, &again) == 0, "second render");
	FUZZ_CHECK(again.nzones == zs.nzones, "zone count changed");
	for (size_t i = 0; i < zs.nzones; i++) {
		FUZZ_CHECK(zs.zones[i].hash == again.zones[i].hash &&
		    zs.zones[i].body.len == again.zones[i].body.len &&
		    memcmp(zs.zones[i].body.data, again.zones[i].body.data,
		    zs.zones[i].body.len) == 0, "render is not deterministic");
	}
	zg_zoneset_free(&again);

	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(zg_render_explain(&m, &o, &again) == 0, "explained render");
	FUZZ_CHECK(again.nzones == zs.nzones, "explained zone count");
	for (size_t i = 0; i < zs.nzones; i++) {
		check_zone(&again.zones[i], 2026112201u);
		check_explained(&again.zones[i], &zs.zones[i]);
	}
	zg_zoneset_free(&again);
	zg_zoneset_free(&zs);
	zg_model_free(&m);
	zg_render_opts_free(&o);
	return 0;
}
