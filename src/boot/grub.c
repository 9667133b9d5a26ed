/* GRUB i386-pc embedding. Offsets: grub-core/boot/i386/pc/boot.S and
 * diskboot.S; the steps follow util/setup.c (grub-bios-setup) for an embedded
 * core, Reed-Solomon parity included. docs/formats/grub-embed.md. */
#include "boot/grub.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot/reed-solomon.h"
#include "image/plan.h"
#include "part/part.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/endian.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define GRUB_CORE_MAX		(4u << 20) /* far above any embeddable core.img */
#define GRUB_LEGACY_GAP_END_LBA 2048	   /* the legacy layout's root starts at 1 MiB */

struct grub_bios *grub_bios_free(struct grub_bios *g)
{
	if (g) {
		free(g->core);
		free(g);
	}
	return NULL;
}

char *grub_mkimage_path(const char *grub_dir)
{
	char *p = xasprintf("%s/../../../bin/grub-mkimage", grub_dir), *p2;

	if (access(p, X_OK) == 0)
		return p;
	p2 = xasprintf("%s/../../../bin/grub2-mkimage", grub_dir);
	if (access(p2, X_OK) == 0) {
		free(p);
		return p2;
	}
	free(p2);
	return p;
}

void grub_boot_img_patch(uint8_t boot[GRUB_BOOT_SIZE], uint64_t core_lba)
{
	/* grub-bios-setup copies the disk's own BPB bytes in: a fresh disk has zeros
	 * there */
	memset(boot + GRUB_BOOT_BPB_START, 0, GRUB_BOOT_BPB_END - GRUB_BOOT_BPB_START);
	le64_put(boot + GRUB_BOOT_KERNEL_SECTOR, core_lba);
	boot[GRUB_BOOT_BOOT_DRIVE] = 0xff;
	/* hard disk: skip the check for BIOSes that pass a bad drive number */
	boot[GRUB_BOOT_DRIVE_CHECK] = 0x90;
	boot[GRUB_BOOT_DRIVE_CHECK + 1] = 0x90;
	/* the table area is never emitted; keep the buffer free of boot.img's
	 * leftovers */
	memset(boot + GRUB_BOOT_CODE_END, 0, GRUB_BOOT_SIZE - GRUB_BOOT_CODE_END);
}

int grub_core_img_patch(uint8_t *core, size_t len, uint64_t core_lba, struct diag *d)
{
	uint8_t *bl = core + GRUB_BLOCKLIST_FIRST;
	size_t n_sect = len / GRUB_BOOT_SIZE;

	if (len < 2 * GRUB_BOOT_SIZE || len % GRUB_BOOT_SIZE)
		return diag_fail(d, -EBADMSG,
				 "core.img: %zu bytes, not whole sectors past the first", len);
	if (n_sect - 1 > UINT16_MAX)
		return diag_fail(d, -EOVERFLOW,
				 "core.img: %zu sectors, more than a block list holds", n_sect);
	/* diskboot.img ships an entry for one sector and a zero terminator below it
	 */
	if (!mem_is_zero(bl - GRUB_BLOCKLIST_SIZE, GRUB_BLOCKLIST_SIZE))
		return diag_fail(d, -EBADMSG,
				 "core.img: block list area is not diskboot.img's (not an i386-pc "
				 "core image?)");
	le64_put(bl + GRUB_BLOCKLIST_START, core_lba + 1);
	le16_put(bl + GRUB_BLOCKLIST_LEN, (uint16_t)(n_sect - 1));
	le16_put(bl + GRUB_BLOCKLIST_SEGMENT, GRUB_KERNEL_SEGMENT);
	return 0;
}

size_t grub_core_embed_sectors(size_t raw_len)
{
	size_t n = 2 * DIV_ROUND_UP(raw_len, (size_t)GRUB_BOOT_SIZE);

	return n < GRUB_CORE_MAX_SECT ? n : GRUB_CORE_MAX_SECT;
}

