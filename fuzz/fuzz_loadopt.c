/* Fuzzing an EFI_LOAD_OPTION and its device path (src/boot/loadopt.c, devpath.c) directly,
 * without a variable store around them: the value of a Boot#### variable. */
#include "fuzz.h"

#include <stdlib.h>

#include "boot/devpath.h"
#include "boot/loadopt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct loadopt o;
	char *text = NULL;
	int r;

	fuzz_begin(data, size);
	r = loadopt_decode(data, size, &d, &o);
	fuzz_check_error(&d, r);
	if (r == 0) {
		r = devpath_to_text(o.path, o.path_len, &d, &text);
		fuzz_check_error(&d, r);
		free(text);
		loadopt_done(&o);
	}
	/* the whole input as a device path, and as a UCS-2 string */
	text = NULL;
	r = devpath_to_text(data, size, &d, &text);
	fuzz_check_error(&d, r);
	free(text);
	free(devpath_ucs2_decode(data, size));
	return 0;
}
