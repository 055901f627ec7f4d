/*
 * file_backend.c - a hat-event backend written in C, built as a shared
 * library and loaded by an engine by path:
 *
 *   {"server_id": 1,
 *    "backend": {"module": "./libhat_event_file_backend.so", "path": "events.log"},
 *    "modules": []}
 *
 * Events are appended to one file, each as a record:
 *
 *   u32 little-endian length N | N bytes: the event in SBS | u32 LE CRC-32 of those bytes
 *
 * The backend keeps every event in memory too, replayed from the file on
 * start, so an engine restarted over the same file finds every earlier
 * event and continues the session numbering. Queries are answered by
 * hat_event_query_evaluate over those events: hat's query rules, exactly
 * as the built-in memory backend applies them, without reimplementing
 * them. `flush` makes the file durable (fsync) and then reports the events
 * written since the last flush to the host.
 *
 * A process killed mid-write leaves a torn last record: on start, a record
 * that is incomplete or whose CRC does not match ends the replay, and the
 * file is truncated to the last whole record before anything is appended.
 * A torn record is never decoded.
 *
 * POSIX only (open/write/fsync/ftruncate).
 */

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hat/event.h>

typedef struct {
    int fd;
    hat_event_backend_host_t *host;      /* the engine's callbacks */
    hat_event_event_t **events;          /* every event, in registration order */
    size_t len, cap;
    size_t flushed;                      /* events[0..flushed] were reported flushed */
} file_backend_t;

static const char schema_id[] = "hat-event-c://file_backend.yaml";
static const char schema_repo[] =
    "{\"hat-event-c://file_backend.yaml\": {"
    "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
    "\"type\": \"object\", \"required\": [\"module\", \"path\"],"
    "\"properties\": {\"module\": {\"type\": \"string\"},"
    "\"path\": {\"type\": \"string\", \"minLength\": 1, \"pattern\": \"^[^\\\"\\\\\\\\]*$\"}}}}";

static hat_event_status_t fail(hat_event_status_t status, const char *what) {
    char message[512];
    int len = snprintf(message, sizeof message, "file backend: %s%s%s", what, errno ? ": " : "",
                       errno ? strerror(errno) : "");
    hat_event_str_t m = {message, len > 0 ? (size_t)len : 0};
    if (m.len >= sizeof message) {
        m.len = sizeof message - 1;
    }
    hat_event_plugin_set_error(m);
    return status;
}

