/*
 * Plug-ins and the engine from C: hat's query rules over a backend's own
 * events (hat_event_query_evaluate; the cases of hat-event's
 * backends/memory.py, hand-checked), the engine's sessions
 * (hat-event's test_server/test_engine.py: STARTED/STOPPED, register,
 * session start/stop, cascading modules), import by name and by path with
 * every import error, schema validation, re-entrancy, failing plug-ins,
 * and 4 threads registering 100,000 events at once.
 *
 * argv[1]: path of the counter module (examples-c/counter_module.c);
 * argv[2]: path of a module library with a wrong ABI version;
 * argv[3]: path of the file backend (examples-c/file_backend.c), or absent;
 * argv[4]: path of a module library whose schema cannot validate, or absent.
 */

#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <pthread.h>
#include <unistd.h>
#include <stdint.h>

#include "check.h"
#include "util.h"

static const char *counter_path = NULL;
static const char *bad_abi_path = NULL;
static const char *bad_schema_path = NULL;

/* ---- small helpers ---------------------------------------------------- */

/* A register event of type "a/b/c" (segments split at '/'), no payload. */
static hat_event_register_event_t *reg(const char *type) {
    hat_event_str_t segs[8];
    size_t n = 0;
    const char *start = type;
    const char *p;
    hat_event_register_event_t *e = NULL;
    for (p = type;; p++) {
        if (*p == '/' || *p == '\0') {
            segs[n].ptr = start;
            segs[n].len = (size_t)(p - start);
            n++;
            start = p + 1;
            if (*p == '\0') {
                break;
            }
        }
    }
    REQUIRE_OK(hat_event_register_event_create(segs, n, NULL, NULL, &e));
    return e;
}

/* True if the event's type, joined with '/', is `type`. */
static bool event_type_is(const hat_event_event_t *event, const char *type) {
    const hat_event_event_type_t *t = hat_event_event_get_type(event);
    char joined[128];
    size_t i, at = 0;
    for (i = 0; i < hat_event_event_type_len(t); i++) {
        hat_event_str_t seg = hat_event_event_type_segment(t, i);
        if (i > 0) {
            joined[at++] = '/';
        }
        if (at + seg.len >= sizeof joined) {
            return false;
        }
        memcpy(joined + at, seg.ptr, seg.len);
        at += seg.len;
    }
    joined[at] = '\0';
    return strcmp(joined, type) == 0;
}

/* True if the event's payload is JSON whose text is `json`. */
static bool payload_is(const hat_event_event_t *event, const char *json) {
    hat_event_buffer_t *text = NULL;
    bool eq;
    if (hat_event_payload_json_text(hat_event_event_payload(event), &text) != HAT_EVENT_OK) {
        return false;
    }
    eq = hat_event_buffer_len(text) == strlen(json) &&
         memcmp(hat_event_buffer_data(text), json, strlen(json)) == 0;
    hat_event_buffer_destroy(text);
    return eq;
}

static hat_event_event_id_t id3(int64_t server, int64_t session, int64_t instance) {
    hat_event_event_id_t id;
    id.server = server;
    id.session = session;
    id.instance = instance;
    return id;
}

static const hat_event_source_t eventer = {HAT_EVENT_SOURCE_TYPE_EVENTER, 123};

static hat_event_engine_t *engine_from(const char *conf, const hat_event_engine_hooks_t *hooks) {
    hat_event_engine_t *engine = NULL;
    REQUIRE_OK(hat_event_engine_create(hat_event_str_from_cstr(conf), hooks, &engine));
    return engine;
}

/* Registers one event of `type`; returns its list (caller destroys). */
static hat_event_event_list_t *register1(hat_event_engine_t *engine, const char *type) {
    hat_event_register_event_t *e = reg(type);
    const hat_event_register_event_t *events[1];
    hat_event_event_list_t *out = NULL;
    events[0] = e;
    CHECK_OK(hat_event_engine_register(engine, eventer, events, 1, &out));
    hat_event_register_event_destroy(e);
    return out;
}

static hat_event_query_result_t *query_server(hat_event_engine_t *engine, int64_t server_id) {
    hat_event_query_params_t *params = NULL;
    hat_event_query_result_t *result = NULL;
    REQUIRE_OK(hat_event_query_params_create_server(server_id, &params));
    CHECK_OK(hat_event_engine_query(engine, params, &result));
    hat_event_query_params_destroy(params);
    return result;
}

/* ---- hat's query rules over a C backend's own events ---------------------- */

/* A C backend's store: its own array of events, queried with
 * hat_event_query_evaluate (the memory backend's rules). */
typedef struct {
    hat_event_event_t *events[16];
    size_t len;
} store_t;

/* Event (server, 1, instance) of `type`, timestamp t seconds, source
 * timestamp st seconds (none if st < 0). */
static void store_add_at(store_t *m, int64_t server, int64_t instance, const char *type, int64_t t, int64_t st) {
    hat_event_register_event_t *r = reg(type);
    hat_event_timestamp_t source_t = ts(st, 0);
    const hat_event_event_type_t *et = hat_event_register_event_type(r);
    hat_event_str_t segs[4];
    size_t i;
    for (i = 0; i < hat_event_event_type_len(et) && i < 4; i++) {
        segs[i] = hat_event_event_type_segment(et, i);
    }
    CHECK(m->len < 16);
    if (m->len >= 16) {
        hat_event_register_event_destroy(r);
        return;
    }
    REQUIRE_OK(hat_event_event_create(id3(server, 1, instance), segs, i, ts(t, 0), st >= 0 ? &source_t : NULL, NULL,
                                      &m->events[m->len]));
    m->len++;
    hat_event_register_event_destroy(r);
}

static void store_add(store_t *m, int64_t instance, const char *type, int64_t t, int64_t st) {
    store_add_at(m, 1, instance, type, t, st);
}

static void store_free(store_t *m) {
    size_t i;
    for (i = 0; i < m->len; i++) {
        hat_event_event_destroy(m->events[i]);
    }
    m->len = 0;
}

/* The instances of a query result, as a string "3,5,4" (for comparisons). */
static const char *instances(const hat_event_query_result_t *r) {
    static char text[64];
    size_t i, at = 0;
    text[0] = '\0';
    for (i = 0; i < hat_event_query_result_len(r); i++) {
        at += (size_t)snprintf(text + at, sizeof text - at, "%s%lld", i ? "," : "",
                               (long long)hat_event_event_get_id(hat_event_query_result_event(r, i)).instance);
    }
    return text;
}

static hat_event_query_result_t *memory_query(store_t *m, hat_event_query_params_t *params) {
    hat_event_query_result_t *r = NULL;
    CHECK_OK(hat_event_query_evaluate(params, (const hat_event_event_t *const *)m->events, m->len, &r));
    hat_event_query_params_destroy(params);
    return r;
}

