#include "tree/tree.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tree/tree-test.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"

static int set_mtime(const char *path, time_t sec, long nsec)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { sec, nsec } };

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int make_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return close(fd) < 0 ? -errno : 0;
}

static struct tree *scan(const char *dir, struct diag *d)
{
	struct tree *t = tree_new();

	if (tree_add_host_dir(t, dir, "/", NULL, d) < 0 || tree_finalize(t, NULL, d) < 0) {
		fprintf(stderr, "  scan %s: %s\n", dir, d->msg);
		return tree_free(t);
	}
	return t;
}

TEST(every_node_type)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *f = tt_path("%s/file", dir), *l = tt_path("%s/link", dir),
			    *p = tt_path("%s/fifo", dir), *s = tt_path("%s/sock", dir),
			    *sub = tt_path("%s/sub", dir), *c = tt_path("%s/chr", dir),
			    *b = tt_path("%s/blk", dir);
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };
	struct tree_node *n;
	bool root = geteuid() == 0;

	ASSERT_OK(tt_write(f, "hello world", 0640));
	ASSERT_OK(symlink("file with spaces/../x", l));
	ASSERT_OK(mkfifo(p, 0600));
	ASSERT_OK(make_socket(s));
	ASSERT_OK(mkdir(sub, 0710));
	ASSERT_OK(chmod(sub, 03710)); /* setgid + sticky survive */
	if (root) {
		ASSERT_OK(mknod(c, S_IFCHR | 0620, makedev(4, 64)));
		ASSERT_OK(chmod(c, 0620)); /* past the umask */
		ASSERT_OK(mknod(b, S_IFBLK | 0660, makedev(259, 1048575)));
		ASSERT_OK(lchown(f, 1234, 5678));
	}
	ASSERT_OK(set_mtime(f, 1600000000, 123456789));
	ASSERT_OK(set_mtime(l, 1500000000, 5));
	ASSERT_OK(chmod(dir, 0751));
	t = scan(dir, &d);
	ASSERT_TRUE(t != NULL);

	ASSERT_EQ(t->root->mode, 0751); /* the root takes the host dir's mode */
	n = tree_lookup(t, "/file");
	ASSERT_EQ(n->type, TREE_REG);
	ASSERT_EQ(n->mode, 0640);
	ASSERT_EQ(n->size, 11);
	{
		_cleanup_free_ char *sp = tree_node_src_path(n);

		ASSERT_STR_EQ(sp, f);
		ASSERT_TRUE(n->src_in_parent); /* no per-file path string */
	}
	ASSERT_EQ(n->mtime_sec, 1600000000);
	ASSERT_EQ(n->mtime_nsec, 123456789);
	{
		struct stat sb;

		ASSERT_OK(lstat(f, &sb));
		ASSERT_EQ(n->src_stamp, tree_src_stamp(&sb)); /* for emit's -ESTALE check */
	}
	ASSERT_TRUE(!n->sparse);
	ASSERT_TRUE(n->owner_from_host);
	if (root) {
		ASSERT_EQ(n->uid, 1234);
		ASSERT_EQ(n->gid, 5678);
	}
	n = tree_lookup(t, "/link");
	ASSERT_EQ(n->type, TREE_SYMLINK);
	ASSERT_EQ(n->size, 21);
	ASSERT_STR_EQ(n->link_target, "file with spaces/../x");
	ASSERT_EQ(n->mtime_sec, 1500000000);
	ASSERT_TRUE(n->src_path == NULL);
	ASSERT_EQ(tree_lookup(t, "/fifo")->type, TREE_FIFO);
	ASSERT_EQ(tree_lookup(t, "/fifo")->mode, 0600);
	ASSERT_EQ(tree_lookup(t, "/sock")->type, TREE_SOCK);
	n = tree_lookup(t, "/sub");
	ASSERT_EQ(n->type, TREE_DIR);
	ASSERT_EQ(n->mode, 03710);
	{
		/* a directory names the host directory it came from, through its parent's */
		_cleanup_free_ char *sp = tree_node_src_path(n);
		_cleanup_free_ char *want = xasprintf("%s/sub", dir);

		ASSERT_STR_EQ(sp, want);
		ASSERT_TRUE(n->src_in_parent && n->src_path == NULL);
	}
	if (root) {
		n = tree_lookup(t, "/chr");
		ASSERT_EQ(n->type, TREE_CHR);
		ASSERT_EQ(n->rdev_major, 4);
		ASSERT_EQ(n->rdev_minor, 64);
		ASSERT_EQ(tree_node_st_mode(n), S_IFCHR | 0620);
		n = tree_lookup(t, "/blk");
		ASSERT_EQ(n->type, TREE_BLK);
		ASSERT_EQ(n->rdev_major, 259);
		ASSERT_EQ(n->rdev_minor, 1048575);
	} else
		test_skip("device nodes not checked: not root");
}

