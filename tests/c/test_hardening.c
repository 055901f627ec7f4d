/*
 * Hostile sizes through the C API (issue 13, classes 1 and 2): query types
 * of a million segments through every subscription and collection call and
 * through engine queries on the memory backend, and the wire case that
 * used to kill the process: a MsgQueryReq whose params hold one
 * 60,000-segment query type, decoded and passed to the engine. The old
 * code recursed once per segment (stack overflow at 29,000-48,000
 * segments) and took O(N^2) memory to unite a subscription with itself.
 *
 * Without sanitizers the test also bounds the growth of the peak resident
 * set over the whole run, measured with getrusage: MEMORY_BOUND_MB, 700
 * bytes per segment of N (516 MB measured: the largest operation, an
 * intersection of two wildcard types, plus malloc's overhead on a million
 * one-byte segment strings).
 */

#include <sys/resource.h>

#include "check.h"
#include "util.h"

#define N 1000000
#define WIRE_N 60000
#define MEMORY_BOUND_MB 700

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static long max_rss_kb(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

/* n segments "a" (or "?" where wild), the last one "*" if star. */
static hat_event_str_t *segments(size_t n, bool wild, bool star) {
    hat_event_str_t *s = malloc(n * sizeof *s);
    size_t i;
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (i = 0; i < n; i++) {
        s[i].ptr = wild ? "?" : "a";
        s[i].len = 1;
    }
    if (star) {
        s[n - 1].ptr = "*";
    }
    return s;
}

static bool matches(const hat_event_subscription_t *s, const hat_event_str_t *type, size_t len) {
    bool m = false;
    CHECK_OK(hat_event_subscription_matches(s, type, len, &m));
    return m;
}

/* Every subscription and collection call on one query type of N segments. */
static void one_kind(const char *name, bool wild, bool star) {
    hat_event_str_t *query_type = segments(N, wild, star);
    hat_event_str_t *event_type = segments(N, false, false);
    hat_event_event_type_view_t view;
    hat_event_subscription_t *s = NULL, *u = NULL, *i = NULL;
    const hat_event_subscription_t *others[1];
    hat_event_event_type_list_t *list = NULL;
    hat_event_collection_kind_t kinds[2] = {HAT_EVENT_COLLECTION_TREE, HAT_EVENT_COLLECTION_LIST};
    size_t k;
    bool disjoint = true;

    check_current = name;
    view.segments = query_type;
    view.len = N;
    REQUIRE_OK(hat_event_subscription_create(&view, 1, &s));
    CHECK(matches(s, event_type, N));
    CHECK(!matches(s, event_type, N - 2));

    CHECK_OK(hat_event_subscription_query_types(s, &list));
    CHECK(hat_event_event_type_list_len(list) == 1);
    CHECK(hat_event_event_type_len(hat_event_event_type_list_get(list, 0)) == N);
    hat_event_event_type_list_destroy(list);

    others[0] = s;
    CHECK_OK(hat_event_subscription_union(s, others, 1, &u));
    CHECK(hat_event_subscription_len(u) == 1 && matches(u, event_type, N));
    CHECK_OK(hat_event_subscription_intersection(s, others, 1, &i));
    CHECK(hat_event_subscription_len(i) == 1 && matches(i, event_type, N));
    CHECK_OK(hat_event_subscription_isdisjoint(s, u, &disjoint));
    CHECK(!disjoint);
    hat_event_subscription_destroy(u);
    hat_event_subscription_destroy(i);

    for (k = 0; k < 2; k++) {
        hat_event_collection_t *c = NULL;
        hat_event_values_t *values = NULL;
        REQUIRE_OK(hat_event_collection_create(kinds[k], &c));
        REQUIRE_OK(hat_event_values_create(&values));
        /* Twice: a value added again is united with what it had. */
        CHECK_OK(hat_event_collection_add(c, s, 7));
        CHECK_OK(hat_event_collection_add(c, s, 7));
        CHECK_OK(hat_event_collection_get(c, event_type, N, values));
        CHECK(hat_event_values_len(values) == 1 && hat_event_values_data(values)[0] == 7);
        CHECK_OK(hat_event_collection_remove(c, 7));
        CHECK_OK(hat_event_collection_get(c, event_type, N, values));
        CHECK(hat_event_values_len(values) == 0);
        hat_event_values_destroy(values);
        hat_event_collection_destroy(c);
    }
    hat_event_subscription_destroy(s);
    free(query_type);
    free(event_type);
}

static size_t query_latest(hat_event_engine_t *engine, const hat_event_query_params_t *params) {
    hat_event_query_result_t *result = NULL;
    size_t len;
    if (!CHECK_OK(hat_event_engine_query(engine, params, &result))) {
        return (size_t)-1;
    }
    len = hat_event_query_result_len(result);
    hat_event_query_result_destroy(result);
    return len;
}

static void engine_queries(void) {
    hat_event_engine_t *engine = NULL;
    hat_event_str_t *type = segments(N, false, false);
    hat_event_register_event_t *e = NULL;
    const hat_event_register_event_t *events[1];
    hat_event_event_list_t *registered = NULL;
    hat_event_source_t source = {HAT_EVENT_SOURCE_TYPE_EVENTER, 1};
    bool kinds[4][2] = {{false, false}, {true, false}, {false, true}, {true, true}};
    size_t k;

    check_current = "engine queries";
    REQUIRE_OK(hat_event_engine_create(STR("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}"), NULL,
                                       &engine));
    REQUIRE_OK(hat_event_register_event_create(type, N, NULL, NULL, &e));
    events[0] = e;
    CHECK_OK(hat_event_engine_register(engine, source, events, 1, &registered));
    hat_event_event_list_destroy(registered);
    hat_event_register_event_destroy(e);

    for (k = 0; k < 4; k++) {
        hat_event_str_t *q = segments(N, kinds[k][0], kinds[k][1]);
        hat_event_event_type_view_t view;
        hat_event_query_params_t *latest = NULL, *series = NULL;
        view.segments = q;
        view.len = N;
        REQUIRE_OK(hat_event_query_params_create_latest(&latest));
        REQUIRE_OK(hat_event_query_params_create_timeseries(&series));
        CHECK_OK(hat_event_query_params_set_event_types(latest, &view, 1));
        CHECK_OK(hat_event_query_params_set_event_types(series, &view, 1));
        CHECK(query_latest(engine, latest) == 1);
        CHECK(query_latest(engine, series) == 1);
        hat_event_query_params_destroy(latest);
        hat_event_query_params_destroy(series);
        free(q);
    }

    /* From the wire: a 60,000-segment query type ending in '*' in the
     * encoded params (about 120 KB), decoded, then queried. */
    {
        hat_event_str_t *q = segments(WIRE_N, false, true);
        hat_event_event_type_view_t view;
        hat_event_query_params_t *params = NULL, *decoded = NULL;
        hat_event_buffer_t *wire = NULL;
        hat_event_bytes_t bytes;
        view.segments = q;
        view.len = WIRE_N;
        REQUIRE_OK(hat_event_query_params_create_latest(&params));
        CHECK_OK(hat_event_query_params_set_event_types(params, &view, 1));
        REQUIRE_OK(hat_event_query_params_encode(params, &wire));
        CHECK(hat_event_buffer_len(wire) > 2 * WIRE_N);
        bytes.ptr = hat_event_buffer_data(wire);
        bytes.len = hat_event_buffer_len(wire);
        REQUIRE_OK(hat_event_query_params_decode(bytes, &decoded));
        CHECK(query_latest(engine, decoded) == 1);
        hat_event_query_params_destroy(decoded);
        hat_event_query_params_destroy(params);
        hat_event_buffer_destroy(wire);
        free(q);
    }
    CHECK_OK(hat_event_engine_close(engine));
    hat_event_engine_destroy(engine);
    free(type);
}

int main(void) {
    long before = max_rss_kb(), grown;
    one_kind("literal", false, false);
    one_kind("question marks", true, false);
    one_kind("literal then star", false, true);
    one_kind("question marks then star", true, true);
    engine_queries();
    grown = (max_rss_kb() - before) / 1024;
    printf("peak resident set grew by %ld MB%s\n", grown, SANITIZED ? " (sanitized: not bounded)" : "");
    if (!SANITIZED) {
        check_current = "memory bound";
        CHECK(grown <= MEMORY_BOUND_MB);
    }
    return check_finish();
}
