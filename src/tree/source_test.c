#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tree/tree.h"
#include "tree/tree-test.h"
#include "util/cleanup.h"
#include "util/test.h"

static struct tree_node node_of(const struct stat *st)
{
	struct tree_node n = { .type = TREE_REG, .size = (uint64_t)st->st_size };

	n.src_stamp = tree_src_stamp(st);
	return n;
}

TEST(src_check_equal_passes)
{
	struct stat st = { .st_mode = S_IFREG | 0644, .st_size = 10, .st_dev = 1, .st_ino = 2 };
	struct tree_node n = node_of(&st);
	char why[120] = "";

	ASSERT_OK(tree_src_check(&n, &st, why, sizeof(why)));
}

TEST(src_check_each_field_counts)
{
	struct stat st = { .st_mode = S_IFREG | 0644, .st_size = 10, .st_dev = 1, .st_ino = 2 };
	struct tree_node n = node_of(&st);
	char why[120];
	struct stat x;

#define CHANGED(field, value, text)                                                  \
	x = st;                                                                      \
	x.field = value;                                                             \
	ASSERT_ERR(tree_src_check(&n, &x, why, sizeof(why)), -ESTALE);               \
	ASSERT_TRUE(strstr(why, text) != NULL)
	CHANGED(st_mode, S_IFIFO | 0644, "now a FIFO");
	CHANGED(st_mode, S_IFLNK | 0777, "now a symbolic link");
	CHANGED(st_size, 11, "size 11, scanned 10");
	CHANGED(st_size, 0, "size 0, scanned 10");
	CHANGED(st_dev, 3, "inode");
	CHANGED(st_ino, 3, "inode");
	CHANGED(st_mtim.tv_sec, 1, "mtime");
	CHANGED(st_mtim.tv_nsec, 1, "mtime");
	CHANGED(st_ctim.tv_sec, 1, "ctime");
	CHANGED(st_ctim.tv_nsec, 1, "ctime");
#undef CHANGED
	/* the mode's permission bits, owner and atime are not the content's business */
	x = st;
	x.st_mode = S_IFREG | 0600;
	x.st_uid = 5;
	x.st_atim.tv_sec = 9;
	ASSERT_OK(tree_src_check(&n, &x, why, sizeof(why)));
}

TEST(src_check_swapped_fields_differ)
{
	/* (dev, ino) = (1, 2) and (2, 1), mtime and ctime swapped: different stamps */
	struct stat a = { .st_dev = 1, .st_ino = 2 }, b = { .st_dev = 2, .st_ino = 1 };

	ASSERT_TRUE(tree_src_stamp(&a) != tree_src_stamp(&b));
	a = (struct stat){ .st_mtim.tv_sec = 5, .st_ctim.tv_sec = 6 };
	b = (struct stat){ .st_mtim.tv_sec = 6, .st_ctim.tv_sec = 5 };
	ASSERT_TRUE(tree_src_stamp(&a) != tree_src_stamp(&b));
}

TEST(src_check_real_file_rewritten_in_place)
{
	_cleanup_tmpdir_ char *dir = tt_mkdtemp();
	_cleanup_free_ char *f = tt_path("%s/f", dir);
	struct stat st;
	struct tree_node n;
	char why[120];
	struct timespec ts = { 0, 1000000 };

	ASSERT_OK(tt_write(f, "0123456789", 0644));
	ASSERT_OK(stat(f, &st));
	n = node_of(&st);
	ASSERT_OK(tree_src_check(&n, &st, why, sizeof(why)));
	nanosleep(&ts, NULL);
	ASSERT_OK(tt_write(f, "abcdefghij", 0644)); /* same size, new content */
	ASSERT_OK(stat(f, &st));
	ASSERT_ERR(tree_src_check(&n, &st, why, sizeof(why)), -ESTALE);
}

TEST(src_open_errors_that_mean_changed)
{
	ASSERT_STR_EQ(tree_src_open_changed(-ELOOP), "now a symbolic link");
	ASSERT_STR_EQ(tree_src_open_changed(-ENOENT), "removed");
	ASSERT_TRUE(tree_src_open_changed(-EACCES) == NULL);
}
