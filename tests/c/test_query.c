/*
 * Query parameters (latest, timeseries, server): the reference's defaults,
 * every setter and getter, setters for a field the kind lacks, unknown
 * codes, "unchanged on error", copies and equality. Query results: append,
 * len, borrowed events, more_follows, copies and equality.
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

/* Checks every getter of params holding its kind's defaults. */
static void check_defaults(const hat_event_query_params_t *p, hat_event_query_kind_t kind, int64_t server_id) {
    size_t count = (size_t)-7;
    hat_event_timestamp_t t = ts(7, 7);
    int64_t max_results = -7;
    hat_event_event_id_t id = eid(-7, -7, -7);
    CHECK(hat_event_query_params_kind(p) == kind);
    CHECK(!hat_event_query_params_event_types(p, &count)); /* all event types */
    CHECK(count == (size_t)-7);
    CHECK(hat_event_query_params_event_type(p, 0) == NULL);
    CHECK(!hat_event_query_params_get_t_from(p, &t));
    CHECK(!hat_event_query_params_get_t_to(p, &t));
    CHECK(!hat_event_query_params_get_source_t_from(p, &t));
    CHECK(!hat_event_query_params_get_source_t_to(p, &t));
    CHECK(ts_eq(t, ts(7, 7)));
    CHECK(hat_event_query_params_order(p) == HAT_EVENT_ORDER_DESCENDING);
    CHECK(hat_event_query_params_order_by(p) == HAT_EVENT_ORDER_BY_TIMESTAMP);
    CHECK(!hat_event_query_params_max_results(p, &max_results));
    CHECK(max_results == -7);
    CHECK(!hat_event_query_params_last_event_id(p, &id));
    CHECK(id_eq(id, eid(-7, -7, -7)));
    CHECK(hat_event_query_params_server_id(p) == server_id);
    CHECK(!hat_event_query_params_persisted(p));
}

static void test_defaults(void) {
    hat_event_query_params_t *latest = SENTINEL_PTR, *timeseries = SENTINEL_PTR, *server = SENTINEL_PTR;
    hat_event_query_params_t *server0 = SENTINEL_PTR, *server_neg = SENTINEL_PTR;
    REQUIRE_OK(hat_event_query_params_create_latest(&latest));
    REQUIRE_OK(hat_event_query_params_create_timeseries(&timeseries));
    REQUIRE_OK(hat_event_query_params_create_server(7, &server));
    REQUIRE_OK(hat_event_query_params_create_server(0, &server0));
    REQUIRE_OK(hat_event_query_params_create_server(INT64_MIN, &server_neg));
    check_defaults(latest, HAT_EVENT_QUERY_LATEST, 0);
    check_defaults(timeseries, HAT_EVENT_QUERY_TIMESERIES, 0);
    check_defaults(server, HAT_EVENT_QUERY_SERVER, 7);
    check_defaults(server0, HAT_EVENT_QUERY_SERVER, 0);
    check_defaults(server_neg, HAT_EVENT_QUERY_SERVER, INT64_MIN);
    /* kinds and server ids tell them apart */
    CHECK(!hat_event_query_params_equal(latest, timeseries));
    CHECK(!hat_event_query_params_equal(timeseries, server0));
    CHECK(!hat_event_query_params_equal(latest, server0));
    CHECK(!hat_event_query_params_equal(server, server0));
    CHECK(hat_event_query_params_equal(server, server));
    hat_event_query_params_destroy(latest);
    hat_event_query_params_destroy(timeseries);
    hat_event_query_params_destroy(server);
    hat_event_query_params_destroy(server0);
    hat_event_query_params_destroy(server_neg);
}

static const hat_event_str_t type_a_star[] = {SEG("a"), SEG("*")};
static const hat_event_str_t type_x_q_y[] = {SEG("x"), SEG("?"), SEG("y")};

