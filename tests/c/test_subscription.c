/*
 * Subscriptions and event-type collections: hat-event's test_subscription.py
 * (sanitised query types, matches, union, isdisjoint, intersection) and
 * test_collection.py (for both collection kinds), plus our own cases:
 * intersection exactness, a '*' that is not last, long event types, UTF-8
 * checks, the values buffer.
 */

#include "check.h"
#include "util.h"

/* A list of up to 4 query/event types of up to 3 segments. */
typedef struct {
    size_t len;
    const char *seg[3];
} type3;

typedef struct {
    size_t count;
    type3 types[4];
} types4;

/* Views for a types4; storage for the segment views is in `segs`. */
static void views_of(const types4 *t, hat_event_event_type_view_t views[4], hat_event_str_t segs[4][3]) {
    size_t i, j;
    for (i = 0; i < t->count; i++) {
        for (j = 0; j < t->types[i].len; j++) {
            segs[i][j].ptr = t->types[i].seg[j];
            segs[i][j].len = strlen(t->types[i].seg[j]);
        }
        views[i].segments = t->types[i].len > 0 ? segs[i] : NULL;
        views[i].len = t->types[i].len;
    }
}

static hat_event_subscription_t *subscription(const types4 *t) {
    hat_event_event_type_view_t views[4];
    hat_event_str_t segs[4][3];
    hat_event_subscription_t *s = NULL;
    views_of(t, views, segs);
    REQUIRE_OK(hat_event_subscription_create(t->count > 0 ? views : NULL, t->count, &s));
    return s;
}

/* The key of a type3, as type_key() makes it. */
static void key_of(const type3 *t, char key[KEY_SIZE]) {
    size_t i;
    key[0] = '\0';
    for (i = 0; i < t->len; i++) {
        strcat(key, "/");
        strcat(key, t->seg[i]);
    }
}

/* True if the subscription's query types are exactly `expected` (as a set). */
static bool query_types_are(const hat_event_subscription_t *s, const types4 *expected) {
    hat_event_event_type_list_t *list = SENTINEL_PTR;
    char keys[4][KEY_SIZE];
    const char *key_ptrs[4];
    size_t i;
    bool ok;
    if (!CHECK_OK(hat_event_subscription_query_types(s, &list))) {
        return false;
    }
    for (i = 0; i < expected->count; i++) {
        key_of(&expected->types[i], keys[i]);
        key_ptrs[i] = keys[i];
    }
    ok = list_is(list, key_ptrs, expected->count) && hat_event_subscription_len(s) == expected->count;
    if (!ok) {
        fprintf(stderr, "    query types (%u):", (unsigned)hat_event_event_type_list_len(list));
        for (i = 0; i < hat_event_event_type_list_len(list); i++) {
            char key[KEY_SIZE];
            type_key(hat_event_event_type_list_get(list, i), key);
            fprintf(stderr, " \"%s\"", key);
        }
        fprintf(stderr, "\n");
    }
    hat_event_event_type_list_destroy(list);
    return ok;
}

static bool sub_matches(const hat_event_subscription_t *s, const type3 *t) {
    hat_event_str_t segs[3];
    hat_event_event_type_t *handle = NULL;
    bool out = false, out_type = false;
    size_t i;
    for (i = 0; i < t->len; i++) {
        segs[i].ptr = t->seg[i];
        segs[i].len = strlen(t->seg[i]);
    }
    CHECK_OK(hat_event_subscription_matches(s, t->len > 0 ? segs : NULL, t->len, &out));
    /* the event type handle form agrees */
    REQUIRE_OK(hat_event_event_type_create(segs, t->len, &handle));
    CHECK_OK(hat_event_subscription_matches_type(s, handle, &out_type));
    CHECK(out == out_type);
    hat_event_event_type_destroy(handle);
    return out;
}

