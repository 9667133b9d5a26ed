/* A tar archive as a root source (--root-tar), read with libarchive: the same nodes a scan of
 * the extracted tree would give, without extracting it (no root needed to keep owners,
 * device nodes or capabilities). With tar-xattr.c (xattrs, ACLs) the only files that include
 * <archive.h>.
 *
 * One pass, bounded memory: every regular file's bytes go into one unlinked spill file in
 * TMPDIR at a 4 KiB-aligned offset, written with pwrite at (offset + position in the file),
 * so a sparse member leaves holes in the spill file too; the node records that offset
 * (src_is_fd, src_off) and emit reads from there. Reading the archive twice when it is a
 * seekable plain file would save the copy, but one path for pipes, compressed input and
 * files keeps the reader simple; the spill file costs the archive's data size in TMPDIR.
 *
 * Formats: tar only (ustar, pax, GNU incl. sparse, v7), plain or gzip, bzip2, xz, lzma, zstd
 * or lz4-compressed. cpio, zip and others are refused: they carry no xattrs or ACLs.
 *
 * Paths are untrusted: leading "/" and "./" are dropped, "." components skipped, ".."
 * refused. A later entry of a path replaces an earlier one, as tar -x does (a directory
 * onto a directory updates its metadata); missing parents are created as 0755 root:root
 * directories. Lookups go through a hash of (parent, name), children are appended and
 * sorted once at the end: the reader is linear in the archive (plus one sort). */
#include "tree/tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree/tar-internal.h"
#include "tree/tree-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define TAR_ALIGN 4096u
#define TAR_BLOCK (64u * 1024u)
#define TAR_LINK_MAX 4095u   /* PATH_MAX - 1: what a symlink can hold */
/* Hard-link groups are keyed by (TAR_DEV, the group's first node) in the tree's host ids. */
#define TAR_DEV UINT64_MAX
#define TAR_OVERFLOW_ID 65534u /* the kernel's overflowuid/overflowgid */

static uint64_t hash_key(const struct tree_node *parent, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)parent;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static size_t slot_of(const struct tar_ctx *c, const struct tree_node *parent, const char *name,
		      size_t len)
{
	size_t mask = c->n_slots - 1, i = (size_t)hash_key(parent, name, len) & mask;

	for (;; i = (i + 1) & mask) {
		const struct tree_node *n = c->slots[i];

		if (!n || (n->parent == parent && n->name_len == len && memcmp(n->name, name, len) == 0))
			return i;
	}
}

static void index_put(struct tar_ctx *c, struct tree_node *n);

static void index_grow(struct tar_ctx *c)
{
	struct tree_node **old = c->slots;
	size_t n_old = c->n_slots;

	c->n_slots = n_old ? n_old * 2 : 1024;
	c->slots = xcalloc(c->n_slots, sizeof(*c->slots));
	c->n_used = 0;
	for (size_t i = 0; i < n_old; i++)
		if (old[i])
			index_put(c, old[i]);
	free(old);
}

/* Insert or replace (same parent and name) n. */
static void index_put(struct tar_ctx *c, struct tree_node *n)
{
	size_t i;

	if ((c->n_used + 1) * 2 > c->n_slots)
		index_grow(c);
	i = slot_of(c, n->parent, n->name, n->name_len);
	if (!c->slots[i])
		c->n_used++;
	c->slots[i] = n;
}

static struct tree_node *index_get(const struct tar_ctx *c, const struct tree_node *parent,
				   const char *name, size_t len)
{
	return c->slots[slot_of(c, parent, name, len)];
}

/* What is under top already (a tree the archive merges into) goes into the index. */
static void index_existing(struct tar_ctx *c, struct tree_node *dir)
{
	for (uint32_t i = 0; i < dir->n_children; i++) {
		dir->children[i]->parent = dir;
		index_put(c, dir->children[i]);
		if (dir->children[i]->type == TREE_DIR)
			index_existing(c, dir->children[i]);
	}
}

static void add_child(struct tar_ctx *c, struct tree_node *dir, struct tree_node *n)
{
	if (dir->n_children == 0 || dir->children_exact || c->n_dirs == 0 ||
	    c->dirs[c->n_dirs - 1] != dir) {
		if (c->n_dirs == c->cap_dirs) {
			c->cap_dirs = c->cap_dirs ? c->cap_dirs * 2 : 64;
			c->dirs = xreallocarray(c->dirs, c->cap_dirs, sizeof(*c->dirs));
		}
		c->dirs[c->n_dirs++] = dir; /* duplicates are harmless: sorting is idempotent */
	}
	tree_node_append(c->t, dir, n);
	index_put(c, n);
}

