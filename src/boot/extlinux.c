/* /boot/extlinux/extlinux.conf as NixOS's extlinux-conf-builder.sh writes it for the default
 * configuration (generation 1 of a fresh image: the "nixos-default" entry alone), on the root
 * filesystem. A kernel, initrd or device-tree directory already in the image is referenced where
 * it is, as the builder does when /boot and the store share a filesystem (copyKernels = false);
 * one from the host, or every one with copyKernels, is copied to /boot/nixos/<cleanName> and
 * referenced as ../nixos/<cleanName>. docs/formats/extlinux.md. */
#include "boot/extlinux.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

#define EXTLINUX_STORE_DIR "/nix/store/"
#define EXTLINUX_MAX_LINKS 16

char *extlinux_clean_name(const char *path)
{
	char *s;

	if (strncmp(path, EXTLINUX_STORE_DIR, strlen(EXTLINUX_STORE_DIR)) == 0)
		path += strlen(EXTLINUX_STORE_DIR);
	s = xstrdup(path);
	for (char *c = s; *c; c++)
		if (*c == '/')
			*c = '-';
	return s;
}

int64_t extlinux_timeout(int32_t seconds)
{
	/* U-Boot reads 0 as "wait for a choice" and a negative timeout as "boot at once" */
	if (seconds < 0)
		return 0;
	if (seconds == 0)
		return -10;
	return (int64_t)seconds * 10;
}

char *extlinux_conf_text(const struct extlinux_conf *c)
{
	_cleanup_free_ char *initrd = NULL, *append = NULL, *fdt = NULL;

	initrd = c->initrd ? xasprintf("  INITRD %s\n", c->initrd) : xstrdup("");
	/* the builder's "init=$path/init $extraParams": the space stays when there are none */
	if (c->init)
		append = xasprintf("  APPEND init=%s %s\n", c->init, c->params);
	else
		append = *c->params ? xasprintf("  APPEND %s\n", c->params) : xstrdup("");
	if (!c->fdtdir)
		fdt = xstrdup("");
	else if (c->fdt)
		fdt = xasprintf("  FDT %s/%s\n", c->fdtdir, c->fdt);
	else
		fdt = xasprintf("  FDTDIR %s\n", c->fdtdir);
	return xasprintf("# Generated file, all changes will be lost on nixos-rebuild!\n"
			 "\n"
			 "# Change this to e.g. nixos-42 to temporarily boot to an older "
			 "configuration.\n"
			 "DEFAULT nixos-default\n"
			 "\n"
			 "MENU TITLE ------------------------------------------------------------\n"
			 "TIMEOUT %lld\n"
			 "\n"
			 "LABEL nixos-default\n"
			 "  MENU LABEL NixOS - Default\n"
			 "  LINUX %s\n"
			 "%s"
			 "%s"
			 "%s",
			 (long long)c->timeout, c->kernel, initrd, append, fdt);
}

/* `path` in the image's tree, through its symlinks: the node, and its real path in *ret_real;
 * NULL when the tree does not have it. */
static struct tree_node *extlinux_in_tree(const struct tree *t, const char *path, char **ret_real)
{
	_cleanup_free_ char *p = xstrdup(path);

	for (int i = 0; path[0] == '/' && i < EXTLINUX_MAX_LINKS; i++) {
		struct tree_node *n = tree_lookup(t, p);
		char *next;

		if (!n)
			return NULL;
		if (n->type != TREE_SYMLINK) {
			*ret_real = TAKE_PTR(p);
			return n;
		}
		if (n->link_target[0] == '/')
			next = xstrdup(n->link_target);
		else
			next = xasprintf("%.*s/%s", (int)(strrchr(p, '/') - p), p, n->link_target);
		free(p);
		p = next;
	}
	return NULL;
}

/* cp -r of an image node to dst: directories, regular files (whatever their bytes' source)
 * and symlinks as they are. Its source directory is never an ancestor of dst (the store, or
 * wherever --kernel points, against /boot/nixos), so its children stay put while dst grows. */
