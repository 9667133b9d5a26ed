/* Host directory scan: metadata only (fstatat, readlinkat, xattrs), no chdir, no readdir
 * order, atimes, ctimes or inode numbers in the model (inode numbers only group hard links).
 *
 * Directories are scanned one at a time from an explicit stack: a directory's entries are read,
 * sorted and turned into nodes while one fd is open on it, and its subdirectories are pushed
 * with their path relative to the scan root. Each is later opened with openat() from the root's
 * fd (in PATH_MAX-sized hops when the relative path is longer), so at most three fds are open
 * whatever the depth, and the recursion depth is constant. */
#include "tree/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tree/tree-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

/* Sparse data ranges are widened outward to this granularity (the filesystem block size we
 * write); the widened bytes are zeros in the source. */
#define SCAN_SPARSE_ALIGN 4096u

/* Files and directories the build user cannot read are collected and reported together, the
 * first this many by name. */
#define SCAN_UNREADABLE_NAMED 10

/* The same number on every architecture (the unified syscall table); glibc 2.36 lacks it. */
#define SCAN_SYS_listxattrat 465

struct scan_ctx {
	struct tree *t;
	const struct tree_add_opts *o;
	struct diag *d;
	const char *src; /* host path of the scan root, no trailing slash */
	int root_fd;
	uint32_t scope;
	bool proc_fd; /* /proc/self/fd works: xattr paths stay short at any depth */
	bool listxattrat;
	uid_t euid;
	gid_t egid;
	gid_t *groups;
	int n_groups;
	/* paths below src the build user cannot read (the first SCAN_UNREADABLE_NAMED), and
	 * how many there are */
	char *unreadable[SCAN_UNREADABLE_NAMED];
	size_t n_unreadable;
};

/* A file or directory the build user may not read (-EACCES/-EPERM) is noted, and the scan
 * goes on so that one error can name them all; any other error fails here. */
static int scan_unreadable(struct scan_ctx *c, const char *host_path, bool dir, int err)
{
	size_t n = strlen(c->src);
	const char *rel = host_path;

	if (err != -EACCES && err != -EPERM)
		return diag_fail(c->d, err, "%s: cannot read: %s", host_path, strerror(-err));
	if (strcmp(c->src, "/") == 0)
		rel = host_path + 1;
	else if (strncmp(host_path, c->src, n) == 0 && host_path[n] == '/')
		rel = host_path + n + 1;
	if (c->n_unreadable < SCAN_UNREADABLE_NAMED)
		c->unreadable[c->n_unreadable] = xasprintf("%s%s", rel, dir ? "/" : "");
	c->n_unreadable++;
	return 0;
}

/* The one error for every unreadable file, with the two ways out. */
static int scan_unreadable_report(struct scan_ctx *c)
{
	_cleanup_free_ char *list = NULL, *more = NULL;
	size_t named = MIN(c->n_unreadable, (size_t)SCAN_UNREADABLE_NAMED);
	int r;

	if (c->n_unreadable == 0)
		return 0;
	for (size_t i = 0; i < named; i++) {
		char *next = xasprintf("%s%s%s", list ? list : "", list ? ", " : "", c->unreadable[i]);

		free(list);
		list = next;
	}
	if (c->n_unreadable > named)
		more = xasprintf(", and %zu more", c->n_unreadable - named);
	r = diag_fail(c->d, -EACCES,
		      "cannot read %zu %s of %s as uid %u: %s%s; run as their owner, or pack "
		      "the tree where it can be read: tar --xattrs -C %s -c . | mkdiskimage "
		      "build --root-tar -",
		      c->n_unreadable, c->n_unreadable == 1 ? "file" : "files", c->src,
		      (unsigned)c->euid, list, more ? more : "", c->src);
	return r;
}

struct scan_item {
	struct tree_node *node;
	char *rel; /* path below the scan root, "" for the root */
	uint64_t dev, ino;
};

struct xattr_tmp {
	char *name;
	uint8_t *value;
	size_t len;
};

static int xattr_tmp_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xattr_tmp *)a)->name, ((const struct xattr_tmp *)b)->name);
}

static bool xattr_skippable(int err)
{
	/* Namespaces an unprivileged reader may not see (trusted.*), or attributes that went
	 * away between list and get. */
	return err == EPERM || err == ENODATA || err == ENOTSUP || err == EACCES;
}

