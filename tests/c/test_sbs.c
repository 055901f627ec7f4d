/*
 * test_sbs.c - SBS encoding from C: golden bytes from hat-event 0.9.44 both
 * ways, prefix decoding, and every hostile-input class of SPEC 8 (each must
 * give a clear error, leave the out-parameter untouched and leak nothing;
 * the ASan build checks the last two).
 */
#include "check.h"
#include "util.h"

/* hat-event: sbs_repo.encode('HatEventer.Event', event_to_sbs(Event(
 * EventId(1, 2, 3), ('a', 'b'), Timestamp(5, 6), None, None))) */
static const uint8_t EVENT1[] = {0x81, 0x82, 0x83, 0x82, 0x81, 0x61, 0x81, 0x62, 0x85, 0x86, 0x80, 0x80};

/* ... Event(EventId(-1, 2**63 - 1, -2**63), ('ž',), Timestamp(-1, 999999),
 * Timestamp(7, 8), EventPayloadJson({'a': [1, 2.5, 'é']})) */
static const uint8_t EVENT2[] = {
    0xff, 0x00, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff, 0x7f, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x81, 0x82, 0xc5, 0xbe, 0xff, 0x3d, 0x04, 0xbf, 0x81,
    0x87, 0x88, 0x81, 0x81, 0x99, 0x7b, 0x22, 0x61, 0x22, 0x3a, 0x20, 0x5b, 0x31, 0x2c, 0x20,
    0x32, 0x2e, 0x35, 0x2c, 0x20, 0x22, 0x5c, 0x75, 0x30, 0x30, 0x65, 0x39, 0x22, 0x5d, 0x7d};

static hat_event_bytes_t bytes(const uint8_t *data, size_t len) {
    hat_event_bytes_t view;
    view.ptr = data;
    view.len = len;
    return view;
}

static bool buffer_is(const hat_event_buffer_t *buffer, const uint8_t *data, size_t len) {
    return hat_event_buffer_len(buffer) == len && memcmp(hat_event_buffer_data(buffer), data, len) == 0;
}

static void test_golden_event1(void) {
    hat_event_event_t *event = NULL, *decoded = NULL;
    hat_event_buffer_t *encoded = NULL;
    hat_event_str_t type[2];
    hat_event_event_id_t id = {1, 2, 3};
    hat_event_timestamp_t ts = {5, 6};
    type[0] = STR("a");
    type[1] = STR("b");
    REQUIRE_OK(hat_event_event_create(id, type, 2, ts, NULL, NULL, &event));
    REQUIRE_OK(hat_event_event_encode(event, &encoded));
    CHECK(buffer_is(encoded, EVENT1, sizeof EVENT1));
    REQUIRE_OK(hat_event_event_decode(bytes(EVENT1, sizeof EVENT1), &decoded));
    CHECK(hat_event_event_equal(event, decoded));
    hat_event_buffer_destroy(encoded);
    hat_event_event_destroy(decoded);
    hat_event_event_destroy(event);
}

static void test_golden_event2(void) {
    hat_event_event_t *event = NULL, *decoded = NULL;
    hat_event_payload_t *payload = NULL;
    hat_event_buffer_t *encoded = NULL;
    hat_event_str_t type[1];
    hat_event_event_id_t id = {-1, INT64_MAX, INT64_MIN};
    hat_event_timestamp_t ts = {-1, 999999}, source = {7, 8}, got;
    type[0] = STR("\xc5\xbe");
    REQUIRE_OK(hat_event_payload_create_json(STR("{\"a\":[1,2.5,\"\\u00e9\"]}"), &payload));
    REQUIRE_OK(hat_event_event_create(id, type, 1, ts, &source, payload, &event));
    REQUIRE_OK(hat_event_event_encode(event, &encoded));
    CHECK(buffer_is(encoded, EVENT2, sizeof EVENT2));
    REQUIRE_OK(hat_event_event_decode(bytes(EVENT2, sizeof EVENT2), &decoded));
    CHECK(hat_event_event_equal(event, decoded));
    CHECK(hat_event_event_get_id(decoded).session == INT64_MAX && hat_event_event_get_id(decoded).instance == INT64_MIN);
    CHECK(hat_event_event_source_timestamp(decoded, &got) && got.s == 7 && got.us == 8);
    hat_event_buffer_destroy(encoded);
    hat_event_event_destroy(decoded);
    hat_event_event_destroy(event);
    hat_event_payload_destroy(payload);
}

