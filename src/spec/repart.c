/* systemd-repart partition definitions (repart.d/NAME.conf) as the disk's "partitions": read the
 * way `systemd-repart --empty=create` reads them (issue #15). The files are parsed
 * (repart-parse.c), placed and given repart's identifiers (repart-layout.c), then become a
 * GPT "partitions" list with fixed starts and sizes, the disk's size and GUID. */
#include "spec/repart.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "spec/spec-internal.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

static void closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* conf_files_list(".conf"): regular files (symlinks followed) named *.conf, not hidden, not
 * masked (empty, or a link to /dev/null), sorted by name. NAME.conf.d drop-ins are refused. */
static int list_files(const char *dir, struct diag *d, char ***ret, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *dh = opendir(dir);
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!dh)
		return diag_fail(d, -errno, "definitions %s: cannot open the directory: %s", dir,
				 strerror(errno));
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dh), de->d_name, &st, 0) < 0)
			continue; /* a dangling link: nothing to read */
		if (len > 7 && strcmp(de->d_name + len - 7, ".conf.d") == 0 && S_ISDIR(st.st_mode)) {
			names_free(v, n);
			return diag_fail(d, -ENOTSUP, "definitions %s: %s: drop-in directories are "
					 "not supported (merge it into %.*s)", dir, de->d_name,
					 (int)(len - 2), de->d_name);
		}
		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_size == 0)
			continue; /* masked */
		if (n >= PART_MAX) {
			names_free(v, n);
			return diag_fail(d, -EINVAL, "definitions %s: more than %u definition files "
					 "(a GPT holds %u partitions)", dir, PART_MAX, PART_MAX);
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup(de->d_name);
	}
	qsort(v, n, sizeof(*v), name_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int read_file(const char *dir, const char *name, struct diag *d, char **ret,
		     size_t *ret_len)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (fd < 0)
		return diag_fail(d, -errno, "%s: cannot open: %s", path, strerror(errno));
	buf = xmalloc(REPART_FILE_MAX + 1);
	for (;;) {
		ssize_t k = read(fd, buf + len, REPART_FILE_MAX + 1 - len);

		if (k < 0)
			return diag_fail(d, -errno, "%s: cannot read: %s", path, strerror(errno));
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > REPART_FILE_MAX)
			return diag_fail(d, -EFBIG, "%s: larger than %u bytes", path,
					 REPART_FILE_MAX);
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Minimize=: the bytes a filesystem needs for the CopyFiles= sources, guessed as repart 253's
 * "guess" does from the tree's size (file data in 4 KiB blocks, a block per directory and
 * symlink, 256 bytes per inode), plus the filesystem's own overhead. */
static uint64_t walk_bytes, walk_inodes;

static int walk_fn(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path, (void)flag, (void)f;
	walk_inodes++;
	if (S_ISREG(st->st_mode))
		walk_bytes += ((uint64_t)st->st_size + 4095) / 4096 * 4096;
	else
		walk_bytes += 4096;
	return 0;
}

static int minimize_estimate(const struct image_spec *s, struct repart_part *p,
			     struct diag *d)
{
	uint64_t bytes;

	walk_bytes = walk_inodes = 0;
	for (size_t i = 0; i < p->n_copies; i++) {
		_cleanup_free_ char *src = s->copy_source
						   ? xasprintf("%s/%s", s->copy_source,
							       p->copies[i].source)
						   : xstrdup(p->copies[i].source);

		if (nftw(src, walk_fn, 16, FTW_PHYS) != 0)
			return diag_fail(d, -errno ? -errno : -EIO, "%s: CopyFiles=%s: cannot read "
					 "%s for Minimize=", p->file, p->copies[i].source, src);
	}
	/* the image's tree on a root partition: --root's directory (a closure is not measured) */
	if (p->type.kind == PART_DPS_ROOT && !p->n_copies && s->root &&
	    nftw(s->root, walk_fn, 16, FTW_PHYS) != 0)
		return diag_fail(d, -errno ? -errno : -EIO, "%s: cannot read root %s for "
				 "Minimize=", p->file, s->root);
	bytes = walk_bytes + walk_inodes * 256 + (uint64_t)p->n_mkdirs * 4096;
	/* ext4: a journal, inode tables and group metadata; FAT: its tables; erofs: little */
	if (strcmp(p->format, "ext4") == 0)
		bytes = bytes + bytes / 8 + (8ull << 20);
	else
		bytes = bytes + bytes / 16 + (1ull << 20);
	p->content_bytes = bytes;
	return 0;
}

/* The seed: --seed when it is a UUID (as repart's), else 16 bytes derived from it. */
static void repart_seed(const struct image_spec *s, uint8_t out[16])
{
	_cleanup_free_ char *dflt = NULL;
	const char *seed = s->seed;

	if (!seed)
		seed = dflt = xasprintf("%s%s", SPEC_SEED_PREFIX, s->label ? s->label : "");
	if (uuid_parse(seed, out) == 0)
		return;
	uuid_derive(seed, "repart-seed", out);
}

/* The filesystem label repart's mkfs gives: vfat 11 upper-case characters, ext4 16, swap
 * (ours) 15. */
static char *fs_label_of(const char *format, const char *label)
{
	char *l = xstrdup(label);

	if (strcmp(format, "vfat") == 0) {
		if (strlen(l) > 11)
			l[11] = '\0';
		for (char *c = l; *c; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 'a' + 'A');
	} else if (strcmp(format, "ext4") == 0 && strlen(l) > 16) {
		l[16] = '\0';
	} else if (strcmp(format, "swap") == 0 && strlen(l) > 15) {
		l[15] = '\0';
	}
	return l;
}

