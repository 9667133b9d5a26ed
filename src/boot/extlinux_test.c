#include "boot/extlinux.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "tree/tree-test.h"
#include "tree/tree.h"
#include "util/diag.h"
#include "util/test.h"

#define HEAD                                                                                   \
	"# Generated file, all changes will be lost on nixos-rebuild!\n"                         \
	"\n"                                                                                     \
	"# Change this to e.g. nixos-42 to temporarily boot to an older configuration.\n"        \
	"DEFAULT nixos-default\n"                                                                \
	"\n"                                                                                     \
	"MENU TITLE ------------------------------------------------------------\n"

#define KDIR "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30"
#define IDIR "/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-initrd-linux-6.6.30"
#define SYS "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-pi-24.05"

TEST(extlinux_clean_names)
{
	char *n;

	n = extlinux_clean_name(KDIR "/Image");
	ASSERT_STR_EQ(n, "0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30-Image");
	free(n);
	n = extlinux_clean_name(KDIR "/dtbs");
	ASSERT_STR_EQ(n, "0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30-dtbs");
	free(n);
	n = extlinux_clean_name("/nix/store/abc-initrd");
	ASSERT_STR_EQ(n, "abc-initrd");
	free(n);
}

TEST(extlinux_timeouts)
{
	ASSERT_EQ(extlinux_timeout(5), 50);
	ASSERT_EQ(extlinux_timeout(1), 10);
	ASSERT_EQ(extlinux_timeout(0), -10);
	ASSERT_EQ(extlinux_timeout(EXTLINUX_TIMEOUT_NONE), 0);
}

/* A NixOS toplevel in the image: kernel, initrd and dtbs reached through its symlinks. */
static struct tree *sample_root(struct diag *d)
{
	struct tree *t = tree_new();

	if (tree_add_data(t, KDIR "/Image", "ARMd", 4, 0444, 0, 0, 1, d) < 0 ||
	    tree_add_data(t, KDIR "/dtbs/broadcom/bcm2711-rpi-4-b.dtb", "\xd0\x0d\xfe\xed", 4,
			  0444, 0, 0, 1, d) < 0 ||
	    tree_add_data(t, IDIR "/initrd", "0707", 4, 0444, 0, 0, 1, d) < 0 ||
	    tree_add_symlink(t, SYS "/kernel", KDIR "/Image", 0, 0, 1, d) < 0 ||
	    tree_add_symlink(t, SYS "/initrd", IDIR "/initrd", 0, 0, 1, d) < 0 ||
	    tree_add_symlink(t, SYS "/dtbs", KDIR "/dtbs", 0, 0, 1, d) < 0)
		abort();
	return t;
}

static struct boot_entry *sample_entry(void)
{
	struct boot_entry *e = boot_entry_new(SYS "/kernel", SYS "/initrd",
					       "console=ttyS0,115200n8 console=tty0 loglevel=4");

	e->init = strdup(SYS "/init");
	e->toplevel = strdup(SYS);
	return e;
}

/* extlinux.conf's text, NULL when absent or not 0644 */
static char *conf_of(struct tree *t)
{
	struct tree_node *n = tree_lookup(t, EXTLINUX_CONF_PATH);

	if (!n || (n->mode & 07777) != 0644)
		return NULL;
	return strndup((const char *)n->src_data, n->size);
}

/* /boot on the store's filesystem (copyKernels off): everything referenced where it is. */
TEST(extlinux_conf_store_paths)
{
	struct diag d = { 0 };
	struct tree *t = sample_root(&d);
	struct boot_entry *e = sample_entry();
	char *c;

	ASSERT_OK(extlinux_install_files(t,
					 &(struct extlinux_opts){ .entry = e, .timeout = 5,
								  .dtbs = SYS "/dtbs" },
					 &d));
	c = conf_of(t);
	ASSERT_TRUE(c != NULL);
	ASSERT_STR_EQ(c, HEAD "TIMEOUT 50\n"
			      "\n"
			      "LABEL nixos-default\n"
			      "  MENU LABEL NixOS - Default\n"
			      "  LINUX " KDIR "/Image\n"
			      "  INITRD " IDIR "/initrd\n"
			      "  APPEND init=" SYS "/init console=ttyS0,115200n8 console=tty0 "
			      "loglevel=4\n"
			      "  FDTDIR " KDIR "/dtbs\n");
	free(c);
	ASSERT_TRUE(tree_lookup(t, EXTLINUX_NIXOS_DIR) == NULL);
	/* a second install refuses to overwrite */
	ASSERT_EQ(extlinux_install_files(t, &(struct extlinux_opts){ .entry = e, .timeout = 5 },
					 &d),
		  -EEXIST);
	ASSERT_TRUE(strstr(d.msg, "already in the root tree") != NULL);
	boot_entry_free(e);
	tree_free(t);
}

