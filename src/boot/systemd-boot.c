/* systemd-boot installed as files, as `bootctl install --no-variables` and NixOS's
 * systemd-boot-builder.py leave them: the boot manager as EFI/systemd/systemd-boot<arch>.efi and
 * on the removable path EFI/BOOT/BOOT<ARCH>.EFI, loader/loader.conf, one Type #1 entry
 * loader/entries/nixos-generation-1.conf, and the kernel and initrd copied under EFI/nixos/ with
 * their store names. On efixbootldr the entry, kernel and initrd live on XBOOTLDR (Boot Loader
 * Specification, "The boot partition"). Nothing random: no random-seed, no machine-id. */
#include "boot/boot.h"
#include "boot/find.h"
#include "boot/pe.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

#define SDBOOT_STORE_DIR "/nix/store/"
#define SDBOOT_MAX_LINKS 16

/* One file to add: bytes from a host file or from memory. */
struct sdboot_file {
	char *target;
	char *host;    /* host path (tree_add_host_node), or NULL */
	uint8_t *data; /* generated or in-tree bytes */
	size_t len;
	bool esp;
};

struct sdboot {
	struct sdboot_file files[8];
	size_t n_files;
	int64_t mtime;
};

const char *sdboot_arch_suffix(enum part_arch arch)
{
	switch (arch) {
	case PART_ARCH_X86_64:
		return "x64";
	case PART_ARCH_AARCH64:
		return "aa64";
	default:
		return NULL;
	}
}

char *sdboot_copy_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dir_end = base > path ? base - 1 : path;
	const char *dir;

	if (strncmp(path, SDBOOT_STORE_DIR, strlen(SDBOOT_STORE_DIR)) == 0) {
		/* /nix/store/<hash>-<name>[/sub]/file: the store path's name, then the file's */
		const char *sub = path + strlen(SDBOOT_STORE_DIR);
		size_t n = strcspn(sub, "/");

		if (sub[n] == '\0')
			return xasprintf("%s.efi", sub);
		return xasprintf("%.*s-%s.efi", (int)n, sub, base);
	}
	for (dir = dir_end; dir > path && dir[-1] != '/'; dir--)
		;
	if (dir == dir_end)
		return xasprintf("%s.efi", base);
	return xasprintf("%.*s-%s.efi", (int)(dir_end - dir), dir, base);
}

char *sdboot_entry_text(const struct boot_entry *e, const char *linux_path,
			const char *initrd_path, int64_t mtime)
{
	time_t t = (time_t)mtime;
	struct tm tm;
	char date[32] = "1970-01-01";
	const char *base = strrchr(e->kernel, '/') ? strrchr(e->kernel, '/') + 1 : e->kernel;
	_cleanup_free_ char *initrd = NULL, *options = NULL;

	if (gmtime_r(&t, &tm))
		strftime(date, sizeof(date), "%F", &tm);
	initrd = initrd_path ? xasprintf("initrd %s\n", initrd_path) : xstrdup("");
	options = e->init ? xasprintf("init=%s %s", e->init, e->params) : xstrdup(e->params);
	return xasprintf("title %s\n"
			 "sort-key nixos\n"
			 "version Generation 1 %s, built on %s\n"
			 "linux %s\n"
			 "%s"
			 "options %s\n",
			 e->init ? "NixOS" : "Linux", e->label ? e->label : base, date, linux_path,
			 initrd, options);
}

char *sdboot_loader_conf(void)
{
	/* NixOS's defaults: boot.loader.timeout 5, editor off, console-mode keep */
	return xstrdup("timeout 5\n"
		       "default " SDBOOT_ENTRY_NAME "\n"
		       "editor 0\n"
		       "console-mode keep\n");
}

struct sdboot *sdboot_free(struct sdboot *b)
{
	if (!b)
		return NULL;
	for (size_t i = 0; i < b->n_files; i++) {
		free(b->files[i].target);
		free(b->files[i].host);
		free(b->files[i].data);
	}
	free(b);
	return NULL;
}

static struct sdboot_file *sdboot_add(struct sdboot *b, bool esp, char *target)
{
	struct sdboot_file *f = &b->files[b->n_files++];

	f->esp = esp;
	f->target = target;
	return f;
}

/* Resolve `path` in the image's root tree (following the tree's symlinks), else on the host.
 * Sets f's source; *ret_real is the path the copy is named after. */
static int sdboot_source(const struct tree *root, const char *path, const char *what,
			 struct sdboot_file *f, struct diag *d, char **ret_real)
{
	_cleanup_free_ char *p = xstrdup(path);
	struct stat st;

	for (int i = 0; root && i < SDBOOT_MAX_LINKS; i++) {
		struct tree_node *n = tree_lookup(root, p);
		char *next;

		if (!n)
			break;
		if (n->type == TREE_SYMLINK) {
			if (n->link_target[0] == '/')
				next = xstrdup(n->link_target);
			else
				next = xasprintf("%.*s/%s", (int)(strrchr(p, '/') - p), p,
						 n->link_target);
			free(p);
			p = next;
			continue;
		}
		if (n->type != TREE_REG)
			return diag_fail(d, -EINVAL, "%s %s: not a regular file in the image", what,
					 path);
		if (n->src_data) {
			f->data = n->size ? xmemdup(n->src_data, n->size) : xcalloc(1, 1);
			f->len = n->size;
		} else if (n->src_path || n->src_in_parent)
			f->host = tree_node_src_path(n);
		else
			return diag_fail(d, -EINVAL, "%s %s: sparse or empty source in the image",
					 what, path);
		*ret_real = TAKE_PTR(p);
		return 0;
	}
	if (stat(path, &st) < 0)
		return diag_fail(d, -errno, "%s %s: not found in the image or on the host", what,
				 path);
	if (!S_ISREG(st.st_mode))
		return diag_fail(d, -EINVAL, "%s %s: not a regular file", what, path);
	f->host = realpath(path, NULL);
	if (!f->host)
		return diag_fail(d, -errno, "%s %s: cannot resolve", what, path);
	*ret_real = xstrdup(f->host);
	return 0;
}

