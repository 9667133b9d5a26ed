/* Boot entries and bootloaders installed natively: what to boot (a NixOS toplevel's bootspec,
 * or --kernel/--initrd/--cmdline) and systemd-boot's files on the ESP / XBOOTLDR trees.
 * See docs/formats/boot-loader-entries.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "part/part.h"
#include "util/cleanup.h"

struct diag;
struct tree;

/* One thing to boot. Paths are absolute: in the image's root tree or on the host. */
struct boot_entry {
	char *kernel;   /* required */
	char *initrd;   /* NULL: none */
	char *init;     /* NixOS stage-2 init (options start with init=...), NULL otherwise */
	char *params;   /* kernel parameters, space-separated ("" when none) */
	char *label;    /* bootspec label ("NixOS 24.05 (Linux 6.1)"), or NULL */
	char *toplevel; /* the toplevel, NULL for --kernel */
};

struct boot_entry *boot_entry_free(struct boot_entry *e);
DEFINE_CLEANUP_FUNC(struct boot_entry, boot_entry_free)

/* Parse a bootspec document (boot.json, RFC 0125): the "org.nixos.bootspec.v1" object's
 * kernel, initrd (optional), init, kernelParams, label and toplevel. -EBADMSG naming the key
 * when malformed. `what` names the file in messages. Lives in spec/json.c (the JSON wrapper). */
int bootspec_json_parse(const char *text, size_t len, const char *what, struct diag *d,
			struct boot_entry **ret);

/* The boot entry of a NixOS toplevel (a host path): TOPLEVEL/boot.json when present, else
 * the toplevel's kernel, initrd, init and kernel-params files. -ENOENT when it has neither
 * (with a message naming the toplevel), -EBADMSG for a malformed boot.json. */
int bootspec_load(const char *toplevel, struct diag *d, struct boot_entry **ret);
/* True when the toplevel has a boot.json or a kernel (it can be booted). */
bool bootspec_present(const char *toplevel);
/* An entry from --kernel/--initrd/--cmdline (initrd and cmdline may be NULL). */
struct boot_entry *boot_entry_new(const char *kernel, const char *initrd, const char *cmdline);

/* systemd-boot's files for one image, prepared (sources resolved) before any tree is
 * finalized, then added to the ESP and XBOOTLDR trees. */
struct sdboot_opts {
	const struct boot_entry *entry;
	const struct tree *root; /* the image's root tree: kernel paths are looked up here first */
	const char *efi;         /* systemd-boot EFI binary (host), NULL: boot/find.c's places
				  * (the toplevel's own systemd first) */
	const char *search_root; /* prefix of those places (boot_find_where.root), NULL: / */
	enum part_arch arch;     /* x86-64 or aarch64 */
	bool xbootldr;           /* kernel, initrd and entries go on XBOOTLDR (efixbootldr) */
	int64_t mtime;           /* generated files' mtime and the entry's "built on" date */
};

struct sdboot;

int sdboot_prepare(const struct sdboot_opts *o, struct diag *d, struct sdboot **ret);
struct sdboot *sdboot_free(struct sdboot *b);
DEFINE_CLEANUP_FUNC(struct sdboot, sdboot_free)
/* Add the files that belong on the ESP (esp = true) or on XBOOTLDR to t. */
int sdboot_populate(const struct sdboot *b, bool esp, struct tree *t, struct diag *d);

/* Pieces, for tests: */
/* "<hash>-<name>-<file>.efi" as NixOS's builder names a copy of a store file (for a path
 * outside the store: "<parent dir>-<file>.efi"); `path` is absolute. */
char *sdboot_copy_name(const char *path);
/* The Type #1 entry text (entry paths are absolute on the partition, e.g. /EFI/nixos/x.efi). */
char *sdboot_entry_text(const struct boot_entry *e, const char *linux_path,
			const char *initrd_path, int64_t mtime);
/* loader/loader.conf. */
char *sdboot_loader_conf(void);
/* "x64", "aa64"; NULL for an architecture systemd-boot is not built for here. */
const char *sdboot_arch_suffix(enum part_arch arch);

#define SDBOOT_ENTRY_NAME "nixos-generation-1.conf"
#define SDBOOT_NIXOS_DIR "/EFI/nixos"
