/*
 * Event ids, payloads (binary and JSON), events and register events:
 * construction with and without the optional parts, getters, copies,
 * equality, the reference's natural order and the total order for sorting.
 */

#include "check.h"
#include "util.h"

static hat_event_event_id_t eid(int64_t server, int64_t session, int64_t instance) {
    hat_event_event_id_t id;
    id.server = server;
    id.session = session;
    id.instance = instance;
    return id;
}

static void test_event_id_compare(void) {
    CHECK(hat_event_event_id_compare(eid(1, 2, 3), eid(1, 2, 3)) == 0);
    CHECK(hat_event_event_id_compare(eid(1, 2, 3), eid(1, 2, 4)) < 0);
    CHECK(hat_event_event_id_compare(eid(1, 2, 4), eid(1, 2, 3)) > 0);
    CHECK(hat_event_event_id_compare(eid(1, 3, 0), eid(1, 2, 9)) > 0);
    CHECK(hat_event_event_id_compare(eid(0, 9, 9), eid(1, 0, 0)) < 0);
    CHECK(hat_event_event_id_compare(eid(-1, 0, 0), eid(0, 0, 0)) < 0);
    CHECK(hat_event_event_id_compare(eid(INT64_MIN, INT64_MIN, INT64_MIN), eid(INT64_MAX, INT64_MAX, INT64_MAX)) < 0);
    CHECK(hat_event_event_id_compare(eid(INT64_MAX, 0, 0), eid(INT64_MIN, 0, 0)) > 0);
}

/* ---- payloads --------------------------------------------------------------- */