static void run_as_nobody(const char *dir, int want_err, const char *want, int *_failed);

TEST(xattrs_sorted_and_kept)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *f = tt_path("%s/f", dir), *sub = tt_path("%s/sub", dir);
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };
	struct tree_node *n;
	/* VFS_CAP_REVISION_2, CAP_NET_RAW (13) permitted */
	static const uint8_t cap[20] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x20 };
	bool root = geteuid() == 0, acl;

	ASSERT_OK(tt_write(f, "x", 0755));
	ASSERT_OK(mkdir(sub, 0755));
	ASSERT_OK(setxattr(f, "user.zeta", "2", 1, 0));
	ASSERT_OK(setxattr(f, "user.Alpha", "\x00\xff", 2, 0));
	ASSERT_OK(setxattr(f, "user.alpha", "", 0, 0));
	ASSERT_OK(setxattr(sub, "user.dir", "d", 1, 0));
	ASSERT_OK(setxattr(dir, "user.top", "t", 1, 0));
	if (root) {
		ASSERT_OK(setxattr(f, "security.capability", cap, sizeof(cap), 0));
		ASSERT_OK(setxattr(sub, "trusted.t", "tt", 2, 0));
	}
	{
		_cleanup_free_ char *cmd = tt_path("setfacl -m u:1234:r %s/sub 2>/dev/null", dir);

		acl = system(cmd) == 0;
	}
	t = scan(dir, &d);
	ASSERT_TRUE(t != NULL);
	n = tree_lookup(t, "/f");
	ASSERT_EQ(tree_node_n_xattrs(n), root ? 4 : 3);
	if (root) {
		ASSERT_STR_EQ(tree_node_xattrs(n)[0].name, "security.capability");
		ASSERT_EQ(tree_node_xattrs(n)[0].len, 20);
		ASSERT_MEM_EQ(tree_node_xattrs(n)[0].value, cap, 20);
		n->rare->xattrs++; /* look at the rest; restored below */
	}
	ASSERT_STR_EQ(tree_node_xattrs(n)[0].name, "user.Alpha");
	ASSERT_EQ(tree_node_xattrs(n)[0].len, 2);
	ASSERT_MEM_EQ(tree_node_xattrs(n)[0].value, "\x00\xff", 2);
	ASSERT_STR_EQ(tree_node_xattrs(n)[1].name, "user.alpha");
	ASSERT_EQ(tree_node_xattrs(n)[1].len, 0);
	ASSERT_STR_EQ(tree_node_xattrs(n)[2].name, "user.zeta");
	ASSERT_MEM_EQ(tree_node_xattrs(n)[2].value, "2", 1);
	if (root)
		n->rare->xattrs--;
	n = tree_lookup(t, "/sub");
	ASSERT_EQ(tree_node_n_xattrs(n), 1 + acl + root);
	if (acl) {
		ASSERT_STR_EQ(tree_node_xattrs(n)[0].name, "system.posix_acl_access");
		/* header + user_obj, user, group, mask, other */
		ASSERT_EQ(tree_node_xattrs(n)[0].len, 4 + 5 * 8);
	}
	if (root)
		ASSERT_STR_EQ(tree_node_xattrs(n)[acl].name, "trusted.t");
	ASSERT_STR_EQ(tree_node_xattrs(n)[tree_node_n_xattrs(n) - 1].name, "user.dir");
	ASSERT_EQ(tree_node_n_xattrs(t->root), 1);
	ASSERT_STR_EQ(tree_node_xattrs(t->root)[0].name, "user.top");
	if (root) {
		/* trusted.* is invisible to an unprivileged reader: skipped, not an error */
		ASSERT_OK(chmod(dir, 0755));
		run_as_nobody(dir, 0, "", _failed);
	}
}

