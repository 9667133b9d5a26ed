/* The disk model of presets and of "partitions" lists. */
#include "build/model.h"

#include <errno.h>
#include <string.h>

#include "spec/spec.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

TEST(model_presets)
{
	struct image_spec *s = image_spec_new();
	struct diag d = { 0 };
	struct build_model *m;

	s->partition_table = PART_TABLE_EFIXBOOTLDR;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	ASSERT_EQ(m->n_vols, 3);
	ASSERT_EQ(m->n_reqs, 0); /* part/ expands the preset itself */
	ASSERT_STR_EQ(m->vols[0].fs, "vfat");
	ASSERT_STR_EQ(m->vols[0].label, "ESP");
	ASSERT_STR_EQ(m->vols[1].what, "XBOOTLDR");
	ASSERT_STR_EQ(m->vols[1].key, "xbootldr");
	ASSERT_STR_EQ(m->vols[2].fs, "ext4");
	ASSERT_TRUE(m->vols[2].image_tree);
	ASSERT_EQ(m->vols[2].part, 2);
	build_model_free(m);

	s->partition_table = PART_TABLE_LEGACY_BOOT;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	ASSERT_EQ(m->n_vols, 2);
	ASSERT_EQ(m->vols[0].role, PART_ROLE_BOOT);
	ASSERT_STR_EQ(m->vols[0].label, "BOOT");
	ASSERT_TRUE(build_model_find(m, PART_ROLE_ROOT) == &m->vols[1]);
	build_model_free(m);

	s->partition_table = PART_TABLE_HYBRID;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	ASSERT_EQ(m->n_vols, 3);
	ASSERT_STR_EQ(m->vols[1].fs, "none"); /* BIOS boot */
	build_model_free(m);

	s->partition_table = PART_TABLE_NONE;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	ASSERT_EQ(m->n_vols, 1);
	ASSERT_TRUE(m->vols[0].image_tree && m->vols[0].sized_by_contents);
	build_model_free(m);
	image_spec_free(s);
}

TEST(model_partitions_list)
{
	struct image_spec *s = image_spec_new();
	struct spec_partition *p = xcalloc(4, sizeof(*p));
	struct diag d = { 0 };
	struct build_model *m;

	p[0] = (struct spec_partition){ .type = "esp", .size_kind = SPEC_PART_SIZE_FIXED,
					.size_bytes = 64u << 20, .contents = "esp/" };
	p[1] = (struct spec_partition){ .type = "swap", .label = "swap",
					.size_kind = SPEC_PART_SIZE_FIXED,
					.size_bytes = 32u << 20 };
	p[2] = (struct spec_partition){ .type = "root", .size_kind = SPEC_PART_SIZE_AUTO,
					.additional_space_set = true,
					.additional_space_bytes = 2ull << 30, .grow_fs = true };
	p[3] = (struct spec_partition){ .type = "home", .fs = "ext4", .fs_label = "home",
					.size_kind = SPEC_PART_SIZE_REST, .no_auto = true };
	s->partition_table = PART_TABLE_GPT;
	s->partitions = p;
	s->n_partitions = 4;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	ASSERT_EQ(m->n_reqs, 4);
	ASSERT_EQ(m->reqs[0].role, PART_ROLE_ESP);
	ASSERT_EQ(m->reqs[0].size_rule, PART_SIZE_FIXED);
	ASSERT_STR_EQ(m->vols[0].contents, "esp/");
	ASSERT_STR_EQ(m->reqs[1].name, "swap");
	ASSERT_STR_EQ(m->vols[1].fs, "swap");
	ASSERT_STR_EQ(m->vols[1].label, "swap");
	ASSERT_STR_EQ(m->reqs[1].uuid_key, "swap");
	ASSERT_EQ(m->reqs[2].size_rule, PART_SIZE_FIT);
	ASSERT_EQ(m->reqs[2].attributes, PART_ATTR_GROWFS);
	ASSERT_EQ(m->vols[2].additional_space, 2ull << 30);
	ASSERT_TRUE(m->vols[2].image_tree);
	ASSERT_STR_EQ(m->vols[3].key, "part4");
	ASSERT_STR_EQ(m->vols[3].label, "home");
	ASSERT_EQ(m->reqs[3].size_rule, PART_SIZE_REST);
	ASSERT_EQ(m->reqs[3].attributes, PART_ATTR_NO_AUTO);
	ASSERT_TRUE(m->reqs[3].type_set);
	build_model_free(m);

	p[3].type = "root";
	ASSERT_ERR(build_model_from_spec(s, &d, &m), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "partitions[3]: a second root") != NULL);
	p[3].type = "rooot";
	ASSERT_ERR(build_model_from_spec(s, &d, &m), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "partitions[3]: type \"rooot\" unknown") !=
		    NULL);
	s->partitions = NULL; /* the strings are literals */
	s->n_partitions = 0;
	free(p);
	image_spec_free(s);
}

