/*
 * quickstart.c - a tour of hat-event-c from C: timestamps, event types and
 * matching, payloads, events and a query result; then an engine with the
 * built-in memory backend and the example counter module
 * (counter_module.c, a shared library loaded by path) registering a few
 * events, printing the events each session produced and a query result.
 * Every call is checked and everything created is destroyed.
 *
 * Build it with CMake (find_package(hat_event) + hat_event::hat_event), or:
 *   cc quickstart.c $(pkg-config --cflags --libs hat_event)
 * Run it as `quickstart [PATH_OF_COUNTER_MODULE]`; CMake builds the module
 * next to it and compiles its path in as the default.
 */
#include <hat/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stop with the library's own explanation when a call fails. */
#define TRY(call)                                                            \
    do {                                                                     \
        hat_event_status_t status_ = (call);                                 \
        if (status_ != HAT_EVENT_OK) {                                       \
            fprintf(stderr, "%s failed: %s\n", #call,                        \
                    hat_event_last_error_message());                         \
            exit(EXIT_FAILURE);                                              \
        }                                                                    \
    } while (0)

/* A string view of a C string literal or NUL-terminated string. */
static hat_event_str_t str(const char *s) {
    hat_event_str_t view;
    view.ptr = s;
    view.len = strlen(s);
    return view;
}

static void print_event_type(const hat_event_event_type_t *type);

/* Prints an event as "(server, session, instance) type payload". */
static void print_event(const char *prefix, const hat_event_event_t *event) {
    hat_event_event_id_t id = hat_event_event_get_id(event);
    hat_event_buffer_t *json = NULL;
    printf("%s(%lld, %lld, %lld) ", prefix, (long long)id.server, (long long)id.session,
           (long long)id.instance);
    print_event_type(hat_event_event_get_type(event));
    if (hat_event_event_payload(event) != NULL &&
        hat_event_payload_json_text(hat_event_event_payload(event), &json) == HAT_EVENT_OK) {
        printf(" %s", (const char *)hat_event_buffer_data(json));
    }
    hat_event_buffer_destroy(json);
    printf("\n");
}

/* The engine's registered-events hook: every event of every session. */
static void on_registered(void *user_data, const hat_event_event_t *const *events, size_t count) {
    size_t i;
    (void)user_data;
    printf("session of %u event(s):\n", (unsigned)count);
    for (i = 0; i < count; i++) {
        print_event("  ", events[i]);
    }
}

/* An engine (server 1, memory backend, the counter module loaded from
 * `module_path`) registering sensor readings; the module derives a
 * ('counter', 'sensor') event in the same session for each. */
static void run_engine(const char *module_path) {
    char conf[1024];
    hat_event_engine_hooks_t hooks;
    hat_event_engine_t *engine = NULL;
    hat_event_query_params_t *params = NULL;
    hat_event_query_result_t *result = NULL;
    hat_event_source_t source;
    const char *readings[] = {"21.5", "22.0"};
    size_t i;

    if (module_path != NULL) {
        snprintf(conf, sizeof conf,
                 "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"},"
                 " \"modules\": [{\"module\": \"%s\"}]}", module_path);
    } else {
        printf("(no counter module path given: the engine runs without modules)\n");
        snprintf(conf, sizeof conf, "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}");
    }
    TRY(hat_event_engine_hooks_init(&hooks));
    hooks.registered = on_registered;
    TRY(hat_event_engine_create(str(conf), &hooks, &engine));

    source.type = HAT_EVENT_SOURCE_TYPE_EVENTER;
    source.id = 1;
    for (i = 0; i < sizeof readings / sizeof readings[0]; i++) {
        hat_event_str_t type[2];
        hat_event_payload_t *payload = NULL;
        hat_event_register_event_t *event = NULL;
        const hat_event_register_event_t *events[1];
        hat_event_event_list_t *registered = NULL;
        type[0] = str("sensor");
        type[1] = str("temperature");
        TRY(hat_event_payload_create_json(str(readings[i]), &payload));
        TRY(hat_event_register_event_create(type, 2, NULL, payload, &event));
        events[0] = event;
        TRY(hat_event_engine_register(engine, source, events, 1, &registered));
        print_event("registered: ", hat_event_event_list_get(registered, 0));
        hat_event_event_list_destroy(registered);
        hat_event_register_event_destroy(event);
        hat_event_payload_destroy(payload);
    }

    /* The latest event of every type. */
    TRY(hat_event_query_params_create_latest(&params));
    TRY(hat_event_engine_query(engine, params, &result));
    printf("query latest: %u event(s)\n", (unsigned)hat_event_query_result_len(result));
    for (i = 0; i < hat_event_query_result_len(result); i++) {
        print_event("  ", hat_event_query_result_event(result, i));
    }
    hat_event_query_result_destroy(result);
    hat_event_query_params_destroy(params);

    TRY(hat_event_engine_close(engine)); /* registers STOPPED */
    hat_event_engine_destroy(engine);
}

