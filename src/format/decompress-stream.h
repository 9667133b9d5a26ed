/* Reading whole-file compressed images (raw .zst/.gz/.xz, the gce tar.gz): streaming zstd
 * (concatenated frames), gzip (concatenated members) and xz (concatenated streams) decoders
 * that hand the output, in order, to a callback. Input is hostile: every error is -EBADMSG
 * with a message, and the output is bounded by a limit the caller sets. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"

struct diag;

/* The compression a file starts with (by magic), NONE when none. */
enum format_file_compress decompress_stream_probe(const uint8_t *head, size_t len);
/* Up to out_len bytes decompressed from the start of in[0, in_len) (for probing what is
 * inside); the number of bytes, 0 on any error. */
size_t decompress_stream_head(enum format_file_compress type, const uint8_t *in, size_t in_len,
			      uint8_t *out, size_t out_len);

/* Receives the output in order: < 0 an error (with a message), 0 more, 1 stop early. */
typedef int (*decompress_stream_put_fn)(void *ctx, const uint8_t *buf, size_t len,
					struct diag *d);

/* Decompresses fd's bytes [0, file_size). More than limit output bytes: -EFBIG. */
int decompress_stream(int fd, uint64_t file_size, enum format_file_compress type,
		      uint64_t limit, decompress_stream_put_fn put, void *ctx, struct diag *d);
