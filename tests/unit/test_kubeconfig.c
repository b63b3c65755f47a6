/*
 * tests/unit/test_kubeconfig.c -- syncer/kubeconfig: kubeconfig files,
 * $KUBECONFIG merging, in-cluster configuration, rotating tokens.
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
#include "common/log.h"
#include "syncer/kubeconfig.h"

static char dir[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kz-kubeconfig-XXXXXX");
	assert_non_null(mkdtemp(dir));
	kz_log_set_level(KZ_LOG_OFF);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
write_file(const char *name, const char *text)
{
	static char path[4][512];
	static int i;
	FILE *f;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	f = fopen(path[i], "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path[i];
}

static const char two_contexts[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: prod\n"
    "clusters:\n"
    "- name: prod\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443/\n"
    "    certificate-authority: certs/ca.crt\n"
    "- name: dev\n"
    "  cluster:\n"
    "    server: https://127.0.0.1:8443\n"
    "    insecure-skip-tls-verify: true\n"
    "    certificate-authority-data: aGVsbG8gd29ybGQ=\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    tokenFile: token\n"
    "    client-certificate-data: Y2VydA==\n"
    "    client-key: /abs/key.pem\n"
    "- name: dev\n"
    "  user: {token: \"abc\", username: u, password: p}\n"
    "contexts:\n"
    "- name: prod\n"
    "  context: {cluster: prod, user: admin, namespace: kube-system}\n"
    "- name: dev\n"
    "  context:\n"
    "    cluster: dev\n"
    "    user: dev\n";

static void
test_kubeconfig_file(void **state)
{
	struct sy_kubeconfig kc;
	char err[512], want[600];
	const char *path;

	(void)state;
	path = write_file("config", two_contexts);
	sy_kubeconfig_init(&kc);
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), 0);
	assert_string_equal(kc.server, "https://10.0.0.1:6443");
	snprintf(want, sizeof(want), "%s/certs/ca.crt", dir);
	assert_string_equal(kc.ca_file, want);
	snprintf(want, sizeof(want), "%s/token", dir);
	assert_string_equal(kc.token_file, want);
	assert_string_equal(kc.key_file, "/abs/key.pem");
	assert_int_equal(kc.cert_len, 4);
	assert_memory_equal(kc.cert_data, "cert", 4);
	assert_false(kc.insecure);
	assert_null(kc.token);
	assert_non_null(strstr(kc.source, "context prod"));
	sy_kubeconfig_free(&kc);

	sy_kubeconfig_init(&kc);
	assert_int_equal(sy_kubeconfig_load(&kc, path, "dev", err,
	    sizeof(err)), 0);
	assert_string_equal(kc.server, "https://127.0.0.1:8443");
	assert_true(kc.insecure);
	assert_string_equal(kc.ca_data, "hello world");
	assert_int_equal(kc.ca_len, 11);
	assert_string_equal(kc.token, "abc");
	assert_string_equal(kc.username, "u");
	assert_string_equal(sy_kubeconfig_token(&kc, 0), "abc");
	sy_kubeconfig_free(&kc);
	sy_kubeconfig_free(&kc);

	sy_kubeconfig_init(&kc);
	assert_int_equal(sy_kubeconfig_load(&kc, path, "nope", err,
	    sizeof(err)), KZ_ENOTFOUND);
	assert_non_null(strstr(err, "no context named nope"));
	sy_kubeconfig_free(&kc);
}

/* One cluster SERVER (plus EXTRA cluster lines) and one user USER. */
static int
load_one(struct sy_kubeconfig *kc, const char *server, const char *extra,
    const char *user, char *err, size_t errsz)
{
	char text[2048];

	snprintf(text, sizeof(text), "apiVersion: v1\nkind: Config\n"
	    "current-context: c\nclusters:\n- name: c\n  cluster:\n"
	    "    server: %s\n%s"
	    "users:\n- name: u\n  user: %s\n"
	    "contexts:\n- name: c\n  context: {cluster: c, user: u}\n",
	    server, extra, user);
	sy_kubeconfig_init(kc);
	return sy_kubeconfig_load(kc, write_file("one", text), NULL, err,
	    errsz);
}

