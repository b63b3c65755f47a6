/*
 * nsd-conf/nsd.c -- supervising the NSD child process.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "nsd-conf/control.h"
#include "nsd-conf/nsd.h"

#define NC_LOG_LINE_MAX 4096
#define NC_PROBE_MS 20
#define NC_BACKOFF_MIN_MS 200
#define NC_BACKOFF_MAX_MS 30000
#define NC_STABLE_MS 30000	/* a run this long resets the backoff */

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *
nc_nsd_state_name(enum nc_nsd_state s)
{
	switch (s) {
	case NC_NSD_STOPPED:
		return "stopped";
	case NC_NSD_STARTING:
		return "starting";
	case NC_NSD_RUNNING:
		return "running";
	case NC_NSD_BACKOFF:
		return "backoff";
	case NC_NSD_FAILED:
		return "failed";
	}
	return "?";
}

/* --- finding the binary ----------------------------------------------- */

int
nc_nsd_parse_version(const char *text, int *major, int *minor, int *patch)
{
	const char *p = strstr(text, "NSD version ");

	if (p == NULL)
		return KZ_EPARSE;
	*patch = 0;
	if (sscanf(p + 12, "%d.%d.%d", major, minor, patch) < 2)
		return KZ_EPARSE;
	return KZ_OK;
}

static int
is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

static int
search_path(const char *name, char *out, size_t outsz)
{
	const char *path = getenv("PATH");
	const char *dirs[] = { "/usr/sbin", "/usr/local/sbin", NULL };

	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		if (n > 0 && (size_t)snprintf(out, outsz, "%.*s/%s", (int)n,
		    path, name) < outsz && is_executable(out))
			return KZ_OK;
		path = colon ? colon + 1 : NULL;
	}
	for (int i = 0; dirs[i]; i++)
		if ((size_t)snprintf(out, outsz, "%s/%s", dirs[i], name) <
		    outsz && is_executable(out))
			return KZ_OK;
	return KZ_ENOTFOUND;
}

/* Run "BIN -v" and collect what it prints into OUT. */
static int
run_version(const char *bin, char *out, size_t outsz)
{
	int pfd[2], status;
	size_t len = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execl(bin, "nsd", "-v", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t r;

		if (len + 1 >= outsz)
			break;
		r = read(pfd[0], out + len, outsz - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return KZ_ECHILD;
	return KZ_OK;
}

int
nc_nsd_find(const char *want, char *out, size_t outsz, char *err,
    size_t errsz)
{
	char text[1024];
	int major, minor, patch;

	if (want && *want) {
		if (strchr(want, '/') == NULL) {
			if (search_path(want, out, outsz)) {
				snprintf(err, errsz, "NSD binary '%s' not "
				    "found on PATH (install the nsd package or "
				    "give --nsd PATH)", want);
				return KZ_ENOTFOUND;
			}
		} else if (!is_executable(want)) {
			snprintf(err, errsz, "NSD binary %s is missing or not "
			    "executable (install the nsd package or give "
			    "--nsd PATH)", want);
			return KZ_ENOTFOUND;
		} else {
			snprintf(out, outsz, "%s", want);
		}
	} else if (search_path("nsd", out, outsz)) {
		snprintf(err, errsz, "NSD not found on PATH nor in /usr/sbin "
		    "(install the nsd package, 4.5 or newer, or give --nsd "
		    "PATH)");
		return KZ_ENOTFOUND;
	}
	if (run_version(out, text, sizeof(text)) ||
	    nc_nsd_parse_version(text, &major, &minor, &patch)) {
		snprintf(err, errsz, "%s does not look like NSD ('-v' printed "
		    "no 'NSD version')", out);
		return KZ_ECHILD;
	}
	if (major < NC_NSD_MIN_MAJOR || (major == NC_NSD_MIN_MAJOR &&
	    minor < NC_NSD_MIN_MINOR)) {
		snprintf(err, errsz, "%s is NSD %d.%d.%d; kubezone needs NSD "
		    "%d.%d or newer (IXFR-out)", out, major, minor, patch,
		    NC_NSD_MIN_MAJOR, NC_NSD_MIN_MINOR);
		return KZ_ECHILD;
	}
	kz_debug("found nsd", "path=%s version=%d.%d.%d", out, major, minor,
	    patch);
	return KZ_OK;
}

/* --- stale processes -------------------------------------------------- */

/* Whether PID runs nsd with CONF: argv[0] is nsd and CONF is an argument. */
/* Read /proc/PID/FILE into BUF (NUL-terminated); the length, or <= 0. */
static ssize_t
read_proc(pid_t pid, const char *file, char *buf, size_t bufsz)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static int
is_our_nsd(pid_t pid, const char *conf)
{
	char buf[4096];
	ssize_t n = read_proc(pid, "cmdline", buf, sizeof(buf));
	int found = 0;
	const char *arg0, *base;

	if (n <= 0)
		return 0;
	arg0 = buf;
	base = strrchr(arg0, '/');
	base = base ? base + 1 : arg0;
	if (strncmp(base, "nsd", 3) != 0 || strncmp(base, "nsd-", 4) == 0)
		return 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, conf) == 0)
			found = 1;
	return found;
}

