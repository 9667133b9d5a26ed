/* Interrupts: SIGINT, SIGTERM, SIGHUP and SIGPIPE while an output file is being written.
 *
 * The handler only records the first signal. The emit loops, the sinks' copy loops and the
 * I/O retry loops look at it and fail with -EINTR, so the build unwinds through its normal
 * abort path: compression and writer threads are joined, the temporary file is unlinked and
 * the previous output stays. The handler is installed without SA_RESTART, so a blocking read or
 * write in the main thread returns EINTR; threads that write the output start with these
 * signals blocked (interrupt_block), so the signal always reaches the main thread.
 *
 * The recorded signal is the one mutable global outside cli/: a signal handler can reach
 * nothing else. Only cli/ arms and disarms; everyone else only reads. */
#pragma once

#include <signal.h>
#include <stdbool.h>

struct diag;

/* Catch the four signals (those the caller inherited as ignored stay ignored, as nohup
 * expects). */
void interrupt_arm(void);
/* Back to the default actions; a recorded signal stays recorded. */
void interrupt_disarm(void);
/* The signal received since interrupt_arm, or 0. Async-signal-safe. */
int interrupt_pending(void);
/* "SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE". */
const char *interrupt_name(int sig);
/* -EINTR with "interrupted by SIGxxx" when a signal was received, else 0. */
int interrupt_check(struct diag *d);
/* Block the four signals in the calling thread (for the duration of a pthread_create, so the
 * new thread starts with them blocked); restore with interrupt_unblock(old). */
void interrupt_block(sigset_t *old);
void interrupt_unblock(const sigset_t *old);
/* If a signal was received: die of it with the default action (the shell sees 128 + signal);
 * returns only when none was. */
void interrupt_reraise(void);
