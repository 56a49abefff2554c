/* signal_trap.h: a stop request noted from SIGTERM / SIGINT, free of Lua. A worker
 * traps the signals once, then polls between jobs and batches, so a running batch
 * finishes and its checkpoint is saved before the process leaves (drain). */
#ifndef MALLAPI_SIGNAL_H
#define MALLAPI_SIGNAL_H

#include <stddef.h>

/* Install the handlers for SIGTERM and SIGINT (SA_RESTART, so interrupted reads
 * and sleeps go on). Returns 0, or -1 with a message in err. */
int mallapi_signal_trap_stop(char *err, size_t errlen);
/* The number of the first stop signal received since the trap, or 0. */
int mallapi_signal_stop_received(void);
/* Forget a received signal (a test or a worker that carries on). */
void mallapi_signal_clear(void);

#endif
