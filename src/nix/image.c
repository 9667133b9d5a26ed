/* The Nix part of a root filesystem: the closure copied from the host store, its database,
 * nixos-install's layout. make-disk-image does this with nix-store --load-db and nixos-install
 * in a VM; here the paths go into the tree as host nodes and stream at emit. */
#include "nix/nix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/xalloc.h"

/* Nix's canonical metadata (mtime 1) for everything under a store path. */
static void store_canonicalize(struct tree_node *n)
{
	n->mtime_sec = NIX_CANONICAL_MTIME;
	n->mtime_nsec = 0;
	for (size_t i = 0; i < n->n_children; i++)
		store_canonicalize(n->children[i]);
}

static int store_add_paths(struct tree *t, const struct nix_closure *c, const char *ci,
			   bool at_root, struct diag *d)
{
	/* One hard-link scope for all store paths: nix-store --optimise links identical files
	 * across paths. */
	struct tree_add_opts root_owned = { .set_owner = true, .link_scope = tree_link_scope_new(t) };
	int r;

	for (size_t i = 0; i < c->n_paths; i++) {
		const char *p = c->paths[i].path;
		_cleanup_free_ char *target = at_root ? xasprintf("/%s", nix_path_name(p)) : NULL;
		struct tree_node *n;
		struct stat st;

		if (lstat(p, &st) < 0)
			return diag_fail(d, -errno,
					 "%s: %s is not in the host store (%s); realise the "
					 "closure first (nix-store -r)",
					 ci, p, strerror(errno));
		r = tree_add_host_node(t, p, target ? target : p, &root_owned, d);
		if (r < 0)
			return diag_prepend(d, r, "%s", ci);
		n = tree_lookup(t, target ? target : p);
		if (n)
			store_canonicalize(n);
	}
	return 0;
}

static int store_add_db(struct tree *t, const struct nix_closure *c, int64_t mtime,
			struct diag *d)
{
	_cleanup_free_ uint8_t *db = NULL;
	size_t len;
	int r;

	r = nix_db_build(c, d, &db, &len);
	if (r < 0)
		return r;
	r = tree_add_data(t, "/nix/var/nix/db/db.sqlite", db, len, 0644, 0, 0, mtime, d);
	if (r < 0)
		return r;
	return tree_add_data(t, "/nix/var/nix/db/schema", NIX_SCHEMA_VERSION,
			     strlen(NIX_SCHEMA_VERSION), 0644, 0, 0, mtime, d);
}

/* --system and --channel: resolved, and in the closure. */
static int resolve_in_closure(const struct nix_closure *c, const char *ci, const char *path,
			      const char *what, bool toplevel, struct diag *d, char **ret)
{
	_cleanup_free_ char *real = NULL;
	int r;

	r = nix_layout_resolve(path, what, toplevel, d, &real);
	if (r < 0)
		return r;
	if (nix_closure_find(c, real, strlen(real)) < 0)
		return diag_fail(d, -EINVAL, "%s %s is not in %s/store-paths; add it to the "
				 "closure (additionalPaths)", what, real, ci);
	*ret = TAKE_PTR(real);
	return 0;
}

int nix_image_apply(struct tree *t, const struct nix_image_opts *o, struct diag *d)
{
	_cleanup_(nix_closure_freep) struct nix_closure *c = NULL;
	_cleanup_free_ char *system = NULL, *channel = NULL;
	struct nix_layout_opts lo = { .config_file = o->config_file, .mtime = o->mtime };
	struct tree_add_opts root_owned = { .set_owner = true };
	int r;

	if (!o->closure_info) {
		if (!o->config_file)
			return 0;
		r = tree_add_host_node(t, o->config_file, "/etc/nixos/configuration.nix",
				       &root_owned, d);
		return r < 0 ? diag_prepend(d, r, "configFile") : 0;
	}
	r = nix_closure_load(o->closure_info, d, &c);
	if (r < 0)
		return r;
	if (o->system) {
		r = resolve_in_closure(c, o->closure_info, o->system, "system", true, d, &system);
		if (r < 0)
			return r;
	}
	if (o->channel) {
		r = resolve_in_closure(c, o->closure_info, o->channel, "channel", false, d,
				       &channel);
		if (r < 0)
			return r;
	}
	r = store_add_paths(t, c, o->closure_info, o->only_nix_store, d);
	if (r < 0 || o->only_nix_store)
		return r;
	r = nix_closure_load_drv_outputs(c, d);
	if (r < 0)
		return r;
	r = store_add_db(t, c, o->mtime, d);
	if (r < 0)
		return r;
	lo.system = system;
	lo.channel = channel;
	return nix_layout_apply(t, &lo, d);
}
