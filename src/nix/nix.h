/* The Nix store of an image: nixpkgs' closureInfo (store-paths, registration), the store
 * database (db.sqlite, schema 10) and nixos-install's layout. See docs/formats/nix-db.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct diag;
struct tree;

#define NIX_STORE_DIR "/nix/store"
#define NIX_HASH_LEN 32 /* sha256 */
/* Nix's canonical mtime for store files, and our fixed registrationTime. */
#define NIX_CANONICAL_MTIME 1
#define NIX_REGISTRATION_TIME 1
#define NIX_SCHEMA_VERSION "10"

/* A derivation's output, from its .drv file (DerivationOutputs rows). */
struct nix_drv_output {
	char *name; /* "out", "dev", ... */
	char *path; /* the output's store path */
};

struct nix_path {
	char *path; /* "/nix/store/<hash>-<name>" */
	struct nix_drv_output *outputs; /* for a .drv: outputs with a known path, by name */
	size_t n_outputs;
	uint8_t nar_hash[NIX_HASH_LEN];
	uint64_t nar_size;
	char *deriver; /* NULL when the registration leaves it empty */
	size_t *refs;  /* indices into nix_closure.paths, ascending, no duplicates */
	size_t n_refs;
};

struct nix_closure {
	struct nix_path *paths; /* sorted bytewise by path */
	size_t n_paths;
};

struct nix_closure *nix_closure_free(struct nix_closure *c);
DEFINE_CLEANUP_FUNC(struct nix_closure, nix_closure_free)
/* Parse closureInfo's files, given as text. `what` names the directory in messages. Every
 * path of store-paths must have exactly one registration record and vice versa; references
 * must be in the closure. -EBADMSG with a one-line message otherwise. */
int nix_closure_parse(const char *store_paths, size_t store_paths_len, const char *registration,
		      size_t registration_len, const char *what, struct diag *d,
		      struct nix_closure **ret);
/* Read DIR/store-paths and DIR/registration and parse them. */
int nix_closure_load(const char *dir, struct diag *d, struct nix_closure **ret);
/* The index of `path` in c, or -ENOENT. */
int nix_closure_find(const struct nix_closure *c, const char *path, size_t len);
/* Read the outputs of every .drv path in c from the host store (Nix records them in
 * DerivationOutputs when it registers a derivation). */
int nix_closure_load_drv_outputs(struct nix_closure *c, struct diag *d);
/* Parse a derivation's ATerm text (`Derive([("out","/nix/store/...","",""),...],...`): its
 * outputs with a path, sorted by name. -EBADMSG when malformed. */
int nix_drv_parse_outputs(const char *text, size_t len, struct nix_drv_output **ret,
			  size_t *ret_n);
void nix_drv_outputs_free(struct nix_drv_output *o, size_t n);
/* A store path's base name ("<hash>-<name>"). */
const char *nix_path_name(const char *path);

/* A sha256 hash as Nix prints it: base16, Nix base32 or base64, with an optional "sha256:"
 * prefix, or SRI "sha256-<base64>". -EINVAL when malformed. */
int nix_hash_parse(const char *s, uint8_t out[NIX_HASH_LEN]);
/* Nix base32 of a sha256 hash: 52 characters and a NUL. */
void nix_hash_base32(const uint8_t h[NIX_HASH_LEN], char out[53]);

/* The bytes of /nix/var/nix/db/db.sqlite registering every path of c (deterministic for a
 * given SQLite version). */
int nix_db_build(const struct nix_closure *c, struct diag *d, uint8_t **ret, size_t *ret_len);

struct nix_layout_opts {
	const char *system;      /* toplevel store path, or NULL */
	const char *config_file; /* host file for /etc/nixos/configuration.nix, or NULL */
	const char *channel;     /* store path for root's channels profile, or NULL */
	int64_t mtime;           /* of the directories, links and files made here */
};

/* nixos-install's directories, profiles, gcroots and marker files on an image's tree. */
int nix_layout_apply(struct tree *t, const struct nix_layout_opts *o, struct diag *d);
/* The checks --system and --channel must pass: `path` resolves (through symlinks such as
 * nix-build's ./result) to a path in /nix/store of the host, which a toplevel must have an
 * `init` in. The resolved store path comes back in *ret. */
int nix_layout_resolve(const char *path, const char *what, bool toplevel, struct diag *d,
		       char **ret);
/* NixOS's nixbld group id: the group of /nix/store (mode 1775), as nixos-install sets it. */
#define NIX_NIXBLD_GID 30000

struct nix_image_opts {
	const char *closure_info; /* closureInfo directory, or NULL */
	const char *system;       /* --system, as given (resolved here), or NULL */
	const char *config_file;  /* --config-file, or NULL */
	const char *channel;      /* --channel, as given, or NULL */
	bool only_nix_store;      /* store paths at the root; no database, no layout */
	int64_t mtime;            /* of generated files and directories */
};

/* Everything issue #5 puts on the root filesystem: the closure's store paths streamed from
 * the host store (owners 0:0, modes as stored, mtime 1, hard links across paths kept), the
 * database and schema file, and nixos-install's layout. */
int nix_image_apply(struct tree *t, const struct nix_image_opts *o, struct diag *d);
