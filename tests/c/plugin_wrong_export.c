/*
 * The mistake a plug-in author made from a prose description of the
 * export: the info returned by value. The header declares the export, so
 * this does not compile (ctest c_plugin_export_by_value_does_not_compile
 * expects the compiler's "conflicting types" error); with
 * -DHAT_EVENT_TEST_RIGHT_EXPORT the right definition compiles with the
 * same flags (c_plugin_export_right_compiles).
 */
#include <stddef.h>

#include <hat/event.h>

static hat_event_status_t never_called(void *user_data, hat_event_str_t conf, hat_event_backend_host_t *host,
                                       hat_event_backend_t *out) {
    (void)user_data;
    (void)conf;
    (void)host;
    (void)out;
    return HAT_EVENT_ERR_PLUGIN;
}

static const hat_event_backend_info_t info = {.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION,
                                              .struct_size = sizeof(hat_event_backend_info_t),
                                              .create = never_called};

#ifdef HAT_EVENT_TEST_RIGHT_EXPORT
const hat_event_backend_info_t *hat_event_backend_info(void) {
    return &info;
}
#else
hat_event_backend_info_t hat_event_backend_info(void) {
    return info;
}
#endif
