#include "spec/spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"
#include "util/uuid.h"
#include "util/xalloc.h"

/* A spec file in a fresh directory; returns its path (the directory is "<path>.d"). */
static char *spec_file(const char *json)
{
	char dir[] = "/tmp/spec-json-test.XXXXXX";
	char *path;
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	path = xasprintf("%s/spec.json", dir);
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(json, f);
	fclose(f);
	return path;
}

static void spec_file_remove(char *path)
{
	char *slash = strrchr(path, '/');

	(void)unlink(path);
	*slash = '\0';
	(void)rmdir(path);
	free(path);
}

/* Load json into a new spec; returns the error and leaves the message in d. */
static int load(const char *json, struct image_spec **ret, struct diag *d)
{
	char *path = spec_file(json);
	struct image_spec *s = image_spec_new();
	int r;

	*d = (struct diag){ 0 };
	r = spec_load_json(s, path, d);
	/* Messages start with the file name: drop it so tests compare the rest. */
	if (r < 0 && strncmp(d->msg, path, strlen(path)) == 0)
		memmove(d->msg, d->msg + strlen(path), strlen(d->msg + strlen(path)) + 1);
	/* ...and a value error's key position (json_value_errors_name_the_key tests them) */
	if (r < 0 && !strstr(d->msg, "not valid JSON")) {
		unsigned line, col;
		int n = 0;

		if (sscanf(d->msg, ":%u:%u%n", &line, &col, &n) == 2 && n > 0)
			memmove(d->msg, d->msg + n, strlen(d->msg + n) + 1);
	}
	spec_file_remove(path);
	*ret = s;
	return r;
}

#define ASSERT_LOAD_FAILS(json, err, want)                                  \
	do {                                                               \
		_cleanup_(image_spec_freep) struct image_spec *_s = NULL; \
		struct diag _d;                                            \
		ASSERT_ERR(load(json, &_s, &_d), err);                     \
		ASSERT_STR_EQ(_d.msg, want);                                \
	} while (0)

TEST(json_every_key)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;
	char u[UUID_STR_LEN];

	ASSERT_OK(load("{\n"
		       "  \"root\": \"/srv/root\",\n"
		       "  \"contents\": [\n"
		       "    { \"source\": \"/a\", \"target\": \"/etc/a\" },\n"
		       "    { \"source\": \"/b\", \"target\": \"/b\", \"mode\": \"0644\",\n"
		       "      \"user\": \"root\", \"group\": 0 }\n"
		       "  ],\n"
		       "  \"partitionTableType\": \"efixbootldr\",\n"
		       "  \"fsType\": \"ext4\",\n"
		       "  \"label\": \"my-root\",\n"
		       "  \"diskSize\": 2048,\n"
		       "  \"additionalSpace\": \"1G\",\n"
		       "  \"bootSize\": \"512M\",\n"
		       "  \"format\": \"qcow2\",\n"
		       "  \"baseName\": \"disk\",\n"
		       "  \"deterministic\": false,\n"
		       "  \"seed\": \"s33d\",\n"
		       "  \"rootGPUID\": \"00112233-4455-6677-8899-aabbccddeeff\",\n"
		       "  \"rootFSUID\": \"ffeeddcc-bbaa-9988-7766-554433221100\",\n"
		       "  \"owner\": \"1000:100\",\n"
		       "  \"arch\": \"aarch64\",\n"
		       "  \"genericRootType\": true,\n"
		       "  \"reservedPercent\": 0,\n"
		       "  \"installBootLoader\": true,\n"
		       "  \"touchEFIVars\": true,\n"
		       "  \"onlyNixStore\": true,\n"
		       "  \"copyChannel\": true,\n"
		       "  \"additionalPaths\": [\"/nix/store/x\", \"/nix/store/y\"],\n"
		       "  \"configFile\": \"/etc/nixos/configuration.nix\",\n"
		       "  \"memSize\": 4096\n"
		       "}\n",
		       &s, &d));
	ASSERT_STR_EQ(s->root, "/srv/root");
	ASSERT_EQ(s->n_contents, 2);
	ASSERT_STR_EQ(s->contents[0].source, "/a");
	ASSERT_STR_EQ(s->contents[0].target, "/etc/a");
	ASSERT_TRUE(!s->contents[0].mode && !s->contents[0].user && !s->contents[0].group);
	ASSERT_STR_EQ(s->contents[1].mode, "0644");
	ASSERT_STR_EQ(s->contents[1].user, "root");
	ASSERT_STR_EQ(s->contents[1].group, "0");
	ASSERT_EQ(s->partition_table, PART_TABLE_EFIXBOOTLDR);
	ASSERT_STR_EQ(s->fs_type, "ext4");
	ASSERT_STR_EQ(s->label, "my-root");
	ASSERT_TRUE(!s->disk_size_auto);
	ASSERT_EQ(s->disk_size_bytes, 2048ull << 20);
	ASSERT_EQ(s->additional_space_bytes, 1ull << 30);
	ASSERT_EQ(s->boot_size_bytes, 512ull << 20);
	ASSERT_STR_EQ(s->format, "qcow2");
	ASSERT_STR_EQ(s->base_name, "disk");
	ASSERT_TRUE(!s->deterministic);
	ASSERT_STR_EQ(s->seed, "s33d");
	ASSERT_TRUE(s->root_gpuid_set && s->root_fsuid_set);
	uuid_format(s->root_gpuid, u);
	ASSERT_STR_EQ(u, "00112233-4455-6677-8899-aabbccddeeff");
	uuid_format(s->root_fsuid, u);
	ASSERT_STR_EQ(u, "ffeeddcc-bbaa-9988-7766-554433221100");
	ASSERT_TRUE(s->owner_set);
	ASSERT_EQ(s->owner_uid, 1000);
	ASSERT_EQ(s->owner_gid, 100);
	ASSERT_EQ(s->arch, PART_ARCH_AARCH64);
	ASSERT_TRUE(s->generic_root_type);
	ASSERT_EQ(s->reserved_percent, 0);
	ASSERT_TRUE(s->install_bootloader && s->touch_efi_vars && s->only_nix_store &&
		    s->copy_channel);
	ASSERT_EQ(s->n_additional_paths, 2);
	ASSERT_STR_EQ(s->config_file, "/etc/nixos/configuration.nix");
}