int grub_core_img_add_redundancy(uint8_t *core, size_t raw_len, size_t len, struct diag *d)
{
	uint8_t *kernel = core + GRUB_BOOT_SIZE;
	size_t head;

	assert(len >= raw_len && len <= UINT32_MAX);
	if (raw_len < GRUB_BOOT_SIZE + GRUB_KERNEL_NO_RS_LENGTH + 2)
		return diag_fail(d, -EBADMSG,
				 "core.img: %zu bytes, too short for GRUB's kernel header", raw_len);
	head = le16_get(kernel + GRUB_KERNEL_NO_RS_LENGTH);
	/* 0xffff: a core from before the field existed (grub-bios-setup: version mismatch) */
	if (head == 0xffff || head < GRUB_KERNEL_NO_RS_LENGTH + 2 ||
	    GRUB_BOOT_SIZE + head >= raw_len)
		return diag_fail(d, -EBADMSG,
				 "core.img: unprotected head of %zu bytes in a %zu-byte image: "
				 "not GRUB's i386-pc kernel header (another GRUB version?)",
				 head, raw_len);
	le32_put(kernel + GRUB_KERNEL_RS_REDUNDANCY, (uint32_t)(len - raw_len));
	if (reed_solomon_add(kernel + head, raw_len - GRUB_BOOT_SIZE - head, len - raw_len) < 0)
		return diag_fail(d, -EINVAL, "core.img: %zu bytes of parity for %zu bytes of data",
				 len - raw_len, raw_len);
	return 0;
}

int grub_bios_location(const struct part_layout *l, struct diag *d, uint64_t *ret_lba,
		       uint64_t *ret_sect)
{
	const struct part_entry *bb = part_layout_find(l, PART_ROLE_BIOS_BOOT);

	if (part_table_is_mbr(l->table)) {
		/* the gap before the first partition (1 MiB: what GRUB_LEGACY_GAP_END_LBA says) */
		uint64_t first = GRUB_LEGACY_GAP_END_LBA;

		for (size_t i = 0; i < l->n_parts; i++)
			first = l->parts[i].first_lba < first ? l->parts[i].first_lba : first;
		*ret_lba = 1;
		*ret_sect = first - 1;
		return 0;
	}
	if (!bb)
		return diag_fail(
			d, -EINVAL,
			"partitionTableType %s: GRUB for BIOS needs a BIOS boot partition: "
			"use legacy, legacy+gpt or hybrid",
			part_table_name(l->table));
	*ret_lba = bb->first_lba;
	*ret_sect = bb->n_lba;
	return 0;
}

static int grub_read_boot_img(const char *dir, uint8_t boot[GRUB_BOOT_SIZE], struct diag *d)
{
	_cleanup_free_ char *path = xasprintf("%s/boot.img", dir);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len;
	int r;

	r = read_file(path, GRUB_BOOT_SIZE + 1, &buf, &len);
	if (r == -ENOENT)
		return diag_fail(d, r,
				 "--grub-dir %s: no boot.img; give GRUB's i386-pc module directory "
				 "(Debian: /usr/lib/grub/i386-pc from grub-pc-bin)",
				 dir);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot read: %s", path, strerror(-r));
	if (len != GRUB_BOOT_SIZE || buf[510] != 0x55 || buf[511] != 0xaa)
		return diag_fail(d, -EBADMSG, "%s: not a GRUB boot.img (512 bytes ending 55 aa)",
				 path);
	memcpy(boot, buf, GRUB_BOOT_SIZE);
	return 0;
}

/* Write the early config grub-install embeds: find the root, then load its
 * grub.cfg. */
static int grub_write_early_cfg(const char *path, const char *fs_uuid, struct diag *d)
{
	_cleanup_free_ char *text = xasprintf("search --no-floppy --fs-uuid --set=root %s\n"
					      "set prefix=($root)/boot/grub\n",
					      fs_uuid);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return diag_fail(d, -errno, "%s: cannot create: %s", path, strerror(errno));
	r = pwrite_full(fd, text, strlen(text), 0);
	if (r < 0)
		return diag_fail(d, r, "%s: cannot write: %s", path, strerror(-r));
	return 0;
}

