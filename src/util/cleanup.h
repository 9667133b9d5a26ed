/* Scope-bound cleanup for owning locals (systemd style). */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* DEFINE_CLEANUP_FUNC(struct foo, foo_free) defines foo_freep(). */
#define DEFINE_CLEANUP_FUNC(type, func)                 \
	static inline void func##p(type **p)            \
	{                                               \
		if (*p)                                 \
			(void)func(*p);                 \
	}

#define TAKE_PTR(p)                         \
	({                                  \
		__typeof__(p) _tp_ = (p);   \
		(p) = NULL;                 \
		_tp_;                       \
	})

#define TAKE_FD(fd)                 \
	({                          \
		int _tfd_ = (fd);   \
		(fd) = -EBADF;      \
		_tfd_;              \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(a, b) (((a) + (b) - 1) / (b))
#define ROUND_UP(a, b) (DIV_ROUND_UP(a, b) * (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
