/*
 * Timestamps: hat-event's reference cases (test_timestamp.py: comparison,
 * add, bytes, float, datetime) and our own edges: negative seconds,
 * microsecond carry, half-to-even rounding, the min/max timestamps, leap
 * years, the years 1 and 9999, RFC 3339 both ways.
 */

#include <math.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "util.h"

/* ---- reference cases ---------------------------------------------------- */

static void test_reference_compare(void) {
    /* test_timestamp: every ordered pair of these agrees with the order of
     * their total microseconds. */
    const hat_event_timestamp_t t[] = {ts(0, 0),  ts(0, 1),  ts(1, 0),       ts(1, 1),
                                       ts(-1, 0), ts(-1, 1), ts(-1, 999999)};
    size_t i, j;
    for (i = 0; i < COUNT(t); i++) {
        for (j = 0; j < COUNT(t); j++) {
            int64_t us1 = t[i].s * 1000000 + (int64_t)t[i].us;
            int64_t us2 = t[j].s * 1000000 + (int64_t)t[j].us;
            int32_t c = hat_event_timestamp_compare(t[i], t[j]);
            CHECK((c < 0) == (us1 < us2));
            CHECK((c == 0) == (us1 == us2));
            CHECK((c > 0) == (us1 > us2));
        }
    }
}

static void test_reference_add(void) {
    /* test_timestamp_add: t1.add(s) == t2 and t2.add(-s) == t1 */
    static const struct {
        double s;
        int64_t s2;
        uint32_t us2;
    } cases[] = {
        {0, 0, 0},
        {0.001, 0, 1000},
        {-0.001, -1, 999000},
        {1, 1, 0},
        {1.001, 1, 1000},
        {-1.001, -2, 999000},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_timestamp_t t1 = ts(0, 0), t2 = ts(99, 99), back = ts(99, 99);
        CHECK_OK(hat_event_timestamp_add(t1, cases[i].s, &t2));
        CHECK(ts_eq(t2, ts(cases[i].s2, cases[i].us2)));
        CHECK_OK(hat_event_timestamp_add(t2, -cases[i].s, &back));
        CHECK(ts_eq(back, t1));
    }
}

static void test_reference_bytes(void) {
    static const struct {
        int64_t s;
        uint32_t us;
        uint8_t bytes[HAT_EVENT_TIMESTAMP_BYTES_LEN];
    } cases[] = {
        {0, 0, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}},
        {2145916800, 99999, {0x80, 0x00, 0x00, 0x00, 0x7f, 0xe8, 0x17, 0x80, 0x00, 0x01, 0x86, 0x9f}},
        {12321, 99999, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x21, 0x00, 0x01, 0x86, 0x9f}},
    };
    size_t i;
    CHECK(HAT_EVENT_TIMESTAMP_BYTES_LEN == 12);
    for (i = 0; i < COUNT(cases); i++) {
        uint8_t out[HAT_EVENT_TIMESTAMP_BYTES_LEN];
        hat_event_timestamp_t back = ts(7, 7);
        hat_event_bytes_t view;
        CHECK_OK(hat_event_timestamp_to_bytes(ts(cases[i].s, cases[i].us), out));
        CHECK(memcmp(out, cases[i].bytes, sizeof out) == 0);
        view.ptr = cases[i].bytes;
        view.len = sizeof cases[i].bytes;
        CHECK_OK(hat_event_timestamp_from_bytes(view, &back));
        CHECK(ts_eq(back, ts(cases[i].s, cases[i].us)));
    }
}