#define CHECK_RESULT(result_expr, want, want_more)                                        \
    do {                                                                                   \
        hat_event_query_result_t *r_ = (result_expr);                                      \
        CHECK(strcmp(instances(r_), want) == 0);                                           \
        if (strcmp(instances(r_), want) != 0) {                                            \
            fprintf(stderr, "    got [%s], want [%s]\n", instances(r_), want);             \
        }                                                                                  \
        CHECK(hat_event_query_result_more_follows(r_) == (want_more));                     \
        hat_event_query_result_destroy(r_);                                                \
    } while (0)

static hat_event_status_t set_max(hat_event_query_params_t *p, int64_t max_results) {
    return hat_event_query_params_set_max_results(p, &max_results);
}

static hat_event_query_params_t *timeseries(void) {
    hat_event_query_params_t *p = NULL;
    REQUIRE_OK(hat_event_query_params_create_timeseries(&p));
    return p;
}

static void test_query_evaluate(void) {
    store_t m;
    hat_event_query_params_t *p;
    hat_event_query_result_t *r = NULL;
    hat_event_event_id_t last;
    hat_event_timestamp_t t30 = ts(30, 0), t40 = ts(40, 0);
    hat_event_str_t c_any[] = {SEG("c"), SEG("*")};
    hat_event_event_type_view_t c_view = {c_any, 2};
    hat_event_str_t bad_star[] = {SEG("*"), SEG("a")};
    hat_event_event_type_view_t bad_view = {bad_star, 2};
    const hat_event_event_t *with_null[2];

    memset(&m, 0, sizeof m);
    /* no events: every kind answers nothing */
    REQUIRE_OK(hat_event_query_params_create_latest(&p));
    CHECK_RESULT(memory_query(&m, p), "", false);
    CHECK_RESULT(memory_query(&m, timeseries()), "", false);

    /* instance, type, timestamp, source timestamp (-1: none) */
    store_add(&m, 1, "a", 10, 60);
    store_add(&m, 2, "b", 20, -1);
    store_add(&m, 3, "a", 30, 40);
    store_add(&m, 4, "c/d", 40, 50);
    store_add(&m, 5, "b", 50, 10);
    store_add(&m, 6, "c/e", 60, -1);

    /* latest: newest of each type, types in first-seen order */
    REQUIRE_OK(hat_event_query_params_create_latest(&p));
    CHECK_RESULT(memory_query(&m, p), "3,5,4,6", false);
    REQUIRE_OK(hat_event_query_params_create_latest(&p));
    CHECK_OK(hat_event_query_params_set_event_types(p, &c_view, 1));
    CHECK_RESULT(memory_query(&m, p), "4,6", false);

    /* timeseries: both orders, both order-bys */
    CHECK_RESULT(memory_query(&m, timeseries()), "6,5,4,3,2,1", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_order(p, HAT_EVENT_ORDER_ASCENDING));
    CHECK_RESULT(memory_query(&m, p), "1,2,3,4,5,6", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_order_by(p, HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP));
    CHECK_RESULT(memory_query(&m, p), "1,4,3,5", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_order_by(p, HAT_EVENT_ORDER_BY_SOURCE_TIMESTAMP));
    CHECK_OK(hat_event_query_params_set_order(p, HAT_EVENT_ORDER_ASCENDING));
    CHECK_RESULT(memory_query(&m, p), "5,3,4,1", false);

    /* timeseries filters: inclusive bounds; source filters drop events without one */
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_t_from(p, &t30));
    CHECK_RESULT(memory_query(&m, p), "6,5,4,3", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_t_to(p, &t30));
    CHECK_RESULT(memory_query(&m, p), "3,2,1", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_source_t_from(p, &t40));
    CHECK_RESULT(memory_query(&m, p), "4,3,1", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_source_t_to(p, &t40));
    CHECK_RESULT(memory_query(&m, p), "5,3", false);
    p = timeseries();
    CHECK_OK(hat_event_query_params_set_event_types(p, &c_view, 1));
    CHECK_RESULT(memory_query(&m, p), "6,4", false);

    /* paging: max_results, last_event_id, more_follows */
    p = timeseries();
    CHECK_OK(set_max(p, 2));
    CHECK_RESULT(memory_query(&m, p), "6,5", true);
    p = timeseries();
    last = id3(1, 1, 5);
    CHECK_OK(set_max(p, 2));
    CHECK_OK(hat_event_query_params_set_last_event_id(p, &last));
    CHECK_RESULT(memory_query(&m, p), "4,3", true);
    p = timeseries();
    last = id3(1, 1, 3);
    CHECK_OK(set_max(p, 3));
    CHECK_OK(hat_event_query_params_set_last_event_id(p, &last));
    CHECK_RESULT(memory_query(&m, p), "2,1", false);

    /* server: id order, after last_event_id */
    REQUIRE_OK(hat_event_query_params_create_server(1, &p));
    CHECK_RESULT(memory_query(&m, p), "1,2,3,4,5,6", false);
    REQUIRE_OK(hat_event_query_params_create_server(1, &p));
    last = id3(1, 1, 4);
    CHECK_OK(hat_event_query_params_set_last_event_id(p, &last));
    CHECK_OK(set_max(p, 1));
    CHECK_RESULT(memory_query(&m, p), "5", true);
    REQUIRE_OK(hat_event_query_params_create_server(1, &p));
    last = id3(1, 1, 6);
    CHECK_OK(hat_event_query_params_set_last_event_id(p, &last));
    CHECK_RESULT(memory_query(&m, p), "", false);
    REQUIRE_OK(hat_event_query_params_create_server(2, &p));
    CHECK_RESULT(memory_query(&m, p), "", false);

    /* latest across servers: an older event of another server registered
     * later does not replace the newest one (hat's natural order) */
    store_add_at(&m, 2, 1, "a", 5, -1);
    store_add_at(&m, 2, 2, "f", 5, -1);
    REQUIRE_OK(hat_event_query_params_create_latest(&p));
    CHECK_RESULT(memory_query(&m, p), "3,5,4,6,2", false);
    REQUIRE_OK(hat_event_query_params_create_server(2, &p));
    CHECK_RESULT(memory_query(&m, p), "1,2", false);

    /* errors: NULLs, a NULL event (by index), refused query types */
    REQUIRE_OK(hat_event_query_params_create_latest(&p));
    CHECK_STATUS(hat_event_query_evaluate(NULL, NULL, 0, &r), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_evaluate(p, NULL, 0, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_query_evaluate(p, NULL, 1, &r), HAT_EVENT_ERR_NULL_ARGUMENT);
    with_null[0] = m.events[0];
    with_null[1] = NULL;
    CHECK_STATUS(hat_event_query_evaluate(p, with_null, 2, &r), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "events[1]") != NULL);
    CHECK(r == NULL);
    CHECK_OK(hat_event_query_params_set_event_types(p, &bad_view, 1));
    CHECK_STATUS(hat_event_query_evaluate(p, with_null, 1, &r), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(r == NULL);
    hat_event_query_params_destroy(p);

    store_free(&m);
}

