/*
 * syncer/main.c -- the kubezone binary: subcommand dispatch.
 *
 *   kubezone sync      the daemon (snapshot file or live Kubernetes API)
 *   kubezone render    snapshot JSON to zone files, offline
 *   kubezone diff      what two snapshots change in the zones
 *   kubezone nsd-conf  print the NSD configuration sync would use
 *   kubezone dnssec    DS and DNSKEY records of the zones' keys
 *   kubezone version
 */
#include <stdio.h>
#include <string.h>

#include "syncer/dnssec_cmd.h"
#include "syncer/sync_cmd.h"
#include "zonegen/diff_cmd.h"
#include "zonegen/render_cmd.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kubezone COMMAND [OPTIONS]\n"
	    "\n"
	    "commands:\n"
	    "  sync       serve the cluster's DNS through NSD, following a\n"
	    "             snapshot file or the Kubernetes API\n"
	    "  render     render Kubernetes JSON (kubectl get -o json) as zone files\n"
	    "  diff       compare the zones of two Kubernetes JSON dumps: the\n"
	    "             records removed and added, and what they come from\n"
	    "  nsd-conf   print the NSD configuration that sync would use\n"
	    "  dnssec     print the DS (for the parent) or DNSKEY records of\n"
	    "             a signed zone's keys\n"
	    "  version    print the version\n"
	    "\n"
	    "Run 'kubezone COMMAND --help' for a command's options.\n");
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "sync") == 0)
		return sy_sync_main(argc - 1, argv + 1);
	if (strcmp(cmd, "nsd-conf") == 0)
		return sy_nsdconf_main(argc - 1, argv + 1);
	if (strcmp(cmd, "dnssec") == 0)
		return sy_dnssec_main(argc - 1, argv + 1);
	if (strcmp(cmd, "render") == 0)
		return zg_render_main(argc - 1, argv + 1);
	if (strcmp(cmd, "diff") == 0)
		return zg_diff_main(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("kubezone %s\n", KZ_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "kubezone: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