static void test_binary_payload(void) {
    uint8_t data[256];
    char type_name[] = "raw\0bytes";
    hat_event_str_t type_view;
    hat_event_bytes_t data_view;
    hat_event_payload_t *payload = SENTINEL_PTR, *copy = SENTINEL_PTR, *other = SENTINEL_PTR;
    hat_event_payload_t *empty = SENTINEL_PTR, *other_type = SENTINEL_PTR;
    hat_event_buffer_t *json = SENTINEL_PTR;
    size_t i;

    for (i = 0; i < 256; i++) {
        data[i] = (uint8_t)i; /* every byte value, NUL among them */
    }
    type_view.ptr = type_name;
    type_view.len = sizeof type_name - 1;
    data_view.ptr = data;
    data_view.len = sizeof data;
    REQUIRE_OK(hat_event_payload_create_binary(type_view, data_view, &payload));
    /* copied: the caller's buffers can change */
    memset(data, 0, sizeof data);
    memset(type_name, 'x', sizeof type_name);
    for (i = 0; i < 256; i++) {
        data[i] = (uint8_t)i;
    }

    CHECK(hat_event_payload_get_kind(payload) == HAT_EVENT_PAYLOAD_BINARY);
    CHECK(view_eq(hat_event_payload_binary_type(payload), "raw\0bytes", 9));
    CHECK(bytes_eq(hat_event_payload_binary_data(payload), data, 256));
    CHECK_STATUS(hat_event_payload_json_text(payload, &json), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(json == SENTINEL_PTR);

    /* payloads are reference-counted: a clone is the same payload */
    REQUIRE_OK(hat_event_payload_clone(payload, &copy));
    CHECK(copy == payload);
    CHECK(hat_event_payload_equal(payload, copy));
    CHECK(hat_event_payload_equal(payload, payload));
    CHECK(bytes_eq(hat_event_payload_binary_data(copy), data, 256));
    /* the payload's bytes are its own, not the caller's */
    CHECK(hat_event_payload_binary_data(copy).ptr != data);

    data[255] = 0;
    REQUIRE_OK(hat_event_payload_create_binary(type_view, data_view, &other));
    CHECK(!hat_event_payload_equal(payload, other)); /* one byte differs */
    data[255] = 255;
    REQUIRE_OK(hat_event_payload_create_binary(STR("raw"), data_view, &other_type));
    CHECK(!hat_event_payload_equal(payload, other_type)); /* the type differs */

    /* empty type and data; NULL pointers allowed for zero lengths */
    {
        hat_event_str_t no_type = {NULL, 0};
        hat_event_bytes_t no_data = {NULL, 0};
        hat_event_str_t t;
        hat_event_bytes_t d;
        REQUIRE_OK(hat_event_payload_create_binary(no_type, no_data, &empty));
        CHECK(hat_event_payload_get_kind(empty) == HAT_EVENT_PAYLOAD_BINARY);
        t = hat_event_payload_binary_type(empty);
        d = hat_event_payload_binary_data(empty);
        CHECK(t.len == 0 && d.len == 0);
        CHECK(!hat_event_payload_equal(empty, payload));
    }

    /* the original may go first */
    hat_event_payload_destroy(payload);
    CHECK(bytes_eq(hat_event_payload_binary_data(copy), data, 256));
    CHECK(view_eq(hat_event_payload_binary_type(copy), "raw\0bytes", 9));

    hat_event_payload_destroy(copy);
    hat_event_payload_destroy(other);
    hat_event_payload_destroy(other_type);
    hat_event_payload_destroy(empty);
}

/* Parses `in` and checks that json_text gives `out` (NUL-terminated). */
static void check_json(const char *in, size_t in_len, const char *out) {
    hat_event_payload_t *payload = SENTINEL_PTR;
    hat_event_buffer_t *text = SENTINEL_PTR;
    hat_event_str_t view;
    view.ptr = in;
    view.len = in_len;
    if (!CHECK_OK(hat_event_payload_create_json(view, &payload))) {
        fprintf(stderr, "    input: %s\n", in);
        return;
    }
    CHECK(hat_event_payload_get_kind(payload) == HAT_EVENT_PAYLOAD_JSON);
    if (CHECK_OK(hat_event_payload_json_text(payload, &text))) {
        size_t len = hat_event_buffer_len(text);
        const uint8_t *data = hat_event_buffer_data(text);
        if (!CHECK(len == strlen(out) && data != NULL && memcmp(data, out, len) == 0)) {
            fprintf(stderr, "    input:    %s\n    expected: %s\n    got:      %.*s\n", in, out, (int)len,
                    data != NULL ? (const char *)data : "(NULL)");
        }
        CHECK(data != NULL && data[len] == '\0');
        hat_event_buffer_destroy(text);
    }
    hat_event_payload_destroy(payload);
}

#define CHECK_JSON(in, out) check_json((in), sizeof(in) - 1, (out))

static void test_json_round_trip(void) {
    /* json_text writes what hat-event writes: Python's json.dumps */
    CHECK_JSON("null", "null");
    CHECK_JSON("true", "true");
    CHECK_JSON("false", "false");
    CHECK_JSON("0", "0");
    CHECK_JSON("-12", "-12");
    CHECK_JSON("\"\"", "\"\"");
    CHECK_JSON("[]", "[]");
    CHECK_JSON("{}", "{}");
    CHECK_JSON("[[]]", "[[]]");
    CHECK_JSON("{\"a\":{}}", "{\"a\": {}}");
    /* ", " and ": " separators, member order kept */
    CHECK_JSON(" { \"b\" : 1 ,\n\t\"a\" : [ true , false , null ] , \"c\" : { \"d\" : \"x\" } } ",
               "{\"b\": 1, \"a\": [true, false, null], \"c\": {\"d\": \"x\"}}");
    CHECK_JSON("{\"z\":1,\"y\":2,\"x\":3,\"w\":4}", "{\"z\": 1, \"y\": 2, \"x\": 3, \"w\": 4}");
    /* a repeated member: the last value, in the first one's place (a Python dict) */
    CHECK_JSON("{\"b\":1,\"a\":1,\"b\":3}", "{\"b\": 3, \"a\": 1}");
    /* integers keep every digit */
    CHECK_JSON("123456789012345678901234567890", "123456789012345678901234567890");
    CHECK_JSON("-98765432109876543210987654321", "-98765432109876543210987654321");
    CHECK_JSON("[18446744073709551616,9223372036854775807,-9223372036854775809]",
               "[18446744073709551616, 9223372036854775807, -9223372036854775809]");
    CHECK_JSON("-0", "0");
    /* floats as Python's repr */
    CHECK_JSON("1.5", "1.5");
    CHECK_JSON("1.0", "1.0");
    CHECK_JSON("0.1", "0.1");
    CHECK_JSON("-0.0", "-0.0");
    CHECK_JSON("1E2", "100.0");
    CHECK_JSON("1e16", "1e+16");
    CHECK_JSON("1e-7", "1e-07");
    CHECK_JSON("1.5e300", "1.5e+300");
    CHECK_JSON("5e-324", "5e-324");
    CHECK_JSON("123456789.123456789", "123456789.12345679");
    CHECK_JSON("12345678901234567890.5", "1.2345678901234567e+19");
    /* strings: ASCII only, everything else as \uXXXX (lower-case hex) */
    CHECK_JSON("\"a\\nb\\t\\\"c\\\\\"", "\"a\\nb\\t\\\"c\\\\\"");
    CHECK_JSON("\"\\b\\f\\r\\/\"", "\"\\b\\f\\r/\"");
    CHECK_JSON("\"\\u00e9\"", "\"\\u00e9\"");
    CHECK_JSON("\"\xc3\xa9\"", "\"\\u00e9\"");
    CHECK_JSON("\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\"");
    CHECK_JSON("\"\xf0\x9f\x98\x80\"", "\"\\ud83d\\ude00\"");
    CHECK_JSON("\"\xe6\x97\xa5\xe6\x9c\xac\"", "\"\\u65e5\\u672c\"");
    CHECK_JSON("\"\\u001f\\u007f\\u2028\"", "\"\\u001f\\u007f\\u2028\"");
    CHECK_JSON("{\"\xc3\xa9\":\"\\u00C9\"}", "{\"\\u00e9\": \"\\u00c9\"}");
    /* an escaped NUL inside a string survives */
    CHECK_JSON("\"a\\u0000b\"", "\"a\\u0000b\"");
    /* nesting up to 127 levels is accepted */
    {
        char deep[2 * 127 + 1];
        memset(deep, '[', 127);
        memset(deep + 127, ']', 127);
        deep[254] = '\0';
        check_json(deep, 254, deep);
    }
    /* a number beyond a double parses, but cannot be written */
    {
        hat_event_payload_t *payload = NULL;
        hat_event_buffer_t *text = SENTINEL_PTR;
        REQUIRE_OK(hat_event_payload_create_json(STR("[1e400]"), &payload));
        CHECK_STATUS(hat_event_payload_json_text(payload, &text), HAT_EVENT_ERR_INVALID_JSON);
        CHECK(text == SENTINEL_PTR);
        hat_event_payload_destroy(payload);
    }
}

static void test_json_equal(void) {
    hat_event_payload_t *a = NULL, *b = NULL, *c = NULL, *bin = NULL, *copy = NULL;
    REQUIRE_OK(hat_event_payload_create_json(STR("{\"a\": 1, \"b\": [1, 2]}"), &a));
    REQUIRE_OK(hat_event_payload_create_json(STR("{\"b\":[1,2],\"a\":1}"), &b));
    REQUIRE_OK(hat_event_payload_create_json(STR("{\"a\":1,\"b\":[2,1]}"), &c));
    REQUIRE_OK(hat_event_payload_create_binary(STR("json"), (hat_event_bytes_t){(const uint8_t *)"{\"a\":1}", 7}, &bin));
    REQUIRE_OK(hat_event_payload_clone(a, &copy));
    CHECK(hat_event_payload_equal(a, copy));
    /* objects are equal whatever their member order (as Python dicts) */
    CHECK(hat_event_payload_equal(a, b));
    CHECK(hat_event_payload_equal(b, a));
    /* arrays are not */
    CHECK(!hat_event_payload_equal(a, c));
    /* numbers compare by value, as Python's == on json.loads results */
    {
        hat_event_payload_t *one = NULL, *one_float = NULL, *half = NULL;
        REQUIRE_OK(hat_event_payload_create_json(STR("[1, -0.0, 1e2]"), &one));
        REQUIRE_OK(hat_event_payload_create_json(STR("[1.0, 0, 100]"), &one_float));
        REQUIRE_OK(hat_event_payload_create_json(STR("[1.5, 0, 100]"), &half));
        CHECK(hat_event_payload_equal(one, one_float));
        CHECK(!hat_event_payload_equal(one, half));
        hat_event_payload_destroy(one);
        hat_event_payload_destroy(one_float);
        hat_event_payload_destroy(half);
    }
    /* kinds differ */
    CHECK(!hat_event_payload_equal(a, bin));
    CHECK(!hat_event_payload_equal(bin, a));
    /* JSON payloads have no binary parts */
    CHECK(hat_event_payload_binary_type(a).ptr == NULL && hat_event_payload_binary_type(a).len == 0);
    CHECK(hat_event_payload_binary_data(a).ptr == NULL && hat_event_payload_binary_data(a).len == 0);
    hat_event_payload_destroy(a);
    hat_event_payload_destroy(b);
    hat_event_payload_destroy(c);
    hat_event_payload_destroy(bin);
    hat_event_payload_destroy(copy);
}

static void test_json_errors(void) {
    static const char *const invalid[] = {
        "",       " ",         "{",          "}",          "[1,]",        "{\"a\":1,}", "{'a':1}",
        "{a:1}",  "-NaN",      "infinity",   "-Inf",       "nan",         "1 2",        "[] []",
        "nul",    "tru",       "01",         "1.",         ".5",          "+1",         "0x10",
        "\"abc",  "\"\\x\"",   "\"\\u12\"",  "// c\n1",   "[1] x",       "\"\t\"",
        "\"\\ud800\\u12G4\"", "\xef\xbb\xbf" "1", "[\"\\ud800\"", "1e",     "-",
    };
    size_t i;
    for (i = 0; i < COUNT(invalid); i++) {
        hat_event_payload_t *out = SENTINEL_PTR;
        if (!CHECK_STATUS(hat_event_payload_create_json(hat_event_str_from_cstr(invalid[i]), &out),
                          HAT_EVENT_ERR_INVALID_JSON)) {
            fprintf(stderr, "    input: %s\n", invalid[i]);
        }
        CHECK(out == SENTINEL_PTR);
    }
    {
        /* a raw NUL (a control character) inside a string, or after the value */
        hat_event_payload_t *out = SENTINEL_PTR;
        CHECK_STATUS(hat_event_payload_create_json(STR("\"a\0b\""), &out), HAT_EVENT_ERR_INVALID_JSON);
        CHECK_STATUS(hat_event_payload_create_json(STR("1\0"), &out), HAT_EVENT_ERR_INVALID_JSON);
        /* deep nesting is read (no limit but memory); unbalanced, it is an error */
        {
            char deep[2 * 128];
            hat_event_str_t view;
            hat_event_payload_t *payload = NULL;
            memset(deep, '[', 128);
            memset(deep + 128, ']', 128);
            view.ptr = deep;
            view.len = sizeof deep;
            CHECK_OK(hat_event_payload_create_json(view, &payload));
            hat_event_payload_destroy(payload);
            view.len = sizeof deep - 1;
            CHECK_STATUS(hat_event_payload_create_json(view, &out), HAT_EVENT_ERR_INVALID_JSON);
        }
        /* bad UTF-8 is found before parsing */
        CHECK_STATUS(hat_event_payload_create_json(STR("\"\xff\""), &out), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK_STATUS(hat_event_payload_create_json(STR("\"\xc3\x28\""), &out), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK(out == SENTINEL_PTR);
    }
}

/* ---- events ------------------------------------------------------------------ */

static const hat_event_str_t abc[] = {SEG("a"), SEG("b"), SEG("c")};
static const char *const abc_names[] = {"a", "b", "c"};

static hat_event_event_t *make_event(hat_event_event_id_t id, hat_event_timestamp_t t) {
    hat_event_event_t *event = NULL;
    REQUIRE_OK(hat_event_event_create(id, abc, 3, t, NULL, NULL, &event));
    return event;
}

static void test_event_full(void) {
    hat_event_payload_t *payload = NULL;
    hat_event_event_t *event = SENTINEL_PTR, *copy = SENTINEL_PTR;
    hat_event_timestamp_t source = ts(-5, 250000), got;
    char seg_bytes[] = "abc";
    hat_event_str_t type[3];

    type[0].ptr = seg_bytes;
    type[0].len = 1;
    type[1].ptr = seg_bytes + 1;
    type[1].len = 1;
    type[2].ptr = seg_bytes + 2;
    type[2].len = 1;
    REQUIRE_OK(hat_event_payload_create_json(STR("{\"v\":21.5}"), &payload));
    REQUIRE_OK(hat_event_event_create(eid(1, 2, 3), type, 3, ts(1700000000, 123456), &source, payload, &event));
    CHECK(event != NULL && event != SENTINEL_PTR);
    /* the event shares the payload (a new reference) and copies the rest */
    CHECK(hat_event_event_payload(event) == payload);
    memset(seg_bytes, 'x', 3);
    source = ts(0, 0);
    hat_event_payload_destroy(payload); /* the event's reference keeps it */
    payload = NULL;

    CHECK(id_eq(hat_event_event_get_id(event), eid(1, 2, 3)));
    CHECK(type_is(hat_event_event_get_type(event), abc_names, 3));
    CHECK(ts_eq(hat_event_event_timestamp(event), ts(1700000000, 123456)));
    got = ts(7, 7);
    CHECK(hat_event_event_source_timestamp(event, &got));
    CHECK(ts_eq(got, ts(-5, 250000)));
    CHECK(hat_event_event_source_timestamp(event, NULL)); /* out may be NULL */
    CHECK(hat_event_payload_get_kind(hat_event_event_payload(event)) == HAT_EVENT_PAYLOAD_JSON);
    {
        hat_event_payload_t *expected = NULL;
        REQUIRE_OK(hat_event_payload_create_json(STR("{\"v\": 21.5}"), &expected));
        CHECK(hat_event_payload_equal(hat_event_event_payload(event), expected));
        hat_event_payload_destroy(expected);
    }
    /* borrowed parts are stable */
    CHECK(hat_event_event_get_type(event) == hat_event_event_get_type(event));
    CHECK(hat_event_event_payload(event) == hat_event_event_payload(event));

    /* events are reference-counted: a clone is the same event, one more owner */
    REQUIRE_OK(hat_event_event_clone(event, &copy));
    CHECK(copy == event);
    CHECK(hat_event_event_equal(event, copy));
    CHECK(hat_event_event_equal(event, event));
    CHECK(hat_event_event_get_type(copy) == hat_event_event_get_type(event));
    hat_event_event_destroy(event);
    /* the clone outlives the original's reference, borrowed parts included
       (a use after free here would be reported by the ASan build) */
    CHECK(type_is(hat_event_event_get_type(copy), abc_names, 3));
    CHECK(hat_event_payload_get_kind(hat_event_event_payload(copy)) == HAT_EVENT_PAYLOAD_JSON);
    hat_event_event_destroy(copy);
}

static void test_event_minimal(void) {
    hat_event_event_t *event = NULL, *empty_type = NULL;
    hat_event_timestamp_t got = ts(7, 7);
    event = make_event(eid(0, 0, 0), ts(-1, 999999));
    CHECK(!hat_event_event_source_timestamp(event, &got));
    CHECK(ts_eq(got, ts(7, 7))); /* untouched */
    CHECK(!hat_event_event_source_timestamp(event, NULL));
    CHECK(hat_event_event_payload(event) == NULL);
    CHECK(ts_eq(hat_event_event_timestamp(event), ts(-1, 999999)));

    /* the empty event type, extreme timestamps */
    REQUIRE_OK(hat_event_event_create(eid(INT64_MIN, -1, INT64_MAX), NULL, 0, hat_event_timestamp_max(),
                                      NULL, NULL, &empty_type));
    CHECK(hat_event_event_get_type(empty_type) != NULL);
    CHECK(hat_event_event_type_len(hat_event_event_get_type(empty_type)) == 0);
    CHECK(id_eq(hat_event_event_get_id(empty_type), eid(INT64_MIN, -1, INT64_MAX)));
    CHECK(ts_eq(hat_event_event_timestamp(empty_type), hat_event_timestamp_max()));
    CHECK(!hat_event_event_equal(event, empty_type));
    hat_event_event_destroy(event);
    hat_event_event_destroy(empty_type);
}

static void test_event_equal_fields(void) {
    hat_event_payload_t *p1 = NULL, *p2 = NULL;
    hat_event_timestamp_t s1 = ts(10, 0), s2 = ts(10, 1);
    const hat_event_str_t ab[] = {SEG("a"), SEG("b")};
    hat_event_event_t *base = NULL, *variants[7] = {NULL};
    size_t i;
    REQUIRE_OK(hat_event_payload_create_json(STR("1"), &p1));
    REQUIRE_OK(hat_event_payload_create_json(STR("2"), &p2));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(5, 5), &s1, p1, &base));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 2), abc, 3, ts(5, 5), &s1, p1, &variants[0]));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), ab, 2, ts(5, 5), &s1, p1, &variants[1]));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(5, 6), &s1, p1, &variants[2]));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(5, 5), &s2, p1, &variants[3]));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(5, 5), NULL, p1, &variants[4]));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(5, 5), &s1, p2, &variants[5]));
    REQUIRE_OK(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(5, 5), &s1, NULL, &variants[6]));
    for (i = 0; i < COUNT(variants); i++) {
        if (!CHECK(!hat_event_event_equal(base, variants[i]) && !hat_event_event_equal(variants[i], base))) {
            fprintf(stderr, "    variant %u compares equal\n", (unsigned)i);
        }
    }
    for (i = 0; i < COUNT(variants); i++) {
        hat_event_event_destroy(variants[i]);
    }
    hat_event_event_destroy(base);
    hat_event_payload_destroy(p1);
    hat_event_payload_destroy(p2);
}

