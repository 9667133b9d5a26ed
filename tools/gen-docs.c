/* build/gen-docs man|bash|zsh|fish: writes the man page or a shell completion, made from the
 * command and option tables (src/cli/gendocs.c), to stdout. Linked with the objects of
 * build/mkdiskimage (all but main.o), so the documents describe exactly that parser. */
#include <stdio.h>

#include "cli/opts.h"

int main(int argc, char **argv)
{
	if (argc != 2 || cli_gen_docs(argv[1], stdout) < 0) {
		fputs("usage: gen-docs man|bash|zsh|fish\n", stderr);
		return 2;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
