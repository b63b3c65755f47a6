/*
 * zonegen/diff_cmd.h -- `kubezone diff`: what two cluster dumps change in
 * the zones.
 */
#ifndef KZ_ZONEGEN_DIFF_CMD_H
#define KZ_ZONEGEN_DIFF_CMD_H

/*
 * Run the command; ARGV[0] is "diff". Returns the exit status: 0 when
 * the zones are the same, 1 when they differ, 2 on trouble (usage, an
 * input unreadable or malformed, no memory), as diff(1) does.
 */
int zg_diff_main(int argc, char **argv);

#endif
