/* lock.h: the operating-system pieces of the token stores, free of Lua:
 * fcntl record locks with a lease that a hung holder cannot keep forever,
 * atomic whole-file writes (temp file + fsync + rename, mode 0600), whole-file
 * reads, wall and monotonic clocks in milliseconds, and a sleep. Every function
 * returns 0 (or a documented value) on success and -1 with a message in err. */
#ifndef MALLAPI_LOCK_H
#define MALLAPI_LOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME) and since an arbitrary
 * start (CLOCK_MONOTONIC). */
int64_t mallapi_clock_wall_ms(void);
int64_t mallapi_clock_monotonic_ms(void);
/* Sleep ms milliseconds (restarted after signals). */
void mallapi_sleep_ms(int64_t ms);

/* Try once, without blocking, to take the exclusive fcntl lock on the lock file
 * at path (created with mode 0600), and record "<id> <lease_until_ms>" in it.
 * Returns 1 and the open descriptor in *fd when taken; 0 when another holder
 * keeps it (its lease still running); -1 on error. A holder whose recorded lease
 * has passed (hung, not dead: the kernel frees a dead process's locks itself) is
 * broken: its lock file is unlinked under a second lock (path + ".break") so that
 * at most one breaker acts, and the caller takes a fresh file. The caller closes
 * fd with mallapi_lock_release; closing it drops the lock. */
int mallapi_lock_try(const char *path, const char *id, int64_t lease_ms,
                     int *fd, char *err, size_t errlen);
/* Release a lock taken by mallapi_lock_try: clear the record if the file still
 * holds ours, then close fd (which drops the fcntl lock). */
void mallapi_lock_release(int fd, const char *path);

/* 1 when a process with this pid exists on this machine (kill(pid, 0) succeeds or is
 * refused with EPERM), 0 when it does not (ESRCH), -1 for a pid that cannot be one (<= 0). */
int mallapi_pid_alive(long pid);

/* Write len bytes to path atomically: a temp file in the same directory (mode
 * 0600), write, fsync, rename over path, fsync the directory. */
int mallapi_file_write_atomic(const char *path, const char *data, size_t len,
                              char *err, size_t errlen);
/* Read the whole file at path into a malloc'ed buffer (*data, *len; the caller
 * frees it). Returns 1 when read, 0 when the file does not exist, -1 on error. */
int mallapi_file_read(const char *path, char **data, size_t *len,
                      char *err, size_t errlen);

#endif