TEST(json_disk_size_forms)
{
	static const struct {
		const char *json;
		bool is_auto;
		uint64_t bytes;
	} cases[] = {
		{ "{\"diskSize\": \"auto\"}", true, 0 },
		{ "{\"diskSize\": 2048}", false, 2048ull << 20 },
		{ "{\"diskSize\": \"2048\"}", false, 2048ull << 20 },
		{ "{\"diskSize\": 3.0}", false, 3ull << 20 },
		{ "{\"diskSize\": \"4G\"}", false, 4ull << 30 },
		{ "{\"diskSize\": \"1024K\"}", false, 1ull << 20 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(image_spec_freep) struct image_spec *s = NULL;
		struct diag d;

		ASSERT_OK(load(cases[i].json, &s, &d));
		ASSERT_EQ(s->disk_size_auto, cases[i].is_auto);
		ASSERT_EQ(s->disk_size_bytes, cases[i].bytes);
	}
}

TEST(json_sizes_as_numbers_are_mib)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;

	/* a number means MiB for every size key, as make-disk-image's diskSize */
	ASSERT_OK(load("{\"additionalSpace\": 512, \"bootSize\": \"1.5G\", \"diskSize\": 2048}",
		       &s, &d));
	ASSERT_EQ(s->additional_space_bytes, 512ull << 20);
	ASSERT_EQ(s->boot_size_bytes, 1536ull << 20);
	ASSERT_EQ(s->disk_size_bytes, 2048ull << 20);
	s = image_spec_free(s);
	/* a numeric string too, and a fraction of a MiB */
	ASSERT_OK(load("{\"additionalSpace\": \"64\", \"bootSize\": 0.5, \"clusterSize\": 2}", &s,
		       &d));
	ASSERT_EQ(s->additional_space_bytes, 64ull << 20);
	ASSERT_EQ(s->boot_size_bytes, 512ull << 10);
	ASSERT_EQ(s->cluster_size, 2u << 20);
	s = image_spec_free(s);
	ASSERT_OK(load("{\"partitions\": [{\"type\": \"root\", \"size\": \"100\", \"minSize\": 8, "
		       "\"maxSize\": \"16\", \"additionalSpace\": 4}]}", &s, &d));
	ASSERT_EQ(s->partitions[0].size_bytes, 100ull << 20);
	ASSERT_EQ(s->partitions[0].min_bytes, 8ull << 20);
	ASSERT_EQ(s->partitions[0].max_bytes, 16ull << 20);
	ASSERT_EQ(s->partitions[0].additional_space_bytes, 4ull << 20);
}

TEST(json_null_keeps_defaults)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;

	ASSERT_OK(load("{\"label\": null, \"diskSize\": null, \"configFile\": null, "
		       "\"contents\": [{\"source\": \"/x\", \"target\": \"/y\", \"mode\": null, "
		       "\"user\": null, \"group\": null}]}",
		       &s, &d));
	ASSERT_STR_EQ(s->label, "nixos");
	ASSERT_TRUE(s->disk_size_auto);
	ASSERT_TRUE(!s->config_file);
	ASSERT_EQ(s->n_contents, 1);
	ASSERT_TRUE(!s->contents[0].mode && !s->contents[0].user && !s->contents[0].group);
}

TEST(json_relative_paths_resolve_against_spec_dir)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	_cleanup_free_ char *dir = NULL, *want = NULL;
	char *path = spec_file("{\"root\": \"staging\", \"contents\": ["
			       "{\"source\": \"files/*.conf\", \"target\": \"etc\"},"
			       "{\"source\": \"/abs\", \"target\": \"/abs\"}]}");
	struct diag d = { 0 };

	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	ASSERT_OK(spec_load_json(s, path, &d));
	spec_file_remove(path);
	want = xasprintf("%s/staging", dir);
	ASSERT_STR_EQ(s->root, want);
	free(want);
	want = xasprintf("%s/files/*.conf", dir);
	ASSERT_STR_EQ(s->contents[0].source, want);
	ASSERT_STR_EQ(s->contents[0].target, "etc"); /* a path in the image: untouched */
	ASSERT_STR_EQ(s->contents[1].source, "/abs");
}