static void test_reference_float(void) {
    /* test_timestamp_float: to_float is close, from_float exact */
    static const struct {
        int64_t s;
        uint32_t us;
        double f;
    } cases[] = {
        {0, 0, 0.0},
        {1, 0, 1.0},
        {1000, 10000, 1000.01},
        {-473385600, 123, -473385600 + 123 * 1e-6},
        {473385600, 123, 473385600 + 123 * 1e-6},
        {4099680000, 123, 4099680000 + 123 * 1e-6},
        {409968, 999999, 409968 + 999999 * 1e-6},
        {409968, 999999, 409968 + 9999994 * 1e-7},
        {409969, 0, 409968 + 9999996 * 1e-7},
        {409969, 0, 409968 + 9999999 * 1e-7},
        {-409969, 1, -409968 - 9999994 * 1e-7},
        {-409969, 0, -409968 - 9999996 * 1e-7},
        {-409968, 0, -409968 - 4 * 1e-7},
        {-409969, 999999, -409968 - 6 * 1e-7},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        double f = -12345.5;
        hat_event_timestamp_t t = ts(7, 7);
        CHECK_OK(hat_event_timestamp_to_float(ts(cases[i].s, cases[i].us), &f));
        CHECK(fabs(f - cases[i].f) <= 1e-9 * (fabs(cases[i].f) > 1 ? fabs(cases[i].f) : 1));
        CHECK_OK(hat_event_timestamp_from_float(cases[i].f, &t));
        if (!CHECK(ts_eq(t, ts(cases[i].s, cases[i].us)))) {
            fprintf(stderr, "    from_float(%.9f) = (%lld, %u), expected (%lld, %u)\n", cases[i].f,
                    (long long)t.s, (unsigned)t.us, (long long)cases[i].s, (unsigned)cases[i].us);
        }
    }
}

static hat_event_datetime_t dt(int y, int mo, int d, int h, int mi, int s, int us) {
    hat_event_datetime_t v;
    v.year = y;
    v.month = mo;
    v.day = d;
    v.hour = h;
    v.minute = mi;
    v.second = s;
    v.microsecond = us;
    return v;
}

static bool dt_eq(hat_event_datetime_t a, hat_event_datetime_t b) {
    return a.year == b.year && a.month == b.month && a.day == b.day && a.hour == b.hour &&
           a.minute == b.minute && a.second == b.second && a.microsecond == b.microsecond;
}

static void test_reference_datetime(void) {
    static const struct {
        int64_t s;
        uint32_t us;
        int y, mo, d, h, mi, sec, usec;
    } cases[] = {
        {-2208988800, 999999, 1900, 1, 1, 0, 0, 0, 999999},
        {0, 0, 1970, 1, 1, 0, 0, 0, 0},
        {0, 123, 1970, 1, 1, 0, 0, 0, 123},
        {2145916800, 99999, 2038, 1, 1, 0, 0, 0, 99999},
        {4133980799, 1, 2100, 12, 31, 23, 59, 59, 1},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_datetime_t want = dt(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi,
                                       cases[i].sec, cases[i].usec);
        hat_event_datetime_t got = dt(-1, -1, -1, -1, -1, -1, -1);
        hat_event_timestamp_t t = ts(7, 7);
        CHECK_OK(hat_event_timestamp_to_datetime(ts(cases[i].s, cases[i].us), &got));
        CHECK(dt_eq(got, want));
        CHECK_OK(hat_event_timestamp_from_datetime(want, &t));
        CHECK(ts_eq(t, ts(cases[i].s, cases[i].us)));
    }
}

/* ---- own cases ------------------------------------------------------------ */

