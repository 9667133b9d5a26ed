#include "image/emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/format.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/test.h"
#include "util/xalloc.h"

#define DISK_SIZE (8u << 20)
#define A_SIZE (3u << 20) /* its middle MiB is zeros */
#define B_SIZE 5000u
#define A_OFF (1u << 20)
#define B_OFF (5u << 20)

enum copy_mode {
	COPY_NONE,        /* the format has no copy_from_fd */
	COPY_FULL,        /* copies everything asked */
	COPY_HALF,        /* copies half of what is asked: the rest must come by write */
	COPY_UNSUPPORTED, /* -EXDEV, as copy_file_range across file systems */
};

/* A sink that mirrors the disk into memory and records which bytes it was handed. */
struct mem_sink {
	struct sink base;
	enum copy_mode mode;
	uint8_t *disk, *touched;
	unsigned n_writes, n_copies;
};

static struct mem_sink *mem_open_sink;

static int mem_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	*ret = &mem_open_sink->base;
	return 0;
}

static int mem_write(struct sink *base, uint64_t off, const void *buf, size_t len, struct diag *d)
{
	struct mem_sink *s = (struct mem_sink *)base;

	memcpy(s->disk + off, buf, len);
	memset(s->touched + off, 1, len);
	s->n_writes++;
	return 0;
}

static ssize_t mem_copy(struct sink *base, uint64_t off, int fd, uint64_t src_off, size_t len,
			struct diag *d)
{
	struct mem_sink *s = (struct mem_sink *)base;

	s->n_copies++;
	if (s->mode == COPY_UNSUPPORTED)
		return -EXDEV;
	if (s->mode == COPY_HALF)
		len /= 2;
	if (pread_full(fd, s->disk + off, len, src_off) < 0)
		return -EIO;
	memset(s->touched + off, 1, len);
	return (ssize_t)len;
}

static int mem_finish(struct sink *base, struct diag *d)
{
	return 0;
}

static void mem_abort(struct sink *base)
{
}

static const struct format_ops mem_ops = {
	.name = "mem",
	.open = mem_open,
	.write = mem_write,
	.copy_from_fd = mem_copy,
	.finish = mem_finish,
	.abort = mem_abort,
};

static const struct format_ops mem_ops_nocopy = {
	.name = "mem",
	.open = mem_open,
	.write = mem_write,
	.finish = mem_finish,
	.abort = mem_abort,
};

static int fill_header(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		       struct diag *d)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(off + i + arg);
	return 0;
}

static int fill_nothing(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
			struct diag *d)
{
	return 0;
}

struct fixture {
	char dir[64];
	struct tree *tree;
	struct image_plan *plan;
	uint8_t *a, *b; /* the files' contents */
};

static void write_host_file(const char *dir, const char *name, const uint8_t *data, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || pwrite_full(fd, data, len, 0) < 0)
		abort();
	(void)close(fd);
}

/* Two host files, a header, an all-zero generated range, and file A in two extents. */
static void fixture_init(struct fixture *f)
{
	struct diag d = { 0 };
	const struct tree_node *a, *b;

	snprintf(f->dir, sizeof(f->dir), "/tmp/emit_test.XXXXXX");
	if (!mkdtemp(f->dir))
		abort();
	f->a = xcalloc(1, A_SIZE);
	f->b = xmalloc(B_SIZE);
	for (size_t i = 0; i < A_SIZE; i++)
		if (i < (1u << 20) || i >= (2u << 20))
			f->a[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < B_SIZE; i++)
		f->b[i] = (uint8_t)(i * 13 + 5);
	write_host_file(f->dir, "a", f->a, A_SIZE);
	write_host_file(f->dir, "b", f->b, B_SIZE);

	f->tree = tree_new();
	if (tree_add_host_dir(f->tree, f->dir, "/", NULL, &d) < 0 ||
	    tree_finalize(f->tree, NULL, &d) < 0)
		abort();
	a = tree_lookup(f->tree, "/a");
	b = tree_lookup(f->tree, "/b");
	if (!a || !b)
		abort();
	f->plan = image_plan_new(DISK_SIZE);
	image_plan_add_fill(f->plan, 0, 4096, fill_header, NULL, 3);
	image_plan_add_fill(f->plan, 4096, 8192, fill_nothing, NULL, 0);
	image_plan_add_file(f->plan, A_OFF, 2u << 20, a, 0);
	image_plan_add_file(f->plan, A_OFF + (2u << 20) + 4096, 1u << 20, a, 2u << 20);
	image_plan_add_file(f->plan, B_OFF, B_SIZE, b, 0);
	if (image_plan_seal(f->plan, &d) < 0)
		abort();
}