static void test_event_types(hat_event_query_kind_t kind) {
    hat_event_query_params_t *p = NULL;
    const hat_event_event_type_view_t types[] = {{type_a_star, 2}, {NULL, 0}, {type_x_q_y, 3}};
    const char *const a_star[] = {"a", "*"}, *const x_q_y[] = {"x", "?", "y"};
    size_t count = 0;
    const hat_event_event_type_t *borrowed;

    if (kind == HAT_EVENT_QUERY_LATEST) {
        REQUIRE_OK(hat_event_query_params_create_latest(&p));
    } else {
        REQUIRE_OK(hat_event_query_params_create_timeseries(&p));
    }
    CHECK_OK(hat_event_query_params_set_event_types(p, types, 3));
    CHECK(hat_event_query_params_event_types(p, &count));
    CHECK(count == 3);
    CHECK(hat_event_query_params_event_types(p, NULL)); /* out may be NULL */
    CHECK(type_is(hat_event_query_params_event_type(p, 0), a_star, 2));
    CHECK(type_is(hat_event_query_params_event_type(p, 1), NULL, 0));
    CHECK(type_is(hat_event_query_params_event_type(p, 2), x_q_y, 3));
    CHECK(hat_event_query_params_event_type(p, 3) == NULL);
    borrowed = hat_event_query_params_event_type(p, 0);

    {
        /* unchanged on error: bad UTF-8, a NULL segment array */
        const hat_event_str_t bad[] = {SEG("ok"), SEG("\xc3\x28")};
        const hat_event_event_type_view_t bad_utf8[] = {{type_a_star, 2}, {bad, 2}};
        const hat_event_event_type_view_t null_segments[] = {{NULL, 2}};
        CHECK_STATUS(hat_event_query_params_set_event_types(p, bad_utf8, 2), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK_STATUS(hat_event_query_params_set_event_types(p, null_segments, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
        count = 0;
        CHECK(hat_event_query_params_event_types(p, &count) && count == 3);
        CHECK(hat_event_query_params_event_type(p, 0) == borrowed);
        CHECK(type_is(hat_event_query_params_event_type(p, 2), x_q_y, 3));
    }

    /* an empty list (matches nothing) differs from none (every type) */
    CHECK_OK(hat_event_query_params_set_event_types(p, types, 0));
    count = 7;
    CHECK(hat_event_query_params_event_types(p, &count));
    CHECK(count == 0);
    CHECK(hat_event_query_params_event_type(p, 0) == NULL);
    CHECK_OK(hat_event_query_params_set_event_types(p, NULL, 0));
    count = 7;
    CHECK(!hat_event_query_params_event_types(p, &count));
    CHECK(count == 7);
    hat_event_query_params_destroy(p);
}

static void test_event_types_latest(void) {
    test_event_types(HAT_EVENT_QUERY_LATEST);
}

static void test_event_types_timeseries(void) {
    test_event_types(HAT_EVENT_QUERY_TIMESERIES);
}

typedef hat_event_status_t (*ts_setter)(hat_event_query_params_t *, const hat_event_timestamp_t *);
typedef bool (*ts_getter)(const hat_event_query_params_t *, hat_event_timestamp_t *);

static void test_timeseries_fields(void) {
    static const ts_setter setters[] = {hat_event_query_params_set_t_from, hat_event_query_params_set_t_to,
                                        hat_event_query_params_set_source_t_from,
                                        hat_event_query_params_set_source_t_to};
    static const ts_getter getters[] = {hat_event_query_params_get_t_from, hat_event_query_params_get_t_to,
                                        hat_event_query_params_get_source_t_from,
                                        hat_event_query_params_get_source_t_to};
    hat_event_query_params_t *p = NULL, *copy = NULL;
    size_t i, j;
    int64_t max_results = 0;
    hat_event_event_id_t id = eid(0, 0, 0);

    REQUIRE_OK(hat_event_query_params_create_timeseries(&p));
    for (i = 0; i < 4; i++) {
        hat_event_timestamp_t value = ts(100 + (int64_t)i, (uint32_t)i), got = ts(7, 7);
        hat_event_timestamp_t bad = ts(1, 1000000);
        CHECK_OK(setters[i](p, &value));
        value = ts(0, 0); /* copied */
        CHECK(getters[i](p, &got));
        CHECK(ts_eq(got, ts(100 + (int64_t)i, (uint32_t)i)));
        CHECK(getters[i](p, NULL));
        /* the others are still unset */
        for (j = i + 1; j < 4; j++) {
            CHECK(!getters[j](p, NULL));
        }
        /* out of range: unchanged */
        CHECK_STATUS(setters[i](p, &bad), HAT_EVENT_ERR_OUT_OF_RANGE);
        got = ts(7, 7);
        CHECK(getters[i](p, &got) && ts_eq(got, ts(100 + (int64_t)i, (uint32_t)i)));
    }
    /* extremes are fine */
    {
        hat_event_timestamp_t min = hat_event_timestamp_min(), max = hat_event_timestamp_max(), got;
        CHECK_OK(hat_event_query_params_set_t_from(p, &min));
        CHECK_OK(hat_event_query_params_set_t_to(p, &max));
        CHECK(hat_event_query_params_get_t_from(p, &got) && ts_eq(got, min));
        CHECK(hat_event_query_params_get_t_to(p, &got) && ts_eq(got, max));
    }

    CHECK_OK(hat_event_query_params_set_order(p, HAT_EVENT_ORDER_ASCENDING));
    CHECK(hat_event_query_params_order(p) == HAT_EVENT_ORDER_ASCENDING);
    CHECK_STATUS(hat_event_query_params_set_order(p, 2), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order(p, UINT32_MAX), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hat_event_query_params_order(p) == HAT_EVENT_ORDER_ASCENDING); /* unchanged */
    CHECK_OK(hat_event_query_params_set_order(p, HAT_EVENT_ORDER_DESCENDING));
    CHECK(hat_event_query_params_order(p) == HAT_EVENT_ORDER_DESCENDING);

    CHECK_OK(hat_event_query_params_set_order_by(p, HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP));
    CHECK(hat_event_query_params_order_by(p) == HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP);
    CHECK_STATUS(hat_event_query_params_set_order_by(p, 2), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(p, UINT32_MAX), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hat_event_query_params_order_by(p) == HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP);

    {
        int64_t limit = 10;
        hat_event_event_id_t last = eid(1, 2, 3);
        CHECK_OK(hat_event_query_params_set_max_results(p, &limit));
        CHECK_OK(hat_event_query_params_set_last_event_id(p, &last));
    }
    CHECK(hat_event_query_params_max_results(p, &max_results) && max_results == 10);
    CHECK(hat_event_query_params_max_results(p, NULL));
    CHECK(hat_event_query_params_last_event_id(p, &id) && id_eq(id, eid(1, 2, 3)));
    CHECK(hat_event_query_params_last_event_id(p, NULL));
    CHECK(hat_event_query_params_server_id(p) == 0);
    CHECK(!hat_event_query_params_persisted(p));

    /* a copy is equal, then each change makes it differ */
    REQUIRE_OK(hat_event_query_params_clone(p, &copy));
    CHECK(copy != p);
    CHECK(hat_event_query_params_equal(p, copy));
    CHECK(hat_event_query_params_kind(copy) == HAT_EVENT_QUERY_TIMESERIES);
    CHECK(hat_event_query_params_max_results(copy, &max_results) && max_results == 10);
    CHECK_OK(hat_event_query_params_set_max_results(copy, NULL)); /* unset */
    CHECK(!hat_event_query_params_max_results(copy, NULL));
    CHECK(!hat_event_query_params_equal(p, copy));
    {
        int64_t limit = 10;
        CHECK_OK(hat_event_query_params_set_max_results(copy, &limit));
        CHECK(hat_event_query_params_equal(p, copy));
    }
    CHECK_OK(hat_event_query_params_set_last_event_id(copy, NULL));
    CHECK(!hat_event_query_params_last_event_id(copy, NULL));
    CHECK(!hat_event_query_params_equal(p, copy));
    {
        hat_event_event_id_t last = eid(1, 2, 3);
        CHECK_OK(hat_event_query_params_set_last_event_id(copy, &last));
        CHECK(hat_event_query_params_equal(p, copy));
    }
    for (i = 0; i < 4; i++) {
        CHECK_OK(setters[i](copy, NULL)); /* unset */
        CHECK(!getters[i](copy, NULL));
        CHECK(!hat_event_query_params_equal(p, copy));
    }
    hat_event_query_params_destroy(copy);
    copy = NULL;

    REQUIRE_OK(hat_event_query_params_clone(p, &copy));
    CHECK_OK(hat_event_query_params_set_order(copy, HAT_EVENT_ORDER_ASCENDING));
    CHECK(!hat_event_query_params_equal(p, copy));
    CHECK_OK(hat_event_query_params_set_order(copy, HAT_EVENT_ORDER_DESCENDING));
    CHECK(hat_event_query_params_equal(p, copy));
    CHECK_OK(hat_event_query_params_set_order_by(copy, HAT_EVENT_ORDER_BY_TIMESTAMP));
    CHECK(!hat_event_query_params_equal(p, copy));
    CHECK_OK(hat_event_query_params_set_event_types(copy, NULL, 0));
    hat_event_query_params_destroy(copy);

    /* the original outlives nothing: a clone survives it */
    REQUIRE_OK(hat_event_query_params_clone(p, &copy));
    hat_event_query_params_destroy(p);
    CHECK(hat_event_query_params_max_results(copy, &max_results) && max_results == 10);
    hat_event_query_params_destroy(copy);
}

static void test_server_fields(void) {
    hat_event_query_params_t *p = NULL, *copy = NULL;
    int64_t limit = -1, got = 0; /* any value is kept, as the reference does */
    hat_event_event_id_t last = eid(INT64_MIN, 0, INT64_MAX), got_id = eid(0, 0, 0);
    REQUIRE_OK(hat_event_query_params_create_server(42, &p));
    CHECK_OK(hat_event_query_params_set_persisted(p, true));
    CHECK(hat_event_query_params_persisted(p));
    CHECK_OK(hat_event_query_params_set_max_results(p, &limit));
    CHECK_OK(hat_event_query_params_set_last_event_id(p, &last));
    CHECK(hat_event_query_params_max_results(p, &got) && got == -1);
    CHECK(hat_event_query_params_last_event_id(p, &got_id) && id_eq(got_id, last));
    CHECK(hat_event_query_params_server_id(p) == 42);
    CHECK(hat_event_query_params_kind(p) == HAT_EVENT_QUERY_SERVER);
    /* timeseries-only getters give their fallbacks */
    CHECK(hat_event_query_params_order(p) == HAT_EVENT_ORDER_DESCENDING);
    CHECK(hat_event_query_params_order_by(p) == HAT_EVENT_ORDER_BY_TIMESTAMP);
    CHECK(!hat_event_query_params_event_types(p, NULL));
    CHECK(!hat_event_query_params_get_t_from(p, NULL));

    REQUIRE_OK(hat_event_query_params_clone(p, &copy));
    CHECK(hat_event_query_params_equal(p, copy));
    CHECK(hat_event_query_params_persisted(copy));
    CHECK_OK(hat_event_query_params_set_persisted(copy, false));
    CHECK(!hat_event_query_params_persisted(copy));
    CHECK(!hat_event_query_params_equal(p, copy));
    CHECK(!hat_event_query_params_equal(copy, p));
    hat_event_query_params_destroy(copy);
    hat_event_query_params_destroy(p);
}

static void test_wrong_kind(void) {
    hat_event_query_params_t *latest = NULL, *timeseries = NULL, *server = NULL, *copy = NULL;
    hat_event_timestamp_t t = ts(1, 2);
    int64_t limit = 5;
    hat_event_event_id_t id = eid(1, 1, 1);
    const hat_event_event_type_view_t types[] = {{type_a_star, 2}};
    REQUIRE_OK(hat_event_query_params_create_latest(&latest));
    REQUIRE_OK(hat_event_query_params_create_timeseries(&timeseries));
    REQUIRE_OK(hat_event_query_params_create_server(3, &server));

    /* latest has only event_types */
    REQUIRE_OK(hat_event_query_params_clone(latest, &copy));
    CHECK_STATUS(hat_event_query_params_set_t_from(latest, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_t_to(latest, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_source_t_from(latest, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_source_t_to(latest, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_t_from(latest, NULL), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order(latest, HAT_EVENT_ORDER_ASCENDING),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(latest, HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_max_results(latest, &limit), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_max_results(latest, NULL), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_last_event_id(latest, &id), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_persisted(latest, true), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hat_event_query_params_equal(latest, copy)); /* nothing changed */
    hat_event_query_params_destroy(copy);

    /* timeseries lacks persisted */
    REQUIRE_OK(hat_event_query_params_clone(timeseries, &copy));
    CHECK_STATUS(hat_event_query_params_set_persisted(timeseries, true), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hat_event_query_params_equal(timeseries, copy));
    hat_event_query_params_destroy(copy);

    /* server lacks event_types and the timeseries fields */
    REQUIRE_OK(hat_event_query_params_clone(server, &copy));
    CHECK_STATUS(hat_event_query_params_set_event_types(server, types, 1), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_event_types(server, NULL, 0), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_t_from(server, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_t_to(server, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_source_t_from(server, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_source_t_to(server, &t), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order(server, HAT_EVENT_ORDER_ASCENDING),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(server, HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hat_event_query_params_equal(server, copy));
    hat_event_query_params_destroy(copy);

    /* unknown codes on the right kind */
    CHECK_STATUS(hat_event_query_params_set_order(timeseries, 7), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_query_params_set_order_by(timeseries, 7), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hat_event_query_params_order(timeseries) == HAT_EVENT_ORDER_DESCENDING);
    CHECK(hat_event_query_params_order_by(timeseries) == HAT_EVENT_ORDER_BY_TIMESTAMP);

    hat_event_query_params_destroy(latest);
    hat_event_query_params_destroy(timeseries);
    hat_event_query_params_destroy(server);
}

/* ---- query results -------------------------------------------------------- */

static void test_result(void) {
    hat_event_query_result_t *result = SENTINEL_PTR, *copy = SENTINEL_PTR, *empty = NULL;
    hat_event_event_t *events[3];
    const hat_event_str_t type[] = {SEG("q"), SEG("r")};
    const hat_event_event_t *borrowed;
    size_t i;

    for (i = 0; i < 3; i++) {
        events[i] = NULL;
        REQUIRE_OK(hat_event_event_create(eid(1, 1, (int64_t)i), type, 2, ts((int64_t)i, 0), NULL, NULL,
                                          &events[i]));
    }
    REQUIRE_OK(hat_event_query_result_create(true, &result));
    CHECK(hat_event_query_result_len(result) == 0);
    CHECK(hat_event_query_result_more_follows(result));
    CHECK(hat_event_query_result_event(result, 0) == NULL);
    REQUIRE_OK(hat_event_query_result_create(false, &empty));
    CHECK(!hat_event_query_result_more_follows(empty));
    CHECK(!hat_event_query_result_equal(result, empty));

    for (i = 0; i < 3; i++) {
        CHECK_OK(hat_event_query_result_append(result, events[i]));
        CHECK(hat_event_query_result_len(result) == i + 1);
    }
    /* the same event twice is fine */
    CHECK_OK(hat_event_query_result_append(result, events[0]));
    CHECK(hat_event_query_result_len(result) == 4);
    for (i = 0; i < 3; i++) {
        borrowed = hat_event_query_result_event(result, i);
        CHECK(borrowed != NULL && borrowed == events[i]); /* shared, not a copy */
        CHECK(hat_event_event_equal(borrowed, events[i]));
    }
    CHECK(hat_event_event_equal(hat_event_query_result_event(result, 3), events[0]));
    CHECK(hat_event_query_result_event(result, 4) == NULL);
    CHECK(hat_event_query_result_event(result, (size_t)-1) == NULL);

    /* the caller's events can go; the result keeps its copies */
    for (i = 0; i < 3; i++) {
        hat_event_event_destroy(events[i]);
        events[i] = NULL;
    }
    borrowed = hat_event_query_result_event(result, 2);
    CHECK(id_eq(hat_event_event_get_id(borrowed), eid(1, 1, 2)));
    CHECK(ts_eq(hat_event_event_timestamp(borrowed), ts(2, 0)));
    CHECK(hat_event_event_type_len(hat_event_event_get_type(borrowed)) == 2);

    /* a borrowed event can be cloned into an owned reference (the same
       event, not a copy), and appending shares it too */
    {
        hat_event_event_t *owned = NULL;
        REQUIRE_OK(hat_event_event_clone(borrowed, &owned));
        CHECK(owned == borrowed);
        CHECK_OK(hat_event_query_result_append(empty, owned));
        CHECK(hat_event_query_result_event(empty, hat_event_query_result_len(empty) - 1) == owned);
        hat_event_event_destroy(owned);
    }

    CHECK_OK(hat_event_query_result_set_more_follows(result, false));
    CHECK(!hat_event_query_result_more_follows(result));
    CHECK_OK(hat_event_query_result_set_more_follows(result, true));
    CHECK(hat_event_query_result_more_follows(result));

    REQUIRE_OK(hat_event_query_result_clone(result, &copy));
    CHECK(copy != result);
    CHECK(hat_event_query_result_equal(result, copy));
    CHECK(hat_event_query_result_equal(result, result));
    CHECK(hat_event_query_result_len(copy) == 4);
    /* a new list sharing the (immutable) events */
    CHECK(hat_event_query_result_event(copy, 0) == hat_event_query_result_event(result, 0));
    CHECK_OK(hat_event_query_result_set_more_follows(copy, false));
    CHECK(!hat_event_query_result_equal(result, copy));
    CHECK_OK(hat_event_query_result_set_more_follows(copy, true));
    CHECK(hat_event_query_result_equal(result, copy));
    CHECK_OK(hat_event_query_result_append(copy, hat_event_query_result_event(result, 1)));
    CHECK(hat_event_query_result_len(copy) == 5);
    CHECK(!hat_event_query_result_equal(result, copy));
    CHECK(hat_event_query_result_len(result) == 4);

    hat_event_query_result_destroy(result);
    /* the event appended to `empty` is shared, not copied: it outlives `result` */
    CHECK(hat_event_event_type_len(hat_event_event_get_type(hat_event_query_result_event(empty, hat_event_query_result_len(empty) - 1))) == 2);
    /* the copy is independent */
    CHECK(hat_event_query_result_len(copy) == 5);
    CHECK(id_eq(hat_event_event_get_id(hat_event_query_result_event(copy, 4)), eid(1, 1, 1)));
    hat_event_query_result_destroy(copy);
    hat_event_query_result_destroy(empty);
}

int main(void) {
    RUN(test_defaults);
    RUN(test_event_types_latest);
    RUN(test_event_types_timeseries);
    RUN(test_timeseries_fields);
    RUN(test_server_fields);
    RUN(test_wrong_kind);
    RUN(test_result);
    return check_finish();
}