static void print_event_type(const hat_event_event_type_t *type) {
    size_t i;
    printf("(");
    for (i = 0; i < hat_event_event_type_len(type); i++) {
        hat_event_str_t segment = hat_event_event_type_segment(type, i);
        printf("%s'%.*s'", i ? ", " : "", (int)segment.len, segment.ptr);
    }
    printf(")");
}

int main(int argc, char **argv) {
    char text[HAT_EVENT_TIMESTAMP_RFC3339_SIZE];
    hat_event_timestamp_t now, later, from_float;
    hat_event_datetime_t dt;
    double seconds;
    bool matches;
    size_t i;

    printf("hat-event-c %s\n", hat_event_version());

    /* Timestamps are plain values: no allocation, nothing to free. */
    TRY(hat_event_timestamp_now(&now));
    TRY(hat_event_timestamp_add(now, 1.5, &later));
    TRY(hat_event_timestamp_to_rfc3339(later, text, sizeof text, NULL));
    TRY(hat_event_timestamp_to_datetime(later, &dt));
    printf("now + 1.5 s = %s (year %d, day %d)\n", text, (int)dt.year, (int)dt.day);

    TRY(hat_event_timestamp_from_float(1000.01, &from_float));
    TRY(hat_event_timestamp_to_float(from_float, &seconds));
    printf("1000.01 -> {s=%lld, us=%u} -> %.6f\n", (long long)from_float.s,
           (unsigned)from_float.us, seconds);

    /* Event types are arrays of segment views; '?' and a trailing '*' are
       wildcards in query types. */
    {
        hat_event_str_t event_type[3];
        hat_event_str_t query_type[2];
        event_type[0] = str("gateway");
        event_type[1] = str("device1");
        event_type[2] = str("temperature");
        query_type[0] = str("gateway");
        query_type[1] = str("*");
        TRY(hat_event_matches_query_type(event_type, 3, query_type, 2, &matches));
        printf("('gateway', 'device1', 'temperature') matches ('gateway', '*'): %s\n",
               matches ? "yes" : "no");
        query_type[1] = str("?");
        TRY(hat_event_matches_query_type(event_type, 3, query_type, 2, &matches));
        printf("('gateway', 'device1', 'temperature') matches ('gateway', '?'): %s\n",
               matches ? "yes" : "no");
    }

    /* Events are opaque handles: create, read through getters, destroy. */
    {
        hat_event_str_t type[3];
        hat_event_event_id_t id;
        hat_event_payload_t *payload = NULL;
        hat_event_event_t *event = NULL;
        hat_event_query_result_t *result = NULL;
        hat_event_buffer_t *json = NULL;
        const hat_event_event_t *stored;

        type[0] = str("gateway");
        type[1] = str("device1");
        type[2] = str("temperature");
        id.server = 1;
        id.session = 2;
        id.instance = 3;

        TRY(hat_event_payload_create_json(str("{\"value\": 21.5, \"unit\": \"C\"}"), &payload));
        /* The event copies the payload: we still own ours and free it below. */
        TRY(hat_event_event_create(id, type, 3, now, &later, payload, &event));

        printf("event ");
        print_event_type(hat_event_event_get_type(event));
        TRY(hat_event_payload_json_text(hat_event_event_payload(event), &json));
        /* Buffers are NUL-terminated, so JSON text prints directly. */
        printf(" payload %s\n", (const char *)hat_event_buffer_data(json));

        /* A query result owns copies of the events appended to it; events
           read from it are borrowed and live as long as the result. */
        TRY(hat_event_query_result_create(false, &result));
        TRY(hat_event_query_result_append(result, event));
        for (i = 0; i < hat_event_query_result_len(result); i++) {
            stored = hat_event_query_result_event(result, i);
            printf("result[%u] equals the event: %s\n", (unsigned)i,
                   hat_event_event_equal(stored, event) ? "yes" : "no");
        }

        hat_event_buffer_destroy(json);
        hat_event_query_result_destroy(result);
        hat_event_event_destroy(event);
        hat_event_payload_destroy(payload);
    }

    /* Errors carry a status and a message; nothing is written on failure. */
    {
        hat_event_timestamp_t bad;
        bad.s = 0;
        bad.us = 1000000;
        if (hat_event_timestamp_to_float(bad, &seconds) == HAT_EVENT_ERR_OUT_OF_RANGE)
            printf("invalid timestamp refused: %s\n", hat_event_last_error_message());
    }

    /* Plug-ins and the engine. */
    {
        const char *module_path = argc > 1 ? argv[1] : NULL;
#ifdef HAT_EVENT_QUICKSTART_MODULE
        if (module_path == NULL) {
            module_path = HAT_EVENT_QUICKSTART_MODULE;
        }
#endif
        run_engine(module_path);
    }

    return EXIT_SUCCESS;
}
