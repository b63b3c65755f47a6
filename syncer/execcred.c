/*
 * syncer/execcred.c -- run exec credential plugins without blocking the
 * loop, parse their ExecCredential, keep the credential until it expires.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "syncer/execcred.h"

extern char **environ;

/* --- the credential ------------------------------------------------ */

void
sy_ec_cred_free(struct sy_ec_cred *c)
{
	free(c->token);
	free(c->cert);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

/* DIGITS decimal digits at *P into *OUT; advances *P. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return KZ_EPARSE;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return KZ_OK;
}

static int
expect(const char **p, const char *set)
{
	if (**p == '\0' || strchr(set, **p) == NULL)
		return KZ_EPARSE;
	(*p)++;
	return KZ_OK;
}

int
sy_ec_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	struct tm tm;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;
	time_t t;

	if (digits(&p, 4, &y) || expect(&p, "-") || digits(&p, 2, &mo) ||
	    expect(&p, "-") || digits(&p, 2, &d) || expect(&p, "Tt ") ||
	    digits(&p, 2, &h) || expect(&p, ":") || digits(&p, 2, &mi) ||
	    expect(&p, ":") || digits(&p, 2, &sec))
		return KZ_EPARSE;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return KZ_EPARSE;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(&p, 2, &oh) || expect(&p, ":") ||
		    digits(&p, 2, &om) || oh > 23 || om > 59)
			return KZ_EPARSE;
	} else {
		return KZ_EPARSE;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return KZ_EPARSE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return KZ_OK;
}

int64_t
sy_ec_refresh_at(const struct sy_ec_cred *c, int64_t received_ms)
{
	int64_t margin, exp_ms;

	if (c->expiry == 0)
		return INT64_MAX;
	exp_ms = c->expiry * 1000;
	margin = exp_ms > received_ms ? (exp_ms - received_ms) / 5 : 0;
	if (margin > SY_EC_MARGIN_MAX_S * 1000)
		margin = SY_EC_MARGIN_MAX_S * 1000;
	return exp_ms - margin;
}

/* A copy of the string member KEY of OBJ in *OUT (NULL when absent). */
static int
opt_string(json_t *obj, const char *key, char **out, size_t *len,
    char *err, size_t errsz)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return KZ_OK;
	if (!json_is_string(v)) {
		snprintf(err, errsz, "ExecCredential: status.%s is not a "
		    "string", key);
		return KZ_EPARSE;
	}
	if (json_string_length(v) == 0)
		return KZ_OK;
	*out = strndup(json_string_value(v), json_string_length(v));
	if (*out == NULL)
		return KZ_ENOMEM;
	if (len)	/* up to an embedded NUL, as strndup copied */
		*len = strlen(*out);
	return KZ_OK;
}

static int
check_type(json_t *root, const char *api_version, char *err, size_t errsz)
{
	const char *av = json_string_value(json_object_get(root, "apiVersion"));
	const char *kind = json_string_value(json_object_get(root, "kind"));

	if (kind == NULL || strcmp(kind, "ExecCredential") != 0) {
		snprintf(err, errsz, "ExecCredential: kind is %s%.64s%s, not "
		    "ExecCredential", kind ? "\"" : "", kind ? kind : "missing",
		    kind ? "\"" : "");
		return KZ_EPARSE;
	}
	if (av == NULL || strcmp(av, api_version) != 0) {
		snprintf(err, errsz, "ExecCredential: apiVersion is %s%.64s%s, "
		    "the kubeconfig asks for %s", av ? "\"" : "",
		    av ? av : "missing", av ? "\"" : "", api_version);
		return KZ_EPARSE;
	}
	return KZ_OK;
}