static void test_compare_and_validity(void) {
    hat_event_timestamp_t min = hat_event_timestamp_min(), max = hat_event_timestamp_max();
    CHECK(min.s == INT64_MIN && min.us == 0);
    CHECK(max.s == INT64_MAX && max.us == 999999);
    CHECK(hat_event_timestamp_compare(min, max) < 0);
    CHECK(hat_event_timestamp_compare(max, min) > 0);
    CHECK(hat_event_timestamp_compare(max, max) == 0);
    CHECK(hat_event_timestamp_compare(ts(-1, 999999), ts(0, 0)) < 0);
    CHECK(hat_event_timestamp_compare(ts(5, 2), ts(5, 1)) > 0);
    /* defined for any field values */
    CHECK(hat_event_timestamp_compare(ts(0, 1000000), ts(0, 999999)) > 0);
    CHECK(hat_event_timestamp_compare(ts(0, UINT32_MAX), ts(0, UINT32_MAX)) == 0);

    CHECK(hat_event_timestamp_is_valid(ts(0, 0)));
    CHECK(hat_event_timestamp_is_valid(ts(-1, 999999)));
    CHECK(hat_event_timestamp_is_valid(min));
    CHECK(hat_event_timestamp_is_valid(max));
    CHECK(!hat_event_timestamp_is_valid(ts(0, 1000000)));
    CHECK(!hat_event_timestamp_is_valid(ts(INT64_MIN, UINT32_MAX)));
}

static void test_add_edges(void) {
    static const struct {
        int64_t s;
        uint32_t us;
        double add;
        int64_t s2;
        uint32_t us2;
    } cases[] = {
        {0, 999999, 1e-6, 1, 0},             /* carry into seconds */
        {0, 999999, 0.9999995, 1, 999999},   /* 999999.5 us rounds to even, then carries */
        {-5, 250000, -0.5, -6, 750000},      /* negative seconds borrow */
        {-1, 0, 0.5, -1, 500000},
        {0, 0, 2.5e-6, 0, 2},                /* half to even: 2.5 -> 2 */
        {0, 0, 1.5e-6, 0, 2},                /* 1.5 -> 2 */
        {0, 0, 5e-7, 0, 0},                  /* 0.5 -> 0 */
        {0, 0, -2.5e-6, -1, 999998},
        {10, 0, -1.5e-6, 9, 999998},
        {0, 0, 1e-7, 0, 0},
        {0, 0, -1e-7, 0, 0},
        {-1000000000, 1, 2000000000.0, 1000000000, 1},
        {INT64_MAX, 999999, -0.0, INT64_MAX, 999999},
        {INT64_MAX, 999999, -1.0, INT64_MAX - 1, 999999},
        {INT64_MIN, 0, 0.0, INT64_MIN, 0},
        {INT64_MIN, 0, 1.5, INT64_MIN + 1, 500000},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        hat_event_timestamp_t out = ts(7, 7);
        CHECK_OK(hat_event_timestamp_add(ts(cases[i].s, cases[i].us), cases[i].add, &out));
        if (!CHECK(ts_eq(out, ts(cases[i].s2, cases[i].us2)))) {
            fprintf(stderr, "    case %u: got (%lld, %u)\n", (unsigned)i, (long long)out.s, (unsigned)out.us);
        }
    }
}

static void test_add_out_of_range(void) {
    hat_event_timestamp_t min = hat_event_timestamp_min(), max = hat_event_timestamp_max();
    hat_event_timestamp_t out = ts(7, 7);
    CHECK_STATUS(hat_event_timestamp_add(max, 1.0, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(max, 1e-6, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(min, -1.0, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(min, -1e-6, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 0), 1e300, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 0), -1e300, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 0), NAN, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 0), INFINITY, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 0), -INFINITY, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_add(ts(0, 1000000), 0.0, &out), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(ts_eq(out, ts(7, 7)));
}

