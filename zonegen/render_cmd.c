/*
 * zonegen/render_cmd.c -- `kubezone render`.
 */
#include <stdio.h>

#include "zonegen/render_cmd.h"

int
zg_render_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "kubezone render: not built yet\n");
	return 1;
}