/* Where an entry's attributes are read: an open fd, or dfd + name (listxattrat, Linux 6.13,
 * saves the /proc/self/fd path walk on every file), or a path. */
struct xattr_src {
	int fd, dfd;
	const char *name, *path;
};

static ssize_t xlist(struct scan_ctx *c, const struct xattr_src *x, char *buf, size_t size)
{
	if (x->fd >= 0)
		return flistxattr(x->fd, buf, size);
	if (x->dfd >= 0 && c->listxattrat) {
		long r = syscall(SCAN_SYS_listxattrat, x->dfd, x->name, AT_SYMLINK_NOFOLLOW, buf,
				 size);

		if (r >= 0 || errno != ENOSYS)
			return (ssize_t)r;
		c->listxattrat = false;
	}
	return llistxattr(x->path, buf, size);
}

static ssize_t xget(int fd, const char *path, const char *name, void *buf, size_t size)
{
	return fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(path, name, buf, size);
}

/* Read one attribute's value into a fresh buffer; 1 when it should be skipped. */
static int xattr_get_one(int fd, const char *path, const char *name, struct xattr_tmp *x)
{
	for (;;) {
		ssize_t len = xget(fd, path, name, NULL, 0);
		ssize_t got;

		if (len < 0)
			return xattr_skippable(errno) ? 1 : -errno;
		x->value = xmalloc((size_t)len + 1);
		got = xget(fd, path, name, x->value, (size_t)len);
		if (got >= 0) {
			x->len = (size_t)got;
			return 0;
		}
		free(x->value);
		x->value = NULL;
		if (errno != ERANGE)
			return xattr_skippable(errno) ? 1 : -errno;
	}
}

/* Extended attributes through fd (>= 0) or path (not following a final symlink), sorted
 * by name into the node. */
static int read_xattrs(struct scan_ctx *c, struct tree_node *n, const struct xattr_src *src,
		       const char *host_path)
{
	int fd = src->fd;
	const char *path = src->path;
	_cleanup_free_ char *list = NULL;
	_cleanup_free_ struct xattr_tmp *xs = NULL;
	size_t n_xs = 0;
	ssize_t len;
	int r = 0;

	for (;;) {
		len = xlist(c, src, NULL, 0);
		if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
			return 0;
		if (len < 0)
			return diag_fail(c->d, -errno, "%s: cannot list extended attributes: %s",
					 host_path, strerror(errno));
		if (len == 0)
			return 0;
		free(list);
		list = xmalloc((size_t)len);
		len = xlist(c, src, list, (size_t)len);
		if (len >= 0)
			break;
		if (errno != ERANGE)
			return diag_fail(c->d, -errno, "%s: cannot list extended attributes: %s",
					 host_path, strerror(errno));
	}
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(list + i) + 1) {
		struct xattr_tmp x = { .name = list + i };

		if (!list[i])
			continue;
		r = xattr_get_one(fd, path, x.name, &x);
		if (r < 0) {
			r = diag_fail(c->d, r, "%s: cannot read extended attribute %s: %s",
				      host_path, x.name, strerror(-r));
			break;
		}
		if (r > 0) {
			r = 0;
			continue;
		}
		xs = xreallocarray(xs, n_xs + 1, sizeof(*xs));
		xs[n_xs++] = x;
	}
	if (r == 0 && n_xs > 0) {
		struct tree_xattr *kept = tree_alloc(c->t, n_xs * sizeof(*kept));

		qsort(xs, n_xs, sizeof(*xs), xattr_tmp_cmp);
		for (size_t i = 0; i < n_xs; i++) {
			kept[i].name = tree_strndup(c->t, xs[i].name, strlen(xs[i].name));
			kept[i].value = tree_memdup(c->t, xs[i].value, xs[i].len);
			kept[i].len = xs[i].len;
		}
		tree_node_set_xattrs(c->t, n, kept, n_xs);
	}
	for (size_t i = 0; i < n_xs; i++)
		free(xs[i].value);
	return r;
}

