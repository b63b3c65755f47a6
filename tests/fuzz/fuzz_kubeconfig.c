/*
 * tests/fuzz/fuzz_kubeconfig.c -- kubeconfig files (YAML or JSON).
 *
 * The input is one kubeconfig, or two separated by a line "#---" (they
 * are merged as $KUBECONFIG=a:b would be). A first line "#context NAME"
 * selects a context instead of current-context. The files are memory
 * files reached through /proc/self/fd, so nothing touches the disk.
 * A successful load must give an http(s) server without a final "/";
 * a failed one must say why. Every base64 field is also decoded alone.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "syncer/kubeconfig.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
memfile(const char *data, size_t len)
{
	int fd = memfd_create("kubeconfig", MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(fuzz_write_all(fd, data, len) == 0, "memfd write failed");
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size, *sep;
	char context[256], *ctx = NULL, paths[128], err[512];
	struct sy_kubeconfig kc;
	int fd1, fd2 = -1, rc;

	fuzz_quiet();
	if (size > 256 * 1024)
		return 0;
	if (size > 9 && memcmp(s, "#context ", 9) == 0) {
		const char *nl = memchr(s, '\n', size);
		size_t n;

		if (nl == NULL)
			return 0;
		n = (size_t)(nl - s - 9);
		if (n >= sizeof(context) || memchr(s + 9, '\0', n))
			return 0;
		memcpy(context, s + 9, n);
		context[n] = '\0';
		ctx = context;
		s = nl + 1;
	}
	sep = memmem(s, (size_t)(end - s), "\n#---\n", 6);
	fd1 = memfile(s, sep ? (size_t)(sep - s) : (size_t)(end - s));
	if (sep)
		fd2 = memfile(sep + 6, (size_t)(end - sep - 6));
	if (fd2 >= 0)
		snprintf(paths, sizeof(paths), "/proc/self/fd/%d:/proc/self/fd/%d",
		    fd1, fd2);
	else
		snprintf(paths, sizeof(paths), "/proc/self/fd/%d", fd1);

	sy_kubeconfig_init(&kc);
	err[0] = '\0';
	rc = sy_kubeconfig_load(&kc, paths, ctx, err, sizeof(err));
	if (rc == 0) {
		size_t n;

		FUZZ_CHECK(kc.server != NULL, "loaded without a server");
		FUZZ_CHECK(strncmp(kc.server, "http://", 7) == 0 ||
		    strncmp(kc.server, "https://", 8) == 0,
		    "server %s is not http(s)", kc.server);
		n = strlen(kc.server);
		FUZZ_CHECK(n == 0 || kc.server[n - 1] != '/',
		    "server %s ends in /", kc.server);
		FUZZ_CHECK(kc.source[0] != '\0', "no source");
		FUZZ_CHECK(kc.ca_data == NULL || kc.ca_data[kc.ca_len] == '\0',
		    "CA data not terminated");
		{
			/* the TLS options, as a transfer would get them */
			CURL *h = curl_easy_init();

			if (h) {
				(void)sy_kubeconfig_apply(&kc, h);
				curl_easy_cleanup(h);
			}
		}
	} else {
		FUZZ_CHECK(rc < 0, "load returned %d", rc);
		FUZZ_CHECK(err[0] != '\0', "error %d without a message", rc);
	}
	sy_kubeconfig_free(&kc);
	close(fd1);
	if (fd2 >= 0)
		close(fd2);

	/* base64 alone, on the raw input as a string */
	if (size < 4096 && memchr(data, '\0', size) == NULL) {
		char *in = malloc(size + 1), *out = NULL;
		size_t outlen = 0;

		FUZZ_CHECK(in != NULL, "out of memory");
		memcpy(in, data, size);
		in[size] = '\0';
		rc = sy_base64_decode(in, &out, &outlen);
		FUZZ_CHECK(rc == 0 || rc == KZ_EPARSE || rc == KZ_ENOMEM,
		    "base64 returned %d", rc);
		if (rc == 0)
			FUZZ_CHECK(outlen <= size / 4 * 3 + 3,
			    "%zu bytes out of %zu", outlen, size);
		free(out);
		free(in);
	}
	return 0;
}