static pid_t
pgid_of(pid_t pid)
{
	pid_t g = getpgid(pid);

	return g > 0 ? g : 0;
}

/* Reap whatever children exited (we are a subreaper). */
static void
reap_others(pid_t keep, int *keep_status, int *keep_exited)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, WNOHANG);

		if (p <= 0)
			break;
		if (p == keep && keep_exited) {
			*keep_exited = 1;
			*keep_status = status;
		}
	}
}

/* Whether any process of group PGID is alive (after reaping ours). */
static int
group_alive(pid_t pgid)
{
	if (pgid <= 1)
		return 0;
	reap_others(0, NULL, NULL);
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/*
 * Whether a live (not zombie) process of group PGID exists. A stale NSD
 * is not our child: its zombies wait for a parent we cannot stand in
 * for, so they must not count.
 */
static int
stale_group_alive(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int alive = 0;

	if (d == NULL)
		return kill(-pgid, 0) == 0;
	while (!alive && (e = readdir(d)) != NULL) {
		char path[300], buf[512], state;
		const char *rp;
		long grp;
		ssize_t n;
		int fd;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) S ppid pgrp ..."; comm may hold spaces. */
		rp = strrchr(buf, ')');
		if (rp && sscanf(rp + 1, " %c %*d %ld", &state, &grp) == 2 &&
		    grp == (long)pgid && state != 'Z' && state != 'X')
			alive = 1;
	}
	closedir(d);
	return alive;
}

