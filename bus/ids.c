/* Random ids and the tenant-id rule; see ids.h. */
#include "bus/ids.h"

#include <string.h>
#include <sodium.h>

void sw_random_hex(char *out, size_t n)
{
    unsigned char buf[64];
    if (n > sizeof(buf))
        n = sizeof(buf);
    randombytes_buf(buf, n);
    sodium_bin2hex(out, 2 * n + 1, buf, n);
}

bool sw_tenant_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 12 || n > 42 || strncmp(id, "t_", 2) != 0)
        return false;
    for (size_t i = 2; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9')))
            return false;
    return true;
}