static void test_bytes_edges(void) {
    static const uint8_t min_bytes[12] = {0};
    static const uint8_t max_bytes[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x0f, 0x42, 0x3f};
    static const uint8_t minus_one[12] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0xa1, 0x20};
    uint8_t out[12], prev[12];
    hat_event_timestamp_t back = ts(7, 7);
    hat_event_bytes_t view;
    const hat_event_timestamp_t ordered[] = {hat_event_timestamp_min(), ts(-1, 0), ts(-1, 999999), ts(0, 0),
                                             ts(0, 1), ts(1, 0), hat_event_timestamp_max()};
    size_t i;

    CHECK_OK(hat_event_timestamp_to_bytes(hat_event_timestamp_min(), out));
    CHECK(memcmp(out, min_bytes, 12) == 0);
    view.ptr = min_bytes;
    view.len = 12;
    CHECK_OK(hat_event_timestamp_from_bytes(view, &back));
    CHECK(ts_eq(back, hat_event_timestamp_min()));

    CHECK_OK(hat_event_timestamp_to_bytes(hat_event_timestamp_max(), out));
    CHECK(memcmp(out, max_bytes, 12) == 0);
    view.ptr = max_bytes;
    CHECK_OK(hat_event_timestamp_from_bytes(view, &back));
    CHECK(ts_eq(back, hat_event_timestamp_max()));

    /* negative seconds: (-1, 500000) */
    CHECK_OK(hat_event_timestamp_to_bytes(ts(-1, 500000), out));
    CHECK(memcmp(out, minus_one, 12) == 0);
    view.ptr = minus_one;
    CHECK_OK(hat_event_timestamp_from_bytes(view, &back));
    CHECK(ts_eq(back, ts(-1, 500000)));

    /* byte order equals timestamp order */
    for (i = 0; i < COUNT(ordered); i++) {
        CHECK_OK(hat_event_timestamp_to_bytes(ordered[i], out));
        if (i > 0) {
            CHECK(memcmp(prev, out, 12) < 0);
        }
        memcpy(prev, out, 12);
    }
}