/* Whether PID is alive and not a zombie. */
static int
stale_pid_alive(pid_t pid)
{
	char buf[512], state;
	const char *rp;

	if (read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	rp = strrchr(buf, ')');
	return rp && sscanf(rp + 1, " %c", &state) == 1 && state != 'Z' &&
	    state != 'X';
}

int
nc_nsd_kill_stale(const char *pidfile, const char *conf)
{
	char buf[32];
	long pid;
	pid_t pgid;
	ssize_t n;
	int fd;

	fd = open(pidfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	if (pid <= 1 || pid == getpid() || !is_our_nsd((pid_t)pid, conf))
		return 0;
	pgid = pgid_of((pid_t)pid);
	kz_warn("stopping a stale NSD left by an earlier run", "pid=%ld "
	    "pidfile=%s", pid, pidfile);
	/* Our NSD leads its own group: signal the whole group then. */
	if (pgid == (pid_t)pid)
		kill(-pgid, SIGTERM);
	else
		kill((pid_t)pid, SIGTERM);
	for (int i = 0; i < 250; i++) {
		if (pgid == (pid_t)pid ? !stale_group_alive(pgid) :
		    !stale_pid_alive((pid_t)pid))
			return 1;
		sleep_ms(20);
	}
	kz_warn("stale NSD ignored SIGTERM, killing it", "pid=%ld", pid);
	if (pgid == (pid_t)pid)
		kill(-pgid, SIGKILL);
	else
		kill((pid_t)pid, SIGKILL);
	for (int i = 0; i < 100; i++) {
		if (pgid == (pid_t)pid ? !stale_group_alive(pgid) :
		    !stale_pid_alive((pid_t)pid))
			return 1;
		sleep_ms(20);
	}
	return -ETIMEDOUT;
}

/* --- lifecycle -------------------------------------------------------- */

int
nc_nsd_init(struct nc_nsd *n, const char *bin, const char *conf,
    const char *ctl, const char *pidfile)
{
	int pfd[2];

	memset(n, 0, sizeof(*n));
	n->logfd = n->logw = -1;
	kz_buf_init(&n->logbuf, NC_LOG_LINE_MAX);
	snprintf(n->bin, sizeof(n->bin), "%s", bin);
	snprintf(n->conf, sizeof(n->conf), "%s", conf);
	snprintf(n->ctl, sizeof(n->ctl), "%s", ctl);
	snprintf(n->pidfile, sizeof(n->pidfile), "%s", pidfile);
	n->backoff_ms = NC_BACKOFF_MIN_MS;
	/* One pipe for every child: the read end stays in the event loop. */
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	n->logfd = pfd[0];
	n->logw = pfd[1];
	/* NSD's main and server processes are reparented here if its
	 * launched process dies first, so they can be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return KZ_OK;
}

void
nc_nsd_free(struct nc_nsd *n)
{
	if (n->pid > 0 || n->pgid > 0)
		nc_nsd_stop(n, 5000);
	if (n->logfd >= 0)
		close(n->logfd);
	if (n->logw >= 0)
		close(n->logw);
	n->logfd = n->logw = -1;
	kz_buf_free(&n->logbuf);
}

/* In the grandchild: become NSD. */
static void __attribute__((noreturn))
exec_nsd(const struct nc_nsd *n)
{
	sigset_t none;

	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execl(n->bin, "nsd", "-d", "-c", n->conf, (char *)NULL);
	dprintf(2, "error: cannot run %s: %s\n", n->bin, strerror(errno));
	_exit(127);
}

/*
 * The child kubezone launches stays as a small guard between kubezone
 * and NSD: it keeps the parent-death signal, which NSD itself loses the
 * moment it drops root for its own user (the kernel clears it on a
 * change of credentials). It passes SIGTERM, SIGINT and SIGHUP on to
 * NSD and exits with NSD's status (or dies of NSD's signal) once NSD is
 * gone, so kubezone sees NSD's exit as the guard's.
 */
static void __attribute__((noreturn))
guard(pid_t nsd, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int st;

		if (sigwaitinfo(set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(nsd, SIGTERM);
			continue;
		}
		if (waitpid(nsd, &st, WNOHANG) != nsd)
			continue;
		if (WIFSIGNALED(st)) {
			/* Die of the same signal, for kubezone's log. */
			sigset_t none;

			signal(WTERMSIG(st), SIG_DFL);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			kill(getpid(), WTERMSIG(st));
		}
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
}

/* In the child: the guard, with NSD below it. */
static void __attribute__((noreturn))
run_child(const struct nc_nsd *n, pid_t parent)
{
	sigset_t set;
	pid_t nsd;
	int devnull;

	setpgid(0, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Die with kubezone, even when it is SIGKILLed. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(n->logw, 1);
	dup2(n->logw, 2);
	closefrom(3);
	nsd = fork();
	if (nsd < 0)
		_exit(1);
	if (nsd == 0)
		exec_nsd(n);
	guard(nsd, &set);
}

int
nc_nsd_start(struct nc_nsd *n)
{
	pid_t parent = getpid(), pid;

	if (n->pid > 0)
		return -EBUSY;
	n->last_error[0] = '\0';
	/* xfrd's saved state may name a serial newer than the zone file
	 * NSD is about to load (the file is written a few seconds behind):
	 * xfrd would then ask the feed for IXFR from that serial and keep
	 * the older data. Without it, xfrd asks from the file's serial. */
	if (n->xfrdfile[0])
		unlink(n->xfrdfile);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		run_child(n, parent);
	setpgid(pid, pid);	/* no race with the child's own call */
	n->pid = pid;
	n->pgid = pid;
	n->state = NC_NSD_STARTING;
	n->started_ms = kz_now_ms();
	n->next_ms = n->started_ms + NC_PROBE_MS;
	kz_info("nsd started", "pid=%d conf=%s", (int)pid, n->conf);
	return KZ_OK;
}

/* Map an NSD log line "[ts] nsd[pid]: level: text" to our log. */
static void
forward_line(struct nc_nsd *n, char *line)
{
	enum kz_log_level lvl = KZ_LOG_INFO;
	const char *text = line;
	char *p;
	int pid = 0;

	if (line[0] == '\0')
		return;
	if (line[0] == '[' && (p = strstr(line, "] nsd[")) != NULL) {
		long v = strtol(p + 6, NULL, 10);

		pid = v > 0 && v < INT_MAX ? (int)v : 0;
		p = strstr(p, "]: ");
		if (p)
			text = p + 3;
	}
	if (strncmp(text, "error: ", 7) == 0) {
		lvl = KZ_LOG_ERROR;
		text += 7;
	} else if (strncmp(text, "warning: ", 9) == 0) {
		lvl = KZ_LOG_WARN;
		text += 9;
	} else if (strncmp(text, "notice: ", 8) == 0) {
		text += 8;
	} else if (strncmp(text, "info: ", 6) == 0) {
		text += 6;
	} else if (strncmp(text, "debug: ", 7) == 0) {
		lvl = KZ_LOG_DEBUG;
		text += 7;
	} else if (strstr(text, "error")) {
		lvl = KZ_LOG_ERROR;
	}
	/* The first error since the start names the cause ("can't bind
	 * udp socket ...: Address already in use"); later ones repeat it. */
	if (lvl == KZ_LOG_ERROR && n->last_error[0] == '\0')
		snprintf(n->last_error, sizeof(n->last_error), "%s", text);
	kz_log(lvl, text, "source=nsd pid=%d", pid ? pid : (int)n->pid);
}

void
nc_nsd_read_log(struct nc_nsd *n)
{
	char chunk[4096];

	if (n->logfd < 0)
		return;
	for (;;) {
		ssize_t r = read(n->logfd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (chunk[i] == '\n') {
				forward_line(n, n->logbuf.data ?
				    n->logbuf.data : (char *)"");
				kz_buf_reset(&n->logbuf);
			} else if (kz_buf_putc(&n->logbuf, chunk[i])) {
				/* An overlong line: forward what we have. */
				forward_line(n, n->logbuf.data);
				kz_buf_reset(&n->logbuf);
				kz_buf_putc(&n->logbuf, chunk[i]);
			}
		}
	}
}

static void
describe_status(int status, char *out, size_t outsz)
{
	if (WIFEXITED(status))
		snprintf(out, outsz, "exit=%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, outsz, "signal=%s",
		    sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?");
	else
		snprintf(out, outsz, "status=%d", status);
}

void
nc_nsd_reap(struct nc_nsd *n)
{
	int status = 0, exited = 0;
	uint64_t now, ran;
	char how[64];

	reap_others(n->pid, &status, &exited);
	if (!exited || n->pid <= 0)
		return;
	nc_nsd_read_log(n);
	now = kz_now_ms();
	ran = now - n->started_ms;
	describe_status(status, how, sizeof(how));
	n->pid = 0;
	/* Whatever is left of the old NSD (main, servers) goes too. */
	if (n->pgid > 0)
		kill(-n->pgid, SIGTERM);
	if (!n->ever_ready) {
		n->state = NC_NSD_FAILED;
		n->next_ms = 0;
		kz_error("nsd exited before it could serve", "%s ran_ms=%llu "
		    "error=\"%s\"", how, (unsigned long long)ran,
		    n->last_error);
		return;
	}
	if (ran >= NC_STABLE_MS)
		n->backoff_ms = NC_BACKOFF_MIN_MS;
	n->state = NC_NSD_BACKOFF;
	n->next_ms = now + n->backoff_ms;
	kz_error("nsd exited, restarting", "%s ran_ms=%llu restart_in_ms=%llu",
	    how, (unsigned long long)ran, (unsigned long long)n->backoff_ms);
	n->backoff_ms *= 2;
	if (n->backoff_ms > NC_BACKOFF_MAX_MS)
		n->backoff_ms = NC_BACKOFF_MAX_MS;
}

void
nc_nsd_tick(struct nc_nsd *n)
{
	uint64_t now = kz_now_ms();
	struct kz_buf reply;
	int rc;

	if (n->next_ms == 0 || now < n->next_ms)
		return;
	switch (n->state) {
	case NC_NSD_STARTING:
		kz_buf_init(&reply, 4096);
		rc = nc_control_cmd(n->ctl, "status", &reply, 1000);
		kz_buf_free(&reply);
		if (rc) {
			n->next_ms = now + NC_PROBE_MS;
			break;
		}
		n->state = NC_NSD_RUNNING;
		n->next_ms = 0;
		n->ever_ready = true;
		kz_info("nsd ready", "pid=%d start_ms=%llu", (int)n->pid,
		    (unsigned long long)(now - n->started_ms));
		if (n->on_ready)
			n->on_ready(n->ctx, n);
		break;
	case NC_NSD_BACKOFF:
		/* The old generation must be gone, or the ports are busy. */
		if (group_alive(n->pgid)) {
			kill(-n->pgid, SIGKILL);
			n->next_ms = now + NC_PROBE_MS;
			break;
		}
		n->pgid = 0;
		n->restarts++;
		rc = nc_nsd_start(n);
		if (rc) {
			kz_error("cannot restart nsd", "error=\"%s\"",
			    kz_strerror(rc));
			n->state = NC_NSD_BACKOFF;
			n->next_ms = now + n->backoff_ms;
		}
		break;
	default:
		n->next_ms = 0;
		break;
	}
}

uint64_t
nc_nsd_deadline(const struct nc_nsd *n)
{
	return n->next_ms;
}

int
nc_nsd_stop(struct nc_nsd *n, unsigned timeout_ms)
{
	uint64_t deadline = kz_now_ms() + timeout_ms;
	pid_t pgid = n->pgid;
	int status;

	if (pgid <= 0) {
		n->state = NC_NSD_STOPPED;
		return KZ_OK;
	}
	kill(-pgid, SIGTERM);
	while (group_alive(pgid) && kz_now_ms() < deadline) {
		nc_nsd_read_log(n);
		sleep_ms(10);
	}
	if (group_alive(pgid)) {
		kz_warn("nsd did not stop on SIGTERM, killing it", "pid=%d",
		    (int)n->pid);
		kill(-pgid, SIGKILL);
		for (int i = 0; i < 200 && group_alive(pgid); i++)
			sleep_ms(10);
	}
	if (n->pid > 0)
		waitpid(n->pid, &status, WNOHANG);
	nc_nsd_read_log(n);
	if (n->pid > 0)
		kz_info("nsd stopped", "pid=%d", (int)n->pid);
	n->pid = 0;
	n->pgid = 0;
	n->next_ms = 0;
	n->state = NC_NSD_STOPPED;
	return group_alive(pgid) ? -ETIMEDOUT : KZ_OK;
}
