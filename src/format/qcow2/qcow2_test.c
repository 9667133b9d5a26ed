/* The qcow2 sinks and reader against qemu-img: files we write pass `qemu-img check` and compare
 * equal to a raw file of the same pattern; files qemu-img writes read back equal; hostile files
 * fail cleanly. qemu-img missing: the tests that need it pass vacuously with a note. */
#include "format/qcow2/qcow2-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "format/reader.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/test.h"

extern char **environ;

/* The last cluster is partial for clusters over 512 bytes. */
#define VSIZE ((5ull << 20) + 12800)

static char dir[64];

static const char *tmp(const char *name)
{
	static char paths[8][160];
	static unsigned next;
	char *p = paths[next++ % 8];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/qcow2_test.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(p, 160, "%s/%s", dir, name);
	return p;
}

/* Run argv, stdout into out_path (or /dev/null); the exit status, or negative errno when it
 * cannot start (-ECHILD when a signal ended it). */
static int run(const char *out_path, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -ECHILD;
}

__attribute__((destructor)) static void remove_tmp(void)
{
	char *argv[] = { "rm", "-rf", dir, NULL };

	if (dir[0])
		(void)run(NULL, argv);
}

static bool have_qemu_img(void)
{
	char *argv[] = { "qemu-img", "--version", NULL };
	bool ok = run(NULL, argv) == 0;

	if (!ok)
		test_skip("qemu-img missing: its checks not run");
	return ok;
}

/* The test pattern as a list of writes: data, holes, explicit zero clusters, partial clusters,
 * compressible text and incompressible noise, and the partial last cluster. */
struct piece {
	uint64_t off;
	size_t len;
	int kind; /* 0 zeros, 1 text, 2 noise, 3 noise repeating every 16 KiB */
};

static const struct piece pattern[] = {
	{ 0, 1000, 1 },
	{ 3000, 2000, 2 },                 /* same cluster, after a gap */
	{ 200 << 10, 128 << 10, 0 },       /* zero clusters written explicitly */
	{ 400 << 10, (192 << 10) + 100, 1 }, /* whole clusters then a partial one */
	{ (600 << 10) + 7, 70000, 2 },     /* unaligned, straddles clusters */
	{ 1 << 20, 64 << 10, 0 },
	{ (1 << 20) + (64 << 10), 4096, 1 },
	{ 2 << 20, 128 << 10, 3 },         /* deflate distances past qemu's 4 KiB window */
	{ (3 << 20) - 10, 20, 1 },        /* two partial clusters */
	{ VSIZE - 777, 777, 1 },           /* the partial last cluster */
};

static void fill(uint8_t *buf, const struct piece *p)
{
	uint64_t x = p->off * 2654435761u + 1;

	for (size_t i = 0; i < p->len; i++) {
		uint64_t o = p->off + i;

		if (p->kind == 0)
			buf[i] = 0;
		else if (p->kind == 1)
			buf[i] = "the quick brown fox jumps over the lazy dog\n"[o % 44];
		else if (p->kind == 3)
			buf[i] = (uint8_t)(((o % 16384) * 0x9e3779b97f4a7c15ull) >> 56);
		else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
	}
}

static int write_raw(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	uint8_t *buf = malloc(256 << 10);
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(pattern) && r >= 0; i++) {
		fill(buf, &pattern[i]);
		r = pwrite_full(fd, buf, pattern[i].len, pattern[i].off);
	}
	if (r >= 0 && ftruncate(fd, (off_t)VSIZE) < 0)
		r = -errno;
	free(buf);
	close(fd);
	return r;
}

/* Feed the pattern to a sink in uneven chunks. */
static int write_sink(const char *fmt, const char *path, uint32_t cs,
		      enum format_compression comp, unsigned n_threads)
{
	struct format_params p = { .virtual_size = VSIZE, .cluster_size = cs,
				   .compression = comp, .n_threads = n_threads };
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	uint8_t *buf;
	int r;