/* No bearer token nor password to a plain http:// server (as kubectl). */
static void
test_plain_http_refuses_credentials(void **state)
{
	const char *users[] = { "{token: abc}", "{tokenFile: /t}",
		"{username: u, password: p}", NULL };
	struct sy_kubeconfig kc;
	char err[512];

	(void)state;
	for (int i = 0; users[i]; i++) {
		assert_int_equal(load_one(&kc, "http://127.0.0.1:8080", "",
		    users[i], err, sizeof(err)), KZ_EPARSE);
		assert_non_null(strstr(err, "plain http"));
		assert_null(strstr(err, "abc"));
		sy_kubeconfig_free(&kc);
	}
	assert_int_equal(load_one(&kc, "http://127.0.0.1:8080", "", "{}",
	    err, sizeof(err)), 0);
	sy_kubeconfig_free(&kc);
	assert_int_equal(load_one(&kc, "https://127.0.0.1:8443", "",
	    "{token: abc}", err, sizeof(err)), 0);
	sy_kubeconfig_free(&kc);
}

static void
test_insecure_warns(void **state)
{
	unsigned long before;
	struct sy_kubeconfig kc;
	char err[512];
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	kz_log_set_stream(null);
	kz_log_set_level(KZ_LOG_WARN);
	before = kz_log_count(KZ_LOG_WARN);
	assert_int_equal(load_one(&kc, "https://10.0.0.1:6443",
	    "    insecure-skip-tls-verify: true\n", "{token: abc}", err,
	    sizeof(err)), 0);
	kz_log_set_level(KZ_LOG_OFF);
	kz_log_set_stream(NULL);
	fclose(null);
	assert_true(kc.insecure);
	assert_int_equal(kz_log_count(KZ_LOG_WARN), before + 1);
	sy_kubeconfig_free(&kc);
}

/* tls-server-name: URL names it, CONNECT_TO leads to the real host. */
static void
test_tls_server_name(void **state)
{
	struct sy_kubeconfig kc;
	char err[512];

	(void)state;
	assert_int_equal(load_one(&kc, "https://10.0.0.1:6443/prefix",
	    "    tls-server-name: api.example\n", "{token: abc}", err,
	    sizeof(err)), 0);
	assert_string_equal(kc.tls_server_name, "api.example");
	assert_string_equal(sy_kubeconfig_base(&kc),
	    "https://api.example:6443/prefix");
	assert_string_equal(kc.host_header, "Host: 10.0.0.1:6443");
	assert_non_null(kc.connect_to);
	assert_string_equal(kc.connect_to->data,
	    "api.example:6443:10.0.0.1:6443");
	sy_kubeconfig_free(&kc);

	assert_int_equal(load_one(&kc, "https://[fd00::1]",
	    "    tls-server-name: api.example\n", "{}", err, sizeof(err)), 0);
	assert_string_equal(sy_kubeconfig_base(&kc),
	    "https://api.example:443");
	assert_string_equal(kc.connect_to->data,
	    "api.example:443:[fd00::1]:443");
	assert_string_equal(kc.host_header, "Host: [fd00::1]");
	sy_kubeconfig_free(&kc);

	assert_int_equal(load_one(&kc, "https://10.0.0.1:6443", "", "{}",
	    err, sizeof(err)), 0);
	assert_string_equal(sy_kubeconfig_base(&kc), "https://10.0.0.1:6443");
	assert_null(kc.connect_to);
	assert_null(kc.host_header);
	sy_kubeconfig_free(&kc);
}