/* The first line grub-mkimage wrote to stderr, for the error message. */
static void grub_first_line(const char *path, char *buf, size_t size)
{
	_cleanup_free_ uint8_t *b = NULL;
	size_t len;

	buf[0] = 0;
	if (read_file(path, 4096, &b, &len) < 0)
		return;
	snprintf(buf, size, "%.*s", (int)strcspn((const char *)b, "\n"), (const char *)b);
}

/* grub-mkimage -O i386-pc with an argv, no shell; stdout and stderr to
 * err_path. */
static const char *const grub_bios_modules[] = { GRUB_BIOS_MODULES, NULL };
static const char *const grub_efi_modules[] = { GRUB_EFI_MODULES, NULL };

/* What one grub-mkimage run makes. */
struct grub_mkimage_job {
	const char *format; /* -O: i386-pc, x86_64-efi */
	const char *const *modules;
	const char *grub_dir, *mkimage, *tmp_dir, *fs_uuid;
};

static int grub_run_mkimage(const struct grub_mkimage_job *p, const char *mkimage, const char *cfg,
			    const char *out, const char *err_path, struct diag *d)
{
	const char *argv[32] = { mkimage, "-O", p->format, "-d", p->grub_dir, "-c", cfg,
				 "-p", "/boot/grub", "-o", out };
	size_t n = 11;
	char *const envp[] = {(char *)"LC_ALL=C", NULL};
	posix_spawn_file_actions_t fa;
	char line[256];
	pid_t pid;
	int r, status;

	for (size_t i = 0; p->modules[i]; i++) {
		assert(n + 1 < ARRAY_SIZE(argv));
		argv[n++] = p->modules[i];
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, err_path, O_WRONLY | O_CREAT | O_TRUNC,
					 0600);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	r = posix_spawn(&pid, mkimage, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return diag_fail(d, -r,
				 "%s: cannot run: %s; it comes with the GRUB package of "
				 "--grub-dir",
				 mkimage, strerror(r));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return diag_fail(d, -errno, "%s: wait: %s", mkimage, strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	grub_first_line(err_path, line, sizeof(line));
	return diag_fail(d, -EIO, "%s -O %s -d %s failed: %s", mkimage, p->format, p->grub_dir,
			 line[0] ? line : "no message");
}

/* Run grub-mkimage in a private temporary directory and read core.img back,
 * padded. */
static int grub_make_image(const struct grub_mkimage_job *p, struct diag *d, uint8_t **ret,
			  size_t *ret_len, size_t *ret_raw_len)
{
	_cleanup_free_ char *mk = p->mkimage ? xstrdup(p->mkimage) : grub_mkimage_path(p->grub_dir);
	_cleanup_free_ char *dir = xasprintf("%s/mkdiskimage-grub.XXXXXX", p->tmp_dir);
	_cleanup_free_ char *cfg = NULL, *out = NULL, *err = NULL;
	_cleanup_free_ uint8_t *core = NULL;
	size_t len = 0;
	int r;

	if (!mkdtemp(dir))
		return diag_fail(d, -errno, "%s: cannot create a temporary directory: %s",
				 p->tmp_dir, strerror(errno));
	cfg = xasprintf("%s/early.cfg", dir);
	out = xasprintf("%s/core.img", dir);
	err = xasprintf("%s/stderr", dir);
	r = grub_write_early_cfg(cfg, p->fs_uuid, d);
	if (r >= 0)
		r = grub_run_mkimage(p, mk, cfg, out, err, d);
	if (r >= 0) {
		r = read_file(out, GRUB_CORE_MAX, &core, &len);
		if (r < 0)
			r = diag_fail(d, r, "%s: cannot read grub-mkimage's output: %s", out,
				      strerror(-r));
	}
	(void)unlink(cfg);
	(void)unlink(out);
	(void)unlink(err);
	(void)rmdir(dir);
	if (r < 0)
		return r;
	{
		size_t padded = ROUND_UP(len, (size_t)GRUB_BOOT_SIZE);
		uint8_t *c = xcalloc(1, padded ? padded : 1);

		memcpy(c, core, len);
		*ret = c;
		*ret_len = padded;
		if (ret_raw_len)
			*ret_raw_len = len;
	}
	return 0;
}

int grub_bios_make(const struct grub_bios_params *p, struct diag *d, struct grub_bios **ret)
{
	_cleanup_(grub_bios_freep) struct grub_bios *g = xcalloc(1, sizeof(*g));
	size_t raw_len, n_sect;
	struct stat st;
	int r;

	if (stat(p->grub_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return diag_fail(d, -ENOENT, "--grub-dir %s: not a directory", p->grub_dir);
	r = grub_read_boot_img(p->grub_dir, g->boot, d);
	if (r < 0)
		return r;
	r = grub_make_image(&(struct grub_mkimage_job){ .format = "i386-pc",
							.modules = grub_bios_modules,
							.grub_dir = p->grub_dir,
							.mkimage = p->mkimage,
							.tmp_dir = p->tmp_dir,
							.fs_uuid = p->fs_uuid },
			    d, &g->core, &g->core_len, &raw_len);
	if (r < 0)
		return r;
	/* the core and its Reed-Solomon parity, as grub-bios-setup embeds them */
	n_sect = grub_core_embed_sectors(raw_len);
	if (n_sect > p->max_sect)
		return diag_fail(d, -ENOSPC,
				 "GRUB core.img (%zu bytes) with its Reed-Solomon parity needs %zu "
				 "sectors (%zu KiB), but only %llu fit at LBA %llu",
				 raw_len, n_sect, n_sect * GRUB_BOOT_SIZE / 1024,
				 (unsigned long long)p->max_sect, (unsigned long long)p->core_lba);
	g->core = xrealloc(g->core, n_sect * GRUB_BOOT_SIZE);
	memset(g->core + g->core_len, 0, n_sect * GRUB_BOOT_SIZE - g->core_len);
	g->core_len = n_sect * GRUB_BOOT_SIZE;
	/* the block list loads the parity too: the startup code repairs in memory */
	r = grub_core_img_patch(g->core, g->core_len, p->core_lba, d);
	if (r >= 0)
		r = grub_core_img_add_redundancy(g->core, raw_len, g->core_len, d);
	if (r < 0)
		return diag_prepend(d, r, "%s", p->grub_dir);
	grub_boot_img_patch(g->boot, p->core_lba);
	g->core_lba = p->core_lba;
	*ret = TAKE_PTR(g);
	return 0;
}

static int grub_fill(const void *ctx, uint64_t arg, uint64_t off, uint8_t *buf, size_t len,
		     struct diag *d)
{
	const struct grub_bios *g = ctx;

	if (arg == 0)
		memcpy(buf, g->boot + off, len);
	else
		memcpy(buf, g->core + off, len);
	return 0;
}

void grub_bios_plan_ranges(const struct grub_bios *g, struct image_plan *p)
{
	image_plan_add_fill(p, 0, GRUB_BOOT_CODE_END, grub_fill, g, /* arg= */ 0);
	image_plan_add_fill(p, g->core_lba * GRUB_BOOT_SIZE, g->core_len, grub_fill, g,
			    /* arg= */ 1);
}

int grub_efi_make(const struct grub_efi_params *p, struct diag *d, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ char *kernel = xasprintf("%s/kernel.img", p->grub_dir);
	_cleanup_free_ char *mod = xasprintf("%s/linux.mod", p->grub_dir);
	_cleanup_free_ char *boot = xasprintf("%s/boot.img", p->grub_dir);

	/* an i386-pc directory given here would make a BIOS image under an EFI name */
	if (access(kernel, F_OK) < 0 || access(mod, F_OK) < 0 || access(boot, F_OK) == 0)
		return diag_fail(d, -ENOENT,
				 "--grub-efi-dir %s: not GRUB's x86_64-efi module directory "
				 "(Debian: /usr/lib/grub/x86_64-efi from grub-efi-amd64-bin)",
				 p->grub_dir);
	return grub_make_image(&(struct grub_mkimage_job){ .format = "x86_64-efi",
							   .modules = grub_efi_modules,
							   .grub_dir = p->grub_dir,
							   .mkimage = p->mkimage,
							   .tmp_dir = p->tmp_dir,
							   .fs_uuid = p->fs_uuid },
			       d, ret, ret_len, NULL);
}
