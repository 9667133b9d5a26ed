/* What `mkdiskimage inspect` and `convert` do with an image, on the fuzzer's bytes as a file:
 * open it (format forced, or probed when NULL), walk its data ranges and read them, then probe
 * the partition table and the filesystems of (at most 8) partitions as inspect does. */
#pragma once

#include "fuzz.h"

#include "format/reader.h"
#include "fs/fs.h"
#include "part/part.h"

#define FUZZ_READ_MAX (256u << 10)

static int fuzz_part_read(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return image_input_read(ctx, off, buf, len, d);
}

struct fuzz_part {
	struct image_input *in;
	uint64_t base;
};

static int fuzz_fs_read(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d)
{
	const struct fuzz_part *p = ctx;

	return image_input_read(p->in, p->base + off, buf, len, d);
}

/* Every handler's probe (inspect stops at the first that knows the partition; each one here,
 * so one filesystem's success does not hide the others' parsers). */
static void fuzz_fs(struct image_input *in, uint64_t off, uint64_t len)
{
	static const char *const names[] = { "ext4", "vfat", "swap" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct fs_ops *o = fs_ops_find(names[i]);
		struct fs_probe p;
		struct diag d = { 0 };

		fuzz_check_error(&d, o->probe(fuzz_fs_read, &(struct fuzz_part){ in, off }, len,
					      &d, &p));
	}
}

/* The same on a file the harness made (fuzz_reader: the input as it is). */
static inline void fuzz_reader_path(const char *path, const char *format)
{
	struct image_input *in = NULL;
	struct part_probe *l = NULL;
	struct diag d = { 0 };
	uint64_t off = 0, vsize;
	uint8_t *buf;
	int r;

	r = image_reader_open(path, format, &d, &in);
	fuzz_check_error(&d, r);
	if (r < 0)
		return;
	vsize = in->reader->virtual_size;
	buf = malloc(FUZZ_READ_MAX);
	if (!buf)
		abort();
	for (int i = 0; i < 64 && off < vsize; i++) {
		uint64_t start, len;

		r = image_input_next_data(in, off, &start, &len, &d);
		fuzz_check_error(&d, r);
		if (r < 0 || len == 0)
			break;
		r = image_input_read(in, start, buf, len < FUZZ_READ_MAX ? len : FUZZ_READ_MAX, &d);
		fuzz_check_error(&d, r);
		if (r < 0)
			break;
		off = start + len;
	}
	free(buf);

	r = part_probe_io(&(struct part_probe_io){ fuzz_part_read, in }, vsize, &d, &l);
	fuzz_check_error(&d, r);
	if (r == 0 && l->kind != PART_PROBE_NONE) {
		for (size_t i = 0; i < l->n_parts && i < 8; i++) {
			const struct part_probe_entry *p = &l->parts[i];

			if (p->first_lba <= vsize / 512 && p->n_lba <= vsize / 512 - p->first_lba)
				fuzz_fs(in, p->first_lba * 512, p->n_lba * 512);
			(void)part_type_name(p->type_uuid);
		}
	} else if (r == 0)
		fuzz_fs(in, 0, vsize);
	part_probe_free(l);
	image_input_free(in);
}

static inline void fuzz_reader(const uint8_t *data, size_t size, const char *format)
{
	char path[64];
	int fd = fuzz_memfd(data, size, path);

	fuzz_reader_path(path, format);
	(void)close(fd);
}