int tar_fail(struct tar_ctx *c, int err, const char *path, const char *why)
{
	return diag_fail(c->d, err, "%s: %s: %s", c->what, path, why);
}

/* Split an archive path into components: leading "/" and "." dropped, ".." refused. Returns
 * the number of components (0: the top directory itself) with their starts and lengths. */
static int split_path(struct tar_ctx *c, const char *path, const char ***ret_s, size_t **ret_l,
		      size_t *ret_n)
{
	_cleanup_free_ const char **s = NULL;
	_cleanup_free_ size_t *l = NULL;
	size_t n = 0, cap = 0;

	for (const char *p = path; *p;) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		if (e - p == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return tar_fail(c, -EINVAL, path, "a \"..\" component; refused");
		if ((size_t)(e - p) > TREE_NAME_MAX)
			return tar_fail(c, -ENAMETOOLONG, path, "a name longer than 255 bytes");
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			s = xreallocarray(s, cap, sizeof(*s));
			l = xreallocarray(l, cap, sizeof(*l));
		}
		s[n] = p;
		l[n++] = (size_t)(e - p);
		p = e;
	}
	*ret_s = TAKE_PTR(s);
	*ret_l = TAKE_PTR(l);
	*ret_n = n;
	return 0;
}

/* The directory that holds the entry's last component, creating missing ones (0755 0:0). */
static int walk_parents(struct tar_ctx *c, const char *path, const char **s, const size_t *l,
			size_t n, struct tree_node **ret)
{
	struct tree_node *dir = c->top;

	for (size_t i = 0; i + 1 < n; i++) {
		struct tree_node *x = index_get(c, dir, s[i], l[i]);

		if (!x) {
			x = tree_node_alloc(c->t, s[i], l[i], TREE_DIR);
			x->mode = 0755;
			add_child(c, dir, x);
		} else if (x->type != TREE_DIR)
			return tar_fail(c, -ENOTDIR, path, "a parent is not a directory in the archive");
		dir = x;
	}
	*ret = dir;
	return 0;
}

static enum tree_type type_of(struct archive_entry *e)
{
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return TREE_DIR;
	case AE_IFREG:
		return TREE_REG;
	case AE_IFLNK:
		return TREE_SYMLINK;
	case AE_IFCHR:
		return TREE_CHR;
	case AE_IFBLK:
		return TREE_BLK;
	case AE_IFIFO:
		return TREE_FIFO;
	case AE_IFSOCK:
		return TREE_SOCK;
	default:
		return 0;
	}
}

static void apply_meta(const struct tar_ctx *c, struct tree_node *n, struct archive_entry *e)
{
	/* la_int64_t ids: one outside 0..2^32-2 is no owner Linux can have; it becomes the
	 * kernel's overflow id 65534 (nobody), as an unmappable id does, never root */
	int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

	tree_node_set_access(n, c->o, (uint32_t)archive_entry_perm(e),
			     uid >= 0 && uid < UINT32_MAX ? (uint32_t)uid : TAR_OVERFLOW_ID,
			     gid >= 0 && gid < UINT32_MAX ? (uint32_t)gid : TAR_OVERFLOW_ID);
	n->mtime_sec = archive_entry_mtime_is_set(e) ? (int64_t)archive_entry_mtime(e) : 0;
	n->mtime_nsec = archive_entry_mtime_is_set(e) ? (uint32_t)archive_entry_mtime_nsec(e) : 0;
	if (n->mtime_nsec >= 1000000000u)
		n->mtime_nsec = 0;
	/* A pax time is a decimal number, "-1.25" a second and a quarter before the epoch;
	 * libarchive splits it into (-1, 250000000) (its pax_time signs the seconds only). */
	if (n->mtime_sec < 0 && n->mtime_nsec > 0) {
		n->mtime_sec -= 1;
		n->mtime_nsec = 1000000000u - n->mtime_nsec;
	}
}

