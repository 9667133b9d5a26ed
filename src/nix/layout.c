/* What nixos-install (nixpkgs nixos/modules/installer/tools/nixos-install.sh) and the local
 * store it opens with `--store $mountPoint` leave on the target besides the store contents:
 * Nix's state directories, the system profile and its gcroot, root's channels profile,
 * /etc/NIXOS and /etc/nixos. See docs/formats/nix-db.md. */
#include "nix/nix.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

/* Nix's LocalStore creates these 0755 (gcroots/profiles links the profiles as roots);
 * nixos-install adds /nix/var/log/nix/drvs, /etc and the per-user profile directory. */
static const char *const nix_layout_dirs[] = {
	"/nix/var/nix/gcroots",
	"/nix/var/nix/gcroots/per-user",
	"/nix/var/nix/temproots",
	"/nix/var/nix/userpool",
	"/nix/var/nix/profiles",
	"/nix/var/nix/profiles/per-user",
	"/nix/var/nix/profiles/per-user/root",
	"/nix/var/nix/db",
	"/nix/var/log/nix/drvs",
	"/etc",
};

int nix_layout_resolve(const char *path, const char *what, bool toplevel, struct diag *d,
		       char **ret)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	_cleanup_free_ char *init = NULL;
	struct stat st;

	if (!real)
		return diag_fail(d, -errno, "%s %s: %s", what, path, strerror(errno));
	if (strncmp(real, NIX_STORE_DIR "/", strlen(NIX_STORE_DIR "/")) != 0 ||
	    strchr(nix_path_name(real), '/'))
		return diag_fail(d, -EINVAL, "%s %s: not a path in " NIX_STORE_DIR
				 " (it resolves to %s)", what, path, real);
	if (toplevel) {
		init = xasprintf("%s/init", real);
		if (lstat(init, &st) < 0)
			return diag_fail(d, -EINVAL, "%s %s: has no init, so it is not a NixOS "
					 "toplevel (config.system.build.toplevel)", what, path);
	}
	*ret = TAKE_PTR(real);
	return 0;
}

/* A directory nixos-install makes. One that the contents made already keeps its metadata
 * unless `force` (the store's mode and group, root's private directories). */
static int layout_mkdir(struct tree *t, const char *path, uint32_t mode, uint32_t gid,
			bool force, int64_t mtime, struct diag *d)
{
	struct tree_node *n = NULL;
	bool existed = tree_lookup(t, path) != NULL;
	int r = tree_mkdir_p(t, path, mode, 0, gid, mtime, &n);

	if (r == -EEXIST || (r >= 0 && !n))
		n = tree_lookup(t, path);
	else if (r < 0)
		return diag_fail(d, r, "%s: cannot create the directory: %s", path, strerror(-r));
	if (!n || n->type != TREE_DIR)
		return diag_fail(d, -EEXIST,
				 "%s: exists and is not a directory; remove it from the "
				 "contents", path);
	if (existed && !force)
		return 0;
	n->mode = mode;
	n->uid = 0;
	n->gid = gid;
	n->owner_from_host = false;
	return 0;
}

/* A Nix profile: NAME-1-link → target and NAME → NAME-1-link (relative, as Nix makes it). */
static int layout_profile(struct tree *t, const char *dir, const char *name, const char *target,
			  int64_t mtime, struct diag *d)
{
	_cleanup_free_ char *gen = xasprintf("%s-1-link", name);
	_cleanup_free_ char *gen_path = xasprintf("%s/%s", dir, gen);
	_cleanup_free_ char *link_path = xasprintf("%s/%s", dir, name);
	int r;

	r = tree_add_symlink(t, gen_path, target, 0, 0, mtime, d);
	if (r < 0)
		return r;
	return tree_add_symlink(t, link_path, gen, 0, 0, mtime, d);
}

static int layout_channel(struct tree *t, const struct nix_layout_opts *o, struct diag *d)
{
	int r;

	r = layout_profile(t, "/nix/var/nix/profiles/per-user/root", "channels", o->channel,
			   o->mtime, d);
	if (r < 0)
		return r;
	r = layout_mkdir(t, "/root", 0700, 0, /* force= */ true, o->mtime, d);
	if (r < 0)
		return r;
	r = layout_mkdir(t, "/root/.nix-defexpr", 0700, 0, /* force= */ true, o->mtime, d);
	if (r < 0)
		return r;
	return tree_add_symlink(t, "/root/.nix-defexpr/channels",
				"/nix/var/nix/profiles/per-user/root/channels", 0, 0, o->mtime, d);
}

int nix_layout_apply(struct tree *t, const struct nix_layout_opts *o, struct diag *d)
{
	struct tree_add_opts root_owned = { .set_owner = true };
	int r;

	r = layout_mkdir(t, NIX_STORE_DIR, 01775, NIX_NIXBLD_GID, /* force= */ true, o->mtime, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(nix_layout_dirs); i++) {
		r = layout_mkdir(t, nix_layout_dirs[i], 0755, 0, /* force= */ false, o->mtime,
				 d);
		if (r < 0)
			return r;
	}
	r = tree_add_symlink(t, "/nix/var/nix/gcroots/profiles", "/nix/var/nix/profiles", 0, 0,
			     o->mtime, d);
	if (r < 0)
		return r;
	if (o->system) {
		r = layout_profile(t, "/nix/var/nix/profiles", "system", o->system, o->mtime, d);
		if (r < 0)
			return r;
	}
	if (o->channel) {
		r = layout_channel(t, o, d);
		if (r < 0)
			return r;
	}
	/* switch-to-configuration refuses to run on a system without it (nixos-install
	 * touches it: one the contents brought stays) */
	if (!tree_lookup(t, "/etc/NIXOS")) {
		r = tree_add_data(t, "/etc/NIXOS", "", 0, 0644, 0, 0, o->mtime, d);
		if (r < 0)
			return r;
	}
	if (o->config_file) {
		r = layout_mkdir(t, "/etc/nixos", 0755, 0, /* force= */ false, o->mtime, d);
		if (r < 0)
			return r;
		r = tree_add_host_node(t, o->config_file, "/etc/nixos/configuration.nix",
				       &root_owned, d);
		if (r < 0)
			return diag_prepend(d, r, "configFile");
	}
	return 0;
}
