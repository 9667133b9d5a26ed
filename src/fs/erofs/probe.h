/* Recognising an erofs superblock in a partition (fs/erofs/probe.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct diag;
struct erofs_super;

/* 1 and *ret when the partition of size bytes holds erofs, 0 when not, -EBADMSG (with a
 * message) when the superblock is malformed or its checksum is wrong. */
int erofs_probe(int (*read)(void *ctx, uint64_t off, void *buf, size_t len, struct diag *d),
		void *ctx, uint64_t size, struct diag *d, struct erofs_super *ret);