static void test_reference_query_types(void) {
    static const struct {
        types4 query_types, sanitized;
    } cases[] = {
        {{0, {{0, {0}}}}, {0, {{0, {0}}}}},
        {{1, {{0, {0}}}}, {1, {{0, {0}}}}},
        {{3, {{1, {"a"}}, {1, {"b"}}, {1, {"c"}}}}, {3, {{1, {"a"}}, {1, {"b"}}, {1, {"c"}}}}},
        {{4, {{1, {"a"}}, {2, {"b", "*"}}, {0, {0}}, {1, {"*"}}}}, {1, {{1, {"*"}}}}},
        {{2, {{2, {"a", "*"}}, {1, {"a"}}}}, {1, {{2, {"a", "*"}}}}},
        {{4, {{2, {"a", "*"}}, {1, {"b"}}, {2, {"c", "?"}}, {2, {"c", "*"}}}},
         {3, {{2, {"a", "*"}}, {1, {"b"}}, {2, {"c", "*"}}}}},
        {{2, {{1, {""}}, {1, {"a"}}}}, {2, {{1, {""}}, {1, {"a"}}}}},
        {{2, {{1, {""}}, {1, {"*"}}}}, {1, {{1, {"*"}}}}},
        /* own: duplicates vanish; a covered '*' that is not last is accepted */
        {{3, {{1, {"a"}}, {1, {"a"}}, {2, {"a", "b"}}}}, {2, {{1, {"a"}}, {2, {"a", "b"}}}}},
        {{2, {{1, {"*"}}, {3, {"a", "*", "b"}}}}, {1, {{1, {"*"}}}}},
        {{2, {{2, {"a", "*"}}, {3, {"a", "*", "b"}}}}, {1, {{2, {"a", "*"}}}}},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_subscription_t *s = subscription(&cases[i].query_types);
        if (!CHECK(query_types_are(s, &cases[i].sanitized))) {
            fprintf(stderr, "    query types case %u\n", (unsigned)i);
        }
        hat_event_subscription_destroy(s);
    }
}

static void test_reference_matches(void) {
    static const struct {
        types4 query_types;
        types4 matching;
        types4 not_matching;
    } cases[] = {
        {{0, {{0, {0}}}}, {0, {{0, {0}}}}, {3, {{1, {"a"}}, {2, {"a", "b"}}, {0, {0}}}}},
        {{1, {{0, {0}}}}, {1, {{0, {0}}}}, {2, {{1, {"a"}}, {2, {"a", "b"}}}}},
        {{1, {{1, {"*"}}}}, {3, {{0, {0}}, {1, {"a"}}, {2, {"a", "b"}}}}, {0, {{0, {0}}}}},
        {{1, {{1, {"a"}}}}, {1, {{1, {"a"}}}}, {3, {{0, {0}}, {2, {"a", "b"}}, {1, {"b"}}}}},
        {{2, {{2, {"a", "?"}}, {1, {"a"}}}},
         {3, {{1, {"a"}}, {2, {"a", "b"}}, {2, {"a", ""}}}},
         {4, {{0, {0}}, {3, {"a", "b", "c"}}, {1, {"b"}}, {1, {""}}}}},
    };
    size_t i, j;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_subscription_t *s = subscription(&cases[i].query_types);
        for (j = 0; j < cases[i].matching.count; j++) {
            if (!CHECK(sub_matches(s, &cases[i].matching.types[j]))) {
                fprintf(stderr, "    matches case %u, matching %u\n", (unsigned)i, (unsigned)j);
            }
        }
        for (j = 0; j < cases[i].not_matching.count; j++) {
            if (!CHECK(!sub_matches(s, &cases[i].not_matching.types[j]))) {
                fprintf(stderr, "    matches case %u, not matching %u\n", (unsigned)i, (unsigned)j);
            }
        }
        hat_event_subscription_destroy(s);
    }
}

