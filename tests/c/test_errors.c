/*
 * The error model, function by function: every function returning
 * hat_event_status_t is called with NULL for each required pointer
 * (HAT_EVENT_ERR_NULL_ARGUMENT), with bad UTF-8 where strings go in and
 * out-of-range values (us = 1000000) where timestamps go in; each failure
 * must leave the out-parameters untouched (pre-filled with sentinels) and
 * leave a non-empty message. Also: every _destroy accepts NULL, every getter
 * gives its documented fallback for NULL, hat_event_status_str, the last
 * error (per-call status and message, kept over successful calls) and
 * hat_event_version.
 */

#include "check.h"
#include "util.h"

static const hat_event_str_t good_type[] = {SEG("a"), SEG("b")};
static const hat_event_str_t bad_type[] = {SEG("a"), SEG("\xff")};
static const hat_event_str_t bad_type2[] = {SEG("\xc3\x28")};
static const hat_event_str_t null_seg_type[] = {SEG("a"), {NULL, 1}};

static hat_event_event_id_t id123(void) {
    hat_event_event_id_t id;
    id.server = 1;
    id.session = 2;
    id.instance = 3;
    return id;
}

/* ---- the error model itself ------------------------------------------------ */

static void test_initial_last_error(void) {
    /* runs first: nothing has failed on this thread yet */
    CHECK(hat_event_last_error_message() != NULL);
    CHECK(strcmp(hat_event_last_error_message(), "") == 0);
    CHECK(hat_event_last_error_status() == HAT_EVENT_OK);
}

