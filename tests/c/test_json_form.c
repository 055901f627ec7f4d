/*
 * test_json_form.c - events and query results in hat-event manager's JSON
 * form: the exact text (from hat.json.encode(event_to_json(...))), reading
 * it back, and the error paths.
 */
#include "check.h"
#include "util.h"

/* hat-event 0.9.44: hat.json.encode(manager.common.event_to_json(Event(
 * EventId(1, -2, 3), ('a', 'ž'), Timestamp(5, 6), Timestamp(-7, 8),
 * EventPayloadBinary('t', b'\x00\xab\xff')))) */
static const char EVENT_JSON[] =
    "{\"id\": {\"server\": 1, \"session\": -2, \"instance\": 3}, \"type\": [\"a\", \"\\u017e\"], "
    "\"timestamp\": {\"s\": 5, \"us\": 6}, \"source_timestamp\": {\"s\": -7, \"us\": 8}, "
    "\"payload\": {\"data_type\": \"binary\", \"binary_type\": \"t\", \"data\": \"00abff\"}}";

static void test_event_text(void) {
    static const uint8_t data[] = {0x00, 0xab, 0xff};
    hat_event_str_t type[2];
    hat_event_event_id_t id = {1, -2, 3};
    hat_event_timestamp_t ts = {5, 6}, source = {-7, 8};
    hat_event_payload_t *payload = NULL;
    hat_event_event_t *event = NULL, *back = NULL;
    hat_event_buffer_t *text = NULL;
    type[0] = STR("a");
    type[1] = STR("\xc5\xbe");
    REQUIRE_OK(hat_event_payload_create_binary(STR("t"), (hat_event_bytes_t){data, sizeof data}, &payload));
    REQUIRE_OK(hat_event_event_create(id, type, 2, ts, &source, payload, &event));
    REQUIRE_OK(hat_event_event_to_json(event, &text));
    if (!CHECK(strcmp((const char *)hat_event_buffer_data(text), EVENT_JSON) == 0)) {
        fprintf(stderr, "    got %s\n", (const char *)hat_event_buffer_data(text));
    }
    REQUIRE_OK(hat_event_event_from_json(STR(EVENT_JSON), &back));
    CHECK(hat_event_event_equal(event, back));
    hat_event_buffer_destroy(text);
    hat_event_event_destroy(back);
    hat_event_event_destroy(event);
    hat_event_payload_destroy(payload);
}

static void test_result_text(void) {
    hat_event_query_result_t *result = NULL, *back = NULL;
    hat_event_event_t *event = NULL;
    hat_event_buffer_t *text = NULL;
    REQUIRE_OK(hat_event_query_result_create(false, &result));
    REQUIRE_OK(hat_event_query_result_to_json(result, &text));
    CHECK(strcmp((const char *)hat_event_buffer_data(text), "{\"events\": [], \"more_follows\": false}") == 0);
    hat_event_buffer_destroy(text);
    REQUIRE_OK(hat_event_event_from_json(STR(EVENT_JSON), &event));
    REQUIRE_OK(hat_event_query_result_append(result, event));
    REQUIRE_OK(hat_event_query_result_set_more_follows(result, true));
    REQUIRE_OK(hat_event_query_result_to_json(result, &text));
    REQUIRE_OK(hat_event_query_result_from_json(
        (hat_event_str_t){(const char *)hat_event_buffer_data(text), hat_event_buffer_len(text)}, &back));
    CHECK(hat_event_query_result_equal(result, back));
    CHECK(hat_event_query_result_len(back) == 1 && hat_event_query_result_more_follows(back));
    hat_event_buffer_destroy(text);
    hat_event_query_result_destroy(back);
    hat_event_query_result_destroy(result);
    hat_event_event_destroy(event);
}

static void test_errors(void) {
    hat_event_event_t *event = SENTINEL_PTR;
    hat_event_query_result_t *result = SENTINEL_PTR;
    hat_event_buffer_t *text = SENTINEL_PTR;
    CHECK_STATUS(hat_event_event_to_json(NULL, &text), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_result_to_json(NULL, &text), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(text == SENTINEL_PTR);
    CHECK_STATUS(hat_event_event_from_json(STR(EVENT_JSON), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_from_json(STR("\"\xff\""), &event), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_event_from_json(STR("{\"id\": 1}"), &event), HAT_EVENT_ERR_INVALID_JSON);
    CHECK(strstr(hat_event_last_error_message(), "lacks member") != NULL);
    CHECK_STATUS(hat_event_event_from_json(STR("{"), &event), HAT_EVENT_ERR_INVALID_JSON);
    CHECK_STATUS(hat_event_query_result_from_json(STR("{\"events\": [1], \"more_follows\": false}"), &result),
                 HAT_EVENT_ERR_INVALID_JSON);
    CHECK(strstr(hat_event_last_error_message(), "events[0]") != NULL);
    CHECK(event == SENTINEL_PTR && result == SENTINEL_PTR);
}

int main(void) {
    RUN(test_event_text);
    RUN(test_result_text);
    RUN(test_errors);
    return check_finish();
}
