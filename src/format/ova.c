/* ova: a ustar archive of NAME.ovf (the OVF 1.0 descriptor, ovf.c), NAME-disk1.vmdk (a
 * streamOptimized vmdk) and NAME.mf (SHA256 of both), in that order: the descriptor first, the
 * files in References order, the manifest at the end, as OVF 1.1+ allows (DSP0243 "OVF
 * packages": manifest and certificate either right after the descriptor or at the end) and as
 * VirtualBox writes it. Owner 0/0, mode 0644, mtime params->timestamp (docs/formats/pack.md).
 *
 * The vmdk sink writes into an unnamed temporary file beside the output; its size, which the
 * descriptor states, is known only then, so finish writes the whole archive: descriptor, the
 * vmdk read once (hashed for the manifest on the way), manifest, end-of-archive blocks. */
#include "format/format-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/ovf.h"
#include "format/tar.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/fileio.h"
#include "util/hash.h"
#include "util/interrupt.h"
#include "util/outfile.h"
#include "util/xalloc.h"

#define OVA_COPY_BUF (1u << 20)
#define OVA_RECORD (20u * TAR_BLOCK)

struct ova_sink {
	struct sink base;
	struct outfile *out;
	struct format_params p;
	int disk_fd;         /* the vmdk, written by the inner sink through a dup */
	struct sink *inner;  /* NULL once finished */
	uint64_t out_off;    /* end of what the archive has so far */
};

static int ova_write(struct sink *base, uint64_t off, const void *buf, size_t len,
		     struct diag *d)
{
	struct ova_sink *s = (struct ova_sink *)base;

	return sink_write(s->inner, off, buf, len, d);
}

static void ova_free(struct ova_sink *s)
{
	if (s->disk_fd >= 0)
		close(s->disk_fd);
	free(s);
}

static void ova_abort(struct sink *base)
{
	struct ova_sink *s = (struct ova_sink *)base;

	sink_abort(s->inner);
	outfile_abort(s->out);
	ova_free(s);
}

static int ova_fail(struct ova_sink *s, int r, struct diag *d)
{
	return diag_fail(d, r, "%s: write failed: %s", s->out->path, strerror(-r));
}

/* Appends bytes to the archive. */
static int ova_put(struct ova_sink *s, const void *buf, size_t len, struct diag *d)
{
	int r = pwrite_full(s->out->fd, buf, len, s->out_off);

	if (r < 0)
		return ova_fail(s, r, d);
	s->out_off += len;
	return 0;
}

static int ova_pad(struct ova_sink *s, uint64_t align, struct diag *d)
{
	static const uint8_t zeros[TAR_BLOCK];
	uint64_t n = ROUND_UP(s->out_off, align) - s->out_off;
	int r = 0;

	while (n > 0 && r >= 0) {
		size_t k = (size_t)MIN(n, (uint64_t)sizeof(zeros));

		r = ova_put(s, zeros, k, d);
		n -= k;
	}
	return r;
}

/* A member whose bytes are in memory. */
static int ova_member(struct ova_sink *s, const char *name, const void *data, size_t len,
		      struct diag *d)
{
	struct tar_member m = { .name = name, .size = len, .mtime = s->p.timestamp,
				.mode = 0644 };
	uint8_t hdr[TAR_BLOCK];
	int r;

	tar_header_encode(hdr, &m);
	r = ova_put(s, hdr, sizeof(hdr), d);
	if (r >= 0)
		r = ova_put(s, data, len, d);
	return r < 0 ? r : ova_pad(s, TAR_BLOCK, d);
}

/* The vmdk member, copied from the temporary file and hashed on the way. */
static int ova_disk_member(struct ova_sink *s, const char *name, uint64_t size,
			   uint8_t digest[SHA256_LEN], struct diag *d)
{
	struct tar_member m = { .name = name, .size = size, .mtime = s->p.timestamp,
				.mode = 0644 };
	_cleanup_free_ uint8_t *buf = xmalloc(OVA_COPY_BUF);
	struct hash_sha256 *h = hash_sha256_new();
	uint8_t hdr[TAR_BLOCK];
	int r;

	tar_header_encode(hdr, &m);
	r = ova_put(s, hdr, sizeof(hdr), d);
	for (uint64_t done = 0; r >= 0 && done < size;) {
		size_t n = (size_t)MIN((uint64_t)OVA_COPY_BUF, size - done);

		r = interrupt_check(d);
		if (r < 0)
			break;
		r = pread_full(s->disk_fd, buf, n, done);
		if (r < 0) {
			r = diag_fail(d, r, "%s: cannot read the temporary vmdk: %s", s->out->path,
				      strerror(-r));
			break;
		}
		hash_sha256_feed(h, buf, n);
		r = ova_put(s, buf, n, d);
		done += n;
	}
	hash_sha256_end(h, digest);
	return r < 0 ? r : ova_pad(s, TAR_BLOCK, d);
}

