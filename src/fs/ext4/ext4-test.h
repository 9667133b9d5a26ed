/* Helpers for the ext4 unit tests: a test-only emitter (ranges in order, pwrite to a file)
 * and running external checkers. Header-only, test binaries only. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/ext4/ext4.h"
#include "image/plan.h"
#include "tree/tree.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/test-spawn.h"
#include "util/xalloc.h"


static inline int et_emit(const struct ext4_plan *pl, const char *path)
{
	struct image_plan *ip = image_plan_new(ext4_plan_size(pl));
	struct diag d = { 0 };
	uint8_t *buf = xmalloc(1 << 16);
	int fd, r;

	ext4_plan_ranges(pl, 0, ip);
	r = image_plan_seal(ip, &d);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r < 0 || fd < 0 || ftruncate(fd, (off_t)ext4_plan_size(pl)) < 0) {
		fprintf(stderr, "emit: %s\n", diag_message(&d, r));
		r = r < 0 ? r : -EIO;
		goto out;
	}
	for (size_t i = 0; i < ip->n_ranges && r >= 0; i++) {
		const struct image_range *g = &ip->ranges[i];

		for (uint64_t off = 0; off < g->len && r >= 0; off += 1 << 16) {
			size_t n = (size_t)(g->len - off < (1 << 16) ? g->len - off : (1 << 16));

			memset(buf, 0, n);
			if (!image_range_is_file(g)) {
				r = image_range_fill(ip, g, off, buf, n, &d);
			} else if (image_range_node(g)->src_data) {
				memcpy(buf, image_range_node(g)->src_data + g->arg + off, n);
			} else {
				char *sp = tree_node_src_path(image_range_node(g));
				int sfd = open(sp, O_RDONLY | O_CLOEXEC);

				free(sp);

				r = sfd < 0 ? -errno : pread_full(sfd, buf, n, g->arg + off);
				if (sfd >= 0)
					close(sfd);
			}
			if (r >= 0)
				r = pwrite_full(fd, buf, n, g->off + off);
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	image_plan_free(ip);
	return r < 0 ? r : 0;
}

static inline char *et_slurp(const char *path)
{
	uint8_t *buf = NULL;
	size_t len;

	if (read_file(path, 1 << 24, &buf, &len) < 0)
		return xstrdup("");
	return (char *)buf;
}

static inline void et_params(struct ext4_params *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->label, "nixos");
	for (int i = 0; i < 16; i++) {
		p->uuid[i] = (uint8_t)(0x11 * (i % 15 + 1));
		p->hash_seed[i] = (uint8_t)(0x2b + 7 * i);
	}
	p->uuid[6] = 0x40 | (p->uuid[6] & 0x0f);
	p->reserved_percent = 5;
	p->inode_ratio = 16384;
	p->fs_time = 1700000000;
	p->journal = true;
}
