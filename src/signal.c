/* signal.c: the stop-signal trap behind signal_trap.h. The handler only stores the
 * signal number in a sig_atomic_t; everything else happens when the worker polls. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "signal_trap.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
    if (!stop_signal) stop_signal = sig;
}

int mallapi_signal_trap_stop(char *err, size_t errlen) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) {
        snprintf(err, errlen, "sigaction: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int mallapi_signal_stop_received(void) { return (int)stop_signal; }

void mallapi_signal_clear(void) { stop_signal = 0; }
