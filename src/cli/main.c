/* mkdiskimage: build partitioned disk images natively, without root or a VM. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fputs("usage: mkdiskimage build [--spec FILE.json] [flags] -o OUT\n"
	      "       mkdiskimage inspect IMAGE [--json]\n"
	      "       mkdiskimage convert IN OUT [--format F] [flags]\n"
	      "       mkdiskimage boot-test IMAGE [--firmware bios|uefi] [--ssh] [flags]\n"
	      "       mkdiskimage build --help   (every flag and its spec key)\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "build") == 0)
		return cli_build(argc - 1, argv + 1);
	if (strcmp(argv[1], "inspect") == 0)
		return cli_inspect(argc - 1, argv + 1);
	if (strcmp(argv[1], "convert") == 0)
		return cli_convert(argc - 1, argv + 1);
	if (strcmp(argv[1], "boot-test") == 0)
		return cli_boot_test(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "mkdiskimage: error: unknown command '%s' (use build, inspect or convert)\n",
		argv[1]);
	return 2;
}
