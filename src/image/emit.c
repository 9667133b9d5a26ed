#include "image/emit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Directory fds kept open along the chain from a scan's root to the current directory
 * (besides that root's): deeper than this, the shallowest are closed and reopened from the
 * nearest open one when emit comes back up to them. */
#define EMIT_DIR_FDS 16

/* One level of the chain of open host directories. */
struct emit_dir {
	const struct tree_node *node;
	int fd; /* -1: closed, reopened from the nearest open level above when needed */
};

struct emit_state {
	const struct image_plan *plan;
	struct sink *sink;
	uint8_t *buf;
	const struct tree_node *open_node; /* the source whose fd is cached */
	int fd;
	/* fd is a tree's spill file (tree_fd_src), not ours to close or check: the node's
	 * byte 0 is at fd_base */
	bool fd_borrowed;
	uint64_t fd_base;
	/* Files found by a directory scan are opened relative to their host directory
	 * (tree.h, src_in_parent), and that directory relative to its parent's fd, as the scan
	 * read them: no path string, no PATH_MAX limit, and a directory replaced by a symlink
	 * is not followed. chain[0] is a directory whose host path is stored (a scan's root),
	 * chain[i + 1] a child of chain[i]. Files come in plan order, which follows the tree's
	 * preorder, so consecutive files mostly share a directory and the chain moves a level at
	 * a time. */
	struct emit_dir *chain;
	size_t n_chain, cap_chain, n_open;
	const struct tree_node **up; /* scratch: a directory's ancestors up to its chain root */
	size_t cap_up;
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

/* A host file or directory that is not what the scan saw. */
static int emit_stale(struct diag *d, const struct tree_node *node, const char *why)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "changed since it was scanned (%s); rerun the build", why);
	return emit_fail(d, -ESTALE, node, msg);
}

/* An open of node's host file or directory failed with err. */
static int emit_open_failed(struct diag *d, const struct tree_node *node, int err)
{
	const char *why = tree_src_open_changed(err);
	char msg[160];

	if (why)
		return emit_stale(d, node, why);
	snprintf(msg, sizeof(msg), "cannot open: %s", strerror(-err));
	return emit_fail(d, err, node, msg);
}

