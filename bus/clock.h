/* Clocks and time units of the base layer: a monotonic clock for durations, the wall clock for
 * timestamps, and the unit constants every layer converts with (JetStream speaks nanoseconds,
 * nats.c timeouts milliseconds, PostgreSQL and HTTP seconds). */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdint.h>

#define SW_NS_PER_US INT64_C(1000)
#define SW_NS_PER_MS INT64_C(1000000)
#define SW_NS_PER_S INT64_C(1000000000)
#define SW_MS_PER_S INT64_C(1000)

/* Monotonic time in nanoseconds: for durations and deadlines, never for timestamps. */
int64_t sw_now_ns(void);

/* Wall-clock time in milliseconds since the epoch. */
int64_t sw_epoch_ms(void);

#endif
