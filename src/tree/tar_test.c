/* tree_add_tar: archives written here with libarchive's writer (pax, as GNU tar --xattrs
 * --acls writes them) or by GNU tar itself, read back into trees and dumped. */
#include "tree/tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree/tree-internal.h"
#include "tree/tree-test.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"

#define TW_CAP (4u << 20)

/* An archive being written into memory. */
struct tw {
	struct archive *a;
	uint8_t *buf;
	size_t used;
};

static void tw_open(struct tw *w, const char *filter)
{
	w->a = archive_write_new();
	w->buf = xmalloc(TW_CAP);
	w->used = 0;
	archive_write_set_format_pax(w->a);
	if (filter && archive_write_add_filter_by_name(w->a, filter) != ARCHIVE_OK)
		abort();
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open_memory(w->a, w->buf, TW_CAP, &w->used) != ARCHIVE_OK)
		abort();
}

static struct archive_entry *tw_entry(const char *path, mode_t type, mode_t perm, int64_t uid,
				      int64_t gid)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	archive_entry_set_mtime(e, 1700000000, 5);
	return e;
}

/* Write e (freed) with data (a regular file's bytes, or NULL). */
static void tw_add(struct tw *w, struct archive_entry *e, const char *data)
{
	if (data)
		archive_entry_set_size(e, (la_int64_t)strlen(data));
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		abort();
	if (data && archive_write_data(w->a, data, strlen(data)) != (la_ssize_t)strlen(data))
		abort();
	archive_entry_free(e);
}

static void tw_file(struct tw *w, const char *path, mode_t perm, const char *data)
{
	tw_add(w, tw_entry(path, AE_IFREG, perm, 0, 0), data);
}

static void tw_close(struct tw *w)
{
	if (archive_write_close(w->a) != ARCHIVE_OK)
		abort();
	archive_write_free(w->a);
}

/* The tree of an archive in memory, finalized; NULL (message in d) when refused. */
static struct tree *tw_tree(struct tw *w, const struct tree_add_opts *o, struct diag *d)
{
	struct tree *t = tree_new();

	if (tree_add_tar_memory(t, w->buf, w->used, "test.tar", "/", o, NULL, d) < 0 ||
	    tree_finalize(t, NULL, d) < 0)
		t = tree_free(t);
	free(w->buf);
	w->buf = NULL;
	return t;
}

static char *node_bytes(const struct tree *t, const char *path)
{
	const struct tree_node *n = tree_lookup(t, path);
	char *s;

	if (!n || n->type != TREE_REG)
		return NULL;
	s = xcalloc(1, (size_t)n->size + 1);
	if (tree_node_pread(n, s, (size_t)n->size, 0) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

TEST(owners_modes_and_every_type)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_free_ char *dump = NULL, *shadow = NULL;
	struct archive_entry *e;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	tw_add(&w, tw_entry("./", AE_IFDIR, 0755, 0, 0), NULL);
	tw_add(&w, tw_entry("./etc/", AE_IFDIR, 0750, 1, 2), NULL);
	tw_add(&w, tw_entry("./etc/shadow", AE_IFREG, 0600, 0, 42), "root:*:1::::::\n");
	tw_add(&w, tw_entry("./bin/su", AE_IFREG, 04755, 0, 0), "ELF");
	tw_add(&w, tw_entry("./tmp", AE_IFDIR, 01777, 0, 0), NULL);
	e = tw_entry("./bin/sh", AE_IFLNK, 0777, 0, 0);
	archive_entry_set_symlink(e, "dash");
	tw_add(&w, e, NULL);
	e = tw_entry("./dev/null", AE_IFCHR, 0666, 0, 0);
	archive_entry_set_rdevmajor(e, 1);
	archive_entry_set_rdevminor(e, 3);
	tw_add(&w, e, NULL);
	e = tw_entry("./dev/sda", AE_IFBLK, 0660, 0, 6);
	archive_entry_set_rdevmajor(e, 8);
	archive_entry_set_rdevminor(e, 0);
	tw_add(&w, e, NULL);
	tw_add(&w, tw_entry("./run/initctl", AE_IFIFO, 0600, 0, 0), NULL);
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);
	dump = tree_dump(t);
	ASSERT_STR_EQ(dump, "/ dir 0755 0:0 1700000000.000000005\n"
			    "/bin dir 0755 0:0 0.000000000\n"
			    "/bin/sh lnk 0777 0:0 1700000000.000000005 size=4 ->dash\n"
			    "/bin/su reg 4755 0:0 1700000000.000000005 size=3\n"
			    "/dev dir 0755 0:0 0.000000000\n"
			    "/dev/null chr 0666 0:0 1700000000.000000005 dev=1,3\n"
			    "/dev/sda blk 0660 0:6 1700000000.000000005 dev=8,0\n"
			    "/etc dir 0750 1:2 1700000000.000000005\n"
			    "/etc/shadow reg 0600 0:42 1700000000.000000005 size=15\n"
			    "/run dir 0755 0:0 0.000000000\n"
			    "/run/initctl fifo 0600 0:0 1700000000.000000005\n"
			    "/tmp dir 1777 0:0 1700000000.000000005\n"
			    "nodes=12 inodes=12 bytes=18\n");
	shadow = node_bytes(t, "/etc/shadow");
	ASSERT_TRUE(shadow);
	ASSERT_STR_EQ(shadow, "root:*:1::::::\n");
	/* the archive's owners are host owners: --owner maps them */
	ASSERT_TRUE(tree_lookup(t, "/etc/shadow")->owner_from_host);
	ASSERT_TRUE(!tree_lookup(t, "/bin")->owner_from_host); /* made up: a missing parent */
}