TEST(json_later_file_merges_over_earlier)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	char *a = spec_file("{\"label\": \"one\", \"diskSize\": 100, "
			    "\"contents\": [{\"source\": \"/a\", \"target\": \"/a\"}]}");
	char *b = spec_file("{\"label\": \"two\", "
			    "\"contents\": [{\"source\": \"/b\", \"target\": \"/b\"}]}");
	struct diag d = { 0 };

	ASSERT_OK(spec_load_json(s, a, &d));
	ASSERT_OK(spec_load_json(s, b, &d));
	spec_file_remove(a);
	spec_file_remove(b);
	ASSERT_STR_EQ(s->label, "two");
	ASSERT_EQ(s->disk_size_bytes, 100ull << 20); /* kept: b does not name it */
	ASSERT_EQ(s->n_contents, 1);                  /* replaced, not appended */
	ASSERT_STR_EQ(s->contents[0].source, "/b");
}

TEST(json_mem_size_ignored)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;

	ASSERT_OK(load("{\"memSize\": \"2048\"}", &s, &d));
	ASSERT_LOAD_FAILS("{\"memSize\": true}", -EINVAL,
			  ": memSize: expected a number of MiB, got boolean");
}

TEST(json_unknown_keys)
{
	ASSERT_LOAD_FAILS("{\"rootGpuid\": \"x\"}", -EINVAL,
			  ": unknown key \"rootGpuid\" (did you mean \"rootGPUID\"?)");
	ASSERT_LOAD_FAILS("{\"diskSzie\": 10}", -EINVAL,
			  ": unknown key \"diskSzie\" (did you mean \"diskSize\"?)");
	ASSERT_LOAD_FAILS("{\"xyzzy\": 1}", -EINVAL,
			  ": unknown key \"xyzzy\" (see mkdiskimage build --help for the keys)");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": \"/a\", \"target\": \"/a\", "
			  "\"owner\": \"x\"}]}",
			  -EINVAL,
			  ": contents[0]: unknown key \"owner\" (use source, target, mode, user, "
			  "group)");
}

TEST(json_wrong_types)
{
	ASSERT_LOAD_FAILS("{\"label\": 5}", -EINVAL, ": label: expected a string, got int");
	ASSERT_LOAD_FAILS("{\"root\": [\"/x\"]}", -EINVAL, ": root: expected a path, got array");
	ASSERT_LOAD_FAILS("{\"deterministic\": \"yes\"}", -EINVAL,
			  ": deterministic: expected true or false, got string");
	ASSERT_LOAD_FAILS("{\"diskSize\": true}", -EINVAL,
			  ": diskSize: expected \"auto\" or a number of MiB, got boolean");
	ASSERT_LOAD_FAILS("{\"additionalSpace\": {}}", -EINVAL,
			  ": additionalSpace: expected a size such as \"512M\" or a number of MiB, got "
			  "object");
	ASSERT_LOAD_FAILS("{\"rootGPUID\": 1}", -EINVAL,
			  ": rootGPUID: expected a UUID string, got int");
	ASSERT_LOAD_FAILS("{\"owner\": 0}", -EINVAL,
			  ": owner: expected a string \"UID:GID\", got int");
	ASSERT_LOAD_FAILS("{\"reservedPercent\": \"x\"}", -EINVAL,
			  ": reservedPercent \"x\": not a whole percentage from 0 to 50 (mke2fs's "
			  "-m limit)");
	ASSERT_LOAD_FAILS("{\"contents\": {}}", -EINVAL,
			  ": contents: expected a list of {source, target, mode, user, group}, got "
			  "object");
	ASSERT_LOAD_FAILS("{\"contents\": [\"/a\"]}", -EINVAL,
			  ": contents[0]: expected an object {source, target, mode, user, group}, "
			  "got string");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": \"/a\", \"target\": \"/a\", "
			  "\"mode\": 644}]}",
			  -EINVAL, ": contents[0].mode: expected a string such as \"0644\", got int");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": \"/a\", \"target\": \"/a\", "
			  "\"user\": true}]}",
			  -EINVAL, ": contents[0].user: expected a name or a numeric id, got boolean");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": 1, \"target\": \"/a\"}]}", -EINVAL,
			  ": contents[0].source: expected a string, got int");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"target\": \"/a\"}]}", -EINVAL,
			  ": contents[0]: source missing");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": \"/a\"}]}", -EINVAL,
			  ": contents[0]: target missing");
	ASSERT_LOAD_FAILS("{\"additionalPaths\": \"/nix/store/x\"}", -EINVAL,
			  ": additionalPaths: expected a list of store paths, got string");
	ASSERT_LOAD_FAILS("{\"additionalPaths\": [1]}", -EINVAL,
			  ": additionalPaths[0]: expected a string, got int");
	ASSERT_LOAD_FAILS("{\"configFile\": false}", -EINVAL,
			  ": configFile: expected a path, got boolean");
}

