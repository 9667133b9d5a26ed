/* A new spec holds make-disk-image's defaults, except where this tool cannot follow them yet:
 * installBootLoader and copyChannel default to false (nixpkgs: true) until bootloaders and
 * channels are supported. Defaults that depend on other values (seed, rootFSUID, the output
 * file in a directory) are filled by spec_validate(). */
#include "spec/spec-internal.h"

#include <assert.h>
#include <stdlib.h>

#include "util/uuid.h"
#include "util/xalloc.h"

/* The root partition type defaults to x86-64 whatever machine builds the image: the same
 * inputs must give the same bytes on any builder. Images for other architectures pass --arch. */

struct image_spec *image_spec_new(void)
{
	struct image_spec *s = xcalloc(1, sizeof(*s));
	int r;

	s->partition_table = PART_TABLE_LEGACY;
	s->fs_type = xstrdup("ext4");
	s->label = xstrdup(SPEC_DEFAULT_LABEL);
	s->disk_size_auto = true;
	s->additional_space_bytes = SPEC_DEFAULT_ADDITIONAL_SPACE;
	s->boot_size_bytes = SPEC_DEFAULT_BOOT_SIZE;
	s->format = xstrdup("raw");
	s->base_name = xstrdup(SPEC_DEFAULT_BASE_NAME);
	s->deterministic = true;
	r = uuid_parse(SPEC_DEFAULT_ROOT_GPUID, s->root_gpuid);
	assert(r == 0); /* a constant */
	(void)r;
	s->arch = PART_ARCH_X86_64;
	s->reserved_percent = SPEC_DEFAULT_RESERVED_PERCENT;
	s->boot_timeout = 5; /* boot.loader.timeout's default */
	s->use_generation_device_tree = true;
	return s;
}

struct image_spec *image_spec_free(struct image_spec *s)
{
	if (!s)
		return NULL;
	free(s->root);
	free(s->root_tar);
	free(s->definitions);
	free(s->disko);
	free(s->copy_source);
	free(s->esp);
	free(s->xbootldr);
	free(s->kernel);
	free(s->initrd);
	free(s->cmdline);
	free(s->systemd_boot_efi);
	free(s->grub_dir);
	free(s->grub_efi_dir);
	free(s->device_tree_name);
	free(s->grub_efi_id);
	spec_contents_clear(s);
	spec_partitions_clear(s);
	free(s->fs_type);
	free(s->label);
	free(s->format);
	free(s->base_name);
	free(s->output);
	free(s->seed);
	free(s->config_file);
	free(s->closure_info);
	free(s->system);
	free(s->channel);
	free(s->passwd_file);
	free(s->efi_vars_template);
	free(s->efi_vars_out);
	free(s->group_file);
	for (size_t i = 0; i < s->n_warnings; i++)
		free(s->warnings[i]);
	free(s);
	return NULL;
}
