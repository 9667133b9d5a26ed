#include "tree/contents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree/tree-test.h"
#include "tree/tree.h"
#include "util/cleanup.h"
#include "util/diag.h"
#include "util/test.h"

static const char passwd[] = "root:x:0:0::/root:/bin/sh\n"
			     "nginx:x:60:61:web:/var/empty:/bin/false\n"
			     "alice:x:1000:100::/home/alice:/bin/sh";
static const char group[] = "root:x:0:\nnginx:x:61:\nusers:x:100:alice\n";

/* A source tree: d/{x, sub/y}, g/{a.conf, b.conf, .hidden.conf, other}, file, plus a root
 * tree with /etc/passwd and /etc/group. */
static char *make_sources(void)
{
	char *dir = tt_mkdtemp();
	static const char *const dirs[] = { "d", "d/sub", "g", "root", "root/etc", "root/srv",
					    "root/srv/old" };
	static const char *const files[] = { "d/x", "d/sub/y", "g/b.conf", "g/a.conf",
					     "g/.hidden.conf", "g/other", "file",
					     "root/srv/old/keep" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = tt_path("%s/%s", dir, dirs[i]);

		if (mkdir(p, 0750) < 0)
			abort();
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = tt_path("%s/%s", dir, files[i]);

		if (tt_write(p, files[i], 0640) < 0)
			abort();
	}
	{
		_cleanup_free_ char *p = tt_path("%s/root/etc/passwd", dir),
				   *g = tt_path("%s/root/etc/group", dir);

		if (tt_write(p, passwd, 0644) < 0 || tt_write(g, group, 0644) < 0)
			abort();
	}
	return dir;
}

static struct tree *tree_with_root(const char *dir)
{
	_cleanup_free_ char *root = tt_path("%s/root", dir);
	struct tree *t = tree_new();
	struct diag d = { 0 };

	if (tree_add_host_dir(t, root, "/", NULL, &d) < 0)
		abort();
	return t;
}

TEST(directory_source_is_copied_to_target)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *src = tt_path("%s/d", dir), *file = tt_path("%s/file", dir);
	_cleanup_(tree_freep) struct tree *t = tree_with_root(dir);
	struct contents_entry e[] = {
		{ .source = src, .target = "/opt/pkg" },
		{ .source = file, .target = "/opt/bin/tool", .mode = "0755" },
	};
	struct diag d = { 0 };
	struct tree_node *n;

	ASSERT_OK(contents_apply(t, e, ARRAY_SIZE(e), &d));
	n = tree_lookup(t, "/opt");
	ASSERT_EQ(n->mode, 0755);
	ASSERT_EQ(n->uid, 0);
	ASSERT_EQ(n->mtime_sec, 0);
	n = tree_lookup(t, "/opt/pkg");
	ASSERT_TRUE(n && n->type == TREE_DIR);
	ASSERT_EQ(n->mode, 0750);
	ASSERT_EQ(n->uid, 0);
	ASSERT_TRUE(!n->owner_from_host);
	ASSERT_TRUE(tree_lookup(t, "/opt/pkg/x") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/opt/pkg/sub/y") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/opt/pkg/d") == NULL);
	n = tree_lookup(t, "/opt/bin/tool");
	ASSERT_EQ(n->type, TREE_REG);
	ASSERT_EQ(n->mode, 0755);
	{
		_cleanup_free_ char *sp = tree_node_src_path(n);

		ASSERT_STR_EQ(sp, file);
	}
}

TEST(glob_copies_matches_into_target)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *pat = tt_path("%s/g/*.conf", dir), *star = tt_path("%s/*", dir);
	_cleanup_(tree_freep) struct tree *t = tree_with_root(dir);
	struct contents_entry e[] = {
		{ .source = pat, .target = "/etc/conf.d", .mode = "600" },
		{ .source = star, .target = "/everything" },
	};
	struct diag d = { 0 };
	struct tree_node *n;

	ASSERT_OK(contents_apply(t, e, ARRAY_SIZE(e), &d));
	n = tree_lookup(t, "/etc/conf.d");
	ASSERT_EQ(n->n_children, 2);
	ASSERT_STR_EQ(n->children[0]->name, "a.conf");
	ASSERT_STR_EQ(n->children[1]->name, "b.conf");
	ASSERT_EQ(n->children[0]->mode, 0600);
	ASSERT_EQ(n->mode, 0755); /* mkdir -p'd target: --chmod touches only what is copied */
	/* each match is copied as itself (a directory keeps its name) */
	ASSERT_TRUE(tree_lookup(t, "/everything/d/sub/y") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/everything/g/.hidden.conf") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/everything/file") != NULL);
	ASSERT_TRUE(tree_lookup(t, "/everything/root/etc/passwd") != NULL);
}