TEST(json_bad_values)
{
	ASSERT_LOAD_FAILS("{\"rootGPUID\": \"xyz\"}", -EINVAL,
			  ": rootGPUID \"xyz\": not a UUID (expected 8-4-4-4-12 hex digits)");
	ASSERT_LOAD_FAILS("{\"partitionTableType\": \"msdos\"}", -EINVAL,
			  ": partitionTableType \"msdos\": unknown (use none, legacy, legacy+boot, "
			  "legacy+gpt, efi, efixbootldr or hybrid; gpt or mbr with partitions)");
	ASSERT_LOAD_FAILS("{\"diskSize\": \"12X\"}", -EINVAL,
			  ": diskSize \"12X\": not a size (use \"auto\" or MiB, e.g. 2048)");
	ASSERT_LOAD_FAILS("{\"diskSize\": 0}", -EINVAL,
			  ": diskSize 0: must be at least 1 MiB (use \"auto\" or MiB, e.g. 2048)");
	ASSERT_LOAD_FAILS("{\"diskSize\": -5}", -EINVAL,
			  ": diskSize -5: not a size (use \"auto\" or MiB, e.g. 2048)");
	ASSERT_LOAD_FAILS("{\"diskSize\": 1.5}", -EINVAL,
			  ": diskSize 1.5: not a whole number of MiB (use \"auto\" or MiB, e.g. "
			  "2048)");
	ASSERT_LOAD_FAILS("{\"diskSize\": \"99999999999\"}", -ERANGE,
			  ": diskSize \"99999999999\": too large (use \"auto\" or MiB, e.g. 2048)");
	ASSERT_LOAD_FAILS("{\"additionalSpace\": \"1Ki\"}", -EINVAL,
			  ": additionalSpace \"1Ki\": not a size (use a number of MiB, or one with "
			  "a K, M, G, T, P or E suffix, e.g. 512M)");
	ASSERT_LOAD_FAILS("{\"bootSize\": \"16E\"}", -ERANGE,
			  ": bootSize \"16E\": too large (at most 2T: a FAT boot partition holds "
			  "at most 2 TiB)");
	/* issue #11: sizes past what the disk can hold are refused, not wrapped */
	ASSERT_LOAD_FAILS("{\"additionalSpace\": 18446744073709551615}", -ERANGE,
			  ": additionalSpace 18446744073709551615: too large (at most 16T: an ext4 "
			  "root holds at most 16 TiB)");
	ASSERT_LOAD_FAILS("{\"additionalSpace\": \"16777217M\"}", -ERANGE,
			  ": additionalSpace \"16777217M\": too large (at most 16T: an ext4 root "
			  "holds at most 16 TiB)");
	ASSERT_LOAD_FAILS("{\"bootSize\": 2199024304128}", -ERANGE,
			  ": bootSize 2199024304128: too large (at most 2T: a FAT boot partition "
			  "holds at most 2 TiB)");
	ASSERT_LOAD_FAILS("{\"label\": \"ab\\u0000cd\"}", -EINVAL,
			  ": label: contains a NUL character (\\u0000)");
	ASSERT_LOAD_FAILS("{\"root\": \"/a\\u0000b\"}", -EINVAL,
			  ": root: contains a NUL character (\\u0000)");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": \"/a\\u0000b\", \"target\": \"/x\"}]}",
			  -EINVAL, ": contents[0].source: contains a NUL character (\\u0000)");
	ASSERT_LOAD_FAILS("{\"label\": \"ab\xc3\x28\"}", -EINVAL,
			  ": label: not valid UTF-8 (byte 2 is 0xc3); use UTF-8 text");
	ASSERT_LOAD_FAILS("{\"label\": \"a-label-of-17-byt\"}", -EINVAL,
			  ": label \"a-label-of-17-byt\": 17 bytes long; a label holds at most 16 "
			  "bytes");
	ASSERT_LOAD_FAILS("{\"format\": \"cow\"}", -EINVAL,
			  ": format \"cow\": unknown (use raw, qcow2, qcow2-compressed, vdi, vpc, "
			  "vmdk, vhdx, gce or ova)");
	ASSERT_LOAD_FAILS("{\"owner\": \"root:root\"}", -EINVAL,
			  ": owner \"root:root\": not an owner (use numeric UID:GID, e.g. 0:0)");
	ASSERT_LOAD_FAILS("{\"owner\": \"0:4294967295\"}", -EINVAL,
			  ": owner \"0:4294967295\": not an owner (use numeric UID:GID, e.g. 0:0)");
	ASSERT_LOAD_FAILS("{\"arch\": \"mips\"}", -EINVAL,
			  ": arch \"mips\": unknown architecture (use x86-64, x86, aarch64, arm, "
			  "riscv64, riscv32, loongarch64, ppc64le or s390x)");
	ASSERT_LOAD_FAILS("{\"reservedPercent\": 51}", -EINVAL,
			  ": reservedPercent 51: not a whole percentage from 0 to 50 (mke2fs's -m "
			  "limit)");
	ASSERT_LOAD_FAILS("{\"seed\": \"\"}", -EINVAL,
			  ": seed \"\": empty (omit it for the default seed)");
	ASSERT_LOAD_FAILS("{\"fsType\": \"\"}", -EINVAL, ": fsType \"\": empty (use ext4)");
	ASSERT_LOAD_FAILS("{\"baseName\": \"a/b\"}", -EINVAL,
			  ": baseName \"a/b\": not a file name (use e.g. nixos)");
	ASSERT_LOAD_FAILS("{\"root\": \"\"}", -EINVAL,
			  ": root \"\": empty path (omit it for no root tree)");
}

