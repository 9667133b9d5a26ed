/* The version (opts.h): the Makefile writes build/version.h (VERSION: `git describe` in a git
 * checkout, else the release number in the Makefile), rewritten only when it changes. */
#include "cli/opts.h"

#include "version.h"

const char *cli_version(void)
{
	return MKDISKIMAGE_VERSION;
}