/* ---- the engine with the memory backend --------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    long registered_calls;
    long registered_events;
    long flushed_events;
    long restarts;
    long resets;
    hat_event_event_t *last; /* a copy of the last event reported */
} hooks_log_t;

static void log_registered(void *user_data, const hat_event_event_t *const *events, size_t count) {
    hooks_log_t *log = user_data;
    pthread_mutex_lock(&log->lock);
    log->registered_calls++;
    log->registered_events += (long)count;
    if (count > 0) {
        hat_event_event_destroy(log->last);
        log->last = NULL;
        (void)hat_event_event_clone(events[count - 1], &log->last);
    }
    pthread_mutex_unlock(&log->lock);
}

static void log_flushed(void *user_data, const hat_event_event_t *const *events, size_t count) {
    hooks_log_t *log = user_data;
    (void)events;
    pthread_mutex_lock(&log->lock);
    log->flushed_events += (long)count;
    pthread_mutex_unlock(&log->lock);
}

static void log_restart(void *user_data) {
    ((hooks_log_t *)user_data)->restarts++;
}

static void log_reset(void *user_data) {
    ((hooks_log_t *)user_data)->resets++;
}

/* 20 eventer clients "c0".."c19" (more than the engine's first guess, so
 * that it has to ask again). */
static size_t log_clients(void *user_data, hat_event_engine_client_name_t *out, size_t capacity) {
    static char names[20][4];
    size_t i;
    (void)user_data;
    for (i = 0; i < 20 && i < capacity; i++) {
        int len = snprintf(names[i], sizeof names[i], "c%u", (unsigned)i);
        out[i].source.type = HAT_EVENT_SOURCE_TYPE_EVENTER;
        out[i].source.id = (int64_t)i + 100;
        out[i].name.ptr = names[i];
        out[i].name.len = (size_t)len;
    }
    return 20;
}

static hat_event_engine_hooks_t hooks_for(hooks_log_t *log) {
    hat_event_engine_hooks_t hooks;
    memset(&hooks, 0, sizeof hooks);
    memset(log, 0, sizeof *log);
    pthread_mutex_init(&log->lock, NULL);
    hooks.struct_size = sizeof hooks;
    hooks.user_data = log;
    hooks.registered = log_registered;
    hooks.flushed = log_flushed;
    hooks.restart = log_restart;
    hooks.reset_monitor_ready = log_reset;
    hooks.client_names = log_clients;
    return hooks;
}

static void hooks_done(hooks_log_t *log) {
    hat_event_event_destroy(log->last);
    pthread_mutex_destroy(&log->lock);
}

static void test_engine_started_register_query_stopped(void) {
    hooks_log_t log;
    hat_event_engine_hooks_t hooks = hooks_for(&log);
    hat_event_engine_t *engine =
        engine_from("{\"server_id\": 7, \"backend\": {\"module\": \"hat.event.backends.memory\"}}", &hooks);
    hat_event_register_event_t *r1 = reg("a/b/c"), *r2 = reg("a/b/d");
    const hat_event_register_event_t *events[2];
    hat_event_event_list_t *out = NULL;
    hat_event_query_result_t *result;
    const hat_event_event_t *e0, *e1;

    CHECK(hat_event_engine_server_id(engine) == 7);
    CHECK(log.registered_calls == 1 && log.registered_events == 1 && log.flushed_events == 1);
    CHECK(id_eq(hat_event_event_get_id(log.last), id3(7, 1, 1)));
    CHECK(event_type_is(log.last, "event/7/engine"));
    CHECK(payload_is(log.last, "\"STARTED\""));

    events[0] = r1;
    events[1] = r2;
    CHECK_OK(hat_event_engine_register(engine, eventer, events, 2, &out));
    CHECK(hat_event_event_list_len(out) == 2);
    e0 = hat_event_event_list_get(out, 0);
    e1 = hat_event_event_list_get(out, 1);
    CHECK(hat_event_event_list_get(out, 2) == NULL);
    CHECK(id_eq(hat_event_event_get_id(e0), id3(7, 2, 1)) && id_eq(hat_event_event_get_id(e1), id3(7, 2, 2)));
    CHECK(event_type_is(e0, "a/b/c") && event_type_is(e1, "a/b/d"));
    CHECK(ts_eq(hat_event_event_timestamp(e0), hat_event_event_timestamp(e1)));
    CHECK(log.registered_calls == 2 && log.registered_events == 3);
    hat_event_event_list_destroy(out);

    /* no events: no session */
    CHECK_OK(hat_event_engine_register(engine, eventer, NULL, 0, &out));
    CHECK(hat_event_event_list_len(out) == 0);
    hat_event_event_list_destroy(out);
    CHECK(log.registered_calls == 2);

    result = query_server(engine, 7);
    CHECK(strcmp(instances(result), "1,1,2") == 0);
    hat_event_query_result_destroy(result);

    CHECK_OK(hat_event_engine_close(engine));
    CHECK(id_eq(hat_event_event_get_id(log.last), id3(7, 3, 1)));
    CHECK(payload_is(log.last, "\"STOPPED\""));
    CHECK_OK(hat_event_engine_close(engine)); /* again: nothing */
    CHECK(log.registered_calls == 3);
    CHECK_STATUS(hat_event_engine_register(engine, eventer, events, 2, &out), HAT_EVENT_ERR_CLOSED);
    {
        hat_event_query_params_t *p = NULL;
        REQUIRE_OK(hat_event_query_params_create_latest(&p));
        CHECK_STATUS(hat_event_engine_query(engine, p, &result), HAT_EVENT_ERR_CLOSED);
        hat_event_query_params_destroy(p);
    }
    hat_event_engine_destroy(engine);
    hat_event_register_event_destroy(r1);
    hat_event_register_event_destroy(r2);
    hooks_done(&log);
}

/* ---- modules written in C, registered by name --------------------------- */

/* A module mapping events of type `from` to one event of type `to`,
 * recording what it saw. */
