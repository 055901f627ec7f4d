/*
 * A module library built against another ABI version: importing it must
 * fail with HAT_EVENT_ERR_IMPORT naming the version (test_engine.c).
 */
#include <stddef.h>

#include <hat/event.h>

static const hat_event_module_info_t info = {999, NULL, NULL, {NULL, 0}, {NULL, 0}};

const hat_event_module_info_t *hat_event_module_info(void);

const hat_event_module_info_t *hat_event_module_info(void) {
    return &info;
}
