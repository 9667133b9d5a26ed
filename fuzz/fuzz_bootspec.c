/* Fuzzing the bootspec reader (boot.json, RFC 0125; bootspec_json_parse in src/spec/json.c,
 * used by src/boot/bootspec.c): the input is a toplevel's boot.json. */
#include "fuzz.h"

#include "boot/boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_entry *e = NULL;
	struct diag d = { 0 };
	int r;

	fuzz_begin(data, size);
	r = bootspec_json_parse((const char *)data, size, "boot.json", &d, &e);
	fuzz_check_error(&d, r);
	boot_entry_free(e);
	return 0;
}