	r = outfile_open(path, &d, &o);
	if (r < 0)
		return r;
	r = sink_open(format_find(fmt), &p, o, &d, &s);
	if (r < 0) {
		outfile_abort(o);
		return r;
	}
	buf = malloc(256 << 10);
	for (size_t i = 0; i < ARRAY_SIZE(pattern) && r >= 0; i++) {
		size_t done = 0, step = 1 + i * 5003;

		fill(buf, &pattern[i]);
		while (done < pattern[i].len && r >= 0) {
			size_t n = MIN(step, pattern[i].len - done);

			r = sink_write(s, pattern[i].off + done, buf + done, n, &d);
			done += n;
			step = step * 3 + 1;
		}
	}
	free(buf);
	if (r < 0) {
		fprintf(stderr, "  %s\n", diag_message(&d, r));
		sink_abort(s);
		return r;
	}
	r = sink_finish(s, &d);
	if (r < 0)
		fprintf(stderr, "  %s\n", diag_message(&d, r));
	return r;
}

/* Read a whole image through our reader and compare it with the raw pattern. */
static int read_back_equals(const char *path, const char *raw, bool expect_holes)
{
	struct diag d = { 0 };
	struct image_input *in;
	uint8_t *want, *got;
	size_t want_len;
	uint64_t off = 0, start, len, covered = 0;
	int r;

	r = image_reader_open(path, NULL, &d, &in);
	if (r < 0) {
		fprintf(stderr, "  %s\n", diag_message(&d, r));
		return r;
	}
	if (strcmp(in->reader->ops->name, "qcow2") != 0 || in->reader->virtual_size != VSIZE) {
		image_input_free(in);
		return -EINVAL;
	}
	r = read_file(raw, VSIZE + 1, &want, &want_len);
	got = calloc(1, VSIZE);
	/* odd-sized reads across cluster boundaries */
	for (uint64_t o = 0; r >= 0 && o < VSIZE; o += 9999)
		r = image_input_read(in, o, got + o, (size_t)MIN(9999, VSIZE - o), &d);
	if (r >= 0 && memcmp(want, got, VSIZE) != 0)
		r = -EILSEQ;
	/* next_data: everything outside its ranges is zero in the pattern */
	memset(got, 0, VSIZE);
	while (r >= 0) {
		r = image_input_next_data(in, off, &start, &len, &d);
		if (r < 0 || len == 0)
			break;
		memcpy(got + start, want + start, len);
		covered += len;
		off = start + len;
	}
	if (r >= 0 && (memcmp(want, got, VSIZE) != 0 || (expect_holes && covered >= VSIZE)))
		r = -EILSEQ;
	if (r < 0 && r != -EILSEQ)
		fprintf(stderr, "  %s\n", diag_message(&d, r));
	free(want);
	free(got);
	image_input_free(in);
	return r;
}

static bool files_equal(const char *a, const char *b)
{
	uint8_t *x, *y;
	size_t xl, yl;
	bool eq;

	if (read_file(a, 64 << 20, &x, &xl) < 0)
		return false;
	if (read_file(b, 64 << 20, &y, &yl) < 0) {
		free(x);
		return false;
	}
	eq = xl == yl && memcmp(x, y, xl) == 0;
	free(x);
	free(y);
	return eq;
}

static bool file_contains(const char *path, const char *needle)
{
	uint8_t *buf;
	size_t len;
	bool found;

	if (read_file(path, 1 << 20, &buf, &len) < 0)
		return false;
	found = strstr((char *)buf, needle) != NULL;
	free(buf);
	return found;
}

/* qemu-img check / info / compare on an image made by our sink. */
static void qemu_judges(int *_failed, const char *img, const char *raw, const char *ctype)
{
	const char *out = tmp("qemu.out");
	char vsize[64];
	char *check[] = { "qemu-img", "check", "-f", "qcow2", (char *)img, NULL };
	char *info[] = { "qemu-img", "info", "-f", "qcow2", "--output=json", (char *)img, NULL };
	char *cmp[] = { "qemu-img", "compare", "-f", "qcow2", "-F", "raw", (char *)img,
			(char *)raw, NULL };

	ASSERT_EQ(run(out, check), 0);
	ASSERT_TRUE(file_contains(out, "No errors were found"));
	ASSERT_TRUE(!file_contains(out, "leaked"));
	ASSERT_EQ(run(out, info), 0);
	ASSERT_TRUE(file_contains(out, "\"format\": \"qcow2\""));
	snprintf(vsize, sizeof(vsize), "\"virtual-size\": %llu,", (unsigned long long)VSIZE);
	ASSERT_TRUE(file_contains(out, vsize));
	ASSERT_TRUE(file_contains(out, ctype));
	ASSERT_EQ(run(out, cmp), 0);
}