TEST(model_refuses_what_the_table_cannot_hold)
{
	struct image_spec *s = image_spec_new();
	struct spec_partition *p = xcalloc(1, sizeof(*p));
	struct diag d = { 0 };
	struct build_model *m;

	p[0] = (struct spec_partition){ .type = "root", .size_kind = SPEC_PART_SIZE_AUTO,
					.grow_fs = true };
	s->partition_table = PART_TABLE_MBR;
	s->partitions = p;
	s->n_partitions = 1;
	ASSERT_ERR(build_model_from_spec(s, &d, &m), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "growFileSystem is GPT only") != NULL);
	s->partition_table = PART_TABLE_GPT;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	build_model_free(m);
	p[0].max_bytes = 1 << 20;
	ASSERT_ERR(build_model_from_spec(s, &d, &m), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "maxSize bounds a \"rest\"") != NULL);
	p[0].max_bytes = 0;
	p[0].fs_uuid_set = true;
	ASSERT_ERR(build_model_from_spec(s, &d, &m), -EINVAL);
	ASSERT_TRUE(strstr(diag_message(&d, -EINVAL), "rootFSUID") != NULL);
	s->partitions = NULL;
	s->n_partitions = 0;
	free(p);
	image_spec_free(s);
}

TEST(model_fat_data_types)
{
	struct image_spec *s = image_spec_new();
	struct spec_partition *p = xcalloc(3, sizeof(*p));
	struct diag d = { 0 };
	struct build_model *m;
	uint8_t basic[16];

	ASSERT_OK(uuid_parse("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", basic));
	p[0] = (struct spec_partition){ .type = "basic-data", .fs = "vfat" };
	p[1] = (struct spec_partition){ .type = "msftdata", .fs = "vfat" };
	p[2] = (struct spec_partition){ .type = "linux", .fs = "vfat" };
	s->partitions = p;
	s->n_partitions = 3;
	s->partition_table = PART_TABLE_GPT;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	for (size_t i = 0; i < 2; i++) {
		ASSERT_EQ(m->reqs[i].role, PART_ROLE_OTHER);
		ASSERT_TRUE(m->reqs[i].type_set && !m->reqs[i].mbr_type_by_fs);
		ASSERT_TRUE(memcmp(m->reqs[i].type_uuid, basic, 16) == 0);
	}
	ASSERT_TRUE(!m->reqs[2].type_set); /* linux: the Linux filesystem type */
	build_model_free(m);
	s->partition_table = PART_TABLE_MBR;
	ASSERT_OK(build_model_from_spec(s, &d, &m));
	/* the byte follows the FAT type, set once the filesystem is planned */
	ASSERT_TRUE(m->reqs[0].type_set && m->reqs[0].mbr_type_by_fs);
	ASSERT_EQ(m->reqs[0].mbr_type, 0x07);
	ASSERT_TRUE(!m->reqs[2].type_set && !m->reqs[2].mbr_type_by_fs);
	build_model_free(m);
	ASSERT_EQ(part_mbr_type_basic_data(12), 0x01);
	ASSERT_EQ(part_mbr_type_basic_data(16), 0x0e);
	ASSERT_EQ(part_mbr_type_basic_data(32), 0x0c);
	s->partitions = NULL;
	s->n_partitions = 0;
	free(p);
	image_spec_free(s);
}
