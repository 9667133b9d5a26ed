/* mkdiskimage: build partitioned disk images natively, without root or a VM. The commands are
 * in commands.c's table; exit status 0 success, 1 failure, 2 usage error (opts.h). */
#include <stdio.h>
#include <string.h>

#include "cli/opts.h"
#include "util/log.h"
#include "util/suggest.h"

int main(int argc, char **argv)
{
	static const char *const main_flags[] = { "help", "version" };
	const struct cli_command *c;
	const char *a;

	if (argc < 2) {
		cli_main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	a = argv[1];
	if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
		cli_main_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
		printf("mkdiskimage %s\n", cli_version());
		return CLI_EXIT_OK;
	}
	if (a[0] == '-') {
		const char *near = a[1] == '-' ? suggest_nearest(a + 2, main_flags, 2) : NULL;

		log_error("unknown option %s%s%s%s (see mkdiskimage --help)", a,
			  near ? "; did you mean --" : "", near ? near : "", near ? "?" : "");
		return CLI_EXIT_USAGE;
	}
	c = cli_command_find(a);
	if (!c)
		return cli_unknown_command(a);
	return c->run(argc - 1, argv + 1);
}