TEST(json_format_options)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;

	ASSERT_OK(load("{\"clusterSize\": \"2M\", \"compression\": \"deflate\", \"threads\": 2, "
		       "\"vpcSubformat\": \"dynamic\", \"compressionLevel\": 9}",
		       &s, &d));
	ASSERT_EQ(s->compression_level, 9);
	ASSERT_EQ(s->cluster_size, 2u << 20);
	ASSERT_EQ(s->compression, FORMAT_COMPRESSION_DEFLATE);
	ASSERT_EQ(s->threads, 2);
	ASSERT_EQ(s->vpc_subformat, FORMAT_VPC_DYNAMIC);
	s = image_spec_free(s);
	ASSERT_OK(load("{\"clusterSize\": \"0.5K\", \"vpcSubformat\": \"fixed\"}", &s, &d));
	ASSERT_EQ(s->cluster_size, 512);
	ASSERT_EQ(s->vpc_subformat, FORMAT_VPC_FIXED);
	ASSERT_LOAD_FAILS("{\"clusterSize\": 1000}", -EINVAL,
			  ": clusterSize 1000: not a power of two from 0.5K to 2M (use e.g. 64K; a "
			  "number without a suffix is MiB)");
	/* 65536 is MiB like every bare number: refused, not 64K */
	ASSERT_LOAD_FAILS("{\"clusterSize\": 65536}", -EINVAL,
			  ": clusterSize 65536: not a power of two from 0.5K to 2M (use e.g. 64K; a "
			  "number without a suffix is MiB)");
	ASSERT_LOAD_FAILS("{\"compressionLevel\": 23}", -EINVAL,
			  ": compressionLevel 23: not a compression level from 0 to 22 (0: the "
			  "default)");
	ASSERT_LOAD_FAILS("{\"compression\": \"xz\"}", -EINVAL,
			  ": compression \"xz\": unknown (use deflate or zstd for qcow2-compressed, "
			  "lz4 or lz4hc for erofs)");
	ASSERT_LOAD_FAILS("{\"threads\": 5000}", -EINVAL,
			  ": threads 5000: not a number of threads from 0 to 1024 (0: one per core)");
	ASSERT_LOAD_FAILS("{\"vpcSubformat\": 1}", -EINVAL,
			  ": vpcSubformat: expected a string, got int");
}

TEST(json_syntax_errors)
{
	ASSERT_LOAD_FAILS("{\n  \"label\": \"x\",\n  oops\n}", -EINVAL,
			  ":3:3: not valid JSON: expected a key in double quotes, got oops");
	ASSERT_LOAD_FAILS("{\"label\": \"x\"", -EINVAL,
			  ":1:14: not valid JSON: expected ',' or '}' after the value of \"label\", "
			  "got the end of the file");
	ASSERT_LOAD_FAILS("{} {}", -EINVAL,
			  ":1:4: not valid JSON: text after the closing '}': '{'");
	ASSERT_LOAD_FAILS("[1, 2]", -EINVAL,
			  ":1:1: not valid JSON: expected '{' (the file holds one JSON object { "
			  "\"key\": value, ... }), got '['");
	ASSERT_LOAD_FAILS("", -EINVAL,
			  ":1:1: not valid JSON: expected '{' (the file holds one JSON object { "
			  "\"key\": value, ... }), got the end of the file");
}

/* What json-c 0.16 lets through even with JSON_TOKENER_STRICT, and the usual mistakes: each
 * refused at its line and column (in characters), saying what was expected. */
