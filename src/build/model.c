/* A spec's disk model: preset or "partitions" list → partition requests and volumes. */
#include "build/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "util/diag.h"
#include "util/xalloc.h"

/* What a role gets when the spec says nothing: filesystem, label, name in messages. */
static void volume_defaults(const struct image_spec *s, struct build_volume *v, uint32_t number)
{
	switch (v->role) {
	case PART_ROLE_ESP:
		v->fs = "vfat";
		v->label = "ESP";
		v->what = "ESP";
		v->key = "esp";
		return;
	case PART_ROLE_XBOOTLDR:
		v->fs = "vfat";
		v->label = "BOOT";
		v->what = "XBOOTLDR";
		v->key = "xbootldr";
		return;
	case PART_ROLE_BOOT:
		v->fs = "vfat";
		v->label = "BOOT";
		v->what = "BOOT";
		v->key = "boot";
		return;
	case PART_ROLE_ROOT:
		v->fs = s->fs_type;
		v->label = s->label;
		v->what = "root filesystem";
		v->key = "root";
		v->image_tree = true;
		return;
	case PART_ROLE_BIOS_BOOT:
		v->fs = "none";
		break;
	case PART_ROLE_SWAP:
		v->fs = "swap";
		v->what = "swap";
		v->key = "swap";
		return;
	case PART_ROLE_OTHER:
		v->fs = "ext4";
		break;
	}
	snprintf(v->what_buf, sizeof(v->what_buf), "partition %u", number);
	snprintf(v->key_buf, sizeof(v->key_buf), "part%u", number);
	v->what = v->what_buf;
	v->key = v->key_buf;
}

static int model_preset(const struct image_spec *s, struct build_model *m, struct diag *d)
{
	struct part_params pp = { .table = s->partition_table, .boot_bytes = s->boot_size_bytes };
	struct part_request r[PART_PRESET_MAX];
	size_t n = 0;
	int ret;

	if (s->partition_table == PART_TABLE_NONE) {
		m->vols = xcalloc(1, sizeof(*m->vols));
		m->n_vols = 1;
		m->vols[0].role = PART_ROLE_ROOT;
		volume_defaults(s, &m->vols[0], 0);
		m->vols[0].sized_by_contents = true;
		m->vols[0].additional_space = s->additional_space_bytes;
		return 0;
	}
	ret = part_preset(&pp, r, &n);
	if (ret < 0)
		return diag_fail(d, ret, "partitionTableType %s: not a preset",
				 part_table_name(s->partition_table));
	m->vols = xcalloc(n, sizeof(*m->vols));
	for (size_t i = 0; i < n; i++) {
		struct build_volume *v = &m->vols[m->n_vols++];

		v->part = i;
		v->role = r[i].role;
		volume_defaults(s, v, (uint32_t)i + 1);
		v->sized_by_contents = r[i].size_rule != PART_SIZE_FIXED;
		if (v->role == PART_ROLE_ESP)
			v->contents = s->esp;
		else if (v->role == PART_ROLE_XBOOTLDR || v->role == PART_ROLE_BOOT)
			v->contents = s->xbootldr; /* the /boot partition's tree */
		else if (v->role == PART_ROLE_ROOT)
			v->additional_space = s->additional_space_bytes;
	}
	return 0;
}

static uint64_t attributes_of(const struct spec_partition *p)
{
	return p->attributes_extra | (p->required ? PART_ATTR_REQUIRED : 0) |
	       (p->no_auto ? PART_ATTR_NO_AUTO : 0) |
	       (p->read_only ? PART_ATTR_READ_ONLY : 0) | (p->grow_fs ? PART_ATTR_GROWFS : 0);
}

/* What a list entry asks for that its table or role cannot give. */
static int model_check(const struct spec_partition *p, const struct build_volume *v, bool gpt,
		       bool definitions, size_t i, struct diag *d)
{
	if (!gpt && (p->uuid_set || p->required || p->no_auto || p->read_only || p->grow_fs))
		return diag_fail(d, -EINVAL, "partitions[%zu]: %s is GPT only; use "
				 "partitionTableType gpt", i,
				 p->uuid_set ? "uuid" : p->required ? "required"
						      : p->no_auto ? "noAuto"
						      : p->read_only ? "readOnly" : "growFileSystem");
	if (p->max_bytes && p->size_kind != SPEC_PART_SIZE_REST)
		return diag_fail(d, -EINVAL, "partitions[%zu]: maxSize bounds a \"rest\" "
				 "partition only; give this one a size", i);
	if (v->image_tree && p->fs_uuid_set)
		return diag_fail(d, -EINVAL, "partitions[%zu]: the root's filesystem UUID is "
				 "rootFSUID (GRUB and the boot entries use it); set that instead "
				 "of fsUuid", i);
	if (p->fs_uuid_set && v->fs && strcmp(v->fs, "vfat") == 0 && !definitions)
		return diag_fail(d, -EINVAL, "partitions[%zu]: fsUuid: a FAT volume id is derived "
				 "from the seed; leave fsUuid out", i);
	return 0;
}

