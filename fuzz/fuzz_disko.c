/* Fuzzing the disko.devices reader (spec_disko_parse in src/spec/disko.c, after the strict
 * JSON check of src/spec/json-check.c): the input is a `nix eval --json` of disko.devices.
 * A success must leave a partitions list the spec's own checks can take. */
#include "fuzz.h"

#include "spec/spec-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_spec *s = image_spec_new();
	struct diag d = { 0 };
	int r;

	fuzz_begin(data, size);
	r = spec_disko_parse(s, "disko.json", (const char *)data, size, &d);
	fuzz_check_error(&d, r);
	if (r == 0) {
		if (!s->n_partitions || !s->partitions)
			__builtin_trap();
		for (size_t i = 0; i < s->n_partitions; i++)
			if (!s->partitions[i].type || !s->partitions[i].fs)
				__builtin_trap();
	}
	image_spec_free(s);
	return 0;
}
