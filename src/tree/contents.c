/* make-disk-image's `contents` entries, with the semantics of its shell code:
 *
 *   if source contains '*': mkdir -p $root/$target; for fn in $source: rsync -a fn $root/$target/
 *   else: mkdir -p $root/$(dirname $target)
 *         [ -e $root/$target ] && error "duplicate entry"
 *         dir: rsync -a $source/ $root/$target   (copied *to* the target)
 *         else: rsync -a $source $root/$target
 *   mode: rsync --chmod=$mode (everything copied); user/group: chown -R user:group $target
 *
 * Our choices: directories created on the way (mkdir -p) are 0755 0:0 with mtime 0 (clamping
 * to SOURCE_DATE_EPOCH never raises a time, so 0 stays 0 and builds stay reproducible);
 * entries without user/group are owned by 0:0, as make-disk-image's images are; --owner
 * leaves contents owners alone. Only octal modes are accepted. */
#include "tree/contents.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree/tree-internal.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

static int parse_mode(const char *s, uint32_t *ret)
{
	uint32_t v = 0;
	size_t len = strlen(s);

	if (len == 0 || len > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return -EINVAL;
		v = v * 8 + (uint32_t)(*p - '0');
	}
	if (v > 07777)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int resolve_id(struct tree *t, const char *file, const char *host_file, const char *what,
		      const char *name, const char *target, uint32_t *ret, struct diag *d)
{
	int r;

	r = passwd_parse_id(name, ret);
	if (r == 0)
		return 0;
	if (r == -ERANGE)
		return diag_fail(d, r, "contents %s: %s id %s is out of range (at most 4294967294)",
				 target, what, name);
	if (host_file) {
		/* --passwd / --group: the ids the configuration declares, for images that have
		 * no /etc/passwd before first boot (NixOS) */
		r = passwd_lookup_host(host_file, name, ret);
		if (r == -ESRCH)
			return diag_fail(d, -EINVAL,
					 "contents %s: %s '%s' not in %s; use a numeric id or add it",
					 target, what, name, host_file);
		if (r < 0)
			return diag_fail(d, r, "contents %s: cannot read %s: %s", target, host_file,
					 strerror(-r));
		return 0;
	}
	r = passwd_lookup_id(t, file, name, ret);
	if (r == -ENOENT)
		return diag_fail(d, -EINVAL,
				 "contents %s: %s '%s' cannot be resolved: the image has no %s; use "
				 "a numeric id or add %s",
				 target, what, name, file, file);
	if (r == -ESRCH)
		return diag_fail(d, -EINVAL,
				 "contents %s: %s '%s' not in the image's %s; use a numeric id or "
				 "add it",
				 target, what, name, file);
	if (r < 0)
		return diag_fail(d, r, "contents %s: cannot read the image's %s: %s", target, file,
				 strerror(-r));
	return 0;
}

/* Entry fields into add options and a normalized target. */
static int prepare(struct tree *t, const struct contents_entry *e, const struct contents_ids *ids,
		   struct tree_add_opts *o, char **ret_target, struct diag *d)
{
	_cleanup_free_ char *target = NULL;
	int r;

	if (!e->source || !e->source[0])
		return diag_fail(d, -EINVAL, "contents entry for %s has no source",
				 e->target ? e->target : "(no target)");
	if (!e->target || e->target[0] != '/')
		return diag_fail(d, -EINVAL, "contents target '%s' is not absolute; start it with /",
				 e->target ? e->target : "");
	r = tree_path_normalize(e->target, &target);
	if (r < 0)
		return diag_fail(d, -EINVAL,
				 "contents target '%s' escapes the image root with '..'; use a "
				 "path inside /",
				 e->target);
	*o = (struct tree_add_opts){ .set_owner = true };
	if (e->mode && parse_mode(e->mode, &o->mode) < 0)
		return diag_fail(d, -EINVAL,
				 "contents %s: invalid mode '%s'; use an octal mode like 755 or 0644",
				 e->target, e->mode);
	o->set_mode = e->mode != NULL;
	if (!!e->user != !!e->group)
		return diag_fail(d, -EINVAL,
				 "contents %s: %s given without %s; set both user and group, or "
				 "neither",
				 e->target, e->user ? "user" : "group", e->user ? "group" : "user");
	if (e->user) {
		r = resolve_id(t, "/etc/passwd", ids ? ids->passwd : NULL, "user", e->user,
			       e->target, &o->uid, d);
		if (r < 0)
			return r;
		r = resolve_id(t, "/etc/group", ids ? ids->group : NULL, "group", e->group,
			       e->target, &o->gid, d);
		if (r < 0)
			return r;
	}
	*ret_target = TAKE_PTR(target);
	return 0;
}

/* chown -R: the whole subtree below (and including) n, iteratively. */
static void chown_tree(struct tree_node *top, uint32_t uid, uint32_t gid)
{
	_cleanup_free_ struct tree_node **stack = NULL;
	size_t n = 0, cap = 64;

	stack = xreallocarray(NULL, cap, sizeof(*stack));
	stack[n++] = top;
	while (n > 0) {
		struct tree_node *x = stack[--n];

		x->uid = uid;
		x->gid = gid;
		x->owner_from_host = false;
		if (x->type != TREE_DIR)
			continue;
		if (n + x->n_children > cap) {
			cap = MAX(cap * 2, n + x->n_children);
			stack = xreallocarray(stack, cap, sizeof(*stack));
		}
		for (size_t i = 0; i < x->n_children; i++)
			stack[n++] = x->children[i];
	}
}

static int glob_err(const char *path, int err)
{
	(void)path;
	(void)err;
	return 0; /* unreadable directories simply do not match, as in the shell */
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int apply_glob(struct tree *t, const struct contents_entry *e, const char *target,
		      const struct tree_add_opts *o, struct diag *d)
{
	struct tree_node *dir;
	glob_t g = { 0 };
	int r;

	r = glob(e->source, GLOB_NOSORT, glob_err, &g);
	if (r == GLOB_NOMATCH || (r == 0 && g.gl_pathc == 0)) {
		globfree(&g);
		return diag_fail(d, -ENOENT, "contents source %s matches nothing", e->source);
	}
	if (r != 0) {
		globfree(&g);
		return diag_fail(d, -EIO, "contents source %s: cannot expand the pattern",
				 e->source);
	}
	/* Bytewise, not the locale's collation. */
	qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv), cmp_str);
	r = tree_mkdir_p(t, target, 0755, 0, 0, /* mtime= */ 0, &dir);
	if (r < 0) {
		globfree(&g);
		return diag_prepend(d, tree_path_error(d, r, target), "contents");
	}
	for (size_t i = 0; i < g.gl_pathc && r >= 0; i++) {
		_cleanup_free_ char *m = xstrdup(g.gl_pathv[i]), *dest = NULL;
		size_t len = strlen(m);
		const char *base;

		while (len > 1 && m[len - 1] == '/')
			m[--len] = '\0';
		base = strrchr(m, '/') ? strrchr(m, '/') + 1 : m;
		dest = xasprintf("%s/%s", strcmp(target, "/") == 0 ? "" : target, base);
		r = tree_add_host_node(t, m, dest, o, d);
		if (r < 0)
			r = diag_prepend(d, r, "contents %s", e->target);
	}
	globfree(&g);
	if (r < 0)
		return r;
	if (e->user)
		chown_tree(dir, o->uid, o->gid);
	return 0;
}