static bool has_image_tree(const struct image_spec *s)
{
	return s->root || s->root_tar || s->n_contents || s->closure_info || s->system;
}

static int fill_spec(struct image_spec *s, struct repart_part *p, size_t n, struct diag *d)
{
	struct spec_partition *parts = xcalloc(n ? n : 1, sizeof(*parts));
	size_t m = 0;
	bool image_root = false;

	for (size_t i = 0; i < n; i++) {
		struct repart_part *q = &p[i];
		struct spec_partition *sp;
		char type[UUID_STR_LEN];
		bool root = q->type.kind == PART_DPS_ROOT;

		if (q->dropped)
			continue;
		sp = &parts[m++];
		uuid_format(q->type.uuid, type);
		sp->type = xstrdup(type);
		sp->label = xstrdup(q->new_label);
		sp->uuid_set = true;
		memcpy(sp->uuid, q->new_uuid, 16);
		sp->fs = xstrdup(q->format ? q->format : "none");
		sp->size_kind = SPEC_PART_SIZE_FIXED;
		sp->size_bytes = q->new_size;
		sp->start_bytes = q->offset;
		sp->attributes_extra = q->attributes;
		if (q->format) {
			sp->fs_label = fs_label_of(q->format, q->new_label);
			sp->fs_uuid_set = true;
			memcpy(sp->fs_uuid, q->fs_uuid, 16);
		}
		/* the image's tree (--root, --contents, a closure) goes to the first root-*
		 * partition, with the filesystem UUID repart would give it */
		if (root && has_image_tree(s) && !image_root) {
			image_root = true;
			if (q->n_copies || q->n_mkdirs) {
				spec_partitions_clear(&(struct image_spec){ .partitions = parts,
									    .n_partitions = m });
				return diag_fail(d, -EINVAL, "%s: CopyFiles=/MakeDirectories= on the "
						 "root partition, which holds the image's tree (root, "
						 "contents, closure): put those files in the tree "
						 "instead", q->file);
			}
			sp->fs_uuid_set = false;
			s->root_fsuid_set = true;
			memcpy(s->root_fsuid, q->fs_uuid, 16);
			s->root_gpuid_set = true;
			memcpy(s->root_gpuid, q->new_uuid, 16);
		}
		sp->copies = TAKE_PTR(q->copies);
		sp->n_copies = q->n_copies;
		q->n_copies = 0;
		sp->mkdirs = TAKE_PTR(q->mkdirs);
		sp->n_mkdirs = q->n_mkdirs;
		q->n_mkdirs = 0;
	}
	if (m == 0) {
		free(parts);
		return diag_fail(d, -ENOSPC, "definitions %s: no partition fits the disk (Priority= "
				 "dropped them all); raise diskSize", s->definitions);
	}
	s->partitions = parts;
	s->n_partitions = m;
	return 0;
}

int spec_load_definitions(struct image_spec *s, struct diag *d)
{
	char **names = NULL;
	size_t n = 0;
	struct repart_part *p;
	uint8_t seed[16];
	uint64_t disk = 0;
	int r;

	if (s->n_partitions)
		return diag_fail(d, -EINVAL, "definitions %s: the spec has \"partitions\" too; "
				 "give one of them", s->definitions);
	r = list_files(s->definitions, d, &names, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		names_free(names, n);
		return diag_fail(d, -EINVAL, "definitions %s: no *.conf files (write one per "
				 "partition: [Partition] Type=...)", s->definitions);
	}
	p = xcalloc(n, sizeof(*p));
	for (size_t i = 0; i < n; i++)
		repart_part_init(&p[i]);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *text = NULL, *file = NULL;
		size_t len = 0;

		r = read_file(s->definitions, names[i], d, &text, &len);
		if (r < 0)
			break;
		file = xasprintf("%s/%s", s->definitions, names[i]);
		r = repart_parse(file, text, len, s->arch, &p[i], d);
		if (r < 0)
			break;
		if (p[i].format && !fs_ops_find(p[i].format)) {
			r = diag_fail(d, -ENOTSUP, "%s: Format=%s: this build has no %s writer (use "
				      "ext4, vfat or swap)", file, p[i].format, p[i].format);
			break;
		}
		p[i].file = TAKE_PTR(file);
		if (p[i].minimize != REPART_MINIMIZE_OFF)
			r = minimize_estimate(s, &p[i], d);
	}
	if (r >= 0) {
		if (!s->disk_size_auto)
			disk = s->disk_size_bytes;
		r = repart_place(p, n, disk, d, &disk);
	}
	if (r >= 0) {
		repart_seed(s, seed);
		repart_ids(p, n, seed, s->disk_uuid);
		s->disk_uuid_set = true;
		s->gpt_first_usable_lba = 2048; /* libfdisk's, 1 MiB aligned */
		r = fill_spec(s, p, n, d);
	}
	if (r >= 0) {
		s->partition_table = PART_TABLE_GPT;
		s->disk_size_auto = false;
		s->disk_size_bytes = disk;
		s->allow_empty = true; /* the definitions say what fills the disk */
	}
	for (size_t i = 0; i < n; i++)
		repart_part_free(&p[i]);
	free(p);
	names_free(names, n);
	return r;
}
