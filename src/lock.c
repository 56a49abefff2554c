/* lock.c: Lua-free OS pieces of the token stores (see lock.h): fcntl record
 * locks with a lease, atomic file writes, whole-file reads, clocks and sleep.
 * fcntl locks belong to a (process, file) pair and any close() of that file in
 * the process drops them, so callers must not open a lock file they already
 * hold; the Lua file store keeps a per-process table of held paths for that. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

int64_t mallapi_clock_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mallapi_clock_monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mallapi_sleep_ms(int64_t ms) {
    if (ms <= 0) return;
    struct timespec req = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L }, rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
}

static void lock_error(char *err, size_t errlen, const char *what, const char *path) {
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
}

static int lock_same_file(int fd, const char *path) {
    struct stat by_fd, by_path;
    if (fstat(fd, &by_fd) != 0 || stat(path, &by_path) != 0) return 0;
    return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

static int lock_set(int fd) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_SETLK, &fl);
}

/* The lease recorded in an open lock file, or 0 when there is none (a holder
 * that has locked but not yet written counts as live). */
static int64_t lock_read_lease(int fd) {
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    const char *space = strchr(buf, ' ');
    if (!space) return 0;
    return strtoll(space + 1, NULL, 10);
}

/* The holder of fd's lock has outlived its lease: unlink its lock file so the
 * next taker gets a fresh one. Only one breaker acts at a time (path.break lock),
 * and it re-checks under that lock that path still names the same file and that
 * the lock is still held. Returns 1 to retry, 0 busy, -1 error. */
static int lock_break(const char *path, int fd, char *err, size_t errlen) {
    char break_path[4096];
    if ((size_t)snprintf(break_path, sizeof break_path, "%s.break", path) >= sizeof break_path) {
        snprintf(err, errlen, "lock path too long");
        return -1;
    }
    int bfd = open(break_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (bfd < 0) { lock_error(err, errlen, "open", break_path); return -1; }
    int result = 0;
    if (lock_set(bfd) == 0) {
        result = 1;
        if (lock_same_file(fd, path)) {
            int64_t lease = lock_read_lease(fd);
            if (lease != 0 && lease <= mallapi_clock_wall_ms() && lock_set(fd) != 0) {
                if (unlink(path) != 0 && errno != ENOENT) {
                    lock_error(err, errlen, "unlink", path);
                    result = -1;
                }
            }
            /* if lock_set(fd) succeeded the holder let go meanwhile; closing fd
             * in the caller drops our lock again and the retry takes it normally */
        }
    }
    close(bfd);
    return result;
}

int mallapi_lock_try(const char *path, const char *id, int64_t lease_ms,
                     int *fd_out, char *err, size_t errlen) {
    for (int attempt = 0; attempt < 4; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) { lock_error(err, errlen, "open", path); return -1; }
        if (lock_set(fd) == 0) {
            if (!lock_same_file(fd, path)) { close(fd); continue; }  /* broken meanwhile */
            char record[256];
            int n = snprintf(record, sizeof record, "%.200s %lld\n", id,
                             (long long)(mallapi_clock_wall_ms() + lease_ms));
            if (ftruncate(fd, 0) != 0 || pwrite(fd, record, (size_t)n, 0) != n) {
                lock_error(err, errlen, "write", path);
                close(fd);
                return -1;
            }
            *fd_out = fd;
            return 1;
        }
        if (errno != EAGAIN && errno != EACCES) {
            lock_error(err, errlen, "fcntl", path);
            close(fd);
            return -1;
        }
        int64_t lease = lock_read_lease(fd);
        if (lease == 0 || lease > mallapi_clock_wall_ms()) { close(fd); return 0; }
        int broken = lock_break(path, fd, err, errlen);
        close(fd);
        if (broken <= 0) return broken;
    }
    return 0;
}

void mallapi_lock_release(int fd, const char *path) {
    (void)path;
    if (fd >= 0) close(fd);
}

int mallapi_file_write_atomic(const char *path, const char *data, size_t len,
                              char *err, size_t errlen) {
    static unsigned counter;
    char tmp[4096], dir[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), ++counter) >= sizeof tmp) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) { lock_error(err, errlen, "open", tmp); return -1; }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { lock_error(err, errlen, "write", tmp); goto fail; }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) { lock_error(err, errlen, "fsync", tmp); goto fail; }
    if (close(fd) != 0) { fd = -1; lock_error(err, errlen, "close", tmp); goto fail; }
    fd = -1;
    if (rename(tmp, path) != 0) { lock_error(err, errlen, "rename", tmp); goto fail; }
    /* make the rename itself durable */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { (void)fsync(dfd); close(dfd); }
    return 0;
fail:
    if (fd >= 0) close(fd);
    unlink(tmp);
    return -1;
}

int mallapi_file_read(const char *path, char **data, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        lock_error(err, errlen, "open", path);
        return -1;
    }
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    if (!buf) { close(fd); snprintf(err, errlen, "out of memory"); return -1; }
    for (;;) {
        if (used == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) { free(buf); close(fd); snprintf(err, errlen, "out of memory"); return -1; }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { lock_error(err, errlen, "read", path); free(buf); close(fd); return -1; }
        if (n == 0) break;
        used += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = used;
    return 1;
}

int mallapi_pid_alive(long pid) {
    if (pid <= 0 || (long)(pid_t)pid != pid) return -1;
    if (kill((pid_t)pid, 0) == 0) return 1;
    return errno == ESRCH ? 0 : 1;                   /* EPERM: it exists, another user's */
}
