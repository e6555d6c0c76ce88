/* The alerting fields of an endpoint (issue 19): channel_ids (which of the organization's
 * notification channels hear about its incidents; NULL = the default channels) and
 * reminder_minutes (0 = none). sw-endpoints owns the endpoints table, so it checks and writes
 * them; the channels are sw-notify's, read here only to refuse ids that are not the
 * organization's. Written by a statement of its own after the main write, in its transaction. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actors/endpoints/endpoints.h"
#include "bus/messages.h"

#define CHANNELS_MAX 50
#define REMINDER_MAX 10080 /* a week */

sw_status endpoints_alert_write(store_conn *c, const bus_req *req, bus_reply *rep, const char *id)
{
    json_t *ids = json_object_get(req->body, "channel_ids");
    json_t *rem = json_object_get(req->body, "reminder_minutes");
    char reminder[16] = "", *ids_text = NULL;
    bool ok = true;
    if (!ids && !rem)
        return SW_OK;
    if (ids && !json_is_null(ids)) {
        size_t i;
        json_t *v;
        if (!json_is_array(ids) || json_array_size(ids) > CHANNELS_MAX) {
            bus_reply_field_error(rep, "channel_ids", "Expected a list of at most 50 channel ids.");
            ok = false;
        } else {
            json_array_foreach(ids, i, v)
            {
                if (!bus_uuid_valid(json_string_value(v))) {
                    bus_reply_field_error(rep, "channel_ids", "Each item must be a channel id.");
                    ok = false;
                    break;
                }
            }
        }
    }
    if (rem) {
        if (!json_is_integer(rem) || json_integer_value(rem) < 0 ||
            json_integer_value(rem) > REMINDER_MAX) {
            bus_reply_field_error(rep, "reminder_minutes",
                                  "Ensure this value is an integer from 0 to 10080.");
            ok = false;
        } else {
            snprintf(reminder, sizeof(reminder), "%lld", (long long)json_integer_value(rem));
        }
    }
    if (!ok)
        return SW_EINVAL;
    bool set_ids = ids != NULL;
    if (ids && json_is_array(ids)) {
        ids_text = json_dumps(ids, JSON_COMPACT);
        json_t *row = NULL;
        const char *p[] = {ids_text};
        sw_status st = store_query_one(c, &row,
                                       "SELECT count(*) AS n FROM jsonb_array_elements_text($1::jsonb) x"
                                       " WHERE NOT EXISTS (SELECT 1 FROM channels ch"
                                       "  WHERE ch.id = x::uuid)",
                                       1, p);
        long missing = st == SW_OK ? (long)json_integer_value(json_object_get(row, "n")) : 0;
        json_decref(row);
        if (st != SW_OK) {
            free(ids_text);
            return st;
        }
        if (missing > 0) {
            free(ids_text);
            bus_reply_field_error(rep, "channel_ids",
                                  "Each item must be the id of one of your notification channels.");
            return SW_EINVAL;
        }
    }
    const char *p[] = {id, set_ids ? "1" : "", ids_text, reminder[0] ? reminder : NULL};
    sw_status st = store_query(c, NULL, NULL,
                               "UPDATE endpoints SET"
                               " channel_ids = CASE WHEN $2 = '' THEN channel_ids"
                               "   WHEN $3::jsonb IS NULL THEN NULL"
                               "   ELSE ARRAY(SELECT DISTINCT x::uuid"
                               "              FROM jsonb_array_elements_text($3::jsonb) x) END,"
                               " reminder_minutes = coalesce($4::int, reminder_minutes)"
                               " WHERE id = $1::uuid",
                               4, p);
    free(ids_text);
    return st;
}