static void test_event_create_errors(void) {
    hat_event_event_t *out = SENTINEL_PTR;
    const hat_event_str_t bad_utf8[] = {SEG("a"), SEG("\xff")};
    const hat_event_str_t bad_utf8_2[] = {SEG("\xc3\x28")};
    const hat_event_str_t null_seg[] = {SEG("a"), {NULL, 2}};
    hat_event_timestamp_t bad_source = ts(0, 1000000);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), bad_utf8, 2, ts(0, 0), NULL, NULL, &out),
                 HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), bad_utf8_2, 1, ts(0, 0), NULL, NULL, &out),
                 HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), null_seg, 2, ts(0, 0), NULL, NULL, &out),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), NULL, 1, ts(0, 0), NULL, NULL, &out),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(0, 1000000), NULL, NULL, &out),
                 HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(0, 0), &bad_source, NULL, &out),
                 HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_event_create(eid(1, 1, 1), abc, 3, ts(0, 0), NULL, NULL, NULL),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
}

static void test_natural_order(void) {
    hat_event_event_t *a, *b, *same_id, *c, *d, *e, *f;

    /* same id: neither is less or greater (even with other timestamps) */
    a = make_event(eid(1, 1, 1), ts(5, 0));
    same_id = make_event(eid(1, 1, 1), ts(9, 0));
    CHECK(!hat_event_event_natural_lt(a, same_id) && !hat_event_event_natural_gt(a, same_id));
    CHECK(!hat_event_event_natural_lt(a, a) && !hat_event_event_natural_gt(a, a));

    /* same server: by id, whatever the timestamps */
    b = make_event(eid(1, 2, 1), ts(0, 0)); /* a later id, an earlier timestamp */
    CHECK(hat_event_event_natural_lt(a, b) && !hat_event_event_natural_gt(a, b));
    CHECK(hat_event_event_natural_gt(b, a) && !hat_event_event_natural_lt(b, a));
    c = make_event(eid(1, 1, 2), ts(5, 0));
    CHECK(hat_event_event_natural_lt(a, c) && hat_event_event_natural_gt(c, a));

    /* different servers: by timestamp, whatever the ids */
    d = make_event(eid(2, 0, 0), ts(6, 0));
    CHECK(hat_event_event_natural_lt(a, d) && hat_event_event_natural_gt(d, a));
    CHECK(!hat_event_event_natural_gt(a, d) && !hat_event_event_natural_lt(d, a));
    e = make_event(eid(0, 9, 9), ts(6, 0));
    CHECK(hat_event_event_natural_lt(a, e) && hat_event_event_natural_gt(e, a));

    /* different servers, equal timestamps: lt true both ways, gt false both ways */
    f = make_event(eid(2, 1, 1), ts(5, 0));
    CHECK(hat_event_event_natural_lt(a, f) && hat_event_event_natural_lt(f, a));
    CHECK(!hat_event_event_natural_gt(a, f) && !hat_event_event_natural_gt(f, a));

    /* NULL */
    CHECK(!hat_event_event_natural_lt(NULL, a) && !hat_event_event_natural_lt(a, NULL));
    CHECK(!hat_event_event_natural_gt(NULL, a) && !hat_event_event_natural_gt(a, NULL));
    CHECK(!hat_event_event_natural_lt(NULL, NULL) && !hat_event_event_natural_gt(NULL, NULL));

    hat_event_event_destroy(a);
    hat_event_event_destroy(b);
    hat_event_event_destroy(same_id);
    hat_event_event_destroy(c);
    hat_event_event_destroy(d);
    hat_event_event_destroy(e);
    hat_event_event_destroy(f);
}

