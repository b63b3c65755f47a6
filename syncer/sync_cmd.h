/*
 * syncer/sync_cmd.h -- `kubezone sync` and `kubezone nsd-conf`.
 *
 * sync: decode the snapshot file, render, publish the zones into the
 * state directory, start NSD on them, then follow the file with
 * inotify (an atomic replace by rename counts) and publish each change.
 * A snapshot that cannot be read or decoded is logged and ignored: the
 * zones already published stay served. SIGTERM/SIGINT stop NSD and end
 * with status 0; SIGHUP re-reads the snapshot. Exit status 1 for a
 * start-up failure (NSD missing or too old, port in use, state
 * directory not writable, first snapshot unreadable), 2 for usage.
 *
 * nsd-conf: print the nsd.conf that sync would write for the same
 * options (the zones come from rendering the snapshot, or an empty
 * cluster when no --snapshot is given).
 */
#ifndef KZ_SYNCER_SYNC_CMD_H
#define KZ_SYNCER_SYNC_CMD_H

/* Run `sync`; ARGV[0] is "sync". Returns the exit status. */
int sy_sync_main(int argc, char **argv);

/* Run `nsd-conf`; ARGV[0] is "nsd-conf". Returns the exit status. */
int sy_nsdconf_main(int argc, char **argv);

#endif
