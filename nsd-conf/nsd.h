/*
 * nsd-conf/nsd.h -- the NSD child process: find, start, watch, restart, stop.
 *
 * kubezone runs `nsd -d -c STATE/nsd.conf` as its child, in a process
 * group of its own, with a parent-death signal so NSD goes when
 * kubezone goes, even by SIGKILL. NSD's stderr is a pipe that kubezone
 * reads and forwards line by line into its own log.
 *
 * The supervisor is a small state machine driven from the caller's
 * event loop, never from a signal handler:
 *
 *   STOPPED --start--> STARTING --control socket answers--> RUNNING
 *   STARTING/RUNNING --child exits--> BACKOFF --deadline--> STARTING
 *   STARTING --exits before it ever ran--> FAILED (e.g. port in use)
 *
 * The loop polls nc_nsd.logfd (readable: nc_nsd_read_log), calls
 * nc_nsd_reap() on SIGCHLD and nc_nsd_tick() when nc_nsd_deadline()
 * passes. Restarts back off exponentially (200 ms doubling to 30 s)
 * while NSD keeps dying within 30 s of its start.
 *
 * The process becomes a child subreaper so NSD's own children (main,
 * servers) are reaped here should NSD's launched process die first.
 */
#ifndef KZ_NSDCONF_NSD_H
#define KZ_NSDCONF_NSD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

#define NC_NSD_MIN_MAJOR 4
#define NC_NSD_MIN_MINOR 5	/* IXFR-out appeared in 4.5.0 */

enum nc_nsd_state {
	NC_NSD_STOPPED = 0,
	NC_NSD_STARTING,
	NC_NSD_RUNNING,
	NC_NSD_BACKOFF,
	NC_NSD_FAILED
};

struct nc_nsd;

/* Called when NSD (re)starts answering its control socket. */
typedef void (*nc_nsd_ready_fn)(void *ctx, struct nc_nsd *n);

struct nc_nsd {
	char bin[PATH_MAX];
	char conf[PATH_MAX];
	char ctl[108];
	char pidfile[PATH_MAX];
	char xfrdfile[PATH_MAX];	/* removed before each start, or "" */
	enum nc_nsd_state state;
	pid_t pid;		/* the launched process (xfrd); 0 when none */
	pid_t pgid;		/* its process group, kept until it is gone */
	int logfd;		/* read end of NSD's stderr pipe */
	int logw;		/* write end, handed to each child */
	struct kz_buf logbuf;	/* a partial line */
	uint64_t started_ms;
	uint64_t next_ms;	/* next probe or restart; 0 = none */
	uint64_t backoff_ms;
	unsigned restarts;
	bool ever_ready;
	char last_error[512];	/* NSD's first error line since start */
	nc_nsd_ready_fn on_ready;
	void *ctx;
};

/* Times given here are kz_now_ms() (common/clock.h). */

/*
 * Resolve the NSD binary (WANT, or "nsd" on PATH, or /usr/sbin/nsd when
 * WANT is empty) into OUT and check its version is at least 4.5. On
 * failure ERR says what is wrong; returns KZ_ENOTFOUND or KZ_ECHILD.
 */
int nc_nsd_find(const char *want, char *out, size_t outsz, char *err,
    size_t errsz);

/* Parse "NSD version 4.6.1" from TEXT. 0 or KZ_EPARSE. */
int nc_nsd_parse_version(const char *text, int *major, int *minor,
    int *patch);

/*
 * Stop an NSD left running by an earlier run: the pid in PIDFILE, if it
 * is alive and its command line is nsd with CONF, gets SIGTERM (then
 * SIGKILL). Returns 1 when one was stopped, 0 when none, -errno.
 */
int nc_nsd_kill_stale(const char *pidfile, const char *conf);

/* Prepare N for BIN and the state directory's paths. 0 or -errno. */
int nc_nsd_init(struct nc_nsd *n, const char *bin, const char *conf,
    const char *ctl, const char *pidfile);
/* Stop NSD if running, close the pipe. Accepts a zeroed N. */
void nc_nsd_free(struct nc_nsd *n);

/* Spawn NSD (state STARTING). 0 or -errno. */
int nc_nsd_start(struct nc_nsd *n);

/* Read and forward whatever NSD wrote. */
void nc_nsd_read_log(struct nc_nsd *n);

/* Reap exited children; handle NSD's exit. */
void nc_nsd_reap(struct nc_nsd *n);

/* Probe readiness or restart, as due. */
void nc_nsd_tick(struct nc_nsd *n);

/* The next time nc_nsd_tick() has work (monotonic ms), or 0. */
uint64_t nc_nsd_deadline(const struct nc_nsd *n);

/*
 * Stop NSD: SIGTERM to its process group, wait up to TIMEOUT_MS, then
 * SIGKILL. Returns once every NSD process is gone. 0 or -ETIMEDOUT.
 */
int nc_nsd_stop(struct nc_nsd *n, unsigned timeout_ms);

const char *nc_nsd_state_name(enum nc_nsd_state s);

#endif