TEST(hard_links_grouped)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *a = tt_path("%s/a", dir), *sub = tt_path("%s/sub", dir),
			    *b = tt_path("%s/sub/b", dir), *c = tt_path("%s/c", dir),
			    *single = tt_path("%s/single", dir);
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };
	struct tree_node *na, *nb, *nc;

	ASSERT_OK(mkdir(sub, 0755));
	ASSERT_OK(tt_write(c, "shared bytes", 0644));
	ASSERT_OK(link(c, a));
	ASSERT_OK(link(c, b));
	ASSERT_OK(tt_write(single, "1", 0644));
	t = scan(dir, &d);
	ASSERT_TRUE(t != NULL);
	na = tree_lookup(t, "/a");
	nb = tree_lookup(t, "/sub/b");
	nc = tree_lookup(t, "/c");
	ASSERT_TRUE(na->hardlink == NULL);
	ASSERT_TRUE(nc->hardlink == na); /* preorder: /a, /c, /single, /sub, /sub/b */
	ASSERT_TRUE(nb->hardlink == na);
	ASSERT_EQ(na->n_links, 3);
	ASSERT_EQ(tree_lookup(t, "/single")->n_links, 1);
	ASSERT_EQ(t->n_nodes, 6);
	ASSERT_EQ(t->n_inodes, 4);
	ASSERT_EQ(t->total_bytes, 13);
}

TEST(sparse_file_data_ranges)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *s = tt_path("%s/sparse", dir), *h = tt_path("%s/hole", dir),
			    *e = tt_path("%s/empty", dir);
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };
	struct tree_node *n;
	int fd;

	fd = open(s, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(ftruncate(fd, 10 << 20));
	ASSERT_EQ(pwrite(fd, "middle", 6, (5 << 20) + 100), 6);
	close(fd);
	fd = open(h, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(ftruncate(fd, 1 << 20));
	close(fd);
	ASSERT_OK(tt_write(e, "", 0644));
	t = scan(dir, &d);
	ASSERT_TRUE(t != NULL);
	n = tree_lookup(t, "/sparse");
	ASSERT_EQ(n->size, 10 << 20);
	ASSERT_TRUE(n->sparse);
	ASSERT_EQ(n->rare->n_data, 1);
	ASSERT_EQ(n->rare->data[0].off, 5 << 20);
	ASSERT_EQ(n->rare->data[0].len, 4096);
	n = tree_lookup(t, "/hole");
	ASSERT_TRUE(n->sparse);
	ASSERT_TRUE(!n->rare || n->rare->n_data == 0);
	n = tree_lookup(t, "/empty");
	ASSERT_TRUE(!n->sparse);
	ASSERT_EQ(n->size, 0);
}

TEST(odd_names)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	char longname[256];
	_cleanup_free_ char *a = tt_path("%s/with space", dir), *b = tt_path("%s/ünïcødé ✓", dir),
			    *c = NULL, *e = tt_path("%s/a\xff", dir), *f = tt_path("%s/B", dir),
			    *g = tt_path("%s/a", dir);
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };

	memset(longname, 'L', 255);
	longname[255] = '\0';
	c = tt_path("%s/%s", dir, longname);
	ASSERT_OK(tt_write(a, "", 0644));
	ASSERT_OK(tt_write(b, "", 0644));
	ASSERT_OK(tt_write(c, "", 0644));
	ASSERT_OK(tt_write(e, "", 0644));
	ASSERT_OK(tt_write(f, "", 0644));
	ASSERT_OK(tt_write(g, "", 0644));
	t = scan(dir, &d);
	ASSERT_TRUE(t != NULL);
	ASSERT_EQ(t->n_nodes, 7);
	ASSERT_STR_EQ(t->nodes[1]->name, "B");
	ASSERT_STR_EQ(t->nodes[2]->name, longname);
	ASSERT_STR_EQ(t->nodes[3]->name, "a");
	ASSERT_STR_EQ(t->nodes[4]->name, "a\xff");
	ASSERT_STR_EQ(t->nodes[5]->name, "with space");
	ASSERT_STR_EQ(t->nodes[6]->name, "ünïcødé ✓");
	ASSERT_EQ(t->nodes[2]->name_len, 255);
}

