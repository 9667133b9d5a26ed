/* Shared by the libFuzzer harnesses of fuzz/ (one file per parser of untrusted bytes; see
 * fuzz/README.md). Each is built with -fsanitize=fuzzer,address,undefined by `make fuzz`. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file, for parsers that open a path: a memfd, read through /proc/self/fd. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char path[static 64])
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) {
		perror("fuzz: memfd");
		abort();
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* The input as the start of a partition: reads past its end return zeros, as an image's
 * holes do (the probes' read callbacks). */
struct fuzz_buf {
	const uint8_t *p;
	size_t len;
};

static inline int fuzz_buf_read(void *ctx, uint64_t off, void *out, size_t len, struct diag *d)
{
	const struct fuzz_buf *b = ctx;

	memset(out, 0, len);
	if (off < b->len)
		memcpy(out, b->p + off, len < b->len - off ? len : b->len - off);
	return 0;
}

/* A FAT filesystem's size as its BPB gives it (BPB_TotSec16 at 19, else BPB_TotSec32 at 32,
 * times BPB_BytsPerSec at 11), so the probe reaches the FAT and FSInfo; the input's size when
 * it is too short for a BPB. */
static inline uint64_t fuzz_fat_size(const uint8_t *data, size_t size)
{
	uint64_t sec;

	if (size < 36)
		return size;
	sec = data[19] | data[20] << 8;
	if (!sec)
		sec = data[32] | data[33] << 8 | data[34] << 16 | (uint64_t)data[35] << 24;
	return sec * (uint64_t)(data[11] | data[12] << 8);
}

/* The input of the current run, for fuzz_check_error. */
static const uint8_t *fuzz_input;
static size_t fuzz_input_len;

static inline void fuzz_begin(const uint8_t *data, size_t size)
{
	fuzz_input = data;
	fuzz_input_len = size;
}

/* A failure must come with a negative errno and a one-line message that names what it is
 * about ("(null)" is a NULL printed by %s: a message built from freed or missing state,
 * unless the input itself says "(null)", as libFuzzer's strstr hook soon makes it).
 * FUZZ_VERBOSE=1 prints the messages, to see how far a seed gets. */
static inline void fuzz_check_error(const struct diag *d, int r)
{
	const char *m;

	if (r >= 0)
		return;
	m = diag_message(d, r);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: %d: %s\n", r, m ? m : "(null)");
	if (!m || !*m || strchr(m, '\n') ||
	    (strstr(m, "(null)") && !memmem(fuzz_input, fuzz_input_len, "(null)", 6))) {
		fprintf(stderr, "fuzz: error %d without a one-line message: \"%s\"\n", r,
			m ? m : "(null)");
		abort();
	}
}

/* A string made of the input: NUL-terminated copy. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