static void sink_case(int *_failed, const char *fmt, uint32_t cs, enum format_compression comp,
		      const char *ctype)
{
	const char *raw = tmp("pattern.raw"), *img = tmp("out.qcow2");

	ASSERT_OK(write_raw(raw));
	ASSERT_OK(write_sink(fmt, img, cs, comp, 2));
	ASSERT_OK(read_back_equals(img, raw, cs < (1 << 20)));
	if (have_qemu_img())
		qemu_judges(_failed, img, raw, ctype);
}

TEST(qcow2_sink_default_clusters_pass_qemu_img)
{
	sink_case(_failed, "qcow2", 0, FORMAT_COMPRESSION_NONE, "\"compression-type\": \"zlib\"");
}

TEST(qcow2_sink_small_and_large_clusters_pass_qemu_img)
{
	sink_case(_failed, "qcow2", 512, FORMAT_COMPRESSION_NONE, "\"cluster-size\": 512");
	sink_case(_failed, "qcow2", 4096, FORMAT_COMPRESSION_NONE, "\"cluster-size\": 4096");
	sink_case(_failed, "qcow2", 2 << 20, FORMAT_COMPRESSION_NONE, "\"cluster-size\": 2097152");
}

TEST(qcow2_compressed_deflate_passes_qemu_img)
{
	sink_case(_failed, "qcow2-compressed", 0, FORMAT_COMPRESSION_DEFLATE,
		  "\"compression-type\": \"zlib\"");
	sink_case(_failed, "qcow2-compressed", 512, FORMAT_COMPRESSION_DEFLATE,
		  "\"compression-type\": \"zlib\"");
}

TEST(qcow2_compressed_zstd_passes_qemu_img)
{
	sink_case(_failed, "qcow2-compressed", 0, FORMAT_COMPRESSION_ZSTD,
		  "\"compression-type\": \"zstd\"");
	sink_case(_failed, "qcow2-compressed", 4096, FORMAT_COMPRESSION_ZSTD,
		  "\"compression-type\": \"zstd\"");
}

TEST(qcow2_compressed_output_is_identical_for_any_thread_count)
{
	const char *a = tmp("t1.qcow2"), *b = tmp("t2.qcow2"), *c = tmp("t5.qcow2");

	for (int z = 0; z < 2; z++) {
		enum format_compression comp = z ? FORMAT_COMPRESSION_ZSTD
						 : FORMAT_COMPRESSION_DEFLATE;

		ASSERT_OK(write_sink("qcow2-compressed", a, 4096, comp, 1));
		ASSERT_OK(write_sink("qcow2-compressed", b, 4096, comp, 2));
		ASSERT_OK(write_sink("qcow2-compressed", c, 4096, comp, 5));
		ASSERT_TRUE(files_equal(a, b));
		ASSERT_TRUE(files_equal(a, c));
	}
	/* and compression took place: smaller than the plain image */
	ASSERT_OK(write_sink("qcow2", b, 4096, FORMAT_COMPRESSION_NONE, 0));
	struct stat sa, sb;
	ASSERT_EQ(stat(a, &sa), 0);
	ASSERT_EQ(stat(b, &sb), 0);
	ASSERT_TRUE(sa.st_size < sb.st_size);
}

#define LONG_SIZE (16u << 20)

/* 4 KiB clusters of zeros, text or noise (stored uncompressed), by index. */
static void fill_long(uint8_t *buf)
{
	for (size_t c = 0; c < LONG_SIZE / 4096; c++) {
		struct piece p = { c * 4096, 4096, c % 5 == 0 ? 0 : c % 3 == 0 ? 2 : 1 };

		fill(buf + c * 4096, &p);
	}
}