static void test_float_edges(void) {
    hat_event_timestamp_t t = ts(7, 7);
    double f = 0;
    CHECK_OK(hat_event_timestamp_from_float(-0.5, &t));
    CHECK(ts_eq(t, ts(-1, 500000)));
    CHECK_OK(hat_event_timestamp_from_float(-1.0, &t));
    CHECK(ts_eq(t, ts(-1, 0)));
    CHECK_OK(hat_event_timestamp_from_float(-0.0, &t));
    CHECK(ts_eq(t, ts(0, 0)));
    CHECK_OK(hat_event_timestamp_from_float(-1e-7, &t));
    CHECK(ts_eq(t, ts(0, 0)));
    CHECK_OK(hat_event_timestamp_from_float(4611686018427387904.0, &t)); /* 2^62 */
    CHECK(ts_eq(t, ts(INT64_C(4611686018427387904), 0)));
    CHECK_OK(hat_event_timestamp_to_float(ts(-1, 500000), &f));
    CHECK(f == -0.5);
    CHECK_OK(hat_event_timestamp_to_float(hat_event_timestamp_max(), &f));
    CHECK(f > 9.2e18);

    t = ts(7, 7);
    CHECK_STATUS(hat_event_timestamp_from_float(NAN, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_from_float(INFINITY, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_from_float(-INFINITY, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_from_float(1e19, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_from_float(-1e19, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_from_float(9223372036854775808.0, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(ts_eq(t, ts(7, 7)));
    f = -12345.5;
    CHECK_STATUS(hat_event_timestamp_to_float(ts(0, 1000000), &f), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(f == -12345.5);
}

static void test_datetime_edges(void) {
    static const struct {
        int y, mo, d, h, mi, s, us;
        int64_t ts_s;
        uint32_t ts_us;
    } ok[] = {
        {1, 1, 1, 0, 0, 0, 0, INT64_C(-62135596800), 0},                 /* first instant */
        {9999, 12, 31, 23, 59, 59, 999999, INT64_C(253402300799), 999999}, /* last */
        {2000, 2, 29, 0, 0, 0, 0, 951782400, 0},                         /* 400-year leap */
        {2024, 2, 29, 0, 0, 0, 0, 1709164800, 0},
        {1600, 2, 29, 0, 0, 0, 0, INT64_C(-11670998400), 0},
        {2000, 3, 1, 0, 0, 0, 0, 951868800, 0},
        {1900, 3, 1, 0, 0, 0, 0, -2203891200, 0},
        {2100, 3, 1, 0, 0, 0, 0, INT64_C(4107542400), 0},
        {1969, 12, 31, 23, 59, 59, 0, -1, 0},
        {2016, 12, 31, 23, 59, 59, 0, 1483228799, 0},
    };
    static const int bad[][7] = {
        {1900, 2, 29, 0, 0, 0, 0}, /* century, not leap */
        {2023, 2, 29, 0, 0, 0, 0},
        {2100, 2, 29, 0, 0, 0, 0},
        {2024, 2, 30, 0, 0, 0, 0},
        {2024, 4, 31, 0, 0, 0, 0},
        {0, 12, 31, 0, 0, 0, 0},
        {10000, 1, 1, 0, 0, 0, 0},
        {-1, 1, 1, 0, 0, 0, 0},
        {2024, 0, 1, 0, 0, 0, 0},
        {2024, 13, 1, 0, 0, 0, 0},
        {2024, -1, 1, 0, 0, 0, 0},
        {2024, 1, 0, 0, 0, 0, 0},
        {2024, 1, 32, 0, 0, 0, 0},
        {2024, 1, -1, 0, 0, 0, 0},
        {2024, 1, 1, 24, 0, 0, 0},
        {2024, 1, 1, -1, 0, 0, 0},
        {2024, 1, 1, 0, 60, 0, 0},
        {2024, 1, 1, 0, -1, 0, 0},
        {2016, 12, 31, 23, 59, 60, 0}, /* no leap seconds */
        {2024, 1, 1, 0, 0, -1, 0},
        {2024, 1, 1, 0, 0, 0, 1000000},
        {2024, 1, 1, 0, 0, 0, -1},
        {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN},
        {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX},
    };
    size_t i;
    hat_event_timestamp_t t;
    hat_event_datetime_t d;

    for (i = 0; i < COUNT(ok); i++) {
        hat_event_datetime_t want = dt(ok[i].y, ok[i].mo, ok[i].d, ok[i].h, ok[i].mi, ok[i].s, ok[i].us);
        t = ts(7, 7);
        d = dt(-1, -1, -1, -1, -1, -1, -1);
        CHECK_OK(hat_event_timestamp_from_datetime(want, &t));
        if (!CHECK(ts_eq(t, ts(ok[i].ts_s, ok[i].ts_us)))) {
            fprintf(stderr, "    %04d-%02d-%02d: got (%lld, %u)\n", ok[i].y, ok[i].mo, ok[i].d, (long long)t.s,
                    (unsigned)t.us);
        }
        CHECK_OK(hat_event_timestamp_to_datetime(ts(ok[i].ts_s, ok[i].ts_us), &d));
        CHECK(dt_eq(d, want));
    }
    for (i = 0; i < COUNT(bad); i++) {
        t = ts(7, 7);
        if (!CHECK_STATUS(hat_event_timestamp_from_datetime(
                              dt(bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], bad[i][5], bad[i][6]), &t),
                          HAT_EVENT_ERR_OUT_OF_RANGE)) {
            fprintf(stderr, "    bad datetime case %u\n", (unsigned)i);
        }
        CHECK(ts_eq(t, ts(7, 7)));
    }

    /* to_datetime outside years 1..9999 and with bad microseconds */
    {
        const hat_event_timestamp_t out_of_range[] = {
            ts(INT64_C(253402300800), 0),  /* 10000-01-01 */
            ts(INT64_C(-62135596801), 999999), /* 0000-12-31T23:59:59.999999 */
            hat_event_timestamp_min(),
            hat_event_timestamp_max(),
            ts(0, 1000000),
        };
        for (i = 0; i < COUNT(out_of_range); i++) {
            FILL_SENTINEL(d);
            CHECK_STATUS(hat_event_timestamp_to_datetime(out_of_range[i], &d), HAT_EVENT_ERR_OUT_OF_RANGE);
            CHECK(IS_SENTINEL(d));
        }
    }
}

static void test_rfc3339_format(void) {
    static const struct {
        int64_t s;
        uint32_t us;
        const char *text;
    } cases[] = {
        {0, 0, "1970-01-01T00:00:00.000000Z"},
        {1704164645, 6, "2024-01-02T03:04:05.000006Z"},
        {-1, 500000, "1969-12-31T23:59:59.500000Z"},
        {-2208988800, 999999, "1900-01-01T00:00:00.999999Z"},
        {951782400, 0, "2000-02-29T00:00:00.000000Z"},
        {INT64_C(-62135596800), 0, "0001-01-01T00:00:00.000000Z"},
        {INT64_C(253402300799), 999999, "9999-12-31T23:59:59.999999Z"},
    };
    size_t i;
    for (i = 0; i < COUNT(cases); i++) {
        char buf[HAT_EVENT_TIMESTAMP_RFC3339_SIZE];
        char exact[28];
        size_t len = (size_t)-7;
        hat_event_timestamp_t back = ts(7, 7);
        CHECK_OK(hat_event_timestamp_to_rfc3339(ts(cases[i].s, cases[i].us), buf, sizeof buf, &len));
        CHECK(strcmp(buf, cases[i].text) == 0);
        CHECK(len == 27 && strlen(buf) == 27);
        /* exactly text + NUL is enough; out_len may be NULL */
        memset(exact, 'x', sizeof exact);
        CHECK_OK(hat_event_timestamp_to_rfc3339(ts(cases[i].s, cases[i].us), exact, 28, NULL));
        CHECK(memcmp(exact, cases[i].text, 28) == 0);
        /* and it parses back */
        CHECK_OK(hat_event_timestamp_from_rfc3339(hat_event_str_from_cstr(buf), &back));
        CHECK(ts_eq(back, ts(cases[i].s, cases[i].us)));
    }
}

static void test_rfc3339_format_errors(void) {
    char buf[40];
    size_t len = (size_t)-7;
    size_t size;
    /* too small: nothing written to buf; out_len gets the text length, so
     * that the size needed (out_len + 1) is known without parsing the message */
    for (size = 0; size < 28; size++) {
        memset(buf, 'x', sizeof buf);
        len = (size_t)-7;
        CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 0), buf, size, &len), HAT_EVENT_ERR_BUFFER_TOO_SMALL);
        CHECK(buf[0] == 'x' && buf[27] == 'x' && buf[39] == 'x');
        CHECK(len == 27);
    }
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 0), buf, 1, NULL), HAT_EVENT_ERR_BUFFER_TOO_SMALL);
    CHECK(strstr(hat_event_last_error_message(), "28 bytes needed") != NULL);
    /* and the size it gave is enough */
    CHECK_OK(hat_event_timestamp_to_rfc3339(ts(0, 0), buf, len + 1, &len));
    CHECK(len == 27 && strcmp(buf, "1970-01-01T00:00:00.000000Z") == 0);
    len = (size_t)-7;
    /* outside years 1..9999, invalid t */
    memset(buf, 'x', sizeof buf);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(INT64_C(253402300800), 0), buf, sizeof buf, &len),
                 HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(INT64_C(-62135596801), 0), buf, sizeof buf, &len),
                 HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(hat_event_timestamp_max(), buf, sizeof buf, &len),
                 HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 1000000), buf, sizeof buf, &len), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(buf[0] == 'x' && len == (size_t)-7);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 0), NULL, 28, &len), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(len == (size_t)-7);
}

