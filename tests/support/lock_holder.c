/* lock_holder.c: see lock_holder.h. */
#include "lock_holder.h"

#include "test_util.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "quant/series_store.h"

int tu_lock_holder_main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "--hold-lock") != 0)
        return -1;
    long ms = strtol(argv[3], NULL, 10);
    struct quant_series_store *s;
    struct quant_err err;
    struct quant_series_store_options o = {0};
    if (quant_series_store_open(argv[2], &o, &s, &err) != QUANT_OK) {
        fprintf(stderr, "hold-lock: %s\n", err.msg);
        return 1;
    }
    if (write(STDOUT_FILENO, "ready\n", 6) != 6)
        return 1;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    quant_series_store_close(s);
    return 0;
}

pid_t tu_spawn_lock_holder(const char *db_path, long ms)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char msbuf[32];
        snprintf(msbuf, sizeof msbuf, "%ld", ms);
        execl("/proc/self/exe", "lock-holder", "--hold-lock", db_path, msbuf, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[8] = {0};
    ssize_t got = read(fds[0], buf, 6);
    close(fds[0]);
    if (got != 6 || strcmp(buf, "ready\n") != 0)
        fail_msg("lock holder did not start (read %zd)", got);
    return pid;
}
