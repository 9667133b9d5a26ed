/* Helpers shared by the format unit tests (test binaries only): a deterministic disk pattern
 * with holes, partial blocks and all-zero writes, fed to a sink and mirrored into a raw file,
 * and running qemu-img. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "format/format.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/outfile.h"

extern char **environ;

/* Run argv; stdout into out[outlen] (NUL-terminated) when out is set. Exit status, or negative
 * errno when it cannot run (-ENOENT: missing) and -ECHILD when a signal ended it. */
static inline int ftest_run(char *const argv[], char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, r;
	size_t got = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return -r;
	}
	for (;;) {
		char tmp[4096];
		ssize_t n = read(pipefd[0], tmp, sizeof(tmp));

		if (n <= 0)
			break;
		if (out && got + 1 < outlen) {
			size_t k = (size_t)n < outlen - 1 - got ? (size_t)n : outlen - 1 - got;

			memcpy(out + got, tmp, k);
			got += k;
		}
	}
	if (out && outlen)
		out[got] = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

static inline bool ftest_have_qemu_img(void)
{
	char *argv[] = { "qemu-img", "--version", NULL };

	return ftest_run(argv, NULL, 0) == 0;
}

static inline char *ftest_tmpdir(const char *name)
{
	static char dir[128];

	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", name);
	return mkdtemp(dir);
}

/* The pattern byte at off of a written range (never zero, so writes are data). */
static inline uint8_t ftest_byte(uint64_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13) | 1;
}

struct ftest_range {
	uint64_t off;
	uint64_t len;
	bool zero; /* written, but all zeros: must stay unallocated */
};

/* Feed ranges (ascending) to a new sink of ops writing path, and mirror them into a raw file at
 * raw_path (when set). Writes are split into odd-sized pieces. */
static inline int ftest_write(const struct format_ops *ops, const struct format_params *p,
			      const char *path, const char *raw_path, const struct ftest_range *rg,
			      size_t n_rg, struct diag *d)
{
	static uint8_t buf[3 << 20];
	struct outfile *o;
	struct sink *s;
	int raw_fd = -1, r;

	if (raw_path) {
		raw_fd = open(raw_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (raw_fd < 0 || ftruncate(raw_fd, (off_t)p->virtual_size) < 0)
			return -errno;
	}
	r = outfile_open(path, d, &o);
	if (r < 0)
		return r;
	r = sink_open(ops, p, o, d, &s);
	if (r < 0) {
		outfile_abort(o);
		return r;
	}
	for (size_t i = 0; i < n_rg; i++) {
		uint64_t off = rg[i].off, end = rg[i].off + rg[i].len;

		while (off < end) {
			size_t n = end - off < 777777 ? (size_t)(end - off) : 777777;

			if (off % (1 << 20) == 0 && end - off >= (3 << 20))
				n = 3 << 20; /* whole blocks in one write too */
			for (size_t k = 0; k < n; k++)
				buf[k] = rg[i].zero ? 0 : ftest_byte(off + k);
			r = sink_write(s, off, buf, n, d);
			if (r < 0) {
				sink_abort(s);
				return r;
			}
			if (raw_fd >= 0 && pwrite_full(raw_fd, buf, n, off) < 0)
				return -EIO;
			off += n;
		}
	}
	if (raw_fd >= 0)
		close(raw_fd);
	return sink_finish(s, d);
}

/* The file as a whole (test inputs are small). */
static inline int ftest_read(const char *path, uint8_t **ret, size_t *ret_len)
{
	return read_file(path, 64 << 20, ret, ret_len);
}

static inline int ftest_write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), r;

	if (fd < 0)
		return -errno;
	r = pwrite_full(fd, buf, len, 0);
	close(fd);
	return r;
}

/* Read the whole virtual disk through reader ops and compare it with the raw file. */
static inline int ftest_reader_equals_raw(const struct reader_ops *ops, const char *path,
					  const char *raw_path, uint64_t want_size,
					  struct diag *d)
{
	struct image_reader *rd;
	uint8_t *raw, *img;
	size_t raw_len;
	struct stat st;
	int fd, r;

	r = ftest_read(raw_path, &raw, &raw_len);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	r = ops->open(fd, (uint64_t)st.st_size, d, &rd);
	if (r < 0) {
		close(fd);
		free(raw);
		return r;
	}
	if (rd->virtual_size != want_size || raw_len > want_size) {
		fprintf(stderr, "  virtual size %llu, want %llu\n",
			(unsigned long long)rd->virtual_size, (unsigned long long)want_size);
		r = -EINVAL;
		goto out;
	}
	img = calloc(1, want_size + 1);
	/* odd-sized pieces exercise block boundaries */
	for (uint64_t off = 0; off < want_size && r >= 0;) {
		size_t n = want_size - off < 300001 ? (size_t)(want_size - off) : 300001;

		r = ops->read(rd, off, img + off, n, d);
		off += n;
	}
	if (r >= 0 && (memcmp(img, raw, raw_len) != 0 || !mem_is_zero(img + raw_len,
								       want_size - raw_len)))
		r = -EILSEQ;
	/* next_data: everything outside the ranges it returns reads as zeros */
	for (uint64_t off = 0, start, len; r >= 0 && off < want_size; off = start + len) {
		r = ops->next_data(rd, off, &start, &len, d);
		if (r < 0 || len == 0) {
			if (r >= 0 && !mem_is_zero(img + off, want_size - off))
				r = -EILSEQ;
			break;
		}
		if (start < off || !mem_is_zero(img + off, start - off))
			r = -EILSEQ;
	}
	free(img);
out:
	ops->close(rd);
	close(fd);
	free(raw);
	return r;
}

/* qemu-img info's virtual size of path read as fmt; 0 on failure. */
static inline uint64_t ftest_qemu_virtual_size(const char *path, const char *fmt)
{
	char *argv[] = { "qemu-img", "info", "-f", (char *)fmt, "--output=json", (char *)path,
			 NULL };
	char out[8192], *p;

	if (ftest_run(argv, out, sizeof(out)) != 0)
		return 0;
	p = strstr(out, "\"virtual-size\": ");
	return p ? strtoull(p + strlen("\"virtual-size\": "), NULL, 10) : 0;
}