/* open(path) for a path that may be longer than PATH_MAX: in hops at slashes. */
static int open_long(const char *path, int flags)
{
	_cleanup_close_ int cur = -EBADF;
	size_t len = strlen(path);

	while (len >= PATH_MAX) {
		_cleanup_free_ char *hop = NULL;
		size_t cut = PATH_MAX - 1;
		int fd;

		while (cut > 0 && path[cut] != '/')
			cut--;
		if (cut == 0)
			return -ENAMETOOLONG;
		hop = xstrndup(path, cut);
		fd = openat(cur >= 0 ? cur : AT_FDCWD, hop, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		closep(&cur);
		cur = fd;
		path += cut + 1;
		len -= cut + 1;
	}
	{
		int fd = openat(cur >= 0 ? cur : AT_FDCWD, path, flags);

		return fd < 0 ? -errno : fd;
	}
}

static void emit_chain_close_from(struct emit_state *st, size_t level)
{
	while (st->n_chain > level) {
		struct emit_dir *e = &st->chain[--st->n_chain];

		if (e->fd >= 0) {
			(void)close(e->fd);
			st->n_open--;
		}
	}
}

#define EMIT_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

/* Reopen chain level i (closed) from the nearest open level above it. */
static int emit_chain_reopen(struct emit_state *st, size_t i, struct diag *d)
{
	size_t j = i;
	int cur = -1;

	while (st->chain[j].fd < 0)
		j--; /* level 0 is always open */
	for (size_t k = j + 1; k <= i; k++) {
		int fd = openat(k == j + 1 ? st->chain[j].fd : cur, st->chain[k].node->name,
				EMIT_DIR_FLAGS);
		int err = -errno;

		if (cur >= 0)
			(void)close(cur);
		if (fd < 0)
			return emit_open_failed(d, st->chain[k].node, err);
		cur = fd;
	}
	st->chain[i].fd = cur;
	st->n_open++;
	return 0;
}

/* Keep at most EMIT_DIR_FDS levels below the chain's root open: close the shallowest. */
static void emit_chain_trim(struct emit_state *st)
{
	for (size_t i = 1; st->n_open > EMIT_DIR_FDS + 1 && i + 1 < st->n_chain; i++)
		if (st->chain[i].fd >= 0) {
			(void)close(st->chain[i].fd);
			st->chain[i].fd = -1;
			st->n_open--;
		}
}

/* An fd on dir's host directory, moving the chain there. */
static int emit_dir_fd(struct emit_state *st, const struct tree_node *dir, struct diag *d)
{
	size_t n_up = 0, k;
	const struct tree_node *root;

	if (st->n_chain && st->chain[st->n_chain - 1].node == dir &&
	    st->chain[st->n_chain - 1].fd >= 0)
		return st->chain[st->n_chain - 1].fd;
	for (const struct tree_node *x = dir;; x = x->parent) {
		if (n_up == st->cap_up) {
			st->cap_up = st->cap_up ? st->cap_up * 2 : 64;
			st->up = xreallocarray(st->up, st->cap_up, sizeof(*st->up));
		}
		st->up[n_up++] = x;
		if (!x->src_in_parent)
			break;
	}
	root = st->up[n_up - 1];
	if (!root->src_path)
		return emit_fail(d, -ENOENT, dir, "internal error: no host directory");
	if (n_up > st->cap_chain) {
		st->cap_chain = MAX(n_up, st->cap_chain * 2);
		st->chain = xreallocarray(st->chain, st->cap_chain, sizeof(*st->chain));
	}
	if (!st->n_chain || st->chain[0].node != root) {
		int fd;

		emit_chain_close_from(st, 0);
		fd = open_long(root->src_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return emit_open_failed(d, root, fd);
		st->chain[0] = (struct emit_dir){ .node = root, .fd = fd };
		st->n_chain = st->n_open = 1;
	}
	for (k = 1; k < st->n_chain && k < n_up && st->chain[k].node == st->up[n_up - 1 - k]; k++)
		;
	emit_chain_close_from(st, k);
	if (st->chain[k - 1].fd < 0) {
		int r = emit_chain_reopen(st, k - 1, d);

		if (r < 0)
			return r;
	}
	for (; k < n_up; k++) {
		const struct tree_node *x = st->up[n_up - 1 - k];
		int fd = openat(st->chain[k - 1].fd, x->name, EMIT_DIR_FLAGS);

		if (fd < 0)
			return emit_open_failed(d, x, -errno);
		st->chain[k] = (struct emit_dir){ .node = x, .fd = fd };
		st->n_chain = k + 1;
		st->n_open++;
		emit_chain_trim(st);
	}
	return st->chain[st->n_chain - 1].fd;
}

/* Close the cached source after checking it is still what the scan saw (as GNU tar does
 * after reading a file: a file modified while it was read would put a state into the image
 * that never existed). */
static int emit_close_source(struct emit_state *st, struct diag *d)
{
	const struct tree_node *node = st->open_node;
	struct stat sb;
	char why[120];
	int ret = 0;

	if (st->fd < 0)
		return 0;
	if (st->fd_borrowed) {
		st->fd = -1;
		st->fd_borrowed = false;
		st->open_node = NULL;
		return 0;
	}
	if (node && fstat(st->fd, &sb) < 0) {
		snprintf(why, sizeof(why), "cannot stat: %s", strerror(errno));
		ret = emit_fail(d, -errno, node, why);
	} else if (node && tree_src_check(node, &sb, why, sizeof(why)) < 0)
		ret = emit_stale(d, node, why);
	(void)close(st->fd);
	st->fd = -1;
	st->open_node = NULL;
	return ret;
}

/* Open a node's source without following a symlink or waiting on a FIFO, and check it
 * against the scan (-ESTALE when it changed). */
static int emit_open_source(struct emit_state *st, const struct tree_node *node, struct diag *d)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	char why[160];
	struct stat sb;
	int ret;

	if (st->open_node == node)
		return 0;
	ret = emit_close_source(st, d);
	if (ret < 0)
		return ret;
	st->fd_base = 0;
	if (node->src_is_fd) {
		st->fd = node->src_fd->fd;
		st->fd_borrowed = true;
		st->fd_base = node->src_off;
		st->open_node = node;
		st->files_done++;
		return 0;
	}
	if (node->src_in_parent) {
		int dfd = emit_dir_fd(st, node->parent, d);

		if (dfd < 0)
			return dfd;
		st->fd = openat(dfd, node->name, flags);
	} else
		st->fd = open(node->src_path, flags);
	if (st->fd < 0)
		return emit_open_failed(d, node, -errno);
	if (fstat(st->fd, &sb) < 0) {
		snprintf(why, sizeof(why), "cannot stat: %s", strerror(errno));
		return emit_fail(d, -errno, node, why);
	}
	if (tree_src_check(node, &sb, why, sizeof(why)) < 0)
		return emit_stale(d, node, why);
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
	n = sink_copy_from_fd(st->sink, r->off, st->fd, st->fd_base + r->arg, (size_t)r->len, d);
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
		ret = pread_full(st->fd, st->buf, n, st->fd_base + r->arg + done);
		/* -EIO is both an early end of file and a failing device: the size tells them
		 * apart */
		if (ret == -EIO && !st->fd_borrowed && emit_shrank(st->fd, node))
			return emit_stale(d, node, "it ended early: truncated while being read");
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
	struct emit_state st = { .plan = p, .sink = s, .buf = buf, .fd = -1 };
	int ret = 0;

	for (size_t i = 0; i < p->n_ranges && ret >= 0; i++) {
		const struct image_range *r = &p->ranges[i];

		ret = image_range_is_file(r) ? emit_file(&st, r, d) : emit_fill(&st, r, d);
		st.bytes_done += r->len;
		if (prog && prog->update && ret >= 0)
			prog->update(prog->ctx, st.bytes_done, 0, st.files_done);
	}
	if (ret >= 0)
		ret = emit_close_source(&st, d);
	else if (st.fd >= 0 && !st.fd_borrowed)
		(void)close(st.fd);
	emit_chain_close_from(&st, 0);
	free(st.chain);
	free(st.up);
	return ret;
}