static void test_reference_union(void) {
    /* Subscription([]).union(*(Subscription(i) for i in query_types)) */
    static const struct {
        size_t count;
        types4 others[3];
        types4 expected;
    } cases[] = {
        {0, {{0, {{0, {0}}}}}, {0, {{0, {0}}}}},
        {1, {{0, {{0, {0}}}}}, {0, {{0, {0}}}}},
        {2, {{1, {{1, {"a"}}}}, {1, {{1, {"b"}}}}}, {2, {{1, {"a"}}, {1, {"b"}}}}},
        {3, {{1, {{1, {"a"}}}}, {1, {{1, {"b"}}}}, {1, {{1, {"*"}}}}}, {1, {{1, {"*"}}}}},
        {2, {{1, {{2, {"a", "b"}}}}, {1, {{2, {"a", "c"}}}}}, {2, {{2, {"a", "b"}}, {2, {"a", "c"}}}}},
        {2, {{1, {{2, {"a", ""}}}}, {1, {{2, {"", "a"}}}}}, {2, {{2, {"a", ""}}, {2, {"", "a"}}}}},
    };
    static const types4 none = {0, {{0, {0}}}};
    size_t i, j;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_subscription_t *base = subscription(&none), *result = SENTINEL_PTR;
        hat_event_subscription_t *others[3] = {NULL, NULL, NULL};
        for (j = 0; j < cases[i].count; j++) {
            others[j] = subscription(&cases[i].others[j]);
        }
        CHECK_OK(hat_event_subscription_union(base, (const hat_event_subscription_t *const *)others,
                                              cases[i].count, &result));
        if (!CHECK(query_types_are(result, &cases[i].expected))) {
            fprintf(stderr, "    union case %u\n", (unsigned)i);
        }
        hat_event_subscription_destroy(result);
        for (j = 0; j < cases[i].count; j++) {
            hat_event_subscription_destroy(others[j]);
        }
        hat_event_subscription_destroy(base);
    }
}

static void test_reference_isdisjoint(void) {
    static const struct {
        types4 first, second;
        bool isdisjoint;
    } cases[] = {
        {{0, {{0, {0}}}}, {0, {{0, {0}}}}, true},
        {{1, {{1, {"a"}}}}, {1, {{1, {"b"}}}}, true},
        {{1, {{1, {"a"}}}}, {1, {{1, {"a"}}}}, false},
        {{1, {{1, {"a"}}}}, {1, {{1, {"?"}}}}, false},
        {{1, {{1, {"?"}}}}, {1, {{1, {"?"}}}}, false},
        {{1, {{2, {"?", "a"}}}}, {1, {{2, {"?", "b"}}}}, true},
        {{1, {{2, {"a", "b"}}}}, {1, {{1, {"*"}}}}, false},
        {{1, {{3, {"a", "b", "*"}}}}, {1, {{2, {"a", "b"}}}}, false},
        {{1, {{3, {"a", "", "?"}}}}, {1, {{3, {"a", "", "b"}}}}, false},
        /* own (the last one differs from the reference, which says disjoint) */
        {{1, {{1, {"a"}}}}, {1, {{2, {"a", "*"}}}}, false},
        {{1, {{2, {"a", "?"}}}}, {1, {{1, {"a"}}}}, true},
        {{1, {{0, {0}}}}, {1, {{1, {"*"}}}}, false},
        {{1, {{0, {0}}}}, {1, {{1, {"?"}}}}, true},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_subscription_t *a = subscription(&cases[i].first), *b = subscription(&cases[i].second);
        bool ab = !cases[i].isdisjoint, ba = !cases[i].isdisjoint;
        CHECK_OK(hat_event_subscription_isdisjoint(a, b, &ab));
        CHECK_OK(hat_event_subscription_isdisjoint(b, a, &ba));
        if (!CHECK(ab == cases[i].isdisjoint && ba == cases[i].isdisjoint)) {
            fprintf(stderr, "    isdisjoint case %u\n", (unsigned)i);
        }
        hat_event_subscription_destroy(a);
        hat_event_subscription_destroy(b);
    }
}