/* The cheap answer from mode bits; access(2) decides when they say no (ACLs may grant). */
static bool mode_says_readable(const struct scan_ctx *c, const struct stat *st)
{
	if (c->euid == 0)
		return true;
	if (st->st_uid == c->euid)
		return st->st_mode & S_IRUSR;
	if (st->st_gid == c->egid)
		return st->st_mode & S_IRGRP;
	for (int i = 0; i < c->n_groups; i++)
		if (st->st_gid == c->groups[i])
			return st->st_mode & S_IRGRP;
	return st->st_mode & S_IROTH;
}

static int append_extent(struct tree *t, struct tree_extent **v, size_t *n, size_t *cap,
			 uint64_t off, uint64_t end)
{
	if (*n > 0 && (*v)[*n - 1].off + (*v)[*n - 1].len >= off) {
		struct tree_extent *e = &(*v)[*n - 1];

		if (end > e->off + e->len)
			e->len = end - e->off;
		return 0;
	}
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = (struct tree_extent){ .off = off, .len = end - off };
	return 0;
}

/* Walk SEEK_DATA/SEEK_HOLE; only called when st_blocks says the file has holes. */
static int scan_sparse(struct scan_ctx *c, struct tree_node *n, int dfd, const char *name,
		       const char *host_path)
{
	_cleanup_free_ struct tree_extent *v = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t n_v = 0, cap = 0;
	uint64_t off = 0, size = n->size;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return scan_unreadable(c, host_path, /* dir= */ false, -errno);
	while (off < size) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA), hole;
		uint64_t start, end;

		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 && (errno == EINVAL || errno == ENOTSUP)) {
			n_v = 0; /* no hole support: treat as dense */
			append_extent(c->t, &v, &n_v, &cap, 0, size);
			break;
		}
		if (data < 0)
			return diag_fail(c->d, -errno, "%s: cannot read: %s", host_path,
					 strerror(errno));
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return diag_fail(c->d, -errno, "%s: cannot read: %s", host_path,
					 strerror(errno));
		start = (uint64_t)data / SCAN_SPARSE_ALIGN * SCAN_SPARSE_ALIGN;
		end = MIN(ROUND_UP((uint64_t)hole, SCAN_SPARSE_ALIGN), size);
		if (end > start)
			append_extent(c->t, &v, &n_v, &cap, start, end);
		if ((uint64_t)hole <= off)
			break;
		off = (uint64_t)hole;
	}
	if (n_v == 1 && v[0].off == 0 && v[0].len == size)
		return 0; /* holes only in block padding, or none: dense */
	tree_node_set_sparse(c->t, n, n_v ? tree_memdup(c->t, v, n_v * sizeof(*v)) : NULL, n_v);
	return 0;
}

static enum tree_type type_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFDIR:
		return TREE_DIR;
	case S_IFREG:
		return TREE_REG;
	case S_IFLNK:
		return TREE_SYMLINK;
	case S_IFCHR:
		return TREE_CHR;
	case S_IFBLK:
		return TREE_BLK;
	case S_IFIFO:
		return TREE_FIFO;
	case S_IFSOCK:
		return TREE_SOCK;
	default:
		return 0;
	}
}

/* Apply st and the add options to n (any type); xattrs are read by the caller. */
static void apply_stat(const struct scan_ctx *c, struct tree_node *n, const struct stat *st)
{
	tree_node_set_access(n, c->o, st->st_mode, st->st_uid, st->st_gid);
	n->mtime_sec = st->st_mtim.tv_sec;
	n->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
}

