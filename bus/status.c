/* Tables generated from SW_STATUS_MAP. */
#include "bus/status.h"

static const struct {
    const char *name;
    int http;
    const char *msg;
} rows[] = {
#define SW__STATUS_ROW(name, http, msg) {#name, http, msg},
    SW_STATUS_MAP(SW__STATUS_ROW)
#undef SW__STATUS_ROW
};

const char *sw_status_str(sw_status st)
{
    if ((unsigned)st >= SW__STATUS_COUNT)
        return rows[SW_EINTERNAL].msg;
    return rows[st].msg;
}

int sw_status_http(sw_status st)
{
    if ((unsigned)st >= SW__STATUS_COUNT)
        return 500;
    return rows[st].http;
}

const char *sw_status_name(sw_status st)
{
    if ((unsigned)st >= SW__STATUS_COUNT)
        return "SW_UNKNOWN";
    return rows[st].name;
}

sw_status sw_status_from_http(int http)
{
    for (unsigned i = 0; i < SW__STATUS_COUNT; i++)
        if (rows[i].http == http)
            return (sw_status)i;
    return SW_EINTERNAL;
}
