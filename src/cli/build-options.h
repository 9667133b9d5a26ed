/* Option tables made from the spec's (build-options.c). */
#pragma once

#include <stdbool.h>

#include "cli/opts.h"

struct spec_option;

/* ids of spec flags: CLI_SPEC_ID + their index in spec_options (above any short option) */
#define CLI_SPEC_ID 0x1000

/* The cli_option of a spec flag; brackets: its help starts with "[key]". */
void cli_option_from_spec(const struct spec_option *o, bool brackets, struct cli_option *ret);
/* The spec entry of an id, NULL when it is none's. */
const struct spec_option *cli_spec_option(int id);
