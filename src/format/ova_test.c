#include "format/ovf.h"

#include "format/format-internal.h"
#include "format/format-test.h"
#include "format/tar.h"
#include "util/cleanup.h"
#include "util/hash.h"
#include "util/test.h"

#define MIB (1u << 20)
#define VSIZE (6 * MIB + 1000)

static const struct ftest_range pattern[] = {
	{ 0, 1000, false },
	{ 2 * MIB, MIB, true },
	{ 3 * MIB, 3 * MIB, false },
};

/* Until the vmdk writer is here, the OVA's disk is a VDI: the archive around it is the same. */
static int ova_vdi_open(const struct format_params *p, struct outfile *out, struct diag *d,
			struct sink **ret)
{
	return ova_open_with(&format_vdi, p, out, d, ret);
}

static const struct format_ops ova_vdi = {
	.name = "ova",
	.extension = "ova",
	.open = ova_vdi_open,
	.write = NULL, /* set from format_ova below */
};

static int build(const struct format_ops *ops, const char *path, bool efi, struct diag *d)
{
	struct format_params p = { .virtual_size = VSIZE, .seed = "s", .timestamp = 1234,
				   .vm = { .cpus = 4, .memory_mib = 1024, .efi = efi,
					   .name = "nixos test/1" } };

	return ftest_write(ops, &p, path, NULL, pattern, ARRAY_SIZE(pattern), d);
}

static void cleanup_dir(const char *dir)
{
	char *argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)ftest_run(argv, NULL, 0);
}

/* The member at *off: its header decoded, *off moved past its data. */
static bool member(const uint8_t *a, size_t len, size_t *off, struct tar_entry *e,
		   const uint8_t **data)
{
	struct diag d = { 0 };

	if (*off + TAR_BLOCK > len || tar_header_decode(a + *off, e, &d) != 1)
		return false;
	*data = a + *off + TAR_BLOCK;
	*off += TAR_BLOCK + ROUND_UP(e->size, (uint64_t)TAR_BLOCK);
	return *off <= len;
}

TEST(ova_holds_descriptor_disk_and_manifest_in_order)
{
	char *dir = ftest_tmpdir("ova");
	_cleanup_free_ uint8_t *ova = NULL, *vdi = NULL, *again = NULL;
	struct format_ops ops = ova_vdi;
	char path[256], vdi_path[256], want[256], hex[2 * SHA256_LEN + 1];
	size_t len, vdi_len, again_len, off = 0;
	uint8_t digest[SHA256_LEN];
	const uint8_t *ovf, *disk, *mf;
	struct tar_entry e1, e2, e3, end;
	struct diag d = { 0 };

	ops.write = format_ova.write;
	ops.finish = format_ova.finish;
	ops.abort = format_ova.abort;
	snprintf(path, sizeof(path), "%s/x.ova", dir);
	snprintf(vdi_path, sizeof(vdi_path), "%s/x.vdi", dir);
	ASSERT_OK(build(&ops, path, true, &d));
	ASSERT_OK(build(&format_vdi, vdi_path, false, &d));
	ASSERT_OK(ftest_read(path, &ova, &len));
	ASSERT_OK(ftest_read(vdi_path, &vdi, &vdi_len));
	ASSERT_EQ(len % (20 * TAR_BLOCK), 0);

	ASSERT_TRUE(member(ova, len, &off, &e1, &ovf));
	ASSERT_TRUE(member(ova, len, &off, &e2, &disk));
	ASSERT_TRUE(member(ova, len, &off, &e3, &mf));
	ASSERT_STR_EQ(e1.name, "nixos_test_1.ovf");
	ASSERT_STR_EQ(e2.name, "nixos_test_1-disk1.vmdk");
	ASSERT_STR_EQ(e3.name, "nixos_test_1.mf");
	ASSERT_EQ(tar_header_decode(ova + off, &end, &d), 0);
	/* the disk member is the disk format's own file */
	ASSERT_EQ(e2.size, vdi_len);
	ASSERT_MEM_EQ(disk, vdi, vdi_len);
	/* the descriptor states the file's size, the disk, the VM and its firmware */
	snprintf(want, sizeof(want), "ovf:href=\"nixos_test_1-disk1.vmdk\" ovf:id=\"file1\" "
		 "ovf:size=\"%zu\"", vdi_len);
	ASSERT_TRUE(memmem(ovf, e1.size, want, strlen(want)) != NULL);
	snprintf(want, sizeof(want), "ovf:capacity=\"%u\"", VSIZE);
	ASSERT_TRUE(memmem(ovf, e1.size, want, strlen(want)) != NULL);
	ASSERT_TRUE(memmem(ovf, e1.size, "<rasd:VirtualQuantity>4<", 24) != NULL);
	ASSERT_TRUE(memmem(ovf, e1.size, "<rasd:VirtualQuantity>1024<", 27) != NULL);
	ASSERT_TRUE(memmem(ovf, e1.size, "vmw:key=\"firmware\" vmw:value=\"efi\"", 34) != NULL);
	/* the manifest's digests are those of the members */
	sha256(disk, e2.size, digest);
	for (size_t i = 0; i < SHA256_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	snprintf(want, sizeof(want), "SHA256(nixos_test_1-disk1.vmdk)= %s\n", hex);
	ASSERT_TRUE(memmem(mf, e3.size, want, strlen(want)) != NULL);
	/* the same bytes again */
	ASSERT_OK(build(&ops, path, true, &d));
	ASSERT_OK(ftest_read(path, &again, &again_len));
	ASSERT_EQ(again_len, len);
	ASSERT_MEM_EQ(again, ova, len);
	cleanup_dir(dir);
}

TEST(ovf_names_are_safe)
{
	_cleanup_free_ char *a = ovf_safe_name(NULL), *b = ovf_safe_name("a<b>&\"c"),
			    *c = ovf_safe_name("-x");

	ASSERT_STR_EQ(a, "nixos");
	ASSERT_STR_EQ(b, "a_b___c");
	ASSERT_STR_EQ(c, "_x");
}

TEST(ovf_bios_has_no_firmware_config)
{
	struct ovf_params p = { .name = "n", .disk_file = "n-disk1.vmdk", .capacity = 1 };
	_cleanup_free_ char *s = ovf_descriptor(&p);

	ASSERT_TRUE(strstr(s, "firmware") == NULL);
	ASSERT_TRUE(strstr(s, "<rasd:VirtualQuantity>2</rasd:VirtualQuantity>") != NULL);
	ASSERT_TRUE(strstr(s, "<rasd:VirtualQuantity>2048</rasd:VirtualQuantity>") != NULL);
}