/* Deeper than PATH_MAX: 2000 levels of "ddd/" is 8000 bytes. */
TEST(deep_tree)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_(tree_freep) struct tree *t = NULL;
	struct diag d = { 0 };
	const struct tree_node *n;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), depth = 0;

	ASSERT_TRUE(fd >= 0);
	for (int i = 0; i < 2000; i++) {
		int next;

		ASSERT_OK(mkdirat(fd, "ddd", 0755));
		next = openat(fd, "ddd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ASSERT_TRUE(next >= 0);
		if (i == 1000) {
			int f = openat(fd, "mid", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

			ASSERT_TRUE(f >= 0);
			close(f);
		}
		close(fd);
		fd = next;
	}
	{
		int f = openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		ASSERT_TRUE(f >= 0);
		ASSERT_EQ(write(f, "deep", 4), 4);
		ASSERT_OK(fsetxattr(f, "user.deep", "1", 1, 0));
		close(f);
	}
	close(fd);
	t = scan(dir, &d);
	ASSERT_TRUE(t != NULL);
	ASSERT_EQ(t->n_nodes, 1 + 2000 + 2);
	for (n = t->root; n->n_children > 0; n = n->children[0])
		depth++;
	ASSERT_EQ(depth, 2001);
	ASSERT_STR_EQ(n->name, "bottom");
	ASSERT_EQ(n->size, 4);
	ASSERT_EQ(tree_node_n_xattrs(n), 1);
	{
		_cleanup_free_ char *sp = tree_node_src_path(n);

		ASSERT_EQ(strlen(sp), strlen(dir) + 2000 * 4 + 7);
	}
}

TEST(missing_source_and_collisions)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *missing = tt_path("%s/nope", dir), *a = tt_path("%s/a", dir),
			    *b = tt_path("%s/b", dir), *ad = tt_path("%s/a/d", dir),
			    *bd = tt_path("%s/b/d", dir), *af = tt_path("%s/a/d/f", dir),
			    *bf = tt_path("%s/b/d/f", dir), *bg = tt_path("%s/b/d/g", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };
	struct tree_node *n;

	ASSERT_ERR(tree_add_host_dir(t, missing, "/", NULL, &d), -ENOENT);
	ASSERT_TRUE(strstr(d.msg, missing) != NULL);
	ASSERT_TRUE(strstr(d.msg, "does not exist") != NULL);
	ASSERT_ERR(tree_add_host_node(t, missing, "/x", NULL, &d), -ENOENT);

	ASSERT_OK(mkdir(a, 0755));
	ASSERT_OK(mkdir(b, 0755));
	ASSERT_OK(mkdir(ad, 0700));
	ASSERT_OK(mkdir(bd, 0750));
	ASSERT_OK(tt_write(af, "a", 0644));
	ASSERT_OK(tt_write(bg, "b", 0644));
	ASSERT_OK(tree_add_host_dir(t, a, "/", NULL, &d));
	ASSERT_OK(tree_add_host_dir(t, b, "/", NULL, &d)); /* directories merge */
	n = tree_lookup(t, "/d");
	ASSERT_EQ(n->n_children, 2);
	ASSERT_EQ(n->mode, 0750); /* the later source's attributes win, as rsync -a */
	ASSERT_TRUE(tree_lookup(t, "/d/f") && tree_lookup(t, "/d/g"));
	ASSERT_OK(tt_write(bf, "again", 0644));
	ASSERT_ERR(tree_add_host_dir(t, b, "/", NULL, &d), -EEXIST);
	ASSERT_TRUE(strstr(d.msg, bf) != NULL);
	ASSERT_TRUE(strstr(d.msg, "/d/f") != NULL);
	/* a file onto an existing file, and a directory onto a file */
	ASSERT_ERR(tree_add_host_node(t, bf, "/d/f", NULL, &d), -EEXIST);
	ASSERT_ERR(tree_add_host_dir(t, b, "/d/f", NULL, &d), -EEXIST);
	ASSERT_TRUE(strstr(d.msg, "/d/f") != NULL);
}

