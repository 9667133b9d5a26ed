/* Fuzzing format probing (src/format/reader.c) and whichever reader the magic picks, raw
 * when none: open, read every data range, probe the partition table and filesystems, as
 * inspect and convert do. */
#include "fuzz-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin(data, size);
	fuzz_reader(data, size, /* format= */ NULL);
	return 0;
}