static void ova_hex(char *out, const uint8_t *digest)
{
	for (size_t i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static int ova_write_archive(struct ova_sink *s, struct diag *d)
{
	_cleanup_free_ char *name = ovf_safe_name(s->p.vm.name);
	_cleanup_free_ char *ovf_name = xasprintf("%s.ovf", name);
	_cleanup_free_ char *disk_name = xasprintf("%s-disk1.vmdk", name);
	_cleanup_free_ char *mf_name = xasprintf("%s.mf", name);
	_cleanup_free_ char *ovf = NULL, *mf = NULL;
	uint8_t ovf_digest[SHA256_LEN], disk_digest[SHA256_LEN];
	char ovf_hex[2 * SHA256_LEN + 1], disk_hex[2 * SHA256_LEN + 1];
	struct stat st;
	struct ovf_params op = {
		.name = name,
		.disk_file = disk_name,
		.capacity = s->base.virtual_size,
		.populated = s->base.bytes_written,
		.cpus = s->p.vm.cpus,
		.memory_mib = s->p.vm.memory_mib,
		.efi = s->p.vm.efi,
	};
	int r;

	if (fstat(s->disk_fd, &st) < 0)
		return diag_fail(d, -errno, "%s: cannot stat the temporary vmdk: %s", s->out->path,
				 strerror(errno));
	op.disk_file_size = (uint64_t)st.st_size;
	ovf = ovf_descriptor(&op);
	sha256(ovf, strlen(ovf), ovf_digest);
	r = ova_member(s, ovf_name, ovf, strlen(ovf), d);
	if (r >= 0)
		r = ova_disk_member(s, disk_name, op.disk_file_size, disk_digest, d);
	if (r < 0)
		return r;
	ova_hex(ovf_hex, ovf_digest);
	ova_hex(disk_hex, disk_digest);
	mf = xasprintf("SHA256(%s)= %s\nSHA256(%s)= %s\n", ovf_name, ovf_hex, disk_name, disk_hex);
	r = ova_member(s, mf_name, mf, strlen(mf), d);
	/* two zero blocks end the archive; whole records, as tar writes */
	if (r >= 0)
		r = ova_pad(s, s->out_off + 2 * TAR_BLOCK, d);
	if (r >= 0)
		r = ova_pad(s, OVA_RECORD, d);
	if (r >= 0 && !s->out->in_place && ftruncate(s->out->fd, (off_t)s->out_off) < 0)
		r = ova_fail(s, -errno, d);
	return r;
}

static int ova_finish(struct sink *base, struct diag *d)
{
	struct ova_sink *s = (struct ova_sink *)base;
	struct sink *inner = s->inner;
	int r;

	s->inner = NULL;
	r = sink_finish(inner, d); /* commits the vmdk's outfile: fsync, close the dup */
	if (r >= 0)
		r = ova_write_archive(s, d);
	if (r < 0) {
		outfile_abort(s->out);
		ova_free(s);
		return r;
	}
	r = outfile_commit(s->out, d);
	ova_free(s);
	return r;
}

/* An unnamed temporary file in the output's directory. */
static int ova_tmpfile(const char *path, struct diag *d, int *ret)
{
	_cleanup_free_ char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	int fd = tmpfile_open(dir, "ova");

	if (fd < 0)
		return diag_fail(d, fd, "%s: cannot create a temporary file: %s", dir,
				 strerror(-fd));
	*ret = fd;
	return 0;
}

int ova_open_with(const struct format_ops *disk_format, const struct format_params *p,
		  struct outfile *out, struct diag *d, struct sink **ret)
{
	struct ova_sink *s = xcalloc(1, sizeof(*s));
	struct format_params ip = *p;
	_cleanup_free_ char *name = NULL;
	struct outfile *disk_out;
	int r, fd;

	s->disk_fd = -1;
	r = ova_tmpfile(out->path, d, &s->disk_fd);
	if (r < 0) {
		ova_free(s);
		return r;
	}
	fd = fcntl(s->disk_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		r = diag_fail(d, -errno, "%s: %s", out->path, strerror(errno));
		ova_free(s);
		return r;
	}
	/* the inner sink's own outfile: "in place" (never renamed or unlinked), on the dup, named
	 * as the member (a vmdk descriptor names its extent file: the one in the archive) */
	disk_out = xcalloc(1, sizeof(*disk_out));
	disk_out->fd = fd;
	name = ovf_safe_name(p->vm.name);
	disk_out->path = xasprintf("%s-disk1.vmdk", name);
	disk_out->in_place = true;
	ip.vmdk_subformat = FORMAT_VMDK_STREAM_OPTIMIZED;
	r = sink_open(disk_format, &ip, disk_out, d, &s->inner);
	if (r < 0) {
		outfile_abort(disk_out);
		ova_free(s);
		return r;
	}
	s->out = out;
	s->p = *p;
	*ret = &s->base;
	return 0;
}

static int ova_open(const struct format_params *p, struct outfile *out, struct diag *d,
		    struct sink **ret)
{
	const struct format_ops *vmdk = format_find("vmdk");

	if (!vmdk)
		return diag_fail(d, -ENOTSUP, "format ova needs the vmdk writer, which this build "
				 "does not have yet");
	return ova_open_with(vmdk, p, out, d, ret);
}

const struct format_ops format_ova = {
	.name = "ova",
	.extension = "ova",
	.options = FORMAT_OPT_VM | FORMAT_OPT_COMPRESSION_LEVEL | FORMAT_OPT_THREADS,
	.open = ova_open,
	.write = ova_write,
	.finish = ova_finish,
	.abort = ova_abort,
};
