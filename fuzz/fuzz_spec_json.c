/* Fuzzing the JSON spec reader (src/spec/json.c, with the setters of src/spec/values.c,
 * size.c and flags.c it calls): the input is a spec file. */
#include "fuzz.h"

#include "spec/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_spec *s = image_spec_new();
	struct diag d = { 0 };
	char path[64];
	int fd = fuzz_memfd(data, size, path);

	fuzz_begin(data, size);
	fuzz_check_error(&d, spec_load_json(s, path, &d));
	(void)close(fd);
	image_spec_free(s);
	return 0;
}