TEST(mode_applies_to_files_and_dirs)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *src = tt_path("%s/d", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct contents_entry e = { .source = src, .target = "/d", .mode = "0711" };
	struct diag d = { 0 };

	ASSERT_OK(contents_apply(t, &e, 1, &d));
	ASSERT_EQ(tree_lookup(t, "/d")->mode, 0711);
	ASSERT_EQ(tree_lookup(t, "/d/sub")->mode, 0711);
	ASSERT_EQ(tree_lookup(t, "/d/sub/y")->mode, 0711);
}

TEST(user_and_group_resolve_against_image)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *src = tt_path("%s/d", dir), *file = tt_path("%s/file", dir),
			    *pat = tt_path("%s/g/*.conf", dir);
	_cleanup_(tree_freep) struct tree *t = tree_with_root(dir);
	struct contents_entry e[] = {
		{ .source = src, .target = "/www", .user = "nginx", .group = "users" },
		{ .source = file, .target = "/num", .user = "123", .group = "456" },
		{ .source = pat, .target = "/srv", .user = "alice", .group = "nginx" },
	};
	struct tree_finalize_opts fo = { .map_owner = true, .owner_uid = 9, .owner_gid = 9 };
	struct diag d = { 0 };
	struct tree_node *n;

	ASSERT_OK(contents_apply(t, e, ARRAY_SIZE(e), &d));
	ASSERT_OK(tree_finalize(t, &fo, &d));
	n = tree_lookup(t, "/www/sub/y");
	ASSERT_EQ(n->uid, 60);
	ASSERT_EQ(n->gid, 100);
	n = tree_lookup(t, "/www");
	ASSERT_EQ(n->uid, 60);
	n = tree_lookup(t, "/num");
	ASSERT_EQ(n->uid, 123);
	ASSERT_EQ(n->gid, 456);
	/* glob: chown -R of the target reaches what --root put there too */
	n = tree_lookup(t, "/srv/a.conf");
	ASSERT_EQ(n->uid, 1000);
	ASSERT_EQ(n->gid, 61);
	ASSERT_EQ(tree_lookup(t, "/srv")->uid, 1000);
	ASSERT_EQ(tree_lookup(t, "/srv/old/keep")->uid, 1000);
	/* --owner maps host owners (the root tree), never contents owners */
	ASSERT_EQ(tree_lookup(t, "/etc/passwd")->uid, 9);
}

TEST(user_resolves_through_generated_and_symlinked_passwd)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *file = tt_path("%s/file", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct contents_entry e = { .source = file, .target = "/f", .user = "nginx",
				    .group = "nginx" };
	struct diag d = { 0 };

	ASSERT_OK(tree_add_data(t, "/etc/static/passwd", passwd, sizeof(passwd) - 1, 0644, 0, 0, 0,
				&d));
	ASSERT_OK(tree_add_data(t, "/etc/static/group", group, sizeof(group) - 1, 0644, 0, 0, 0,
				&d));
	ASSERT_OK(tree_add_symlink(t, "/etc/passwd", "static/passwd", 0, 0, 0, &d));
	ASSERT_OK(tree_add_symlink(t, "/etc/group", "/etc/static/./group", 0, 0, 0, &d));
	ASSERT_OK(contents_apply(t, &e, 1, &d));
	ASSERT_EQ(tree_lookup(t, "/f")->uid, 60);
	ASSERT_EQ(tree_lookup(t, "/f")->gid, 61);
}