static int sdboot_find_efi(const struct sdboot_opts *o, const char *suffix, struct diag *d,
			   char **ret)
{
	struct stat st;

	if (o->efi) {
		if (stat(o->efi, &st) < 0 || !S_ISREG(st.st_mode))
			return diag_fail(d, -ENOENT, "systemdBootEfi %s: no such file (Debian's "
					 "systemd-boot-efi has /usr/lib/systemd/boot/efi/"
					 "systemd-boot%s.efi)", o->efi, suffix);
		*ret = xstrdup(o->efi);
		return 0;
	}
	/* spec_validate() has filled o->efi for a build: this is for the library's other users */
	return boot_find(BOOT_FIND_SDBOOT, o->arch,
			 &(struct boot_find_where){ .root = o->search_root,
						    .system = o->entry->toplevel },
			 d, ret);
}

/* Kernel or initrd: resolved, copied to EFI/nixos/<name> on the partition with the entries. */
static int sdboot_add_image(struct sdboot *b, const struct sdboot_opts *o, const char *path,
			    const char *what, struct diag *d, char **ret_entry_path)
{
	struct sdboot_file *f = sdboot_add(b, !o->xbootldr, NULL);
	_cleanup_free_ char *real = NULL, *name = NULL;
	int r;

	r = sdboot_source(o->root, path, what, f, d, &real);
	if (r < 0)
		return r;
	name = sdboot_copy_name(real);
	f->target = xasprintf(SDBOOT_NIXOS_DIR "/%s", name);
	*ret_entry_path = xstrdup(f->target);
	return 0;
}

/* The firmware only runs a loader built for its CPU: an x86-64 systemd-boot in an aarch64
 * image would build fine and never boot. */
static int sdboot_check_machine(const char *efi, enum part_arch arch, const char *suffix,
				struct diag *d)
{
	uint16_t want = arch == PART_ARCH_AARCH64 ? PE_MACHINE_AARCH64 : PE_MACHINE_X86_64, got;
	int r = pe_file_machine(efi, d, &got);

	if (r < 0)
		return diag_prepend(d, r, "systemd-boot");
	if (got != want)
		return diag_fail(d, -EINVAL,
				 "systemd-boot %s: built for %s (PE machine 0x%04x), but the image "
				 "is for %s; use systemd-boot%s.efi or set arch",
				 efi, pe_machine_name(got), got, pe_machine_name(want), suffix);
	return 0;
}

int sdboot_prepare(const struct sdboot_opts *o, struct diag *d, struct sdboot **ret)
{
	_cleanup_(sdboot_freep) struct sdboot *b = xcalloc(1, sizeof(*b));
	_cleanup_free_ char *efi = NULL, *linux_path = NULL, *initrd_path = NULL, *upper = NULL;
	const char *suffix = sdboot_arch_suffix(o->arch);
	struct sdboot_file *f;
	int r;

	if (!suffix)
		return diag_fail(d, -ENOTSUP, "systemd-boot: only arch x86-64 and aarch64 are "
				 "supported (set arch, or bootloader = none)");
	b->mtime = o->mtime;
	r = sdboot_find_efi(o, suffix, d, &efi);
	if (r < 0)
		return r;
	r = sdboot_check_machine(efi, o->arch, suffix, d);
	if (r < 0)
		return r;
	f = sdboot_add(b, true, xasprintf("/EFI/systemd/systemd-boot%s.efi", suffix));
	f->host = xstrdup(efi);
	upper = xstrdup(suffix);
	for (char *c = upper; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	f = sdboot_add(b, true, xasprintf("/EFI/BOOT/BOOT%s.EFI", upper));
	f->host = xstrdup(efi);
	f = sdboot_add(b, true, xstrdup("/loader/loader.conf"));
	f->data = (uint8_t *)sdboot_loader_conf();
	f->len = strlen((char *)f->data);

	r = sdboot_add_image(b, o, o->entry->kernel, "kernel", d, &linux_path);
	if (r < 0)
		return r;
	if (o->entry->initrd) {
		r = sdboot_add_image(b, o, o->entry->initrd, "initrd", d, &initrd_path);
		if (r < 0)
			return r;
	}
	f = sdboot_add(b, !o->xbootldr, xstrdup("/loader/entries/" SDBOOT_ENTRY_NAME));
	f->data = (uint8_t *)sdboot_entry_text(o->entry, linux_path, initrd_path, o->mtime);
	f->len = strlen((char *)f->data);
	*ret = TAKE_PTR(b);
	return 0;
}

int sdboot_populate(const struct sdboot *b, bool esp, struct tree *t, struct diag *d)
{
	for (size_t i = 0; i < b->n_files; i++) {
		const struct sdboot_file *f = &b->files[i];
		int r;

		if (f->esp != esp)
			continue;
		if (f->host)
			r = tree_add_host_node(t, f->host, f->target, NULL, d);
		else
			r = tree_add_data(t, f->target, f->data, f->len, 0644, 0, 0, b->mtime, d);
		if (r < 0)
			return diag_prepend(d, r, "systemd-boot: %s on the %s", f->target,
					    esp ? "ESP" : "XBOOTLDR");
	}
	return 0;
}
