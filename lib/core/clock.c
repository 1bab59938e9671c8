/* clock.c: clocks and UTC formats (clock.h). */
#include "quant/clock.h"

#include <errno.h>
#include <time.h>

#include "core/banned.h"

static double seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double quant_clock_mono(void) { return seconds(CLOCK_MONOTONIC); }

double quant_clock_thread_cpu(void) { return seconds(CLOCK_THREAD_CPUTIME_ID); }

int64_t quant_clock_unix_micros(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void quant_clock_sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    int64_t ns = (int64_t)(ms * 1e6);
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

char *quant_utc_format(int64_t unix_seconds, enum quant_utc_style style, char *out, size_t n)
{
    static const char *const formats[] = {
        [QUANT_UTC_ISO] = "%Y-%m-%dT%H:%M:%SZ",
        [QUANT_UTC_HUMAN] = "%Y-%m-%d %H:%M:%SZ",
        [QUANT_UTC_STAMP] = "%Y%m%d_%H%M%S",
        [QUANT_UTC_TIME] = "%H:%M:%S",
    };
    if (!n)
        return out;
    out[0] = '\0';
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if ((unsigned)style >= sizeof formats / sizeof *formats || !gmtime_r(&t, &tm) ||
        !strftime(out, n, formats[style], &tm))
        out[0] = '\0';
    return out;
}
