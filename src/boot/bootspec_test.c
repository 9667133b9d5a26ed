#include "boot/boot.h"

#include <stdlib.h>
#include <unistd.h>

#include "tree/tree-test.h"
#include "util/diag.h"
#include "util/test.h"

static void put(const char *dir, const char *name, const char *text)
{
	char *p = tt_path("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	free(p);
}

#define BOOTSPEC(body) \
	"{\"org.nixos.bootspec.v1\": {" body "}, \"org.nixos.specialisation.v1\": {}}"

TEST(bootspec_parse_full)
{
	const char *j = BOOTSPEC("\"kernel\": \"/nix/store/k-linux-6.1/bzImage\", "
				 "\"initrd\": \"/nix/store/i-initrd-linux-6.1/initrd\", "
				 "\"init\": \"/nix/store/t-nixos-system/init\", "
				 "\"kernelParams\": [\"loglevel=4\", \"console=ttyS0\"], "
				 "\"label\": \"NixOS 24.05 (Linux 6.1)\", "
				 "\"system\": \"x86_64-linux\", "
				 "\"toplevel\": \"/nix/store/t-nixos-system\"");
	struct boot_entry *e = NULL;
	struct diag d = { 0 };

	ASSERT_OK(bootspec_json_parse(j, strlen(j), "boot.json", &d, &e));
	ASSERT_STR_EQ(e->kernel, "/nix/store/k-linux-6.1/bzImage");
	ASSERT_STR_EQ(e->initrd, "/nix/store/i-initrd-linux-6.1/initrd");
	ASSERT_STR_EQ(e->init, "/nix/store/t-nixos-system/init");
	ASSERT_STR_EQ(e->params, "loglevel=4 console=ttyS0");
	ASSERT_STR_EQ(e->label, "NixOS 24.05 (Linux 6.1)");
	ASSERT_STR_EQ(e->toplevel, "/nix/store/t-nixos-system");
	boot_entry_free(e);
}

TEST(bootspec_parse_minimal)
{
	const char *j = BOOTSPEC("\"kernel\": \"/k\", \"init\": \"/i\", \"kernelParams\": []");
	struct boot_entry *e = NULL;
	struct diag d = { 0 };

	ASSERT_OK(bootspec_json_parse(j, strlen(j), "boot.json", &d, &e));
	ASSERT_TRUE(e->initrd == NULL && e->label == NULL && e->toplevel == NULL);
	ASSERT_STR_EQ(e->params, "");
	boot_entry_free(e);
}

#define ASSERT_PARSE_FAILS(j, want)                                                       \
	do {                                                                             \
		struct boot_entry *_e = NULL;                                            \
		struct diag _d = { 0 };                                                  \
		ASSERT_ERR(bootspec_json_parse(j, strlen(j), "b.json", &_d, &_e), -EBADMSG); \
		ASSERT_TRUE(_e == NULL);                                                 \
		ASSERT_STR_EQ(_d.msg, want);                                             \
	} while (0)

TEST(bootspec_parse_errors)
{
	ASSERT_PARSE_FAILS("{\"org.nixos.bootspec.v2\": {}}",
			   "b.json: no \"org.nixos.bootspec.v1\" object (not a bootspec v1 "
			   "document)");
	ASSERT_PARSE_FAILS(BOOTSPEC("\"init\": \"/i\", \"kernelParams\": []"),
			   "b.json: org.nixos.bootspec.v1.kernel missing");
	ASSERT_PARSE_FAILS(BOOTSPEC("\"kernel\": 3, \"init\": \"/i\", \"kernelParams\": []"),
			   "b.json: org.nixos.bootspec.v1.kernel: expected a non-empty string");
	ASSERT_PARSE_FAILS(BOOTSPEC("\"kernel\": \"/k\", \"init\": \"/i\""),
			   "b.json: org.nixos.bootspec.v1.kernelParams: expected a list of "
			   "strings");
	ASSERT_PARSE_FAILS(BOOTSPEC("\"kernel\": \"/k\", \"init\": \"/i\", "
				    "\"kernelParams\": [\"a\", 1]"),
			   "b.json: org.nixos.bootspec.v1.kernelParams[1]: expected a string");
	{
		struct boot_entry *e = NULL;
		struct diag d = { 0 };

		ASSERT_ERR(bootspec_json_parse("{\"a\": ", 6, "b.json", &d, &e), -EBADMSG);
	}
}

TEST(bootspec_load_json)
{
	char *dir = tt_mkdtemp();
	struct boot_entry *e = NULL;
	struct diag d = { 0 };

	put(dir, "boot.json",
	    BOOTSPEC("\"kernel\": \"/k\", \"init\": \"/i\", \"kernelParams\": [\"x\"]"));
	ASSERT_TRUE(bootspec_present(dir));
	ASSERT_OK(bootspec_load(dir, &d, &e));
	ASSERT_STR_EQ(e->kernel, "/k");
	ASSERT_STR_EQ(e->toplevel, dir); /* defaults to the toplevel it was read from */
	boot_entry_free(e);

	put(dir, "boot.json",
	    BOOTSPEC("\"kernel\": \"k\", \"init\": \"/i\", \"kernelParams\": [\"x\"]"));
	ASSERT_ERR(bootspec_load(dir, &d, &e), -EBADMSG);
	tt_rm_rf(dir); /* frees it */
}

TEST(bootspec_load_fallback)
{
	char *dir = tt_mkdtemp(), *k = tt_path("%s/linux-6.1", dir);
	char *kl = tt_path("%s/kernel", dir);
	char *real = NULL, *init = tt_path("%s/init", dir);
	struct boot_entry *e = NULL;
	struct diag d = { 0 };

	ASSERT_ERR(bootspec_load(dir, &d, &e), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, "no boot.json and no kernel") != NULL);
	ASSERT_TRUE(!bootspec_present(dir));

	mkdir(k, 0755);
	put(k, "bzImage", "kernel");
	real = tt_path("%s/bzImage", k);
	ASSERT_OK(symlink(real, kl));
	put(dir, "kernel-params", "loglevel=4 quiet\n");
	put(dir, "nixos-version", "24.05\n");
	ASSERT_TRUE(bootspec_present(dir));
	ASSERT_OK(bootspec_load(dir, &d, &e));
	ASSERT_STR_EQ(e->kernel, real); /* through the symlink */
	ASSERT_TRUE(e->initrd == NULL);
	ASSERT_STR_EQ(e->init, init);
	ASSERT_STR_EQ(e->params, "loglevel=4 quiet");
	ASSERT_STR_EQ(e->label, "NixOS 24.05");
	boot_entry_free(e);
	free(k);
	free(kl);
	free(real);
	free(init);
	tt_rm_rf(dir); /* frees it */
}

TEST(boot_entry_new_args)
{
	struct boot_entry *e = boot_entry_new("/boot/vmlinuz", NULL, NULL);

	ASSERT_STR_EQ(e->kernel, "/boot/vmlinuz");
	ASSERT_TRUE(e->initrd == NULL && e->init == NULL && e->toplevel == NULL);
	ASSERT_STR_EQ(e->params, "");
	boot_entry_free(e);
}
