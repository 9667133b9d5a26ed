/* Interrupt flag and handlers (util/interrupt.h). */
#include "util/interrupt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/diag.h"

static const int interrupt_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

static volatile sig_atomic_t interrupt_received;

static void interrupt_handler(int sig)
{
	if (!interrupt_received)
		interrupt_received = sig;
}

void interrupt_arm(void)
{
	struct sigaction sa = { .sa_handler = interrupt_handler };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(interrupt_signals); i++) {
		struct sigaction old;

		sigaddset(&sa.sa_mask, interrupt_signals[i]);
		if (sigaction(interrupt_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		(void)sigaction(interrupt_signals[i], &sa, NULL);
	}
}

void interrupt_disarm(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(interrupt_signals); i++) {
		struct sigaction old;

		if (sigaction(interrupt_signals[i], NULL, &old) == 0 &&
		    old.sa_handler == interrupt_handler)
			(void)signal(interrupt_signals[i], SIG_DFL);
	}
}

int interrupt_pending(void)
{
	return interrupt_received;
}

const char *interrupt_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	case SIGPIPE:
		return "SIGPIPE";
	}
	return "a signal";
}

int interrupt_check(struct diag *d)
{
	int sig = interrupt_received;

	if (!sig)
		return 0;
	return diag_fail(d, -EINTR, "interrupted by %s", interrupt_name(sig));
}

void interrupt_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(interrupt_signals); i++)
		sigaddset(&set, interrupt_signals[i]);
	(void)pthread_sigmask(SIG_BLOCK, &set, old);
}

void interrupt_unblock(const sigset_t *old)
{
	(void)pthread_sigmask(SIG_SETMASK, old, NULL);
}

void interrupt_reraise(void)
{
	int sig = interrupt_received;
	sigset_t set;

	if (!sig)
		return;
	(void)signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	(void)raise(sig);
	_exit(128 + sig); /* not reached unless the signal is blocked by our parent's doing */
}