static void test_reference_intersection(void) {
    static const struct {
        types4 first, second, expected;
    } cases[] = {
        {{0, {{0, {0}}}}, {0, {{0, {0}}}}, {0, {{0, {0}}}}},
        {{1, {{1, {"a"}}}}, {1, {{1, {"b"}}}}, {0, {{0, {0}}}}},
        {{1, {{1, {"*"}}}}, {3, {{1, {"a"}}, {1, {"b"}}, {1, {"c"}}}}, {3, {{1, {"a"}}, {1, {"b"}}, {1, {"c"}}}}},
        {{2, {{1, {"a"}}, {1, {"b"}}}}, {2, {{1, {"b"}}, {1, {"c"}}}}, {1, {{1, {"b"}}}}},
        {{1, {{2, {"?", "b"}}}}, {1, {{2, {"a", "b"}}}}, {1, {{2, {"a", "b"}}}}},
        {{2, {{1, {""}}, {1, {"a"}}}}, {2, {{1, {""}}, {1, {"b"}}}}, {1, {{1, {""}}}}},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_subscription_t *a = subscription(&cases[i].first), *b = subscription(&cases[i].second);
        hat_event_subscription_t *result = SENTINEL_PTR;
        const hat_event_subscription_t *others[1];
        others[0] = b;
        CHECK_OK(hat_event_subscription_intersection(a, others, 1, &result));
        if (!CHECK(query_types_are(result, &cases[i].expected))) {
            fprintf(stderr, "    intersection case %u\n", (unsigned)i);
        }
        hat_event_subscription_destroy(result);
        hat_event_subscription_destroy(a);
        hat_event_subscription_destroy(b);
    }
}

static void test_intersection_exact(void) {
    /* [('a',)] ∩ [('a','*')] matches ('a',) (the reference misses it) */
    static const types4 a = {1, {{1, {"a"}}}}, a_star = {1, {{2, {"a", "*"}}}};
    static const type3 just_a = {1, {"a"}}, a_b = {2, {"a", "b"}};
    static const types4 three = {3, {{1, {"*"}}, {0, {0}}, {0, {0}}}};
    hat_event_subscription_t *s1 = subscription(&a), *s2 = subscription(&a_star), *both = NULL;
    hat_event_subscription_t *all = subscription(&three), *none = NULL;
    const hat_event_subscription_t *others[2];
    others[0] = s2;
    CHECK_OK(hat_event_subscription_intersection(s1, others, 1, &both));
    CHECK(sub_matches(both, &just_a));
    CHECK(!sub_matches(both, &a_b));
    hat_event_subscription_destroy(both);
    /* several others at once; none at all is the subscription itself */
    others[0] = all;
    others[1] = s2;
    CHECK_OK(hat_event_subscription_intersection(s1, others, 2, &both));
    CHECK(sub_matches(both, &just_a));
    CHECK(hat_event_subscription_len(both) == 1);
    hat_event_subscription_destroy(both);
    CHECK_OK(hat_event_subscription_intersection(s2, NULL, 0, &none));
    CHECK(query_types_are(none, &a_star));
    hat_event_subscription_destroy(none);
    hat_event_subscription_destroy(s1);
    hat_event_subscription_destroy(s2);
    hat_event_subscription_destroy(all);
}

static void test_subscription_handles(void) {
    static const types4 t = {2, {{2, {"a", "*"}}, {2, {"b", "?"}}}};
    static const type3 a_x = {2, {"a", "x"}}, c = {1, {"c"}};
    hat_event_subscription_t *s = subscription(&t), *copy = SENTINEL_PTR, *copy2 = SENTINEL_PTR;
    REQUIRE_OK(hat_event_subscription_clone(s, &copy));
    CHECK(copy == s); /* reference-counted: the same subscription */
    REQUIRE_OK(hat_event_subscription_clone(copy, &copy2));
    hat_event_subscription_destroy(s); /* the others keep it alive */
    CHECK(sub_matches(copy, &a_x));
    CHECK(!sub_matches(copy, &c));
    CHECK(query_types_are(copy2, &t));
    CHECK(hat_event_subscription_len(copy2) == 2);
    hat_event_subscription_destroy(copy);
    CHECK(sub_matches(copy2, &a_x));
    hat_event_subscription_destroy(copy2);
}

