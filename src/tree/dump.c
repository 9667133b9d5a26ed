/* tree_dump: a canonical, host-independent text form of a finalized tree. */
#include "tree/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

static void put_escaped(FILE *f, const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] > ' ' && s[i] < 0x7f && s[i] != '\\')
			fputc(s[i], f);
		else
			fprintf(f, "\\x%02x", s[i]);
	}
}

static void dump_node(FILE *f, const struct tree_node *n)
{
	static const char *const types[] = {
		[TREE_DIR] = "dir",	[TREE_REG] = "reg",   [TREE_SYMLINK] = "lnk",
		[TREE_CHR] = "chr",	[TREE_BLK] = "blk",   [TREE_FIFO] = "fifo",
		[TREE_SOCK] = "sock",
	};
	_cleanup_free_ char *path = tree_node_path(n);

	put_escaped(f, (const uint8_t *)path, strlen(path));
	fprintf(f, " %s %04o %u:%u %lld.%09u", types[n->type], n->mode, n->uid, n->gid,
		(long long)n->mtime_sec, n->mtime_nsec);
	if (n->type == TREE_REG || n->type == TREE_SYMLINK)
		fprintf(f, " size=%llu", (unsigned long long)n->size);
	if (n->type == TREE_SYMLINK) {
		fputs(" ->", f);
		put_escaped(f, (const uint8_t *)n->link_target, n->size);
	}
	if (n->type == TREE_CHR || n->type == TREE_BLK)
		fprintf(f, " dev=%u,%u", n->rdev_major, n->rdev_minor);
	for (size_t i = 0; i < tree_node_n_xattrs(n); i++) {
		const struct tree_xattr *x = &tree_node_xattrs(n)[i];

		fprintf(f, " xattr:%s=", x->name);
		put_escaped(f, x->value, x->len);
	}
	if (n->sparse) {
		size_t n_data;
		const struct tree_extent *data = tree_node_sparse_data(n, &n_data);

		fputs(" sparse", f);
		for (size_t i = 0; i < n_data; i++)
			fprintf(f, " %llu+%llu", (unsigned long long)data[i].off,
				(unsigned long long)data[i].len);
	}
	if (n->hardlink) {
		_cleanup_free_ char *p = tree_node_path(n->hardlink);

		fputs(" link=", f);
		put_escaped(f, (const uint8_t *)p, strlen(p));
	}
	if (n->n_links > 1)
		fprintf(f, " nlink=%u", n->n_links);
	fputc('\n', f);
}

char *tree_dump(const struct tree *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	for (size_t i = 0; i < t->n_nodes; i++)
		dump_node(f, t->nodes[i]);
	fprintf(f, "nodes=%zu inodes=%zu bytes=%llu\n", t->n_nodes, t->n_inodes,
		(unsigned long long)t->total_bytes);
	if (fclose(f) != 0)
		abort();
	return buf;
}