static int model_list(const struct image_spec *s, struct build_model *m, struct diag *d)
{
	bool gpt = s->partition_table == PART_TABLE_GPT;
	bool seen[PART_ROLE_OTHER + 1] = { false };
	int r;

	m->reqs = xcalloc(s->n_partitions, sizeof(*m->reqs));
	m->vols = xcalloc(s->n_partitions, sizeof(*m->vols));
	for (size_t i = 0; i < s->n_partitions; i++) {
		const struct spec_partition *p = &s->partitions[i];
		struct part_request *q = &m->reqs[m->n_reqs++];
		struct build_volume *v = &m->vols[m->n_vols++];

		r = part_request_set_type(q, p->type, gpt, s->arch);
		if (r < 0)
			return diag_fail(d, r, "partitions[%zu]: type \"%s\" unknown (use esp, "
					 "xbootldr, bios-boot, swap, root, linux, home, srv, var, "
					 "tmp, basic-data, %s)", i, p->type,
					 gpt ? "or a GPT type GUID" : "or an MBR type byte such as 0x83");
		if (q->role == PART_ROLE_ROOT && seen[PART_ROLE_ROOT])
			return diag_fail(d, -EINVAL, "partitions[%zu]: a second root partition; "
					 "give the others type linux", i);
		v->part = i;
		v->role = q->role;
		volume_defaults(s, v, (uint32_t)i + 1);
		if (seen[q->role] && q->role != PART_ROLE_OTHER) {
			/* a second ESP or swap: its own identifiers */
			snprintf(v->key_buf, sizeof(v->key_buf), "part%zu", i + 1);
			v->key = v->key_buf;
		}
		seen[q->role] = true;
		/* definitions: a root partition holds the image's tree only when there is one */
		if (s->definitions && v->image_tree && !s->root && !s->root_tar &&
		    !s->n_contents && !s->closure_info && !s->system)
			v->image_tree = false;
		v->copies = p->copies;
		v->n_copies = p->n_copies;
		v->mkdirs = p->mkdirs;
		v->n_mkdirs = p->n_mkdirs;
		if (p->fs)
			v->fs = p->fs;
		/* the root's: the image's root tree instead of the spec's "root" */
		v->contents = p->contents;
		if (p->fs_label || p->label)
			v->label = p->fs_label ? p->fs_label : p->label;
		v->uuid_set = p->fs_uuid_set;
		memcpy(v->uuid, p->fs_uuid, 16);
		if (p->additional_space_set) {
			v->additional_space = p->additional_space_bytes;
			v->additional_space_given = true;
		}
		else if (v->image_tree)
			v->additional_space = s->additional_space_bytes;
		q->name = p->label ? p->label : "";
		q->uuid_key = v->key;
		q->uuid_set = p->uuid_set;
		memcpy(q->uuid, p->uuid, 16);
		q->attributes = attributes_of(p);
		q->bootable = p->bootable;
		q->max_bytes = p->max_bytes;
		switch (p->size_kind) {
		case SPEC_PART_SIZE_FIXED:
			q->size_rule = PART_SIZE_FIXED;
			q->size_bytes = p->size_bytes;
			break;
		case SPEC_PART_SIZE_AUTO:
			q->size_rule = PART_SIZE_FIT;
			v->sized_by_contents = true;
			break;
		case SPEC_PART_SIZE_REST:
			q->size_rule = PART_SIZE_REST;
			v->sized_by_contents = true;
			break;
		}
		q->min_bytes = p->min_bytes;
		q->start_lba = p->start_bytes / PART_SECTOR;
		r = model_check(p, v, gpt, s->definitions != NULL, i, d);
		if (r < 0)
			return r;
	}
	return 0;
}

int build_model_from_spec(const struct image_spec *s, struct diag *d, struct build_model **ret)
{
	_cleanup_(build_model_freep) struct build_model *m = xcalloc(1, sizeof(*m));
	int r;

	m->table = s->partition_table;
	if (s->partition_table == PART_TABLE_GPT || s->partition_table == PART_TABLE_MBR)
		r = model_list(s, m, d);
	else
		r = model_preset(s, m, d);
	if (r < 0)
		return r;
	/* erofs is read-only and exactly as large as its contents: free space could never be
	 * used. A partition's own additionalSpace is refused; the spec-wide one is not applied. */
	for (size_t i = 0; i < m->n_vols; i++) {
		struct build_volume *v = &m->vols[i];

		if (!v->fs || strcmp(v->fs, "erofs") != 0)
			continue;
		if (v->additional_space_given)
			return diag_fail(d, -EINVAL, "partitions[%zu].additionalSpace: erofs is "
					 "read-only and sized by its contents; remove additionalSpace",
					 v->part);
		v->additional_space = 0;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

struct build_model *build_model_free(struct build_model *m)
{
	if (!m)
		return NULL;
	free(m->reqs);
	free(m->vols);
	free(m);
	return NULL;
}

const struct build_volume *build_model_find(const struct build_model *m, enum part_role role)
{
	for (size_t i = 0; i < m->n_vols; i++)
		if (m->vols[i].role == role)
			return &m->vols[i];
	return NULL;
}
