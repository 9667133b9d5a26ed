/* A new spec holds make-disk-image's defaults, except where this tool cannot follow them yet:
 * installBootLoader and copyChannel default to false (nixpkgs: true) until bootloaders and
 * channels are supported. Defaults that depend on other values (seed, rootFSUID, the output
 * file in a directory) are filled by spec_validate(). */
#include "spec/spec-internal.h"

#include <assert.h>
#include <stdlib.h>

#include "util/uuid.h"
#include "util/xalloc.h"

/* The root partition type defaults to the architecture mkdiskimage was built for, as nixpkgs
 * builds for its host platform; pass --arch for images of another architecture. */
static enum part_arch spec_host_arch(void)
{
#if defined(__x86_64__)
	return PART_ARCH_X86_64;
#elif defined(__i386__)
	return PART_ARCH_X86;
#elif defined(__aarch64__)
	return PART_ARCH_AARCH64;
#elif defined(__arm__)
	return PART_ARCH_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
	return PART_ARCH_RISCV64;
#elif defined(__riscv) && __riscv_xlen == 32
	return PART_ARCH_RISCV32;
#elif defined(__loongarch64)
	return PART_ARCH_LOONGARCH64;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return PART_ARCH_PPC64LE;
#elif defined(__s390x__)
	return PART_ARCH_S390X;
#else
	return PART_ARCH_X86_64;
#endif
}

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
	s->arch = spec_host_arch();
	s->reserved_percent = SPEC_DEFAULT_RESERVED_PERCENT;
	return s;
}

struct image_spec *image_spec_free(struct image_spec *s)
{
	if (!s)
		return NULL;
	free(s->root);
	spec_contents_clear(s);
	free(s->fs_type);
	free(s->label);
	free(s->format);
	free(s->base_name);
	free(s->output);
	free(s->seed);
	free(s->config_file);
	free(s);
	return NULL;
}
