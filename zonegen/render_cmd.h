/*
 * zonegen/render_cmd.h -- `kubezone render`: Kubernetes JSON to zone files.
 */
#ifndef KZ_ZONEGEN_RENDER_CMD_H
#define KZ_ZONEGEN_RENDER_CMD_H

struct zg_decode_stats;
struct zg_model;

/* Run the command; ARGV[0] is "render". Returns the exit status. */
int zg_render_main(int argc, char **argv);

/*
 * Decode the input PATH ("-": standard input) into M as `kubezone
 * render` does (a progress line on a terminal for large inputs); STATS
 * accumulate. A decode error, or an input without a single JSON
 * document, is printed to stderr as "kubezone CMD: ...". 0 or -1.
 */
int zg_render_read(struct zg_model *m, const char *cmd, const char *path,
    struct zg_decode_stats *st);

#endif
