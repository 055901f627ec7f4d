/*
 * util.h - helpers shared by the hat-event-c C tests: string views from
 * literals, comparisons of views and timestamps, sentinels for checking
 * that out-parameters are left alone, and event types as sortable keys.
 * Include after check.h.
 */

#ifndef HAT_EVENT_TEST_UTIL_H
#define HAT_EVENT_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hat/event.h>

/* An initializer for a hat_event_str_t from a string literal; the length
 * comes from sizeof, so literals with embedded NULs keep all their bytes. */
#define SEG(lit) {(lit), sizeof(lit) - 1}

/* A hat_event_str_t from a string literal, as an expression. */
#define STR(lit) ((hat_event_str_t)SEG(lit))

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* A pointer value no allocation returns: handle out-parameters are
 * pre-filled with it, and must still hold it after a failed call. */
#define SENTINEL_PTR ((void *)(uintptr_t)0x5e471e1u)

/* The byte pre-filled into non-pointer out-parameters. */
#define SENTINEL_BYTE 0xa5

static inline hat_event_timestamp_t ts(int64_t s, uint32_t us) {
    hat_event_timestamp_t t;
    t.s = s;
    t.us = us;
    return t;
}

static inline bool ts_eq(hat_event_timestamp_t a, hat_event_timestamp_t b) {
    return a.s == b.s && a.us == b.us;
}

static inline bool id_eq(hat_event_event_id_t a, hat_event_event_id_t b) {
    return a.server == b.server && a.session == b.session && a.instance == b.instance;
}

/* True if `view` holds exactly the `len` bytes at `bytes`. */
static inline bool view_eq(hat_event_str_t view, const char *bytes, size_t len) {
    if (view.len != len) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    return view.ptr != NULL && memcmp(view.ptr, bytes, len) == 0;
}

static inline bool bytes_eq(hat_event_bytes_t view, const uint8_t *bytes, size_t len) {
    if (view.len != len) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    return view.ptr != NULL && memcmp(view.ptr, bytes, len) == 0;
}

/* True if every byte of the object at `p` is SENTINEL_BYTE. */
static inline bool all_sentinel(const void *p, size_t size) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < size; i++) {
        if (b[i] != SENTINEL_BYTE) {
            return false;
        }
    }
    return true;
}

#define FILL_SENTINEL(object) memset(&(object), SENTINEL_BYTE, sizeof(object))
#define IS_SENTINEL(object) all_sentinel(&(object), sizeof(object))

/* True if the event type holds exactly the `n` NUL-terminated segments. */
static inline bool type_is(const hat_event_event_type_t *type, const char *const *segments, size_t n) {
    size_t i;
    if (type == NULL || hat_event_event_type_len(type) != n) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (!view_eq(hat_event_event_type_segment(type, i), segments[i], strlen(segments[i]))) {
            return false;
        }
    }
    return true;
}

#define KEY_SIZE 64

/* The event type as a key: each segment preceded by '/', so () is "" and
 * ('',) is "/". Test segments never contain '/'. */
static inline void type_key(const hat_event_event_type_t *type, char key[KEY_SIZE]) {
    size_t i, n = hat_event_event_type_len(type), at = 0;
    key[0] = '\0';
    for (i = 0; i < n; i++) {
        hat_event_str_t seg = hat_event_event_type_segment(type, i);
        if (at + 1 + seg.len + 1 > KEY_SIZE) {
            break;
        }
        key[at++] = '/';
        if (seg.len > 0) {
            memcpy(key + at, seg.ptr, seg.len);
        }
        at += seg.len;
        key[at] = '\0';
    }
}

static inline int key_cmp(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* True if the list holds exactly the event types whose keys are
 * `expected` (in any order; duplicates count). */
static inline bool list_is(const hat_event_event_type_list_t *list, const char *const *expected, size_t n) {
    char got[16][KEY_SIZE];
    char want[16][KEY_SIZE];
    size_t i;
    if (hat_event_event_type_list_len(list) != n || n > 16) {
        return false;
    }
    for (i = 0; i < n; i++) {
        type_key(hat_event_event_type_list_get(list, i), got[i]);
        strncpy(want[i], expected[i], KEY_SIZE - 1);
        want[i][KEY_SIZE - 1] = '\0';
    }
    qsort(got, n, KEY_SIZE, key_cmp);
    qsort(want, n, KEY_SIZE, key_cmp);
    for (i = 0; i < n; i++) {
        if (strcmp(got[i], want[i]) != 0) {
            return false;
        }
    }
    return true;
}

#endif /* HAT_EVENT_TEST_UTIL_H */