static int apply_one(struct tree *t, const struct contents_entry *e,
		     const struct contents_ids *ids, struct diag *d)
{
	_cleanup_free_ char *target = NULL;
	struct tree_add_opts o;
	struct stat st;
	int r;

	r = prepare(t, e, ids, &o, &target, d);
	if (r < 0)
		return r;
	if (strchr(e->source, '*'))
		return apply_glob(t, e, target, &o, d);
	if (lstat(e->source, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return diag_fail(d, -ENOENT, "contents source %s does not exist", e->source);
		return diag_fail(d, -errno, "contents source %s: cannot read: %s", e->source,
				 strerror(errno));
	}
	if (tree_lookup(t, target))
		return diag_fail(d, -EEXIST,
				 "contents target %s: duplicate entry (it already exists from the "
				 "root tree or an earlier entry); remove one of them",
				 target);
	/* [ -d source ] follows a symlink: a link to a directory copies the directory. */
	if (stat(e->source, &st) == 0 && S_ISDIR(st.st_mode))
		r = tree_add_host_dir(t, e->source, target, &o, d);
	else
		r = tree_add_host_node(t, e->source, target, &o, d);
	if (r < 0)
		return diag_prepend(d, r, "contents %s", target);
	return 0;
}

int contents_apply(struct tree *t, const struct contents_entry *e, size_t n, struct diag *d)
{
	return contents_apply_ids(t, e, n, NULL, d);
}

int contents_apply_ids(struct tree *t, const struct contents_entry *e, size_t n,
		       const struct contents_ids *ids, struct diag *d)
{
	for (size_t i = 0; i < n; i++) {
		int r = apply_one(t, &e[i], ids, d);

		if (r < 0)
			return r;
	}
	return 0;
}

void contents_entries_free(struct contents_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].source);
		free(e[i].target);
		free(e[i].mode);
		free(e[i].user);
		free(e[i].group);
	}
	free(e);
}

void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
