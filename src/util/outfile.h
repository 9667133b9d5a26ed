/* Safe output: write under a temporary name beside the target, rename into place on commit.
 * On abort (or a crash before commit) no file appears at the target path. */
#pragma once

struct diag;

struct outfile {
	int fd;
	char *path;     /* final name */
	char *tmp_path; /* ".NAME.XXXXXX" in the same directory */
};

int outfile_open(const char *path, struct diag *d, struct outfile **ret);
/* fsync, rename into place and free. */
int outfile_commit(struct outfile *o, struct diag *d);
/* Unlink the temporary file and free; accepts NULL. */
void outfile_abort(struct outfile *o);