static void test_prefix_decode(void) {
    uint8_t stream[sizeof EVENT1 + sizeof EVENT2];
    hat_event_event_t *first = NULL, *second = NULL;
    size_t consumed = 0, consumed2 = 0;
    memcpy(stream, EVENT1, sizeof EVENT1);
    memcpy(stream + sizeof EVENT1, EVENT2, sizeof EVENT2);
    REQUIRE_OK(hat_event_event_decode_prefix(bytes(stream, sizeof stream), &first, &consumed));
    CHECK(consumed == sizeof EVENT1);
    REQUIRE_OK(hat_event_event_decode_prefix(bytes(stream + consumed, sizeof stream - consumed), &second, &consumed2));
    CHECK(consumed2 == sizeof EVENT2);
    CHECK(hat_event_event_get_id(first).server == 1 && hat_event_event_get_id(second).server == -1);
    hat_event_event_destroy(first);
    hat_event_event_destroy(second);
}

/* Decodes `data` as an event, expecting `status`, an untouched out and a
 * message mentioning `needle`. */
static void expect_refused(const uint8_t *data, size_t len, hat_event_status_t status, const char *needle) {
    hat_event_event_t *out = SENTINEL_PTR;
    if (!CHECK_STATUS(hat_event_event_decode(bytes(data, len), &out), status)) {
        fprintf(stderr, "    (%u bytes)\n", (unsigned)len);
    }
    CHECK(out == SENTINEL_PTR);
    if (!CHECK(strstr(hat_event_last_error_message(), needle) != NULL)) {
        fprintf(stderr, "    message \"%s\" lacks \"%s\"\n", hat_event_last_error_message(), needle);
    }
}

static void test_hostile_inputs(void) {
    size_t n;
    /* truncated: every proper prefix (reported as a truncation or as a
     * length or count the remaining input cannot hold, with the offset) */
    for (n = 0; n < sizeof EVENT1; n++) {
        expect_refused(EVENT1, n, HAT_EVENT_ERR_DECODE, "at byte");
    }
    {
        /* trailing bytes (hat-event ignores them; we report them) */
        uint8_t d[sizeof EVENT1 + 1];
        memcpy(d, EVENT1, sizeof EVENT1);
        d[sizeof EVENT1] = 0;
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "trailing");
    }
    {
        /* overlong integer: server 1 written as 0x00 0x81 */
        static const uint8_t d[] = {0x00, 0x81, 0x82, 0x83, 0x82, 0x81, 0x61, 0x81, 0x62, 0x85, 0x86, 0x80, 0x80};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "overlong");
    }
    {
        /* integer beyond i64: server 2^63 */
        static const uint8_t d[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x82,
                                    0x83, 0x82, 0x81, 0x61, 0x81, 0x62, 0x85, 0x86, 0x80, 0x80};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "64-bit");
    }
    {
        /* a string length beyond the input */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0x82, 0x85, 0x61};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "length");
    }
    {
        /* an array count far beyond the input (must not allocate for it) */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0x3f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff, 0x81, 0x61};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "count");
    }
    {
        /* a negative array count */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0xff, 0x85, 0x86, 0x80, 0x80};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "count");
    }
    {
        /* an invalid choice index: sourceTimestamp alternative 2 */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0x82, 0x81, 0x61, 0x81, 0x62, 0x85, 0x86, 0x82, 0x80};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "choice");
    }
    {
        /* invalid UTF-8 in a segment */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0x82, 0x81, 0xff, 0x81, 0x62, 0x85, 0x86, 0x80, 0x80};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "UTF-8");
    }
    {
        /* invalid JSON payload text "{" */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0x82, 0x81, 0x61, 0x81, 0x62,
                                    0x85, 0x86, 0x80, 0x81, 0x81, 0x81, 0x7b};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_INVALID_JSON, "JSON");
    }
    {
        /* microseconds of a million */
        static const uint8_t d[] = {0x81, 0x82, 0x83, 0x82, 0x81, 0x61, 0x81, 0x62,
                                    0x85, 0x3d, 0x04, 0xc0, 0x80, 0x80};
        expect_refused(d, sizeof d, HAT_EVENT_ERR_DECODE, "timestamp");
    }
}