typedef struct {
    const char *from;
    const char *to;
    hat_event_engine_t *engine;
    hat_event_source_t source;
    int sessions_started;
    int sessions_stopped;
    int64_t last_session;
    int processed;
    /* behaviour switches for the re-entrancy and failure tests */
    bool call_register;
    bool fail;
    hat_event_status_t nested_register;
    hat_event_status_t nested_query;
    size_t nested_query_len;
} map_module_t;

static map_module_t *map_modules[4];

static hat_event_status_t map_start(void *instance, int64_t session_id) {
    map_module_t *m = instance;
    m->sessions_started++;
    m->last_session = session_id;
    return HAT_EVENT_OK;
}

static hat_event_status_t map_stop(void *instance, int64_t session_id) {
    map_module_t *m = instance;
    m->sessions_stopped++;
    CHECK(session_id == m->last_session);
    return HAT_EVENT_OK;
}

static hat_event_status_t map_process(void *instance, hat_event_source_t source, const hat_event_event_t *event,
                                      hat_event_register_event_list_t *out) {
    map_module_t *m = instance;
    hat_event_register_event_t *derived;
    hat_event_status_t status;
    (void)source;
    m->processed++;
    if (m->fail) {
        hat_event_plugin_set_error(STR("map module refuses"));
        return HAT_EVENT_ERR_INVALID_ARGUMENT;
    }
    if (m->call_register) {
        hat_event_register_event_t *r = reg("nested");
        const hat_event_register_event_t *rs[1];
        hat_event_event_list_t *list = NULL;
        hat_event_query_result_t *result = NULL;
        rs[0] = r;
        m->nested_register = hat_event_engine_register(m->engine, m->source, rs, 1, &list);
        hat_event_event_list_destroy(list);
        hat_event_register_event_destroy(r);
        result = query_server(m->engine, 1);
        m->nested_query = result != NULL ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL;
        m->nested_query_len = hat_event_query_result_len(result);
        hat_event_query_result_destroy(result);
        CHECK_OK(hat_event_engine_restart(m->engine));
        CHECK_OK(hat_event_engine_reset_monitor_ready(m->engine));
    }
    if (!event_type_is(event, m->from)) {
        return HAT_EVENT_OK;
    }
    derived = reg(m->to);
    status = hat_event_register_event_list_append(out, derived);
    hat_event_register_event_destroy(derived);
    return status;
}

static void map_finalize(void *instance) {
    map_module_t *m = instance;
    size_t i;
    for (i = 0; i < COUNT(map_modules); i++) {
        if (map_modules[i] == m) {
            map_modules[i] = NULL;
        }
    }
    free(m);
}

/* user_data of the map modules: what they map. */
typedef struct {
    const char *from;
    const char *to;
} map_spec_t;

static map_spec_t spec_a = {"a", "b"};
static map_spec_t spec_b = {"b", "c"};

static hat_event_status_t map_create(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                     hat_event_source_t source, hat_event_module_t *out) {
    const map_spec_t *spec = user_data;
    map_module_t *m = calloc(1, sizeof *m);
    hat_event_str_t star = SEG("*");
    hat_event_event_type_view_t all = {&star, 1};
    (void)conf;
    if (m == NULL) {
        return HAT_EVENT_ERR_INTERNAL;
    }
    m->from = spec->from;
    m->to = spec->to;
    m->engine = engine;
    m->source = source;
    if (hat_event_subscription_create(&all, 1, &out->subscription) != HAT_EVENT_OK) {
        free(m);
        return HAT_EVENT_ERR_INTERNAL;
    }
    if ((size_t)source.id < COUNT(map_modules)) {
        map_modules[source.id] = m;
    }
    out->struct_size = sizeof *out;
    out->instance = m;
    out->on_session_start = map_start;
    out->on_session_stop = map_stop;
    out->process = map_process;
    out->finalize = map_finalize;
    return HAT_EVENT_OK;
}

static void register_map_module(const char *name, map_spec_t *spec) {
    hat_event_module_info_t info;
    memset(&info, 0, sizeof info);
    info.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    info.struct_size = sizeof info;
    info.user_data = spec;
    info.create = map_create;
    REQUIRE_OK(hat_event_module_register(hat_event_str_from_cstr(name), &info));
}