/* A compressed sink for LONG_SIZE bytes in 4 KiB clusters. */
static int open_long(const char *path, enum format_compression comp, unsigned n_threads,
		     struct sink **ret)
{
	struct format_params p = { .virtual_size = LONG_SIZE, .cluster_size = 4096,
				   .compression = comp, .n_threads = n_threads };
	struct diag d = { 0 };
	struct outfile *o;
	int r;

	r = outfile_open(path, &d, &o);
	if (r < 0)
		return r;
	r = sink_open(format_find("qcow2-compressed"), &p, o, &d, ret);
	if (r < 0)
		outfile_abort(o);
	return r;
}

/* Finishes the sink, or discards it after an error r. */
static int end_long(struct sink *s, int r)
{
	struct diag d = { 0 };

	if (r < 0) {
		sink_abort(s);
		return r;
	}
	return sink_finish(s, &d);
}

static int write_long(const uint8_t *buf, const char *path, enum format_compression comp,
		      unsigned n_threads)
{
	struct diag d = { 0 };
	struct sink *s;
	int r = open_long(path, comp, n_threads, &s);

	if (r < 0)
		return r;
	/* uneven chunks: some clusters arrive whole, some in pieces */
	for (size_t off = 0, n; off < LONG_SIZE && r >= 0; off += n) {
		n = MIN((size_t)(1u << 20) - 1000, LONG_SIZE - off);
		r = sink_write(s, off, buf + off, n, &d);
	}
	return end_long(s, r);
}

/* Many more batches than the queue holds for any thread count: batches are reused while
 * compressed clusters replace their input in place next to uncompressed ones, and the file
 * still reads back equal, is the same for 1, 2 and 3 threads, and passes qemu-img. */
TEST(qcow2_compressed_long_stream_reuses_batches_in_order)
{
	const char *raw = tmp("long.raw"), *a = tmp("long1.qcow2"), *b = tmp("long2.qcow2"),
		   *c = tmp("long3.qcow2");
	uint8_t *buf = malloc(LONG_SIZE), *got = malloc(LONG_SIZE);
	struct image_input *in;
	struct diag d = { 0 };
	int fd;

	fill_long(buf);
	fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(pwrite_full(fd, buf, LONG_SIZE, 0));
	close(fd);
	for (int z = 0; z < 2; z++) {
		enum format_compression comp = z ? FORMAT_COMPRESSION_ZSTD
						 : FORMAT_COMPRESSION_DEFLATE;

		ASSERT_OK(write_long(buf, a, comp, 1));
		ASSERT_OK(write_long(buf, b, comp, 2));
		ASSERT_OK(write_long(buf, c, comp, 3));
		ASSERT_TRUE(files_equal(a, b));
		ASSERT_TRUE(files_equal(a, c));
		ASSERT_OK(image_reader_open(a, NULL, &d, &in));
		memset(got, 0xa5, LONG_SIZE);
		ASSERT_OK(image_input_read(in, 0, got, LONG_SIZE, &d));
		image_input_free(in);
		ASSERT_MEM_EQ(got, buf, LONG_SIZE);
		if (have_qemu_img()) {
			char *check[] = { "qemu-img", "check", "-f", "qcow2", (char *)a, NULL };
			char *cmp[] = { "qemu-img", "compare", "-f", "qcow2", "-F", "raw",
					(char *)a, (char *)raw, NULL };

			ASSERT_EQ(run(NULL, check), 0);
			ASSERT_EQ(run(NULL, cmp), 0);
		}
	}
	free(buf);
	free(got);
}

/* The same bytes as write_long, but pieces of uneven sizes alternate between copy_from_fd from
 * fd (whole clusters, partial ones, runs longer than a batch) and writes; first a copy from
 * short_fd, which holds only the first SHORT_LEN bytes and so must stop there. */
#define SHORT_LEN 70000u