static void test_rfc3339_parse(void) {
    static const struct {
        const char *text;
        int64_t s;
        uint32_t us;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1970-01-01t00:00:00z", 0, 0},
        {"1970-01-01 00:00:00Z", 0, 0},
        {"1970-01-01T00:00:00+00:00", 0, 0},
        {"1970-01-01T00:00:00-00:00", 0, 0},
        {"1970-01-01T01:00:00+01:00", 0, 0},
        {"1969-12-31T23:00:00-01:00", 0, 0},
        {"1970-01-01T05:30:00+05:30", 0, 0},
        {"2024-01-02T03:04:05.000006Z", 1704164645, 6},
        {"2024-01-02T03:04:05.1Z", 1704164645, 100000},
        {"2024-01-02T03:04:05.123456Z", 1704164645, 123456},
        {"2024-01-02T03:04:05.123456000Z", 1704164645, 123456},
        {"2024-01-02T03:04:05.000000000000000000000Z", 1704164645, 0},
        {"1969-12-31T23:59:59.5Z", -1, 500000},
        {"2000-02-29T00:00:00Z", 951782400, 0},
        {"0001-01-01T00:00:00Z", INT64_C(-62135596800), 0},
        {"9999-12-31T23:59:59.999999Z", INT64_C(253402300799), 999999},
    };
    static const char *const bad[] = {
        "",
        "2024-01-02",
        "2024-01-02T03:04:05",        /* no offset */
        "2024-01-02T03:04Z",          /* no seconds */
        "2024-01-02X03:04:05Z",
        "2024-01-02T03:04:05.Z",      /* empty fraction */
        "2024-01-02T03:04:05.1234561Z", /* a non-zero digit past microseconds */
        "2024-01-02T03:04:05+0100",
        "2024-01-02T03:04:05+01",
        "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05+01:60",
        "2024-1-02T03:04:05Z",
        "24-01-02T03:04:05Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-00T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2024-01-02T24:00:00Z",
        "2024-01-02T23:60:00Z",
        "2016-12-31T23:59:60Z",       /* no leap seconds */
        "0000-01-01T00:00:00Z",
        "2024-01-02T03:04:05Zjunk",
        " 2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05Z ",
        "+2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05ZZ",
        "abcd-ef-ghTij:kl:mnZ",
    };
    size_t i;
    for (i = 0; i < COUNT(ok); i++) {
        hat_event_timestamp_t t = ts(7, 7);
        if (!CHECK_OK(hat_event_timestamp_from_rfc3339(hat_event_str_from_cstr(ok[i].text), &t))) {
            fprintf(stderr, "    text \"%s\"\n", ok[i].text);
        }
        if (!CHECK(ts_eq(t, ts(ok[i].s, ok[i].us)))) {
            fprintf(stderr, "    \"%s\" gave (%lld, %u)\n", ok[i].text, (long long)t.s, (unsigned)t.us);
        }
    }
    for (i = 0; i < COUNT(bad); i++) {
        hat_event_timestamp_t t = ts(7, 7);
        if (!CHECK_STATUS(hat_event_timestamp_from_rfc3339(hat_event_str_from_cstr(bad[i]), &t),
                          HAT_EVENT_ERR_PARSE)) {
            fprintf(stderr, "    text \"%s\" gave (%lld, %u)\n", bad[i], (long long)t.s, (unsigned)t.us);
        }
        CHECK(ts_eq(t, ts(7, 7)));
    }
    {
        /* an embedded NUL is just a bad character; bad UTF-8 is its own error */
        hat_event_timestamp_t t = ts(7, 7);
        CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("1970-01-01T00:00:00Z\0"), &t), HAT_EVENT_ERR_PARSE);
        CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("1970-01-01T00:00:00\xffZ"), &t),
                     HAT_EVENT_ERR_INVALID_UTF8);
        CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("\xc3\x28"), &t), HAT_EVENT_ERR_INVALID_UTF8);
        CHECK(ts_eq(t, ts(7, 7)));
        /* the length is respected: a longer buffer, a shorter view */
        CHECK_STATUS(hat_event_timestamp_from_rfc3339(STR("1970-01-01T00:00:01Zgarbage"), &t),
                     HAT_EVENT_ERR_PARSE);
        {
            hat_event_str_t view = {"1970-01-01T00:00:01Zgarbage", 20};
            CHECK_OK(hat_event_timestamp_from_rfc3339(view, &t));
            CHECK(ts_eq(t, ts(1, 0)));
        }
    }
}

