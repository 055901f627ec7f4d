/*
 * Event types: the 30 matches_query_type cases of hat-event's
 * test_matches.py, our own matching edges, and the event type handle
 * (create, clone, len, segment, equal), including UTF-8 checks.
 */

#include "check.h"
#include "util.h"

/* An event or query type of up to 3 segments, as NUL-terminated strings. */
typedef struct {
    size_t len;
    const char *seg[3];
} type3;

static size_t to_views(const type3 *t, hat_event_str_t *views) {
    size_t i;
    for (i = 0; i < t->len; i++) {
        views[i].ptr = t->seg[i];
        views[i].len = strlen(t->seg[i]);
    }
    return t->len;
}

static void test_reference_matches(void) {
    /* hat-event test_matches.py::test_matches_query_type, all 30 cases */
    static const struct {
        type3 event_type;
        type3 query_type;
        bool is_match;
    } cases[] = {
        {{0, {0}}, {0, {0}}, true},
        {{0, {0}}, {1, {"*"}}, true},
        {{0, {0}}, {1, {"?"}}, false},
        {{1, {"a"}}, {0, {0}}, false},
        {{1, {"a"}}, {1, {"*"}}, true},
        {{1, {"a"}}, {1, {"?"}}, true},
        {{1, {"a"}}, {2, {"?", "*"}}, true},
        {{1, {"a"}}, {2, {"?", "?"}}, false},
        {{1, {"a"}}, {1, {"a"}}, true},
        {{1, {"a"}}, {2, {"a", "*"}}, true},
        {{1, {"a"}}, {2, {"a", "?"}}, false},
        {{1, {"a"}}, {1, {"b"}}, false},
        {{1, {"a"}}, {2, {"a", "b"}}, false},
        {{2, {"a", "b"}}, {0, {0}}, false},
        {{2, {"a", "b"}}, {1, {"*"}}, true},
        {{2, {"a", "b"}}, {1, {"?"}}, false},
        {{2, {"a", "b"}}, {2, {"?", "*"}}, true},
        {{2, {"a", "b"}}, {2, {"?", "?"}}, true},
        {{2, {"a", "b"}}, {3, {"?", "?", "*"}}, true},
        {{2, {"a", "b"}}, {3, {"?", "?", "?"}}, false},
        {{2, {"a", "b"}}, {1, {"a"}}, false},
        {{2, {"a", "b"}}, {2, {"a", "*"}}, true},
        {{2, {"a", "b"}}, {2, {"a", "?"}}, true},
        {{2, {"a", "b"}}, {3, {"a", "?", "*"}}, true},
        {{2, {"a", "b"}}, {3, {"a", "?", "?"}}, false},
        {{2, {"a", "b"}}, {2, {"?", "b"}}, true},
        {{2, {"a", "b"}}, {3, {"?", "b", "*"}}, true},
        {{2, {"a", "b"}}, {3, {"?", "b", "?"}}, false},
        {{2, {"a", "b"}}, {2, {"b", "a"}}, false},
        {{2, {"a", "b"}}, {3, {"a", "b", "c"}}, false},
    };
    size_t i;
    CHECK(COUNT(cases) == 30);
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_str_t et[3], qt[3];
        size_t etn = to_views(&cases[i].event_type, et);
        size_t qtn = to_views(&cases[i].query_type, qt);
        bool got = !cases[i].is_match;
        CHECK_OK(hat_event_matches_query_type(et, etn, qt, qtn, &got));
        if (!CHECK(got == cases[i].is_match)) {
            fprintf(stderr, "    reference case %u\n", (unsigned)i);
        }
        /* NULL is fine for zero segments */
        if (etn == 0 && qtn == 0) {
            got = false;
            CHECK_OK(hat_event_matches_query_type(NULL, 0, NULL, 0, &got));
            CHECK(got);
        }
    }
}

static bool matches(const hat_event_str_t *et, size_t etn, const hat_event_str_t *qt, size_t qtn) {
    bool out = false;
    CHECK_OK(hat_event_matches_query_type(et, etn, qt, qtn, &out));
    return out;
}

