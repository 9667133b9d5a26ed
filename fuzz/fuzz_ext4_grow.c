/* Fuzzing ext4_grow (src/fs/ext4/grow*.c): the superblock, group descriptor, bitmap and resize
 * inode parsing on hostile input. The input is the start of a filesystem (reads past it return
 * zeros, writes past it are dropped); its first four bytes (the unused boot block) pick how far
 * to grow: up to 256 MiB past the size the superblock claims, so a run stays fast. */
#include "fuzz.h"

#include "fs/ext4/ext4.h"
#include "fs/fs-io.h"

struct mem_io {
	uint8_t *p;
	size_t len;
};

static int mem_read(void *ctx, uint64_t off, void *out, size_t len, struct diag *d)
{
	const struct mem_io *m = ctx;
	struct fuzz_buf b = { m->p, m->len };

	return fuzz_buf_read(&b, off, out, len, d);
}

static int mem_write(void *ctx, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct mem_io *m = ctx;

	if (off + len < off)
		abort(); /* the grower never computes a wrapping offset */
	if (off < m->len)
		memcpy(m->p + off, buf, len < m->len - off ? len : m->len - off);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem_io m = { malloc(size ? size : 1), size };
	struct fs_io io = { &m, mem_read, mem_write };
	struct ext4_grow_info info;
	struct diag d = { 0 };
	uint64_t old = 0, extra = 0;
	int r;

	fuzz_begin(data, size);
	if (size)
		memcpy(m.p, data, size);
	if (size >= 4)
		extra = (data[0] | data[1] << 8 | data[2] << 16 | (uint64_t)data[3] << 24) % (256u << 20);
	if (size >= 1024 + 0x1c) {
		const uint8_t *sb = data + 1024;
		uint32_t log = sb[0x18] | sb[0x19] << 8 | sb[0x1a] << 16 | (uint32_t)sb[0x1b] << 24;

		old = (sb[4] | sb[5] << 8 | sb[6] << 16 | (uint64_t)sb[7] << 24) << (10 + (log % 7));
	}
	r = ext4_grow(&io, old + extra, &info, &d);
	fuzz_check_error(&d, r);
	if (r == 0 && info.new_blocks < info.old_blocks)
		abort();
	free(m.p);
	return 0;
}