/* Messages quote a bounded prefix of the input and say how long it was,
 * whatever its size (a 100 MB input once gave a 500 MB message). */
static void test_parse_error_messages_are_bounded(void) {
    const size_t size = (size_t)10 << 20;
    char *text = malloc(size);
    hat_event_timestamp_t t = {7, 7};
    size_t message_len;
    if (!CHECK(text != NULL)) {
        return;
    }
    memset(text, 0x01, size);
    CHECK_STATUS(hat_event_timestamp_from_rfc3339((hat_event_str_t){text, size}, &t), HAT_EVENT_ERR_PARSE);
    message_len = strlen(hat_event_last_error_message());
    CHECK(message_len < 200);
    CHECK(strstr(hat_event_last_error_message(), "(10485760 bytes)") != NULL);
    memcpy(text, "2024-01-01T00:00:00Z", 20);
    memset(text + 20, '9', size - 20);
    CHECK_STATUS(hat_event_timestamp_from_rfc3339((hat_event_str_t){text, size}, &t), HAT_EVENT_ERR_PARSE);
    CHECK(strlen(hat_event_last_error_message()) < 200);
    CHECK(strstr(hat_event_last_error_message(), "unexpected text at byte 20") != NULL);
    CHECK(t.s == 7 && t.us == 7);
    free(text);
}