/* Fill a non-directory node from st: the entry is name relative to dfd. */
static int fill_leaf(struct scan_ctx *c, struct tree_node *n, int dfd, const char *name,
		     const char *host_path, const struct stat *st)
{
	apply_stat(c, n, st);
	if (st->st_nlink > 1)
		tree_add_host_id(c->t, n, st->st_dev, st->st_ino, c->scope);
	switch (n->type) {
	case TREE_REG:
		n->size = (uint64_t)st->st_size;
		if (!n->src_in_parent)
			n->src_path = tree_strndup(c->t, host_path, strlen(host_path));
		n->src_stamp = tree_src_stamp(st);
		if (!mode_says_readable(c, st) && faccessat(dfd, name, R_OK, AT_EACCESS) < 0)
			return scan_unreadable(c, host_path, /* dir= */ false, -errno);
		if ((uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size)
			return scan_sparse(c, n, dfd, name, host_path);
		return 0;
	case TREE_SYMLINK: {
		size_t cap = (size_t)st->st_size + 1;

		for (;;) {
			_cleanup_free_ char *buf = xmalloc(cap);
			ssize_t len = readlinkat(dfd, name, buf, cap);

			if (len < 0)
				return diag_fail(c->d, -errno, "%s: cannot read link: %s", host_path,
						 strerror(errno));
			if ((size_t)len < cap) {
				n->link_target = tree_strndup(c->t, buf, (size_t)len);
				n->size = (uint64_t)len;
				return 0;
			}
			cap *= 2;
		}
	}
	case TREE_CHR:
	case TREE_BLK:
		n->rdev_major = major(st->st_rdev);
		n->rdev_minor = minor(st->st_rdev);
		return 0;
	default:
		return 0;
	}
}

/* Path used for an entry's xattrs: short through /proc/self/fd at any depth. */
static const char *xattr_path(const struct scan_ctx *c, int dfd, const char *name,
			      const char *host_path, char *buf, size_t size)
{
	if (!c->proc_fd)
		return host_path;
	snprintf(buf, size, "/proc/self/fd/%d/%s", dfd, name);
	return buf;
}

/* openat(root_fd, rel) in hops shorter than PATH_MAX for very deep directories. */
static int open_rel(int root_fd, const char *rel)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	_cleanup_close_ int cur = -EBADF;
	size_t len = strlen(rel);

	if (len == 0)
		rel = ".";
	while (len >= PATH_MAX) {
		_cleanup_free_ char *hop = NULL;
		size_t cut = PATH_MAX - 1;
		int fd;

		while (cut > 0 && rel[cut] != '/')
			cut--;
		if (cut == 0)
			return -ENAMETOOLONG;
		hop = xstrndup(rel, cut);
		fd = openat(cur >= 0 ? cur : root_fd, hop, flags);
		if (fd < 0)
			return -errno;
		closep(&cur);
		cur = fd;
		rel += cut + 1;
		len -= cut + 1;
	}
	{
		int fd = openat(cur >= 0 ? cur : root_fd, rel, flags);

		return fd < 0 ? -errno : fd;
	}
}

static char *host_path_of(const struct scan_ctx *c, const char *rel)
{
	if (!rel[0])
		return xstrdup(c->src);
	return xasprintf("%s/%s", strcmp(c->src, "/") == 0 ? "" : c->src, rel);
}

struct entry {
	size_t off, len; /* the name in the names buffer */
};

static int entry_cmp(const void *a, const void *b, void *names)
{
	const struct entry *x = a, *y = b;
	const char *s = names;

	return tree_name_cmp(s + x->off, x->len, s + y->off, y->len);
}

/* Read a directory's names, sorted bytewise. */
static int read_names(DIR *dir, char **ret_names, struct entry **ret_e, size_t *ret_n)
{
	_cleanup_free_ char *names = NULL;
	_cleanup_free_ struct entry *e = NULL;
	size_t n = 0, cap = 0, used = 0, ncap = 0;
	struct dirent *de;

	for (;;) {
		size_t len;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				return -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		len = strlen(de->d_name);
		if (used + len + 1 > ncap) {
			ncap = MAX(ncap * 2, used + len + 1 + 4096);
			names = xrealloc(names, ncap);
		}
		memcpy(names + used, de->d_name, len + 1);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			e = xreallocarray(e, cap, sizeof(*e));
		}
		e[n++] = (struct entry){ .off = used, .len = len };
		used += len + 1;
	}
	if (n)
		qsort_r(e, n, sizeof(*e), entry_cmp, names);
	*ret_names = TAKE_PTR(names);
	*ret_e = TAKE_PTR(e);
	*ret_n = n;
	return 0;
}

/* A directory's metadata onto a (new or merged) directory node. */
static int fill_dir(struct scan_ctx *c, struct tree_node *n, const struct stat *st,
		    const struct xattr_src *x, const char *host_path)
{
	apply_stat(c, n, st);
	tree_node_set_xattrs(c->t, n, NULL, 0);
	return read_xattrs(c, n, x, host_path);
}

static void push_item(struct scan_item **stack, size_t *n, size_t *cap, struct scan_item it)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*stack = xreallocarray(*stack, *cap, sizeof(**stack));
	}
	(*stack)[(*n)++] = it;
}