static void extent_add(struct tree_extent **v, size_t *n, size_t *cap, uint64_t off,
		       uint64_t end)
{
	if (*n > 0 && (*v)[*n - 1].off + (*v)[*n - 1].len >= off) {
		struct tree_extent *x = &(*v)[*n - 1];

		if (end > x->off + x->len)
			x->len = end - x->off;
		return;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = (struct tree_extent){ .off = off, .len = end - off };
}

static int spill_open(struct tar_ctx *c)
{
	int fd = tmpfile_open(c->tmp_dir, "tar");

	if (fd < 0)
		return diag_fail(c->d, fd,
				 "%s: cannot create a spill file in %s (TMPDIR): %s", c->what,
				 c->tmp_dir, strerror(-fd));
	c->spill = tree_fd_src_new(c->t, fd, c->what);
	return 0;
}

/* A regular file's data into the spill file; its data ranges (libarchive leaves out a
 * sparse member's holes), widened to 4 KiB as the scan's are, make it sparse when they do
 * not cover it. */
static int read_data(struct tar_ctx *c, const char *path, struct archive *a, struct tree_node *n)
{
	_cleanup_free_ struct tree_extent *v = NULL;
	size_t n_v = 0, cap = 0;
	uint64_t size = n->size, base = c->spill_pos, end = 0;

	if (size > UINT64_MAX - TAR_ALIGN - base || size > INT64_MAX - base - TAR_ALIGN)
		return tar_fail(c, -EFBIG, path, "the archive's data is too large");
	n->src_is_fd = true;
	n->src_fd = c->spill;
	n->src_off = base;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return tar_fail(c, -EBADMSG, path, archive_error_string(a) ?: "cannot read");
		if (off < 0 || (uint64_t)off > size || len > size - (uint64_t)off)
			return tar_fail(c, -EBADMSG, path, "data past the file's size");
		if (len == 0)
			continue;
		if ((uint64_t)off < end)
			return tar_fail(c, -EBADMSG, path, "data blocks out of order");
		end = (uint64_t)off + len;
		r = pwrite_full(c->spill->fd, buf, len, base + (uint64_t)off);
		if (r < 0)
			return diag_fail(c->d, r,
					 "%s: cannot write the spill file in %s: %s%s", c->what,
					 c->tmp_dir, strerror(-r),
					 r == -ENOSPC || r == -EDQUOT
						 ? "; it needs the archive's data size: set TMPDIR "
						   "to a directory with room"
						 : "");
		extent_add(&v, &n_v, &cap, (uint64_t)off / TAR_ALIGN * TAR_ALIGN,
			   MIN(ROUND_UP((uint64_t)off + len, TAR_ALIGN), size));
	}
	c->spill_pos = base + ROUND_UP(size, TAR_ALIGN);
	if (n_v == 1 && v[0].off == 0 && v[0].len == size)
		return 0;
	if (size == 0 && n_v == 0)
		return 0;
	tree_node_set_sparse(c->t, n, n_v ? tree_memdup(c->t, v, n_v * sizeof(*v)) : NULL, n_v);
	return 0;
}

/* The node a hard-link entry names, as an earlier entry. */
static int link_target(struct tar_ctx *c, const char *path, const char *target,
		       struct tree_node **ret)
{
	_cleanup_free_ const char **s = NULL;
	_cleanup_free_ size_t *l = NULL;
	struct tree_node *x = c->top;
	size_t n;
	int r;

	r = split_path(c, target, &s, &l, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && x; i++)
		x = x->type == TREE_DIR ? index_get(c, x, s[i], l[i]) : NULL;
	if (!x || n == 0)
		return tar_fail(c, -ENOENT, path, "a hard link to a path not earlier in the archive");
	if (x->type == TREE_DIR)
		return tar_fail(c, -EPERM, path, "a hard link to a directory");
	*ret = x;
	return 0;
}

/* n becomes another name of target's inode: same fields, one hard-link group. The group's
 * key is its first node, kept in ->hardlink until tree_finalize sets the real value. */
static void make_link(struct tar_ctx *c, struct tree_node *n, struct tree_node *target)
{
	struct tree_node *key = target->hardlink;
	char *name = n->name;
	uint8_t name_len = n->name_len;

	if (!key) {
		key = target;
		target->hardlink = key;
		tree_add_host_id(c->t, target, TAR_DEV, (uint64_t)(uintptr_t)key, c->scope);
	}
	*n = *target;
	n->name = name;
	n->name_len = name_len;
	n->parent = NULL;
	n->hardlink = key;
	tree_add_host_id(c->t, n, TAR_DEV, (uint64_t)(uintptr_t)key, c->scope);
}