/* An id no Linux owner can have becomes the kernel's overflow id, never root. */
TEST(impossible_owner_ids_become_nobody)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_free_ char *dump = NULL;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	tw_add(&w, tw_entry("./", AE_IFDIR, 0755, 0, 0), NULL);
	tw_add(&w, tw_entry("./a", AE_IFREG, 0644, UINT32_MAX, (int64_t)1 << 33), "x");
	tw_add(&w, tw_entry("./b", AE_IFREG, 0644, 4294967294, 7), "y");
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);
	dump = tree_dump(t);
	ASSERT_STR_EQ(dump, "/ dir 0755 0:0 1700000000.000000005\n"
			    "/a reg 0644 65534:65534 1700000000.000000005 size=1\n"
			    "/b reg 0644 4294967294:7 1700000000.000000005 size=1\n"
			    "nodes=3 inodes=3 bytes=2\n");
}

TEST(xattrs_caps_and_acls_as_the_kernel_stores_them)
{
	static const uint8_t cap[20] = { 1, 0, 0, 2, 0, 0x20 }; /* cap_net_raw+ep */
	/* version 2; USER_OBJ rw, USER 1000 rw, GROUP_OBJ r-x, MASK r, OTHER r */
	static const uint8_t acl[] = {
		2, 0, 0, 0, 1, 0, 6, 0,	   0xff, 0xff, 0xff, 0xff, 2, 0, 6, 0,	  0xe8, 3, 0, 0,
		4, 0, 5, 0, 0xff, 0xff, 0xff, 0xff, 0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	};
	/* default ACL of a directory: its own base entries and GROUP 100 r-x */
	static const uint8_t def[] = {
		2, 0, 0, 0, 1, 0, 7, 0,	   0xff, 0xff, 0xff, 0xff, 4, 0, 5, 0,	  0xff, 0xff, 0xff, 0xff,
		8, 0, 5, 0, 100, 0, 0, 0, 0x10, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
	};
	_cleanup_(tree_freep) struct tree *t = NULL;
	const struct tree_xattr *x;
	const struct tree_node *n;
	struct archive_entry *e;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	e = tw_entry("ping", AE_IFREG, 0755, 0, 0);
	archive_entry_xattr_add_entry(e, "user.foo", "bar", 3);
	archive_entry_xattr_add_entry(e, "security.capability", cap, sizeof(cap));
	tw_add(&w, e, "x");
	/* ACL text as GNU tar --acls writes it: the mode's group bits are the owning group's
	 * entry, the mask is r-- */
	e = tw_entry("m", AE_IFREG, 0654, 0, 0);
	ASSERT_EQ(archive_entry_acl_from_text(e, "user::rw-,user:1000:rw-,group::r-x,"
						  "mask::r--,other::r--",
					      ARCHIVE_ENTRY_ACL_TYPE_ACCESS),
		  ARCHIVE_OK);
	tw_add(&w, e, "");
	e = tw_entry("d", AE_IFDIR, 0755, 0, 0);
	ASSERT_EQ(archive_entry_acl_from_text(e, "user::rwx,group::r-x,group:100:r-x,mask::r-x,"
						  "other::r-x",
					      ARCHIVE_ENTRY_ACL_TYPE_DEFAULT),
		  ARCHIVE_OK);
	tw_add(&w, e, NULL);
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);

	n = tree_lookup(t, "/ping");
	ASSERT_EQ(tree_node_n_xattrs(n), 2);
	x = tree_node_xattrs(n);
	ASSERT_STR_EQ(x[0].name, "security.capability"); /* sorted by name */
	ASSERT_EQ(x[0].len, sizeof(cap));
	ASSERT_MEM_EQ(x[0].value, cap, sizeof(cap));
	ASSERT_STR_EQ(x[1].name, "user.foo");
	ASSERT_MEM_EQ(x[1].value, "bar", 3);

	n = tree_lookup(t, "/m");
	ASSERT_EQ(n->mode, 0644); /* group bits: the mask, as in the kernel */
	ASSERT_EQ(tree_node_n_xattrs(n), 1);
	x = tree_node_xattrs(n);
	ASSERT_STR_EQ(x[0].name, "system.posix_acl_access");
	ASSERT_EQ(x[0].len, sizeof(acl));
	ASSERT_MEM_EQ(x[0].value, acl, sizeof(acl));

	n = tree_lookup(t, "/d");
	ASSERT_EQ(n->mode, 0755);
	ASSERT_EQ(tree_node_n_xattrs(n), 1);
	x = tree_node_xattrs(n);
	ASSERT_STR_EQ(x[0].name, "system.posix_acl_default");
	ASSERT_EQ(x[0].len, sizeof(def));
	ASSERT_MEM_EQ(x[0].value, def, sizeof(def));
}

