/*
 * tests/fuzz/fuzz_decode.c -- Kubernetes JSON into the model.
 *
 * Each input is decoded three ways:
 *   - as a whole document from memory (zg_decode_buffer);
 *   - from a file descriptor in small reads whose size comes from the
 *     input's first byte (zg_decode_fd), so the streaming scanner sees
 *     values cut at every possible place; both decodes must agree on
 *     the result, the objects kept and the error offset;
 *   - when the input is one JSON object, through zg_decode_object() as
 *     each kind kubezone uses (and as its own "kind").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "tests/fuzz/fuzz.h"
#include "zonegen/decode.h"
#include "zonegen/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = {
	"Service", "EndpointSlice", "Pod", "Namespace", NULL
};

static void
decode_kinds(const uint8_t *data, size_t size)
{
	struct zg_decode_error err;
	json_error_t je;
	json_t *obj;

	obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (obj == NULL)
		return;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct zg_model m;
		int rc;

		zg_model_init(&m);
		memset(&err, 0, sizeof(err));
		rc = zg_decode_object(&m, obj, kinds[i], &err);
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == KZ_EPARSE ||
		    rc == KZ_ENOMEM, "zg_decode_object returned %d", rc);
		if (rc == 0) {
			const char *ns, *name;

			FUZZ_CHECK(zg_decode_meta(obj, &ns, &name) == 0,
			    "stored an object without a name");
		}
		zg_model_free(&m);
	}
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zg_decode_stats st1 = { 0 }, st2 = { 0 };
	struct zg_decode_error e1, e2;
	struct zg_decode_opts opts = { 0 };
	struct zg_model m1, m2;
	int rc1, rc2, fd;

	fuzz_quiet();
	if (size > 1024 * 1024)
		return 0;
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));

	zg_model_init(&m1);
	rc1 = zg_decode_buffer(&m1, (const char *)data, size, "fuzz", &st1,
	    &e1);
	FUZZ_CHECK(rc1 == 0 || rc1 == KZ_EPARSE || rc1 == KZ_ENOMEM,
	    "zg_decode_buffer returned %d", rc1);
	FUZZ_CHECK(st1.bytes <= size, "consumed %zu of %zu bytes", st1.bytes,
	    size);

	fd = memfd_create("fuzz", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(fuzz_write_all(fd, data, size) == 0, "memfd write failed");
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek failed");
	opts.chunk_size = size ? 1 + data[0] % 61 : 1;
	zg_model_init(&m2);
	rc2 = zg_decode_fd(&m2, fd, "fuzz", &opts, &st2, &e2);
	close(fd);

	FUZZ_CHECK(rc1 == rc2, "buffer decode %d, chunked decode %d", rc1,
	    rc2);
	for (int k = 0; k < ZG_KIND_COUNT; k++)
		FUZZ_CHECK(zg_model_count(&m1, k) == zg_model_count(&m2, k),
		    "kind %d: %zu objects whole, %zu chunked", k,
		    zg_model_count(&m1, k), zg_model_count(&m2, k));
	if (rc1 == KZ_EPARSE)
		FUZZ_CHECK(e1.offset == e2.offset,
		    "error at %zu whole, %zu chunked (%s / %s)", e1.offset,
		    e2.offset, e1.text, e2.text);
	zg_model_free(&m1);
	zg_model_free(&m2);

	decode_kinds(data, size);
	return 0;
}
