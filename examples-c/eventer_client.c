/*
 * eventer_client.c - connect to a running Hat event server, subscribe to
 * ('example', '*'), register events (waiting for the response and not),
 * query the latest ones and print the notifications that arrive.
 *
 *   eventer_client [host [port [seconds]]]     (default 127.0.0.1 23012 1)
 *
 * A server to try it with (hat-event 0.9.44, memory backend):
 *
 *   echo '{"name": "ex", "server_id": 1, "modules": [],
 *          "backend": {"module": "hat.event.backends.memory"},
 *          "eventer_server": {"host": "127.0.0.1", "port": 23012}}' > event.json
 *   hat-event-server --conf event.json
 */
#include <hat/event.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, hat_event_last_error_message());
    return EXIT_FAILURE;
}

static void print_event(const char *prefix, const hat_event_event_t *event) {
    hat_event_buffer_t *json = NULL;
    if (hat_event_event_to_json(event, &json) == HAT_EVENT_OK) {
        printf("%s %s\n", prefix, (const char *)hat_event_buffer_data(json));
        hat_event_buffer_destroy(json);
    }
}

/* The callbacks run on the client's reader thread, one at a time. */
static void on_status(void *user_data, hat_event_server_status_t status) {
    (void)user_data;
    printf("status %u\n", (unsigned)status);
    fflush(stdout);
}

static void on_events(void *user_data, const hat_event_event_t *const *events, size_t count) {
    size_t i;
    (void)user_data;
    for (i = 0; i < count; i++) {
        print_event("notified", events[i]); /* borrowed: clone to keep */
    }
    fflush(stdout);
}

static void on_closed(void *user_data, hat_event_status_t reason, hat_event_str_t message) {
    (void)user_data;
    printf("closed (%s): %.*s\n", hat_event_status_str(reason), (int)message.len, message.ptr);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 23012;
    double seconds = argc > 3 ? atof(argv[3]) : 1.0;

    hat_event_str_t subscription[] = {{"example", 7}, {"*", 1}};
    hat_event_event_type_view_t subscriptions[] = {{subscription, 2}};
    hat_event_str_t counter_type[] = {{"example", 7}, {"counter", 7}};
    hat_event_str_t note_type[] = {{"example", 7}, {"note", 4}};

    hat_event_client_options_t options;
    hat_event_client_t *client = NULL;
    hat_event_payload_t *payload = NULL;
    hat_event_register_event_t *counter = NULL, *note = NULL;
    hat_event_msg_t *response = NULL;
    hat_event_query_params_t *params = NULL;
    hat_event_query_result_t *result = NULL;
    hat_event_status_t status;
    size_t i;
    int rc = EXIT_SUCCESS;

    hat_event_client_options_init(&options);
    options.host = hat_event_str_from_cstr(host);
    options.port = (uint16_t)port;
    options.client_name = hat_event_str_from_cstr("eventer_client_example");
    options.subscriptions = subscriptions;
    options.subscriptions_len = 1;
    options.status_cb = on_status;
    options.events_cb = on_events;
    options.closed_cb = on_closed;
    if (hat_event_client_connect(&options, &client) != HAT_EVENT_OK) {
        return fail("connect");
    }
    printf("connected, server status %u\n", (unsigned)hat_event_client_server_status(client));

    if (hat_event_payload_create_json(hat_event_str_from_cstr("{\"value\": 1}"), &payload) != HAT_EVENT_OK ||
        hat_event_register_event_create(counter_type, 2, NULL, payload, &counter) != HAT_EVENT_OK ||
        hat_event_register_event_create(note_type, 2, NULL, NULL, &note) != HAT_EVENT_OK ||
        hat_event_query_params_create_latest(&params) != HAT_EVENT_OK ||
        hat_event_query_params_set_event_types(params, subscriptions, 1) != HAT_EVENT_OK) {
        rc = fail("building events");
        goto out;
    }

    /* Register and wait (at most 5 s) for the events the server made. */
    {
        const hat_event_register_event_t *events[] = {counter};
        if (hat_event_client_register_wait(client, events, 1, 5.0, &response) != HAT_EVENT_OK) {
            rc = fail("register");
            goto out;
        }
    }
    if (hat_event_msg_register_res_failed(response)) {
        printf("the server did not register the event (not operational?)\n");
    }
    for (i = 0; i < hat_event_msg_events_len(response); i++) {
        print_event("registered", hat_event_msg_event(response, i));
    }

    /* Register without waiting: returns once sent. */
    {
        const hat_event_register_event_t *events[] = {note};
        if (hat_event_client_register(client, events, 1) != HAT_EVENT_OK) {
            rc = fail("register");
            goto out;
        }
    }

    if (hat_event_client_query(client, params, 5.0, &result) != HAT_EVENT_OK) {
        rc = fail("query");
        goto out;
    }
    for (i = 0; i < hat_event_query_result_len(result); i++) {
        print_event("latest", hat_event_query_result_event(result, i));
    }
    fflush(stdout);

    /* Print notifications for a while (or until the server goes away). */
    status = hat_event_client_wait_closed(client, seconds);
    if (status == HAT_EVENT_OK) {
        printf("the connection ended\n");
    }

out:
    hat_event_client_destroy(client); /* no callback runs after this */
    hat_event_query_result_destroy(result);
    hat_event_query_params_destroy(params);
    hat_event_msg_destroy(response);
    hat_event_register_event_destroy(note);
    hat_event_register_event_destroy(counter);
    hat_event_payload_destroy(payload);
    return rc;
}