/* One entry of a directory being scanned: a new node, or (directory onto directory) the
 * existing node updated. *ret_dir is set when the entry is a directory to descend into.
 * in_parent: dir->src_path is the host directory being read (a file need not store its path). */
static int scan_entry(struct scan_ctx *c, struct tree_node *dir, int dfd, const char *name,
		      size_t len, const char *host_path, bool in_parent, struct tree_node **ret_new,
		      struct tree_node **ret_dir, struct stat *st)
{
	char xbuf[PATH_MAX];
	const char *xp = NULL;
	struct xattr_src x;
	struct tree_node *n, *old;
	enum tree_type type;
	int r;

	*ret_new = *ret_dir = NULL;
	if (len > TREE_NAME_MAX)
		return diag_fail(c->d, -ENAMETOOLONG, "%s: name longer than 255 bytes", host_path);
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return diag_fail(c->d, -errno, "%s: cannot read: %s", host_path, strerror(errno));
	type = type_of(st->st_mode);
	if (!type)
		return diag_fail(c->d, -ENOTSUP, "%s: unsupported file type", host_path);
	xp = xattr_path(c, dfd, name, host_path, xbuf, sizeof(xbuf));
	x = (struct xattr_src){ .fd = -1, .dfd = dfd, .name = name, .path = xp };
	old = dir->n_children ? tree_node_child(dir, name, len) : NULL;
	if (old) {
		_cleanup_free_ char *ip = tree_node_path(old);

		if (old->type != TREE_DIR || type != TREE_DIR)
			return diag_fail(c->d, -EEXIST,
					 "%s: %s already exists in the image; remove the duplicate",
					 host_path, ip);
		r = fill_dir(c, old, st, &x, host_path);
		if (r < 0)
			return r;
		*ret_dir = old;
		return 0;
	}
	n = tree_node_alloc(c->t, name, len, type);
	if (type == TREE_DIR) {
		r = fill_dir(c, n, st, &x, host_path);
		*ret_dir = n;
	} else {
		n->src_in_parent = type == TREE_REG && in_parent;
		r = fill_leaf(c, n, dfd, name, host_path, st);
		if (r >= 0)
			r = read_xattrs(c, n, &x, host_path);
	}
	if (r < 0)
		return r;
	*ret_new = n;
	return 0;
}