static int write_mixed(const uint8_t *buf, const char *path, enum format_compression comp,
		       int fd, int short_fd)
{
	static const size_t steps[] = { 5000, 300 * 4096 + 123, 77, 2u << 20, 4096, 8191 };
	struct diag d = { 0 };
	struct sink *s;
	size_t off = SHORT_LEN;
	ssize_t n;
	int r = open_long(path, comp, 2, &s);

	if (r < 0)
		return r;
	n = sink_copy_from_fd(s, 0, short_fd, 0, 1u << 20, &d);
	if (n != SHORT_LEN)
		r = n < 0 ? (int)n : -EIO;
	for (size_t i = 0; off < LONG_SIZE && r >= 0; i++) {
		size_t len = MIN(steps[i % ARRAY_SIZE(steps)], LONG_SIZE - off);

		if (i % 2) {
			r = sink_write(s, off, buf + off, len, &d);
		} else {
			n = sink_copy_from_fd(s, off, fd, off, len, &d);
			if (n != (ssize_t)len)
				r = n < 0 ? (int)n : -EIO;
		}
		off += len;
	}
	return end_long(s, r);
}

TEST(qcow2_compressed_copy_from_fd_makes_the_file_writes_make)
{
	const char *raw = tmp("long.raw"), *shrt = tmp("short.raw"), *a = tmp("write.qcow2"),
		   *b = tmp("copy.qcow2");
	uint8_t *buf = malloc(LONG_SIZE);
	int fd, short_fd;

	fill_long(buf);
	fd = open(raw, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	short_fd = open(shrt, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0 && short_fd >= 0);
	ASSERT_OK(pwrite_full(fd, buf, LONG_SIZE, 0));
	ASSERT_OK(pwrite_full(short_fd, buf, SHORT_LEN, 0));
	for (int z = 0; z < 2; z++) {
		enum format_compression comp = z ? FORMAT_COMPRESSION_ZSTD
						 : FORMAT_COMPRESSION_DEFLATE;

		ASSERT_OK(write_long(buf, a, comp, 1));
		ASSERT_OK(write_mixed(buf, b, comp, fd, short_fd));
		ASSERT_TRUE(files_equal(a, b));
	}
	if (have_qemu_img()) {
		char *cmp[] = { "qemu-img", "compare", "-f", "qcow2", "-F", "raw", (char *)b,
				(char *)raw, NULL };

		ASSERT_EQ(run(NULL, cmp), 0);
	}
	close(fd);
	close(short_fd);
	free(buf);
}

TEST(qcow2_sink_rejects_bad_cluster_sizes_and_leaves_no_file)
{
	ASSERT_ERR(write_sink("qcow2", tmp("bad.qcow2"), 256, FORMAT_COMPRESSION_NONE, 0),
		   -EINVAL);
	ASSERT_ERR(write_sink("qcow2", tmp("bad.qcow2"), 3 << 12, FORMAT_COMPRESSION_NONE, 0),
		   -EINVAL);
	ASSERT_ERR(write_sink("qcow2", tmp("bad.qcow2"), 4 << 20, FORMAT_COMPRESSION_NONE, 0),
		   -EINVAL);
	ASSERT_TRUE(access(tmp("bad.qcow2"), F_OK) != 0);
}

TEST(qcow2_sparse_100g_costs_what_1g_costs)
{
	struct format_params p = { .virtual_size = 100ull << 30 };
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct stat st;
	const char *img = tmp("big.qcow2");

	ASSERT_OK(outfile_open(img, &d, &o));
	ASSERT_OK(sink_open(format_find("qcow2"), &p, o, &d, &s));
	ASSERT_OK(sink_write(s, 0, "head", 4, &d));
	ASSERT_OK(sink_write(s, (100ull << 30) - 4, "tail", 4, &d));
	ASSERT_OK(sink_finish(s, &d));
	/* header, 2 data clusters, 2 L2 tables, L1, refcount block and table */
	ASSERT_EQ(stat(img, &st), 0);
	ASSERT_EQ(st.st_size, 8 << 16);
	if (have_qemu_img()) {
		char *check[] = { "qemu-img", "check", (char *)img, NULL };
		ASSERT_EQ(run(NULL, check), 0);
	}
}

TEST(qcow2_sink_rounds_an_odd_size_up_to_a_sector)
{
	struct format_params p = { .virtual_size = 1000001 };
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	struct image_input *in;
	const char *img = tmp("odd.qcow2"), *out = tmp("odd.json");
	uint8_t b[2];

	ASSERT_OK(outfile_open(img, &d, &o));
	ASSERT_OK(sink_open(format_find("qcow2"), &p, o, &d, &s));
	ASSERT_OK(sink_write(s, 1000000, "z", 1, &d));
	ASSERT_OK(sink_finish(s, &d));
	ASSERT_OK(image_reader_open(img, NULL, &d, &in));
	ASSERT_EQ(in->reader->virtual_size, 1000448);
	ASSERT_OK(image_input_read(in, 999999, b, 2, &d));
	ASSERT_MEM_EQ(b, "\0z", 2);
	image_input_free(in);
	if (have_qemu_img()) {
		char *check[] = { "qemu-img", "check", (char *)img, NULL };
		char *info[] = { "qemu-img", "info", "--output=json", (char *)img, NULL };

		ASSERT_EQ(run(NULL, check), 0);
		ASSERT_EQ(run(out, info), 0);
		ASSERT_TRUE(file_contains(out, "\"virtual-size\": 1000448,"));
	}
}

/* Files qemu-img writes read back equal through our reader. */
static void qemu_made(int *_failed, char *const opts[])
{
	const char *raw = tmp("pattern.raw"), *img = tmp("qemu.qcow2");
	char *argv[16] = { "qemu-img", "convert", "-f", "raw", "-O", "qcow2" };
	int n = 6;

	for (; *opts; opts++)
		argv[n++] = *opts;
	argv[n++] = (char *)raw;
	argv[n++] = (char *)img;
	argv[n] = NULL;
	ASSERT_OK(write_raw(raw));
	ASSERT_EQ(run(NULL, argv), 0);
	ASSERT_OK(read_back_equals(img, raw, true));
}

TEST(qcow2_reader_reads_qemu_img_files)
{
	if (!have_qemu_img())
		return;
	qemu_made(_failed, (char *[]){ NULL });
	qemu_made(_failed, (char *[]){ "-o", "compat=0.10", NULL });
	qemu_made(_failed, (char *[]){ "-o", "cluster_size=4096", NULL });
	qemu_made(_failed, (char *[]){ "-c", NULL });
	qemu_made(_failed, (char *[]){ "-c", "-o", "cluster_size=512", NULL });
	qemu_made(_failed, (char *[]){ "-c", "-o", "compression_type=zstd", NULL });
}

TEST(qcow2_reader_reads_qemu_zero_clusters)
{
	const char *img = tmp("zero.qcow2");
	char *create[] = { "qemu-img", "create", "-f", "qcow2", (char *)img, "1M", NULL };
	char *io[] = { "qemu-io", "-c", "write -P 0x55 0 128k", "-c", "write -z 64k 64k",
		       (char *)img, NULL };
	struct diag d = { 0 };
	struct image_input *in;
	uint8_t buf[128 << 10];
	uint64_t start, len;

	if (run(NULL, create) != 0 || run(NULL, io) != 0) {
		TEST_SKIP("qemu-img/qemu-io missing");
	}
	ASSERT_OK(image_reader_open(img, NULL, &d, &in));
	ASSERT_OK(image_input_read(in, 0, buf, sizeof(buf), &d));
	ASSERT_EQ(buf[0], 0x55);
	ASSERT_EQ(buf[65535], 0x55);
	ASSERT_TRUE(mem_is_zero(buf + 65536, 65536));
	ASSERT_OK(image_input_next_data(in, 65536, &start, &len, &d));
	ASSERT_EQ(len, 0);
	image_input_free(in);
}

/* Open img and read every byte: must fail with want (never crash, never succeed). */
static int read_all(const char *img, struct diag *d)
{
	struct image_input *in;
	static uint8_t buf[1 << 20];
	int r;

	r = image_reader_open(img, "qcow2", d, &in);
	if (r < 0)
		return r;
	for (uint64_t o = 0; r >= 0 && o < in->reader->virtual_size; o += sizeof(buf))
		r = image_input_read(in, o, buf, (size_t)MIN(sizeof(buf),
							      in->reader->virtual_size - o), d);
	image_input_free(in);
	return r;
}

/* Copy good to bad with the be64 (or be32) at off replaced. */
static void corrupt(const char *good, const char *bad, uint64_t off, unsigned width, uint64_t v,
		    uint64_t truncate_to)
{
	uint8_t *buf;
	size_t len;
	int fd;

	if (read_file(good, 64 << 20, &buf, &len) < 0)
		abort();
	if (width == 8)
		be64_put(buf + off, v);
	else if (width == 4)
		be32_put(buf + off, (uint32_t)v);
	if (truncate_to)
		len = (size_t)truncate_to;
	fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || pwrite_full(fd, buf, len, 0) < 0)
		abort();
	close(fd);
	free(buf);
}