static void test_matches_edges(void) {
    const hat_event_str_t a_star_b[] = {SEG("a"), SEG("*"), SEG("b")};
    const hat_event_str_t a_x_b[] = {SEG("a"), SEG("x"), SEG("b")};
    const hat_event_str_t empty_seg[] = {SEG("")};
    const hat_event_str_t q[] = {SEG("?")};
    const hat_event_str_t star[] = {SEG("*")};
    const hat_event_str_t nul_a[] = {SEG("a\0b")};
    const hat_event_str_t nul_b[] = {SEG("a\0c")};
    const hat_event_str_t utf8[] = {SEG("\xc3\xa9t\xc3\xa9"), SEG("\xe6\x97\xa5\xe6\x9c\xac"),
                                    SEG("\xf0\x9f\x98\x80")};
    const hat_event_str_t utf8_q[] = {SEG("\xc3\xa9t\xc3\xa9"), SEG("?"), SEG("*")};
    hat_event_str_t long_et[40], long_qt[41];
    size_t i;

    /* a '*' that is not last matches only a literal '*' */
    CHECK(matches(a_star_b, 3, a_star_b, 3));
    CHECK(!matches(a_x_b, 3, a_star_b, 3));
    /* a literal '?' or '*' in the event type is just a segment */
    CHECK(matches(q, 1, q, 1));
    CHECK(matches(star, 1, q, 1));
    /* empty segments are segments */
    CHECK(matches(empty_seg, 1, q, 1));
    CHECK(matches(empty_seg, 1, empty_seg, 1));
    CHECK(!matches(empty_seg, 1, NULL, 0));
    CHECK(!matches(NULL, 0, empty_seg, 1));
    /* segments compare by all their bytes, NULs included */
    CHECK(matches(nul_a, 1, nul_a, 1));
    CHECK(!matches(nul_a, 1, nul_b, 1));
    /* multi-byte UTF-8 */
    CHECK(matches(utf8, 3, utf8_q, 3));
    CHECK(matches(utf8, 3, utf8, 3));
    CHECK(!matches(utf8, 2, utf8, 3));
    /* long types (past any small fixed buffer) */
    for (i = 0; i < 40; i++) {
        long_et[i] = STR("s");
        long_qt[i] = STR("?");
    }
    long_qt[40] = STR("*");
    CHECK(matches(long_et, 40, long_et, 40));
    CHECK(matches(long_et, 40, long_qt, 40));
    CHECK(matches(long_et, 40, long_qt, 41));
    CHECK(!matches(long_et, 39, long_qt, 40));
    CHECK(!matches(long_et, 40, long_et, 39));
}