static int scan_one_dir(struct scan_ctx *c, const struct scan_item *it, struct scan_item **stack,
			size_t *n_stack, size_t *cap_stack)
{
	_cleanup_free_ char *dir_path = host_path_of(c, it->rel), *names = NULL, *path = NULL;
	_cleanup_free_ struct entry *e = NULL;
	_cleanup_free_ struct tree_node **add = NULL;
	_cleanup_free_ struct scan_item *sub = NULL;
	size_t n_e = 0, n_add = 0, n_sub = 0, plen = strlen(dir_path);
	struct stat st;
	bool in_parent;
	DIR *dir;
	int fd, r = 0;

	/* Files find their host path through the directory's, and a directory through its
	 * parent's when it is the parent's host directory plus its name (see tree.h,
	 * src_in_parent): only the first scan into a directory names it, files of later ones
	 * keep their own. */
	if (!it->node->src_path && !it->node->src_in_parent) {
		_cleanup_free_ char *pp = it->node->parent ? tree_node_src_path(it->node->parent)
							   : NULL;
		size_t pl = pp ? strlen(pp) : 0;

		if (pp && strcmp(pp, "/") == 0)
			pl = 0;
		if (pp && plen == pl + 1 + it->node->name_len && memcmp(dir_path, pp, pl) == 0 &&
		    dir_path[pl] == '/' &&
		    memcmp(dir_path + pl + 1, it->node->name, it->node->name_len) == 0)
			it->node->src_in_parent = true;
		else
			it->node->src_path = tree_strndup(c->t, dir_path, plen);
	}
	path = tree_node_src_path(it->node);
	in_parent = strcmp(path, dir_path) == 0;
	free(path);
	path = NULL;
	fd = open_rel(c->root_fd, it->rel);
	if (fd < 0 && it->rel[0])
		return scan_unreadable(c, dir_path, /* dir= */ true, fd);
	if (fd < 0)
		return diag_fail(c->d, fd, "%s: cannot read: %s", dir_path, strerror(-fd));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != it->dev || (uint64_t)st.st_ino != it->ino) {
		(void)close(fd);
		return diag_fail(c->d, -ESTALE, "%s: changed during the scan; retry", dir_path);
	}
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		(void)close(fd);
		return diag_fail(c->d, r, "%s: cannot read: %s", dir_path, strerror(-r));
	}
	r = read_names(dir, &names, &e, &n_e);
	if (r < 0) {
		r = diag_fail(c->d, r, "%s: cannot read: %s", dir_path, strerror(-r));
		goto out;
	}
	add = xreallocarray(NULL, n_e ? n_e : 1, sizeof(*add));
	sub = xreallocarray(NULL, n_e ? n_e : 1, sizeof(*sub));
	if (strcmp(dir_path, "/") == 0)
		plen = 0;
	path = xmalloc(plen + 1 + TREE_NAME_MAX + 1);
	memcpy(path, dir_path, plen);
	path[plen] = '/';
	for (size_t i = 0; i < n_e; i++) {
		const char *name = names + e[i].off;
		struct tree_node *nn, *dn;

		if (e[i].len > TREE_NAME_MAX) {
			r = diag_fail(c->d, -ENAMETOOLONG, "%s/%s: name longer than 255 bytes",
				      dir_path, name);
			goto out;
		}
		memcpy(path + plen + 1, name, e[i].len + 1);
		r = scan_entry(c, it->node, dirfd(dir), name, e[i].len, path, in_parent, &nn, &dn,
			       &st);
		if (r < 0)
			goto out;
		if (nn)
			add[n_add++] = nn;
		if (dn)
			sub[n_sub++] = (struct scan_item){
				.node = dn,
				.rel = it->rel[0] ? xasprintf("%s/%s", it->rel, name) : xstrdup(name),
				.dev = (uint64_t)st.st_dev,
				.ino = (uint64_t)st.st_ino,
			};
	}
	if (it->node->n_children == 0)
		tree_node_set_children(c->t, it->node, add, n_add);
	else
		tree_node_merge(c->t, it->node, add, n_add);
	/* Reverse order: the stack pops subdirectories in sorted (preorder) order. */
	while (n_sub > 0)
		push_item(stack, n_stack, cap_stack, sub[--n_sub]);
out:
	for (size_t i = 0; i < n_sub; i++)
		free(sub[i].rel);
	closedir(dir);
	return r;
}

static int scan_tree(struct scan_ctx *c, struct tree_node *top, const struct stat *st)
{
	_cleanup_free_ struct scan_item *stack = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	push_item(&stack, &n, &cap,
		  (struct scan_item){ .node = top, .rel = xstrdup(""), .dev = st->st_dev,
				      .ino = st->st_ino });
	while (n > 0) {
		struct scan_item it = stack[--n];

		if (r == 0)
			r = scan_one_dir(c, &it, &stack, &n, &cap);
		free(it.rel);
	}
	return r;
}

/* "/x/y/" -> "/x/y"; "/" stays. */
static char *normalize_src(const char *src)
{
	size_t len = strlen(src);

	while (len > 1 && src[len - 1] == '/')
		len--;
	return xstrndup(src, len);
}

static int ctx_init(struct scan_ctx *c, struct tree *t, const char *src,
		    const struct tree_add_opts *o, struct diag *d)
{
	*c = (struct scan_ctx){ .t = t, .o = o, .d = d, .src = src, .root_fd = -EBADF };
	c->scope = o && o->link_scope ? o->link_scope : tree_link_scope_new(t);
	c->proc_fd = access("/proc/self/fd", X_OK) == 0;
	c->listxattrat = true;
	c->euid = geteuid();
	c->egid = getegid();
	c->n_groups = getgroups(0, NULL);
	if (c->n_groups > 0) {
		c->groups = xreallocarray(NULL, (size_t)c->n_groups, sizeof(*c->groups));
		c->n_groups = getgroups(c->n_groups, c->groups);
	}
	if (c->n_groups < 0)
		c->n_groups = 0;
	return 0;
}