static void test_other_types_round_trip(void) {
    hat_event_query_params_t *params = NULL, *params2 = NULL;
    hat_event_query_result_t *result = NULL, *result2 = NULL;
    hat_event_event_t *event = NULL;
    hat_event_buffer_t *buffer = NULL;
    hat_event_timestamp_t t = {-5, 7}, t2;
    hat_event_event_id_t id = {1, -2, 3}, id2;
    int64_t max = 10;

    REQUIRE_OK(hat_event_query_params_create_timeseries(&params));
    REQUIRE_OK(hat_event_query_params_set_t_from(params, &t));
    REQUIRE_OK(hat_event_query_params_set_max_results(params, &max));
    REQUIRE_OK(hat_event_query_params_encode(params, &buffer));
    REQUIRE_OK(hat_event_query_params_decode(bytes(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)), &params2));
    CHECK(hat_event_query_params_equal(params, params2));
    hat_event_buffer_destroy(buffer);

    REQUIRE_OK(hat_event_event_decode(bytes(EVENT2, sizeof EVENT2), &event));
    REQUIRE_OK(hat_event_query_result_create(true, &result));
    REQUIRE_OK(hat_event_query_result_append(result, event));
    REQUIRE_OK(hat_event_query_result_encode(result, &buffer));
    REQUIRE_OK(hat_event_query_result_decode(bytes(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)), &result2));
    CHECK(hat_event_query_result_equal(result, result2));
    hat_event_buffer_destroy(buffer);

    REQUIRE_OK(hat_event_timestamp_encode(t, &buffer));
    REQUIRE_OK(hat_event_timestamp_decode(bytes(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)), &t2));
    CHECK(t2.s == -5 && t2.us == 7);
    hat_event_buffer_destroy(buffer);
    REQUIRE_OK(hat_event_event_id_encode(id, &buffer));
    REQUIRE_OK(hat_event_event_id_decode(bytes(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)), &id2));
    CHECK(id2.server == 1 && id2.session == -2 && id2.instance == 3);
    hat_event_buffer_destroy(buffer);

    /* NULL arguments */
    CHECK_STATUS(hat_event_event_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_decode(bytes(NULL, 3), &event), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_decode_prefix(bytes(EVENT1, sizeof EVENT1), &event, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_decode(bytes(EVENT1, 2), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);

    hat_event_event_destroy(event);
    hat_event_query_result_destroy(result);
    hat_event_query_result_destroy(result2);
    hat_event_query_params_destroy(params);
    hat_event_query_params_destroy(params2);
}

static void test_messages(void) {
    hat_event_msg_t *msg = NULL, *back = NULL, *out = SENTINEL_PTR;
    hat_event_buffer_t *buffer = NULL;
    hat_event_str_t query_type[2], got;
    hat_event_event_type_view_t subscriptions[1];
    hat_event_str_t token = STR("secret");
    hat_event_server_status_t status = 99;
    int64_t server_id = 7, got_id = 0;
    const hat_event_event_type_t *sub;
    hat_event_event_t *event = NULL;
    size_t consumed = 0;

    query_type[0] = STR("a");
    query_type[1] = STR("*");
    subscriptions[0].segments = query_type;
    subscriptions[0].len = 2;
    REQUIRE_OK(hat_event_msg_create_init_req(STR("client"), &token, subscriptions, 1, &server_id, true, &msg));
    REQUIRE_OK(hat_event_msg_encode(msg, &buffer));
    REQUIRE_OK(hat_event_msg_decode(HAT_EVENT_MSG_INIT_REQ,
                                    bytes(hat_event_buffer_data(buffer), hat_event_buffer_len(buffer)), &back));
    CHECK(hat_event_msg_get_kind(back) == HAT_EVENT_MSG_INIT_REQ);
    CHECK(strcmp(hat_event_msg_kind_name(HAT_EVENT_MSG_INIT_REQ), "HatEventer.MsgInitReq") == 0);
    CHECK(hat_event_msg_kind_name(9) == NULL);
    got = hat_event_msg_init_req_client_name(back);
    CHECK(view_eq(got, "client", 6));
    CHECK(hat_event_msg_init_req_client_token(back, &got) && view_eq(got, "secret", 6));
    CHECK(hat_event_msg_init_req_subscriptions_len(back) == 1);
    sub = hat_event_msg_init_req_subscription(back, 0);
    CHECK(hat_event_event_type_len(sub) == 2 && view_eq(hat_event_event_type_segment(sub, 1), "*", 1));
    CHECK(hat_event_msg_init_req_server_id(back, &got_id) && got_id == 7);
    CHECK(hat_event_msg_init_req_persisted(back));
    CHECK(!hat_event_msg_server_status(back, &status) && status == 99);
    hat_event_buffer_destroy(buffer);
    hat_event_msg_destroy(back);
    hat_event_msg_destroy(msg);

    /* a status notification, and an events notification decoded as a prefix */
    REQUIRE_OK(hat_event_msg_create_status_notify(HAT_EVENT_SERVER_STATUS_OPERATIONAL, &msg));
    CHECK(hat_event_msg_server_status(msg, &status) && status == HAT_EVENT_SERVER_STATUS_OPERATIONAL);
    hat_event_msg_destroy(msg);
    REQUIRE_OK(hat_event_event_decode(bytes(EVENT1, sizeof EVENT1), &event));
    {
        const hat_event_event_t *events[2];
        uint8_t stream[256];
        events[0] = event;
        events[1] = event;
        REQUIRE_OK(hat_event_msg_create_events_notify(events, 2, &msg));
        REQUIRE_OK(hat_event_msg_encode(msg, &buffer));
        CHECK(hat_event_buffer_len(buffer) + 3 <= sizeof stream);
        memcpy(stream, hat_event_buffer_data(buffer), hat_event_buffer_len(buffer));
        memset(stream + hat_event_buffer_len(buffer), 0x80, 3);
        REQUIRE_OK(hat_event_msg_decode_prefix(HAT_EVENT_MSG_EVENTS_NOTIFY,
                                               bytes(stream, hat_event_buffer_len(buffer) + 3), &back, &consumed));
        CHECK(consumed == hat_event_buffer_len(buffer));
        CHECK(hat_event_msg_events_len(back) == 2 && hat_event_event_equal(hat_event_msg_event(back, 1), event));
        CHECK(hat_event_msg_event(back, 2) == NULL);
        hat_event_buffer_destroy(buffer);
        hat_event_msg_destroy(back);
        hat_event_msg_destroy(msg);
    }
    hat_event_event_destroy(event);

    /* error paths */
    CHECK_STATUS(hat_event_msg_decode(9, bytes(EVENT1, 1), &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_msg_decode(HAT_EVENT_MSG_INIT_RES, bytes((const uint8_t *)"\x85", 1), &out),
                 HAT_EVENT_ERR_DECODE);
    CHECK_STATUS(hat_event_msg_create_status_notify(4, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_msg_create_init_req(STR("\xff"), NULL, NULL, 0, NULL, false, &out),
                 HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_msg_create_events_ack(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    {
        const hat_event_event_t *null_event[1] = {NULL};
        const hat_event_register_event_t *null_register[1] = {NULL};
        CHECK_STATUS(hat_event_msg_create_events_notify(null_event, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_events_notify(NULL, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_register_res_events(null_event, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_register_req(null_register, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_register_res_failure(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_init_res_success(7, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_init_res_error(STR("\xc3\x28"), &out), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK_STATUS(hat_event_msg_create_query_req(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_create_query_res(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        consumed = 77;
        CHECK_STATUS(hat_event_msg_decode_prefix(HAT_EVENT_MSG_EVENTS_ACK, bytes(EVENT1, 1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_msg_decode_prefix(HAT_EVENT_MSG_QUERY_RES, bytes(EVENT1, 1), &out, &consumed),
                     HAT_EVENT_ERR_DECODE);
        CHECK(consumed == 77);
    }
    CHECK_STATUS(hat_event_msg_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
    hat_event_msg_destroy(NULL);
    CHECK(hat_event_msg_get_kind(NULL) == UINT32_MAX);
}

/* Every encode and decode function refuses NULL, leaves its out-parameter
 * alone and records a message. */
static void test_null_arguments(void) {
    hat_event_buffer_t *buffer = SENTINEL_PTR;
    size_t consumed = 12345;

    {
        hat_event_event_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_event_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_decode(bytes(EVENT1, sizeof EVENT1), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_decode(bytes(NULL, 1), &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_decode_prefix(bytes(NULL, 1), &out, &consumed), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_decode_prefix(bytes(EVENT1, sizeof EVENT1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    {
        hat_event_register_event_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_register_event_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_register_event_decode(bytes(EVENT1, sizeof EVENT1), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_register_event_decode(bytes(NULL, 1), &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_register_event_decode_prefix(bytes(NULL, 1), &out, &consumed), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_register_event_decode_prefix(bytes(EVENT1, sizeof EVENT1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    {
        hat_event_payload_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_payload_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_payload_decode(bytes(EVENT1, sizeof EVENT1), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_payload_decode(bytes(NULL, 1), &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_payload_decode_prefix(bytes(NULL, 1), &out, &consumed), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_payload_decode_prefix(bytes(EVENT1, sizeof EVENT1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    {
        hat_event_event_type_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_event_type_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_type_decode(bytes(EVENT1, sizeof EVENT1), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_type_decode(bytes(NULL, 1), &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_type_decode_prefix(bytes(NULL, 1), &out, &consumed), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_type_decode_prefix(bytes(EVENT1, sizeof EVENT1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    {
        hat_event_query_params_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_query_params_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_params_decode(bytes(EVENT1, sizeof EVENT1), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_params_decode(bytes(NULL, 1), &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_params_decode_prefix(bytes(NULL, 1), &out, &consumed), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_params_decode_prefix(bytes(EVENT1, sizeof EVENT1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    {
        hat_event_query_result_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_query_result_encode(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_result_decode(bytes(EVENT1, sizeof EVENT1), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_result_decode(bytes(NULL, 1), &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_result_decode_prefix(bytes(NULL, 1), &out, &consumed), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_query_result_decode_prefix(bytes(EVENT1, sizeof EVENT1), &out, NULL),
                     HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    {
        hat_event_timestamp_t t = {0, 0};
        hat_event_event_id_t id = {0, 0, 0};
        CHECK_STATUS(hat_event_timestamp_encode(t, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        t.us = 1000000;
        CHECK_STATUS(hat_event_timestamp_encode(t, &buffer), HAT_EVENT_ERR_OUT_OF_RANGE);
        CHECK_STATUS(hat_event_event_id_encode(id, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_id_decode(bytes(EVENT1, 3), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_event_id_decode(bytes(EVENT1, 2), &id), HAT_EVENT_ERR_DECODE);
    }
    CHECK(buffer == SENTINEL_PTR && consumed == 12345);
    CHECK(hat_event_sbs_schema() != NULL && strstr(hat_event_sbs_schema(), "module HatEventer") != NULL);
    {
        const char *repo = hat_event_json_schema_repo();
        CHECK(repo != NULL && repo[0] == '{');
        CHECK(strstr(repo, "\"hat-event://server.yaml\": {") != NULL);
        CHECK(repo[strlen(repo) - 1] == '\n' || repo[strlen(repo) - 1] == '}');
    }
}

int main(void) {
    RUN(test_golden_event1);
    RUN(test_golden_event2);
    RUN(test_prefix_decode);
    RUN(test_hostile_inputs);
    RUN(test_other_types_round_trip);
    RUN(test_messages);
    RUN(test_null_arguments);
    return check_finish();
}
