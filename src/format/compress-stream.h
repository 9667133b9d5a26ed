/* Whole-file compression for raw --compress and the gce tar.gz (docs/formats/pack.md): a byte
 * stream cut into fixed 4 MiB chunks, each compressed on its own by the worker pool
 * (format/pool.h, a unit per chunk) and appended in order, so the bytes are the same for any thread count:
 * zstd: one frame per chunk (with content size and checksum), a valid zstd stream;
 * gzip: one gzip member per chunk (RFC 1952 2.2: a gzip file is a series of members);
 * xz: one block per chunk in a single .xz stream with its index (xz file format 1.1.0).
 * Chunks of zeros cost one compression, done once. */
#pragma once

#include <stdint.h>
#include <stddef.h>

#include "format/format.h"

#define COMPRESS_STREAM_CHUNK (4u << 20)

struct compress_stream;

/* Appends the compressed stream to fd from offset off on. level 0: the tools' defaults (zstd 3,
 * gzip 6, xz 6); zstd takes 1-22, gzip 1-12 (libdeflate; 10-12 are slower and smaller than
 * gzip -9), xz 0-9. -EINVAL for another level. */
int compress_stream_new(enum format_file_compress type, int level, unsigned n_threads, int fd,
			uint64_t off, struct compress_stream **ret);
/* Stops the workers; nothing more is written. NULL-safe. */
struct compress_stream *compress_stream_free(struct compress_stream *c);
/* Appends len bytes: -errno of a failed write (the caller words the message). */
int compress_stream_write(struct compress_stream *c, const void *buf, size_t len);
/* Appends len zero bytes, cheaply. */
int compress_stream_zeros(struct compress_stream *c, uint64_t len);
/* Compresses the rest, writes the trailer; *ret_end: the end offset in fd. */
int compress_stream_finish(struct compress_stream *c, uint64_t *ret_end);
/* Uncompressed bytes appended so far. */
uint64_t compress_stream_pos(const struct compress_stream *c);
/* The highest level the type takes, the default's value; name: "zstd", "gzip", "xz". */
int compress_stream_max_level(enum format_file_compress type);
int compress_stream_default_level(enum format_file_compress type);
const char *compress_stream_name(enum format_file_compress type);

#include "util/cleanup.h"
DEFINE_CLEANUP_FUNC(struct compress_stream, compress_stream_free);
