/*
 * A module library whose JSON schema cannot validate (its id is not in its
 * repository): importing it must fail with HAT_EVENT_ERR_SCHEMA naming the
 * id as given, and an engine naming it by path with HAT_EVENT_ERR_IMPORT
 * (test_engine.c); its user_data is finalised once (test_plugin_abi.c).
 */
#include <stddef.h>

#include <hat/event.h>

static hat_event_status_t never_called(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                       hat_event_source_t source, hat_event_module_t *out) {
    (void)user_data;
    (void)conf;
    (void)engine;
    (void)source;
    (void)out;
    return HAT_EVENT_ERR_PLUGIN;
}

/* How often the library finalised the info's user_data (read by
 * test_plugin_abi.c through dlsym): once, however often it is imported. */
long bad_schema_finalized = 0;

static void count_finalize(void *user_data) {
    ++*(long *)user_data;
}

static const hat_event_module_info_t info = {.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION,
                                             .struct_size = sizeof(hat_event_module_info_t),
                                             .user_data = &bad_schema_finalized,
                                             .create = never_called,
                                             .json_schema_id = {"x", 1},
                                             .json_schema_repo = {"{\"y\": {}}", 9},
                                             .finalize_user_data = count_finalize};

const hat_event_module_info_t *hat_event_module_info(void) {
    return &info;
}
