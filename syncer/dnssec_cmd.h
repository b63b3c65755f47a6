/*
 * syncer/dnssec_cmd.h -- `kubezone dnssec`: what the parent zone needs.
 *
 *   kubezone dnssec ds ZONE       the DS records (SHA-256) of ZONE's SEP
 *                                 keys, or of all its keys if none is one
 *   kubezone dnssec dnskey ZONE   ZONE's DNSKEY records (a trust anchor)
 *
 * The keys are the --dnssec-key files of ZONE, else those `kubezone
 * sync --dnssec` keeps in the state directory. Exit status 0, 1 when
 * ZONE has no keys or a key file is bad, 2 for usage.
 */
#ifndef KZ_SYNCER_DNSSEC_CMD_H
#define KZ_SYNCER_DNSSEC_CMD_H

/* Run `dnssec`; ARGV[0] is "dnssec". Returns the exit status. */
int sy_dnssec_main(int argc, char **argv);

#endif