TEST(acl_with_a_user_name_is_refused_naming_the_fix)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct archive_entry *e;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	e = tw_entry("f", AE_IFREG, 0644, 0, 0);
	ASSERT_EQ(archive_entry_acl_from_text(e, "user::rw-,user:alice:r--,group::r--,mask::r--,"
						  "other::r--",
					      ARCHIVE_ENTRY_ACL_TYPE_ACCESS),
		  ARCHIVE_OK);
	tw_add(&w, e, "");
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(!t);
	ASSERT_TRUE(strstr(d.msg, "test.tar: f: ") && strstr(d.msg, "tar --xattrs"));
}

TEST(hard_links_group_and_a_later_entry_breaks_one)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_free_ char *dump = NULL, *b = NULL;
	struct archive_entry *e;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	tw_file(&w, "a", 0644, "data");
	e = tw_entry("b", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "a");
	tw_add(&w, e, NULL);
	e = tw_entry("c", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "./b"); /* a link to a link: the same inode */
	tw_add(&w, e, NULL);
	e = tw_entry("d", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "/c");
	tw_add(&w, e, NULL);
	tw_file(&w, "d", 0600, "new"); /* replaces d: tar -x unlinks it first */
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);
	dump = tree_dump(t);
	ASSERT_STR_EQ(dump, "/ dir 0755 0:0 0.000000000\n"
			    "/a reg 0644 0:0 1700000000.000000005 size=4 nlink=3\n"
			    "/b reg 0644 0:0 1700000000.000000005 size=4 link=/a nlink=3\n"
			    "/c reg 0644 0:0 1700000000.000000005 size=4 link=/a nlink=3\n"
			    "/d reg 0600 0:0 1700000000.000000005 size=3\n"
			    "nodes=5 inodes=3 bytes=7\n");
	b = node_bytes(t, "/c");
	ASSERT_STR_EQ(b, "data");
}