static void ctx_done(struct scan_ctx *c)
{
	free(c->groups);
	for (size_t i = 0; i < MIN(c->n_unreadable, (size_t)SCAN_UNREADABLE_NAMED); i++)
		free(c->unreadable[i]);
}

/* The node at target for a directory source: the existing directory (merge), or a new one. */
static int target_dir(struct scan_ctx *c, const char *target, struct tree_node **ret)
{
	struct tree_node *parent, *n;
	const char *name;
	size_t len;
	int r;

	n = tree_lookup(c->t, target);
	if (target[0] == '/' && n) {
		if (n->type != TREE_DIR)
			return diag_fail(c->d, -EEXIST,
					 "%s: %s already exists in the image and is not a directory",
					 c->src, target);
		*ret = n;
		return 0;
	}
	r = tree_parent_of(c->t, target, /* parent_mtime= */ 0, &parent, &name, &len);
	if (r < 0)
		return tree_path_error(c->d, r, target);
	n = tree_node_alloc(c->t, name, len, TREE_DIR);
	r = tree_node_insert(c->t, parent, n);
	if (r < 0)
		return tree_path_error(c->d, r, target);
	*ret = n;
	return 0;
}

static int add_dir(struct scan_ctx *c, const char *target, int fd)
{
	struct tree_node *n = NULL;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return diag_fail(c->d, -errno, "%s: cannot read: %s", c->src, strerror(errno));
	r = target_dir(c, target, &n);
	if (r < 0)
		return r;
	r = fill_dir(c, n, &st, &(struct xattr_src){ .fd = fd, .dfd = -1 }, c->src);
	if (r < 0)
		return r;
	c->root_fd = fd;
	r = scan_tree(c, n, &st);
	return r < 0 ? r : scan_unreadable_report(c);
}

static int open_failed(struct scan_ctx *c, int err)
{
	if (err == -ENOENT)
		return diag_fail(c->d, err, "%s does not exist", c->src);
	return diag_fail(c->d, err, "%s: cannot read: %s", c->src, strerror(-err));
}

int tree_add_host_dir(struct tree *t, const char *src, const char *target,
		      const struct tree_add_opts *o, struct diag *d)
{
	_cleanup_free_ char *s = normalize_src(src);
	_cleanup_close_ int fd = -EBADF;
	struct scan_ctx c;
	int r;

	ctx_init(&c, t, s, o, d);
	fd = open(s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = open_failed(&c, -errno);
	else
		r = add_dir(&c, target, fd);
	ctx_done(&c);
	return r;
}

static int add_leaf_node(struct scan_ctx *c, const char *target, const struct stat *st)
{
	struct tree_node *parent, *n;
	const char *name;
	size_t len;
	int r;

	r = tree_parent_of(c->t, target, /* parent_mtime= */ 0, &parent, &name, &len);
	if (r < 0)
		return tree_path_error(c->d, r, target);
	if (tree_node_child(parent, name, len))
		return diag_fail(c->d, -EEXIST, "%s: %s already exists in the image", c->src,
				 target);
	n = tree_node_alloc(c->t, name, len, type_of(st->st_mode));
	if (!n->type)
		return diag_fail(c->d, -ENOTSUP, "%s: unsupported file type", c->src);
	r = fill_leaf(c, n, AT_FDCWD, c->src, c->src, st);
	if (r < 0)
		return r;
	r = read_xattrs(c, n, &(struct xattr_src){ .fd = -1, .dfd = -1, .path = c->src }, c->src);
	if (r < 0)
		return r;
	return tree_node_insert(c->t, parent, n);
}

int tree_add_host_node(struct tree *t, const char *src, const char *target,
		       const struct tree_add_opts *o, struct diag *d)
{
	_cleanup_free_ char *s = normalize_src(src);
	_cleanup_close_ int fd = -EBADF;
	struct scan_ctx c;
	struct stat st;
	int r;

	ctx_init(&c, t, s, o, d);
	if (lstat(s, &st) < 0)
		r = open_failed(&c, -errno);
	else if (S_ISDIR(st.st_mode)) {
		fd = open(s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? open_failed(&c, -errno) : add_dir(&c, target, fd);
	} else {
		r = add_leaf_node(&c, target, &st);
		if (r >= 0)
			r = scan_unreadable_report(&c);
	}
	ctx_done(&c);
	return r;
}