TEST(json_strict)
{
	ASSERT_LOAD_FAILS("{\n  \"label\": \"x\",\n}", -EINVAL,
			  ":2:15: not valid JSON: a trailing comma before '}'");
	ASSERT_LOAD_FAILS("{\"contents\": [{\"source\": \"a\", \"target\": \"/a\"},\n ]}", -EINVAL,
			  ":1:46: not valid JSON: a trailing comma before ']'");
	ASSERT_LOAD_FAILS("{\n  // the label\n  \"label\": \"x\"\n}", -EINVAL,
			  ":2:3: not valid JSON: expected a key in double quotes or '}', got '/' (JSON "
			  "has no comments)");
	ASSERT_LOAD_FAILS("{\"label\": \"x\" /* c */}", -EINVAL,
			  ":1:15: not valid JSON: expected ',' or '}' after the value of \"label\", "
			  "got '/' (JSON has no comments)");
	ASSERT_LOAD_FAILS("{\"label\": 'x'}", -EINVAL,
			  ":1:11: not valid JSON: expected a value (a string in double quotes, a "
			  "number, {...}, [...], true, false or null), got a single quote (JSON "
			  "strings take double quotes)");
	ASSERT_LOAD_FAILS("{'label': \"x\"}", -EINVAL,
			  ":1:2: not valid JSON: expected a key in double quotes or '}', got a single "
			  "quote (JSON strings take double quotes)");
	ASSERT_LOAD_FAILS("{\"diskSize\": NaN}", -EINVAL,
			  ":1:14: not valid JSON: expected a value (a string in double quotes, a "
			  "number, {...}, [...], true, false or null), got NaN");
	ASSERT_LOAD_FAILS("{\"diskSize\": Infinity}", -EINVAL,
			  ":1:14: not valid JSON: expected a value (a string in double quotes, a "
			  "number, {...}, [...], true, false or null), got Infinity");
	ASSERT_LOAD_FAILS("{\"diskSize\": 012}", -EINVAL,
			  ":1:14: not valid JSON: a number with a leading zero (write 8, not 08; octal "
			  "is not JSON)");
	ASSERT_LOAD_FAILS("{\"diskSize\": 1.}", -EINVAL,
			  ":1:16: not valid JSON: expected a digit after '.', got '}'");
	ASSERT_LOAD_FAILS("{\"label\": \"a\nb\"}", -EINVAL,
			  ":1:13: not valid JSON: a control character (0x0a) in a string (write it as "
			  "\\n, \\t or \\u000a)");
	ASSERT_LOAD_FAILS("{\"label\": \"a\\x\"}", -EINVAL,
			  ":1:13: not valid JSON: unknown escape '\\x' in a string (use \\\", \\\\, "
			  "\\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)");
	ASSERT_LOAD_FAILS("{\"label\": \"x\", \"diskSize\": tru}", -EINVAL,
			  ":1:28: not valid JSON: expected a value (a string in double quotes, a "
			  "number, {...}, [...], true, false or null), got tru");
	ASSERT_LOAD_FAILS("{\"label\" \"x\"}", -EINVAL,
			  ":1:10: not valid JSON: expected ':' after the key \"label\", got '\"'");
	ASSERT_LOAD_FAILS("{\"label\": \"x\"} x", -EINVAL,
			  ":1:16: not valid JSON: text after the closing '}': x");
	ASSERT_LOAD_FAILS("\xef\xbb\xbf{}", -EINVAL,
			  ":1:1: not valid JSON: a UTF-8 byte-order mark (save the file without it)");
	/* columns count characters, not bytes */
	ASSERT_LOAD_FAILS("{\"label\": \"\xc3\xa9t\xc3\xa9\",}", -EINVAL,
			  ":1:16: not valid JSON: a trailing comma before '}'");
}

TEST(json_duplicate_keys)
{
	ASSERT_LOAD_FAILS("{\n  \"label\": \"a\",\n  \"diskSize\": 64,\n  \"label\": \"b\"\n}", -EINVAL,
			  ":4:3: not valid JSON: duplicate key \"label\" (also at line 2, column 3; "
			  "give each key once)");
	/* the same key written with an escape is the same key */
	ASSERT_LOAD_FAILS("{\"label\": \"a\", \"\\u006cabel\": \"b\"}", -EINVAL,
			  ":1:16: not valid JSON: duplicate key \"label\" (also at line 1, column 2; "
			  "give each key once)");
	/* inside a partition too */
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\",\n \"type\": \"esp\"}]}", -EINVAL,
			  ":2:2: not valid JSON: duplicate key \"type\" (also at line 1, column 18; "
			  "give each key once)");
}

TEST(json_value_errors_name_the_key)
{
	char *path = spec_file("{\n  \"label\": \"x\",\n  \"additionalSpace\": \"12X\",\n}");
	_cleanup_free_ char *want = NULL;
	struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	/* the syntax error comes first */
	ASSERT_ERR(spec_load_json(s, path, &d), -EINVAL);
	want = xasprintf("%s:3:27: not valid JSON: a trailing comma before '}'", path);
	ASSERT_STR_EQ(d.msg, want);
	spec_file_remove(path);
	image_spec_free(s);

	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "{\n  \"label\": \"x\",\n  \"additionalSpace\": \"12X\"\n}",
		  "3:3: additionalSpace \"12X\": not a size (use a number of MiB, or one with a K, M, "
		  "G, T, P or E suffix, e.g. 512M)" },
		{ "{\"partitions\": [\n  {\"type\": \"root\"},\n  {\"type\": \"esp\", \"size\": true}]}",
		  "3:19: partitions[1].size: expected \"auto\", \"rest\", a size such as \"512M\" "
		  "or a number of MiB, got boolean" },
		{ "{\"contents\": [\n {\"source\": \"a\",\n  \"target\": \"/a\", \"mode\": 644}]}",
		  "3:19: contents[0].mode: expected a string such as \"0644\", got int" },
		{ "{\"partitions\": [{\"type\": \"root\"}, {\"size\": 1}]}",
		  "1:35: partitions[1]: type missing (a role such as esp, swap, root or linux, a "
		  "GPT type GUID or an MBR type byte; a vfat partition may leave it out: "
		  "basic-data)" },
		{ "{\n\n   \"labl\": \"x\"}", "3:4: unknown key \"labl\" (did you mean \"label\"?)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *w = NULL;

		path = spec_file(cases[i].json);
		s = image_spec_new();
		d = (struct diag){ 0 };
		ASSERT_ERR(spec_load_json(s, path, &d), -EINVAL);
		w = xasprintf("%s:%s", path, cases[i].want);
		ASSERT_STR_EQ(d.msg, w);
		spec_file_remove(path);
		image_spec_free(s);
	}
}