TEST(add_host_node_with_mode_and_owner)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *f = tt_path("%s/f", dir), *l = tt_path("%s/l", dir),
			    *sub = tt_path("%s/sub", dir), *sf = tt_path("%s/sub/x", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct tree_add_opts o = { .set_mode = true, .mode = 0604, .set_owner = true, .uid = 7,
				   .gid = 8 };
	struct diag d = { 0 };
	struct tree_node *n;

	ASSERT_OK(tt_write(f, "data", 0755));
	ASSERT_OK(symlink("f", l));
	ASSERT_OK(mkdir(sub, 0700));
	ASSERT_OK(tt_write(sf, "x", 0600));
	ASSERT_OK(tree_add_host_node(t, f, "/opt/file", &o, &d));
	ASSERT_OK(tree_add_host_node(t, l, "/opt/link", &o, &d));
	ASSERT_OK(tree_add_host_node(t, sub, "/opt/dir", &o, &d));
	n = tree_lookup(t, "/opt");
	ASSERT_EQ(n->mode, 0755); /* created parents */
	ASSERT_EQ(n->uid, 0);
	ASSERT_EQ(n->mtime_sec, 0);
	n = tree_lookup(t, "/opt/file");
	ASSERT_EQ(n->mode, 0604);
	ASSERT_EQ(n->uid, 7);
	ASSERT_EQ(n->gid, 8);
	ASSERT_TRUE(!n->owner_from_host);
	ASSERT_STR_EQ(n->src_path, f);
	n = tree_lookup(t, "/opt/link");
	ASSERT_EQ(n->type, TREE_SYMLINK);
	ASSERT_EQ(n->mode, 0777);
	ASSERT_EQ(n->uid, 7);
	n = tree_lookup(t, "/opt/dir");
	ASSERT_EQ(n->mode, 0604);
	n = tree_lookup(t, "/opt/dir/x");
	ASSERT_EQ(n->mode, 0604);
	ASSERT_EQ(n->gid, 8);
}

static void run_as_nobody(const char *dir, int want_err, const char *want, int *_failed)
{
	pid_t pid;
	int status;
	int pfd[2];
	char msg[1024] = "";
	ssize_t got;

	ASSERT_OK(pipe(pfd));
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		struct tree *t = tree_new();
		struct diag d = { 0 };
		int r;

		close(pfd[0]);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		r = tree_add_host_dir(t, dir, "/", NULL, &d);
		if (write(pfd[1], d.msg, strlen(d.msg)) < 0)
			_exit(3);
		_exit(r == want_err ? 0 : 1);
	}
	close(pfd[1]);
	got = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	if (got > 0)
		msg[got] = '\0';
	ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "  child status %d, message: %s\n", status, msg);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (want_err == 0)
		return;
	if (strstr(msg, want) == NULL)
		fprintf(stderr, "  message: %s\n  wanted: %s\n", msg, want);
	ASSERT_TRUE(strstr(msg, want) != NULL);
}

TEST(unreadable_file_and_dir_name_the_path)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *f = tt_path("%s/secret", dir), *sub = tt_path("%s/closed", dir);

	if (geteuid() != 0) {
		TEST_SKIP("needs root to switch to an unprivileged user");
	}
	ASSERT_OK(chmod(dir, 0755));
	ASSERT_OK(tt_write(f, "x", 0600));
	{
		_cleanup_free_ char *want = tt_path(
			"cannot read 1 file of %s as uid 65534: secret; run as their owner, or "
			"pack the tree where it can be read: tar --xattrs -C %s -c . | "
			"mkdiskimage build --root-tar -",
			dir, dir);

		run_as_nobody(dir, -EACCES, want, _failed);
	}
	if (*_failed)
		return;
	ASSERT_OK(chmod(f, 0644));
	ASSERT_OK(mkdir(sub, 0700));
	run_as_nobody(dir, -EACCES, "cannot read 1 file of", _failed);
	run_as_nobody(dir, -EACCES, ": closed/; run as", _failed);
}

/* Every unreadable file in one error (the first ten by name), not only the first. */
TEST(unreadable_files_all_named_in_one_error)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *etc = tt_path("%s/etc", dir), *root = tt_path("%s/root", dir),
			    *ok = tt_path("%s/etc/hostname", dir), *sparse = tt_path("%s/sp", dir);
	int fd;

	if (geteuid() != 0)
		TEST_SKIP("needs root to switch to an unprivileged user");
	ASSERT_OK(chmod(dir, 0755));
	ASSERT_OK(mkdir(etc, 0755));
	ASSERT_OK(mkdir(root, 0700));
	ASSERT_OK(tt_write(ok, "h", 0644));
	for (int i = 0; i < 11; i++) {
		_cleanup_free_ char *p = tt_path("%s/etc/s%02d", dir, i);

		ASSERT_OK(tt_write(p, "x", 0600));
	}
	fd = open(sparse, O_WRONLY | O_CREAT | O_CLOEXEC, 0600); /* sparse: read to scan */
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(ftruncate(fd, 1 << 20));
	close(fd);
	{
		_cleanup_free_ char *want = tt_path(
			/* scan order: a directory's files, then its subdirectories */
			"cannot read 13 files of %s as uid 65534: sp, etc/s00, etc/s01, "
			"etc/s02, etc/s03, etc/s04, etc/s05, etc/s06, etc/s07, etc/s08, and 3 "
			"more; run as their owner",
			dir);

		run_as_nobody(dir, -EACCES, want, _failed);
	}
}