/* Put n at (dir, name): a new child, or in place of a non-directory (later entry wins). */
static int place(struct tar_ctx *c, const char *path, struct tree_node *dir, struct tree_node *n,
		 struct tree_node *old)
{
	if (!old) {
		add_child(c, dir, n);
		return 0;
	}
	if (old->type == TREE_DIR)
		return tar_fail(c, -EEXIST, path, "replaces a directory of an earlier entry; refused");
	if (old->hardlink)
		tree_forget_host_id(c->t, old);
	for (uint32_t i = 0; i < dir->n_children; i++)
		if (dir->children[i] == old) {
			dir->children[i] = n;
			break;
		}
	n->parent = dir;
	index_put(c, n);
	return 0;
}

static int read_entry(struct tar_ctx *c, struct archive *a, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	_cleanup_free_ const char **s = NULL;
	_cleanup_free_ size_t *l = NULL;
	struct tree_node *dir = NULL, *old, *n, *target = NULL;
	enum tree_type type = type_of(e);
	size_t n_s;
	int r;

	if (!path)
		return diag_fail(c->d, -EBADMSG, "%s: an entry without a readable path", c->what);
	r = split_path(c, path, &s, &l, &n_s);
	if (r < 0)
		return r;
	if (hl) {
		r = link_target(c, path, hl, &target);
		if (r < 0)
			return r;
		type = target->type;
	}
	if (!type)
		return tar_fail(c, -ENOTSUP, path, "an unsupported file type");
	if (n_s == 0) { /* "./": the top directory's own metadata */
		if (type != TREE_DIR)
			return tar_fail(c, -ENOTDIR, path, "the archive's top is not a directory");
		apply_meta(c, c->top, e);
		return tar_read_xattrs(c, path, e, c->top);
	}
	r = walk_parents(c, path, s, l, n_s, &dir);
	if (r < 0)
		return r;
	old = index_get(c, dir, s[n_s - 1], l[n_s - 1]);
	if (old && old->type == TREE_DIR && type == TREE_DIR) {
		apply_meta(c, old, e);
		return tar_read_xattrs(c, path, e, old);
	}
	n = tree_node_alloc(c->t, s[n_s - 1], l[n_s - 1], type);
	if (target) {
		if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
			return tar_fail(c, -ENOTSUP, path, "a hard link carrying data");
		make_link(c, n, target);
		return place(c, path, dir, n, old);
	}
	apply_meta(c, n, e);
	r = tar_read_xattrs(c, path, e, n);
	if (r < 0)
		return r;
	switch (type) {
	case TREE_REG:
		if (archive_entry_size(e) < 0)
			return tar_fail(c, -EBADMSG, path, "a negative size");
		n->size = (uint64_t)archive_entry_size(e);
		r = read_data(c, path, a, n);
		break;
	case TREE_SYMLINK: {
		const char *t = archive_entry_symlink(e);
		size_t len = t ? strlen(t) : 0;

		if (!t || len == 0 || len > TAR_LINK_MAX)
			return tar_fail(c, -EBADMSG, path, "a symbolic link with an empty or too long target");
		n->link_target = tree_strndup(c->t, t, len);
		n->size = len;
		break;
	}
	case TREE_CHR:
	case TREE_BLK:
		n->rdev_major = (uint32_t)archive_entry_rdevmajor(e);
		n->rdev_minor = (uint32_t)archive_entry_rdevminor(e);
		break;
	default:
		break;
	}
	if (r < 0)
		return r;
	return place(c, path, dir, n, old);
}

static int open_failed(struct tar_ctx *c, struct archive *a)
{
	const char *why = archive_error_string(a);
	int err = archive_errno(a) > 0 ? -archive_errno(a) : -EBADMSG;

	if (err == -EBADMSG || err == -EINVAL || err == -EILSEQ || (why && strstr(why, "format")))
		return diag_fail(c->d, -EBADMSG,
				 "%s: not a tar archive (%s); give a tar, plain or gzip, bzip2, "
				 "xz, lzma, zstd or lz4-compressed",
				 c->what, why ? why : "unrecognized");
	return diag_fail(c->d, err, "%s: cannot read: %s", c->what, why ? why : strerror(-err));
}

