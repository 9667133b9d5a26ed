#include "image/emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/format.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/xalloc.h"

/* Large enough to amortize syscalls, small enough to stay cache- and memory-friendly. */
#define EMIT_CHUNK (1024u * 1024u)

struct emit_state {
	const struct image_plan *plan;
	struct sink *sink;
	uint8_t *buf;
	const struct tree_node *open_node; /* the source whose fd is cached */
	int fd;
	/* Files found by a directory scan are opened relative to their host directory
	 * (tree.h, src_in_parent): no per-file path string, and the kernel walks one component
	 * instead of the whole path. Files come in plan order, which follows the tree's preorder,
	 * so consecutive files mostly share a directory. */
	const struct tree_node *open_dir;
	int dir_fd;
	uint64_t bytes_done, files_done;
	bool no_copy; /* the sink cannot copy from our sources: read and write from now on */
};

/* Write buf unless it is all zeros: gaps are holes to every sink. */
static int emit_chunk(struct emit_state *st, uint64_t off, const uint8_t *buf, size_t len,
		      struct diag *d)
{
	if (mem_is_zero(buf, len))
		return 0;
	return sink_write(st->sink, off, buf, len, d);
}

static int emit_fill(struct emit_state *st, const struct image_range *r, struct diag *d)
{
	for (uint64_t done = 0; done < r->len;) {
		size_t n = (size_t)MIN(r->len - done, (uint64_t)EMIT_CHUNK);
		int ret;

		/* all-zero chunks reach no sink_write: look for an interrupt here too */
		ret = interrupt_check(d);
		if (ret < 0)
			return ret;
		memset(st->buf, 0, n);
		ret = image_range_fill(st->plan, r, done, st->buf, n, d);
		if (ret < 0)
			return ret;
		ret = emit_chunk(st, r->off + done, st->buf, n, d);
		if (ret < 0)
			return ret;
		done += n;
	}
	return 0;
}

/* A message naming a node's host file (or its image name when it has none). */
static int emit_fail(struct diag *d, int err, const struct tree_node *node, const char *what)
{
	_cleanup_free_ char *path = tree_node_src_path(node);

	return diag_fail(d, err, "%s: %s", path ? path : node->name, what);
}

static int emit_open_fd(struct emit_state *st, const struct tree_node *node)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;

	if (!node->src_in_parent)
		return open(node->src_path, flags);
	if (st->open_dir != node->parent) {
		_cleanup_free_ char *dir = tree_node_src_path(node->parent);

		if (st->dir_fd >= 0)
			(void)close(st->dir_fd);
		st->open_dir = NULL;
		st->dir_fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (st->dir_fd < 0)
			return -1;
		st->open_dir = node->parent;
	}
	return openat(st->dir_fd, node->name, flags);
}

/* Open a node's source and check it against the plan (-ESTALE when it changed). */
static int emit_open_source(struct emit_state *st, const struct tree_node *node, struct diag *d)
{
	char msg[160];
	struct stat sb;

	if (st->open_node == node)
		return 0;
	if (st->fd >= 0)
		(void)close(st->fd);
	st->fd = -1;
	st->open_node = NULL;
	st->fd = emit_open_fd(st, node);
	if (st->fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		return emit_fail(d, -errno, node, msg);
	}
	if (fstat(st->fd, &sb) < 0) {
		snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(errno));
		return emit_fail(d, -errno, node, msg);
	}
	if ((uint64_t)sb.st_size != node->size || sb.st_mtim.tv_sec != node->src_mtime_sec ||
	    (uint32_t)sb.st_mtim.tv_nsec != node->src_mtime_nsec) {
		snprintf(msg, sizeof(msg),
			 "changed while building (size %llu, planned %llu); rebuild from a stable "
			 "tree",
			 (unsigned long long)sb.st_size, (unsigned long long)node->size);
		return emit_fail(d, -ESTALE, node, msg);
	}
	st->open_node = node;
	st->files_done++;
	return 0;
}

/* Let the sink take the range from the source itself when it can (raw output copies in the
 * kernel or reads straight into its direct-I/O window): returns the bytes copied (the rest,
 * after a short copy, goes through the buffer, which also reports a source that shrank). The
 * first "not possible" answer switches copying off for the rest of the run. Copied zero
 * blocks are data in the output, not holes: finding them would mean reading them. */
static ssize_t emit_copy(struct emit_state *st, const struct image_range *r, struct diag *d)
{
	_cleanup_free_ char *path = NULL;
	ssize_t n;

	if (st->no_copy)
		return 0;
	n = sink_copy_from_fd(st->sink, r->off, st->fd, r->arg, (size_t)r->len, d);
	if (n >= 0)
		return n;
	if (sink_copy_unsupported(n)) {
		st->no_copy = true;
		return 0;
	}
	path = tree_node_src_path(image_range_node(r));
	return diag_prepend(d, (int)n, "%s", path ? path : image_range_node(r)->name);
}

static bool emit_shrank(int fd, const struct tree_node *node)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && (uint64_t)sb.st_size < node->size;
}

static int emit_file(struct emit_state *st, const struct image_range *r, struct diag *d)
{
	const struct tree_node *node = image_range_node(r);
	ssize_t copied;
	int ret;

	if (r->arg + r->len > node->size)
		return emit_fail(d, -EINVAL, node, "internal error: file range past the end");
	if (node->src_data)
		return emit_chunk(st, r->off, node->src_data + r->arg, (size_t)r->len, d);

	ret = emit_open_source(st, node, d);
	if (ret < 0)
		return ret;
	copied = emit_copy(st, r, d);
	if (copied < 0)
		return copied;
	for (uint64_t done = (uint64_t)copied; done < r->len;) {
		size_t n = (size_t)MIN(r->len - done, (uint64_t)EMIT_CHUNK);

		ret = interrupt_check(d);
		if (ret < 0)
			return ret;
		ret = pread_full(st->fd, st->buf, n, r->arg + done);
		/* -EIO is both an early end of file and a failing device: the size tells them
		 * apart */
		if (ret == -EIO && emit_shrank(st->fd, node))
			return emit_fail(d, -ESTALE, node,
					 "shrank while building; rebuild from a stable tree");
		if (ret < 0) {
			char msg[160];

			snprintf(msg, sizeof(msg), "cannot read: %s", strerror(-ret));
			return emit_fail(d, ret, node, msg);
		}
		ret = emit_chunk(st, r->off + done, st->buf, n, d);
		if (ret < 0)
			return ret;
		done += n;
	}
	return 0;
}

int image_emit(const struct image_plan *p, struct sink *s, const struct image_emit_progress *prog,
	       struct diag *d)
{
	_cleanup_free_ uint8_t *buf = xmalloc(EMIT_CHUNK);
	struct emit_state st = { .plan = p, .sink = s, .buf = buf, .fd = -1, .dir_fd = -1 };
	int ret = 0;

	for (size_t i = 0; i < p->n_ranges && ret >= 0; i++) {
		const struct image_range *r = &p->ranges[i];

		ret = image_range_is_file(r) ? emit_file(&st, r, d) : emit_fill(&st, r, d);
		st.bytes_done += r->len;
		if (prog && prog->update && ret >= 0)
			prog->update(prog->ctx, st.bytes_done, 0, st.files_done);
	}
	if (st.fd >= 0)
		(void)close(st.fd);
	if (st.dir_fd >= 0)
		(void)close(st.dir_fd);
	return ret;
}