static int
parse_status(json_t *st, struct sy_ec_cred *c, char *err, size_t errsz)
{
	json_t *exp = json_object_get(st, "expirationTimestamp");
	int rc;

	if ((rc = opt_string(st, "token", &c->token, NULL, err, errsz)) ||
	    (rc = opt_string(st, "clientCertificateData", &c->cert,
	    &c->cert_len, err, errsz)) ||
	    (rc = opt_string(st, "clientKeyData", &c->key, &c->key_len, err,
	    errsz)))
		return rc;
	if ((c->cert == NULL) != (c->key == NULL)) {
		snprintf(err, errsz, "ExecCredential: status has %s without "
		    "%s", c->cert ? "clientCertificateData" : "clientKeyData",
		    c->cert ? "clientKeyData" : "clientCertificateData");
		return KZ_EPARSE;
	}
	if (c->token == NULL && c->cert == NULL) {
		snprintf(err, errsz, "ExecCredential: status has neither a "
		    "token nor clientCertificateData and clientKeyData");
		return KZ_EPARSE;
	}
	if (c->cert && (strstr(c->cert, "-----BEGIN ") == NULL ||
	    strstr(c->key, "-----BEGIN ") == NULL)) {
		snprintf(err, errsz, "ExecCredential: clientCertificateData "
		    "and clientKeyData must be PEM");
		return KZ_EPARSE;
	}
	if (c->token && strpbrk(c->token, "\r\n") != NULL) {
		snprintf(err, errsz, "ExecCredential: status.token holds a "
		    "line break");
		return KZ_EPARSE;
	}
	if (exp && !json_is_null(exp) && (!json_is_string(exp) ||
	    sy_ec_parse_time(json_string_value(exp), &c->expiry) != 0)) {
		snprintf(err, errsz, "ExecCredential: status."
		    "expirationTimestamp is not an RFC 3339 time");
		return KZ_EPARSE;
	}
	if (exp && c->expiry == 0)
		c->expiry = 1;	/* 1970 exactly: expired, not "never" */
	return KZ_OK;
}

int
sy_ec_parse(const char *data, size_t len, const char *api_version,
    struct sy_ec_cred *out, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root, *st;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&jerr, 0, sizeof(jerr));
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		/* out of memory: jansson mostly leaves the text empty */
		if (jerr.text[0] == '\0' ||
		    json_error_code(&jerr) == json_error_out_of_memory) {
			snprintf(err, errsz, "out of memory");
			return KZ_ENOMEM;
		}
		snprintf(err, errsz, "ExecCredential: not JSON (line %d: %s)",
		    jerr.line, jerr.text);
		return KZ_EPARSE;
	}
	if (!json_is_object(root)) {
		snprintf(err, errsz, "ExecCredential: not a JSON object");
		rc = KZ_EPARSE;
		goto fail;
	}
	if ((rc = check_type(root, api_version, err, errsz)) != 0)
		goto fail;
	st = json_object_get(root, "status");
	if (!json_is_object(st)) {
		snprintf(err, errsz, "ExecCredential: no status object");
		rc = KZ_EPARSE;
		goto fail;
	}
	if ((rc = parse_status(st, out, err, errsz)) != 0)
		goto fail;
	json_decref(root);
	return KZ_OK;
fail:
	if (rc == KZ_ENOMEM)
		snprintf(err, errsz, "out of memory");
	sy_ec_cred_free(out);
	json_decref(root);
	return rc;
}

/* --- life cycle ---------------------------------------------------- */

static void ec_timer(struct sy_loop *l, void *ctx);

void
sy_ec_init(struct sy_ec *ec)
{
	memset(ec, 0, sizeof(*ec));
	ec->out_fd = ec->err_fd = -1;
	kz_buf_init(&ec->out, SY_EC_STDOUT_MAX);
	sy_timer_init(&ec->timer, ec_timer, ec);
}

