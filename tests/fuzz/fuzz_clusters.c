/*
 * tests/fuzz/fuzz_clusters.c -- the clusters file (YAML).
 *
 * The input is one clusters file, read from a memory file reached
 * through /proc/self/fd (nothing touches the disk). A file that loads
 * must hold one cluster or more, each with a name that is a DNS label,
 * a zone and no zone another cluster claims (the check run again says
 * so); a file that does not must say why, naming the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "zonegen/clusters.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zg_clusters cs;
	char path[64], err[768];
	int fd, rc;

	fuzz_quiet();
	if (size > 64 * 1024)
		return 0;
	fd = memfd_create("clusters", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(fuzz_write_all(fd, data, size) == 0, "memfd write failed");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	rc = zg_clusters_load(&cs, path, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(cs.n >= 1 && cs.n <= ZG_CLUSTERS_MAX, "%zu clusters",
		    cs.n);
		for (size_t i = 0; i < cs.n; i++) {
			const struct zg_cluster *c = &cs.v[i];
			FUZZ_CHECK(c->name[0] && strlen(c->name) <=
			    ZG_CLUSTER_NAME_MAX, "cluster %zu: bad name", i);
			FUZZ_CHECK(c->opts.zone[0], "cluster %s: no zone",
			    c->name);
			FUZZ_CHECK(zg_clusters_find(&cs, c->name) == c,
			    "cluster %s: found elsewhere", c->name);
			FUZZ_CHECK(!(c->in_cluster && c->kubeconfig),
			    "cluster %s: in-cluster and a kubeconfig", c->name);
		}
		FUZZ_CHECK(zg_clusters_check(&cs, "", err, sizeof(err)) == 0,
		    "loaded, but the check fails: %s", err);
	} else if (rc != KZ_ENOMEM) {
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0,
		    "error without the file: rc=%d '%s'", rc, err);
	}
	zg_clusters_free(&cs);
	close(fd);
	return 0;
}