/* copyKernels: copies under cleanName, ../nixos/ references, FDT with deviceTreeName; no
 * parameters still leave the builder's space after init=. */
TEST(extlinux_conf_copy_kernels)
{
	struct diag d = { 0 };
	struct tree *t = sample_root(&d);
	struct boot_entry *e = sample_entry();
	struct tree_node *n;
	char *c;

	e->params[0] = '\0';
	ASSERT_OK(extlinux_install_files(
		t,
		&(struct extlinux_opts){ .entry = e,
					 .timeout = EXTLINUX_TIMEOUT_NONE,
					 .copy_kernels = true,
					 .dtb_name = "broadcom/bcm2711-rpi-4-b.dtb",
					 .dtbs = SYS "/dtbs" },
		&d));
	c = conf_of(t);
	ASSERT_TRUE(c != NULL);
	ASSERT_STR_EQ(c, HEAD "TIMEOUT 0\n"
			      "\n"
			      "LABEL nixos-default\n"
			      "  MENU LABEL NixOS - Default\n"
			      "  LINUX ../nixos/0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30-Image\n"
			      "  INITRD ../nixos/zyxwvsrqpnmlkjihgfdcba9876543210-initrd-linux-6.6.30-"
			      "initrd\n"
			      "  APPEND init=" SYS "/init \n"
			      "  FDT ../nixos/0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30-dtbs/"
			      "broadcom/bcm2711-rpi-4-b.dtb\n");
	free(c);
	n = tree_lookup(t, "/boot/nixos/0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30-Image");
	ASSERT_TRUE(n != NULL && n->size == 4 && memcmp(n->src_data, "ARMd", 4) == 0);
	ASSERT_EQ(n->mode & 07777, 0444);
	n = tree_lookup(t, "/boot/nixos/0123456789abcdfghijklmnpqrsvwxyz-linux-6.6.30-dtbs/"
			   "broadcom/bcm2711-rpi-4-b.dtb");
	ASSERT_TRUE(n != NULL && n->size == 4);
	boot_entry_free(e);
	tree_free(t);
}

/* useGenerationDeviceTree = false: no FDT line (the trees are still copied, as the builder
 * does); a host kernel without init: APPEND is the command line alone. */
TEST(extlinux_conf_host_files_no_device_tree)
{
	struct diag d = { 0 };
	struct tree *t = tree_new();
	char *dir = tt_mkdtemp(), *k = tt_path("%s/vmlinuz-6.1", dir), *c;
	struct boot_entry *e;

	ASSERT_OK(tt_write(k, "MZkernel", 0644));
	e = boot_entry_new(k, NULL, "console=ttyAMA0");
	ASSERT_OK(extlinux_install_files(t,
					 &(struct extlinux_opts){ .entry = e, .timeout = 3,
								  .no_device_tree = true },
					 &d));
	c = conf_of(t);
	ASSERT_TRUE(c != NULL);
	ASSERT_STR_EQ(c, HEAD "TIMEOUT 30\n"
			      "\n"
			      "LABEL nixos-default\n"
			      "  MENU LABEL NixOS - Default\n"
			      "  LINUX ../nixos/vmlinuz-6.1\n"
			      "  APPEND console=ttyAMA0\n");
	free(c);
	ASSERT_TRUE(tree_lookup(t, "/boot/nixos/vmlinuz-6.1") != NULL);
	boot_entry_free(e);
	tree_free(t);

	/* errors: a kernel that is nowhere; deviceTreeName without dtbs */
	t = tree_new();
	e = boot_entry_new("/nonexistent/vmlinuz", NULL, "");
	ASSERT_EQ(extlinux_install_files(t, &(struct extlinux_opts){ .entry = e }, &d), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "kernel /nonexistent/vmlinuz: not in the image") != NULL);
	ASSERT_EQ(extlinux_install_files(t,
					 &(struct extlinux_opts){ .entry = e, .dtb_name = "x.dtb" },
					 &d),
		  -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "deviceTreeName x.dtb") != NULL);
	boot_entry_free(e);
	tree_free(t);
	tt_rm_rf(dir);
	free(k);
}
