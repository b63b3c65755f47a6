/*
 * tests/unit/test_clusters.c -- zonegen/clusters: the clusters file.
 *
 * A file with every key gives each cluster its API settings and render
 * options; each kind of mistake is refused with the file and the line
 * of the offending node; two clusters that claim the same zone, or
 * zones that nest (a reverse CIDR inside another cluster's, the default
 * reverse zones of two clusters, one clusterset zone for two), are
 * refused with an error naming both clusters and their lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "zonegen/clusters.h"
#include "zonegen/names.h"

static char path[64];

/* Write TEXT to a fresh temporary file (its name in PATH). */
static void
write_file(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/kz-clusters-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Load TEXT; return the result, the error in ERR. */
static int
load(struct zg_clusters *cs, const char *text, char *err, size_t errsz)
{
	int rc;

	write_file(text);
	err[0] = '\0';
	rc = zg_clusters_load(cs, path, err, errsz);
	unlink(path);
	return rc;
}

static void
test_every_key(void **state)
{
	static const char text[] =
	    "# two clusters\n"
	    "clusters:\n"
	    "  - name: prod-eu\n"
	    "    kubeconfig: /etc/kz/eu.yaml\n"
	    "    context: eu-admin\n"
	    "    zone: Prod-EU.k8s.example.\n"
	    "    options:\n"
	    "      reverse-zone: [10.10.0.0/16, 'fd10::/48']\n"
	    "      namespace:\n"
	    "        - shop\n"
	    "        - kube-system\n"
	    "      clusterset-zone: clusterset.local\n"
	    "      pod-records: true\n"
	    "      endpoint-pod-names: false\n"
	    "      ttl: 60\n"
	    "  - name: prod-us\n"
	    "    in-cluster: true\n"
	    "    zone: prod-us.k8s.example\n"
	    "    options:\n"
	    "      reverse-zone: 10.20.0.0/16\n";
	struct zg_clusters cs;
	char err[512], cidr[64];
	const struct zg_cluster *eu, *us;

	(void)state;
	assert_int_equal(load(&cs, text, err, sizeof(err)), 0);
	assert_int_equal(cs.n, 2);
	eu = zg_clusters_find(&cs, "prod-eu");
	us = zg_clusters_find(&cs, "prod-us");
	assert_non_null(eu);
	assert_non_null(us);
	assert_null(zg_clusters_find(&cs, "prod"));
	assert_int_equal(eu->line, 3);
	assert_int_equal(us->line, 16);
	assert_string_equal(eu->kubeconfig, "/etc/kz/eu.yaml");
	assert_string_equal(eu->context, "eu-admin");
	assert_false(eu->in_cluster);
	assert_string_equal(eu->opts.zone, "prod-eu.k8s.example");
	assert_int_equal(eu->opts.nreverse, 2);
	snprintf(cidr, sizeof(cidr), "%u", eu->opts.reverse[1].prefix);
	assert_string_equal(cidr, "48");
	assert_int_equal(eu->opts.nnamespaces, 2);
	assert_string_equal(eu->opts.namespaces[1], "kube-system");
	assert_string_equal(eu->opts.clusterset, "clusterset.local");
	assert_true(eu->opts.pod_records);
	assert_false(eu->opts.endpoint_pod_names);
	assert_int_equal(eu->opts.ttl, 60);
	assert_true(us->in_cluster);
	assert_null(us->kubeconfig);
	assert_string_equal(us->opts.zone, "prod-us.k8s.example");
	assert_int_equal(us->opts.ttl, 30);
	assert_false(us->opts.pod_records);
	assert_string_equal(us->opts.clusterset, "");
	zg_clusters_free(&cs);
}

/* Each mistake: the text, the line the error names, words it has. */
static const struct {
	const char *text;
	const char *want;
} bad[] = {
	{ "clusters: [\n", ":2: did not find expected node content" },
	{ "- a\n", ":1: expected a mapping with a \"clusters:\" list" },
	{ "clusters: []\n", ":1: \"clusters:\" must be a list of one" },
	{ "clusters:\n  - zone: a.example\n", ":2: a cluster without a name" },
	{ "clusters:\n  - name: Prod_EU\n    zone: a.example\n",
	  ":2: cluster name 'Prod_EU': lower-case letters" },
	{ "clusters:\n  - name: a\n", ":2: cluster a: no zone" },
	{ "clusters:\n  - name: a\n    zone: a..example\n",
	  ":3: cluster a: --zone a..example:" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    colour: red\n",
	  ":4: cluster a: unknown key 'colour'" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    in-cluster: yes\n",
	  ":4: cluster a: in-cluster: true or false" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    in-cluster: true\n"
	  "    kubeconfig: /k\n", ":2: cluster a: in-cluster and a kubeconfig" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      reverse-zone: 10.0.0.1/8\n",
	  ":5: cluster a: --reverse-zone 10.0.0.1/8:" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      colour: red\n", ":5: cluster a: unknown option 'colour'" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      zone: b.example\n", ":5: cluster a: the zone is the cluster's" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      catalog-zone: c.invalid\n",
	  ":5: cluster a: the catalog zone is one for all clusters" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      pod-records: 1\n", ":5: cluster a: pod-records is a flag" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      ttl: [1, 2]\n", ":5: cluster a: ttl takes one value" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      ttl: 999999\n", ":5: cluster a: --ttl" },
	{ "clusters:\n  - name: a\n    zone: a.example\n    options:\n"
	  "      clusterset-zone: svc.a.example\n",
	  ":2: cluster a: --clusterset-zone svc.a.example: is below the "
	  "cluster zone" },
	{ "clusters:\n  - name: a\n    zone: a.example\n  - name: a\n"
	  "    zone: b.example\n", ":4: cluster a: the name of the cluster at "
	  "line 2 too" },
	{ "clusters:\n  - name: a\n    zone: a.example\nzones: []\n",
	  ":4: unknown key 'zones'" },
};

static void
test_mistakes_name_the_line(void **state)
{
	struct zg_clusters cs;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(&cs, bad[i].text, err, sizeof(err)),
		    KZ_EUSAGE);
		if (strncmp(err, path, strlen(path)) != 0 ||
		    strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err,
			    bad[i].want);
		zg_clusters_free(&cs);
	}
	assert_true(zg_clusters_load(&cs, "/nonexistent/clusters.yaml", err,
	    sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/clusters.yaml: No such"));
	zg_clusters_free(&cs);
}

/* Two clusters whose zones collide: the text, words of the error. */
static const struct {
	const char *a, *b;
	const char *want;
} collide[] = {
	{ "reverse-zone: 10.0.0.0/8", "reverse-zone: 10.0.0.0/8",
	  ":5: cluster b: reverse zone 10.in-addr.arpa is the reverse zone "
	  "10.in-addr.arpa of cluster a (" },
	{ "reverse-zone: 10.0.0.0/8", "reverse-zone: 10.20.0.0/16",
	  ":5: cluster b: reverse zone 20.10.in-addr.arpa overlaps the "
	  "reverse zone 10.in-addr.arpa of cluster a (" },
	{ "reverse-zone: 10.20.0.0/15", "reverse-zone: 10.21.0.0/16",
	  "reverse zone 21.10.in-addr.arpa is the reverse zone "
	  "21.10.in-addr.arpa of cluster a" },
	{ "reverse-zone: fd00::/8", "reverse-zone: 'fd00:1::/32'",
	  "overlaps the reverse zone d.f.ip6.arpa of cluster a" },
	{ "pod-records: true", "pod-records: true",
	  "default reverse zone in-addr.arpa is the default reverse zone "
	  "in-addr.arpa of cluster a" },
	{ "reverse-zone: 10.0.0.0/8", "pod-records: true",
	  "default reverse zone in-addr.arpa overlaps the reverse zone "
	  "10.in-addr.arpa of cluster a" },
	{ "{reverse-zone: 10.1.0.0/16, clusterset-zone: clusterset.local}",
	  "{reverse-zone: 10.2.0.0/16, clusterset-zone: clusterset.local}",
	  "clusterset zone clusterset.local is the clusterset zone "
	  "clusterset.local of cluster a" },
	{ "{reverse-zone: 10.1.0.0/16, clusterset-zone: b.example}",
	  "reverse-zone: 10.2.0.0/16",
	  "cluster b: zone b.example is the clusterset zone b.example of "
	  "cluster a" },
	{ "reverse-zone: 10.1.0.0/16", "reverse-zone: 10.2.0.0/16}\n"
	  "  - name: c\n    zone: a.example\n    options: {reverse-zone: "
	  "10.3.0.0/16",
	  ":8: cluster c: zone a.example overlaps the zone x.a.example of "
	  "cluster a" },
};

/* S as a flow mapping: "{", S, "}" unless S is one already. */
#define BRACED(s) (s)[0] == '{' ? "" : "{", (s), (s)[0] == '{' ? "" : "}"

static void
test_collisions_name_both_clusters(void **state)
{
	struct zg_clusters cs;
	char text[1024], err[768];

	(void)state;
	for (size_t i = 0; i < sizeof(collide) / sizeof(collide[0]); i++) {
		snprintf(text, sizeof(text), "clusters:\n"
		    "  - name: a\n    zone: x.a.example\n    options: %s%s%s\n"
		    "  - name: b\n    zone: b.example\n    options: %s%s%s\n",
		    BRACED(collide[i].a), BRACED(collide[i].b));
		assert_int_equal(load(&cs, text, err, sizeof(err)),
		    KZ_EUSAGE);
		if (strstr(err, collide[i].want) == NULL ||
		    strstr(err, ":2)") == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err,
			    collide[i].want);
		zg_clusters_free(&cs);
	}
}

static void
test_separate_zones_and_the_catalog(void **state)
{
	static const char text[] =
	    "clusters:\n"
	    "  - name: a\n    zone: a.k8s.example\n"
	    "    options: {reverse-zone: [10.1.0.0/16, 'fd01::/32'], "
	    "clusterset-zone: clusterset.local}\n"
	    "  - name: b\n    zone: b.k8s.example\n"
	    "    options: {reverse-zone: [10.2.0.0/16, 'fd02::/32']}\n"
	    "  - name: c\n    zone: k8s.example.net\n"
	    "    options: {reverse-zone: 172.16.0.0/12}\n";
	struct zg_clusters cs;
	char err[512];

	(void)state;
	assert_int_equal(load(&cs, text, err, sizeof(err)), 0);
	assert_int_equal(cs.n, 3);
	assert_int_equal(zg_clusters_check(&cs, "catalog.invalid", err,
	    sizeof(err)), 0);
	assert_int_equal(zg_clusters_check(&cs, "k8s.example", err,
	    sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "--catalog-zone k8s.example: overlaps "
	    "the zone a.k8s.example of cluster a ("));
	assert_int_equal(zg_clusters_check(&cs, "clusterset.local", err,
	    sizeof(err)), KZ_EUSAGE);
	assert_non_null(strstr(err, "the clusterset zone clusterset.local "
	    "of cluster a"));
	zg_clusters_free(&cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_mistakes_name_the_line),
		cmocka_unit_test(test_collisions_name_both_clusters),
		cmocka_unit_test(test_separate_zones_and_the_catalog),
	};

	return cmocka_run_group_tests_name("clusters", tests, NULL, NULL);
}
