/*
 * A module library built against another ABI version: importing it must
 * fail with HAT_EVENT_ERR_IMPORT naming the version (test_engine.c).
 */
#include <stddef.h>

#include <hat/event.h>

static const hat_event_module_info_t info = {.abi_version = 999, .struct_size = sizeof(hat_event_module_info_t)};

const hat_event_module_info_t *hat_event_module_info(void) {
    return &info;
}