TEST(hard_link_to_a_missing_path_or_directory_is_refused)
{
	struct archive_entry *e;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	e = tw_entry("b", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "nowhere");
	tw_add(&w, e, NULL);
	tw_close(&w);
	ASSERT_TRUE(!tw_tree(&w, NULL, &d));
	ASSERT_TRUE(strstr(d.msg, "not earlier in the archive"));

	tw_open(&w, NULL);
	tw_add(&w, tw_entry("dir", AE_IFDIR, 0755, 0, 0), NULL);
	e = tw_entry("b", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "dir");
	tw_add(&w, e, NULL);
	tw_close(&w);
	ASSERT_TRUE(!tw_tree(&w, NULL, &d));
	ASSERT_TRUE(strstr(d.msg, "hard link to a directory"));
}

TEST(paths_dotdot_refused_absolute_made_relative_parents_made)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_free_ char *dump = NULL;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	tw_file(&w, "/etc/passwd", 0644, "p");
	tw_file(&w, "./a//./b/c", 0644, "c");
	tw_add(&w, tw_entry("a/b", AE_IFDIR, 0700, 5, 5), NULL); /* dir onto dir: metadata */
	tw_file(&w, "x", 0644, "1");
	tw_file(&w, "x", 0640, "22"); /* later wins */
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);
	dump = tree_dump(t);
	ASSERT_STR_EQ(dump, "/ dir 0755 0:0 0.000000000\n"
			    "/a dir 0755 0:0 0.000000000\n"
			    "/a/b dir 0700 5:5 1700000000.000000005\n"
			    "/a/b/c reg 0644 0:0 1700000000.000000005 size=1\n"
			    "/etc dir 0755 0:0 0.000000000\n"
			    "/etc/passwd reg 0644 0:0 1700000000.000000005 size=1\n"
			    "/x reg 0640 0:0 1700000000.000000005 size=2\n"
			    "nodes=7 inodes=7 bytes=4\n");

	tw_open(&w, NULL);
	tw_file(&w, "ok", 0644, "1");
	tw_file(&w, "a/../../etc/shadow", 0644, "evil");
	tw_close(&w);
	ASSERT_TRUE(!tw_tree(&w, NULL, &d));
	ASSERT_STR_EQ(d.msg, "test.tar: a/../../etc/shadow: a \"..\" component; refused");

	tw_open(&w, NULL);
	tw_file(&w, "f", 0644, "1");
	tw_file(&w, "f/g", 0644, "2");
	tw_close(&w);
	ASSERT_TRUE(!tw_tree(&w, NULL, &d));
	ASSERT_TRUE(strstr(d.msg, "f/g: a parent is not a directory"));

	tw_open(&w, NULL);
	tw_add(&w, tw_entry("d", AE_IFDIR, 0755, 0, 0), NULL);
	tw_file(&w, "d", 0644, "2");
	tw_close(&w);
	ASSERT_TRUE(!tw_tree(&w, NULL, &d));
	ASSERT_TRUE(strstr(d.msg, "replaces a directory"));
}

TEST(compressed_input_and_owner_override)
{
	static const char *const filters[] = { "gzip", "zstd", "xz", "bzip2" };

	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		_cleanup_(tree_freep) struct tree *t = NULL;
		_cleanup_free_ char *b = NULL;
		struct diag d = { 0 };
		struct tw w;

		tw_open(&w, filters[i]);
		tw_add(&w, tw_entry("f", AE_IFREG, 0644, 1000, 1000), filters[i]);
		tw_close(&w);
		t = tw_tree(&w, &(struct tree_add_opts){ .set_owner = true, .uid = 7, .gid = 8 },
			    &d);
		ASSERT_TRUE(t);
		b = node_bytes(t, "/f");
		ASSERT_STR_EQ(b, filters[i]);
		ASSERT_EQ(tree_lookup(t, "/f")->uid, 7);
		ASSERT_EQ(tree_lookup(t, "/f")->gid, 8);
	}
}