/* Range messages print the values as the caller passed them (signed
 * fields stay signed) and inclusive bounds a C reader cannot misread. */
static void test_range_messages_show_what_was_passed(void) {
    hat_event_datetime_t d = {2000, 1, 1, 0, 0, 0, 0};
    hat_event_timestamp_t t;
    char buf[HAT_EVENT_TIMESTAMP_RFC3339_SIZE];
    d.hour = -1;
    CHECK_STATUS(hat_event_timestamp_from_datetime(d, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(strcmp(hat_event_last_error_message(), "datetime hour -1 not in 0..=23") == 0);
    d.hour = 0;
    d.microsecond = INT32_MIN;
    CHECK_STATUS(hat_event_timestamp_from_datetime(d, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(strcmp(hat_event_last_error_message(), "datetime microsecond -2147483648 not in 0..=999999") == 0);
    d.microsecond = 0;
    d.month = -5;
    CHECK_STATUS(hat_event_timestamp_from_datetime(d, &t), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(strstr(hat_event_last_error_message(), "month -5") != NULL);
    CHECK_STATUS(hat_event_timestamp_to_rfc3339(ts(0, 1000000), buf, sizeof buf, NULL), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK(strstr(hat_event_last_error_message(), "microseconds 1000000 not in 0..=999999") != NULL);
}

static void test_now(void) {
    hat_event_timestamp_t a = ts(7, 7), b = ts(7, 7);
    time_t before = time(NULL), after;
    CHECK_OK(hat_event_timestamp_now(&a));
    CHECK_OK(hat_event_timestamp_now(&b));
    after = time(NULL);
    CHECK(hat_event_timestamp_is_valid(a));
    CHECK(hat_event_timestamp_compare(a, b) <= 0);
    CHECK(a.s >= (int64_t)before - 1 && b.s <= (int64_t)after + 1);
}

int main(void) {
    RUN(test_reference_compare);
    RUN(test_reference_add);
    RUN(test_reference_bytes);
    RUN(test_reference_float);
    RUN(test_reference_datetime);
    RUN(test_compare_and_validity);
    RUN(test_add_edges);
    RUN(test_add_out_of_range);
    RUN(test_bytes_edges);
    RUN(test_float_edges);
    RUN(test_datetime_edges);
    RUN(test_rfc3339_format);
    RUN(test_rfc3339_format_errors);
    RUN(test_rfc3339_parse);
    RUN(test_parse_error_messages_are_bounded);
    RUN(test_range_messages_show_what_was_passed);
    RUN(test_now);
    return check_finish();
}