/* Build the same tree in a given creation order; times are set afterwards. */
static int build_copy(const char *dir, bool reverse)
{
	static const char *const files[] = { "b/z", "b/y", "a", "c/d/e", "c/B", "c/a" };
	static const char *const dirs[] = { "b", "c", "c/d" };
	char p[4096];
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(dirs); k++) {
		snprintf(p, sizeof(p), "%s/%s", dir, dirs[k]);
		if (mkdir(p, 0755) < 0)
			return -errno;
	}
	for (size_t k = 0; k < ARRAY_SIZE(files); k++) {
		size_t i = reverse ? ARRAY_SIZE(files) - 1 - k : k;

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		r = tt_write(p, files[i], 0644);
		if (r < 0)
			return r;
		if (setxattr(p, reverse ? "user.b" : "user.a", reverse ? "2" : "1", 1, 0) < 0 ||
		    setxattr(p, reverse ? "user.a" : "user.b", reverse ? "1" : "2", 1, 0) < 0)
			return -errno;
	}
	snprintf(p, sizeof(p), "%s/c/a", dir);
	{
		char q[4096];

		snprintf(q, sizeof(q), "%s/c/hard", dir);
		if (link(p, q) < 0)
			return -errno;
	}
	/* Deepest first, so setting a child's time does not move its parent's again. */
	static const char *const all[] = { "c/d/e", "c/d", "c/B", "c/a", "c", "b/z", "b/y",
					   "b", "a", "" };
	for (size_t k = 0; k < ARRAY_SIZE(all); k++) {
		snprintf(p, sizeof(p), "%s/%s", dir, all[k]);
		r = set_mtime(p, 1700000000 + (time_t)k, 1000 * (long)k);
		if (r < 0)
			return r;
	}
	return 0;
}

TEST(copies_made_in_different_orders_scan_identically)
{
	_cleanup_tmpdir_ char *a = tt_mkdtemp();
	_cleanup_tmpdir_ char *b = tt_mkdtemp();
	_cleanup_(tree_freep) struct tree *ta = NULL, *tb = NULL;
	_cleanup_free_ char *da = NULL, *db = NULL;
	struct diag d = { 0 };

	ASSERT_OK(build_copy(a, false));
	ASSERT_OK(build_copy(b, true));
	ta = scan(a, &d);
	tb = scan(b, &d);
	ASSERT_TRUE(ta && tb);
	da = tree_dump(ta);
	db = tree_dump(tb);
	if (strcmp(da, db) != 0)
		fprintf(stderr, "%s---\n%s", da, db);
	ASSERT_STR_EQ(da, db);
	ASSERT_TRUE(strstr(da, "/c/hard reg 0644") != NULL);
	ASSERT_TRUE(strstr(da, "link=/c/a") != NULL);
	ASSERT_TRUE(strstr(da, "xattr:user.a=1 xattr:user.b=2") != NULL);
}

/* Two scans into one directory: files of the second keep their own host paths, since the
 * directory names the first scan's host directory. */
TEST(merged_scans_keep_host_paths)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *a = tt_path("%s/a", dir), *b = tt_path("%s/b", dir),
			    *af = tt_path("%s/a/s/one", dir), *bf = tt_path("%s/b/s/two", dir),
			    *as = tt_path("%s/a/s", dir), *bs = tt_path("%s/b/s", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct diag d = { 0 };

	ASSERT_OK(mkdir(a, 0755));
	ASSERT_OK(mkdir(b, 0755));
	ASSERT_OK(mkdir(as, 0755));
	ASSERT_OK(mkdir(bs, 0755));
	ASSERT_OK(tt_write(af, "1", 0644));
	ASSERT_OK(tt_write(bf, "22", 0644));
	ASSERT_OK(tree_add_host_dir(t, a, "/", NULL, &d));
	ASSERT_OK(tree_add_host_dir(t, b, "/", NULL, &d));
	{
		_cleanup_free_ char *p1 = tree_node_src_path(tree_lookup(t, "/s/one"));
		_cleanup_free_ char *p2 = tree_node_src_path(tree_lookup(t, "/s/two"));

		ASSERT_STR_EQ(p1, af);
		ASSERT_STR_EQ(p2, bf);
		ASSERT_TRUE(tree_lookup(t, "/s/one")->src_in_parent);
		ASSERT_TRUE(!tree_lookup(t, "/s/two")->src_in_parent);
	}
}