TEST(not_a_tar_is_refused)
{
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	static const char junk[1024] = "PK\x03\x04 this is no tar";

	ASSERT_ERR(tree_add_tar_memory(t, junk, sizeof(junk), "x.zip", "/", NULL, NULL, &d),
		   -EBADMSG);
	ASSERT_TRUE(strstr(d.msg, "x.zip: not a tar archive"));
	ASSERT_ERR(tree_add_tar(t, "/nonexistent/x.tar", "/", NULL, NULL, &d), -ENOENT);
	ASSERT_STR_EQ(d.msg, "/nonexistent/x.tar does not exist");
	ASSERT_ERR(tree_add_tar(t, "/", "/", NULL, NULL, &d), -EISDIR);
	ASSERT_STR_EQ(d.msg, "/: a directory, not a tar archive; give it as --root DIR");
}

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* GNU tar's own sparse encoding (pax GNU.sparse 1.0), from a file with a hole. */
TEST(sparse_file_from_gnu_tar)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *src = tt_path("%s/src", dir), *f = tt_path("%s/src/s", dir),
			    *ar = tt_path("%s/s.tar", dir), *b = NULL;
	_cleanup_(tree_freep) struct tree *t = tree_new();
	const struct tree_extent *x;
	const struct tree_node *n;
	struct diag d = { 0 };
	size_t n_x;
	int fd;

	ASSERT_OK(mkdir(src, 0755));
	fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pwrite(fd, "head", 4, 0), 4);
	ASSERT_EQ(pwrite(fd, "tail", 4, 1 << 20), 4);
	ASSERT_OK(ftruncate(fd, 3 << 20));
	close(fd);
	if (run((char *[]){ "tar", "--format=pax", "--sparse", "-C", src, "-cf", ar, ".", NULL }) !=
	    0)
		TEST_SKIP("GNU tar is not available");
	ASSERT_OK(tree_add_tar(t, ar, "/", NULL, dir, &d));
	ASSERT_OK(tree_finalize(t, NULL, &d));
	n = tree_lookup(t, "/s");
	ASSERT_EQ(n->size, 3 << 20);
	ASSERT_TRUE(n->sparse);
	x = tree_node_sparse_data(n, &n_x);
	ASSERT_EQ(n_x, 2);
	ASSERT_EQ(x[0].off, 0);
	ASSERT_EQ(x[0].len, 4096);
	ASSERT_EQ(x[1].off, 1 << 20);
	ASSERT_EQ(x[1].len, 4096);
	b = xcalloc(1, 8);
	ASSERT_OK(tree_node_pread(n, b, 4, 1 << 20));
	ASSERT_STR_EQ(b, "tail");
	ASSERT_OK(tree_node_pread(n, b, 4, 4096));
	ASSERT_MEM_EQ(b, "\0\0\0\0", 4); /* a hole reads as zeros */
	ASSERT_OK(tree_node_pread(n, b, 4, (3 << 20) - 4));
	ASSERT_MEM_EQ(b, "\0\0\0\0", 4);
}

TEST(replacing_a_link_groups_first_name_keeps_the_others_linked)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	_cleanup_free_ char *dump = NULL;
	struct archive_entry *e;
	struct diag d = { 0 };
	struct tw w;

	tw_open(&w, NULL);
	tw_file(&w, "a", 0644, "data");
	e = tw_entry("b", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "a");
	tw_add(&w, e, NULL);
	e = tw_entry("c", AE_IFREG, 0644, 0, 0);
	archive_entry_set_hardlink(e, "a");
	tw_add(&w, e, NULL);
	tw_file(&w, "a", 0600, "other");
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);
	dump = tree_dump(t);
	ASSERT_STR_EQ(dump, "/ dir 0755 0:0 0.000000000\n"
			    "/a reg 0600 0:0 1700000000.000000005 size=5\n"
			    "/b reg 0644 0:0 1700000000.000000005 size=4 nlink=2\n"
			    "/c reg 0644 0:0 1700000000.000000005 size=4 link=/b nlink=2\n"
			    "nodes=4 inodes=3 bytes=9\n");
}

/* contents' user names resolve through the archive's own /etc/passwd (bytes in the spill
 * file). */
TEST(passwd_lookup_reads_the_spill_file)
{
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };
	uint32_t id = 0;
	struct tw w;

	tw_open(&w, "zstd");
	tw_file(&w, "etc/passwd", 0644, "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/:\n");
	tw_close(&w);
	t = tw_tree(&w, NULL, &d);
	ASSERT_TRUE(t);
	ASSERT_OK(passwd_lookup_id(t, "/etc/passwd", "alice", &id));
	ASSERT_EQ(id, 1001);
	ASSERT_ERR(passwd_lookup_id(t, "/etc/passwd", "bob", &id), -ESRCH);
}
