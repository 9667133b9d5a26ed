#include "format/copy.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format.h"
#include "format/reader.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/test.h"
#include "util/xalloc.h"

#define DISK (3u * FORMAT_COPY_CHUNK + 1000u)

/* A recording sink: the disk it was given, and each write's offset and length. */
struct rec_sink {
	struct sink hdr;
	uint8_t *disk;
	uint64_t offs[64], lens[64];
	size_t n;
};

static int rec_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	struct rec_sink *s = xcalloc(1, sizeof(*s));

	s->disk = xcalloc(1, p->virtual_size);
	*ret = &s->hdr;
	return 0;
}

static int rec_write(struct sink *sk, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct rec_sink *s = (struct rec_sink *)sk;

	memcpy(s->disk + off, buf, len);
	if (s->n < 64) {
		s->offs[s->n] = off;
		s->lens[s->n++] = len;
	}
	return 0;
}

static void rec_abort(struct sink *sk)
{
	struct rec_sink *s = (struct rec_sink *)sk;

	free(s->disk);
	free(s);
}

static const struct format_ops rec_ops = {
	.name = "rec", .open = rec_open, .write = rec_write, .abort = rec_abort,
};

/* Data in [0, 16384) with an aligned zero 4 KiB block at 8192 (a hole in the output), data
 * across the first MiB boundary, a tail at the very end (a partial block). */
static char *make_input(uint8_t **ret_disk)
{
	char *path = xstrdup("/tmp/copy_test.XXXXXX");
	uint8_t *disk = xcalloc(1, DISK);
	int fd = mkstemp(path);

	for (size_t i = 0; i < 16384; i++)
		disk[i] = (uint8_t)(i * 7 + 1);
	memset(disk + 8192, 0, 4096); /* an aligned zero block inside the data: a hole */
	for (size_t i = FORMAT_COPY_CHUNK - 100; i < FORMAT_COPY_CHUNK + 100; i++)
		disk[i] = 0xa5;
	memcpy(disk + DISK - 4, "tail", 4);
	if (fd < 0 || pwrite_full(fd, disk, DISK, 0) < 0)
		abort();
	close(fd);
	*ret_disk = disk;
	return path;
}

/* ctx: the last offset reported, or UINT64_MAX once a report went backwards or past the end */
static void progress_cb(void *ctx, uint64_t done, uint64_t total, uint64_t files)
{
	uint64_t *last = ctx;

	if (*last == UINT64_MAX || done <= *last || done > total || total != DISK || files != 0)
		*last = UINT64_MAX;
	else
		*last = done;
}

TEST(format_copy_writes_non_zero_runs_in_whole_chunks)
{
	_cleanup_free_ uint8_t *want = NULL;
	_cleanup_free_ char *path = make_input(&want);
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	struct diag d = { 0 };
	struct sink *sk;
	struct rec_sink *s;
	uint64_t last = 0;

	ASSERT_OK(image_reader_open(path, "raw", &d, &in));
	ASSERT_OK(sink_open(&rec_ops, &(struct format_params){ .virtual_size = DISK }, NULL, &d,
			    &sk));
	ASSERT_OK(format_copy(in, sk, &(struct format_copy_progress){ progress_cb, &last }, &d));
	s = (struct rec_sink *)sk;
	ASSERT_MEM_EQ(s->disk, want, DISK);
	ASSERT_EQ(last, (uint64_t)DISK);
	/* [0, 8192), [12288, 16384), then the boundary's data as two writes (one per chunk),
	 * then the tail's last partial block */
	ASSERT_EQ(s->n, 5u);
	ASSERT_EQ(s->offs[0], 0u);
	ASSERT_EQ(s->lens[0], 8192u);
	ASSERT_EQ(s->offs[1], 12288u);
	ASSERT_EQ(s->lens[1], 4096u);
	ASSERT_EQ(s->offs[2], FORMAT_COPY_CHUNK - 4096u);
	ASSERT_EQ(s->lens[2], 4096u);
	ASSERT_EQ(s->offs[3], (uint64_t)FORMAT_COPY_CHUNK);
	ASSERT_EQ(s->lens[3], 4096u);
	ASSERT_EQ(s->offs[4] + s->lens[4], (uint64_t)DISK);
	for (size_t i = 0; i < s->n; i++)
		ASSERT_EQ(s->offs[i] / FORMAT_COPY_CHUNK,
			  (s->offs[i] + s->lens[i] - 1) / FORMAT_COPY_CHUNK);
	sink_abort(sk);
	unlink(path);
}

TEST(format_copy_round_trips_through_qcow2)
{
	_cleanup_free_ uint8_t *want = NULL, *got = NULL;
	_cleanup_free_ char *path = make_input(&want);
	_cleanup_free_ char *out_path = xasprintf("%s.qcow2", path);
	_cleanup_(image_input_freep) struct image_input *in = NULL, *back = NULL;
	struct outfile *out;
	struct diag d = { 0 };
	struct sink *sk;

	ASSERT_OK(image_reader_open(path, NULL, &d, &in));
	ASSERT_OK(outfile_open(out_path, &d, &out));
	ASSERT_OK(sink_open(format_find("qcow2"), &(struct format_params){ .virtual_size = DISK },
			    out, &d, &sk));
	ASSERT_OK(format_copy(in, sk, NULL, &d));
	ASSERT_OK(sink_finish(sk, &d));
	ASSERT_OK(image_reader_open(out_path, NULL, &d, &back));
	ASSERT_STR_EQ(back->reader->ops->name, "qcow2");
	ASSERT_EQ(back->reader->virtual_size, ROUND_UP((uint64_t)DISK, 512)); /* whole sectors */
	got = xmalloc(DISK);
	ASSERT_OK(image_input_read(back, 0, got, DISK, &d));
	ASSERT_MEM_EQ(got, want, DISK);
	unlink(out_path);
	unlink(path);
}
