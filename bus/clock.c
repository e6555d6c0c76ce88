/* The two clocks; see clock.h. */
#include "bus/clock.h"

#include <time.h>

int64_t sw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * SW_NS_PER_S + ts.tv_nsec;
}

int64_t sw_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * SW_MS_PER_S + ts.tv_nsec / SW_NS_PER_MS;
}
