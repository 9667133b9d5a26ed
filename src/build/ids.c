/* Identifiers: every GUID, UUID and seed of an image comes from one seed string (the spec's,
 * when deterministic, else a random one); rootGPUID/rootFSUID given explicitly always win. The
 * sinks' VDI/VHD identifiers derive from the same seed. */
#include "build/build-internal.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/diag.h"
#include "util/uuid.h"
#include "util/xalloc.h"

int build_ids(const struct image_spec *s, char **ret_seed, struct ext4_params *ep,
	      uint8_t root_gpuid[16], struct diag *d)
{
	_cleanup_free_ char *seed = NULL;
	int r;

	if (s->deterministic)
		seed = xstrdup(s->seed);
	else {
		uint8_t rnd[16];
		char hex[UUID_STR_LEN];

		r = uuid_random(rnd);
		if (r < 0)
			return diag_fail(d, r, "cannot get random bytes: %s", strerror(-r));
		uuid_format(rnd, hex);
		seed = xasprintf("random:%s", hex);
	}
	if (s->deterministic || s->root_gpuid_set)
		memcpy(root_gpuid, s->root_gpuid, 16);
	else
		uuid_derive(seed, "gpt-partition:root", root_gpuid);
	if (s->deterministic || s->root_fsuid_set)
		memcpy(ep->uuid, s->root_fsuid_set ? s->root_fsuid : root_gpuid, 16);
	else
		uuid_derive(seed, "ext4-uuid", ep->uuid);
	uuid_derive_bytes(seed, "ext4-hash-seed", ep->hash_seed, sizeof(ep->hash_seed));
	*ret_seed = TAKE_PTR(seed);
	return 0;
}

/* Whether the layout boots by UEFI only (an OVA's firmware): efi, efixbootldr, or a gpt list
 * with an ESP and no BIOS boot partition. hybrid boots both ways: BIOS, which every VM has. */
static bool build_vm_efi(const struct image_spec *s)
{
	bool esp = false, bios = false;

	if (s->partition_table == PART_TABLE_EFI || s->partition_table == PART_TABLE_EFIXBOOTLDR)
		return true;
	if (s->partition_table != PART_TABLE_GPT)
		return false;
	for (size_t i = 0; i < s->n_partitions; i++) {
		const char *t = s->partitions[i].type;

		if (!t)
			continue;
		esp |= strcasecmp(t, "esp") == 0 ||
		       strcasecmp(t, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B") == 0;
		bios |= strcasecmp(t, "bios-boot") == 0 ||
			strcasecmp(t, "21686148-6449-6E6F-744E-656564454649") == 0;
	}
	return esp && !bios;
}

/* A fixed VHD keeps the disk's size here: the sink rounds it up. */
void build_format_params(const struct image_spec *s, const struct build_env *env,
			 const char *seed, uint64_t disk_bytes, struct format_params *ret)
{
	bool compressed = strcmp(s->format, "qcow2-compressed") == 0;

	*ret = (struct format_params){
		.virtual_size = disk_bytes,
		.cluster_size = s->cluster_size,
		.compression = !compressed ? FORMAT_COMPRESSION_NONE
			       : s->compression == FORMAT_COMPRESSION_ZSTD ? FORMAT_COMPRESSION_ZSTD
									    : FORMAT_COMPRESSION_DEFLATE,
		.n_threads = s->threads,
		.compression_level = (int)s->compression_level,
		.vpc_subformat = s->vpc_subformat,
		.vmdk_subformat = s->vmdk_subformat,
		.vhdx_block_size = s->vhdx_block_size,
		.file_compress = s->file_compress,
		.vm = { .cpus = s->vm_cpus, .memory_mib = s->vm_memory_bytes >> 20,
			.efi = build_vm_efi(s), .name = s->label },
		.seed = seed,
		.timestamp = env->has_epoch      ? env->source_date_epoch
			     : s->deterministic ? 0
						: (int64_t)time(NULL),
	};
}