static void fixture_free(struct fixture *f)
{
	char path[128];

	image_plan_free(f->plan);
	tree_free(f->tree);
	free(f->a);
	free(f->b);
	snprintf(path, sizeof(path), "%s/a", f->dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/b", f->dir);
	(void)unlink(path);
	(void)rmdir(f->dir);
}

/* The emitted disk is the plan's, and generated zeros were never handed to the sink. */
static bool disk_ok(const struct fixture *f, const struct mem_sink *s)
{
	uint8_t *want = xcalloc(1, DISK_SIZE);
	bool ok;

	fill_header(NULL, 3, 0, want, 4096, NULL);
	memcpy(want + A_OFF, f->a, 2u << 20);
	memcpy(want + A_OFF + (2u << 20) + 4096, f->a + (2u << 20), 1u << 20);
	memcpy(want + B_OFF, f->b, B_SIZE);
	ok = memcmp(s->disk, want, DISK_SIZE) == 0 && mem_is_zero(s->touched + 4096, 8192);
	free(want);
	return ok;
}

struct progress_log {
	uint64_t bytes, files;
	unsigned calls;
};

static void progress_update(void *ctx, uint64_t bytes_done, uint64_t bytes_total,
			    uint64_t files_done)
{
	struct progress_log *l = ctx;

	l->bytes = bytes_done;
	l->files = files_done;
	l->calls++;
}

/* Emit the fixture into a fresh mem sink; returns image_emit's result. */
static int emit_into(struct fixture *f, const struct format_ops *ops, enum copy_mode mode,
		     struct mem_sink *s, struct progress_log *log, struct diag *d)
{
	struct format_params p = { .virtual_size = DISK_SIZE };
	struct image_emit_progress prog = { progress_update, log };
	struct sink *base;

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->disk = xcalloc(1, DISK_SIZE);
	s->touched = xcalloc(1, DISK_SIZE);
	mem_open_sink = s;
	if (sink_open(ops, &p, NULL, d, &base) < 0)
		abort();
	return image_emit(f->plan, base, &prog, d);
}

static void mem_sink_free(struct mem_sink *s)
{
	free(s->disk);
	free(s->touched);
}

TEST(emit_copies_host_file_ranges_through_the_sink)
{
	struct fixture f;
	struct mem_sink s;
	struct progress_log log = { 0 };
	struct diag d = { 0 };

	fixture_init(&f);
	ASSERT_OK(emit_into(&f, &mem_ops, COPY_FULL, &s, &log, &d));
	ASSERT_TRUE(disk_ok(&f, &s));
	ASSERT_EQ(s.n_copies, 3);  /* one per file range */
	ASSERT_EQ(s.n_writes, 1);  /* the header alone */
	/* copied bytes are copied as they are: A's zero MiB too */
	ASSERT_TRUE(s.touched[A_OFF + (1u << 20)] == 1);
	ASSERT_EQ(s.base.end, B_OFF + B_SIZE);
	ASSERT_EQ(s.base.bytes_written, 4096 + A_SIZE + B_SIZE);
	ASSERT_EQ(log.calls, 5);
	ASSERT_EQ(log.bytes, 4096 + 8192 + A_SIZE + B_SIZE);
	ASSERT_EQ(log.files, 2);
	mem_sink_free(&s);
	fixture_free(&f);
}

TEST(emit_falls_back_to_write_once_for_the_run_when_copy_is_unsupported)
{
	struct fixture f;
	struct mem_sink s;
	struct progress_log log = { 0 };
	struct diag d = { 0 };

	fixture_init(&f);
	ASSERT_OK(emit_into(&f, &mem_ops, COPY_UNSUPPORTED, &s, &log, &d));
	ASSERT_TRUE(disk_ok(&f, &s));
	ASSERT_EQ(s.n_copies, 1); /* remembered: not asked again for the next ranges */
	/* the write path keeps holes for all-zero chunks of file data */
	ASSERT_TRUE(mem_is_zero(s.touched + A_OFF + (1u << 20), 1u << 20));
	ASSERT_EQ(s.base.bytes_written, 4096 + (2u << 20) + B_SIZE);
	ASSERT_EQ(log.bytes, 4096 + 8192 + A_SIZE + B_SIZE);
	mem_sink_free(&s);
	fixture_free(&f);
}

TEST(emit_writes_the_rest_of_a_short_copy)
{
	struct fixture f;
	struct mem_sink s;
	struct progress_log log = { 0 };
	struct diag d = { 0 };

	fixture_init(&f);
	ASSERT_OK(emit_into(&f, &mem_ops, COPY_HALF, &s, &log, &d));
	ASSERT_TRUE(disk_ok(&f, &s));
	ASSERT_EQ(s.n_copies, 3); /* a short copy is no reason to stop copying */
	ASSERT_TRUE(s.n_writes > 1);
	ASSERT_EQ(s.base.end, B_OFF + B_SIZE);
	mem_sink_free(&s);
	fixture_free(&f);
}

TEST(emit_without_copy_op_writes_everything)
{
	struct fixture f;
	struct mem_sink s;
	struct progress_log log = { 0 };
	struct diag d = { 0 };

	fixture_init(&f);
	ASSERT_OK(emit_into(&f, &mem_ops_nocopy, COPY_NONE, &s, &log, &d));
	ASSERT_TRUE(disk_ok(&f, &s));
	ASSERT_EQ(s.n_copies, 0);
	mem_sink_free(&s);
	fixture_free(&f);
}

TEST(emit_copy_still_refuses_a_source_that_changed)
{
	static const uint8_t more[100];
	struct fixture f;
	struct mem_sink s;
	struct progress_log log = { 0 };
	struct diag d = { 0 };

	fixture_init(&f);
	write_host_file(f.dir, "b", more, sizeof(more)); /* shrinks b after the plan */
	ASSERT_ERR(emit_into(&f, &mem_ops, COPY_FULL, &s, &log, &d), -ESTALE);
	ASSERT_TRUE(strstr(d.msg, "/b: changed since it was scanned (size 100, scanned ") != NULL);
	mem_sink_free(&s);
	fixture_free(&f);
}

/* Through the real raw sink: direct (copy into its window) and buffered (copy_file_range)
 * build the same image as the plan says. */
static void emit_raw(int *_failed, bool buffered)
{
	struct fixture f;
	struct format_params p = { .virtual_size = DISK_SIZE, .raw_buffered = buffered };
	struct mem_sink want;
	struct progress_log log = { 0 };
	struct diag d = { 0 };
	struct outfile *o;
	struct sink *s;
	char path[128];
	uint8_t *got;
	size_t len;

	fixture_init(&f);
	ASSERT_OK(emit_into(&f, &mem_ops_nocopy, COPY_NONE, &want, &log, &d));
	snprintf(path, sizeof(path), "%s/out.img", f.dir);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(sink_open(format_find("raw"), &p, o, &d, &s));
	ASSERT_OK(image_emit(f.plan, s, NULL, &d));
	ASSERT_OK(sink_finish(s, &d));
	ASSERT_OK(read_file(path, 2 * DISK_SIZE, &got, &len));
	ASSERT_EQ(len, DISK_SIZE);
	ASSERT_TRUE(memcmp(got, want.disk, DISK_SIZE) == 0);
	free(got);
	(void)unlink(path);
	mem_sink_free(&want);
	fixture_free(&f);
}

TEST(emit_into_raw_direct)
{
	emit_raw(_failed, false);
}

TEST(emit_into_raw_buffered)
{
	emit_raw(_failed, true);
}

/* Files in a host tree deeper than PATH_MAX, planned in an order that jumps up and down it:
 * emit reaches each through its chain of directory fds (reopening levels it closed to stay
 * within its fd budget), the disk holds every file, and no fd is left open. */
#define DEEP_LEVELS 60

static int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

TEST(emit_deep_tree_in_any_order)
{
	static const unsigned order[] = { 59, 0, 30, 58, 1, 45, 2, 17, 57, 16, 3, 40, 41, 39, 29 };
	char top[64], name[120];
	struct diag d = { 0 };
	struct format_params fp = { .virtual_size = DISK_SIZE };
	struct mem_sink s = { .mode = COPY_NONE };
	struct sink *base;
	struct tree *t = tree_new();
	struct image_plan *p = image_plan_new(DISK_SIZE);
	const struct tree_node *file;
	int fd, fds_before;

	snprintf(top, sizeof(top), "/tmp/emit_test.XXXXXX");
	ASSERT_TRUE(mkdtemp(top) != NULL);
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	for (unsigned i = 0; i < DEEP_LEVELS; i++) {
		char data[16] = { 0 };
		int f, next;

		snprintf(data, sizeof(data), "level %03u", i);
		f = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ASSERT_TRUE(f >= 0);
		ASSERT_OK(pwrite_full(f, data, 16, 0));
		(void)close(f);
		snprintf(name, sizeof(name), "%03u%0100u", i, 0);
		ASSERT_OK(mkdirat(fd, name, 0755));
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ASSERT_TRUE(next >= 0);
		(void)close(fd);
		fd = next;
	}
	(void)close(fd);
	ASSERT_OK(tree_add_host_dir(t, top, "/", NULL, &d));
	ASSERT_OK(tree_finalize(t, NULL, &d));
	for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		char path[DEEP_LEVELS * 105 + 8];
		size_t n = 0;

		for (unsigned i = 0; i < order[k]; i++)
			n += (size_t)snprintf(path + n, sizeof(path) - n, "/%03u%0100u", i, 0);
		snprintf(path + n, sizeof(path) - n, "/f");
		file = tree_lookup(t, path);
		ASSERT_TRUE(file != NULL);
		image_plan_add_file(p, (uint64_t)k * 4096, 16, file, 0);
	}
	ASSERT_OK(image_plan_seal(p, &d));
	s.disk = xcalloc(1, DISK_SIZE);
	s.touched = xcalloc(1, DISK_SIZE);
	mem_open_sink = &s;
	ASSERT_OK(sink_open(&mem_ops_nocopy, &fp, NULL, &d, &base));
	fds_before = count_fds();
	ASSERT_OK(image_emit(p, base, NULL, &d));
	ASSERT_EQ(count_fds(), fds_before);
	for (unsigned k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		char want[16] = { 0 };

		snprintf(want, sizeof(want), "level %03u", order[k]);
		ASSERT_MEM_EQ(s.disk + (uint64_t)k * 4096, want, 16);
	}
	free(s.disk);
	free(s.touched);
	image_plan_free(p);
	tree_free(t);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
		ASSERT_OK(system(cmd));
	}
}