TEST(errors_name_the_entry_and_the_fix)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *file = tt_path("%s/file", dir), *missing = tt_path("%s/nope", dir),
			    *nomatch = tt_path("%s/g/*.none", dir), *src = tt_path("%s/d", dir);
	_cleanup_(tree_freep) struct tree *t = tree_with_root(dir);
	struct diag d = { 0 };
	struct {
		struct contents_entry e;
		int err;
		const char *want1, *want2;
	} cases[] = {
		{ { .source = file, .target = "/u", .user = "nginx" }, -EINVAL, "/u",
		  "user given without group" },
		{ { .source = file, .target = "/u", .group = "nginx" }, -EINVAL, "/u",
		  "group given without user" },
		{ { .source = file, .target = "/u", .user = "foo", .group = "users" }, -EINVAL,
		  "user 'foo' not in the image's /etc/passwd", "use a numeric id or add it" },
		{ { .source = file, .target = "/u", .user = "alice", .group = "bar" }, -EINVAL,
		  "group 'bar' not in the image's /etc/group", "/u" },
		/* issue #11: a numeric id past 32 bits is out of range, not an unknown name */
		{ { .source = file, .target = "/u", .user = "4294967296", .group = "0" }, -ERANGE,
		  "/u: user id 4294967296 is out of range", "at most 4294967294" },
		{ { .source = file, .target = "/u", .user = "0", .group = "99999999999" }, -ERANGE,
		  "/u: group id 99999999999 is out of range", "at most 4294967294" },
		{ { .source = file, .target = "/u", .user = "4294967295", .group = "0" }, -ERANGE,
		  "user id 4294967295 is out of range", "/u" },
		{ { .source = file, .target = "/u", .user = "123456789012345678901234567890",
		    .group = "0" },
		  -ERANGE, "user id 123456789012345678901234567890 is out of range", "/u" },
		{ { .source = file, .target = "rel/x" }, -EINVAL, "'rel/x' is not absolute",
		  "start it with /" },
		{ { .source = file, .target = "/a/../../etc" }, -EINVAL, "/a/../../etc",
		  "escapes the image root" },
		{ { .source = file, .target = "/etc/passwd" }, -EEXIST, "/etc/passwd",
		  "duplicate" },
		{ { .source = src, .target = "/" }, -EEXIST, "duplicate", "/" },
		{ { .source = missing, .target = "/m" }, -ENOENT, missing, "does not exist" },
		{ { .source = nomatch, .target = "/m" }, -ENOENT, nomatch, "matches nothing" },
		{ { .source = file, .target = "/m", .mode = "rwx" }, -EINVAL, "'rwx'", "octal" },
		{ { .source = file, .target = "/m", .mode = "17777" }, -EINVAL, "/m", "755" },
		{ { .source = file, .target = "/etc/passwd/x" }, -ENOTDIR, "/etc/passwd/x",
		  "not a directory" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		d.msg[0] = '\0';
		ASSERT_ERR(contents_apply(t, &cases[i].e, 1, &d), cases[i].err);
		if (!strstr(d.msg, cases[i].want1) || !strstr(d.msg, cases[i].want2))
			fprintf(stderr, "  case %zu: %s\n", i, d.msg);
		ASSERT_TRUE(strstr(d.msg, cases[i].want1) != NULL);
		ASSERT_TRUE(strstr(d.msg, cases[i].want2) != NULL);
		ASSERT_TRUE(strchr(d.msg, '\n') == NULL);
	}
	/* an earlier entry makes a later one a duplicate; nothing was added by the failures */
	struct contents_entry twice[] = { { .source = file, .target = "/dup" },
					  { .source = src, .target = "/dup" } };
	ASSERT_TRUE(tree_lookup(t, "/u") == NULL && tree_lookup(t, "/m") == NULL);
	ASSERT_ERR(contents_apply(t, twice, 2, &d), -EEXIST);
	ASSERT_TRUE(strstr(d.msg, "/dup") != NULL);
}

TEST(no_user_image_without_passwd)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *file = tt_path("%s/file", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct contents_entry e = { .source = file, .target = "/f", .user = "nginx",
				    .group = "0" };
	struct diag d = { 0 };

	ASSERT_ERR(contents_apply(t, &e, 1, &d), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "no /etc/passwd") != NULL);
}

TEST(user_and_group_resolve_against_host_files)
{
	_cleanup_tmpdir_ char *dir = make_sources();
	_cleanup_free_ char *file = tt_path("%s/file", dir);
	_cleanup_free_ char *pw = tt_path("%s/root/etc/passwd", dir);
	_cleanup_free_ char *gr = tt_path("%s/root/etc/group", dir);
	_cleanup_(tree_freep) struct tree *t = tree_new();
	struct contents_entry e = { .source = file, .target = "/f", .user = "nginx",
				    .group = "users" };
	struct contents_ids ids = { .passwd = pw, .group = gr };
	struct diag d = { 0 };
	const struct tree_node *n;

	/* the image has no /etc/passwd: the host files decide */
	ASSERT_OK(contents_apply_ids(t, &e, 1, &ids, &d));
	n = tree_lookup(t, "/f");
	ASSERT_TRUE(n != NULL);
	ASSERT_EQ(n->uid, 60);
	ASSERT_EQ(n->gid, 100);

	e.target = "/g";
	e.user = "nobody";
	ASSERT_ERR(contents_apply_ids(t, &e, 1, &ids, &d), -EINVAL);
	ASSERT_TRUE(strstr(d.msg, "user 'nobody' not in") != NULL);
	ASSERT_TRUE(strstr(d.msg, pw) != NULL);
}
