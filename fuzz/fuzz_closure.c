/* Fuzzing closureInfo's parsers (src/nix/closure.c): the input is store-paths, a NUL byte,
 * then registration (no NUL: all registration, no store-paths). */
#include "fuzz.h"

#include "nix/nix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t n_paths = nul ? (size_t)(nul - data) : 0;
	const uint8_t *reg = nul ? nul + 1 : data;
	size_t n_reg = size - (size_t)(reg - data);
	struct nix_closure *c = NULL;
	struct diag d = { 0 };
	int r;

	fuzz_begin(data, size);
	r = nix_closure_parse((const char *)data, n_paths, (const char *)reg, n_reg,
			      "closure-info", &d, &c);
	fuzz_check_error(&d, r);
	if (r == 0)
		for (size_t i = 0; i < c->n_paths; i++)
			(void)nix_closure_find(c, c->paths[i].path, strlen(c->paths[i].path));
	nix_closure_free(c);
	return 0;
}
