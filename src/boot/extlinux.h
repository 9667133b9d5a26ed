/* boot.loader.generic-extlinux-compatible: /boot/extlinux/extlinux.conf on the root filesystem,
 * as NixOS's extlinux-conf-builder.sh writes it for the default configuration (sd-image's
 * populateCmd), for U-Boot's distro boot and other extlinux readers. docs/formats/extlinux.md. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct boot_entry;
struct diag;
struct tree;

#define EXTLINUX_CONF_PATH "/boot/extlinux/extlinux.conf"
#define EXTLINUX_NIXOS_DIR "/boot/nixos"
/* boot.loader.timeout = null (wait for a choice) as nixpkgs passes it to the builder */
#define EXTLINUX_TIMEOUT_NONE (-1)

struct extlinux_opts {
	const struct boot_entry *entry;
	int32_t timeout;       /* boot.loader.timeout in seconds, EXTLINUX_TIMEOUT_NONE: null */
	const char *dtb_name;  /* hardware.deviceTree.name: FDT instead of FDTDIR; NULL: none */
	bool no_device_tree;   /* useGenerationDeviceTree = false: no FDT/FDTDIR line */
	bool copy_kernels;     /* copyKernels: copy to /boot/nixos even when in the image */
	const char *dtbs;      /* the toplevel's dtbs directory (host path, resolved), or NULL */
	int64_t mtime;         /* the generated file's mtime */
};

/* The builder's cleanName: /nix/store/<hash>-<name>/file -> "<hash>-<name>-file" (the store
 * prefix dropped, every '/' a '-'). */
char *extlinux_clean_name(const char *path);
/* TIMEOUT's value, in the builder's units (1/10 s): null -> 0 (U-Boot waits), 0 -> -10
 * (instant), n -> 10n. */
int64_t extlinux_timeout(int32_t seconds);

struct extlinux_conf {
	int64_t timeout;     /* extlinux_timeout()'s */
	const char *kernel;  /* LINUX, as the file refers to it */
	const char *initrd;  /* INITRD, NULL: no line */
	const char *init;    /* NixOS stage-2 init, NULL: APPEND is the params alone */
	const char *params;  /* kernel parameters */
	const char *fdtdir;  /* FDTDIR (or the directory of FDT), NULL: no line */
	const char *fdt;     /* with fdtdir: FDT fdtdir/fdt */
};
/* The whole file. */
char *extlinux_conf_text(const struct extlinux_conf *c);

/* Add extlinux.conf to the root tree (before it is finalized), and under /boot/nixos/ the
 * kernel, initrd and device trees that are not in the image (or all of them, copy_kernels).
 * -EEXIST (with a message) when the tree has an extlinux.conf already. */
int extlinux_install_files(struct tree *t, const struct extlinux_opts *o, struct diag *d);
