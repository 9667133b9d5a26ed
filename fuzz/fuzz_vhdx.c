/* Fuzzing the VHDX reader (src/format/vhdx-read.c, vhdx-meta.c): open with the format forced,
 * read every data range, probe the partition table and the filesystems, as inspect and
 * convert do.
 *
 * Even the smallest VHDX is several MiB, mostly holes (its regions sit at whole MiB), too big
 * for a fuzzer's input: the input describes a sparse file instead. le16 the file's size in
 * 4 KiB pages (at most 64 MiB; bit 15 set: the CRC-32Cs of the headers and region tables are
 * recomputed, as fuzz_part recomputes GPT's, so that mutations reach what they guard), then
 * pages: le16 page number, le16 length, that many bytes (fuzz/vhdx-pages.py turns a real file
 * into this form). An input that starts "vhdxfile" is a file as it is. */
#include "fuzz-reader.h"

#include "format/vhdx-internal.h"
#include "util/endian.h"

#define FUZZ_PAGE 4096u
#define FUZZ_MAX_PAGES 16384u

/* The checksum of the len-byte structure at off, made valid. */
static void fuzz_fix_checksum(int fd, uint64_t off, size_t len)
{
	static uint8_t buf[VHDX_RT_SIZE];

	if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
		return; /* the file is shorter */
	le32_put(buf + 4, vhdx_checksum(buf, len, 4));
	if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t file_size;
	size_t pos = 2;
	char path[64];
	int fd;

	fuzz_begin(data, size);
	if (size >= 8 && memcmp(data, "vhdxfile", 8) == 0) {
		fuzz_reader(data, size, /* format= */ "vhdx");
		return 0;
	}
	if (size < 2)
		return 0;
	file_size = (uint64_t)((data[0] | (data[1] & 0x7f) << 8) % (FUZZ_MAX_PAGES + 1)) *
		    FUZZ_PAGE;
	fd = fuzz_memfd(NULL, 0, path);
	if (ftruncate(fd, (off_t)file_size) < 0) {
		perror("fuzz: ftruncate");
		abort();
	}
	while (pos + 4 <= size) {
		uint64_t off = (uint64_t)(data[pos] | data[pos + 1] << 8) * FUZZ_PAGE;
		size_t len = (size_t)(data[pos + 2] | data[pos + 3] << 8), n;

		pos += 4;
		if (len > size - pos)
			len = size - pos;
		n = off >= file_size ? 0 : len < file_size - off ? len : (size_t)(file_size - off);
		if (n && pwrite(fd, data + pos, n, (off_t)off) != (ssize_t)n) {
			perror("fuzz: pwrite");
			abort();
		}
		pos += len;
	}
	if (data[1] & 0x80) {
		fuzz_fix_checksum(fd, VHDX_HEADER1_OFFSET, VHDX_HDR_SIZE);
		fuzz_fix_checksum(fd, VHDX_HEADER2_OFFSET, VHDX_HDR_SIZE);
		fuzz_fix_checksum(fd, VHDX_REGION1_OFFSET, VHDX_RT_SIZE);
		fuzz_fix_checksum(fd, VHDX_REGION2_OFFSET, VHDX_RT_SIZE);
	}
	fuzz_reader_path(path, /* format= */ "vhdx");
	(void)close(fd);
	return 0;
}
