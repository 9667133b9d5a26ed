/* The order of a resize (resize.h): open and measure, plan every change in memory (table,
 * then filesystem), then commit in one step. */
#include "resize/resize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/format.h"
#include "format/reader.h"
#include "resize/commit.h"
#include "resize/view.h"
#include "spec/spec.h"
#include "util/cleanup.h"
#include "util/diag.h"

#define MIB (1ull << 20)

static int read_io(void *ctx, void *buf, size_t len, uint64_t off, struct diag *d)
{
	return resize_view_read(ctx, off, buf, len, d);
}

/* "2.0 GiB", "300 MiB": for the refusal. */
static void size_words(uint64_t n, char buf[32])
{
	if (n >= (1ull << 30))
		snprintf(buf, 32, "%.1f GiB", (double)n / (double)(1ull << 30));
	else
		snprintf(buf, 32, "%llu MiB", (unsigned long long)(n >> 20));
}

static int new_size(const struct resize_params *p, uint64_t old, struct diag *d,
		    struct resize_result *res)
{
	uint64_t want = p->size;
	char o[32];

	if (p->relative) {
		if (want > UINT64_MAX - old)
			return diag_fail(d, -ERANGE, "%s: +%llu bytes is too large", p->path,
					 (unsigned long long)want);
		want += old;
	}
	res->asked_size = want;
	if (want > UINT64_MAX - MIB)
		return diag_fail(d, -ERANGE, "%s: size %llu bytes is too large", p->path,
				 (unsigned long long)want);
	want = (want + MIB - 1) / MIB * MIB;
	size_words(old, o);
	if (want < old)
		return diag_fail(d, -EINVAL, "%s is %s (%llu bytes): resize only grows images, "
				 "give a size of at least that", p->path, o,
				 (unsigned long long)old);
	res->new_size = want;
	return 0;
}

/* The sink that writes the image again, with the options the file records. */
static int rewrite_params(struct image_input *in, const struct resize_params *p,
			  uint64_t size, struct diag *d, const struct format_ops **ret_ops,
			  struct format_params *fp, struct resize_result *res)
{
	const struct reader_ops *ro = in->reader->ops;
	const char *name = ro->name;
	int r;

	*fp = (struct format_params){
		.virtual_size = size,
		.seed = p->seed,
		.timestamp = p->timestamp,
		.n_threads = p->n_threads,
	};
	if (ro->write_params) {
		r = ro->write_params(in->reader, &name, fp, res->kept, sizeof(res->kept), d);
		if (r < 0)
			return diag_prepend(d, r, "%s", p->path);
	}
	*ret_ops = format_find(name);
	if (!*ret_ops)
		return diag_fail(d, -ENOTSUP, "%s: resize cannot write %s images", p->path, name);
	res->sink = (*ret_ops)->name;
	return 0;
}

/* The raw file again, read-write, and the same file the reader has. */
static int open_in_place(struct image_input *in, struct diag *d, int *ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat a, b;

	if (fstat(in->fd, &a) < 0)
		return diag_fail(d, -errno, "%s: %s", in->path, strerror(errno));
	if (!S_ISREG(a.st_mode))
		return diag_fail(d, -EINVAL, "%s: not a regular file (resize grows image files, "
				 "not devices)", in->path);
	fd = open(in->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return diag_fail(d, -errno, "%s: cannot open for writing: %s", in->path,
				 strerror(errno));
	if (fstat(fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return diag_fail(d, -ESTALE, "%s: the file changed while it was read", in->path);
	*ret = TAKE_FD(fd);
	return 0;
}

static int plan(struct resize_view *v, const struct resize_params *p, struct diag *d,
		struct resize_result *res)
{
	_cleanup_(part_probe_freep) struct part_probe *pp = NULL;
	struct part_probe_io io = { read_io, v };
	int r;

	/* the table as it is (reads below the old end only) */
	r = part_probe_io(&io, v->old_size, d, &pp);
	if (r < 0)
		return diag_prepend(d, r, "%s", p->path);
	res->table = pp->kind;
	r = resize_table_grow(v, pp, p->partition, d, &res->part);
	if (r < 0)
		return diag_prepend(d, r, "%s", p->path);
	r = resize_fs_grow(v, &res->part, d, &res->fs);
	if (r < 0 && res->part.number)
		return diag_prepend(d, r, "%s: partition %u", p->path, res->part.number);
	if (r < 0)
		return diag_prepend(d, r, "%s", p->path);
	res->nothing = v->new_size == v->old_size && res->part.new_bytes == res->part.old_bytes &&
		       !(pp->kind == PART_PROBE_GPT && pp->backup_bad);
	return 0;
}

int resize_image(const struct resize_params *p, struct diag *d, struct resize_result *ret)
{
	_cleanup_(image_input_freep) struct image_input *in = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct resize_result res = { 0 };
	struct resize_view v;
	const struct format_ops *ops = NULL;
	struct format_params fp;
	int r;

	r = image_reader_open(p->path, p->format, d, &in);
	if (r < 0)
		return r;
	res.format = in->reader->ops->name;
	res.old_size = in->reader->virtual_size;
	r = new_size(p, res.old_size, d, &res);
	if (r < 0)
		return r;
	res.in_place = strcmp(res.format, "raw") == 0;
	if (res.in_place) {
		r = open_in_place(in, d, &fd);
		res.sink = "raw";
	} else
		r = rewrite_params(in, p, res.new_size, d, &ops, &fp, &res);
	if (r < 0)
		return r;

	resize_view_init(&v, in, res.new_size);
	r = plan(&v, p, d, &res);
	if (r >= 0 && !res.nothing) {
		res.changed_bytes = resize_overlay_bytes(&v.ov);
		r = res.in_place ? resize_commit_in_place(&v, fd, p->path, d)
				 : resize_commit_rewrite(&v, p->path, ops, &fp, d);
	}
	resize_view_done(&v);
	if (r < 0)
		return r;
	*ret = res;
	return 0;
}

int resize_size_parse(const char *s, uint64_t *ret, bool *ret_relative)
{
	bool rel = s[0] == '+';
	uint64_t v;
	int r = size_parse_mib(s + rel, &v);

	if (r < 0)
		return r;
	if (v == 0 && !rel)
		return -EINVAL;
	*ret = v;
	*ret_relative = rel;
	return 0;
}
