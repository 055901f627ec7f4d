/*
 * An "old" plug-in: a backend and a module library written against
 * hat-event-c 0.1's header, whose plug-in declarations are frozen below
 * (copied from 0.1's include/hat/event.h, nothing of later headers
 * included): infos of abi_version 1 without struct_size or finalizer,
 * 0.1's vtables. Loaded by path into the current library next to current
 * plug-ins (test_plugin_abi.c), it must load and run.
 *
 * The backend keeps nothing: it counts the events it is given (in
 * old_backend_registered, read by the test through dlsym), reports them
 * registered and answers every query with no events. The module derives
 * one ('old', 'seen') event for every ('old', *) event but its own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- frozen: hat-event-c 0.1 ------------------------------------------- */

typedef uint32_t hat_event_status_t;
#define HAT_EVENT_OK 0
#define HAT_EVENT_PLUGIN_ABI_VERSION_0_1 1

typedef struct hat_event_str_t {
    const char *ptr;
    size_t len;
} hat_event_str_t;

typedef struct hat_event_event_type_view_t {
    const struct hat_event_str_t *segments;
    size_t len;
} hat_event_event_type_view_t;

typedef struct hat_event_source_t {
    uint32_t type_;
    int64_t id;
} hat_event_source_t;

typedef struct hat_event_event_id_t {
    int64_t server;
    int64_t session;
    int64_t instance;
} hat_event_event_id_t;

typedef struct hat_event_event_t hat_event_event_t;
typedef struct hat_event_engine_t hat_event_engine_t;
typedef struct hat_event_subscription_t hat_event_subscription_t;
typedef struct hat_event_register_event_t hat_event_register_event_t;
typedef struct hat_event_register_event_list_t hat_event_register_event_list_t;
typedef struct hat_event_backend_host_t hat_event_backend_host_t;
typedef struct hat_event_query_params_t hat_event_query_params_t;
typedef struct hat_event_query_result_t hat_event_query_result_t;
typedef struct hat_event_payload_t hat_event_payload_t;
typedef struct hat_event_timestamp_t hat_event_timestamp_t;

typedef struct hat_event_backend_t {
    size_t struct_size;
    void *instance;
    hat_event_status_t (*get_last_event_id)(void *instance, int64_t server_id, hat_event_event_id_t *out);
    hat_event_status_t (*register_events)(void *instance, const hat_event_event_t *const *events, size_t count);
    hat_event_status_t (*query)(void *instance, const hat_event_query_params_t *params,
                                hat_event_query_result_t **out);
    hat_event_status_t (*flush)(void *instance);
    void (*finalize)(void *instance);
} hat_event_backend_t;

typedef struct hat_event_module_t {
    size_t struct_size;
    void *instance;
    hat_event_subscription_t *subscription;
    hat_event_status_t (*on_session_start)(void *instance, int64_t session_id);
    hat_event_status_t (*on_session_stop)(void *instance, int64_t session_id);
    hat_event_status_t (*process)(void *instance, hat_event_source_t source, const hat_event_event_t *event,
                                  hat_event_register_event_list_t *out);
    void (*finalize)(void *instance);
} hat_event_module_t;

typedef hat_event_status_t (*hat_event_backend_create_t)(void *user_data, hat_event_str_t conf,
                                                         hat_event_backend_host_t *host, hat_event_backend_t *out);
typedef hat_event_status_t (*hat_event_module_create_t)(void *user_data, hat_event_str_t conf,
                                                        hat_event_engine_t *engine, hat_event_source_t source,
                                                        hat_event_module_t *out);

typedef struct hat_event_backend_info_t {
    uint32_t abi_version;
    void *user_data;
    hat_event_backend_create_t create;
    hat_event_str_t json_schema_id;
    hat_event_str_t json_schema_repo;
} hat_event_backend_info_t;

typedef struct hat_event_module_info_t {
    uint32_t abi_version;
    void *user_data;
    hat_event_module_create_t create;
    hat_event_str_t json_schema_id;
    hat_event_str_t json_schema_repo;
} hat_event_module_info_t;

hat_event_status_t hat_event_backend_host_registered(hat_event_backend_host_t *host,
                                                     const hat_event_event_t *const *events, size_t count);
