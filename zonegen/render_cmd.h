/*
 * zonegen/render_cmd.h -- `kubezone render`: Kubernetes JSON to zone files.
 */
#ifndef KZ_ZONEGEN_RENDER_CMD_H
#define KZ_ZONEGEN_RENDER_CMD_H

/* Run the command; ARGV[0] is "render". Returns the exit status. */
int zg_render_main(int argc, char **argv);

#endif