TEST(qcow2_reader_fails_cleanly_on_hostile_files)
{
	const char *good = tmp("good.qcow2"), *cgood = tmp("cgood.qcow2"), *bad = tmp("bad.qcow2");
	struct diag d = { 0 };
	struct image_input *in;
	struct qcow2_header h;
	uint8_t head[QCOW2_HDR_V3_COMPRESSION_SIZE], l1e[8];
	struct stat st;
	int fd;

	ASSERT_OK(write_sink("qcow2", good, 4096, FORMAT_COMPRESSION_NONE, 0));
	ASSERT_OK(write_sink("qcow2-compressed", cgood, 4096, FORMAT_COMPRESSION_DEFLATE, 1));
	ASSERT_OK(read_all(good, &d));
	fd = open(good, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	ASSERT_OK(pread_full(fd, head, sizeof(head), 0));
	ASSERT_OK(qcow2_header_decode(head, sizeof(head), (uint64_t)st.st_size, &d, &h));
	ASSERT_OK(pread_full(fd, l1e, 8, h.l1_table_offset));
	close(fd);

	corrupt(good, bad, QCOW2_HDR_SIZE, 8, ~0ull >> 1, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	corrupt(good, bad, QCOW2_HDR_L1_TABLE_OFFSET, 8, (uint64_t)st.st_size + 4096, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "l1_table_offset") != NULL);
	corrupt(good, bad, QCOW2_HDR_L1_SIZE, 4, 0x7fffffff, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	corrupt(good, bad, QCOW2_HDR_CLUSTER_BITS, 4, 63, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	corrupt(good, bad, QCOW2_HDR_BACKING_FILE_OFFSET, 8, 512, 0);
	ASSERT_ERR(read_all(bad, &d), -ENOTSUP);
	corrupt(good, bad, QCOW2_HDR_CRYPT_METHOD, 4, 1, 0);
	ASSERT_ERR(read_all(bad, &d), -ENOTSUP);
	/* L1 entry pointing past the end, misaligned, with reserved bits */
	corrupt(good, bad, h.l1_table_offset, 8, QCOW2_OFLAG_COPIED | (1ull << 40), 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "L1 entry 0") != NULL);
	corrupt(good, bad, h.l1_table_offset, 8, be64_get(l1e) + 512, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	/* L2 entries pointing past the end or with reserved bits */
	corrupt(good, bad, be64_get(l1e) & QCOW2_OFFSET_MASK, 8, 1ull << 40, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "guest cluster 0") != NULL);
	corrupt(good, bad, be64_get(l1e) & QCOW2_OFFSET_MASK, 8, 0x1002, 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	corrupt(good, bad, be64_get(l1e) & QCOW2_OFFSET_MASK, 8,
		QCOW2_OFLAG_COMPRESSED | ((uint64_t)st.st_size + 10), 0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	/* a compressed descriptor over plain data does not decompress */
	corrupt(good, bad, be64_get(l1e) & QCOW2_OFFSET_MASK, 8, QCOW2_OFLAG_COMPRESSED | 4096,
		0);
	ASSERT_ERR(read_all(bad, &d), -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "does not decompress") != NULL);
	/* truncated files, from nothing to almost everything */
	for (uint64_t t = 1; t < (uint64_t)st.st_size; t = t * 3 + 7) {
		corrupt(good, bad, 0, 0, 0, t);
		ASSERT_TRUE(read_all(bad, &d) < 0);
	}
	corrupt(good, bad, 0, 0, 0, 0);
	ASSERT_OK(read_all(bad, &d));
	/* flipped bytes anywhere in the compressed image: an error or a read, never a crash */
	ASSERT_EQ(stat(cgood, &st), 0);
	for (uint64_t o = 0; o < (uint64_t)st.st_size; o += 997) {
		corrupt(cgood, bad, o, 4, 0xdeadbeef, 0);
		(void)read_all(bad, &d);
	}
	/* probing: an empty file or a garbage header is not qcow2 */
	corrupt(good, bad, QCOW2_HDR_VERSION, 4, 9, 0);
	ASSERT_ERR(read_all(bad, &d), -ENOTSUP);
	ASSERT_OK(image_reader_open(bad, NULL, &d, &in));
	ASSERT_STR_EQ(in->reader->ops->name, "raw");
	image_input_free(in);
}

/* Our deflate stream for a cluster (libdeflate, 32 KiB window) takes no more sectors than
 * qemu-img -c's (zlib level 6) and inflates with zlib's raw inflate and windowBits -12 in one
 * call, as qemu reads it: matches 16 KiB back decode. */
TEST(qcow2_deflate_cluster_inflates_as_qemu_and_is_no_larger)
{
	const char *raw = tmp("one.raw"), *img = tmp("one.qcow2");
	char *argv[] = { "qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", (char *)raw,
			 (char *)img, NULL };
	struct piece text = { 0, 32768, 1 }, rep = { 32768, 32768, 3 };
	static uint8_t data[65536], ours[65536], back[65536];
	uint8_t head[QCOW2_HDR_V3_COMPRESSION_SIZE], e[8];
	struct qcow2_codec *c = qcow2_codec_new(QCOW2_COMPRESSION_ZLIB);
	struct qcow2_header h;
	struct qcow2_cluster cl, mine;
	struct diag d = { 0 };
	struct stat st;
	size_t len;
	int fd;

	fill(data, &text);
	fill(data + 32768, &rep);
	fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(pwrite_full(fd, data, sizeof(data), 0));
	close(fd);
	ASSERT_OK(qcow2_codec_compress(c, data, sizeof(data), ours, sizeof(ours) - 1, &len));
	ASSERT_TRUE(len < 32768 / 4); /* the repeats were found past 4 KiB */
	ASSERT_OK(qcow2_codec_decompress(c, ours, len, back, sizeof(back)));
	ASSERT_MEM_EQ(back, data, sizeof(data));
	qcow2_codec_free(c);
	/* a higher level finds more (level 12: near-optimal parsing), and still decodes */
	{
		struct qcow2_codec *c12 = qcow2_codec_new(QCOW2_COMPRESSION_ZLIB);
		size_t len12;

		qcow2_codec_set_level(c12, 12);
		ASSERT_OK(qcow2_codec_compress(c12, data, sizeof(data), ours, sizeof(ours) - 1,
					       &len12));
		ASSERT_TRUE(len12 < len);
		ASSERT_OK(qcow2_codec_decompress(c12, ours, len12, back, sizeof(back)));
		ASSERT_MEM_EQ(back, data, sizeof(data));
		qcow2_codec_free(c12);
	}
	if (run(NULL, argv) != 0) {
		TEST_SKIP("qemu-img missing");
	}
	fd = open(img, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	ASSERT_OK(pread_full(fd, head, sizeof(head), 0));
	ASSERT_OK(qcow2_header_decode(head, sizeof(head), (uint64_t)st.st_size, &d, &h));
	ASSERT_OK(pread_full(fd, e, 8, h.l1_table_offset));
	ASSERT_OK(pread_full(fd, e, 8, be64_get(e) & QCOW2_OFFSET_MASK));
	close(fd);
	ASSERT_OK(qcow2_l2_entry_decode(be64_get(e), h.cluster_bits, h.version, &cl));
	ASSERT_EQ(cl.type, QCOW2_CLUSTER_COMPRESSED);
	ASSERT_OK(qcow2_l2_entry_decode(qcow2_l2_entry_compressed(16, cl.host_off, len),
					h.cluster_bits, h.version, &mine));
	ASSERT_TRUE(mine.host_len <= cl.host_len);
}
