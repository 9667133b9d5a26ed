/* Fuzzing the VMDK reader, monolithicSparse and streamOptimized (src/format/vmdk-read.c):
 * open with the format forced, read every data range, probe the partition table and the
 * filesystems, as inspect and convert do. */
#include "fuzz-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin(data, size);
	fuzz_reader(data, size, /* format= */ "vmdk");
	return 0;
}
