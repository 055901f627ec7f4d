/*
 * check.h - a tiny assertion kit for the hat-event-c C tests.
 *
 *   CHECK(cond)                 cond is true
 *   CHECK_OK(expr)              expr returns HAT_EVENT_OK; on failure the
 *                               status and hat_event_last_error_message()
 *                               are printed
 *   CHECK_STATUS(expr, status)  expr returns `status` (not HAT_EVENT_OK), and
 *                               the call itself recorded it: the last error
 *                               status equals `status` and the last error
 *                               message is non-empty
 *   REQUIRE_OK(expr)            as CHECK_OK, but a failure ends the program
 *                               (for set-up steps later checks depend on)
 *
 * Failed checks are counted and reported, and the program goes on; main()
 * ends with `return check_finish();`, which prints the totals and gives the
 * exit status. RUN(fn) calls a test function and names it in failure
 * messages.
 *
 * CHECK_STATUS first makes a failing call of its own with a status other
 * than `status` (an RFC 3339 parse error, or a too small buffer when
 * `status` is the parse error), so a last error left over from an earlier
 * call cannot pass for one recorded by `expr`.
 *
 * Everything is static in this header: include it once per program.
 */

#ifndef HAT_EVENT_TEST_CHECK_H
#define HAT_EVENT_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hat/event.h>

static long check_total = 0;
static long check_failed = 0;
static const char *check_current = "main";

static inline int check_fail_(const char *file, int line, const char *what) {
    check_failed++;
    fprintf(stderr, "%s:%d: [%s] FAILED: %s\n", file, line, check_current, what);
    return 0;
}

static inline int check_impl_(int ok, const char *what, const char *file, int line) {
    check_total++;
    return ok ? 1 : check_fail_(file, line, what);
}

static inline int check_ok_impl_(hat_event_status_t status, const char *what, const char *file, int line) {
    check_total++;
    if (status == HAT_EVENT_OK) {
        return 1;
    }
    check_fail_(file, line, what);
    fprintf(stderr, "    returned %u (%s): %s\n", (unsigned)status, hat_event_status_str(status),
            hat_event_last_error_message());
    return 0;
}

/* Leaves a last error whose status is not `avoid`. */
static inline void check_prime_(hat_event_status_t avoid) {
    hat_event_timestamp_t t = {0, 0};
    if (avoid != HAT_EVENT_ERR_PARSE) {
        hat_event_str_t text = {"not a timestamp", 15};
        (void)hat_event_timestamp_from_rfc3339(text, &t);
    } else {
        char buf[1];
        (void)hat_event_timestamp_to_rfc3339(t, buf, 0, NULL);
    }
}

static inline int check_status_impl_(hat_event_status_t got, hat_event_status_t want, const char *what,
                                     const char *file, int line) {
    hat_event_status_t last = hat_event_last_error_status();
    const char *message = hat_event_last_error_message();
    check_total++;
    if (want != HAT_EVENT_OK && got == want && last == want && message != NULL && message[0] != '\0') {
        return 1;
    }
    check_fail_(file, line, what);
    fprintf(stderr, "    returned %u (%s), expected %u (%s)\n", (unsigned)got, hat_event_status_str(got),
            (unsigned)want, hat_event_status_str(want));
    fprintf(stderr, "    last error status %u, message \"%s\"\n", (unsigned)last,
            message != NULL ? message : "(NULL)");
    return 0;
}

static inline int check_finish(void) {
    printf("%ld checks, %ld failed\n", check_total, check_failed);
    return check_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#define CHECK(cond) check_impl_((cond) ? 1 : 0, #cond, __FILE__, __LINE__)

#define CHECK_OK(expr) check_ok_impl_((expr), #expr, __FILE__, __LINE__)

#define CHECK_STATUS(expr, status)                                                      \
    (check_prime_(status),                                                              \
     check_status_impl_((expr), (status), #expr " == " #status, __FILE__, __LINE__))

#define REQUIRE_OK(expr)                                                                \
    do {                                                                                \
        if (!CHECK_OK(expr)) {                                                          \
            fprintf(stderr, "    a required step failed; stopping\n");                 \
            (void)check_finish();                                                       \
            exit(EXIT_FAILURE);                                                         \
        }                                                                               \
    } while (0)

#define RUN(fn) (check_current = #fn, fn(), check_current = "main")

#endif /* HAT_EVENT_TEST_CHECK_H */
