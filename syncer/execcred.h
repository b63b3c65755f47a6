/*
 * syncer/execcred.h -- kubeconfig exec credential plugins
 * (client.authentication.k8s.io/v1 and v1beta1).
 *
 * A kubeconfig user with an `exec` section names a program that prints
 * an ExecCredential on its stdout: a bearer token, or a client
 * certificate and key (PEM), valid until status.expirationTimestamp.
 * kubezone runs it as kubectl does: argv is command + args, the
 * environment is kubezone's plus the plugin's `env` entries plus
 * KUBERNETES_EXEC_INFO (the ExecCredential request: apiVersion, kind,
 * spec.interactive=false and, with provideClusterInfo, spec.cluster).
 * It is never interactive: stdin is /dev/null and interactiveMode
 * Always is refused when the kubeconfig is loaded.
 *
 * The plugin runs below a small guard process (a copy of kubezone that
 * never execs and has no exit signal, so the daemon's reaping of unknown
 * children cannot take its status; it exits as the plugin did) in a
 * process group of its own. Its stdout and stderr are read through
 * non-blocking pipes watched by the daemon's loop (syncer/loop.h);
 * nothing waits for it. A run that takes longer than SY_EC_TIMEOUT_MS is
 * killed (SIGKILL to the group) and reaped. A credential is used until shortly before it expires (a
 * fifth of its lifetime, at most SY_EC_MARGIN_MAX_S), then the plugin
 * runs again ahead of time; sy_ec_invalidate() (after a 401) makes the
 * next use wait for a new run. A failed run (exit code or signal,
 * unparsable output, timeout) is logged with the first SY_EC_STDERR_MAX
 * bytes of stderr on one line and retried after a back-off; a
 * credential that has not expired yet stays in use meanwhile.
 *
 * sy_ec_parse() is the pure part: ExecCredential JSON in, credential
 * out, for tests and the fuzzer.
 *
 * Ownership: struct sy_ec owns its configuration strings, the current
 * credential, the pipes and the child; it borrows the loop (which must
 * outlive it or be detached by sy_ec_free first). sy_ec_free() kills a
 * running plugin, and accepts a zeroed struct.
 */
#ifndef KZ_SYNCER_EXECCRED_H
#define KZ_SYNCER_EXECCRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "syncer/loop.h"

#define SY_EC_API_V1 "client.authentication.k8s.io/v1"
#define SY_EC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

#define SY_EC_TIMEOUT_MS 60000		/* a run is killed after this */
#define SY_EC_STDOUT_MAX (1024u * 1024)	/* larger output is an error */
#define SY_EC_STDERR_MAX 1024		/* stderr kept for the log */
#define SY_EC_MARGIN_MAX_S 60		/* refresh at most this early */
#define SY_EC_BACKOFF_INITIAL_MS 1000	/* after a failed run, doubling */
#define SY_EC_BACKOFF_MAX_MS 30000
#define SY_EC_REAP_POLL_MS 20		/* pipes closed, child not yet gone */

/* A credential from an ExecCredential's status. */
struct sy_ec_cred {
	char *token;		/* or NULL */
	char *cert, *key;	/* PEM, both or neither */
	size_t cert_len, key_len;
	int64_t expiry;		/* Unix seconds; 0: does not expire */
};

void sy_ec_cred_free(struct sy_ec_cred *c);

/*
 * Parse the plugin's output DATA (LEN bytes, not NUL-terminated) as an
 * ExecCredential of API_VERSION. Fills OUT (caller frees with
 * sy_ec_cred_free) and returns 0, or KZ_EPARSE / KZ_ENOMEM with a
 * message in ERR (OUT then holds nothing). Pure: no clock, no I/O.
 */
int sy_ec_parse(const char *data, size_t len, const char *api_version,
    struct sy_ec_cred *out, char *err, size_t errsz);

/*
 * Parse an RFC 3339 time ("2026-12-03T15:04:05Z", fractions and
 * +hh:mm offsets allowed) into Unix seconds. 0 or KZ_EPARSE.
 */
int sy_ec_parse_time(const char *s, int64_t *out);

/*
 * When a credential received at RECEIVED_MS (Unix time in ms) should be
 * replaced, in Unix ms: its expiry minus a fifth of its lifetime, at
 * most SY_EC_MARGIN_MAX_S; INT64_MAX for one that does not expire.
 */
int64_t sy_ec_refresh_at(const struct sy_ec_cred *c, int64_t received_ms);

/* The plugin, from the kubeconfig's users[].user.exec. */
struct sy_ec_cfg {
	char *command;		/* resolved: absolute, or a name for PATH */
	char **argv;		/* command, args..., NULL */
	size_t argc;
	char **env;		/* "NAME=VALUE" added, NULL-terminated */
	size_t nenv;
	char *api_version;	/* SY_EC_API_V1 or SY_EC_API_V1BETA1 */
	char *exec_info;	/* KUBERNETES_EXEC_INFO=... */
	char *install_hint;	/* or NULL */
};

enum sy_ec_state {
	SY_EC_IDLE = 0,
	SY_EC_RUNNING
};

struct sy_ec {
	struct sy_ec_cfg cfg;
	struct sy_loop *loop;	/* borrowed; NULL: cannot run yet */

	enum sy_ec_state state;
	pid_t pid;
	int out_fd, err_fd;	/* -1 when closed */
	struct kz_buf out;	/* stdout, at most SY_EC_STDOUT_MAX */
	char errtext[SY_EC_STDERR_MAX + 1];
	size_t errlen;
	bool out_too_big;
	uint64_t started_ms, deadline_ms;
	uint64_t timeout_ms;	/* 0: SY_EC_TIMEOUT_MS (tests set less) */
	struct sy_timer timer;	/* timeout, reaping, refresh, back-off */

	struct sy_ec_cred cred;
	bool have;		/* cred holds a credential */
	bool stale;		/* do not use it (401) */
	int64_t refresh_wall_ms;	/* Unix ms: run again from then */
	uint64_t cred_ms;	/* monotonic time it arrived */
	bool after_401;		/* it was fetched because of a 401 */
	uint64_t retry_ms;	/* after a failure: no run before this */
	uint64_t backoff_ms;	/* next back-off; 0: initial */
	bool failing;		/* the last run failed */
	char last_error[1536];
	unsigned long runs, failures;
};

/* Zero EC with its fds closed (-1). */
void sy_ec_init(struct sy_ec *ec);
/* Kill a running plugin, free everything EC owns. */
void sy_ec_free(struct sy_ec *ec);

/* Let EC run its plugin from loop L. */
void sy_ec_attach(struct sy_ec *ec, struct sy_loop *l);

/*
 * Whether a credential is usable now; when it is not (none yet, stale,
 * expiring), start a run unless one is running or the back-off holds.
 */
bool sy_ec_ready(struct sy_ec *ec, uint64_t now_ms);

/* The token to send, or NULL (none, or not ready). */
const char *sy_ec_token(const struct sy_ec *ec);

/*
 * A request started at STARTED_MS (monotonic) got a 401. Returns true
 * when it is worth retrying at once (the credential it used is
 * replaced, or is now fetched again), false when the plugin's fresh
 * credential was itself refused (then back off; it is fetched again).
 */
bool sy_ec_unauthorized(struct sy_ec *ec, uint64_t started_ms);

#endif