static void test_cascading_modules_in_order(void) {
    hat_event_engine_t *engine;
    hat_event_event_list_t *out;
    hat_event_query_result_t *result;
    size_t i;
    /* session 2: a (eventer); round 1: m0 a->b; round 2: m1 b->c, then the
     * counter module sees nothing of type sensor/... */
    register_map_module("test.map_a", &spec_a);
    register_map_module("test.map_b", &spec_b);
    {
        char conf[1024];
        snprintf(conf, sizeof conf,
                 "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": ["
                 "{\"module\": \"test.map_b\"}, {\"module\": \"test.map_a\"}, {\"module\": \"%s\"}]}",
                 counter_path);
        engine = engine_from(conf, NULL);
    }
    CHECK(map_modules[0] != NULL && map_modules[1] != NULL);
    CHECK(map_modules[0]->sessions_started == 1 && map_modules[0]->sessions_stopped == 1);
    CHECK(map_modules[0]->last_session == 1);
    CHECK(map_modules[1]->processed == 1); /* the STARTED event */
    CHECK(map_modules[1]->source.type == HAT_EVENT_SOURCE_TYPE_MODULE && map_modules[1]->source.id == 1);

    out = register1(engine, "a");
    CHECK(hat_event_event_list_len(out) == 1);
    hat_event_event_list_destroy(out);
    out = register1(engine, "sensor/t1");
    hat_event_event_list_destroy(out);
    out = register1(engine, "sensor/t2");
    hat_event_event_list_destroy(out);
    CHECK(map_modules[0]->last_session == 4);

    result = query_server(engine, 1);
    /* STARTED; a, b (m1 a->b), c (m0 b->c); sensor/t1, counter; sensor/t2, counter */
    {
        const char *want[][3] = {{"1", "1", "event/1/engine"}, {"2", "1", "a"}, {"2", "2", "b"},
                                 {"2", "3", "c"},              {"3", "1", "sensor/t1"},
                                 {"3", "2", "counter/sensor"}, {"4", "1", "sensor/t2"},
                                 {"4", "2", "counter/sensor"}};
        CHECK(hat_event_query_result_len(result) == COUNT(want));
        for (i = 0; i < COUNT(want) && i < hat_event_query_result_len(result); i++) {
            const hat_event_event_t *e = hat_event_query_result_event(result, i);
            hat_event_event_id_t id = hat_event_event_get_id(e);
            CHECK(id.session == atoi(want[i][0]) && id.instance == atoi(want[i][1]));
            CHECK(event_type_is(e, want[i][2]));
        }
        CHECK(payload_is(hat_event_query_result_event(result, 7), "{\"count\": 2}"));
    }
    hat_event_query_result_destroy(result);
    hat_event_engine_destroy(engine);
    CHECK(map_modules[0] == NULL && map_modules[1] == NULL); /* finalised */
}

static void test_reentrant_register_and_failing_module(void) {
    hooks_log_t log;
    hat_event_engine_hooks_t hooks = hooks_for(&log);
    hat_event_engine_t *engine;
    hat_event_event_list_t *out = NULL;
    hat_event_register_event_t *r = reg("a");
    const hat_event_register_event_t *rs[1];
    hat_event_query_result_t *result;
    rs[0] = r;
    register_map_module("test.map_a", &spec_a);
    engine = engine_from("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"},"
                         " \"modules\": [{\"module\": \"test.map_a\"}]}",
                         &hooks);
    map_modules[0]->call_register = true;
    out = register1(engine, "a");
    CHECK(hat_event_event_list_len(out) == 1);
    CHECK(id_eq(hat_event_event_get_id(hat_event_event_list_get(out, 0)), id3(1, 2, 1)));
    hat_event_event_list_destroy(out);
    CHECK(map_modules[0]->nested_register == HAT_EVENT_ERR_REENTRANT);
    CHECK(map_modules[0]->nested_query == HAT_EVENT_OK);
    CHECK(map_modules[0]->nested_query_len == 1); /* STARTED; the open session is not stored yet */
    CHECK(log.restarts == 2 && log.resets == 2); /* two events processed: a and b */
    map_modules[0]->call_register = false;

    /* A failing module fails the register with its message; nothing of the
     * session is stored; the engine goes on. */
    map_modules[0]->fail = true;
    CHECK_STATUS(hat_event_engine_register(engine, eventer, rs, 1, &out), HAT_EVENT_ERR_PLUGIN);
    CHECK(strstr(hat_event_last_error_message(), "map module refuses") != NULL);
    map_modules[0]->fail = false;
    out = register1(engine, "x");
    CHECK(id_eq(hat_event_event_get_id(hat_event_event_list_get(out, 0)), id3(1, 4, 1)));
    hat_event_event_list_destroy(out);
    result = query_server(engine, 1);
    CHECK(strcmp(instances(result), "1,1,2,1") == 0);
    hat_event_query_result_destroy(result);

    /* the host's eventer clients, as a module sees them */
    {
        hat_event_engine_client_names_t *names = NULL;
        hat_event_engine_client_name_t c;
        CHECK_OK(hat_event_engine_get_client_names(map_modules[0]->engine, &names));
        CHECK(hat_event_engine_client_names_len(names) == 20);
        c = hat_event_engine_client_names_get(names, 19);
        CHECK(c.source.type == HAT_EVENT_SOURCE_TYPE_EVENTER && c.source.id == 119 && view_eq(c.name, "c19", 3));
        c = hat_event_engine_client_names_get(names, 20);
        CHECK(c.name.ptr == NULL && c.source.type == 0);
        hat_event_engine_client_names_destroy(names);
    }

    /* a module's handle cannot close the engine */
    CHECK_STATUS(hat_event_engine_close(map_modules[0]->engine), HAT_EVENT_ERR_INVALID_ARGUMENT);
    hat_event_engine_destroy(engine);
    hat_event_register_event_destroy(r);
    hooks_done(&log);
}

/* ---- import and configuration errors ------------------------------------ */

