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

/* What Python's json.loads reads, hat-event forwards: a JSON payload
 * through payload create, SBS encode/decode and the JSON form both ways;
 * `expected` is the payload text json.dumps writes for `text`. */
static void check_payload_round_trips(const char *what, hat_event_str_t text, const char *expected,
                                      size_t expected_len) {
    hat_event_str_t type[1] = {SEG("t")};
    hat_event_event_id_t id = {1, 2, 3};
    hat_event_payload_t *payload = NULL;
    hat_event_event_t *event = NULL, *decoded = NULL, *back = NULL;
    hat_event_buffer_t *payload_text = NULL, *bytes = NULL, *form = NULL, *again = NULL;
    fprintf(stderr, "  %s\n", what);
    REQUIRE_OK(hat_event_payload_create_json(text, &payload));
    REQUIRE_OK(hat_event_payload_json_text(payload, &payload_text));
    CHECK(hat_event_buffer_len(payload_text) == expected_len &&
          memcmp(hat_event_buffer_data(payload_text), expected, expected_len) == 0);
    REQUIRE_OK(hat_event_event_create(id, type, 1, ts(5, 6), NULL, payload, &event));
    /* SBS: the encoding carries the text json.dumps writes, and decodes back */
    REQUIRE_OK(hat_event_event_encode(event, &bytes));
    CHECK(hat_event_buffer_len(bytes) > expected_len &&
          memcmp(hat_event_buffer_data(bytes) + hat_event_buffer_len(bytes) - expected_len, expected,
                 expected_len) == 0);
    REQUIRE_OK(hat_event_event_decode((hat_event_bytes_t){hat_event_buffer_data(bytes), hat_event_buffer_len(bytes)},
                                      &decoded));
    CHECK(hat_event_event_equal(event, decoded));
    CHECK(hat_event_payload_equal(payload, hat_event_event_payload(decoded)));
    /* the JSON form: written, and read back equal */
    REQUIRE_OK(hat_event_event_to_json(decoded, &form));
    REQUIRE_OK(hat_event_event_from_json(
        (hat_event_str_t){(const char *)hat_event_buffer_data(form), hat_event_buffer_len(form)}, &back));
    CHECK(hat_event_event_equal(event, back));
    REQUIRE_OK(hat_event_event_encode(back, &again));
    CHECK(hat_event_buffer_len(again) == hat_event_buffer_len(bytes) &&
          memcmp(hat_event_buffer_data(again), hat_event_buffer_data(bytes), hat_event_buffer_len(bytes)) == 0);
    hat_event_buffer_destroy(again);
    hat_event_buffer_destroy(form);
    hat_event_buffer_destroy(bytes);
    hat_event_buffer_destroy(payload_text);
    hat_event_event_destroy(back);
    hat_event_event_destroy(decoded);
    hat_event_event_destroy(event);
    hat_event_payload_destroy(payload);
}

static void test_json_python_reads(void) {
    enum { DEPTH = 100000 };
    /* Lone surrogate escapes: Python keeps them, json.dumps writes them back. */
    static const char lone[] = "{\"k\\uD800\":[\"\\udc00\",\"x\\ud83d\\u0041\"]}";
    static const char lone_dumped[] = "{\"k\\ud800\": [\"\\udc00\", \"x\\ud83dA\"]}";
    char *deep = malloc(2 * DEPTH + 16), *deep_dumped = malloc(2 * DEPTH + 16);
    size_t n = 0;
    hat_event_payload_t *payload = NULL;
    hat_event_buffer_t *text = NULL;
    check_payload_round_trips("lone surrogates", STR(lone), lone_dumped, sizeof lone_dumped - 1);
    /* 100,000 levels (Python's json stops near 1,000; we have no limit) */
    if (deep == NULL || deep_dumped == NULL) {
        CHECK(!"out of memory");
        free(deep);
        free(deep_dumped);
        return;
    }
    memset(deep, '[', DEPTH);
    n = DEPTH;
    memcpy(deep + n, " \"\\ud800\" ", 10);
    n += 10;
    memset(deep + n, ']', DEPTH);
    n += DEPTH;
    memset(deep_dumped, '[', DEPTH);
    memcpy(deep_dumped + DEPTH, "\"\\ud800\"", 8);
    memset(deep_dumped + DEPTH + 8, ']', DEPTH);
    check_payload_round_trips("100,000 levels", (hat_event_str_t){deep, n}, deep_dumped, 2 * DEPTH + 8);
    /* NaN is read (Python reads it) but cannot be written (allow_nan=False) */
    REQUIRE_OK(hat_event_payload_create_json(STR("[NaN]"), &payload));
    CHECK_STATUS(hat_event_payload_json_text(payload, &text), HAT_EVENT_ERR_INVALID_JSON);
    CHECK(strstr(hat_event_last_error_message(), "NaN") != NULL);
    hat_event_payload_destroy(payload);
    /* unbalanced deep text: an error with the byte offset, not a crash */
    CHECK_STATUS(hat_event_payload_create_json((hat_event_str_t){deep, DEPTH}, &payload), HAT_EVENT_ERR_INVALID_JSON);
    CHECK(strstr(hat_event_last_error_message(), "at byte 100000") != NULL);
    /* a bad \u escape is named as such */
    CHECK_STATUS(hat_event_payload_create_json(STR("\"\\u12\""), &payload), HAT_EVENT_ERR_INVALID_JSON);
    CHECK(strstr(hat_event_last_error_message(), "\\uXXXX") != NULL);
    /* a type segment must be Unicode to become UTF-8 */
    CHECK_STATUS(hat_event_event_from_json(STR("{\"id\": {\"server\": 1, \"session\": 2, \"instance\": 3}, "
                                               "\"type\": [\"\\ud800\"], \"timestamp\": {\"s\": 5, \"us\": 6}, "
                                               "\"source_timestamp\": null, \"payload\": null}"),
                                           &(hat_event_event_t *){NULL}),
                 HAT_EVENT_ERR_INVALID_JSON);
    CHECK(strstr(hat_event_last_error_message(), "event.type[0]") != NULL);
    free(deep);
    free(deep_dumped);
}

int main(void) {
    RUN(test_json_python_reads);
    RUN(test_event_text);
    RUN(test_result_text);
    RUN(test_errors);
    return check_finish();
}
