/* Fuzzing the packed-image readers: the first byte picks the path, the rest is the input.
 * 0: a compressed raw image (format/decompress-stream.c, unpack-read.c) as inspect/convert
 * read it; 1: a gce tar.gz (and format/gce-read.c, tar.c behind it); 2: an uncompressed tar
 * fed straight to the gce extractor (headers, sparse maps, extension blocks). */
#include "fuzz-reader.h"

#include "format/gce-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin(data, size);
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_reader(data + 1, size - 1, "raw-compressed");
		break;
	case 1:
		fuzz_reader(data + 1, size - 1, "gce");
		break;
	default: {
		char path[64];
		int fd = fuzz_memfd(NULL, 0, path);
		struct gce_extract *x = gce_extract_new(fd, 1ull << 40);
		struct diag d = { 0 };
		uint64_t vsize;
		int r;

		/* in two pieces: the state machine must not care where the input splits */
		r = gce_extract_put(x, data + 1, (size - 1) / 2, &d);
		if (r == 0)
			r = gce_extract_put(x, data + 1 + (size - 1) / 2, size - 1 - (size - 1) / 2,
					    &d);
		fuzz_check_error(&d, r);
		if (r >= 0) {
			r = gce_extract_done(x, &vsize, &d);
			fuzz_check_error(&d, r);
		}
		gce_extract_free(x);
		close(fd);
	}
	}
	return 0;
}