static void test_subscription_create_errors(void) {
    const hat_event_str_t a_star_b[] = {SEG("a"), SEG("*"), SEG("b")};
    const hat_event_str_t bad[] = {SEG("a"), SEG("\xff")};
    const hat_event_str_t bad2[] = {SEG("\xc3\x28")};
    const hat_event_event_type_view_t star_not_last[] = {{a_star_b, 3}};
    const hat_event_event_type_view_t bad_utf8[] = {{a_star_b, 2}, {bad, 2}};
    const hat_event_event_type_view_t bad_utf8_2[] = {{bad2, 1}};
    const hat_event_event_type_view_t null_segments[] = {{NULL, 1}};
    const hat_event_str_t star[] = {SEG("*")}, a_q[] = {SEG("a"), SEG("?")};
    /* a covering '*' or "a/?" that comes only later does not excuse it (as in the reference) */
    const hat_event_event_type_view_t star_later[] = {{a_star_b, 3}, {star, 1}};
    const hat_event_event_type_view_t not_covered[] = {{a_q, 2}, {a_star_b, 3}};
    hat_event_subscription_t *out = SENTINEL_PTR;
    CHECK_STATUS(hat_event_subscription_create(star_not_last, 1, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(star_later, 2, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(not_covered, 2, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(bad_utf8, 2, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_subscription_create(bad_utf8_2, 1, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_subscription_create(null_segments, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_create(NULL, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
}

static void test_subscription_long_types(void) {
    /* more segments than any small fixed buffer: 40 */
    hat_event_str_t segs[41];
    hat_event_event_type_view_t view;
    hat_event_subscription_t *s = NULL;
    bool out = false;
    size_t i;
    for (i = 0; i < 40; i++) {
        segs[i] = STR("s");
    }
    segs[40] = STR("*");
    view.segments = segs;
    view.len = 41; /* ('s' x 40, '*') */
    REQUIRE_OK(hat_event_subscription_create(&view, 1, &s));
    CHECK_OK(hat_event_subscription_matches(s, segs, 40, &out));
    CHECK(out);
    out = true;
    CHECK_OK(hat_event_subscription_matches(s, segs, 39, &out));
    CHECK(!out);
    segs[35] = STR("\xc3\x28");
    FILL_SENTINEL(out);
    CHECK_STATUS(hat_event_subscription_matches(s, segs, 40, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(IS_SENTINEL(out));
    segs[35].ptr = NULL;
    CHECK_STATUS(hat_event_subscription_matches(s, segs, 40, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(IS_SENTINEL(out));
    /* and in a short type */
    CHECK_STATUS(hat_event_subscription_matches(s, segs + 35, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    segs[35] = STR("\xff");
    CHECK_STATUS(hat_event_subscription_matches(s, segs + 34, 2, &out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(IS_SENTINEL(out));
    hat_event_subscription_destroy(s);
}

/* ---- collections ------------------------------------------------------------ */

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* True if `values` holds exactly `expected` (ascending), in any order. */
static bool values_are(const hat_event_values_t *values, const uint64_t *expected, size_t n) {
    uint64_t got[16];
    size_t i, len = hat_event_values_len(values);
    if (len != n || len > 16) {
        return false;
    }
    if (len > 0) {
        memcpy(got, hat_event_values_data(values), len * sizeof got[0]);
    }
    qsort(got, len, sizeof got[0], u64_cmp);
    for (i = 0; i < n; i++) {
        if (got[i] != expected[i]) {
            return false;
        }
    }
    return true;
}

/* True if get(type) returns exactly `expected` (ascending), in any order,
   both from segment views and from an event type handle (get_type). */
static bool collection_gets(const hat_event_collection_t *c, hat_event_values_t *values, const type3 *type,
                            const uint64_t *expected, size_t n) {
    hat_event_str_t segs[3];
    hat_event_event_type_t *handle = NULL;
    size_t i;
    bool ok;
    for (i = 0; i < type->len; i++) {
        segs[i].ptr = type->seg[i];
        segs[i].len = strlen(type->seg[i]);
    }
    if (!CHECK_OK(hat_event_collection_get(c, type->len > 0 ? segs : NULL, type->len, values))) {
        return false;
    }
    ok = values_are(values, expected, n);
    if (!CHECK_OK(hat_event_event_type_create(type->len > 0 ? segs : NULL, type->len, &handle))) {
        return false;
    }
    ok = CHECK_OK(hat_event_collection_get_type(c, handle, values)) && ok && values_are(values, expected, n);
    hat_event_event_type_destroy(handle);
    return ok;
}

static void test_reference_collection(hat_event_collection_kind_t kind) {
    static const type3 empty = {0, {0}}, abc = {3, {"a", "b", "c"}}, xbc = {3, {"x", "b", "c"}};
    static const types4 star = {1, {{1, {"*"}}}}, nothing = {0, {{0, {0}}}};
    static const types4 q_b_c = {1, {{3, {"?", "b", "c"}}}}, a_b_c = {1, {{3, {"a", "b", "c"}}}};
    static const uint64_t v1[] = {1}, v134[] = {1, 3, 4}, v13[] = {1, 3}, v14[] = {1, 4};
    hat_event_collection_t *c = SENTINEL_PTR;
    hat_event_values_t *values = SENTINEL_PTR;
    hat_event_subscription_t *subs[4];
    size_t i;

    REQUIRE_OK(hat_event_collection_create(kind, &c));
    REQUIRE_OK(hat_event_values_create(&values));
    CHECK(hat_event_values_len(values) == 0);
    CHECK(collection_gets(c, values, &empty, NULL, 0));
    CHECK(collection_gets(c, values, &abc, NULL, 0));
    CHECK(collection_gets(c, values, &xbc, NULL, 0));

    subs[0] = subscription(&star);
    subs[1] = subscription(&nothing);
    subs[2] = subscription(&q_b_c);
    subs[3] = subscription(&a_b_c);
    for (i = 0; i < 4; i++) {
        CHECK_OK(hat_event_collection_add(c, subs[i], i + 1));
    }
    /* the collection copied what it needs */
    for (i = 0; i < 4; i++) {
        hat_event_subscription_destroy(subs[i]);
    }
    CHECK(collection_gets(c, values, &empty, v1, 1));
    CHECK(collection_gets(c, values, &abc, v134, 3));
    CHECK(collection_gets(c, values, &xbc, v13, 2));

    CHECK_OK(hat_event_collection_remove(c, 3));
    CHECK(collection_gets(c, values, &empty, v1, 1));
    CHECK(collection_gets(c, values, &abc, v14, 2));
    CHECK(collection_gets(c, values, &xbc, v1, 1));

    /* removing an absent value is fine */
    CHECK_OK(hat_event_collection_remove(c, 3));
    CHECK_OK(hat_event_collection_remove(c, 12345));
    CHECK(collection_gets(c, values, &abc, v14, 2));

    hat_event_values_destroy(values);
    hat_event_collection_destroy(c);
}

static void test_reference_collection_tree(void) {
    test_reference_collection(HAT_EVENT_COLLECTION_TREE);
}

static void test_reference_collection_list(void) {
    test_reference_collection(HAT_EVENT_COLLECTION_LIST);
}

static void test_collection_edges(hat_event_collection_kind_t kind) {
    static const types4 a = {1, {{1, {"a"}}}}, b_star = {1, {{2, {"b", "*"}}}};
    static const types4 overlapping = {3, {{1, {"*"}}, {1, {"a"}}, {2, {"?", "*"}}}};
    static const type3 ta = {1, {"a"}}, tb = {1, {"b"}}, tbx = {2, {"b", "x"}};
    static const uint64_t v7[] = {7}, v7_9[] = {7, UINT64_MAX};
    hat_event_collection_t *c = NULL;
    hat_event_values_t *values = NULL;
    hat_event_subscription_t *sa = subscription(&a), *sb = subscription(&b_star), *so = subscription(&overlapping);

    REQUIRE_OK(hat_event_collection_create(kind, &c));
    REQUIRE_OK(hat_event_values_create(&values));

    /* adding a value again makes its subscription the union */
    CHECK_OK(hat_event_collection_add(c, sa, 7));
    CHECK(collection_gets(c, values, &ta, v7, 1));
    CHECK(collection_gets(c, values, &tbx, NULL, 0));
    CHECK_OK(hat_event_collection_add(c, sb, 7));
    CHECK(collection_gets(c, values, &ta, v7, 1));
    CHECK(collection_gets(c, values, &tb, v7, 1));
    CHECK(collection_gets(c, values, &tbx, v7, 1));

    /* a value matching several ways comes once; any 64-bit value is a value */
    CHECK_OK(hat_event_collection_add(c, so, UINT64_MAX));
    CHECK(collection_gets(c, values, &ta, v7_9, 2));

    /* a failed get leaves the values alone */
    {
        const hat_event_str_t bad[] = {SEG("\xc3\x28")};
        const uint64_t *before = hat_event_values_data(values);
        uint64_t first = before != NULL ? before[0] : 0;
        CHECK_STATUS(hat_event_collection_get(c, bad, 1, values), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK_STATUS(hat_event_collection_get(c, NULL, 1, values), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(hat_event_values_len(values) == 2);
        CHECK(hat_event_values_data(values) != NULL && hat_event_values_data(values)[0] == first);
    }

    /* removal takes the whole (union) subscription */
    CHECK_OK(hat_event_collection_remove(c, 7));
    CHECK(collection_gets(c, values, &tbx, v7_9 + 1, 1));

    hat_event_subscription_destroy(sa);
    hat_event_subscription_destroy(sb);
    hat_event_subscription_destroy(so);
    hat_event_values_destroy(values);
    hat_event_collection_destroy(c);
}

static void test_collection_edges_tree(void) {
    test_collection_edges(HAT_EVENT_COLLECTION_TREE);
}

static void test_collection_edges_list(void) {
    test_collection_edges(HAT_EVENT_COLLECTION_LIST);
}

/* The batch get answers as one get per event type, in one values buffer
 * sliced by offsets; a bad event type changes neither output. */
static void test_collection_get_many(hat_event_collection_kind_t kind) {
    static const types4 subs = {3, {{1, {"a"}}, {2, {"?", "*"}}, {2, {"a", "b"}}}};
    static const types4 events = {4, {{1, {"a"}}, {2, {"a", "b"}}, {0, {NULL}}, {2, {"x", "y"}}}};
    hat_event_collection_t *c = NULL;
    hat_event_values_t *values = NULL, *one = NULL;
    hat_event_subscription_t *s[3];
    hat_event_event_type_view_t views[4];
    hat_event_str_t segs[4][3];
    size_t offsets[5], i, j;
    REQUIRE_OK(hat_event_collection_create(kind, &c));
    REQUIRE_OK(hat_event_values_create(&values));
    REQUIRE_OK(hat_event_values_create(&one));
    for (i = 0; i < 3; i++) {
        types4 single;
        single.count = 1;
        single.types[0] = subs.types[i];
        s[i] = subscription(&single);
        CHECK_OK(hat_event_collection_add(c, s[i], 10 + i));
    }
    CHECK_OK(hat_event_collection_add(c, s[2], 10)); /* 10 matches ('a','b') two ways: reported once */
    views_of(&events, views, segs);
    CHECK_OK(hat_event_collection_get_many(c, views, 4, values, offsets));
    CHECK(offsets[0] == 0 && offsets[4] == hat_event_values_len(values));
    for (i = 0; i < 4; i++) {
        uint64_t a[8], b[8];
        size_t n = offsets[i + 1] - offsets[i];
        CHECK_OK(hat_event_collection_get(c, views[i].segments, views[i].len, one));
        if (!CHECK(n == hat_event_values_len(one) && n <= 8)) {
            continue;
        }
        if (n > 0) {
            memcpy(a, hat_event_values_data(values) + offsets[i], n * sizeof a[0]);
            memcpy(b, hat_event_values_data(one), n * sizeof b[0]);
        }
        qsort(a, n, sizeof a[0], u64_cmp);
        qsort(b, n, sizeof b[0], u64_cmp);
        for (j = 0; j < n; j++) {
            CHECK(a[j] == b[j]);
        }
    }
    /* ('a',): 10, 11 ('?' takes 'a', '*' the empty rest); ('a','b'): 10, 11, 12;
     * (): none ('?' needs a segment); ('x','y'): 11 */
    CHECK(offsets[1] - offsets[0] == 2 && offsets[2] - offsets[1] == 3 && offsets[3] == offsets[2] &&
          offsets[4] - offsets[3] == 1);
    CHECK_OK(hat_event_collection_get_many(c, NULL, 0, values, offsets));
    CHECK(offsets[0] == 0 && hat_event_values_len(values) == 0);
    /* errors leave both outputs alone */
    CHECK_OK(hat_event_collection_get_many(c, views, 4, values, offsets));
    segs[3][1] = (hat_event_str_t)SEG("\xff");
    offsets[0] = 99;
    CHECK_STATUS(hat_event_collection_get_many(c, views, 4, values, offsets), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(strstr(hat_event_last_error_message(), "event_types[3][1]") != NULL);
    CHECK(offsets[0] == 99 && hat_event_values_len(values) == 6);
    CHECK_STATUS(hat_event_collection_get_many(c, views, 3, values, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get_many(NULL, views, 3, values, offsets), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get_many(c, views, 3, NULL, offsets), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_collection_get_many(c, NULL, 3, values, offsets), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(offsets[0] == 99);
    for (i = 0; i < 3; i++) {
        hat_event_subscription_destroy(s[i]);
    }
    hat_event_values_destroy(values);
    hat_event_values_destroy(one);
    hat_event_collection_destroy(c);
}

static void test_collection_get_many_tree(void) {
    test_collection_get_many(HAT_EVENT_COLLECTION_TREE);
}

static void test_collection_get_many_list(void) {
    test_collection_get_many(HAT_EVENT_COLLECTION_LIST);
}

static void test_collection_kinds(void) {
    hat_event_collection_t *c = SENTINEL_PTR;
    CHECK_STATUS(hat_event_collection_create(2, &c), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_collection_create(UINT32_MAX, &c), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(c == SENTINEL_PTR);
}

/* The batch form answers as the one-at-a-time form, and writes nothing
 * when any event type is bad. */
static void test_matches_many(void) {
    static const types4 query = {2, {{2, {"a", "*"}}, {2, {"?", "b"}}}};
    static const types4 events = {4, {{1, {"a"}}, {2, {"x", "b"}}, {2, {"x", "c"}}, {0, {NULL}}}};
    hat_event_subscription_t *s = subscription(&query);
    hat_event_event_type_view_t views[4];
    hat_event_str_t segs[4][3];
    bool out[4] = {false, true, true, true};
    bool one;
    size_t i;
    views_of(&events, views, segs);
    CHECK_OK(hat_event_subscription_matches_many(s, views, 4, out));
    for (i = 0; i < 4; i++) {
        CHECK_OK(hat_event_subscription_matches(s, views[i].segments, views[i].len, &one));
        CHECK(out[i] == one);
    }
    CHECK(out[0] && out[1] && !out[2] && !out[3]);
    CHECK_OK(hat_event_subscription_matches_many(s, NULL, 0, NULL));
    /* a bad segment in the third event type: nothing is written */
    segs[2][1] = (hat_event_str_t)SEG("\xff");
    out[0] = false;
    CHECK_STATUS(hat_event_subscription_matches_many(s, views, 4, out), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(strstr(hat_event_last_error_message(), "event_types[2][1]") != NULL);
    CHECK(!out[0]);
    CHECK_STATUS(hat_event_subscription_matches_many(s, views, 4, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches_many(NULL, views, 4, out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_subscription_matches_many(s, NULL, 4, out), HAT_EVENT_ERR_NULL_ARGUMENT);
    hat_event_subscription_destroy(s);
}

int main(void) {
    RUN(test_matches_many);
    RUN(test_reference_query_types);
    RUN(test_reference_matches);
    RUN(test_reference_union);
    RUN(test_reference_isdisjoint);
    RUN(test_reference_intersection);
    RUN(test_intersection_exact);
    RUN(test_subscription_handles);
    RUN(test_subscription_create_errors);
    RUN(test_subscription_long_types);
    RUN(test_reference_collection_tree);
    RUN(test_reference_collection_list);
    RUN(test_collection_edges_tree);
    RUN(test_collection_edges_list);
    RUN(test_collection_kinds);
    RUN(test_collection_get_many_tree);
    RUN(test_collection_get_many_list);
    return check_finish();
}