TEST(json_whitespace_after_object_is_fine)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;

	ASSERT_OK(load("{\"label\": \"x\"}\n\n  \t\n", &s, &d));
	ASSERT_STR_EQ(s->label, "x");
}

TEST(json_missing_file)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	struct diag d = { 0 };

	ASSERT_ERR(spec_load_json(s, "/nonexistent/spec.json", &d), -ENOENT);
	ASSERT_STR_EQ(d.msg, "/nonexistent/spec.json: cannot read spec file: No such file or "
			     "directory");
}

TEST(json_boot_trees_resolve_against_spec_dir)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	_cleanup_free_ char *dir = NULL, *want = NULL;
	char *path = spec_file("{\"esp\": \"esp-tree\", \"xbootldr\": \"/abs/boot\"}");
	struct diag d = { 0 };

	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	ASSERT_OK(spec_load_json(s, path, &d));
	spec_file_remove(path);
	want = xasprintf("%s/esp-tree", dir);
	ASSERT_STR_EQ(s->esp, want);
	ASSERT_STR_EQ(s->xbootldr, "/abs/boot");
	ASSERT_LOAD_FAILS("{\"esp\": \"\"}", -EINVAL,
			  ": esp \"\": empty path (omit it for an empty partition)");
}

TEST(json_nix_store_keys_resolve_against_spec_dir)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	struct diag d;

	ASSERT_OK(load("{ \"closureInfo\": \"ci\", \"system\": \"/nix/store/x-system\",\n"
		       "  \"channel\": \"/nix/store/y-channel\", \"passwd\": \"pw\",\n"
		       "  \"group\": \"/etc/group\", \"label\": \"L\" }\n",
		       &s, &d));
	ASSERT_TRUE(s->closure_info[0] == '/');
	ASSERT_TRUE(strstr(s->closure_info, "/ci") != NULL);
	ASSERT_STR_EQ(s->system, "/nix/store/x-system");
	ASSERT_STR_EQ(s->channel, "/nix/store/y-channel");
	ASSERT_TRUE(s->copy_channel);
	ASSERT_TRUE(strstr(s->passwd_file, "/pw") != NULL);
	ASSERT_STR_EQ(s->group_file, "/etc/group");
	ASSERT_TRUE(s->label_set);
}

TEST(json_partitions)
{
	_cleanup_(image_spec_freep) struct image_spec *s = NULL;
	const struct spec_partition *p;
	struct diag d;
	char u[UUID_STR_LEN];

	ASSERT_OK(load("{\"partitionTableType\": \"gpt\", \"partitions\": [\n"
		       "  {\"type\": \"esp\", \"size\": \"512M\", \"fs\": \"vfat\", \"contents\": "
		       "\"esp/\", \"label\": \"EFI\", \"fsLabel\": \"ESP\", \"bootable\": true},\n"
		       "  {\"type\": \"swap\", \"size\": 1024, \"fs\": \"swap\", \"uuid\": "
		       "\"00112233-4455-6677-8899-aabbccddeeff\", \"noAuto\": true},\n"
		       "  {\"type\": \"root\", \"fs\": \"ext4\", \"size\": \"auto\", "
		       "\"additionalSpace\": \"2G\", \"minSize\": \"1G\", \"maxSize\": \"8G\", "
		       "\"fsUuid\": \"ffeeddcc-bbaa-9988-7766-554433221100\", \"required\": true, "
		       "\"readOnly\": true, \"growFileSystem\": true, \"label\": null},\n"
		       "  {\"type\": \"0x83\", \"size\": \"rest\", \"contents\": \"/abs/blob\"},\n"
		       "  {\"type\": \"linux\"}\n"
		       "]}",
		       &s, &d));
	ASSERT_EQ(s->partition_table, PART_TABLE_GPT);
	ASSERT_EQ(s->n_partitions, 5);
	p = &s->partitions[0];
	ASSERT_STR_EQ(p->type, "esp");
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_FIXED);
	ASSERT_EQ(p->size_bytes, 512ull << 20);
	ASSERT_STR_EQ(p->fs, "vfat");
	ASSERT_STR_EQ(p->label, "EFI");
	ASSERT_STR_EQ(p->fs_label, "ESP");
	ASSERT_TRUE(p->bootable && !p->required && !p->uuid_set);
	/* relative to the spec file's directory, as every path in it */
	ASSERT_TRUE(strncmp(p->contents, "/tmp/spec-json-test.", 20) == 0);
	ASSERT_STR_EQ(p->contents + strlen(p->contents) - 5, "/esp/");
	p = &s->partitions[1];
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_FIXED);
	ASSERT_EQ(p->size_bytes, 1024ull << 20); /* a number is MiB */
	ASSERT_TRUE(p->uuid_set && p->no_auto && !p->fs_uuid_set);
	uuid_format(p->uuid, u);
	ASSERT_STR_EQ(u, "00112233-4455-6677-8899-aabbccddeeff");
	p = &s->partitions[2];
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_AUTO);
	ASSERT_TRUE(p->additional_space_set);
	ASSERT_EQ(p->additional_space_bytes, 2ull << 30);
	ASSERT_EQ(p->min_bytes, 1ull << 30);
	ASSERT_EQ(p->max_bytes, 8ull << 30);
	ASSERT_TRUE(p->fs_uuid_set && p->required && p->read_only && p->grow_fs && !p->label);
	uuid_format(p->fs_uuid, u);
	ASSERT_STR_EQ(u, "ffeeddcc-bbaa-9988-7766-554433221100");
	p = &s->partitions[3];
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_REST);
	ASSERT_STR_EQ(p->contents, "/abs/blob");
	p = &s->partitions[4];
	ASSERT_STR_EQ(p->type, "linux");
	ASSERT_EQ(p->size_kind, SPEC_PART_SIZE_AUTO); /* the default */
	ASSERT_TRUE(!p->fs && !p->contents && !p->additional_space_set);
	image_spec_free(TAKE_PTR(s));

	/* a vfat partition without a type is a FAT data partition */
	ASSERT_OK(load("{\"partitionTableType\": \"gpt\", \"partitions\": [\n"
		       "  {\"fs\": \"vfat\", \"size\": \"8M\"}]}", &s, &d));
	ASSERT_STR_EQ(s->partitions[0].type, "basic-data");
}

