// The header compiled as C++ (C++11 and C++17, -Wall -Wextra -Werror
// -pedantic): it must declare everything extern "C", use no C-only
// constructs, and its types must have the layout the library expects.
// A few calls check that the program links and runs.

#include <hat/event.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(std::is_same<hat_event_status_t, uint32_t>::value, "status is uint32_t");
static_assert(sizeof(hat_event_timestamp_t) == 16, "timestamp is {int64_t, uint32_t}");
static_assert(sizeof(hat_event_event_id_t) == 24, "event id is three int64_t");
static_assert(sizeof(hat_event_str_t) == 2 * sizeof(void *), "str view is {ptr, len}");
static_assert(sizeof(hat_event_datetime_t) == 7 * sizeof(int32_t), "datetime is seven int32_t");
static_assert(HAT_EVENT_TIMESTAMP_BYTES_LEN == 12, "12-byte timestamps");
static_assert(HAT_EVENT_TIMESTAMP_RFC3339_SIZE == 28, "27 characters and a NUL");

namespace {

int failures = 0;

void check(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s (%s)\n", what, hat_event_last_error_message());
        ++failures;
    }
}

// The codes are integer constant expressions, usable as case labels.
const char *name(hat_event_status_t status) {
    switch (status) {
    case HAT_EVENT_OK:
        return "ok";
    case HAT_EVENT_ERR_NULL_ARGUMENT:
        return "null";
    default:
        return "other";
    }
}

}  // namespace

int main() {
    char version[32];
    std::snprintf(version, sizeof version, "%d.%d.%d", HAT_EVENT_VERSION_MAJOR, HAT_EVENT_VERSION_MINOR,
                  HAT_EVENT_VERSION_PATCH);
    check(std::strcmp(hat_event_version(), version) == 0, "version matches the header");

    hat_event_timestamp_t t = {0, 0};
    hat_event_timestamp_t later = {0, 0};
    check(hat_event_timestamp_add(t, 1.5, &later) == HAT_EVENT_OK, "timestamp_add");
    check(later.s == 1 && later.us == 500000, "timestamp_add result");
    check(hat_event_timestamp_add(t, 1.0, nullptr) == HAT_EVENT_ERR_NULL_ARGUMENT, "NULL out");
    check(std::strcmp(name(hat_event_last_error_status()), "null") == 0, "last error status");

    char text[HAT_EVENT_TIMESTAMP_RFC3339_SIZE];
    check(hat_event_timestamp_to_rfc3339(later, text, sizeof text, nullptr) == HAT_EVENT_OK, "to_rfc3339");
    check(std::strcmp(text, "1970-01-01T00:00:01.500000Z") == 0, "rfc3339 text");

    double f = 0;
    check(hat_event_timestamp_to_float(later, &f) == HAT_EVENT_OK && std::fabs(f - 1.5) < 1e-12, "to_float");

    const hat_event_str_t event_type[] = {{"gw", 2}, {"dev1", 4}, {"temp", 4}};
    const hat_event_str_t query_type[] = {{"gw", 2}, {"*", 1}};
    bool matches = false;
    check(hat_event_matches_query_type(event_type, 3, query_type, 2, &matches) == HAT_EVENT_OK && matches,
          "matches_query_type");

    hat_event_event_type_t *type = nullptr;
    check(hat_event_event_type_create(event_type, 3, &type) == HAT_EVENT_OK, "event_type_create");
    hat_event_str_t segment = hat_event_event_type_segment(type, 1);
    check(segment.len == 4 && std::memcmp(segment.ptr, "dev1", 4) == 0, "event_type_segment");

    hat_event_payload_t *payload = nullptr;
    check(hat_event_payload_create_json(hat_event_str_from_cstr("{\"v\": 21.5}"), &payload) == HAT_EVENT_OK,
          "payload_create_json");
    hat_event_buffer_t *json = nullptr;
    check(hat_event_payload_json_text(payload, &json) == HAT_EVENT_OK, "payload_json_text");
    check(std::strcmp(reinterpret_cast<const char *>(hat_event_buffer_data(json)), "{\"v\": 21.5}") == 0,
          "json text");

    const hat_event_event_id_t id = {1, 2, 3};
    hat_event_event_t *event = nullptr;
    check(hat_event_event_create(id, event_type, 3, later, nullptr, payload, &event) == HAT_EVENT_OK,
          "event_create");
    check(hat_event_event_type_equal(hat_event_event_get_type(event), type), "event type");
    check(hat_event_payload_equal(hat_event_event_payload(event), payload), "event payload");

    hat_event_event_destroy(event);
    hat_event_buffer_destroy(json);
    hat_event_payload_destroy(payload);
    hat_event_event_type_destroy(type);

    std::printf("%s: %d failures\n", name(failures == 0 ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL), failures);
    return failures == 0 ? 0 : 1;
}