static void
free_strv(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static void
close_pipe(struct sy_ec *ec, int *fd)
{
	if (*fd < 0)
		return;
	if (ec->loop)
		sy_loop_del_fd(ec->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Kill the running plugin's group and reap it (a SIGKILL is quick). */
static int
kill_child(struct sy_ec *ec)
{
	int status = 0;

	if (ec->pid <= 0)
		return 0;
	kill(-ec->pid, SIGKILL);
	kill(ec->pid, SIGKILL);
	while (waitpid(ec->pid, &status, __WALL) < 0 && errno == EINTR)
		;
	ec->pid = 0;
	return status;
}

void
sy_ec_free(struct sy_ec *ec)
{
	kill_child(ec);
	close_pipe(ec, &ec->out_fd);
	close_pipe(ec, &ec->err_fd);
	if (ec->loop)
		sy_timer_cancel(ec->loop, &ec->timer);
	kz_buf_free(&ec->out);
	sy_ec_cred_free(&ec->cred);
	free(ec->cfg.command);
	free_strv(ec->cfg.argv);
	free_strv(ec->cfg.env);
	free(ec->cfg.api_version);
	free(ec->cfg.exec_info);
	free(ec->cfg.install_hint);
	memset(&ec->cfg, 0, sizeof(ec->cfg));
	ec->state = SY_EC_IDLE;
	ec->have = false;
	ec->loop = NULL;
}

void
sy_ec_attach(struct sy_ec *ec, struct sy_loop *l)
{
	ec->loop = l;
}

/* --- running the plugin -------------------------------------------- */

/* The environment: ours without the names the plugin sets, then those. */
static char **
build_env(const struct sy_ec_cfg *cfg)
{
	size_t n = 0, o = 0;
	char **env;

	for (char **e = environ; e && *e; e++)
		n++;
	env = calloc(n + cfg->nenv + 2, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (char **e = environ; e && *e; e++) {
		size_t klen = strcspn(*e, "=");
		bool shadowed = strncmp(*e, "KUBERNETES_EXEC_INFO=", 21) == 0;

		for (size_t i = 0; i < cfg->nenv && !shadowed; i++)
			shadowed = strncmp(cfg->env[i], *e, klen + 1) == 0;
		if (!shadowed)
			env[o++] = *e;
	}
	for (size_t i = 0; i < cfg->nenv; i++)
		env[o++] = cfg->env[i];
	env[o++] = cfg->exec_info;
	env[o] = NULL;
	return env;
}

/*
 * The plugin's executable: COMMAND itself when it holds a "/", else the
 * first executable regular file of that name in our PATH (as kubectl).
 * A copy, or NULL with errno set.
 */
static char *
find_command(const char *command)
{
	const char *path = getenv("PATH"), *p;
	struct stat st;
	char *full;

	if (strchr(command, '/'))
		return strdup(command);
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; ) {
		size_t n = strcspn(p, ":");

		if (asprintf(&full, "%.*s/%s", (int)n, n ? p : ".",
		    command) < 0)
			return NULL;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return full;
		free(full);
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	errno = ENOENT;
	return NULL;
}

/* What the guard needs (its own copy: it does not share our memory). */
struct child_args {
	const char *path;
	char *const *argv, *const *envp;
	int out_w, err_w;
};

/* Exit as the plugin did: the same code, or the same signal. */
static void __attribute__((noreturn))
exit_like(int st)
{
	if (WIFSIGNALED(st)) {
		sigset_t none;

		signal(WTERMSIG(st), SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		raise(WTERMSIG(st));
		_exit(128 + WTERMSIG(st));
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
}

/* Write S to stderr (the plugin's stderr pipe); no allocation. */
static void
say(const char *s)
{
	ssize_t n = write(2, s, strlen(s));

	(void)n;
}

/*
 * The guard between kubezone and the plugin. kubezone reaps children it
 * does not know with waitpid(-1) (NSD's leftovers, nsd-conf), which would
 * take the plugin's exit status; the guard is started without an exit
 * signal and never execs, so only our waitpid(__WALL) sees it. It heads
 * its own process group, gives the plugin stdin /dev/null and our pipes,
 * default signal dispositions and an empty signal mask (the daemon
 * blocks the signals it reads through signalfd), waits for it and exits
 * the way it did. A copy of a process that may have other threads (curl's
 * resolver): only system calls and functions that do not allocate here.
 */
static int
guard_main(void *p)
{
	const struct child_args *a = p;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int fd, st, rc;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(a->out_w, 1) < 0 ||
	    dup2(a->err_w, 2) < 0)
		_exit(127);
	closefrom(3);
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_init(&attr) != 0)
		_exit(127);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	rc = posix_spawn(&pid, a->path, NULL, &attr, a->argv, a->envp);
	if (rc != 0) {
		const char *why = strerrordesc_np(rc);

		say("cannot run ");
		say(a->path);
		say(": ");
		say(why ? why : "error");
		_exit(127);
	}
	/* Only the plugin holds the pipes now: EOF when it is done. */
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	exit_like(st);
}

/* Start the guard (a copy of us, like fork, but with no exit signal). */
static pid_t
start_child(struct child_args *a)
{
	enum { STACK = 256 * 1024 };
	char *stack = malloc(STACK);
	pid_t pid;

	if (stack == NULL) {
		errno = ENOMEM;
		return -1;
	}
	pid = clone(guard_main, stack + STACK, 0, a);
	free(stack);
	return pid;
}

static void on_pipe(struct sy_loop *l, int fd, short revents, void *ctx);

/* Start the plugin. 0, or an error with a message in ERR. */
static int
spawn_plugin(struct sy_ec *ec, char *err, size_t errsz)
{
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc;
	char **env = build_env(&ec->cfg), *path = NULL;
	struct child_args a;

	if (env == NULL)
		return KZ_ENOMEM;
	if ((path = find_command(ec->cfg.command)) == NULL) {
		rc = -errno;
		snprintf(err, errsz, "cannot run %s: %s", ec->cfg.command,
		    errno == ENOENT ? "not found in PATH" : strerror(errno));
		goto fail_pipes;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		goto fail_pipes;
	}
	memset(&a, 0, sizeof(a));
	a.path = path;
	a.argv = ec->cfg.argv;
	a.envp = env;
	a.out_w = out[1];
	a.err_w = errp[1];
	ec->pid = start_child(&a);
	if (ec->pid < 0) {
		rc = -errno;
		snprintf(err, errsz, "cannot start %s: %s", path,
		    strerror(errno));
		ec->pid = 0;
		goto fail_pipes;
	}
	close(out[1]);
	close(errp[1]);
	free(env);
	free(path);
	ec->out_fd = out[0];
	ec->err_fd = errp[0];
	fcntl(ec->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(ec->err_fd, F_SETFL, O_NONBLOCK);
	if ((rc = sy_loop_add_fd(ec->loop, ec->out_fd, POLLIN, on_pipe,
	    ec)) != 0 || (rc = sy_loop_add_fd(ec->loop, ec->err_fd, POLLIN,
	    on_pipe, ec)) != 0) {
		snprintf(err, errsz, "cannot watch the plugin's pipes: %s",
		    kz_strerror(rc));
		kill_child(ec);
		close_pipe(ec, &ec->out_fd);
		close_pipe(ec, &ec->err_fd);
		return rc;
	}
	return KZ_OK;
fail_pipes:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(env);
	free(path);
	return rc;
}

/* Stderr as one line (line breaks and tabs become spaces), for the log. */
static const char *
stderr_line(struct sy_ec *ec, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < ec->errlen && o + 1 < outsz; i++) {
		char c = ec->errtext[i];

		out[o++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return out;
}

/* The command, quoted for a log line (one buffer: one use per line). */
static const char *
cmd_q(const struct sy_ec *ec)
{
	static char q[600];

	return kz_log_quote(q, sizeof(q), ec->cfg.command);
}

static void
run_failed(struct sy_ec *ec, const char *what, uint64_t now_ms)
{
	char line[SY_EC_STDERR_MAX + 1], q[2 * SY_EC_STDERR_MAX + 16];
	uint64_t d = ec->backoff_ms ? ec->backoff_ms :
	    SY_EC_BACKOFF_INITIAL_MS;

	ec->failures++;
	ec->failing = true;
	ec->retry_ms = now_ms + d;
	ec->backoff_ms = d * 2 > SY_EC_BACKOFF_MAX_MS ? SY_EC_BACKOFF_MAX_MS :
	    d * 2;
	stderr_line(ec, line, sizeof(line));
	snprintf(ec->last_error, sizeof(ec->last_error), "%s%s%s", what,
	    *line ? "; stderr: " : "", line);
	kz_warn("credential plugin failed", "command=%s %s stderr=%s "
	    "retry_ms=%" PRIu64, cmd_q(ec), what,
	    kz_log_quote(q, sizeof(q), line), d);
	if (ec->cfg.install_hint && strstr(what, "cannot run"))
		kz_info("credential plugin install hint", "hint=%s",
		    kz_log_quote(q, sizeof(q), ec->cfg.install_hint));
	if (ec->loop)
		sy_timer_at(ec->loop, &ec->timer, ec->retry_ms);
}

/* The wall clock in ms (expiry times are wall-clock times). */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wake up at the refresh time (the two clocks differ: a little after). */
static void
arm_refresh(struct sy_ec *ec, uint64_t now_ms)
{
	int64_t d = ec->refresh_wall_ms - wall_ms();

	if (ec->loop && ec->refresh_wall_ms != INT64_MAX)
		sy_timer_at(ec->loop, &ec->timer, now_ms + (uint64_t)(d > 0 ?
		    d + 1 : 0));
}

static void
run_succeeded(struct sy_ec *ec, struct sy_ec_cred *c, uint64_t now_ms)
{
	int64_t now_s = (int64_t)time(NULL);

	sy_ec_cred_free(&ec->cred);
	ec->cred = *c;
	memset(c, 0, sizeof(*c));
	ec->have = true;
	ec->after_401 = ec->stale;
	ec->stale = false;
	ec->cred_ms = now_ms;
	ec->refresh_wall_ms = sy_ec_refresh_at(&ec->cred, wall_ms());
	ec->failing = false;
	ec->backoff_ms = 0;
	ec->retry_ms = 0;
	ec->last_error[0] = '\0';
	kz_info("credential plugin gave a credential", "command=%s type=%s "
	    "expires_in_s=%" PRId64, cmd_q(ec),
	    ec->cred.token ? (ec->cred.cert ? "token+certificate" : "token") :
	    "certificate", ec->cred.expiry ? ec->cred.expiry - now_s : -1);
	arm_refresh(ec, now_ms);
}

/* The plugin exited with STATUS (or vanished: KNOWN false). */
static void
finish(struct sy_ec *ec, int status, bool known, uint64_t now_ms)
{
	char what[640], perr[512];
	struct sy_ec_cred c;
	int rc;

	ec->state = SY_EC_IDLE;
	ec->pid = 0;
	close_pipe(ec, &ec->out_fd);
	close_pipe(ec, &ec->err_fd);
	if (ec->loop)
		sy_timer_cancel(ec->loop, &ec->timer);
	if (known && WIFSIGNALED(status)) {
		snprintf(what, sizeof(what), "signal=%s",
		    sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?");
		run_failed(ec, what, now_ms);
		return;
	}
	if (known && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(what, sizeof(what), "exit=%d", WEXITSTATUS(status));
		run_failed(ec, what, now_ms);
		return;
	}
	if (ec->out_too_big) {
		snprintf(what, sizeof(what), "exit=0 error=\"output over %u "
		    "bytes\"", SY_EC_STDOUT_MAX);
		run_failed(ec, what, now_ms);
		return;
	}
	perr[0] = '\0';
	rc = sy_ec_parse(ec->out.data ? ec->out.data : "", ec->out.len,
	    ec->cfg.api_version, &c, perr, sizeof(perr));
	kz_buf_reset(&ec->out);
	if (rc == 0 && c.expiry && c.expiry <= (int64_t)time(NULL)) {
		snprintf(perr, sizeof(perr), "ExecCredential: "
		    "expirationTimestamp is in the past");
		sy_ec_cred_free(&c);
		rc = KZ_EPARSE;
	}
	if (rc != 0) {
		char q[600];

		snprintf(what, sizeof(what), "exit=0 error=%s",
		    kz_log_quote(q, sizeof(q), perr));
		run_failed(ec, what, now_ms);
		return;
	}
	run_succeeded(ec, &c, now_ms);
}

/* Both pipes are closed: reap the child, or look again shortly. */
static void
try_reap(struct sy_ec *ec, uint64_t now_ms)
{
	int status = 0;
	pid_t p;

	if (ec->out_fd >= 0 || ec->err_fd >= 0)
		return;
	p = waitpid(ec->pid, &status, WNOHANG | __WALL);
	if (p == ec->pid) {
		finish(ec, status, true, now_ms);
		return;
	}
	if (p < 0 && errno != EINTR) {
		/* reaped by someone else: judge by the output alone */
		finish(ec, 0, false, now_ms);
		return;
	}
	sy_timer_at(ec->loop, &ec->timer, now_ms + SY_EC_REAP_POLL_MS <
	    ec->deadline_ms ? now_ms + SY_EC_REAP_POLL_MS : ec->deadline_ms);
}

static void
drain(struct sy_ec *ec, int *fd)
{
	char buf[8192];
	ssize_t n;

	for (;;) {
		n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			close_pipe(ec, fd);
			return;
		}
		if (fd == &ec->out_fd) {
			if (!ec->out_too_big &&
			    kz_buf_append(&ec->out, buf, (size_t)n) != 0)
				ec->out_too_big = true;
		} else if (ec->errlen < SY_EC_STDERR_MAX) {
			size_t k = (size_t)n;

			if (k > SY_EC_STDERR_MAX - ec->errlen)
				k = SY_EC_STDERR_MAX - ec->errlen;
			memcpy(ec->errtext + ec->errlen, buf, k);
			ec->errlen += k;
			ec->errtext[ec->errlen] = '\0';
		}
	}
}

static void
on_pipe(struct sy_loop *l, int fd, short revents, void *ctx)
{
	struct sy_ec *ec = ctx;

	(void)l, (void)revents;
	if (fd == ec->out_fd)
		drain(ec, &ec->out_fd);
	else if (fd == ec->err_fd)
		drain(ec, &ec->err_fd);
	try_reap(ec, kz_now_ms());
}

static void
timed_out(struct sy_ec *ec, uint64_t now_ms)
{
	char what[128];

	drain(ec, &ec->err_fd);
	snprintf(what, sizeof(what), "error=\"killed after %.3g s without "
	    "finishing\" pgid=%ld", (double)(ec->deadline_ms -
	    ec->started_ms) / 1000, (long)ec->pid);
	kill_child(ec);
	ec->state = SY_EC_IDLE;
	close_pipe(ec, &ec->out_fd);
	close_pipe(ec, &ec->err_fd);
	kz_buf_reset(&ec->out);
	run_failed(ec, what, now_ms);
}

/* Start a run. */
static void
start_run(struct sy_ec *ec, uint64_t now_ms)
{
	char err[512];
	int rc;

	kz_buf_reset(&ec->out);
	ec->out_too_big = false;
	ec->errlen = 0;
	ec->errtext[0] = '\0';
	ec->runs++;
	err[0] = '\0';
	rc = spawn_plugin(ec, err, sizeof(err));
	if (rc != 0) {
		char what[600], q[560];

		snprintf(what, sizeof(what), "error=%s", kz_log_quote(q,
		    sizeof(q), *err ? err : kz_strerror(rc)));
		run_failed(ec, what, now_ms);
		return;
	}
	ec->state = SY_EC_RUNNING;
	ec->started_ms = now_ms;
	ec->deadline_ms = now_ms + (ec->timeout_ms ? ec->timeout_ms :
	    SY_EC_TIMEOUT_MS);
	sy_timer_at(ec->loop, &ec->timer, ec->deadline_ms);
	kz_debug("credential plugin started", "command=%s pid=%ld",
	    cmd_q(ec), (long)ec->pid);
}

/* Usable now: present, not refused, not expiring. */
static bool
usable(const struct sy_ec *ec)
{
	return ec->have && !ec->stale && wall_ms() < ec->refresh_wall_ms;
}

/* Not expired yet (kept while a refresh is failing). */
static bool
still_valid(const struct sy_ec *ec)
{
	return ec->have && !ec->stale && (ec->cred.expiry == 0 ||
	    (int64_t)time(NULL) < ec->cred.expiry);
}

static void
maybe_start(struct sy_ec *ec, uint64_t now_ms)
{
	if (ec->loop == NULL || ec->state == SY_EC_RUNNING || usable(ec) ||
	    now_ms < ec->retry_ms)
		return;
	start_run(ec, now_ms);
}

static void
ec_timer(struct sy_loop *l, void *ctx)
{
	struct sy_ec *ec = ctx;
	uint64_t now = kz_now_ms();

	(void)l;
	if (ec->state == SY_EC_RUNNING) {
		if (now >= ec->deadline_ms)
			timed_out(ec, now);
		else
			try_reap(ec, now);
		return;
	}
	maybe_start(ec, now);	/* refresh ahead of expiry, or retry */
	if (ec->state == SY_EC_IDLE && usable(ec))
		arm_refresh(ec, now);	/* woke a little early */
}

bool
sy_ec_ready(struct sy_ec *ec, uint64_t now_ms)
{
	maybe_start(ec, now_ms);
	return usable(ec) || still_valid(ec);
}

const char *
sy_ec_token(const struct sy_ec *ec)
{
	return still_valid(ec) ? ec->cred.token : NULL;
}

bool
sy_ec_unauthorized(struct sy_ec *ec, uint64_t started_ms)
{
	if (ec->have && started_ms < ec->cred_ms)
		return true;		/* a newer credential is there */
	if (ec->stale || ec->state == SY_EC_RUNNING)
		return true;		/* a new one is on its way */
	ec->stale = true;
	if (ec->have && ec->after_401) {
		kz_warn("the credential plugin's new credential was refused "
		    "too (401)", "command=%s", cmd_q(ec));
		return false;
	}
	kz_info("API answered 401: running the credential plugin again",
	    "command=%s", cmd_q(ec));
	return true;
}