static int compare_events(const void *x, const void *y) {
    const hat_event_event_t *const *a = (const hat_event_event_t *const *)x;
    const hat_event_event_t *const *b = (const hat_event_event_t *const *)y;
    return (int)hat_event_event_compare(*a, *b);
}

static void test_total_order(void) {
    /* shuffled; sorted they are by timestamp, then server, session, instance */
    static const struct {
        int64_t server, session, instance, s;
        uint32_t us;
        int rank;
    } spec[] = {
        {2, 1, 1, 5, 0, 5},  {1, 1, 1, 5, 0, 2},  {1, 1, 2, 5, 0, 3},  {9, 9, 9, -3, 0, 0},
        {1, 2, 0, 5, 0, 4},  {0, 0, 0, 5, 1, 6},  {5, 5, 5, -1, 999999, 1}, {1, 1, 1, 100, 0, 7},
    };
    hat_event_event_t *events[COUNT(spec)];
    hat_event_event_t *sorted[COUNT(spec) + 1];
    size_t i, j;
    for (i = 0; i < COUNT(spec); i++) {
        events[i] = make_event(eid(spec[i].server, spec[i].session, spec[i].instance), ts(spec[i].s, spec[i].us));
        sorted[i] = events[i];
    }
    sorted[COUNT(spec)] = NULL; /* NULL sorts first */
    qsort(sorted, COUNT(spec) + 1, sizeof sorted[0], compare_events);
    CHECK(sorted[0] == NULL);
    for (i = 0; i < COUNT(spec); i++) {
        CHECK(sorted[spec[i].rank + 1] == events[i]);
    }
    /* antisymmetric and consistent with equality */
    for (i = 0; i < COUNT(spec); i++) {
        CHECK(hat_event_event_compare(events[i], events[i]) == 0);
        CHECK(hat_event_event_compare(events[i], NULL) > 0);
        CHECK(hat_event_event_compare(NULL, events[i]) < 0);
        for (j = 0; j < COUNT(spec); j++) {
            int32_t ij = hat_event_event_compare(events[i], events[j]);
            int32_t ji = hat_event_event_compare(events[j], events[i]);
            CHECK((ij < 0) == (ji > 0) && (ij == 0) == (ji == 0));
            CHECK((ij < 0) == (spec[i].rank < spec[j].rank));
        }
    }
    CHECK(hat_event_event_compare(NULL, NULL) == 0);
    {
        /* equal keys compare equal even if other fields differ */
        hat_event_event_t *other = NULL;
        const hat_event_str_t x[] = {SEG("x")};
        REQUIRE_OK(hat_event_event_create(eid(2, 1, 1), x, 1, ts(5, 0), NULL, NULL, &other));
        CHECK(hat_event_event_compare(events[0], other) == 0);
        CHECK(!hat_event_event_equal(events[0], other));
        hat_event_event_destroy(other);
    }
    for (i = 0; i < COUNT(spec); i++) {
        hat_event_event_destroy(events[i]);
    }
}

