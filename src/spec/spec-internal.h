/* Shared by the spec's JSON reader, flag parser and option table (options.h): one setter per
 * value, so a key and its flag accept exactly the same text. `what` names the input in
 * messages, already formatted: `--disk-size 12X` for a flag, `diskSize "12X"` for a key. */
#pragma once

#include <stdbool.h>

#include "spec/spec.h"

/* base_dir + "/" + path for a relative path when base_dir is set (spec files); else a copy. */
char *spec_path_resolve(const char *base_dir, const char *path);
/* Replace *field with v resolved against base_dir (NULL: as given). */
void spec_set_path(char **field, const char *v, const char *base_dir);

/* A size of at most max bytes; `limit` says why, e.g. "at most 16T: ext4's limit". */
int spec_set_size(uint64_t *field, uint64_t max, const char *limit, const char *v,
		  const char *what, struct diag *d);
/* additionalSpace: the root filesystem (ext4, 2^32 blocks of 4 KiB) holds at most 16 TiB. */
#define SPEC_ADDITIONAL_SPACE_MAX (16ull << 40)
#define SPEC_ADDITIONAL_SPACE_LIMIT "at most 16T: an ext4 root holds at most 16 TiB"
/* bootSize ends the boot partitions: FAT (32-bit sector counts) holds at most 2 TiB. */
#define SPEC_BOOT_SIZE_MAX (2ull << 40)
#define SPEC_BOOT_SIZE_LIMIT "at most 2T: a FAT boot partition holds at most 2 TiB"
int spec_set_uuid(uint8_t field[16], bool *set, const char *v, const char *what, struct diag *d);

/* One value for a setter: a flag's argument or a JSON key's value. */
struct spec_arg {
	const char *text;     /* the value as text (NULL for a switch or a JSON boolean) */
	bool on;              /* a switch or a JSON boolean: its value */
	const char *what;     /* the input as messages name it: `--disk-size 12X`, `diskSize "12X"` */
	const char *base_dir; /* relative paths resolve against it (a spec file's directory);
			       * NULL: as given (the command line) */
	bool first;           /* a repeatable flag's first occurrence (it replaces the spec's
			       * list) */
};

/* The setters of the option table (options.c): each checks the text and fails with a message
 * naming a->what and the accepted form. */
typedef int (*spec_setter)(struct image_spec *s, const struct spec_arg *a, struct diag *d);

int spec_set_root(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_root_tar(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_esp(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_xbootldr(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_part_table(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_fs_type(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_label(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_disk_size(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_additional_space(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_boot_size(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_format(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_base_name(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_seed(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_root_gpuid(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_root_fsuid(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_owner(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_arch(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_reserved_percent(struct image_spec *s, const struct spec_arg *a, struct diag *d);
/* "bootloader": auto, systemd-boot, grub or none. */
int spec_set_bootloader(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_boot_timeout(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_cluster_size(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_compression(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_compression_level(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_threads(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_vpc_subformat(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_vmdk_subformat(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_vhdx_block_size(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_file_compress(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_vm_cpus(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_vm_memory(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_channel(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_additional_path(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_install_bootloader(struct image_spec *s, const struct spec_arg *a, struct diag *d);
int spec_set_progress(struct image_spec *s, const struct spec_arg *a, struct diag *d);
/* --contents SRC:TARGET[:MODE[:USER:GROUP]] (flags.c): the first one replaces the spec's list */
int spec_set_contents_flag(struct image_spec *s, const struct spec_arg *a, struct diag *d);

/* Append one contents entry (copies every string; source resolved against base_dir). */
void spec_contents_add(struct image_spec *s, const struct contents_entry *e, const char *base_dir);
void spec_contents_clear(struct image_spec *s);
/* Free one "partitions" entry's strings and zero it; free the whole list. */
void spec_partition_clear(struct spec_partition *p);
void spec_partitions_clear(struct image_spec *s);


/* The other ways to describe the disk: each fills s->partitions and s->partition_table from
 * its input (s->definitions, s->disko), refusing a spec that also has partitions or a preset.
 * -EINVAL naming the file (and line) and the fix; called by spec_validate(). */
int spec_load_definitions(struct image_spec *s, struct diag *d); /* spec/repart.c */
int spec_load_disko(struct image_spec *s, struct diag *d);       /* spec/disko.c */
/* spec_load_disko() on JSON text already read (what names it in messages): for tests and
 * the fuzz target. */
int spec_disko_parse(struct image_spec *s, const char *what, const char *text, size_t len,
		     struct diag *d);