static void test_matches_errors(void) {
    const hat_event_str_t ok[] = {SEG("a"), SEG("b")};
    const hat_event_str_t bad_ff[] = {SEG("a"), SEG("\xff")};
    const hat_event_str_t bad_c3[] = {SEG("\xc3\x28")};
    const hat_event_str_t null_seg[] = {SEG("a"), {NULL, 1}};
    bool out;
    FILL_SENTINEL(out);
    CHECK_STATUS(hat_event_matches_query_type(bad_ff, 2, ok, 2, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_matches_query_type(ok, 2, bad_ff, 2, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_matches_query_type(bad_c3, 1, ok, 2, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_matches_query_type(ok, 2, bad_c3, 1, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_matches_query_type(null_seg, 2, ok, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(ok, 2, null_seg, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(NULL, 1, ok, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(ok, 2, NULL, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_matches_query_type(ok, 2, ok, 2, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(IS_SENTINEL(out));
}

static void test_handle(void) {
    char segments[] = "gw\0dev\0temp";
    hat_event_str_t views[4];
    const char *const names[] = {"gw", "dev", "", "temp"};
    hat_event_event_type_t *type = SENTINEL_PTR, *copy = SENTINEL_PTR, *other = SENTINEL_PTR;
    hat_event_event_type_t *empty1 = SENTINEL_PTR, *empty2 = SENTINEL_PTR;
    hat_event_str_t seg;

    views[0].ptr = segments;
    views[0].len = 2;
    views[1].ptr = segments + 3;
    views[1].len = 3;
    views[2].ptr = segments; /* an empty segment */
    views[2].len = 0;
    views[3].ptr = segments + 7;
    views[3].len = 4;
    REQUIRE_OK(hat_event_event_type_create(views, 4, &type));
    CHECK(type != NULL && type != SENTINEL_PTR);
    /* the segments were copied: changing the caller's bytes changes nothing */
    memset(segments, 'x', sizeof segments);
    CHECK(hat_event_event_type_len(type) == 4);
    CHECK(type_is(type, names, 4));
    seg = hat_event_event_type_segment(type, 2);
    CHECK(seg.len == 0 && seg.ptr != NULL); /* empty, not missing */
    seg = hat_event_event_type_segment(type, 4);
    CHECK(seg.ptr == NULL && seg.len == 0);
    seg = hat_event_event_type_segment(type, (size_t)-1);
    CHECK(seg.ptr == NULL && seg.len == 0);

    REQUIRE_OK(hat_event_event_type_clone(type, &copy));
    CHECK(copy != type);
    CHECK(hat_event_event_type_equal(type, copy));
    CHECK(hat_event_event_type_equal(copy, type));
    CHECK(hat_event_event_type_equal(type, type));
    CHECK(type_is(copy, names, 4));
    /* the clone outlives its source */
    hat_event_event_type_destroy(type);
    CHECK(type_is(copy, names, 4));

    {
        const hat_event_str_t three[] = {SEG("gw"), SEG("dev"), SEG("")};
        REQUIRE_OK(hat_event_event_type_create(three, 3, &other));
        CHECK(!hat_event_event_type_equal(copy, other)); /* a prefix */
        CHECK(!hat_event_event_type_equal(other, copy));
    }

    /* the empty type, from NULL or not */
    REQUIRE_OK(hat_event_event_type_create(NULL, 0, &empty1));
    REQUIRE_OK(hat_event_event_type_create(views, 0, &empty2));
    CHECK(hat_event_event_type_len(empty1) == 0);
    CHECK(hat_event_event_type_equal(empty1, empty2));
    CHECK(!hat_event_event_type_equal(empty1, other));
    seg = hat_event_event_type_segment(empty1, 0);
    CHECK(seg.ptr == NULL && seg.len == 0);

    /* NULL is never equal */
    CHECK(!hat_event_event_type_equal(NULL, NULL));
    CHECK(!hat_event_event_type_equal(copy, NULL));
    CHECK(!hat_event_event_type_equal(NULL, copy));

    hat_event_event_type_destroy(copy);
    hat_event_event_type_destroy(other);
    hat_event_event_type_destroy(empty1);
    hat_event_event_type_destroy(empty2);
}

static void test_handle_utf8(void) {
    /* valid multi-byte UTF-8 and embedded NULs survive byte for byte */
    const hat_event_str_t good[] = {SEG("\xc3\xa9"), SEG("\xe2\x82\xac"), SEG("\xf0\x9f\x98\x80"), SEG("a\0b"),
                                    SEG("\xef\xbf\xbf")};
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\xc3\x28",         /* bad continuation */
        "\xc0\xaf",         /* overlong */
        "\xed\xa0\x80",     /* a surrogate */
        "\xe2\x82",         /* truncated */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\x80",             /* lone continuation */
        "ok\xfe",
    };
    hat_event_event_type_t *type = NULL;
    size_t i;
    REQUIRE_OK(hat_event_event_type_create(good, COUNT(good), &type));
    for (i = 0; i < COUNT(good); i++) {
        CHECK(view_eq(hat_event_event_type_segment(type, i), good[i].ptr, good[i].len));
    }
    hat_event_event_type_destroy(type);

    for (i = 0; i < COUNT(bad); i++) {
        hat_event_str_t views[3];
        hat_event_event_type_t *out = SENTINEL_PTR;
        views[0] = STR("fine");
        views[1].ptr = bad[i];
        views[1].len = strlen(bad[i]);
        views[2] = STR("fine");
        if (!CHECK_STATUS(hat_event_event_type_create(views, 3, &out), HAT_EVENT_ERR_INVALID_UTF8)) {
            fprintf(stderr, "    bad UTF-8 case %u\n", (unsigned)i);
        }
        CHECK(out == SENTINEL_PTR);
    }
}

int main(void) {
    RUN(test_reference_matches);
    RUN(test_matches_edges);
    RUN(test_matches_errors);
    RUN(test_handle);
    RUN(test_handle_utf8);
    return check_finish();
}
