/*
 * tests/unit/test_execcred.c -- syncer/execcred: ExecCredential parsing,
 * RFC 3339 times, when to refresh, and plugin runs from a real loop
 * (success, exit code with stderr, signal, timeout, 401).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/execcred.h"
#include "syncer/loop.h"

#define V1 SY_EC_API_V1
#define V1B SY_EC_API_V1BETA1

static int
parse(const char *json, const char *api, struct sy_ec_cred *c, char *err,
    size_t errsz)
{
	err[0] = '\0';
	return sy_ec_parse(json, strlen(json), api, c, err, errsz);
}

static void
test_parse_token(void **state)
{
	struct sy_ec_cred c;
	char err[512];

	(void)state;
	assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"token\":\"abc\","
	    "\"expirationTimestamp\":\"2026-12-03T15:04:05Z\"}}", V1, &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.token, "abc");
	assert_null(c.cert);
	assert_int_equal(c.expiry, 1796310245);
	sy_ec_cred_free(&c);

	/* v1beta1, no expiry, spec echoed back */
	assert_int_equal(parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\""
	    V1B "\",\"spec\":{\"interactive\":false},\"status\":{\"token\":"
	    "\"t2\"}}", V1B, &c, err, sizeof(err)), 0);
	assert_string_equal(c.token, "t2");
	assert_int_equal(c.expiry, 0);
	sy_ec_cred_free(&c);
}

static void
test_parse_cert(void **state)
{
	struct sy_ec_cred c;
	char err[512];

	(void)state;
	assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"clientCertificateData\":"
	    "\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"
	    "\\n\",\"clientKeyData\":\"-----BEGIN EC PRIVATE KEY-----\\nMHc\\n"
	    "-----END EC PRIVATE KEY-----\\n\",\"expirationTimestamp\":"
	    "\"2026-12-03T16:04:05.123+01:00\"}}", V1, &c, err, sizeof(err)),
	    0);
	assert_null(c.token);
	assert_non_null(strstr(c.cert, "BEGIN CERTIFICATE"));
	assert_int_equal(c.cert_len, strlen(c.cert));
	assert_non_null(strstr(c.key, "PRIVATE KEY"));
	assert_int_equal(c.expiry, 1796310245);
	sy_ec_cred_free(&c);

	/* a certificate without its key */
	assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"clientCertificateData\":"
	    "\"-----BEGIN CERTIFICATE-----\"}}", V1, &c, err, sizeof(err)),
	    KZ_EPARSE);
	assert_non_null(strstr(err, "without clientKeyData"));
	assert_null(c.cert);
	/* not PEM */
	assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"clientCertificateData\":\"x\","
	    "\"clientKeyData\":\"y\"}}", V1, &c, err, sizeof(err)), KZ_EPARSE);
	assert_non_null(strstr(err, "PEM"));
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *json, *api, *msg;
	} cases[] = {
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"Status\",\"status\":"
		  "{\"token\":\"a\"}}", V1, "kind is \"Status\"" },
		{ "{\"apiVersion\":\"" V1 "\",\"status\":{\"token\":\"a\"}}", V1,
		  "kind is missing" },
		{ "{\"apiVersion\":\"" V1B "\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":\"a\"}}", V1, "asks for " V1 },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\"}", V1,
		  "no status" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":[]}", V1, "no status" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":{}}", V1, "neither a token" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":\"\"}}", V1, "neither a token" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":5}}", V1, "status.token is not" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":\"a\\nb\"}}", V1, "line break" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":\"a\",\"expirationTimestamp\":"
		  "\"tomorrow\"}}", V1, "RFC 3339" },
		{ "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":\"a\",\"expirationTimestamp\":5}}", V1,
		  "RFC 3339" },
		{ "Enter MFA code:", V1, "not JSON" },
		{ "", V1, "not JSON" },
		{ "[1,2]", V1, "not a JSON object" },
		{ "{\"a\":1} trailing", V1, "not JSON" },
	};
	struct sy_ec_cred c;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].json, cases[i].api, &c, err,
		    sizeof(err));

		if (rc != KZ_EPARSE || strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: rc %d, error \"%s\", want \"%s\"", i,
			    rc, err, cases[i].msg);
		assert_null(c.token);
	}
}