/* ---- register events --------------------------------------------------------- */

static void test_register_event(void) {
    hat_event_payload_t *payload = NULL, *payload2 = NULL;
    hat_event_register_event_t *full = SENTINEL_PTR, *bare = SENTINEL_PTR, *copy = SENTINEL_PTR;
    hat_event_register_event_t *variants[5] = {NULL};
    hat_event_timestamp_t source = ts(42, 7), other_source = ts(42, 8), got = ts(7, 7);
    const hat_event_str_t ab[] = {SEG("a"), SEG("b")};
    size_t i;
    uint8_t bytes[3] = {0, 1, 2};
    hat_event_bytes_t data;
    data.ptr = bytes;
    data.len = 3;

    REQUIRE_OK(hat_event_payload_create_binary(STR("t"), data, &payload));
    REQUIRE_OK(hat_event_payload_create_binary(STR("u"), data, &payload2));
    REQUIRE_OK(hat_event_register_event_create(abc, 3, &source, payload, &full));
    source = ts(0, 0); /* copied */
    CHECK(type_is(hat_event_register_event_type(full), abc_names, 3));
    CHECK(hat_event_register_event_source_timestamp(full, &got));
    CHECK(ts_eq(got, ts(42, 7)));
    CHECK(hat_event_register_event_source_timestamp(full, NULL));
    CHECK(hat_event_payload_equal(hat_event_register_event_payload(full), payload));

    REQUIRE_OK(hat_event_register_event_create(NULL, 0, NULL, NULL, &bare));
    got = ts(7, 7);
    CHECK(hat_event_register_event_type(bare) != NULL);
    CHECK(hat_event_event_type_len(hat_event_register_event_type(bare)) == 0);
    CHECK(!hat_event_register_event_source_timestamp(bare, &got));
    CHECK(ts_eq(got, ts(7, 7)));
    CHECK(hat_event_register_event_payload(bare) == NULL);
    CHECK(!hat_event_register_event_equal(full, bare));

    REQUIRE_OK(hat_event_register_event_clone(full, &copy));
    CHECK(copy != full);
    CHECK(hat_event_register_event_equal(full, copy));
    CHECK(hat_event_register_event_equal(copy, copy));
    hat_event_register_event_destroy(full);
    full = NULL;
    CHECK(type_is(hat_event_register_event_type(copy), abc_names, 3));
    CHECK(hat_event_payload_equal(hat_event_register_event_payload(copy), payload));

    source = ts(42, 7);
    REQUIRE_OK(hat_event_register_event_create(ab, 2, &source, payload, &variants[0]));
    REQUIRE_OK(hat_event_register_event_create(abc, 3, &other_source, payload, &variants[1]));
    REQUIRE_OK(hat_event_register_event_create(abc, 3, NULL, payload, &variants[2]));
    REQUIRE_OK(hat_event_register_event_create(abc, 3, &source, payload2, &variants[3]));
    REQUIRE_OK(hat_event_register_event_create(abc, 3, &source, NULL, &variants[4]));
    for (i = 0; i < COUNT(variants); i++) {
        CHECK(!hat_event_register_event_equal(copy, variants[i]));
        hat_event_register_event_destroy(variants[i]);
    }

    {
        hat_event_register_event_t *out = SENTINEL_PTR;
        const hat_event_str_t bad[] = {SEG("\xc3\x28")};
        hat_event_timestamp_t bad_source = ts(1, 1000000);
        CHECK_STATUS(hat_event_register_event_create(bad, 1, NULL, NULL, &out), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK_STATUS(hat_event_register_event_create(abc, 3, &bad_source, NULL, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
        CHECK_STATUS(hat_event_register_event_create(NULL, 2, NULL, NULL, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(out == SENTINEL_PTR);
    }

    hat_event_register_event_destroy(copy);
    hat_event_register_event_destroy(bare);
    hat_event_payload_destroy(payload);
    hat_event_payload_destroy(payload2);
}

int main(void) {
    RUN(test_event_id_compare);
    RUN(test_binary_payload);
    RUN(test_json_round_trip);
    RUN(test_json_equal);
    RUN(test_json_errors);
    RUN(test_event_full);
    RUN(test_event_minimal);
    RUN(test_event_equal_fields);
    RUN(test_event_create_errors);
    RUN(test_natural_order);
    RUN(test_total_order);
    RUN(test_register_event);
    return check_finish();
}
