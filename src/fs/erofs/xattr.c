/* erofs inline xattrs (Linux fs/erofs/erofs_fs.h, struct erofs_xattr_ibody_header and
 * struct erofs_xattr_entry): a 12-byte header (no shared xattrs), then per xattr e_name_len,
 * e_name_index, e_value_size (le16), the name without its prefix and the value, padded to 4
 * bytes. The prefix indices are the kernel's EROFS_XATTR_INDEX_*. POSIX ACLs are stored in
 * the xattr format getxattr returns (posix_acl_from_xattr reads them back). */
#include "fs/erofs/erofs.h"

#include <errno.h>
#include <string.h>

#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"

static const struct {
	const char *prefix;
	uint8_t index;
	bool exact; /* the whole name (ACLs: an empty suffix) */
} prefixes[] = {
	{ "user.", 1, false },
	{ "system.posix_acl_access", 2, true },
	{ "system.posix_acl_default", 3, true },
	{ "trusted.", 4, false },
	{ "security.", 6, false },
};

/* The prefix index and the suffix's offset in name; 0 when erofs cannot name it. */
static uint8_t xattr_index(const char *name, size_t *ret_skip)
{
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i].prefix);

		if (prefixes[i].exact ? strcmp(name, prefixes[i].prefix) != 0
				      : strncmp(name, prefixes[i].prefix, n) != 0)
			continue;
		*ret_skip = n;
		return prefixes[i].index;
	}
	return 0;
}

static uint32_t entry_size(size_t name_len, size_t value_len)
{
	return (uint32_t)ROUND_UP(4 + name_len + value_len, 4);
}

int erofs_xattr_size(const struct tree_node *n, struct diag *d, uint32_t *ret)
{
	const struct tree_xattr *x = tree_node_xattrs(n);
	size_t count = tree_node_n_xattrs(n), skip;
	uint64_t size = EROFS_XATTR_IBODY_HEADER;

	if (!count) {
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		if (!xattr_index(x[i].name, &skip))
			return diag_fail(d, -ENOTSUP, "xattr %s: erofs stores only user., trusted., "
					 "security. and POSIX ACL xattrs", x[i].name);
		if (strlen(x[i].name) - skip > UINT8_MAX || x[i].len > UINT16_MAX)
			return diag_fail(d, -ENOTSUP, "xattr %s: name over 255 bytes after its "
					 "prefix or value over 65535 bytes (erofs' limits)",
					 x[i].name);
		size += entry_size(strlen(x[i].name) - skip, x[i].len);
	}
	/* i_xattr_icount is 16 bits */
	if ((size - EROFS_XATTR_IBODY_HEADER) / 4 + 1 > UINT16_MAX)
		return diag_fail(d, -ENOTSUP, "xattrs: %llu bytes; an erofs inode holds at most "
				 "262 KB", (unsigned long long)size);
	*ret = (uint32_t)size;
	return 0;
}

uint16_t erofs_xattr_icount(uint32_t size)
{
	return size ? (uint16_t)((size - EROFS_XATTR_IBODY_HEADER) / 4 + 1) : 0;
}

void erofs_xattr_encode(uint8_t *p, const struct tree_node *n)
{
	const struct tree_xattr *x = tree_node_xattrs(n);
	size_t count = tree_node_n_xattrs(n), pos = EROFS_XATTR_IBODY_HEADER;

	memset(p, 0, EROFS_XATTR_IBODY_HEADER);
	for (size_t i = 0; i < count; i++) {
		size_t skip = 0;
		uint8_t idx = xattr_index(x[i].name, &skip);
		size_t nl = strlen(x[i].name) - skip, sz = entry_size(nl, x[i].len);

		memset(p + pos, 0, sz);
		p[pos] = (uint8_t)nl;
		p[pos + 1] = idx;
		le16_put(p + pos + 2, (uint16_t)x[i].len);
		memcpy(p + pos + 4, x[i].name + skip, nl);
		if (x[i].len)
			memcpy(p + pos + 4 + nl, x[i].value, x[i].len);
		pos += sz;
	}
}