static void
test_errors(void **state)
{
	struct sy_kubeconfig kc;
	char err[512];
	const char *path;

	(void)state;
	sy_kubeconfig_init(&kc);
	path = write_file("exec",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://x:1'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1, command: gke-gcloud-auth-plugin, "
	    "interactiveMode: Always}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "interactiveMode Always"));
	sy_kubeconfig_free(&kc);

	path = write_file("exec",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://x:1'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1alpha1, command: aws}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "v1alpha1 is not supported"));
	sy_kubeconfig_free(&kc);

	path = write_file("exec",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'http://x:1'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1, command: aws}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "plain http"));
	sy_kubeconfig_free(&kc);

	path = write_file("bad", "clusters: [\n  - {name: \n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "line"));

	path = write_file("nocur", "clusters: []\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_ENOTFOUND);
	assert_non_null(strstr(err, "no current-context"));

	path = write_file("nosrv",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'ftp://x'}}]\n"
	    "contexts: [{name: c, context: {cluster: k}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "not an http(s) URL"));

	assert_true(sy_kubeconfig_load(&kc, "/nonexistent/kc", NULL, err,
	    sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/kc"));
	sy_kubeconfig_free(&kc);
}

/* $KUBECONFIG lists files: the first that defines a name wins. */
static void
test_merge(void **state)
{
	struct sy_kubeconfig kc;
	char err[512], list[1200];
	const char *a, *b;

	(void)state;
	a = write_file("a", "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
	    "users: [{name: u, user: {token: first}}]\n");
	b = write_file("b", "current-context: other\n"
	    "clusters: [{name: k, cluster: {server: 'https://b:443'}}]\n"
	    "users: [{name: u, user: {token: second}}]\n");
	snprintf(list, sizeof(list), "%s::%s", a, b);
	sy_kubeconfig_init(&kc);
	assert_int_equal(setenv("KUBECONFIG", list, 1), 0);
	assert_int_equal(sy_kubeconfig_resolve(&kc, NULL, NULL, err,
	    sizeof(err)), 0);
	assert_string_equal(kc.server, "https://b:443");
	assert_string_equal(kc.token, "first");
	sy_kubeconfig_free(&kc);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	sy_kubeconfig_init(&kc);
	assert_int_equal(sy_kubeconfig_resolve(&kc, NULL, NULL, err,
	    sizeof(err)), KZ_ENOTFOUND);
	assert_non_null(strstr(err, "no Kubernetes API configured"));
	sy_kubeconfig_free(&kc);
}

static void
test_token_rotation(void **state)
{
	struct sy_kubeconfig kc;
	char *tf;

	(void)state;
	sy_kubeconfig_init(&kc);
	tf = write_file("tok", "  one\n");
	kc.token_file = strdup(tf);
	kc.token = strdup("inline");
	assert_string_equal(sy_kubeconfig_token(&kc, 1000), "one");
	write_file("tok", "two\n");
	assert_string_equal(sy_kubeconfig_token(&kc, 30000), "one");
	assert_string_equal(sy_kubeconfig_token(&kc, 61000), "two");
	assert_int_equal(kc.token_reads, 2);
	write_file("tok", "three");
	assert_string_equal(sy_kubeconfig_token(&kc, 61001), "two");
	sy_kubeconfig_token_expire(&kc);	/* after a 401 */
	assert_string_equal(sy_kubeconfig_token(&kc, 61002), "three");
	write_file("tok", "\n");		/* empty: keep the last good */
	sy_kubeconfig_token_expire(&kc);
	assert_string_equal(sy_kubeconfig_token(&kc, 61003), "three");
	unlink(tf);				/* gone: keep it too */
	assert_string_equal(sy_kubeconfig_token(&kc, 200000), "three");
	sy_kubeconfig_free(&kc);

	/* a file unreadable from the start: the inline token */
	sy_kubeconfig_init(&kc);
	kc.token_file = strdup("/nonexistent/token");
	kc.token = strdup("inline");
	assert_string_equal(sy_kubeconfig_token(&kc, 5), "inline");
	sy_kubeconfig_free(&kc);
}

static void
test_in_cluster(void **state)
{
	struct sy_kubeconfig kc;
	char err[512], want[600];

	(void)state;
	sy_kubeconfig_init(&kc);
	assert_int_equal(sy_kubeconfig_in_cluster(&kc, NULL, "443", dir, err,
	    sizeof(err)), KZ_ENOTFOUND);
	assert_true(sy_kubeconfig_in_cluster(&kc, "10.96.0.1", "443", dir,
	    err, sizeof(err)) < 0);	/* no token file yet */
	write_file("token", "sa-token\n");
	assert_int_equal(sy_kubeconfig_in_cluster(&kc, "fd00::1", "443", dir,
	    err, sizeof(err)), 0);
	assert_string_equal(kc.server, "https://[fd00::1]:443");
	assert_null(kc.ca_file);	/* no ca.crt: system roots */
	assert_string_equal(sy_kubeconfig_token(&kc, 0), "sa-token");
	write_file("ca.crt", "PEM");
	assert_int_equal(sy_kubeconfig_in_cluster(&kc, "10.96.0.1", "6443",
	    dir, err, sizeof(err)), 0);
	assert_string_equal(kc.server, "https://10.96.0.1:6443");
	snprintf(want, sizeof(want), "%s/ca.crt", dir);
	assert_string_equal(kc.ca_file, want);
	assert_string_equal(kc.source, "in-cluster");
	sy_kubeconfig_free(&kc);
}

static void
test_base64(void **state)
{
	char *out;
	size_t n;

	(void)state;
	assert_int_equal(sy_base64_decode("TWFu\nTWE=", &out, &n), 0);
	assert_int_equal(n, 5);
	assert_string_equal(out, "ManMa");
	free(out);
	assert_int_equal(sy_base64_decode("", &out, &n), 0);
	assert_int_equal(n, 0);
	free(out);
	assert_int_equal(sy_base64_decode("TW*u", &out, &n), KZ_EPARSE);
	assert_int_equal(sy_base64_decode("T", &out, &n), KZ_EPARSE);
	assert_int_equal(sy_base64_decode("TQ==TQ", &out, &n), KZ_EPARSE);
}

static void
test_exec(void **state)
{
	struct sy_kubeconfig kc;
	char err[512], want[600];
	const char *path;
	struct sy_ec_cfg *c;

	(void)state;
	sy_kubeconfig_init(&kc);
	path = write_file("exec",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://x:1', "
	    "tls-server-name: api.example, certificate-authority-data: "
	    "UEVN}}]\n"
	    "users:\n"
	    "- name: u\n"
	    "  user:\n"
	    "    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: bin/plugin\n"
	    "      args: [token, --cluster, 'a b']\n"
	    "      env: [{name: AWS_PROFILE, value: prod}]\n"
	    "      interactiveMode: IfAvailable\n"
	    "      provideClusterInfo: true\n"
	    "      installHint: install it\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), 0);
	assert_non_null(kc.exec);
	c = &kc.exec->cfg;
	snprintf(want, sizeof(want), "%s/bin/plugin", dir);
	assert_string_equal(c->command, want);	/* relative to the file */
	assert_int_equal(c->argc, 4);
	assert_string_equal(c->argv[0], want);
	assert_string_equal(c->argv[3], "a b");
	assert_null(c->argv[4]);
	assert_int_equal(c->nenv, 1);
	assert_string_equal(c->env[0], "AWS_PROFILE=prod");
	assert_string_equal(c->install_hint, "install it");
	assert_string_equal(c->exec_info, "KUBERNETES_EXEC_INFO="
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
	    "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false,"
	    "\"cluster\":{\"server\":\"https://x:1\",\"tls-server-name\":"
	    "\"api.example\",\"certificate-authority-data\":\"UEVN\"}}}");
	/* no credential yet, and no loop to run the plugin from */
	assert_false(sy_kubeconfig_ready(&kc, 1));
	assert_null(sy_kubeconfig_token(&kc, 1));
	sy_kubeconfig_free(&kc);
	assert_null(kc.exec);

	/* a bare name is looked up in PATH; no cluster info by default */
	path = write_file("exec2",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://x:1'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1beta1, command: aws}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), 0);
	assert_string_equal(kc.exec->cfg.command, "aws");
	assert_int_equal(kc.exec->cfg.argc, 1);
	assert_string_equal(kc.exec->cfg.exec_info, "KUBERNETES_EXEC_INFO="
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
	    "\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}");
	sy_kubeconfig_free(&kc);

	path = write_file("exec3",
	    "current-context: c\n"
	    "clusters: [{name: k, cluster: {server: 'https://x:1'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1, command: aws, "
	    "env: [{name: X}]}}}]\n"
	    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
	assert_int_equal(sy_kubeconfig_load(&kc, path, NULL, err,
	    sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "exec.env[0]"));
	sy_kubeconfig_free(&kc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_plain_http_refuses_credentials),
		cmocka_unit_test(test_insecure_warns),
		cmocka_unit_test(test_tls_server_name),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_token_rotation),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_exec),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
