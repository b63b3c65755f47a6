/*
 * zonegen/clusters.h -- the clusters file: several clusters, one
 * kubezone.
 *
 * A small YAML file names each cluster kubezone serves, where its API
 * is and the render options of its zones:
 *
 *   clusters:
 *     - name: prod-eu                  # [a-z0-9-], up to 63: the metrics'
 *       kubeconfig: /etc/kz/eu.yaml    #   cluster= label
 *       context: prod-eu               # or in-cluster: true
 *       zone: prod-eu.k8s.example      # its forward zone (required)
 *       options:                       # render options, as the flags
 *         reverse-zone: [10.10.0.0/16, fd10::/48]
 *         clusterset-zone: clusterset.local
 *         pod-records: true            # a flag: true gives it
 *
 * Each cluster's options are the render options of the command line
 * (zg_render_opt_table) with the same checks; a list gives a repeatable
 * option once per entry, and a flag takes true or false. The zone is
 * the cluster's "zone:" key, never an option; the catalog zone is one
 * for all clusters and is not a cluster option either.
 *
 * Across clusters, no zone may be claimed twice: names are unique, and
 * no forward, reverse or clusterset zone of one cluster may equal or
 * nest with a zone of another (two clusters with the default reverse
 * zones both claim in-addr.arpa). Errors name the file and line, and
 * for a collision both clusters.
 *
 * Ownership: zg_clusters_load() fills a struct zg_clusters that owns
 * every string and option set; free it with zg_clusters_free() (also
 * after a failure).
 */
#ifndef KZ_ZONEGEN_CLUSTERS_H
#define KZ_ZONEGEN_CLUSTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "zonegen/render.h"

#define ZG_CLUSTERS_MAX 64
#define ZG_CLUSTER_NAME_MAX 63

struct zg_cluster {
	char name[ZG_CLUSTER_NAME_MAX + 1];
	char *kubeconfig;	/* NULL: the default one */
	char *context;		/* NULL: the kubeconfig's current context */
	bool in_cluster;	/* the service account's API, not a
				 * kubeconfig */
	unsigned line;		/* where the cluster starts in the file */
	struct zg_render_opts opts;	/* its zone and render options */
};

struct zg_clusters {
	char *path;		/* the file, for messages */
	struct zg_cluster *v;
	size_t n;
};

/*
 * Read and check the clusters file PATH into CS (zeroed by the call).
 * Returns 0; KZ_EUSAGE with "PATH:LINE: ..." in ERR for content that is
 * wrong (unknown keys, a bad option, a zone claimed twice); -errno when
 * the file cannot be read; KZ_ENOMEM.
 */
int zg_clusters_load(struct zg_clusters *cs, const char *path, char *err,
    size_t errsz);

/*
 * The cross-cluster checks zg_clusters_load() ends with: unique names,
 * no zone claimed by two clusters, and none equal to or nested with
 * CATALOG (the catalog zone, "" for none). 0 or KZ_EUSAGE (ERR names
 * both clusters).
 */
int zg_clusters_check(const struct zg_clusters *cs, const char *catalog,
    char *err, size_t errsz);

/*
 * With a clusters file the render options are the file's: the first
 * render option in ARGV[1..ARGC) other than --catalog-zone is refused
 * with a message in ERR naming it (KZ_EUSAGE); 0 when there is none.
 */
int zg_clusters_argv_check(int argc, char **argv, char *err, size_t errsz);

/* The cluster named NAME, or NULL. */
const struct zg_cluster *zg_clusters_find(const struct zg_clusters *cs,
    const char *name);

void zg_clusters_free(struct zg_clusters *cs);

#endif