hat_event_status_t hat_event_query_result_create(bool more_follows, hat_event_query_result_t **out);
hat_event_status_t hat_event_subscription_create(const hat_event_event_type_view_t *query_types, size_t count,
                                                 hat_event_subscription_t **out);
hat_event_status_t hat_event_register_event_create(const hat_event_str_t *type_, size_t type_len,
                                                   const hat_event_timestamp_t *source_timestamp,
                                                   const hat_event_payload_t *payload,
                                                   hat_event_register_event_t **out);
void hat_event_register_event_destroy(hat_event_register_event_t *event);
hat_event_status_t hat_event_register_event_list_append(hat_event_register_event_list_t *list,
                                                        const hat_event_register_event_t *event);

/* ---- the plug-in --------------------------------------------------------- */

/* Read by the test through dlsym. */
long old_backend_registered = 0;
long old_module_processed = 0;
long old_instances_finalized = 0;

static int instance_tag;

static hat_event_status_t old_register(void *instance, const hat_event_event_t *const *events, size_t count) {
    hat_event_backend_host_t *host = instance;
    old_backend_registered += (long)count;
    return hat_event_backend_host_registered(host, events, count);
}

static hat_event_status_t old_query(void *instance, const hat_event_query_params_t *params,
                                    hat_event_query_result_t **out) {
    (void)instance;
    (void)params;
    return hat_event_query_result_create(false, out);
}

static void old_finalize(void *instance) {
    (void)instance;
    old_instances_finalized++;
}

static hat_event_status_t old_backend_create(void *user_data, hat_event_str_t conf, hat_event_backend_host_t *host,
                                             hat_event_backend_t *out) {
    (void)user_data;
    (void)conf;
    out->struct_size = sizeof *out; /* 0.1's size */
    out->instance = host;
    out->register_events = old_register;
    out->query = old_query;
    out->finalize = old_finalize;
    return HAT_EVENT_OK;
}

#define SV(lit) {(lit), sizeof(lit) - 1}

static hat_event_status_t old_process(void *instance, hat_event_source_t source, const hat_event_event_t *event,
                                      hat_event_register_event_list_t *out) {
    static const hat_event_str_t seen[] = {SV("old"), SV("seen")};
    hat_event_register_event_t *derived = NULL;
    hat_event_status_t status;
    (void)instance;
    (void)event;
    old_module_processed++;
    if (source.type_ == 2) { /* HAT_EVENT_SOURCE_TYPE_MODULE: its own event comes back */
        return HAT_EVENT_OK;
    }
    status = hat_event_register_event_create(seen, 2, NULL, NULL, &derived);
    if (status == HAT_EVENT_OK) {
        status = hat_event_register_event_list_append(out, derived);
    }
    hat_event_register_event_destroy(derived);
    return status;
}

static hat_event_status_t old_module_create(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                            hat_event_source_t source, hat_event_module_t *out) {
    static const hat_event_str_t query[] = {SV("old"), SV("*")};
    hat_event_event_type_view_t view = {query, 2};
    (void)user_data;
    (void)conf;
    (void)engine;
    (void)source;
    if (hat_event_subscription_create(&view, 1, &out->subscription) != HAT_EVENT_OK) {
        return 1;
    }
    out->struct_size = sizeof *out; /* 0.1's size */
    out->instance = &instance_tag;
    out->process = old_process;
    out->finalize = old_finalize;
    return HAT_EVENT_OK;
}

static const hat_event_backend_info_t backend_info = {HAT_EVENT_PLUGIN_ABI_VERSION_0_1, NULL, old_backend_create,
                                                      {NULL, 0}, {NULL, 0}};
static const hat_event_module_info_t module_info = {HAT_EVENT_PLUGIN_ABI_VERSION_0_1, NULL, old_module_create,
                                                    {NULL, 0}, {NULL, 0}};

/* 0.1 declared no prototypes for the exports: each plug-in wrote its own. */
const hat_event_backend_info_t *hat_event_backend_info(void);
const hat_event_module_info_t *hat_event_module_info(void);

const hat_event_backend_info_t *hat_event_backend_info(void) {
    return &backend_info;
}

const hat_event_module_info_t *hat_event_module_info(void) {
    return &module_info;
}
