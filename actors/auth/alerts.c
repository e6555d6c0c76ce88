/* The recorder's sw.v1.evt.<tenant>.endpoint.* events (durable BUS_CONSUMER_AUTH_ALERTS on
 * SW_EVENTS). Until issue 19 sw-auth mailed the owner about each outage from here; the outage
 * mail is now the job of sw-notify's notification channels (a new organization's default email
 * channel goes to its owner), so each organization gets exactly one mail per event, and this
 * consumer only acks what it is given. It is kept, not removed, so the durable the metrics and
 * operators know keeps draining; removing it (with its NATS rights and topology entry) is a
 * follow-up. */
#include "actors/auth/auth.h"
#include "bus/jetstream.h"

void auth_alerts_batch(bus_actor *a, void *app, natsMsg **msgs, int n)
{
    natsConnection *nc = bus_actor_conn(a);
    (void)app;
    for (int i = 0; i < n; i++) {
        bus_msg_ack(nc, msgs[i]);
        natsMsg_Destroy(msgs[i]);
    }
}
