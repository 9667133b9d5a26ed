/* A tar entry's extended attributes and POSIX ACLs (tar-internal.h): xattrs as stored, ACLs
 * from libarchive's entries encoded as the kernel stores them, unless the archive has the raw
 * system.posix_acl_* value too (tar --xattrs stores both; the raw one wins). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree/posix-acl.h"
#include "tree/tar-internal.h"
#include "tree/tree-internal.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/xalloc.h"

#define TAR_XATTR_MAX 65536u /* XATTR_SIZE_MAX */

struct acl_ent {
	uint16_t tag, perm;
	uint32_t id;
};

static int acl_ent_cmp(const void *a, const void *b)
{
	const struct acl_ent *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* One POSIX ACL type of the entry as the kernel's xattr value; *ret_len 0 when there is none
 * beyond the mode bits. */
static int acl_encode(struct tar_ctx *c, const char *path, struct archive_entry *e, int want,
		      uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ struct acl_ent *v = NULL;
	size_t n = 0, cap = 0;
	bool extended = false;
	int type, permset, tag, qual;
	const char *name;
	uint8_t *out;

	*ret_len = 0;
	if (archive_entry_acl_reset(e, want) <= 0)
		return 0;
	while (archive_entry_acl_next(e, want, &type, &permset, &tag, &qual, &name) == ARCHIVE_OK) {
		struct acl_ent a = { .perm = (uint16_t)(permset & 7), .id = (uint32_t)ACL_UNDEFINED_ID };

		switch (tag) {
		case ARCHIVE_ENTRY_ACL_USER_OBJ:
			a.tag = ACL_USER_OBJ;
			break;
		case ARCHIVE_ENTRY_ACL_USER:
			a.tag = ACL_USER;
			a.id = (uint32_t)qual;
			extended = true;
			break;
		case ARCHIVE_ENTRY_ACL_GROUP_OBJ:
			a.tag = ACL_GROUP_OBJ;
			break;
		case ARCHIVE_ENTRY_ACL_GROUP:
			a.tag = ACL_GROUP;
			a.id = (uint32_t)qual;
			extended = true;
			break;
		case ARCHIVE_ENTRY_ACL_MASK:
			a.tag = ACL_MASK;
			extended = true;
			break;
		case ARCHIVE_ENTRY_ACL_OTHER:
			a.tag = ACL_OTHER;
			break;
		default:
			return tar_fail(c, -ENOTSUP, path, "an ACL entry that is not POSIX.1e");
		}
		if ((a.tag == ACL_USER || a.tag == ACL_GROUP) && qual < 0) {
			/* GNU tar writes "user:1000:rw-" with -n: the name is the id */
			uint32_t id;

			if (!name || passwd_parse_id(name, &id) < 0)
				return tar_fail(c, -EBADMSG, path,
					    "an ACL entry names a user or group without its numeric "
					    "id; pack with tar --xattrs, which keeps ACLs as they are "
					    "stored (system.posix_acl_* attributes)");
			a.id = id;
		}
		if (n == cap) {
			if (cap >= 4096)
				return tar_fail(c, -EOVERFLOW, path, "more than 4096 ACL entries");
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = a;
	}
	/* An access ACL of the three base entries is the mode itself: the kernel stores none. A
	 * default ACL is stored whatever it holds. */
	if (n == 0 || (want == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && !extended))
		return 0;
	qsort(v, n, sizeof(*v), acl_ent_cmp);
	for (size_t i = 1; i < n; i++)
		if (acl_ent_cmp(&v[i - 1], &v[i]) == 0)
			return tar_fail(c, -EBADMSG, path, "an ACL with a duplicate entry");
	out = tree_alloc(c->t, 4 + 8 * n);
	le32_put(out, POSIX_ACL_XATTR_VERSION);
	for (size_t i = 0; i < n; i++) {
		le16_put(out + 4 + 8 * i, v[i].tag);
		le16_put(out + 6 + 8 * i, v[i].perm);
		le32_put(out + 8 + 8 * i, v[i].id);
	}
	*ret = out;
	*ret_len = 4 + 8 * n;
	return 0;
}

static int xattr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tree_xattr *)a)->name, ((const struct tree_xattr *)b)->name);
}