TEST(json_partitions_errors)
{
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\"}, {\"type\": \"swap\"}, "
			  "{\"type\": \"linux\", \"sise\": \"1G\"}]}",
			  -EINVAL, ": partitions[2]: unknown key \"sise\" (did you mean \"size\"?)");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"colour\": 1}]}", -EINVAL,
			  ": partitions[0]: unknown key \"colour\" (use type, label, fsLabel, "
			  "uuid, fsUuid, fs, contents, size, minSize, maxSize, additionalSpace, "
			  "bootable, required, noAuto, readOnly, growFileSystem)");
	ASSERT_LOAD_FAILS("{\"partitions\": {\"type\": \"root\"}}", -EINVAL,
			  ": partitions: expected a list of partitions {type, size, fs, ...}, got "
			  "object");
	ASSERT_LOAD_FAILS("{\"partitions\": [\"root\"]}", -EINVAL,
			  ": partitions[0]: expected an object {type, size, fs, ...}, got string");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"size\": \"1G\"}]}", -EINVAL,
			  ": partitions[0]: type missing (a role such as esp, swap, root or linux, "
			  "a GPT type GUID or an MBR type byte; a vfat partition may leave it "
			  "out: basic-data)");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"\"}]}", -EINVAL,
			  ": partitions[0].type: empty (omit it for the default)");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": 131}]}", -EINVAL,
			  ": partitions[0].type: expected a string, got int");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"size\": \"12X\"}]}", -EINVAL,
			  ": partitions[0].size \"12X\": not a size (use a number of MiB, or one "
			  "with a K, M, G, T, P or E suffix, e.g. 512M)");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"size\": 0}]}", -EINVAL,
			  ": partitions[0].size 0: must be at least 1 MiB (or use \"auto\" or "
			  "\"rest\")");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"size\": \"0\"}]}", -EINVAL,
			  ": partitions[0].size \"0\": must be at least 1 MiB (or use \"auto\" or "
			  "\"rest\")");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"size\": true}]}", -EINVAL,
			  ": partitions[0].size: expected \"auto\", \"rest\", a size such as "
			  "\"512M\" or a number of MiB, got boolean");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"minSize\": [512]}]}", -EINVAL,
			  ": partitions[0].minSize: expected a size such as \"512M\" or a number of "
			  "MiB, got array");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"uuid\": \"nope\"}]}", -EINVAL,
			  ": partitions[0].uuid \"nope\": not a UUID (expected 8-4-4-4-12 hex "
			  "digits)");
	ASSERT_LOAD_FAILS("{\"partitions\": [{\"type\": \"root\", \"bootable\": \"yes\"}]}",
			  -EINVAL, ": partitions[0].bootable: expected true or false, got string");
}

/* A later spec file's list replaces the earlier one; null keeps it. */
TEST(json_partitions_replaced)
{
	_cleanup_(image_spec_freep) struct image_spec *s = image_spec_new();
	char *a = spec_file("{\"partitions\": [{\"type\": \"esp\"}, {\"type\": \"root\"}]}");
	char *b = spec_file("{\"partitions\": [{\"type\": \"linux\"}]}");
	char *c = spec_file("{\"partitions\": null}");
	struct diag d = { 0 };

	ASSERT_OK(spec_load_json(s, a, &d));
	ASSERT_EQ(s->n_partitions, 2);
	ASSERT_OK(spec_load_json(s, b, &d));
	ASSERT_EQ(s->n_partitions, 1);
	ASSERT_STR_EQ(s->partitions[0].type, "linux");
	ASSERT_OK(spec_load_json(s, c, &d));
	ASSERT_EQ(s->n_partitions, 1);
	spec_file_remove(a);
	spec_file_remove(b);
	spec_file_remove(c);
}
