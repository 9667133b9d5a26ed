/* Running the reference tools (e2fsck, fsck.fat, mtools, ...) from unit tests, without a shell
 * for the tool itself. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/xalloc.h"

extern char **environ;

/* Run argv with stdout and stderr to out_path (or /dev/null); the exit status, or negative errno
 * when it cannot run (-ENOENT: missing) and -ECHILD when a signal ended it. */
static inline int test_run(char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -ECHILD;
}

/* Whether a tool is on PATH (tests skip their oracle checks without it). */
static inline bool test_have(const char *tool)
{
	char *const argv[] = { (char *)"sh", (char *)"-c", xasprintf("command -v %s", tool), NULL };
	int r = test_run(argv, NULL);

	free(argv[2]);
	return r == 0;
}
