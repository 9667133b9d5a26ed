#include "format/compress-stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/decompress-stream.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test.h"

#define DATA (1u << 20)

/* A stream of data, a long zero run (whole zero chunks), more data, a short zero tail. */
static int make(enum format_file_compress type, unsigned threads, int fd, uint64_t *ret_end)
{
	struct compress_stream *c;
	uint8_t *buf = malloc(DATA);
	uint32_t x = 1;
	int r;

	for (size_t i = 0; i < DATA; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = i % 3 ? (uint8_t)(x >> 24) : (uint8_t)i; /* half compressible */
	}
	r = compress_stream_new(type, 0, threads, fd, 0, &c);
	if (r < 0)
		return r;
	if ((r = compress_stream_write(c, buf, 1000)) >= 0 &&
	    (r = compress_stream_zeros(c, 9u << 20)) >= 0 &&
	    (r = compress_stream_write(c, buf, DATA)) >= 0 && (r = compress_stream_zeros(c, 3)) >= 0)
		r = compress_stream_finish(c, ret_end);
	compress_stream_free(c);
	free(buf);
	return r;
}

struct sink_buf {
	uint8_t *p;
	size_t len, cap;
};

static int put(void *ctx, const uint8_t *b, size_t len, struct diag *d)
{
	struct sink_buf *s = ctx;

	if (s->len + len > s->cap)
		return -EFBIG;
	memcpy(s->p + s->len, b, len);
	s->len += len;
	return 0;
}

static void round_trip(enum format_file_compress type, int *_failed)
{
	int a = memfd_create("a", 0), b = memfd_create("b", 0);
	uint64_t end_a, end_b;
	struct sink_buf out = { .cap = 20u << 20 };
	uint8_t *ba, *bb;
	struct diag d = { 0 };

	ASSERT_OK(make(type, 1, a, &end_a));
	ASSERT_OK(make(type, 3, b, &end_b));
	ASSERT_EQ(end_a, end_b);
	ba = malloc(end_a);
	bb = malloc(end_b);
	ASSERT_OK(pread_full(a, ba, end_a, 0));
	ASSERT_OK(pread_full(b, bb, end_b, 0));
	ASSERT_MEM_EQ(ba, bb, end_a); /* the same bytes for any thread count */
	ASSERT_TRUE(end_a < DATA + (64u << 10)); /* the zeros cost next to nothing */
	ASSERT_EQ(decompress_stream_probe(ba, end_a), type);
	out.p = malloc(out.cap);
	ASSERT_OK(decompress_stream(a, end_a, type, UINT64_MAX, put, &out, &d));
	ASSERT_EQ(out.len, 1000 + (9u << 20) + DATA + 3);
	ASSERT_TRUE(mem_is_zero(out.p + 1000, 9u << 20));
	/* truncated: an error, not a short success */
	out.len = 0;
	ASSERT_ERR(decompress_stream(a, end_a - 7, type, UINT64_MAX, put, &out, &d), -EBADMSG);
	/* the limit holds */
	out.len = 0;
	ASSERT_ERR(decompress_stream(a, end_a, type, 1u << 20, put, &out, &d), -EFBIG);
	free(out.p);
	free(ba);
	free(bb);
	close(a);
	close(b);
}

TEST(compress_stream_zstd_round_trip_any_threads)
{
	round_trip(FORMAT_FILE_COMPRESS_ZSTD, _failed);
}

TEST(compress_stream_gzip_round_trip_any_threads)
{
	round_trip(FORMAT_FILE_COMPRESS_GZIP, _failed);
}

TEST(compress_stream_xz_round_trip_any_threads)
{
	round_trip(FORMAT_FILE_COMPRESS_XZ, _failed);
}

TEST(compress_stream_levels_are_checked)
{
	struct compress_stream *c;

	ASSERT_ERR(compress_stream_new(FORMAT_FILE_COMPRESS_GZIP, 13, 1, -1, 0, &c), -EINVAL);
	ASSERT_ERR(compress_stream_new(FORMAT_FILE_COMPRESS_XZ, 10, 1, -1, 0, &c), -EINVAL);
	ASSERT_ERR(compress_stream_new(FORMAT_FILE_COMPRESS_NONE, 0, 1, -1, 0, &c), -EINVAL);
}