static int extlinux_copy_node(struct tree *t, const struct tree_node *n, const char *dst,
			      int64_t mtime, struct diag *d)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *host = NULL;
	int r;

	switch (n->type) {
	case TREE_DIR:
		r = tree_mkdir_p(t, dst, n->mode & 07777, 0, 0, mtime, NULL);
		if (r < 0)
			return diag_fail(d, r, "%s: cannot create it", dst);
		for (uint32_t i = 0; i < n->n_children; i++) {
			_cleanup_free_ char *c = xasprintf("%s/%s", dst, n->children[i]->name);

			r = extlinux_copy_node(t, n->children[i], c, mtime, d);
			if (r < 0)
				return r;
		}
		return 0;
	case TREE_SYMLINK:
		return tree_add_symlink(t, dst, n->link_target, 0, 0, mtime, d);
	case TREE_REG:
		if (n->src_data)
			return tree_add_data(t, dst, n->src_data, n->size, n->mode & 07777, 0, 0, mtime,
					     d);
		if (n->src_is_fd) {
			if (n->size > SIZE_MAX - 1)
				return diag_fail(d, -EFBIG, "%s: too large", dst);
			buf = xmalloc((size_t)n->size + 1);
			r = tree_node_pread(n, buf, (size_t)n->size, 0);
			if (r < 0)
				return diag_fail(d, r, "%s: cannot read its source: %s", dst,
						 strerror(-r));
			return tree_add_data(t, dst, buf, n->size, n->mode & 07777, 0, 0, mtime, d);
		}
		host = tree_node_src_path(n);
		if (!host) /* a sparse or empty source: nothing to copy from */
			return diag_fail(d, -EINVAL, "%s: no source to copy from", dst);
		return tree_add_host_node(t, host, dst,
					  &(struct tree_add_opts){ .set_owner = true }, d);
	default:
		return diag_fail(d, -EINVAL, "%s: cannot copy this kind of file", dst);
	}
}

/* The copy's name: the builder's cleanName for a store path; a host file outside the store is
 * named by its base name alone, so the image does not depend on the directory it came from. */
static char *extlinux_copy_name(const char *real)
{
	const char *base = strrchr(real, '/');

	if (strncmp(real, EXTLINUX_STORE_DIR, strlen(EXTLINUX_STORE_DIR)) == 0 || !base)
		return extlinux_clean_name(real);
	return xstrdup(base + 1);
}

/* Where the file refers to `path` (a file, or the dtbs directory): itself when the image has it
 * and copyKernels is off, else ../nixos/<name> after copying it to /boot/nixos/<name>. */
static int extlinux_place(struct tree *t, const struct extlinux_opts *o, const char *path,
			  const char *what, struct diag *d, char **ret)
{
	_cleanup_free_ char *real = NULL, *name = NULL, *dst = NULL;
	struct tree_node *n = extlinux_in_tree(t, path, &real);
	int r;

	if (n && !o->copy_kernels) {
		*ret = TAKE_PTR(real);
		return 0;
	}
	if (!n) {
		real = realpath(path, NULL);
		if (!real)
			return diag_fail(d, -errno, "%s %s: not in the image, and on the host: %s",
					 what, path, strerror(errno));
	}
	name = extlinux_copy_name(real);
	dst = xasprintf(EXTLINUX_NIXOS_DIR "/%s", name);
	if (tree_lookup(t, dst))
		return diag_fail(d, -EEXIST, "%s %s: %s is in the root tree already (a kernel and "
				 "initrd of the same name?)", what, path, dst);
	if (n)
		r = extlinux_copy_node(t, n, dst, o->mtime, d);
	else
		r = tree_add_host_node(t, real, dst, &(struct tree_add_opts){ .set_owner = true },
				       d);
	if (r < 0)
		return diag_prepend(d, r, "extlinux: %s", what);
	*ret = xasprintf("../nixos/%s", name);
	return 0;
}

int extlinux_install_files(struct tree *t, const struct extlinux_opts *o, struct diag *d)
{
	const struct boot_entry *e = o->entry;
	_cleanup_free_ char *kernel = NULL, *initrd = NULL, *dtbs = NULL, *text = NULL;
	int r;

	if (tree_lookup(t, EXTLINUX_CONF_PATH))
		return diag_fail(d, -EEXIST,
				 "%s is already in the root tree: remove it, or set bootloader "
				 "none to keep your own",
				 EXTLINUX_CONF_PATH);
	if (strchr(e->params, '\n') || (e->init && strchr(e->init, '\n')))
		return diag_fail(d, -EINVAL, "bootloader extlinux: the kernel parameters must not "
				 "contain a newline");
	if (o->dtb_name && !o->no_device_tree && !o->dtbs)
		return diag_fail(d, -EINVAL,
				 "deviceTreeName %s: the system has no dtbs directory (set it "
				 "only for a kernel with device trees)",
				 o->dtb_name);
	r = extlinux_place(t, o, e->kernel, "kernel", d, &kernel);
	if (r < 0)
		return r;
	if (e->initrd) {
		r = extlinux_place(t, o, e->initrd, "initrd", d, &initrd);
		if (r < 0)
			return r;
	}
	/* the builder copies the device trees even when it writes no line for them (-r) */
	if (o->dtbs) {
		r = extlinux_place(t, o, o->dtbs, "dtbs", d, &dtbs);
		if (r < 0)
			return r;
	}
	text = extlinux_conf_text(&(struct extlinux_conf){
		.timeout = extlinux_timeout(o->timeout),
		.kernel = kernel,
		.initrd = initrd,
		.init = e->init,
		.params = e->params,
		.fdtdir = o->no_device_tree ? NULL : dtbs,
		.fdt = o->dtb_name,
	});
	return tree_add_data(t, EXTLINUX_CONF_PATH, text, strlen(text), 0644, 0, 0, o->mtime, d);
}