static void test_import_by_name_and_path(void) {
    hat_event_module_info_t module;
    hat_event_backend_info_t backend;
    char missing[512];

    CHECK_OK(hat_event_import_module_info(hat_event_str_from_cstr(counter_path), &module));
    CHECK(module.abi_version == HAT_EVENT_PLUGIN_ABI_VERSION && module.create != NULL);
    CHECK(view_eq(module.json_schema_id, "hat-event-c://counter_module.yaml", 33));
    register_map_module("test.map_a", &spec_a);
    CHECK_OK(hat_event_import_module_info(STR("test.map_a"), &module));
    CHECK(module.user_data == &spec_a);
    /* a built-in backend is Rust, not a C plug-in: it has no C info */
    CHECK_STATUS(hat_event_import_backend_info(STR("hat.event.backends.memory"), &backend), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "'hat.event.backends.memory' is built in") != NULL);
    CHECK_STATUS(hat_event_import_backend_info(STR("memory"), &backend), HAT_EVENT_ERR_IMPORT);

    CHECK_STATUS(hat_event_import_module_info(STR("no.such.module"), &module), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "no module registered as 'no.such.module'") != NULL);
    CHECK_STATUS(hat_event_import_backend_info(STR("no.such.backend"), &backend), HAT_EVENT_ERR_IMPORT);
    snprintf(missing, sizeof missing, "%s.missing", counter_path);
    CHECK_STATUS(hat_event_import_module_info(hat_event_str_from_cstr(missing), &module), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "cannot load") != NULL);
    CHECK(strstr(hat_event_last_error_message(), "No such file") != NULL);
    CHECK_STATUS(hat_event_import_backend_info(hat_event_str_from_cstr(counter_path), &backend),
                 HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "does not export the symbol hat_event_backend_info") != NULL);
    CHECK_STATUS(hat_event_import_module_info(hat_event_str_from_cstr(bad_abi_path), &module),
                 HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "ABI version 999") != NULL);
    CHECK_STATUS(hat_event_import_module_info(STR("x"), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_import_backend_info((hat_event_str_t){"\xff", 1}, &backend), HAT_EVENT_ERR_INVALID_UTF8);

    /* registration errors */
    memset(&module, 0, sizeof module);
    module.abi_version = 999;
    module.create = map_create;
    CHECK_STATUS(hat_event_module_register(STR("test.bad"), &module), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "ABI version 999") != NULL);
    module.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    module.struct_size = sizeof module;
    CHECK_STATUS(hat_event_module_register(STR("a/b"), &module), HAT_EVENT_ERR_INVALID_ARGUMENT);
    module.json_schema_id = STR("x");
    module.json_schema_repo = STR("{not json");
    CHECK_STATUS(hat_event_module_register(STR("test.bad"), &module), HAT_EVENT_ERR_INVALID_JSON);
    memset(&backend, 0, sizeof backend);
    backend.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    backend.struct_size = sizeof backend;
    CHECK_STATUS(hat_event_backend_register(STR("test.nocreate"), &backend), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_register(STR("test.null"), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
}

static const char schema_repo[] =
    "{\"test://limit.yaml\": {\"type\": \"object\", \"required\": [\"limit\"],"
    " \"properties\": {\"limit\": {\"type\": \"integer\", \"minimum\": 1}}}}";

static void test_configuration_errors(void) {
    hat_event_engine_t *engine = SENTINEL_PTR;
    hat_event_module_info_t info;
    hat_event_engine_hooks_t hooks;
    char conf[1024];

    snprintf(conf, sizeof conf,
             "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"},"
             " \"modules\": [{\"module\": \"%s\", \"extra\": 1}]}",
             counter_path);
    CHECK_STATUS(hat_event_engine_create(hat_event_str_from_cstr(conf), NULL, &engine), HAT_EVENT_ERR_SCHEMA);
    CHECK(strstr(hat_event_last_error_message(), "additionalProperties") != NULL ||
          strstr(hat_event_last_error_message(), "additional properties") != NULL);
    CHECK(engine == SENTINEL_PTR);

    memset(&info, 0, sizeof info);
    info.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    info.struct_size = sizeof info;
    info.user_data = &spec_a;
    info.create = map_create;
    info.json_schema_id = STR("test://limit.yaml");
    info.json_schema_repo = (hat_event_str_t){schema_repo, sizeof schema_repo - 1};
    REQUIRE_OK(hat_event_module_register(STR("test.limited"), &info));
    CHECK_STATUS(hat_event_engine_create(STR("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"},"
                                             " \"modules\": [{\"module\": \"test.limited\", \"limit\": 0}]}"),
                                         NULL, &engine),
                 HAT_EVENT_ERR_SCHEMA);
    CHECK(strstr(hat_event_last_error_message(), "test://limit.yaml") != NULL);
    CHECK(strstr(hat_event_last_error_message(), "minimum") != NULL);
    engine = engine_from("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"},"
                         " \"modules\": [{\"module\": \"test.limited\", \"limit\": 3}]}",
                         NULL);
    hat_event_engine_destroy(engine);
    engine = SENTINEL_PTR;

    CHECK_STATUS(hat_event_engine_create(STR("{\"server_id\": 1}"), NULL, &engine), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_engine_create(STR("{"), NULL, &engine), HAT_EVENT_ERR_INVALID_JSON);
    CHECK_STATUS(hat_event_engine_create(STR("{\"server_id\": 1, \"backend\": {\"module\": \"nope\"}}"), NULL,
                                         &engine),
                 HAT_EVENT_ERR_IMPORT);
    CHECK_STATUS(hat_event_engine_create(STR("{}"), NULL, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    memset(&hooks, 0, sizeof hooks);
    hooks.struct_size = 3;
    CHECK_STATUS(hat_event_engine_create(STR("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}"), &hooks,
                                         &engine),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(engine == SENTINEL_PTR);
}

static hat_event_status_t refuse_backend_create(void *user_data, hat_event_str_t conf, hat_event_backend_host_t *host,
                                                hat_event_backend_t *out) {
    (void)user_data;
    (void)conf;
    (void)host;
    (void)out;
    return HAT_EVENT_ERR_PLUGIN;
}

/* A plug-in whose schema cannot validate is refused when it is registered
 * or imported (not at the first engine using it), with the schema id as the
 * plug-in gave it, and with the same status on both paths. */
static void test_broken_schemas_are_refused_at_registration_and_import(void) {
    hat_event_module_info_t module;
    hat_event_backend_info_t backend;
    hat_event_engine_t *engine = SENTINEL_PTR;
    char conf[1024];

    memset(&module, 0, sizeof module);
    module.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    module.struct_size = sizeof module;
    module.create = map_create;
    module.json_schema_id = STR("x");
    module.json_schema_repo = STR("{\"y\": {}}"); /* no schema "x" */
    CHECK_STATUS(hat_event_module_register(STR("test.broken_schema"), &module), HAT_EVENT_ERR_SCHEMA);
    CHECK(strstr(hat_event_last_error_message(), "json_schema_id 'x'") != NULL);
    CHECK(strstr(hat_event_last_error_message(), "file://") == NULL);
    module.json_schema_repo = STR("{\"x\": {\"type\": 12}}"); /* does not compile */
    CHECK_STATUS(hat_event_module_register(STR("test.broken_schema"), &module), HAT_EVENT_ERR_SCHEMA);
    CHECK(strncmp(hat_event_last_error_message(), "json_schema_id 'x' cannot be used", 33) == 0);
    /* nothing was registered under the name */
    CHECK_STATUS(hat_event_import_module_info(STR("test.broken_schema"), &module), HAT_EVENT_ERR_IMPORT);

    memset(&backend, 0, sizeof backend);
    backend.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    backend.struct_size = sizeof backend;
    backend.create = refuse_backend_create; /* never called: refused first */
    backend.json_schema_id = STR("test://limit.yaml#/nowhere");
    backend.json_schema_repo = STR("{}");
    CHECK_STATUS(hat_event_backend_register(STR("test.broken_schema"), &backend), HAT_EVENT_ERR_SCHEMA);
    CHECK(strstr(hat_event_last_error_message(), "'test://limit.yaml'") != NULL);

    if (bad_schema_path == NULL) {
        return;
    }
    CHECK_STATUS(hat_event_import_module_info(hat_event_str_from_cstr(bad_schema_path), &module),
                 HAT_EVENT_ERR_SCHEMA);
    CHECK(strstr(hat_event_last_error_message(), "json_schema_id 'x'") != NULL);
    snprintf(conf, sizeof conf, "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": [{\"module\": \"%s\"}]}",
             bad_schema_path);
    CHECK_STATUS(hat_event_engine_create(hat_event_str_from_cstr(conf), NULL, &engine), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "json_schema_id 'x'") != NULL);
    CHECK(engine == SENTINEL_PTR);
}

/* What a misbehaving client_names hook does. */
struct names_hook {
    enum { NEVER_SETTLES, HUGE_COUNT, OVER_MAX, NULL_NAME, BAD_UTF8 } mode;
    size_t calls;
};

static size_t misbehaving_clients(void *user_data, hat_event_engine_client_name_t *out, size_t capacity) {
    struct names_hook *hook = user_data;
    size_t i;
    hook->calls++;
    switch (hook->mode) {
    case NEVER_SETTLES:
        return capacity + 1;
    case HUGE_COUNT:
        return SIZE_MAX; /* 2^64 - 1 here; 2^40 was enough to abort the process */
    case OVER_MAX:
        return HAT_EVENT_CLIENT_NAMES_MAX + 1;
    case NULL_NAME:
    case BAD_UTF8:
        for (i = 0; i < 2 && i < capacity; i++) {
            out[i].source.type = HAT_EVENT_SOURCE_TYPE_EVENTER;
            out[i].source.id = (int64_t)i;
            out[i].name.ptr = i == 1 && hook->mode == NULL_NAME ? NULL : i == 1 ? "bad\xff" : "ok";
            out[i].name.len = i == 1 ? 4 : 2;
        }
        return 2;
    }
    return 0;
}

/* The engine asks a client_names hook a bounded number of times, never
 * allocates for an absurd count, and refuses unusable entries instead of
 * dropping them. */
static void test_client_names_hook_is_bounded_and_checked(void) {
    struct names_hook hook;
    hat_event_engine_hooks_t hooks;
    hat_event_engine_t *engine;
    hat_event_engine_client_names_t *names = SENTINEL_PTR;

    memset(&hooks, 0, sizeof hooks);
    hooks.struct_size = sizeof hooks;
    hooks.user_data = &hook;
    hooks.client_names = misbehaving_clients;
    engine = engine_from("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}", &hooks);

    hook.mode = NEVER_SETTLES;
    hook.calls = 0;
    CHECK_STATUS(hat_event_engine_get_client_names(engine, &names), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hook.calls == HAT_EVENT_CLIENT_NAMES_CALLS);
    CHECK(strstr(hat_event_last_error_message(), "still asked for more room") != NULL);

    hook.mode = HUGE_COUNT;
    hook.calls = 0;
    CHECK_STATUS(hat_event_engine_get_client_names(engine, &names), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(hook.calls == 1);
    CHECK(strstr(hat_event_last_error_message(), "HAT_EVENT_CLIENT_NAMES_MAX") != NULL);

    hook.mode = OVER_MAX;
    CHECK_STATUS(hat_event_engine_get_client_names(engine, &names), HAT_EVENT_ERR_INVALID_ARGUMENT);

    hook.mode = NULL_NAME;
    CHECK_STATUS(hat_event_engine_get_client_names(engine, &names), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "out[1]") != NULL);
    CHECK(strstr(hat_event_last_error_message(), "NULL") != NULL);

    hook.mode = BAD_UTF8;
    CHECK_STATUS(hat_event_engine_get_client_names(engine, &names), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "out[1]") != NULL);
    CHECK(strstr(hat_event_last_error_message(), "UTF-8") != NULL);
    CHECK(names == SENTINEL_PTR);
    hat_event_engine_destroy(engine);
}

static void test_null_and_bad_arguments(void) {
    hat_event_engine_t *engine = engine_from("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}", NULL);
    hat_event_event_list_t *out = SENTINEL_PTR;
    hat_event_query_result_t *result = SENTINEL_PTR;
    hat_event_register_event_t *r = reg("a");
    const hat_event_register_event_t *rs[2];
    hat_event_source_t bad_source = {99, 1};
    hat_event_event_t *event = NULL;
    const hat_event_event_t *events[1];
    rs[0] = r;
    rs[1] = NULL;

    CHECK_STATUS(hat_event_engine_register(NULL, eventer, rs, 1, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_engine_register(engine, eventer, rs, 2, &out), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "events[1]") != NULL);
    CHECK_STATUS(hat_event_engine_register(engine, bad_source, rs, 1, &out), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_engine_register(engine, eventer, rs, 1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL_PTR);
    CHECK_STATUS(hat_event_engine_query(engine, NULL, &result), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(result == SENTINEL_PTR);
    CHECK_STATUS(hat_event_engine_close(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_engine_restart(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_engine_reset_monitor_ready(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_OK(hat_event_engine_restart(engine)); /* no hook: nothing */
    {
        hat_event_engine_client_names_t *names = SENTINEL_PTR;
        CHECK_STATUS(hat_event_engine_get_client_names(NULL, &names), HAT_EVENT_ERR_NULL_ARGUMENT);
        CHECK(names == SENTINEL_PTR);
        CHECK_OK(hat_event_engine_get_client_names(engine, &names)); /* no hook: none */
        CHECK(hat_event_engine_client_names_len(names) == 0 && hat_event_engine_client_names_len(NULL) == 0);
        hat_event_engine_client_names_destroy(names);
        hat_event_engine_client_names_destroy(NULL);
    }
    CHECK(hat_event_engine_server_id(NULL) == 0);
    CHECK(hat_event_event_list_len(NULL) == 0 && hat_event_event_list_get(NULL, 0) == NULL);
    CHECK_STATUS(hat_event_register_event_list_append(NULL, r), HAT_EVENT_ERR_NULL_ARGUMENT);
    REQUIRE_OK(hat_event_event_create(id3(1, 1, 1), NULL, 0, ts(1, 0), NULL, NULL, &event));
    events[0] = event;
    CHECK_STATUS(hat_event_backend_host_registered(NULL, events, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_host_flushed(NULL, events, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    hat_event_event_destroy(event);
    hat_event_event_list_destroy(NULL);
    hat_event_engine_destroy(NULL);
    hat_event_engine_destroy(engine);
    hat_event_register_event_destroy(r);
}

/* ---- many threads registering at once ----------------------------------- */

#define THREADS 4
#define EVENTS_PER_THREAD 25000
#define BATCH 10

typedef struct {
    hat_event_engine_t *engine;
    int failures;
} worker_t;

static void *worker(void *arg) {
    worker_t *w = arg;
    hat_event_register_event_t *events[BATCH];
    const hat_event_register_event_t *views[BATCH];
    int i, sent;
    for (i = 0; i < BATCH; i++) {
        events[i] = reg("load/x");
        views[i] = events[i];
    }
    for (sent = 0; sent < EVENTS_PER_THREAD; sent += BATCH) {
        hat_event_event_list_t *out = NULL;
        if (hat_event_engine_register(w->engine, eventer, views, BATCH, &out) != HAT_EVENT_OK ||
            hat_event_event_list_len(out) != BATCH ||
            hat_event_event_get_id(hat_event_event_list_get(out, BATCH - 1)).instance != BATCH) {
            w->failures++;
        }
        hat_event_event_list_destroy(out);
    }
    for (i = 0; i < BATCH; i++) {
        hat_event_register_event_destroy(events[i]);
    }
    return NULL;
}

static void test_concurrent_registers(void) {
    hat_event_engine_t *engine = engine_from("{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}", NULL);
    pthread_t threads[THREADS];
    worker_t workers[THREADS];
    hat_event_query_result_t *result;
    size_t i, n;
    int64_t session = 0, instance = 0;
    long gaps = 0;
    for (i = 0; i < THREADS; i++) {
        workers[i].engine = engine;
        workers[i].failures = 0;
        CHECK(pthread_create(&threads[i], NULL, worker, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].failures == 0);
    }
    result = query_server(engine, 1);
    n = hat_event_query_result_len(result);
    CHECK(n == 1 + THREADS * EVENTS_PER_THREAD);
    /* ids in order: sessions 1, 2, ... each with instances 1..k, no gaps;
     * session 1 is STARTED (1 event), every other one a batch */
    for (i = 0; i < n; i++) {
        hat_event_event_id_t id = hat_event_event_get_id(hat_event_query_result_event(result, i));
        if (id.instance == 1) {
            gaps += id.session != session + 1;
            gaps += session >= 1 && instance != (session == 1 ? 1 : BATCH);
            session = id.session;
        } else {
            gaps += id.session != session || id.instance != instance + 1;
        }
        instance = id.instance;
    }
    gaps += instance != BATCH;
    CHECK(gaps == 0);
    CHECK(session == 1 + THREADS * EVENTS_PER_THREAD / BATCH);
    hat_event_query_result_destroy(result);
    hat_event_engine_destroy(engine);
}

/* ---- the example file backend: restart and torn records ---------------- */

static const char *file_backend_path = NULL;

static size_t read_file(const char *path, uint8_t **data) {
    FILE *f = fopen(path, "rb");
    long size;
    REQUIRE_OK(f != NULL ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *data = malloc((size_t)size + 1);
    REQUIRE_OK(fread(*data, 1, (size_t)size, f) == (size_t)size ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    fclose(f);
    return (size_t)size;
}

static void write_file(const char *path, const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    REQUIRE_OK(f != NULL && fwrite(data, 1, size, f) == size ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    fclose(f);
}

/* Walks the records (u32 LE length | SBS | u32 CRC); returns how many are
 * whole, and in *last_start the offset of the last whole one, *end where
 * the whole ones end. */
static size_t walk_records(const uint8_t *data, size_t size, size_t *last_start, size_t *end) {
    size_t at = 0, n = 0;
    *last_start = 0;
    while (size - at >= 8) {
        uint32_t len = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 | (uint32_t)data[at + 2] << 16 |
                       (uint32_t)data[at + 3] << 24;
        if (len > size - at - 8) {
            break;
        }
        *last_start = at;
        at += 8 + len;
        n++;
    }
    *end = at;
    return n;
}

static hat_event_engine_t *file_engine(const char *path, const hat_event_engine_hooks_t *hooks) {
    char conf[1024];
    snprintf(conf, sizeof conf,
             "{\"server_id\": 1, \"backend\": {\"module\": \"%s\", \"path\": \"%s\"}}", file_backend_path,
             path);
    return engine_from(conf, hooks);
}

static void test_file_backend_restart_and_torn_records(void) {
    char dir[] = "/tmp/hat_event_test_XXXXXX";
    char path[256], torn[256], conf[1024];
    hooks_log_t log;
    hat_event_engine_hooks_t hooks;
    hat_event_engine_t *engine = SENTINEL_PTR;
    hat_event_query_result_t *result;
    uint8_t *data;
    size_t size, last_start, end, off, records;

    REQUIRE_OK(mkdtemp(dir) != NULL ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    snprintf(path, sizeof path, "%s/events.log", dir);
    snprintf(torn, sizeof torn, "%s/torn.log", dir);

    /* the schema: a path is required */
    snprintf(conf, sizeof conf, "{\"server_id\": 1, \"backend\": {\"module\": \"%s\"}}", file_backend_path);
    CHECK_STATUS(hat_event_engine_create(hat_event_str_from_cstr(conf), NULL, &engine), HAT_EVENT_ERR_SCHEMA);
    CHECK(strstr(hat_event_last_error_message(), "path") != NULL);

    /* first run: STARTED, a, b, STOPPED; flushed once durable, at close */
    hooks = hooks_for(&log);
    engine = file_engine(path, &hooks);
    hat_event_event_list_destroy(register1(engine, "a"));
    hat_event_event_list_destroy(register1(engine, "b"));
    CHECK(log.registered_events == 3 && log.flushed_events == 0);
    hat_event_engine_destroy(engine);
    CHECK(log.registered_events == 4 && log.flushed_events == 4);
    hooks_done(&log);

    /* second run: numbering continues; nothing lost */
    engine = file_engine(path, NULL);
    result = query_server(engine, 1);
    CHECK(hat_event_query_result_len(result) == 5);
    if (hat_event_query_result_len(result) == 5) {
        CHECK(event_type_is(hat_event_query_result_event(result, 1), "a"));
        CHECK(id_eq(hat_event_event_get_id(hat_event_query_result_event(result, 2)), id3(1, 3, 1)));
        CHECK(payload_is(hat_event_query_result_event(result, 3), "\"STOPPED\""));
        CHECK(id_eq(hat_event_event_get_id(hat_event_query_result_event(result, 4)), id3(1, 5, 1)));
        CHECK(payload_is(hat_event_query_result_event(result, 4), "\"STARTED\""));
    }
    hat_event_query_result_destroy(result);
    hat_event_engine_destroy(engine);

    /* the last record (engine 2's STOPPED, session 6) torn at every offset */
    size = read_file(path, &data);
    records = walk_records(data, size, &last_start, &end);
    CHECK(records == 6 && end == size);
    for (off = last_start; off < size; off++) {
        uint8_t *after;
        size_t after_size, after_last, after_end;
        write_file(torn, data, off);
        engine = file_engine(torn, NULL);
        result = query_server(engine, 1);
        /* the 5 whole records and this run's STARTED, in session 6 again */
        CHECK(hat_event_query_result_len(result) == 6);
        CHECK(id_eq(hat_event_event_get_id(hat_event_query_result_event(result, 5)), id3(1, 6, 1)));
        hat_event_query_result_destroy(result);
        hat_event_engine_destroy(engine);
        /* the torn bytes were cut before appending: 7 whole records, nothing else */
        after_size = read_file(torn, &after);
        CHECK(walk_records(after, after_size, &after_last, &after_end) == 7 && after_end == after_size);
        CHECK(memcmp(after, data, last_start) == 0);
        free(after);
    }
    free(data);
    remove(torn);
    remove(path);
    rmdir(dir);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s COUNTER_MODULE_PATH BAD_ABI_MODULE_PATH\n", argv[0]);
        return EXIT_FAILURE;
    }
    counter_path = argv[1];
    bad_abi_path = argv[2];
    RUN(test_query_evaluate);
    RUN(test_engine_started_register_query_stopped);
    RUN(test_cascading_modules_in_order);
    RUN(test_reentrant_register_and_failing_module);
    RUN(test_import_by_name_and_path);
    RUN(test_configuration_errors);
    if (argc > 4) {
        bad_schema_path = argv[4];
    }
    RUN(test_broken_schemas_are_refused_at_registration_and_import);
    RUN(test_client_names_hook_is_bounded_and_checked);
    RUN(test_null_and_bad_arguments);
    RUN(test_concurrent_registers);
    if (argc > 3) {
        file_backend_path = argv[3];
        RUN(test_file_backend_restart_and_torn_records);
    }
    return check_finish();
}