static bool has_xattr(const struct tree_xattr *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return true;
	return false;
}

/* With an extended access ACL the mode's group bits are the ACL's mask (POSIX.1e), as the
 * kernel keeps them; libarchive puts the owning group's entry there instead. value is in the
 * xattr format (le32 version, then 8-byte entries). */
static void mode_from_acl(const struct tar_ctx *c, struct tree_node *n, const uint8_t *value,
			  size_t len)
{
	if (n->type == TREE_SYMLINK || (c->o && c->o->set_mode) || len < 4 ||
	    le32_get(value) != POSIX_ACL_XATTR_VERSION)
		return;
	for (size_t off = 4; off + 8 <= len; off += 8)
		if (le16_get(value + off) == ACL_MASK)
			n->mode = (n->mode & ~070u) | (uint32_t)(le16_get(value + off + 2) & 7) << 3;
}

int tar_read_xattrs(struct tar_ctx *c, const char *path, struct archive_entry *e,
		    struct tree_node *n)
{
	static const struct {
		int type;
		const char *name;
	} acls[] = {
		{ ARCHIVE_ENTRY_ACL_TYPE_ACCESS, "system.posix_acl_access" },
		{ ARCHIVE_ENTRY_ACL_TYPE_DEFAULT, "system.posix_acl_default" },
	};
	_cleanup_free_ struct tree_xattr *v = NULL;
	size_t n_v = 0, cap = (size_t)MAX(archive_entry_xattr_reset(e), 0) + 2;
	const char *name;
	const void *value;
	size_t size;

	if (archive_entry_acl_types(e) & ARCHIVE_ENTRY_ACL_TYPE_NFS4)
		return tar_fail(c, -ENOTSUP, path, "NFSv4 ACLs are not supported (POSIX ACLs are)");
	v = xreallocarray(NULL, cap, sizeof(*v));
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!name || !*name || strlen(name) > TREE_NAME_MAX)
			return tar_fail(c, -EBADMSG, path, "an extended attribute with a bad name");
		if (size > TAR_XATTR_MAX)
			return tar_fail(c, -EOVERFLOW, path, "an extended attribute over 64 KiB");
		if (has_xattr(v, n_v, name)) /* a later value of a name wins */
			for (size_t i = 0; i < n_v; i++)
				if (strcmp(v[i].name, name) == 0)
					v[i] = v[--n_v];
		if (n_v + 2 >= cap)
			break; /* cannot happen: reset counted them */
		v[n_v++] = (struct tree_xattr){ .name = tree_strdup(c->t, name),
						.value = size ? tree_memdup(c->t, value, size) : NULL,
						.len = size };
	}
	for (size_t i = 0; i < ARRAY_SIZE(acls); i++) {
		uint8_t *val = NULL;
		size_t len;
		int r;

		if (has_xattr(v, n_v, acls[i].name))
			continue; /* stored raw: that is the kernel's own value */
		r = acl_encode(c, path, e, acls[i].type, &val, &len);
		if (r < 0)
			return r;
		if (len)
			v[n_v++] = (struct tree_xattr){ .name = (char *)acls[i].name,
							.value = val, .len = len };
	}
	if (n_v == 0) {
		tree_node_set_xattrs(c->t, n, NULL, 0);
		return 0;
	}
	for (size_t i = 0; i < n_v; i++)
		if (strcmp(v[i].name, acls[0].name) == 0)
			mode_from_acl(c, n, v[i].value, v[i].len);
	qsort(v, n_v, sizeof(*v), xattr_cmp);
	tree_node_set_xattrs(c->t, n, tree_memdup(c->t, v, n_v * sizeof(*v)), n_v);
	return 0;
}
