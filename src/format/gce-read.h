/* Extracting disk.raw from a decompressed gce tar stream (GNU oldgnu sparse or a plain
 * member) onto a file at the disk's offsets, holes left as holes. Fed by decompress_stream;
 * every header and sparse map entry is checked (docs/formats/pack.md). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct gce_extract;

/* The member taken: the first named disk.raw. Its size must be at most max_size. */
struct gce_extract *gce_extract_new(int out_fd, uint64_t max_size);
struct gce_extract *gce_extract_free(struct gce_extract *x);
/* A decompress_stream_put_fn: 1 once the member is complete. */
int gce_extract_put(void *ctx, const uint8_t *buf, size_t len, struct diag *d);
/* After the stream: the disk's size, or -EBADMSG when the member is missing or incomplete. */
int gce_extract_done(struct gce_extract *x, uint64_t *ret_size, struct diag *d);
/* Whether buf (at least 512 bytes) starts with a tar header (a valid checksum). */
bool gce_extract_probe(const uint8_t *buf, size_t len);