static struct archive *archive_alloc(void)
{
	struct archive *a = archive_read_new();

	if (!a)
		abort(); /* out of memory, as xmalloc would */
	return a;
}

static struct archive *archive_new(void)
{
	static int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,	  archive_read_support_filter_lzma,
		archive_read_support_filter_zstd, archive_read_support_filter_lz4,
	};
	struct archive *a = archive_alloc();

	/* The built-in decoders only: a libarchive built without one's library answers
	 * ARCHIVE_WARN and would start the program (gzip -d, lz4 -d ...) instead. The build path
	 * runs no programs, so such a filter is left out (tried on a scratch reader first, as
	 * registering cannot be undone). */
	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		struct archive *probe = archive_alloc();

		if (filters[i](probe) == ARCHIVE_OK)
			(void)filters[i](a);
		archive_read_free(probe);
	}
	(void)archive_read_support_format_tar(a);
	return a;
}

static int read_all(struct tar_ctx *c, struct archive *a)
{
	struct archive_entry *e;
	int r = 0;

	for (;;) {
		int ar = archive_read_next_header(a, &e);

		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return c->spill_pos == 0 && c->n_used == 0 ? open_failed(c, a)
				: diag_fail(c->d, -EBADMSG, "%s: %s", c->what,
					    archive_error_string(a) ?: "cannot read the next entry");
		r = read_entry(c, a, e);
		if (r < 0)
			return r;
	}
	/* every file's padding up to its 4 KiB end reads as zeros */
	if (c->spill_pos && ftruncate(c->spill->fd, (off_t)c->spill_pos) < 0)
		return diag_fail(c->d, -errno, "%s: cannot write the spill file in %s: %s",
				 c->what, c->tmp_dir, strerror(errno));
	for (size_t i = 0; i < c->n_dirs; i++)
		tree_node_sort_children(c->dirs[i]);
	return 0;
}

static int tar_add(struct tree *t, struct archive *a, const char *what, const char *target,
		   const struct tree_add_opts *o, const char *tmp_dir, struct diag *d)
{
	struct tar_ctx c = { .t = t, .o = o, .d = d, .what = what,
			     .tmp_dir = tmp_dir && *tmp_dir ? tmp_dir : "/tmp" };
	int r;

	c.scope = o && o->link_scope ? o->link_scope : tree_link_scope_new(t);
	r = tree_mkdir_p(t, target, 0755, 0, 0, 0, &c.top);
	if (r < 0)
		return tree_path_error(d, r, target);
	r = spill_open(&c);
	if (r < 0)
		return r;
	index_grow(&c);
	index_existing(&c, c.top);
	r = read_all(&c, a);
	free(c.slots);
	free(c.dirs);
	return r;
}

int tree_add_tar(struct tree *t, const char *path, const char *target,
		 const struct tree_add_opts *o, const char *tmp_dir, struct diag *d)
{
	bool std_in = strcmp(path, "-") == 0;
	const char *what = std_in ? "standard input" : path;
	struct archive *a = archive_new();
	struct tar_ctx c = { .d = d, .what = what };
	int r;

	struct stat st;

	if (!std_in && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		archive_read_free(a);
		return diag_fail(d, -EISDIR, "%s: a directory, not a tar archive; give it as "
				 "--root DIR", path);
	}
	if (std_in)
		r = archive_read_open_fd(a, STDIN_FILENO, TAR_BLOCK);
	else
		r = archive_read_open_filename(a, path, TAR_BLOCK);
	if (r != ARCHIVE_OK) {
		if (archive_errno(a) == ENOENT)
			r = diag_fail(d, -ENOENT, "%s does not exist", path);
		else
			r = open_failed(&c, a);
	} else
		r = tar_add(t, a, what, target, o, tmp_dir, d);
	archive_read_free(a);
	return r;
}

int tree_add_tar_memory(struct tree *t, const void *data, size_t len, const char *what,
			const char *target, const struct tree_add_opts *o, const char *tmp_dir,
			struct diag *d)
{
	struct archive *a = archive_new();
	struct tar_ctx c = { .d = d, .what = what };
	int r;

	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
		r = open_failed(&c, a);
	else
		r = tar_add(t, a, what, target, o, tmp_dir, d);
	archive_read_free(a);
	return r;
}
