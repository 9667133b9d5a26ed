/* Fuzzing the derivation reader (src/nix/drv.c): the input is a .drv file's ATerm text, read
 * from the host store for every .drv path in a closure. */
#include "fuzz.h"

#include "nix/nix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nix_drv_output *o = NULL;
	size_t n = 0;

	fuzz_begin(data, size);
	if (nix_drv_parse_outputs((const char *)data, size, &o, &n) == 0)
		nix_drv_outputs_free(o, n);
	return 0;
}
