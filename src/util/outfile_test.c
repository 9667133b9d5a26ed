#include "util/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/diag.h"
#include "util/test-dir.h"
#include "util/test.h"

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/outfile_test.XXXXXX");
	return mkdtemp(dir);
}

static void write_file(const char *path, const char *s, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd >= 0) {
		(void)!write(fd, s, strlen(s));
		close(fd);
	}
	(void)chmod(path, mode);
}

TEST(outfile_new_file_mode_follows_umask)
{
	static const mode_t masks[] = { 022, 077, 002, 027 };
	char *dir = tmpdir(), path[128];
	struct diag d = { 0 };
	struct outfile *o;
	struct stat st;

	snprintf(path, sizeof(path), "%s/out.img", dir);
	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		mode_t old = umask(masks[i]);

		ASSERT_OK(outfile_open(path, &d, &o));
		umask(old);
		/* the temporary file has the final mode from the start */
		ASSERT_OK(fstat(o->fd, &st));
		ASSERT_EQ(st.st_mode & 07777, 0666 & ~masks[i]);
		ASSERT_OK(outfile_commit(o, &d));
		ASSERT_OK(stat(path, &st));
		ASSERT_EQ(st.st_mode & 07777, 0666 & ~masks[i]);
		ASSERT_OK(unlink(path));
	}
	ASSERT_EQ(test_count_entries(dir), 0);
	rmdir(dir);
}

TEST(outfile_replacing_keeps_mode)
{
	char *dir = tmpdir(), path[128];
	struct diag d = { 0 };
	struct outfile *o;
	struct stat st;
	mode_t old = umask(022);

	snprintf(path, sizeof(path), "%s/out.img", dir);
	write_file(path, "old", 0600);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(fstat(o->fd, &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_OK(outfile_commit(o, &d));
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_EQ(st.st_size, 0);
	write_file(path, "old", 0664);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_OK(outfile_commit(o, &d));
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0664);
	umask(old);
	unlink(path);
	rmdir(dir);
}

TEST(outfile_abort_keeps_previous_and_leaves_nothing)
{
	char *dir = tmpdir(), path[128], buf[8] = { 0 };
	struct diag d = { 0 };
	struct outfile *o;
	int fd;

	snprintf(path, sizeof(path), "%s/out.img", dir);
	write_file(path, "old", 0644);
	ASSERT_OK(outfile_open(path, &d, &o));
	ASSERT_EQ(write(o->fd, "new", 3), 3);
	ASSERT_EQ(test_count_entries(dir), 2);
	outfile_abort(o);
	ASSERT_EQ(test_count_entries(dir), 1);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(read(fd, buf, sizeof(buf)), 3);
	close(fd);
	ASSERT_STR_EQ(buf, "old");
	unlink(path);
	rmdir(dir);
}

TEST(outfile_refuses_fifo_socket_directory)
{
	char *dir = tmpdir(), fifo[128], sock[128], sub[128];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct diag d = { 0 };
	struct outfile *o = NULL;
	struct stat st;
	int s;

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ASSERT_OK(mkfifo(fifo, 0644));
	ASSERT_OK(mkdir(sub, 0755));
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(s >= 0);
	ASSERT_TRUE(strlen(sock) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));

	ASSERT_ERR(outfile_open(fifo, &d, &o), -EEXIST);
	ASSERT_TRUE(strstr(diag_message(&d, -EEXIST), "is a FIFO") != NULL);
	ASSERT_ERR(outfile_open(sock, &d, &o), -EEXIST);
	ASSERT_TRUE(strstr(diag_message(&d, -EEXIST), "is a socket") != NULL);
	ASSERT_ERR(outfile_open(sub, &d, &o), -EISDIR);
	ASSERT_ERR(outfile_check(fifo, /* device= */ false, &d), -EEXIST);
	ASSERT_ERR(outfile_check(fifo, /* device= */ true, &d), -ENOTBLK);
	ASSERT_ERR(outfile_check(sub, /* device= */ false, &d), -EISDIR);
	/* nothing was created beside them, and they are what they were */
	ASSERT_EQ(test_count_entries(dir), 3);
	ASSERT_OK(stat(fifo, &st));
	ASSERT_TRUE(S_ISFIFO(st.st_mode));
	ASSERT_TRUE(o == NULL);
	close(s);
	unlink(sock);
	unlink(fifo);
	rmdir(sub);
	rmdir(dir);
}

TEST(outfile_device_needs_block_device)
{
	char *dir = tmpdir(), path[128];
	struct diag d = { 0 };
	struct outfile *o = NULL;

	snprintf(path, sizeof(path), "%s/file.img", dir);
	write_file(path, "x", 0644);
	ASSERT_ERR(outfile_open_device(path, 4096, &d, &o), -ENOTBLK);
	ASSERT_TRUE(strstr(diag_message(&d, -ENOTBLK), "not a block device") != NULL);
	ASSERT_OK(outfile_check(path, /* device= */ false, &d));
	/* a new name is fine for a file, not for a device */
	unlink(path);
	ASSERT_OK(outfile_check(path, /* device= */ false, &d));
	ASSERT_ERR(outfile_check(path, /* device= */ true, &d), -ENOENT);
	rmdir(dir);
}