static void
test_time_and_refresh(void **state)
{
	struct sy_ec_cred c = { 0 };
	int64_t t;

	(void)state;
	assert_int_equal(sy_ec_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(sy_ec_parse_time("2024-02-29T23:59:59.999999Z", &t),
	    0);
	assert_int_equal(t, 1709251199);
	assert_int_equal(sy_ec_parse_time("2024-03-01T01:00:00-01:30", &t),
	    0);
	assert_int_equal(t, 1709260200);
	assert_int_equal(sy_ec_parse_time("2024-02-30T00:00:00Z", &t),
	    KZ_EPARSE);
	assert_int_equal(sy_ec_parse_time("2024-01-01T00:00:00", &t),
	    KZ_EPARSE);
	assert_int_equal(sy_ec_parse_time("2024-01-01T00:00:00Zx", &t),
	    KZ_EPARSE);
	assert_int_equal(sy_ec_parse_time("2024-1-01T00:00:00Z", &t),
	    KZ_EPARSE);

	/* an already expired credential parses; the runner refuses it */
	{
		struct sy_ec_cred e;
		char err[256];

		assert_int_equal(parse("{\"apiVersion\":\"" V1 "\",\"kind\":"
		    "\"ExecCredential\",\"status\":{\"token\":\"old\","
		    "\"expirationTimestamp\":\"2001-01-01T00:00:00Z\"}}", V1,
		    &e, err, sizeof(err)), 0);
		assert_true(e.expiry < (int64_t)time(NULL));
		sy_ec_cred_free(&e);
	}

	assert_true(sy_ec_refresh_at(&c, 1000000) == INT64_MAX);
	c.expiry = 1010;			/* 10 s: refresh 2 s early */
	assert_int_equal(sy_ec_refresh_at(&c, 1000000), 1008000);
	c.expiry = 1005;			/* 4.5 s left: 0.9 s early */
	assert_int_equal(sy_ec_refresh_at(&c, 1000500), 1004100);
	c.expiry = 1000 + 15 * 60;		/* 15 min: at most 60 s */
	assert_int_equal(sy_ec_refresh_at(&c, 1000000), (1000 + 14 * 60) *
	    1000);
	c.expiry = 900;				/* expired on arrival */
	assert_int_equal(sy_ec_refresh_at(&c, 1000000), 900000);
}

/* --- runs from a real loop ----------------------------------------- */

struct fixture {
	struct sy_loop loop;
	struct sy_ec ec;
};

/* An exec credential running /bin/sh -c SCRIPT. */
static void
setup_ec(struct fixture *f, const char *script)
{
	struct sy_ec_cfg *c;

	assert_int_equal(sy_loop_init(&f->loop), 0);
	sy_ec_init(&f->ec);
	c = &f->ec.cfg;
	c->command = strdup("sh");		/* through PATH */
	c->argv = calloc(4, sizeof(char *));
	c->argv[0] = strdup("sh");
	c->argv[1] = strdup("-c");
	c->argv[2] = strdup(script);
	c->argc = 3;
	c->env = calloc(2, sizeof(char *));
	c->env[0] = strdup("PLUGIN_X=42");
	c->nenv = 1;
	c->api_version = strdup(V1);
	c->exec_info = strdup("KUBERNETES_EXEC_INFO={\"kind\":"
	    "\"ExecCredential\"}");
	sy_ec_attach(&f->ec, &f->loop);
}

static void
teardown_ec(struct fixture *f)
{
	sy_ec_free(&f->ec);
	sy_loop_free(&f->loop);
}

/* Run the loop until the current run is over (at most LIMIT_MS). */
static void
run_until_idle(struct fixture *f, uint64_t limit_ms)
{
	uint64_t end = kz_now_ms() + limit_ms;

	while (f->ec.state == SY_EC_RUNNING && kz_now_ms() < end)
		assert_int_equal(sy_loop_once(&f->loop, 50), 0);
	assert_int_equal(f->ec.state, SY_EC_IDLE);
}

#define TOKEN_JSON(tok) "{\\\"apiVersion\\\":\\\"" V1 "\\\",\\\"kind\\\":" \
	"\\\"ExecCredential\\\",\\\"status\\\":{\\\"token\\\":\\\"" tok "\\\"}}"

static void
test_run_ok(void **state)
{
	struct fixture f;
	char script[512];

	(void)state;
	/* the token is built from what the plugin sees */
	snprintf(script, sizeof(script), "read x; test -z \"$x\" || exit 9; "
	    "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 8;; "
	    "esac; echo \"" TOKEN_JSON("t-$PLUGIN_X") "\"");
	setup_ec(&f, script);
	assert_false(sy_ec_ready(&f.ec, kz_now_ms()));	/* starts a run */
	assert_int_equal(f.ec.state, SY_EC_RUNNING);
	assert_false(sy_ec_ready(&f.ec, kz_now_ms()));	/* one at a time */
	assert_int_equal(f.ec.runs, 1);
	run_until_idle(&f, 5000);
	if (!sy_ec_ready(&f.ec, kz_now_ms()))
		fail_msg("no credential: %s", f.ec.last_error);
	assert_string_equal(sy_ec_token(&f.ec), "t-42");
	assert_int_equal(f.ec.failures, 0);

	/* a 401 with the current token: run again, retry at once */
	assert_true(sy_ec_unauthorized(&f.ec, kz_now_ms() + 1));
	assert_null(sy_ec_token(&f.ec));
	assert_false(sy_ec_ready(&f.ec, kz_now_ms()));
	/* more 401s meanwhile do not start more runs */
	assert_true(sy_ec_unauthorized(&f.ec, kz_now_ms()));
	run_until_idle(&f, 5000);
	assert_int_equal(f.ec.runs, 2);
	assert_true(sy_ec_ready(&f.ec, kz_now_ms()));
	/* a 401 of a request that used the old token: nothing to do */
	assert_true(sy_ec_unauthorized(&f.ec, f.ec.cred_ms - 1));
	assert_true(sy_ec_ready(&f.ec, kz_now_ms()));
	/* the new token refused too: back off */
	assert_false(sy_ec_unauthorized(&f.ec, kz_now_ms() + 1));
	teardown_ec(&f);
}

static void
test_run_fails(void **state)
{
	struct fixture f;

	(void)state;
	kz_log_set_level(KZ_LOG_OFF);
	setup_ec(&f, "echo 'no credentials: run aws sso login' >&2; "
	    "echo second >&2; exit 3");
	assert_false(sy_ec_ready(&f.ec, kz_now_ms()));
	run_until_idle(&f, 5000);
	assert_int_equal(f.ec.failures, 1);
	assert_true(f.ec.failing);
	assert_non_null(strstr(f.ec.last_error, "exit=3"));
	assert_non_null(strstr(f.ec.last_error,
	    "stderr: no credentials: run aws sso login second"));
	/* backing off: no new run yet */
	assert_false(sy_ec_ready(&f.ec, kz_now_ms()));
	assert_int_equal(f.ec.state, SY_EC_IDLE);
	assert_int_equal(f.ec.runs, 1);
	teardown_ec(&f);

	setup_ec(&f, "kill -TERM $$");
	sy_ec_ready(&f.ec, kz_now_ms());
	run_until_idle(&f, 5000);
	assert_non_null(strstr(f.ec.last_error, "signal=TERM"));
	teardown_ec(&f);

	setup_ec(&f, "echo '{\"apiVersion\":\"" V1 "\",\"kind\":"
	    "\"ExecCredential\",\"status\":{\"token\":\"a\","
	    "\"expirationTimestamp\":\"2001-01-01T00:00:00Z\"}}'");
	sy_ec_ready(&f.ec, kz_now_ms());
	run_until_idle(&f, 5000);
	assert_non_null(strstr(f.ec.last_error, "in the past"));
	teardown_ec(&f);

	setup_ec(&f, "echo hello");
	free(f.ec.cfg.command);
	f.ec.cfg.command = strdup("kubezone-no-such-plugin");
	sy_ec_ready(&f.ec, kz_now_ms());
	assert_int_equal(f.ec.state, SY_EC_IDLE);
	assert_non_null(strstr(f.ec.last_error, "not found in PATH"));
	teardown_ec(&f);
}

/* PID is running (neither gone nor a zombie waiting for its reaper). */
static bool
alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void
test_run_timeout(void **state)
{
	struct fixture f;
	char pidfile[64], buf[32];
	uint64_t t0;
	FILE *fp;
	long pid = 0;

	(void)state;
	kz_log_set_level(KZ_LOG_OFF);
	snprintf(pidfile, sizeof(pidfile), "/tmp/kz-ec-%ld.pid",
	    (long)getpid());
	{
		char script[256];

		snprintf(script, sizeof(script), "echo $$ > %s; exec sleep 30",
		    pidfile);
		setup_ec(&f, script);
	}
	f.ec.timeout_ms = 400;
	t0 = kz_now_ms();
	sy_ec_ready(&f.ec, t0);
	run_until_idle(&f, 5000);
	assert_true(kz_now_ms() - t0 >= 400);
	assert_true(kz_now_ms() - t0 < 3000);
	assert_non_null(strstr(f.ec.last_error, "killed after 0.4 s"));
	fp = fopen(pidfile, "r");
	assert_non_null(fp);
	if (fgets(buf, sizeof(buf), fp))
		pid = strtol(buf, NULL, 10);
	fclose(fp);
	unlink(pidfile);
	assert_true(pid > 1);
	/* killed (kubezone reaps orphans): SIGKILL lands asynchronously,
	 * so wait for it a while rather than look once */
	for (t0 = kz_now_ms(); alive(pid) && kz_now_ms() - t0 < 5000;)
		usleep(1000);
	assert_false(alive(pid));
	assert_int_equal(f.ec.pid, 0);
	teardown_ec(&f);
}

static void
test_free_kills_running(void **state)
{
	struct fixture f;

	(void)state;
	setup_ec(&f, "exec sleep 30");
	sy_ec_ready(&f.ec, kz_now_ms());
	assert_int_equal(f.ec.state, SY_EC_RUNNING);
	{
		pid_t pid = f.ec.pid;

		teardown_ec(&f);
		assert_false(alive(pid));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_token),
		cmocka_unit_test(test_parse_cert),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_time_and_refresh),
		cmocka_unit_test(test_run_ok),
		cmocka_unit_test(test_run_fails),
		cmocka_unit_test(test_run_timeout),
		cmocka_unit_test(test_free_kills_running),
	};

	kz_log_set_level(KZ_LOG_OFF);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
