/*
 * tests/fuzz/fuzz_watch.c -- watch events and list pages applied to the
 * model, through the reflectors of syncer/k8s.h (no network).
 *
 * Input: byte 0 picks the reflector (bits 0-1: Namespaces, Services,
 * EndpointSlices, Pods, in sy_k8s_init's order), whether the rest is a
 * list page (bit 2) or a watch stream, and seeds the read sizes (bits
 * 3-7). A watch stream is fed in reads of varying size; after an abort
 * (malformed, oversized, ERROR event) the stream goes on as a new watch
 * would, with a clean framer.
 */
#include <stdint.h>
#include <string.h>

#include "syncer/k8s.h"
#include "syncer/metrics.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_change(void *ctx)
{
	(*(unsigned long *)ctx)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char server[] = "http://127.0.0.1:1";
	struct sy_kubeconfig kc;
	struct sy_k8s_opts o;
	struct sy_metrics *metrics;
	struct sy_reflector *r;
	struct zg_model m;
	struct sy_k8s k;
	unsigned long changes = 0;
	const char *s;
	size_t len;
	uint32_t rnd;
	int rc;

	fuzz_quiet();
	if (size < 1 || size > 1024 * 1024)
		return 0;
	s = (const char *)data + 1;
	len = size - 1;
	rnd = (uint32_t)(data[0] >> 3) * 2654435761u + 7;

	sy_kubeconfig_init(&kc);
	kc.server = server;
	zg_model_init(&m);
	metrics = sy_metrics_new();
	FUZZ_CHECK(metrics != NULL, "no metrics registry");
	sy_k8s_opts_init(&o);
	o.pods = true;
	o.max_event = 4096;
	rc = sy_k8s_init(&k, &o, &kc, &m, NULL, metrics, on_change, &changes);
	FUZZ_CHECK(rc == 0, "sy_k8s_init returned %d", rc);
	FUZZ_CHECK(k.nrf == 4, "%zu reflectors", k.nrf);
	r = &k.rf[data[0] & 3];

	if (data[0] & 4) {
		sy_reflector_list_begin(r, "fuzz");
		rc = sy_reflector_list_page(r, s, len);
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == KZ_EPARSE ||
		    rc == KZ_ENOMEM, "list page returned %d", rc);
		if (rc == 0) {
			size_t before = zg_model_count(&m, r->kind);

			rc = sy_reflector_list_end(r);
			FUZZ_CHECK(rc == 0, "list end returned %d", rc);
			FUZZ_CHECK(zg_model_count(&m, r->kind) <= before,
			    "a sweep added objects");
		}
	} else {
		for (size_t off = 0; off < len;) {
			size_t n;

			rnd = rnd * 1103515245u + 12345u;
			n = 1 + (rnd >> 16) % 512;
			if (n > len - off)
				n = len - off;
			rc = sy_reflector_watch_bytes(r, s + off, n);
			FUZZ_CHECK(rc >= 0 && rc <= SY_ABORT_BAD_TYPE,
			    "watch bytes returned %d", rc);
			if (rc) {
				/* the client would re-watch: a fresh stream */
				sy_framer_reset(&r->framer);
				r->abort = SY_ABORT_NONE;
			}
			off += n;
		}
	}
	FUZZ_CHECK(memchr(r->rv, '\0', sizeof(r->rv)) != NULL,
	    "resourceVersion not terminated");
	FUZZ_CHECK(memchr(r->list_rv, '\0', sizeof(r->list_rv)) != NULL,
	    "list resourceVersion not terminated");
	for (int i = 0; i < ZG_KIND_COUNT; i++)
		FUZZ_CHECK(i == (int)r->kind || zg_model_count(&m, i) == 0 ||
		    i == ZG_KIND_NAMESPACE,
		    "objects of kind %d from the %s reflector", i,
		    r->resource);

	sy_k8s_free(&k);
	sy_metrics_free(metrics);
	zg_model_free(&m);
	kc.server = NULL;
	sy_kubeconfig_free(&kc);
	return 0;
}