static uint32_t crc32(const uint8_t *data, size_t len) {
    uint32_t crc = 0xffffffffu;
    size_t i;
    int k;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Keeps a copy of `event` (appended to b->events). */
static hat_event_status_t keep(file_backend_t *b, const hat_event_event_t *event) {
    if (b->len == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        hat_event_event_t **p = realloc(b->events, cap * sizeof *p);
        if (p == NULL) {
            return fail(HAT_EVENT_ERR_INTERNAL, "out of memory");
        }
        b->events = p;
        b->cap = cap;
    }
    if (hat_event_event_clone(event, &b->events[b->len]) != HAT_EVENT_OK) {
        return fail(HAT_EVENT_ERR_INTERNAL, "clone");
    }
    b->len++;
    return HAT_EVENT_OK;
}

/* Replays the whole records of the file into memory; truncates a torn
 * tail. Replayed events count as flushed (they are durable). */
static hat_event_status_t replay(file_backend_t *b) {
    struct stat st;
    uint8_t *data;
    size_t size, at = 0;
    hat_event_status_t status = HAT_EVENT_OK;
    if (fstat(b->fd, &st) != 0) {
        return fail(HAT_EVENT_ERR_INTERNAL, "fstat");
    }
    size = (size_t)st.st_size;
    data = malloc(size > 0 ? size : 1);
    if (data == NULL) {
        return fail(HAT_EVENT_ERR_INTERNAL, "out of memory");
    }
    if (pread(b->fd, data, size, 0) != (ssize_t)size) {
        free(data);
        return fail(HAT_EVENT_ERR_INTERNAL, "read");
    }
    while (status == HAT_EVENT_OK && size - at >= 8) {
        uint32_t len = get_u32(data + at);
        hat_event_event_t *event = NULL;
        if (len > size - at - 8 || crc32(data + at + 4, len) != get_u32(data + at + 4 + len)) {
            break; /* torn (or corrupt) record: the end of what is durable */
        }
        if (hat_event_event_decode((hat_event_bytes_t){data + at + 4, len}, &event) != HAT_EVENT_OK) {
            break;
        }
        status = keep(b, event);
        hat_event_event_destroy(event);
        at += 8 + (size_t)len;
    }
    free(data);
    if (status != HAT_EVENT_OK) {
        return status;
    }
    b->flushed = b->len;
    if (at < size) {
        fprintf(stderr, "file backend: skipping a torn record of %zu bytes at offset %zu\n", size - at, at);
        if (ftruncate(b->fd, (off_t)at) != 0) {
            return fail(HAT_EVENT_ERR_INTERNAL, "ftruncate");
        }
    }
    if (lseek(b->fd, 0, SEEK_END) < 0) {
        return fail(HAT_EVENT_ERR_INTERNAL, "lseek");
    }
    return HAT_EVENT_OK;
}

static hat_event_status_t file_get_last_event_id(void *instance, int64_t server_id, hat_event_event_id_t *out) {
    file_backend_t *b = instance;
    hat_event_event_id_t last = {server_id, 0, 0};
    size_t i;
    for (i = 0; i < b->len; i++) {
        hat_event_event_id_t id = hat_event_event_get_id(b->events[i]);
        if (id.server == server_id && hat_event_event_id_compare(id, last) > 0) {
            last = id;
        }
    }
    *out = last;
    return HAT_EVENT_OK;
}

static hat_event_status_t file_register(void *instance, const hat_event_event_t *const *events, size_t count) {
    file_backend_t *b = instance;
    size_t i;
    hat_event_status_t status;
    for (i = 0; i < count; i++) {
        hat_event_buffer_t *sbs = NULL;
        uint8_t head[4], tail[4];
        size_t len;
        status = hat_event_event_encode(events[i], &sbs);
        if (status != HAT_EVENT_OK) {
            return fail(status, "encode");
        }
        len = hat_event_buffer_len(sbs);
        put_u32(head, (uint32_t)len);
        put_u32(tail, crc32(hat_event_buffer_data(sbs), len));
        errno = 0;
        if (write_all(b->fd, head, 4) != 0 || write_all(b->fd, hat_event_buffer_data(sbs), len) != 0 ||
            write_all(b->fd, tail, 4) != 0) {
            hat_event_buffer_destroy(sbs);
            return fail(HAT_EVENT_ERR_INTERNAL, "write");
        }
        hat_event_buffer_destroy(sbs);
    }
    for (i = 0; i < count; i++) {
        status = keep(b, events[i]);
        if (status != HAT_EVENT_OK) {
            return status;
        }
    }
    return hat_event_backend_host_registered(b->host, events, count);
}

static hat_event_status_t file_query(void *instance, const hat_event_query_params_t *params,
                                     hat_event_query_result_t **out) {
    file_backend_t *b = instance;
    return hat_event_query_evaluate(params, (const hat_event_event_t *const *)b->events, b->len, out);
}

static hat_event_status_t file_flush(void *instance) {
    file_backend_t *b = instance;
    hat_event_status_t status;
    errno = 0;
    if (fsync(b->fd) != 0) {
        return fail(HAT_EVENT_ERR_INTERNAL, "fsync");
    }
    status = hat_event_backend_host_flushed(b->host, (const hat_event_event_t *const *)b->events + b->flushed,
                                            b->len - b->flushed);
    b->flushed = b->len;
    return status;
}

static void file_finalize(void *instance) {
    file_backend_t *b = instance;
    size_t i;
    for (i = 0; i < b->len; i++) {
        hat_event_event_destroy(b->events[i]);
    }
    free(b->events);
    if (b->fd >= 0) {
        close(b->fd);
    }
    free(b);
}

/* The "path" string of the configuration (the schema rules out quotes and
 * backslashes in it, so no unescaping is needed). */
static char *conf_path(hat_event_str_t conf) {
    static const char key[] = "\"path\"";
    const char *end = conf.ptr + conf.len;
    const char *p, *start;
    char *path;
    for (p = conf.ptr; p + sizeof key - 1 <= end; p++) {
        if (memcmp(p, key, sizeof key - 1) == 0) {
            break;
        }
    }
    if (p + sizeof key - 1 > end) {
        return NULL;
    }
    p += sizeof key - 1;
    while (p < end && *p != '"') {
        p++;
    }
    start = ++p;
    while (p < end && *p != '"') {
        p++;
    }
    if (p >= end) {
        return NULL;
    }
    path = malloc((size_t)(p - start) + 1);
    if (path != NULL) {
        memcpy(path, start, (size_t)(p - start));
        path[p - start] = '\0';
    }
    return path;
}

static hat_event_status_t file_create(void *user_data, hat_event_str_t conf, hat_event_backend_host_t *host,
                                      hat_event_backend_t *out) {
    file_backend_t *b;
    char *path;
    hat_event_status_t status;
    (void)user_data;

    errno = 0;
    path = conf_path(conf);
    if (path == NULL) {
        return fail(HAT_EVENT_ERR_INVALID_ARGUMENT, "configuration without a path");
    }
    b = calloc(1, sizeof *b);
    if (b == NULL) {
        free(path);
        return fail(HAT_EVENT_ERR_INTERNAL, "out of memory");
    }
    b->host = host;
    b->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (b->fd < 0) {
        status = fail(HAT_EVENT_ERR_INVALID_ARGUMENT, path);
        free(path);
        file_finalize(b);
        return status;
    }
    free(path);
    status = replay(b);
    if (status != HAT_EVENT_OK) {
        file_finalize(b);
        return status;
    }
    out->struct_size = sizeof *out;
    out->instance = b;
    out->get_last_event_id = file_get_last_event_id;
    out->register_events = file_register;
    out->query = file_query;
    out->flush = file_flush;
    out->finalize = file_finalize;
    return HAT_EVENT_OK;
}

static const hat_event_backend_info_t info = {
    .abi_version = HAT_EVENT_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(hat_event_backend_info_t),
    .create = file_create,
    .json_schema_id = {schema_id, sizeof schema_id - 1},
    .json_schema_repo = {schema_repo, sizeof schema_repo - 1},
};

/* The well-known symbol the engine looks up after dlopen (HAT_EVENT_BACKEND_INFO_SYMBOL),
 * declared by the header: a definition of another type does not compile. */
const hat_event_backend_info_t *hat_event_backend_info(void) {
    return &info;
}
