/* Opening a disk image of any format for reading (`convert`, `inspect`): the format comes from
 * the file's first bytes, raw is the fallback. Readers borrow the fd; image_input owns it and
 * closes it after the reader. Every range a reader returns is checked against the virtual
 * size here, so callers can trust offsets and lengths. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"
#include "util/cleanup.h"

struct diag;

struct image_input {
	char *path;
	int fd;
	uint64_t file_size;
	struct image_reader *reader; /* reader->ops->name is the format */
};

/* Bytes read to probe a format. */
#define IMAGE_READER_PROBE_BYTES 4096u

/* format NULL: probe the magic, raw when nothing matches. Errors name the path. */
int image_reader_open(const char *path, const char *format, struct diag *d,
		      struct image_input **ret);
struct image_input *image_input_free(struct image_input *in);
DEFINE_CLEANUP_FUNC(struct image_input, image_input_free)
/* Bytes [off, off + len) of the virtual disk; -ERANGE past its end. */
int image_input_read(struct image_input *in, uint64_t off, void *buf, size_t len,
		     struct diag *d);
/* The next range at or after off that may hold data (*ret_len == 0: none). */
int image_input_next_data(struct image_input *in, uint64_t off, uint64_t *ret_start,
			  uint64_t *ret_len, struct diag *d);

/* The reader for a format name ("raw", "qcow2", "vdi", "vpc"), NULL when unknown. */
const struct reader_ops *image_reader_find(const char *name);
/* The format whose magic head starts with; raw when none. */
const struct reader_ops *image_reader_probe(const uint8_t *head, size_t len, uint64_t file_size);
