/* The tree model: an arena owning every node and string, sorted children, path lookup and
 * creation of directories, generated files and symlinks. */
#include "tree/tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree/tree-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

/* Bump allocation in 1 MiB chunks saves malloc's per-allocation overhead (16 bytes on every
 * node, name and path) and makes tree_free independent of tree depth. */
#define ARENA_CHUNK (1u << 20)

/* The node's size is most of the tool's memory on a Nix store: keep it from growing unseen. */
_Static_assert(sizeof(struct tree_node) <= 112, "struct tree_node grew past 112 bytes");
#define ARENA_BIG (ARENA_CHUNK / 8)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct tree_arena {
	struct arena_chunk *head; /* the chunk being filled */
};

/* align is 1 for strings (names average ~40 bytes: rounding each to 8 would waste ~4 bytes
 * on every one of 250k names) and 8 for everything else. */
static void *arena_alloc(struct tree *t, size_t n, size_t align)
{
	struct tree_arena *a = t->arena;
	struct arena_chunk *c = a->head;
	void *p;

	n = n ? n : 1;
	if (n >= ARENA_BIG) {
		/* A private chunk, linked behind the head so the head keeps filling. */
		c = xcalloc(1, sizeof(*c) + n);
		c->used = c->cap = n;
		if (a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else
			a->head = c;
		return c->data;
	}
	if (c)
		c->used = ROUND_UP(c->used, align);
	if (!c || c->used > c->cap || c->cap - c->used < n) {
		c = xmalloc(sizeof(*c) + ARENA_CHUNK);
		c->used = 0;
		c->cap = ARENA_CHUNK;
		c->next = a->head;
		a->head = c;
	}
	p = (uint8_t *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

void *tree_alloc(struct tree *t, size_t n)
{
	return arena_alloc(t, n, 8);
}

void *tree_memdup(struct tree *t, const void *p, size_t n)
{
	void *q = tree_alloc(t, n);

	if (n)
		memcpy(q, p, n);
	return q;
}

char *tree_strndup(struct tree *t, const char *s, size_t n)
{
	char *q;

	if (n == SIZE_MAX)
		abort();
	q = arena_alloc(t, n + 1, 1);
	memcpy(q, s, n);
	q[n] = '\0';
	return q;
}

char *tree_strdup(struct tree *t, const char *s)
{
	return tree_strndup(t, s, strlen(s));
}

struct tree_node *tree_node_alloc(struct tree *t, const char *name, size_t name_len,
				  enum tree_type type)
{
	struct tree_node *n = tree_alloc(t, sizeof(*n));

	if (name)
		n->name = tree_strndup(t, name, name_len);
	if (name_len > TREE_NAME_MAX)
		abort(); /* callers check names against TREE_NAME_MAX */
	n->name_len = (uint8_t)name_len;
	n->type = (uint8_t)type;
	n->n_links = 1;
	return n;
}

struct tree *tree_new(void)
{
	struct tree *t = xcalloc(1, sizeof(*t));

	t->arena = xcalloc(1, sizeof(*t->arena));
	t->root = tree_node_alloc(t, "", 0, TREE_DIR);
	t->root->mode = 0755;
	return t;
}

struct tree *tree_free(struct tree *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_fd_srcs; i++) /* in the arena: before it goes */
		(void)close(t->fd_srcs[i]->fd);
	free(t->fd_srcs);
	if (t->arena) {
		struct arena_chunk *c = t->arena->head;

		while (c) {
			struct arena_chunk *next = c->next;

			free(c);
			c = next;
		}
		free(t->arena);
	}
	free(t->nodes);
	free(t->host_ids);
	free(t);
	return NULL;
}

int tree_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, MIN(alen, blen));

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

/* Index of the first child not ordered before name. */
static size_t child_pos(const struct tree_node *dir, const char *name, size_t len)
{
	size_t lo = 0, hi = dir->n_children;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tree_node *c = dir->children[mid];

		if (tree_name_cmp(c->name, c->name_len, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct tree_node *tree_node_child(const struct tree_node *dir, const char *name, size_t len)
{
	size_t i = child_pos(dir, name, len);

	if (i < dir->n_children && dir->children[i]->name_len == len &&
	    memcmp(dir->children[i]->name, name, len) == 0)
		return dir->children[i];
	return NULL;
}

/* Room in dir's children array: exactly n_children after a bulk set or merge, else the
 * power of two insertion grew it to (no capacity field: 4 bytes less on every node). */
static size_t children_cap(const struct tree_node *dir)
{
	size_t cap = 4;

	if (dir->children_exact || !dir->children)
		return dir->children ? dir->n_children : 0;
	while (cap < dir->n_children)
		cap *= 2;
	return cap;
}

/* Grow by doubling inside the arena; the abandoned arrays total less than the final one. */
static void children_reserve(struct tree *t, struct tree_node *dir, size_t want)
{
	struct tree_node **c;
	size_t cap = 4;

	if (want <= children_cap(dir))
		return;
	while (cap < want)
		cap *= 2;
	if (cap > UINT32_MAX)
		abort(); /* more children than inodes exist */
	c = tree_alloc(t, cap * sizeof(*c));
	if (dir->n_children)
		memcpy(c, dir->children, dir->n_children * sizeof(*c));
	dir->children = c;
	dir->children_exact = false;
}

int tree_node_insert(struct tree *t, struct tree_node *dir, struct tree_node *child)
{
	size_t i = child_pos(dir, child->name, child->name_len);

	if (i < dir->n_children &&
	    tree_name_cmp(dir->children[i]->name, dir->children[i]->name_len, child->name,
			  child->name_len) == 0)
		return -EEXIST;
	children_reserve(t, dir, dir->n_children + 1);
	memmove(dir->children + i + 1, dir->children + i,
		(dir->n_children - i) * sizeof(*dir->children));
	dir->children[i] = child;
	dir->n_children++;
	child->parent = dir;
	return 0;
}

void tree_node_append(struct tree *t, struct tree_node *dir, struct tree_node *child)
{
	children_reserve(t, dir, dir->n_children + 1);
	dir->children[dir->n_children++] = child;
	child->parent = dir;
}

static int child_ptr_cmp(const void *a, const void *b)
{
	const struct tree_node *x = *(const struct tree_node *const *)a;
	const struct tree_node *y = *(const struct tree_node *const *)b;

	return tree_name_cmp(x->name, x->name_len, y->name, y->name_len);
}

void tree_node_sort_children(struct tree_node *dir)
{
	if (dir->n_children > 1)
		qsort(dir->children, dir->n_children, sizeof(*dir->children), child_ptr_cmp);
}

void tree_node_merge(struct tree *t, struct tree_node *dir, struct tree_node **add, size_t n)
{
	struct tree_node **old = dir->children, **c;
	size_t n_old = dir->n_children, i = 0, j = 0, k = 0;

	for (size_t x = 0; x < n; x++)
		add[x]->parent = dir;
	if (n == 0)
		return;
	if (n_old + n > SIZE_MAX / sizeof(*c))
		abort();
	c = tree_alloc(t, (n_old + n) * sizeof(*c));
	while (i < n_old || j < n) {
		if (j == n || (i < n_old && tree_name_cmp(old[i]->name, old[i]->name_len,
							 add[j]->name, add[j]->name_len) < 0))
			c[k++] = old[i++];
		else
			c[k++] = add[j++];
	}
	if (k > UINT32_MAX)
		abort();
	dir->children = c;
	dir->n_children = (uint32_t)k;
	dir->children_exact = true;
}

void tree_node_set_children(struct tree *t, struct tree_node *dir, struct tree_node **c,
			    size_t n)
{
	if (n > UINT32_MAX)
		abort();
	dir->children = tree_memdup(t, c, n * sizeof(*c));
	dir->n_children = (uint32_t)n;
	dir->children_exact = true;
	for (size_t i = 0; i < n; i++)
		c[i]->parent = dir;
}

static struct tree_node_rare *node_rare(struct tree *t, struct tree_node *n)
{
	if (!n->rare)
		n->rare = tree_alloc(t, sizeof(*n->rare));
	return n->rare;
}

void tree_node_set_xattrs(struct tree *t, struct tree_node *n, struct tree_xattr *xattrs,
			  size_t count)
{
	if (!count && !n->rare)
		return;
	node_rare(t, n)->xattrs = count ? xattrs : NULL;
	n->rare->n_xattrs = count;
}

void tree_node_set_sparse(struct tree *t, struct tree_node *n, struct tree_extent *data,
			  size_t count)
{
	n->sparse = true;
	if (!count && !n->rare)
		return;
	node_rare(t, n)->data = count ? data : NULL;
	n->rare->n_data = count;
}

void tree_add_host_id(struct tree *t, struct tree_node *n, uint64_t dev, uint64_t ino,
		      uint32_t scope)
{
	if (t->n_host_ids == t->cap_host_ids) {
		t->cap_host_ids = t->cap_host_ids ? t->cap_host_ids * 2 : 256;
		t->host_ids = xreallocarray(t->host_ids, t->cap_host_ids, sizeof(*t->host_ids));
	}
	t->host_ids[t->n_host_ids++] = (struct tree_host_id){ dev, ino, n, scope };
}

void tree_forget_host_id(struct tree *t, const struct tree_node *n)
{
	for (size_t i = 0; i < t->n_host_ids;)
		if (t->host_ids[i].node == n)
			t->host_ids[i] = t->host_ids[--t->n_host_ids];
		else
			i++;
}

struct tree_fd_src *tree_fd_src_new(struct tree *t, int fd, const char *what)
{
	struct tree_fd_src *s = tree_alloc(t, sizeof(*s));

	s->fd = fd;
	s->what = tree_strdup(t, what);
	t->fd_srcs = xreallocarray(t->fd_srcs, t->n_fd_srcs + 1, sizeof(*t->fd_srcs));
	t->fd_srcs[t->n_fd_srcs++] = s;
	return s;
}

uint32_t tree_link_scope_new(struct tree *t)
{
	return ++t->n_scopes;
}

/* Next component of an absolute path: skips repeated slashes; false at the end. */
static bool next_component(const char **p, const char **ret, size_t *ret_len)
{
	const char *s = *p, *e;

	while (*s == '/')
		s++;
	if (!*s)
		return false;
	e = strchrnul(s, '/');
	*ret = s;
	*ret_len = (size_t)(e - s);
	*p = e;
	return true;
}

static int check_component(const char *s, size_t len)
{
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return -EINVAL;
	if (len > TREE_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

struct tree_node *tree_lookup(const struct tree *t, const char *path)
{
	struct tree_node *n = t->root;
	const char *s;
	size_t len;

	if (!path || path[0] != '/')
		return NULL;
	while (next_component(&path, &s, &len)) {
		if (n->type != TREE_DIR)
			return NULL;
		n = tree_node_child(n, s, len);
		if (!n)
			return NULL;
	}
	return n;
}

static struct tree_node *new_dir(struct tree *t, const char *name, size_t len, uint32_t mode,
				 uint32_t uid, uint32_t gid, int64_t mtime)
{
	struct tree_node *n = tree_node_alloc(t, name, len, TREE_DIR);

	n->mode = mode & 07777;
	n->uid = uid;
	n->gid = gid;
	n->mtime_sec = mtime;
	return n;
}

int tree_mkdir_p(struct tree *t, const char *target, uint32_t mode, uint32_t uid, uint32_t gid,
		 int64_t mtime, struct tree_node **ret)
{
	struct tree_node *n = t->root;
	const char *s;
	size_t len;
	int r;

	if (!target || target[0] != '/')
		return -EINVAL;
	while (next_component(&target, &s, &len)) {
		struct tree_node *c;

		r = check_component(s, len);
		if (r < 0)
			return r;
		if (n->type != TREE_DIR)
			return -ENOTDIR;
		c = tree_node_child(n, s, len);
		if (!c) {
			c = new_dir(t, s, len, mode, uid, gid, mtime);
			r = tree_node_insert(t, n, c);
			if (r < 0)
				return r;
		}
		n = c;
	}
	if (n->type != TREE_DIR)
		return -ENOTDIR;
	if (ret)
		*ret = n;
	return 0;
}

int tree_parent_of(struct tree *t, const char *path, int64_t parent_mtime,
		   struct tree_node **ret_parent, const char **ret_name, size_t *ret_len)
{
	_cleanup_free_ char *dir = NULL;
	const char *p = path, *s = NULL, *last = NULL;
	struct tree_node *parent;
	size_t len = 0, last_len = 0;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	while (next_component(&p, &s, &len)) {
		r = check_component(s, len);
		if (r < 0)
			return r;
		last = s;
		last_len = len;
	}
	if (!last)
		return -EINVAL;
	dir = xstrndup(path, (size_t)(last - path));
	r = tree_mkdir_p(t, dir[0] ? dir : "/", 0755, 0, 0, parent_mtime, &parent);
	if (r < 0)
		return r;
	*ret_parent = parent;
	*ret_name = last;
	*ret_len = last_len;
	return 0;
}

int tree_path_error(struct diag *d, int err, const char *path)
{
	switch (err) {
	case -EINVAL:
		return diag_fail(d, err,
				 "%s: not a valid image path; use an absolute path without '.' or "
				 "'..' components",
				 path);
	case -ENAMETOOLONG:
		return diag_fail(d, err, "%s: a name is longer than 255 bytes", path);
	case -ENOTDIR:
		return diag_fail(d, err, "%s: a parent exists in the image but is not a directory",
				 path);
	case -EEXIST:
		return diag_fail(d, err, "%s: already exists in the image", path);
	default:
		return diag_fail(d, err, "%s: %s", path, strerror(-err));
	}
}

static int add_leaf(struct tree *t, const char *target, struct tree_node *n, int64_t mtime,
		    struct diag *d)
{
	struct tree_node *parent;
	const char *name;
	size_t len;
	int r;

	r = tree_parent_of(t, target, mtime, &parent, &name, &len);
	if (r < 0)
		return tree_path_error(d, r, target);
	n->name = tree_strndup(t, name, len);
	n->name_len = (uint8_t)len; /* tree_parent_of checked it against TREE_NAME_MAX */
	r = tree_node_insert(t, parent, n);
	if (r < 0)
		return tree_path_error(d, r, target);
	return 0;
}

int tree_add_data(struct tree *t, const char *target, const void *data, size_t len,
		  uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime, struct diag *d)
{
	struct tree_node *n = tree_node_alloc(t, "", 0, TREE_REG);

	n->mode = mode & 07777;
	n->uid = uid;
	n->gid = gid;
	n->mtime_sec = mtime;
	n->size = len;
	n->src_data = tree_memdup(t, data, len);
	return add_leaf(t, target, n, mtime, d);
}

int tree_add_symlink(struct tree *t, const char *target, const char *link, uint32_t uid,
		     uint32_t gid, int64_t mtime, struct diag *d)
{
	struct tree_node *n = tree_node_alloc(t, "", 0, TREE_SYMLINK);
	size_t len = strlen(link);

	if (len == 0)
		return diag_fail(d, -EINVAL, "%s: empty symlink target", target);
	n->mode = 0777;
	n->uid = uid;
	n->gid = gid;
	n->mtime_sec = mtime;
	n->size = len;
	n->link_target = tree_strndup(t, link, len);
	return add_leaf(t, target, n, mtime, d);
}

uint32_t tree_node_st_mode(const struct tree_node *n)
{
	static const uint32_t type_bits[] = {
		[TREE_DIR] = S_IFDIR,  [TREE_REG] = S_IFREG,   [TREE_SYMLINK] = S_IFLNK,
		[TREE_CHR] = S_IFCHR,  [TREE_BLK] = S_IFBLK,   [TREE_FIFO] = S_IFIFO,
		[TREE_SOCK] = S_IFSOCK,
	};

	return type_bits[n->type] | (n->mode & 07777);
}

char *tree_node_src_path(const struct tree_node *n)
{
	const struct tree_node *top = n;
	size_t base, len;
	char *s, *p;

	if (n->type == TREE_REG && n->src_is_fd)
		return NULL;
	/* Up to the nearest node that stores its path; then its path plus the names below. */
	while (top->src_in_parent)
		top = top->parent;
	if (!top->src_path)
		return NULL;
	base = strcmp(top->src_path, "/") == 0 ? 0 : strlen(top->src_path);
	len = base;
	for (const struct tree_node *x = n; x != top; x = x->parent)
		len += 1 + x->name_len;
	if (len == 0)
		return xstrdup("/");
	s = xmalloc(len + 1);
	memcpy(s, top->src_path, base);
	p = s + len;
	*p = '\0';
	for (const struct tree_node *x = n; x != top; x = x->parent) {
		p -= x->name_len;
		memcpy(p, x->name, x->name_len);
		*--p = '/';
	}
	return s;
}

char *tree_node_path(const struct tree_node *n)
{
	size_t len = 0;
	char *s, *p;

	if (!n->parent)
		return xstrdup("/");
	for (const struct tree_node *x = n; x->parent; x = x->parent)
		len += 1 + x->name_len;
	s = xmalloc(len + 1);
	p = s + len;
	*p = '\0';
	for (const struct tree_node *x = n; x->parent; x = x->parent) {
		p -= x->name_len;
		memcpy(p, x->name, x->name_len);
		*--p = '/';
	}
	return s;
}

void tree_node_set_access(struct tree_node *n, const struct tree_add_opts *o, uint32_t mode,
			  uint32_t uid, uint32_t gid)
{
	n->mode = mode & 07777;
	if (n->type == TREE_SYMLINK)
		n->mode = 0777;
	else if (o && o->set_mode)
		n->mode = o->mode & 07777;
	if (o && o->set_owner) {
		n->uid = o->uid;
		n->gid = o->gid;
		n->owner_from_host = false;
	} else {
		n->uid = uid;
		n->gid = gid;
		n->owner_from_host = true;
	}
}
