/* What tar.c and tar-xattr.c share: the reading context and its error. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct archive_entry;
struct diag;
struct tree;
struct tree_add_opts;
struct tree_fd_src;
struct tree_node;

struct tar_ctx {
	struct tree *t;
	const struct tree_add_opts *o;
	struct diag *d;
	const char *what;
	const char *tmp_dir;
	struct tree_node *top;
	struct tree_fd_src *spill;
	uint64_t spill_pos;
	uint32_t scope;
	/* (parent, name) -> node for every node under top: open addressing, power of two */
	struct tree_node **slots;
	size_t n_slots, n_used;
	/* directories that got children appended: sorted at the end */
	struct tree_node **dirs;
	size_t n_dirs, cap_dirs;
	uint8_t *buf;
};

/* "WHAT: PATH: WHY" with err (negative errno), returned. */
int tar_fail(struct tar_ctx *c, int err, const char *path, const char *why);
/* The entry's xattrs (SCHILY.xattr.*, LIBARCHIVE.xattr.*) and POSIX ACLs (SCHILY.acl.*) onto
 * n, ACLs in the kernel's xattr form (tree/posix-acl.h). */
int tar_read_xattrs(struct tar_ctx *c, const char *path, struct archive_entry *e,
		    struct tree_node *n);
