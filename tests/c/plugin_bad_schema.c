/*
 * A module library whose JSON schema cannot validate (its id is not in its
 * repository): importing it must fail with HAT_EVENT_ERR_SCHEMA naming the
 * id as given, and an engine naming it by path with HAT_EVENT_ERR_IMPORT
 * (test_engine.c).
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

static const hat_event_module_info_t info = {HAT_EVENT_PLUGIN_ABI_VERSION, NULL, never_called, {"x", 1},
                                             {"{\"y\": {}}", 9}};

const hat_event_module_info_t *hat_event_module_info(void);

const hat_event_module_info_t *hat_event_module_info(void) {
    return &info;
}
