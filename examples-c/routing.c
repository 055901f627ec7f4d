/*
 * routing.c - route events to subscribers with subscriptions and an
 * event-type collection, the way an event server fans out notifications.
 *
 * Each subscriber has a subscription (a set of query types); the collection
 * maps subscriptions to subscriber values; for every event type, one
 * hat_event_collection_get call finds everyone to notify.
 */
#include <hat/event.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(call)                                                            \
    do {                                                                     \
        hat_event_status_t status_ = (call);                                 \
        if (status_ != HAT_EVENT_OK) {                                       \
            fprintf(stderr, "%s failed: %s\n", #call,                        \
                    hat_event_last_error_message());                         \
            exit(EXIT_FAILURE);                                              \
        }                                                                    \
    } while (0)

struct subscriber {
    const char *name;
    const char *query_types[2][3]; /* up to two query types of up to 3 segments */
    size_t lengths[2];
    size_t count;
};

static hat_event_str_t str(const char *s) {
    hat_event_str_t view;
    view.ptr = s;
    view.len = strlen(s);
    return view;
}

/* Builds a subscription from a subscriber's query types. */
static hat_event_subscription_t *subscribe(const struct subscriber *sub) {
    hat_event_str_t segments[2][3];
    hat_event_event_type_view_t types[2];
    hat_event_subscription_t *subscription = NULL;
    size_t i, j;
    for (i = 0; i < sub->count; i++) {
        for (j = 0; j < sub->lengths[i]; j++)
            segments[i][j] = str(sub->query_types[i][j]);
        types[i].segments = segments[i];
        types[i].len = sub->lengths[i];
    }
    TRY(hat_event_subscription_create(types, sub->count, &subscription));
    return subscription;
}

int main(void) {
    static const struct subscriber subscribers[] = {
        {"historian", {{"gateway", "*"}}, {2}, 1},
        {"alarms", {{"gateway", "?", "alarm"}, {"system", "*"}}, {3, 2}, 2},
        {"gui", {{"gateway", "device1", "*"}}, {3}, 1},
    };
    static const char *events[][3] = {
        {"gateway", "device1", "alarm"},
        {"gateway", "device2", "measurement"},
        {"system", "restart", ""},
    };
    static const size_t event_lengths[] = {3, 3, 2};
    const size_t n_subscribers = sizeof subscribers / sizeof subscribers[0];
    hat_event_collection_t *collection = NULL;
    hat_event_values_t *hits = NULL;
    size_t i, j;

    TRY(hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, &collection));
    TRY(hat_event_values_create(&hits));

    for (i = 0; i < n_subscribers; i++) {
        hat_event_subscription_t *subscription = subscribe(&subscribers[i]);
        /* The value is ours to choose: here, a pointer to the subscriber. */
        TRY(hat_event_collection_add(collection, subscription,
                                     (uint64_t)(uintptr_t)&subscribers[i]));
        /* The collection copied what it needs. */
        hat_event_subscription_destroy(subscription);
    }

    for (i = 0; i < sizeof event_lengths / sizeof event_lengths[0]; i++) {
        hat_event_str_t event_type[3];
        for (j = 0; j < event_lengths[i]; j++)
            event_type[j] = str(events[i][j]);
        /* hits is reused: after the first calls, routing allocates nothing. */
        TRY(hat_event_collection_get(collection, event_type, event_lengths[i], hits));
        printf("(");
        for (j = 0; j < event_lengths[i]; j++)
            printf("%s'%s'", j ? ", " : "", events[i][j]);
        printf(") ->");
        for (j = 0; j < hat_event_values_len(hits); j++) {
            const struct subscriber *sub =
                (const struct subscriber *)(uintptr_t)hat_event_values_data(hits)[j];
            printf(" %s", sub->name);
        }
        printf("\n");
    }

    hat_event_values_destroy(hits);
    hat_event_collection_destroy(collection);
    return EXIT_SUCCESS;
}
