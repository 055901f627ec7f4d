/*
 * counter_module.c - a hat-event module written in C, built as a shared
 * library and loaded by an engine by path:
 *
 *   {"server_id": 1, "backend": {"module": "memory"},
 *    "modules": [{"module": "./libhat_event_counter_module.so"}]}
 *
 * It subscribes to ('sensor', '*') and, for every sensor event of a
 * session, derives one ('counter', 'sensor') event whose JSON payload is the
 * number of sensor events seen so far: {"count": N}. The derived event is
 * part of the same session (same session id and timestamp).
 *
 * Its configuration is validated by the engine against the JSON schema
 * below before create: only "module" is allowed.
 */

#include <stdio.h>
#include <stdlib.h>

#include <hat/event.h>

#define SV(lit) {(lit), sizeof(lit) - 1}

typedef struct {
    long count;
} counter_t;

static const char schema_id[] = "hat-event-c://counter_module.yaml";
static const char schema_repo[] =
    "{\"hat-event-c://counter_module.yaml\": {"
    "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
    "\"type\": \"object\", \"required\": [\"module\"],"
    "\"properties\": {\"module\": {\"type\": \"string\"}},"
    "\"additionalProperties\": false}}";

static hat_event_status_t fail(hat_event_status_t status, const char *message) {
    hat_event_str_t m = {message, 0};
    while (message[m.len] != '\0') {
        m.len++;
    }
    hat_event_plugin_set_error(m);
    return status;
}

static hat_event_status_t counter_process(void *instance, hat_event_source_t source,
                                          const hat_event_event_t *event,
                                          hat_event_register_event_list_t *out) {
    counter_t *counter = instance;
    static const hat_event_str_t type[] = {SV("counter"), SV("sensor")};
    char json[48];
    hat_event_payload_t *payload = NULL;
    hat_event_register_event_t *derived = NULL;
    hat_event_status_t status;
    int len;
    (void)source;
    (void)event;

    counter->count++;
    len = snprintf(json, sizeof json, "{\"count\": %ld}", counter->count);
    status = hat_event_payload_create_json((hat_event_str_t){json, (size_t)len}, &payload);
    if (status == HAT_EVENT_OK) {
        status = hat_event_register_event_create(type, 2, NULL, payload, &derived);
    }
    if (status == HAT_EVENT_OK) {
        status = hat_event_register_event_list_append(out, derived);
    }
    hat_event_register_event_destroy(derived);
    hat_event_payload_destroy(payload);
    return status == HAT_EVENT_OK ? HAT_EVENT_OK : fail(status, hat_event_last_error_message());
}

static void counter_finalize(void *instance) {
    free(instance);
}

static hat_event_status_t counter_create(void *user_data, hat_event_str_t conf,
                                         hat_event_engine_t *engine, hat_event_source_t source,
                                         hat_event_module_t *out) {
    static const hat_event_str_t query_type[] = {SV("sensor"), SV("*")};
    hat_event_event_type_view_t view = {query_type, 2};
    counter_t *counter;
    hat_event_subscription_t *subscription = NULL;
    (void)user_data;
    (void)conf; /* validated by the engine against the schema */
    (void)engine;
    (void)source;

    if (hat_event_subscription_create(&view, 1, &subscription) != HAT_EVENT_OK) {
        return fail(HAT_EVENT_ERR_INTERNAL, "counter: cannot create the subscription");
    }
    counter = calloc(1, sizeof *counter);
    if (counter == NULL) {
        hat_event_subscription_destroy(subscription);
        return fail(HAT_EVENT_ERR_INTERNAL, "counter: out of memory");
    }
    out->struct_size = sizeof *out;
    out->instance = counter;
    out->subscription = subscription; /* the engine owns it from here */
    out->process = counter_process;
    out->finalize = counter_finalize;
    return HAT_EVENT_OK;
}

static const hat_event_module_info_t info = {
    .abi_version = HAT_EVENT_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(hat_event_module_info_t),
    .create = counter_create,
    .json_schema_id = {schema_id, sizeof schema_id - 1},
    .json_schema_repo = {schema_repo, sizeof schema_repo - 1},
};

/* The well-known symbol the engine looks up after dlopen (HAT_EVENT_MODULE_INFO_SYMBOL),
 * declared by the header: a definition of another type does not compile. */
const hat_event_module_info_t *hat_event_module_info(void) {
    return &info;
}