static void test_last_error(void) {
    hat_event_timestamp_t t;
    char kept[256];
    /* a failure sets status and message */
    CHECK(hat_event_timestamp_now(NULL) == HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(hat_event_last_error_status() == HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(strlen(hat_event_last_error_message()) > 0);
    strncpy(kept, hat_event_last_error_message(), sizeof kept - 1);
    kept[sizeof kept - 1] = '\0';
    /* successful calls leave them alone */
    CHECK_OK(hat_event_timestamp_now(&t));
    CHECK_OK(hat_event_timestamp_from_rfc3339(STR("2024-01-01T00:00:00Z"), &t));
    CHECK(hat_event_last_error_status() == HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(strcmp(hat_event_last_error_message(), kept) == 0);
    /* the next failure replaces them */
    CHECK(hat_event_timestamp_from_rfc3339(STR("nope"), &t) == HAT_EVENT_ERR_PARSE);
    CHECK(hat_event_last_error_status() == HAT_EVENT_ERR_PARSE);
    CHECK(strcmp(hat_event_last_error_message(), kept) != 0);
    CHECK(strlen(hat_event_last_error_message()) > 0);
}

static void test_status_str(void) {
    static const struct {
        hat_event_status_t status;
        const char *prefix;
    } known[] = {
        {HAT_EVENT_OK, "HAT_EVENT_OK"},
        {HAT_EVENT_ERR_NULL_ARGUMENT, "HAT_EVENT_ERR_NULL_ARGUMENT"},
        {HAT_EVENT_ERR_INVALID_UTF8, "HAT_EVENT_ERR_INVALID_UTF8"},
        {HAT_EVENT_ERR_OUT_OF_RANGE, "HAT_EVENT_ERR_OUT_OF_RANGE"},
        {HAT_EVENT_ERR_INVALID_ARGUMENT, "HAT_EVENT_ERR_INVALID_ARGUMENT"},
        {HAT_EVENT_ERR_INVALID_JSON, "HAT_EVENT_ERR_INVALID_JSON"},
        {HAT_EVENT_ERR_PARSE, "HAT_EVENT_ERR_PARSE"},
        {HAT_EVENT_ERR_BUFFER_TOO_SMALL, "HAT_EVENT_ERR_BUFFER_TOO_SMALL"},
        {HAT_EVENT_ERR_DECODE, "HAT_EVENT_ERR_DECODE"},
        {HAT_EVENT_ERR_IO, "HAT_EVENT_ERR_IO"},
        {HAT_EVENT_ERR_TIMEOUT, "HAT_EVENT_ERR_TIMEOUT"},
        {HAT_EVENT_ERR_CLOSED, "HAT_EVENT_ERR_CLOSED"},
        {HAT_EVENT_ERR_PROTOCOL, "HAT_EVENT_ERR_PROTOCOL"},
        {HAT_EVENT_ERR_REFUSED, "HAT_EVENT_ERR_REFUSED"},
        {HAT_EVENT_ERR_IMPORT, "HAT_EVENT_ERR_IMPORT"},
        {HAT_EVENT_ERR_SCHEMA, "HAT_EVENT_ERR_SCHEMA"},
        {HAT_EVENT_ERR_PLUGIN, "HAT_EVENT_ERR_PLUGIN"},
        {HAT_EVENT_ERR_REENTRANT, "HAT_EVENT_ERR_REENTRANT"},
        {HAT_EVENT_ERR_INTERNAL, "HAT_EVENT_ERR_INTERNAL"},
    };
    static const hat_event_status_t unknown[] = {9, 10, 19, 29, 99, 101, 1000, UINT32_MAX};
    size_t i, j;
    CHECK(HAT_EVENT_OK == 0);
    for (i = 0; i < COUNT(known); i++) {
        const char *s = hat_event_status_str(known[i].status);
        size_t n = strlen(known[i].prefix);
        /* "NAME: description", and no name is a prefix of another's */
        if (!CHECK(s != NULL && strncmp(s, known[i].prefix, n) == 0 && s[n] == ':' && strlen(s) > n + 2)) {
            fprintf(stderr, "    status %u: \"%s\"\n", (unsigned)known[i].status, s != NULL ? s : "(NULL)");
        }
        CHECK(hat_event_status_str(known[i].status) == s); /* static */
        for (j = 0; j < i; j++) {
            CHECK(strcmp(s, hat_event_status_str(known[j].status)) != 0);
        }
    }
    for (i = 0; i < COUNT(unknown); i++) {
        const char *s = hat_event_status_str(unknown[i]);
        CHECK(s != NULL && strcmp(s, "unknown status") == 0);
    }
}

static void test_version(void) {
    char expected[64];
    const char *v = hat_event_version();
    snprintf(expected, sizeof expected, "%d.%d.%d", HAT_EVENT_VERSION_MAJOR, HAT_EVENT_VERSION_MINOR,
             HAT_EVENT_VERSION_PATCH);
    CHECK(v != NULL);
    if (!CHECK(v != NULL && strcmp(v, expected) == 0)) {
        fprintf(stderr, "    library %s, header %s\n", v != NULL ? v : "(NULL)", expected);
    }
    CHECK(hat_event_version() == v);
}

/* ---- destroy(NULL) and getters on NULL ----------------------------------------- */

static void test_destroy_null(void) {
    hat_event_buffer_destroy(NULL);
    hat_event_collection_destroy(NULL);
    hat_event_values_destroy(NULL);
    hat_event_payload_destroy(NULL);
    hat_event_event_destroy(NULL);
    hat_event_register_event_destroy(NULL);
    hat_event_event_type_destroy(NULL);
    hat_event_query_params_destroy(NULL);
    hat_event_query_result_destroy(NULL);
    hat_event_subscription_destroy(NULL);
    hat_event_event_type_list_destroy(NULL);
    CHECK(1); /* got here */
}

static void test_getters_null(void) {
    hat_event_str_t s;
    hat_event_bytes_t b;
    hat_event_event_id_t id;
    hat_event_timestamp_t t = ts(7, 7);
    size_t count = 77;
    int64_t n = 77;

    s = hat_event_str_from_cstr(NULL);
    CHECK(s.ptr == NULL && s.len == 0);
    s = hat_event_str_from_cstr("abc");
    CHECK(s.len == 3 && s.ptr != NULL);
    s = hat_event_str_from_cstr("");
    CHECK(s.len == 0);

    CHECK(hat_event_buffer_data(NULL) == NULL);
    CHECK(hat_event_buffer_len(NULL) == 0);
    CHECK(hat_event_values_len(NULL) == 0);
    CHECK(hat_event_values_data(NULL) == NULL);

    CHECK(hat_event_payload_get_kind(NULL) == UINT32_MAX);
    s = hat_event_payload_binary_type(NULL);
    CHECK(s.ptr == NULL && s.len == 0);
    b = hat_event_payload_binary_data(NULL);
    CHECK(b.ptr == NULL && b.len == 0);
    CHECK(!hat_event_payload_equal(NULL, NULL));

    id = hat_event_event_get_id(NULL);
    CHECK(id.server == 0 && id.session == 0 && id.instance == 0);
    CHECK(hat_event_event_get_type(NULL) == NULL);
    CHECK(ts_eq(hat_event_event_timestamp(NULL), ts(0, 0)));
    CHECK(!hat_event_event_source_timestamp(NULL, &t));
    CHECK(!hat_event_event_source_timestamp(NULL, NULL));
    CHECK(ts_eq(t, ts(7, 7)));
    CHECK(hat_event_event_payload(NULL) == NULL);
    CHECK(!hat_event_event_equal(NULL, NULL));
    CHECK(!hat_event_event_natural_lt(NULL, NULL));
    CHECK(!hat_event_event_natural_gt(NULL, NULL));
    CHECK(hat_event_event_compare(NULL, NULL) == 0);

    CHECK(hat_event_register_event_type(NULL) == NULL);
    CHECK(!hat_event_register_event_source_timestamp(NULL, &t));
    CHECK(ts_eq(t, ts(7, 7)));
    CHECK(hat_event_register_event_payload(NULL) == NULL);
    CHECK(!hat_event_register_event_equal(NULL, NULL));

    CHECK(hat_event_event_type_len(NULL) == 0);
    s = hat_event_event_type_segment(NULL, 0);
    CHECK(s.ptr == NULL && s.len == 0);
    CHECK(!hat_event_event_type_equal(NULL, NULL));

    CHECK(hat_event_query_params_kind(NULL) == UINT32_MAX);
    CHECK(!hat_event_query_params_equal(NULL, NULL));
    CHECK(!hat_event_query_params_event_types(NULL, &count));
    CHECK(count == 77);
    CHECK(hat_event_query_params_event_type(NULL, 0) == NULL);
    CHECK(!hat_event_query_params_get_t_from(NULL, &t));
    CHECK(!hat_event_query_params_get_t_to(NULL, &t));
    CHECK(!hat_event_query_params_get_source_t_from(NULL, &t));
    CHECK(!hat_event_query_params_get_source_t_to(NULL, &t));
    CHECK(ts_eq(t, ts(7, 7)));
    CHECK(hat_event_query_params_order(NULL) == HAT_EVENT_ORDER_DESCENDING);
    CHECK(hat_event_query_params_order_by(NULL) == HAT_EVENT_ORDER_BY_TIMESTAMP);
    CHECK(!hat_event_query_params_max_results(NULL, &n));
    CHECK(n == 77);
    id.server = 77;
    CHECK(!hat_event_query_params_last_event_id(NULL, &id));
    CHECK(id.server == 77);
    CHECK(hat_event_query_params_server_id(NULL) == 0);
    CHECK(!hat_event_query_params_persisted(NULL));

    CHECK(hat_event_query_result_len(NULL) == 0);
    CHECK(hat_event_query_result_event(NULL, 0) == NULL);
    CHECK(!hat_event_query_result_more_follows(NULL));
    CHECK(!hat_event_query_result_equal(NULL, NULL));

    CHECK(hat_event_subscription_len(NULL) == 0);
    CHECK(hat_event_event_type_list_len(NULL) == 0);
    CHECK(hat_event_event_type_list_get(NULL, 0) == NULL);

    /* equal() with one NULL side is false too */
    {
        hat_event_payload_t *p = NULL;
        hat_event_event_type_t *et = NULL;
        hat_event_query_params_t *qp = NULL;
        hat_event_query_result_t *qr = NULL;
        hat_event_event_t *e = NULL;
        hat_event_register_event_t *re = NULL;
        REQUIRE_OK(hat_event_payload_create_json(STR("1"), &p));
        REQUIRE_OK(hat_event_event_type_create(good_type, 2, &et));
        REQUIRE_OK(hat_event_query_params_create_latest(&qp));
        REQUIRE_OK(hat_event_query_result_create(false, &qr));
        REQUIRE_OK(hat_event_event_create(id123(), good_type, 2, ts(0, 0), NULL, NULL, &e));
        REQUIRE_OK(hat_event_register_event_create(good_type, 2, NULL, NULL, &re));
        CHECK(!hat_event_payload_equal(p, NULL) && !hat_event_payload_equal(NULL, p));
        CHECK(!hat_event_event_type_equal(et, NULL) && !hat_event_event_type_equal(NULL, et));
        CHECK(!hat_event_query_params_equal(qp, NULL) && !hat_event_query_params_equal(NULL, qp));
        CHECK(!hat_event_query_result_equal(qr, NULL) && !hat_event_query_result_equal(NULL, qr));
        CHECK(!hat_event_event_equal(e, NULL) && !hat_event_event_equal(NULL, e));
        CHECK(!hat_event_register_event_equal(re, NULL) && !hat_event_register_event_equal(NULL, re));
        hat_event_payload_destroy(p);
        hat_event_event_type_destroy(et);
        hat_event_query_params_destroy(qp);
        hat_event_query_result_destroy(qr);
        hat_event_event_destroy(e);
        hat_event_register_event_destroy(re);
    }
}

/* ---- every fallible function ------------------------------------------------------ */

static void test_errors_timestamp(void) {
    hat_event_timestamp_t t = ts(7, 7);
    hat_event_timestamp_t bad = ts(0, 1000000);
    uint8_t bytes[HAT_EVENT_TIMESTAMP_BYTES_LEN];
    double f = -12345.5;
    hat_event_datetime_t dt;
    char buf[HAT_EVENT_TIMESTAMP_RFC3339_SIZE];
    size_t len = (size_t)-7;
    static const uint8_t twelve[12] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t us_too_big[12] = {0x80, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x0f, 0x42, 0x40}; /* 1000000 */
    hat_event_bytes_t view;

    /* hat_event_timestamp_now */
    CHECK_STATUS(hat_event_timestamp_now(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);

    /* hat_event_timestamp_add */
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 0), 1.0, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_add(bad, 1.0, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, UINT32_MAX), 1.0, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(hat_event_timestamp_max(), 1.0, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(ts_eq(t, ts(7, 7)));

    /* hat_event_timestamp_to_bytes */
    FILL_SENTINEL(bytes);
    CHECK_STATUS(hat_event_timestamp_to_bytes(ts(0, 0), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_to_bytes(bad, bytes), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(IS_SENTINEL(bytes));

    /* hat_event_timestamp_from_bytes */
    view.ptr = twelve;
    view.len = 12;
    CHECK_STATUS(hat_event_timestamp_from_bytes(view, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    view.ptr = NULL;
    CHECK_STATUS(hat_event_timestamp_from_bytes(view, &t), HAT_EVENT_ERR_NULL_ARGUMENT);
    view.ptr = twelve;
    view.len = 11;
    CHECK_STATUS(hat_event_timestamp_from_bytes(view, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    view.len = 0;
    CHECK_STATUS(hat_event_timestamp_from_bytes(view, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    view.ptr = NULL;
    CHECK_STATUS(hat_event_timestamp_from_bytes(view, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    {
        uint8_t thirteen[13] = {0x80};
        view.ptr = thirteen;
        view.len = 13;
        CHECK_STATUS(hat_event_timestamp_from_bytes(view, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    }
    view.ptr = us_too_big;
    view.len = 12;
    CHECK_STATUS(hat_event_timestamp_from_bytes(view, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(ts_eq(t, ts(7, 7)));

    /* hat_event_timestamp_to_float */
    CHECK_STATUS(hat_event_timestamp_to_float(ts(0, 0), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_to_float(bad, &f), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(f == -12345.5);

    /* hat_event_timestamp_from_float */
    CHECK_STATUS(hat_event_timestamp_from_float(1.0, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_from_float(1e300, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(ts_eq(t, ts(7, 7)));

    /* hat_event_timestamp_to_datetime */
    FILL_SENTINEL(dt);
    CHECK_STATUS(hat_event_timestamp_to_datetime(ts(0, 0), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_to_datetime(bad, &dt), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_to_datetime(ts(INT64_C(253402300800), 0), &dt), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(IS_SENTINEL(dt));

    /* hat_event_timestamp_from_datetime */
    {
        hat_event_datetime_t d = {1970, 1, 1, 0, 0, 0, 0};
        CHECK_STATUS(hat_event_timestamp_from_datetime(d, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        d.microsecond = 1000000;
        CHECK_STATUS(hat_event_timestamp_from_datetime(d, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
        d.microsecond = 0;
        d.month = 13;
        CHECK_STATUS(hat_event_timestamp_from_datetime(d, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
        CHECK(ts_eq(t, ts(7, 7)));
    }

    /* hat_event_timestamp_to_rfc3339: out_len is optional, buf is not */
    memset(buf, 'x', sizeof buf);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 0), NULL, sizeof buf, &len), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 0), NULL, 0, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(bad, buf, sizeof buf, &len), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 0), buf, sizeof buf - 1, &len),
                 HAT_EVENT_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 27 && buf[0] == 'x' && buf[sizeof buf - 1] == 'x'); /* the length needed, less the NUL */
    CHECK_OK(hat_event_timestamp_to_rfc3339(ts(0, 0), buf, sizeof buf, NULL));

    /* hat_event_timestamp_from_rfc3339 */
    CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("1970-01-01T00:00:00Z"), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    {
        hat_event_str_t null_text = {NULL, 20};
        CHECK_STATUS(hat_event_timestamp_from_rfc3339(null_text, &t), HAT_EVENT_ERR_NULL_ARGUMENT);
        null_text.len = 0; /* {NULL, 0} is the empty string: not a timestamp */
        CHECK_STATUS(hat_event_timestamp_from_rfc3339(null_text, &t), HAT_EVENT_ERR_PARSE);
    }
    CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("1970-01-01T00:00:00\xffZ"), &t), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("\xc3\x28"), &t), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("1970-01-01T00:00:60Z"), &t), HAT_EVENT_ERR_PARSE);
    CHECK(ts_eq(t, ts(7, 7)));
}

static void test_errors_event_type(void) {
    hat_event_event_type_t *out = SENTINEL_PTR, *type = NULL;
    bool matches;

    /* hat_event_event_type_create */
    CHECK_STATUS(hat_event_event_type_create(good_type, 2, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_type_create(NULL, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_type_create(null_seg_type, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_type_create(bad_type, 2, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_event_type_create(bad_type2, 1, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_event_type_clone */
    REQUIRE_OK(hat_event_event_type_create(good_type, 2, &type));
    CHECK_STATUS(hat_event_event_type_clone(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_type_clone(type, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
    hat_event_event_type_destroy(type);

    /* hat_event_matches_query_type */
    FILL_SENTINEL(matches);
    CHECK_STATUS(hat_event_matches_query_type(good_type, 2, good_type, 2, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(NULL, 2, good_type, 2, &matches), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(good_type, 2, NULL, 2, &matches), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(null_seg_type, 2, good_type, 2, &matches),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(bad_type, 2, good_type, 2, &matches), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_matches_query_type(good_type, 2, bad_type2, 1, &matches), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(IS_SENTINEL(matches));
}

static void test_errors_payload(void) {
    hat_event_payload_t *out = SENTINEL_PTR, *binary = NULL, *json = NULL;
    hat_event_buffer_t *buffer = SENTINEL_PTR;
    const uint8_t data[3] = {1, 2, 3};
    hat_event_bytes_t good_data, null_data;
    hat_event_str_t null_str = {NULL, 3};
    good_data.ptr = data;
    good_data.len = 3;
    null_data.ptr = NULL;
    null_data.len = 3;

    /* hat_event_payload_create_binary */
    CHECK_STATUS(hat_event_payload_create_binary(STR("t"), good_data, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_create_binary(null_str, good_data, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_create_binary(STR("t"), null_data, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_create_binary(STR("\xff"), good_data, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_payload_create_binary(STR("\xc3\x28"), good_data, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_payload_create_json */
    CHECK_STATUS(hat_event_payload_create_json(STR("1"), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_create_json(null_str, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_create_json(STR("\"\xff\""), &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_payload_create_json(STR("\"\xc3\x28\""), &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_payload_create_json(STR("{"), &out), HAT_EVENT_ERR_INVALID_JSON);
    CHECK_STATUS(hat_event_payload_create_json(STR("-NaN"), &out), HAT_EVENT_ERR_INVALID_JSON);
    CHECK_STATUS(hat_event_payload_create_json(STR("\"\\u12\""), &out), HAT_EVENT_ERR_INVALID_JSON);
    null_str.len = 0; /* {NULL, 0}: the empty text, not JSON */
    CHECK_STATUS(hat_event_payload_create_json(null_str, &out), HAT_EVENT_ERR_INVALID_JSON);
    CHECK(out == SENTINEL_PTR);

    REQUIRE_OK(hat_event_payload_create_binary(STR("t"), good_data, &binary));
    REQUIRE_OK(hat_event_payload_create_json(STR("[1]"), &json));

    /* hat_event_payload_clone */
    CHECK_STATUS(hat_event_payload_clone(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_clone(binary, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_payload_json_text */
    CHECK_STATUS(hat_event_payload_json_text(NULL, &buffer), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_json_text(json, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_payload_json_text(binary, &buffer), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(buffer == SENTINEL_PTR);

    hat_event_payload_destroy(binary);
    hat_event_payload_destroy(json);
}

static void test_errors_event(void) {
    hat_event_event_t *out = SENTINEL_PTR, *event = NULL;
    hat_event_register_event_t *rout = SENTINEL_PTR, *revent = NULL;
    hat_event_timestamp_t bad = ts(0, 1000000), good = ts(1, 1);

    /* hat_event_event_create */
    CHECK_STATUS(hat_event_event_create(id123(), good_type, 2, good, NULL, NULL, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_create(id123(), NULL, 2, good, NULL, NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_create(id123(), null_seg_type, 2, good, NULL, NULL, &out),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_create(id123(), bad_type, 2, good, NULL, NULL, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_event_create(id123(), bad_type2, 1, good, NULL, NULL, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_event_create(id123(), good_type, 2, bad, NULL, NULL, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_event_create(id123(), good_type, 2, good, &bad, NULL, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_event_clone */
    REQUIRE_OK(hat_event_event_create(id123(), good_type, 2, good, &good, NULL, &event));
    CHECK_STATUS(hat_event_event_clone(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_clone(event, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
    hat_event_event_destroy(event);

    /* hat_event_register_event_create */
    CHECK_STATUS(hat_event_register_event_create(good_type, 2, NULL, NULL, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_register_event_create(NULL, 2, NULL, NULL, &rout), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_register_event_create(null_seg_type, 2, NULL, NULL, &rout), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_register_event_create(bad_type, 2, NULL, NULL, &rout), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_register_event_create(bad_type2, 1, NULL, NULL, &rout), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_register_event_create(good_type, 2, &bad, NULL, &rout), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(rout == SENTINEL_PTR);

    /* hat_event_register_event_clone */
    REQUIRE_OK(hat_event_register_event_create(good_type, 2, NULL, NULL, &revent));
    CHECK_STATUS(hat_event_register_event_clone(NULL, &rout), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_register_event_clone(revent, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(rout == SENTINEL_PTR);
    hat_event_register_event_destroy(revent);
}

static void test_errors_query_params(void) {
    hat_event_query_params_t *out = SENTINEL_PTR, *ts_params = NULL, *latest = NULL, *server = NULL;
    hat_event_timestamp_t bad = ts(0, 1000000), good = ts(5, 5), got;
    const hat_event_event_type_view_t good_types[] = {{good_type, 2}};
    const hat_event_event_type_view_t bad_types[] = {{good_type, 2}, {bad_type, 2}};
    const hat_event_event_type_view_t bad_types2[] = {{bad_type2, 1}};
    const hat_event_event_type_view_t null_seg_types[] = {{null_seg_type, 2}};
    const hat_event_event_type_view_t null_segments[] = {{NULL, 1}};
    int64_t limit = 3;
    hat_event_event_id_t id = id123();
    size_t count;

    /* the three creators and clone */
    CHECK_STATUS(hat_event_query_params_create_latest(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_create_timeseries(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_create_server(1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    REQUIRE_OK(hat_event_query_params_create_timeseries(&ts_params));
    REQUIRE_OK(hat_event_query_params_create_latest(&latest));
    REQUIRE_OK(hat_event_query_params_create_server(9, &server));
    CHECK_STATUS(hat_event_query_params_clone(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_clone(ts_params, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_query_params_set_event_types */
    CHECK_OK(hat_event_query_params_set_event_types(ts_params, good_types, 1));
    CHECK_STATUS(hat_event_query_params_set_event_types(NULL, good_types, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_event_types(ts_params, null_seg_types, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_event_types(ts_params, null_segments, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_event_types(ts_params, bad_types, 2), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_query_params_set_event_types(ts_params, bad_types2, 1), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_query_params_set_event_types(server, good_types, 1), HAT_EVENT_ERR_INVALID_ARGUMENT);
    count = 0;
    CHECK(hat_event_query_params_event_types(ts_params, &count) && count == 1); /* unchanged */

    /* the four timestamp setters */
    {
        hat_event_status_t (*const setters[])(hat_event_query_params_t *, const hat_event_timestamp_t *) = {
            hat_event_query_params_set_t_from, hat_event_query_params_set_t_to,
            hat_event_query_params_set_source_t_from, hat_event_query_params_set_source_t_to};
        bool (*const getters[])(const hat_event_query_params_t *, hat_event_timestamp_t *) = {
            hat_event_query_params_get_t_from, hat_event_query_params_get_t_to, hat_event_query_params_get_source_t_from,
            hat_event_query_params_get_source_t_to};
        size_t i;
        for (i = 0; i < 4; i++) {
            CHECK_OK(setters[i](ts_params, &good));
            CHECK_STATUS(setters[i](NULL, &good), HAT_EVENT_ERR_NULL_ARGUMENT);
            CHECK_STATUS(setters[i](NULL, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
            CHECK_STATUS(setters[i](ts_params, &bad), HAT_EVENT_ERR_OUT_OF_RANGE);
            CHECK_STATUS(setters[i](latest, &good), HAT_EVENT_ERR_INVALID_ARGUMENT);
            CHECK_STATUS(setters[i](server, &good), HAT_EVENT_ERR_INVALID_ARGUMENT);
            got = ts(7, 7);
            CHECK(getters[i](ts_params, &got) && ts_eq(got, good)); /* unchanged */
        }
    }

    /* order, order_by */
    CHECK_STATUS(hat_event_query_params_set_order(NULL, HAT_EVENT_ORDER_ASCENDING), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order(ts_params, 2), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order(latest, HAT_EVENT_ORDER_ASCENDING), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(NULL, HAT_EVENT_ORDER_BY_TIMESTAMP),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(ts_params, 2), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(server, HAT_EVENT_ORDER_BY_TIMESTAMP),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);

    /* max_results, last_event_id, persisted */
    CHECK_STATUS(hat_event_query_params_set_max_results(NULL, &limit), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_max_results(latest, &limit), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_last_event_id(NULL, &id), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_last_event_id(latest, &id), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_persisted(NULL, true), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_persisted(ts_params, true), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_persisted(latest, true), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(!hat_event_query_params_max_results(latest, NULL));
    CHECK(!hat_event_query_params_persisted(ts_params));

    hat_event_query_params_destroy(ts_params);
    hat_event_query_params_destroy(latest);
    hat_event_query_params_destroy(server);
}

static void test_errors_query_result(void) {
    hat_event_query_result_t *out = SENTINEL_PTR, *result = NULL;
    hat_event_event_t *event = NULL;
    CHECK_STATUS(hat_event_query_result_create(true, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    REQUIRE_OK(hat_event_query_result_create(true, &result));
    REQUIRE_OK(hat_event_event_create(id123(), good_type, 2, ts(0, 0), NULL, NULL, &event));
    CHECK_STATUS(hat_event_query_result_clone(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_result_clone(result, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
    CHECK_STATUS(hat_event_query_result_append(NULL, event), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_result_append(result, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(hat_event_query_result_len(result) == 0);
    CHECK_STATUS(hat_event_query_result_set_more_follows(NULL, false), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(hat_event_query_result_more_follows(result));
    hat_event_event_destroy(event);
    hat_event_query_result_destroy(result);
}

static void test_errors_subscription(void) {
    const hat_event_str_t star_mid[] = {SEG("a"), SEG("*"), SEG("b")};
    const hat_event_event_type_view_t good_types[] = {{good_type, 2}};
    const hat_event_event_type_view_t bad_types[] = {{bad_type, 2}};
    const hat_event_event_type_view_t bad_types2[] = {{bad_type2, 1}};
    const hat_event_event_type_view_t null_seg_types[] = {{null_seg_type, 2}};
    const hat_event_event_type_view_t star_types[] = {{star_mid, 3}};
    hat_event_subscription_t *out = SENTINEL_PTR, *s = NULL;
    hat_event_event_type_list_t *list = SENTINEL_PTR;
    hat_event_event_type_t *type = NULL;
    const hat_event_subscription_t *others[2];
    bool b;

    /* hat_event_subscription_create */
    CHECK_STATUS(hat_event_subscription_create(good_types, 1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(NULL, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(null_seg_types, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(bad_types, 1, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_subscription_create(bad_types2, 1, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_subscription_create(star_types, 1, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(out == SENTINEL_PTR);

    REQUIRE_OK(hat_event_subscription_create(good_types, 1, &s));
    REQUIRE_OK(hat_event_event_type_create(good_type, 2, &type));

    /* hat_event_subscription_clone */
    CHECK_STATUS(hat_event_subscription_clone(NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_clone(s, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_subscription_matches */
    FILL_SENTINEL(b);
    CHECK_STATUS(hat_event_subscription_matches(NULL, good_type, 2, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches(s, NULL, 2, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches(s, null_seg_type, 2, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches(s, good_type, 2, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches(s, bad_type, 2, &b), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_subscription_matches(s, bad_type2, 1, &b), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(IS_SENTINEL(b));

    /* hat_event_subscription_matches_type */
    CHECK_STATUS(hat_event_subscription_matches_type(NULL, type, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches_type(s, NULL, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches_type(s, type, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(IS_SENTINEL(b));

    /* hat_event_subscription_union and _intersection */
    others[0] = s;
    others[1] = NULL;
    CHECK_STATUS(hat_event_subscription_union(NULL, others, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_union(s, NULL, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_union(s, others, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_union(s, others + 1, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_union(s, others, 1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_intersection(NULL, others, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_intersection(s, NULL, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_intersection(s, others, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_intersection(s, others + 1, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_intersection(s, others, 1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);

    /* hat_event_subscription_isdisjoint */
    CHECK_STATUS(hat_event_subscription_isdisjoint(NULL, s, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_isdisjoint(s, NULL, &b), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_isdisjoint(s, s, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(IS_SENTINEL(b));

    /* hat_event_subscription_query_types */
    CHECK_STATUS(hat_event_subscription_query_types(NULL, &list), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_query_types(s, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(list == SENTINEL_PTR);

    hat_event_event_type_destroy(type);
    hat_event_subscription_destroy(s);
}

static void test_errors_collection(void) {
    hat_event_collection_t *out = SENTINEL_PTR, *c = NULL;
    hat_event_values_t *values = NULL;
    hat_event_subscription_t *s = NULL;
    const hat_event_str_t star[] = {SEG("*")};
    const hat_event_event_type_view_t star_types[] = {{star, 1}};

    /* hat_event_collection_create, hat_event_values_create */
    CHECK_STATUS(hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_create(HAT_EVENT_COLLECTION_LIST, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_create(2, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
    CHECK_STATUS(hat_event_values_create(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);

    REQUIRE_OK(hat_event_collection_create(HAT_EVENT_COLLECTION_TREE, &c));
    REQUIRE_OK(hat_event_values_create(&values));
    REQUIRE_OK(hat_event_subscription_create(star_types, 1, &s));

    /* hat_event_collection_add */
    CHECK_STATUS(hat_event_collection_add(NULL, s, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_add(c, NULL, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_OK(hat_event_collection_add(c, s, 1));

    /* hat_event_collection_remove */
    CHECK_STATUS(hat_event_collection_remove(NULL, 1), HAT_EVENT_ERR_NULL_ARGUMENT);

    /* hat_event_collection_get: out_values unchanged on error */
    CHECK_OK(hat_event_collection_get(c, good_type, 2, values));
    CHECK(hat_event_values_len(values) == 1);
    CHECK_STATUS(hat_event_collection_get(NULL, good_type, 2, values), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get(c, NULL, 2, values), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get(c, null_seg_type, 2, values), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get(c, good_type, 2, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get(c, bad_type, 2, values), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_collection_get(c, bad_type2, 1, values), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(hat_event_values_len(values) == 1 && hat_event_values_data(values) != NULL &&
          hat_event_values_data(values)[0] == 1);

    /* hat_event_collection_get_type: out_values unchanged on error */
    {
        hat_event_event_type_t *type = NULL;
        REQUIRE_OK(hat_event_event_type_create(good_type, 2, &type));
        CHECK_OK(hat_event_collection_get_type(c, type, values));
        CHECK(hat_event_values_len(values) == 1);
        CHECK_STATUS(hat_event_collection_get_type(NULL, type, values), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_collection_get_type(c, NULL, values), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK_STATUS(hat_event_collection_get_type(c, type, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(hat_event_values_len(values) == 1 && hat_event_values_data(values)[0] == 1);
        hat_event_event_type_destroy(type);
    }

    hat_event_subscription_destroy(s);
    hat_event_values_destroy(values);
    hat_event_collection_destroy(c);
}

static void test_buffer(void) {
    hat_event_payload_t *p = NULL;
    hat_event_buffer_t *b = NULL;
    REQUIRE_OK(hat_event_payload_create_json(STR("\"x\""), &p));
    REQUIRE_OK(hat_event_payload_json_text(p, &b));
    CHECK(hat_event_buffer_len(b) == 3);
    CHECK(hat_event_buffer_data(b) != NULL && memcmp(hat_event_buffer_data(b), "\"x\"", 4) == 0);
    hat_event_payload_destroy(p);
    /* the buffer is the caller's: it outlives the payload */
    CHECK(hat_event_buffer_len(b) == 3);
    CHECK(hat_event_buffer_data(b) != NULL && hat_event_buffer_data(b)[3] == '\0');
    hat_event_buffer_destroy(b);
}

static hat_event_status_t refuse_create(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                        hat_event_source_t source, hat_event_module_t *out) {
    (void)user_data;
    (void)conf;
    (void)engine;
    (void)source;
    (void)out;
    return HAT_EVENT_ERR_PLUGIN;
}

/* Every message that quotes caller input quotes at most a bounded prefix
 * and says how long the input was: a 10 MB name, path or schema id gives a
 * message under 200 bytes. */
static void test_messages_quote_a_bounded_prefix(void) {
    const size_t size = (size_t)10 << 20;
    char *text = malloc(size);
    hat_event_module_info_t module;
    hat_event_backend_info_t backend;
    if (!CHECK(text != NULL)) {
        return;
    }
    memset(text, 'n', size);
    /* an unknown plug-in name */
    CHECK_STATUS(hat_event_import_module_info((hat_event_str_t){text, size}, &module), HAT_EVENT_ERR_IMPORT);
    CHECK(strlen(hat_event_last_error_message()) < 200);
    CHECK(strstr(hat_event_last_error_message(), "(10485760 bytes)") != NULL);
    CHECK_STATUS(hat_event_import_backend_info((hat_event_str_t){text, size}, &backend), HAT_EVENT_ERR_IMPORT);
    CHECK(strlen(hat_event_last_error_message()) < 200);
    /* a path the loader cannot open (its message quotes the path too) */
    text[0] = '/';
    CHECK_STATUS(hat_event_import_module_info((hat_event_str_t){text, size}, &module), HAT_EVENT_ERR_IMPORT);
    CHECK(strlen(hat_event_last_error_message()) < 200);
    CHECK(strstr(hat_event_last_error_message(), "cannot load '/nnn") != NULL);
    /* a name that reads as a path */
    memset(&module, 0, sizeof module);
    module.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    module.struct_size = sizeof module;
    module.create = refuse_create;
    CHECK_STATUS(hat_event_module_register((hat_event_str_t){text, size}, &module), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strlen(hat_event_last_error_message()) < 200);
    /* a schema id not in its repository */
    module.json_schema_id = (hat_event_str_t){text + 1, size - 1};
    module.json_schema_repo = STR("{}");
    CHECK_STATUS(hat_event_module_register(STR("test.long_schema_id"), &module), HAT_EVENT_ERR_SCHEMA);
    CHECK(strlen(hat_event_last_error_message()) < 200);
    CHECK(strstr(hat_event_last_error_message(), "(10485759 bytes)") != NULL);
    free(text);
}

int main(void) {
    RUN(test_initial_last_error);
    RUN(test_last_error);
    RUN(test_status_str);
    RUN(test_version);
    RUN(test_destroy_null);
    RUN(test_getters_null);
    RUN(test_errors_timestamp);
    RUN(test_errors_event_type);
    RUN(test_errors_payload);
    RUN(test_errors_event);
    RUN(test_errors_query_params);
    RUN(test_errors_query_result);
    RUN(test_errors_subscription);
    RUN(test_errors_collection);
    RUN(test_buffer);
    RUN(test_messages_quote_a_bounded_prefix);
    return check_finish();
}
