/* Fuzzing the systemd-repart definition parser (spec/repart-parse.c) and, over what parses,
 * the placement and identifiers (spec/repart-layout.c). The input is one definition file, or
 * several split by lines "--- NEXT ---"; the first byte of a split input after the last
 * marker is ignored. Disk sizes: auto and 64 MiB. */
#include "fuzz.h"

#include <stdlib.h>

#include "spec/repart.h"

#define MARKER "\n--- NEXT ---\n"
#define MAX_FILES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct repart_part p[MAX_FILES];
	const uint8_t *s = data, *end = data + size;
	size_t n = 0;
	bool ok = true;
	int r;

	fuzz_begin(data, size);
	while (s <= end && n < MAX_FILES) {
		const uint8_t *m = memmem(s, (size_t)(end - s), MARKER, strlen(MARKER));
		size_t len = (size_t)((m ? m : end) - s);
		struct diag d = { 0 };

		repart_part_init(&p[n]);
		r = repart_parse("fuzz.conf", (const char *)s, len, PART_ARCH_X86_64, &p[n], &d);
		fuzz_check_error(&d, r);
		n++;
		ok &= r >= 0;
		if (!m)
			break;
		s = m + strlen(MARKER);
	}
	if (ok) {
		static const uint64_t disks[] = { 0, 64ull << 20 };
		uint8_t seed[16] = { 1, 2, 3 }, disk[16];

		for (size_t i = 0; i < 2; i++) {
			struct diag d = { 0 };
			uint64_t bytes;

			r = repart_place(p, n, disks[i], &d, &bytes);
			fuzz_check_error(&d, r);
			if (r < 0)
				continue;
			/* placed partitions lie within the disk, in order, not overlapping */
			for (size_t j = 0, at = 0; j < n; j++) {
				if (p[j].dropped)
					continue;
				if (p[j].offset < at || p[j].offset + p[j].new_size > bytes)
					abort();
				at = p[j].offset + p[j].new_size;
			}
		}
		repart_ids(p, n, seed, disk);
	}
	for (size_t i = 0; i < n; i++)
		repart_part_free(&p[i]);
	return 0;
}
