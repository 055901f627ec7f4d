/*
 * Backend instances: a registered backend created and driven directly,
 * without an engine, with the caller's own event ids (as hat-event's
 * test_backends tests drive its backends). Argument errors, unknown names,
 * bad configurations, hooks ownership, re-entrancy, close, and a round trip
 * on the memory backend, on lmdb (in a temporary directory, reopened) and
 * on a C plug-in (the example file backend, by path).
 *
 * argv[1]: path of the file backend (examples-c/file_backend.c), or absent.
 */

#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <unistd.h>

#include "check.h"
#include "util.h"

typedef struct {
    size_t registered_calls;
    size_t registered_events;
    size_t flushed_events;
    size_t finalized;
    hat_event_event_id_t last_registered;
    /* set by the registered callback when `reenter` is set */
    const hat_event_backend_instance_t *reenter;
    hat_event_status_t reentrant_status;
} log_t;

static void on_registered(void *user_data, const hat_event_event_t *const *events, size_t count) {
    log_t *log = (log_t *)user_data;
    log->registered_calls++;
    log->registered_events += count;
    if (count > 0) {
        log->last_registered = hat_event_event_get_id(events[count - 1]);
    }
    if (log->reenter != NULL) {
        log->reentrant_status = hat_event_backend_instance_flush(log->reenter);
    }
}

static void on_flushed(void *user_data, const hat_event_event_t *const *events, size_t count) {
    (void)events;
    ((log_t *)user_data)->flushed_events += count;
}

static void on_finalize(void *user_data) {
    ((log_t *)user_data)->finalized++;
}

static hat_event_backend_instance_hooks_t hooks_for(log_t *log) {
    hat_event_backend_instance_hooks_t hooks;
    memset(log, 0, sizeof *log);
    REQUIRE_OK(hat_event_backend_instance_hooks_init(&hooks));
    hooks.user_data = log;
    hooks.registered = on_registered;
    hooks.flushed = on_flushed;
    hooks.finalize_user_data = on_finalize;
    return hooks;
}

static hat_event_event_id_t id3(int64_t server, int64_t session, int64_t instance) {
    hat_event_event_id_t id;
    id.server = server;
    id.session = session;
    id.instance = instance;
    return id;
}

/* An event of type ('a',) with the given id, timestamp s seconds. */
static hat_event_event_t *event_a(hat_event_event_id_t id, int64_t s) {
    hat_event_str_t type[] = {SEG("a")};
    hat_event_event_t *e = NULL;
    REQUIRE_OK(hat_event_event_create(id, type, 1, ts(s, 0), NULL, NULL, &e));
    return e;
}

static hat_event_query_result_t *query(const hat_event_backend_instance_t *instance, hat_event_query_params_t *params) {
    hat_event_query_result_t *result = NULL;
    CHECK_OK(hat_event_backend_instance_query(instance, params, &result));
    hat_event_query_params_destroy(params);
    return result;
}

static hat_event_query_params_t *server_params(int64_t server_id) {
    hat_event_query_params_t *p = NULL;
    REQUIRE_OK(hat_event_query_params_create_server(server_id, &p));
    return p;
}

static hat_event_query_params_t *latest_params(void) {
    hat_event_query_params_t *p = NULL;
    REQUIRE_OK(hat_event_query_params_create_latest(&p));
    return p;
}

static hat_event_query_params_t *timeseries_params(void) {
    hat_event_query_params_t *p = NULL;
    REQUIRE_OK(hat_event_query_params_create_timeseries(&p));
    return p;
}

/* True if the result holds exactly the events with these ids, in order. */
static bool result_ids(hat_event_query_result_t *result, const hat_event_event_id_t *ids, size_t n) {
    size_t i;
    bool ok = result != NULL && hat_event_query_result_len(result) == n && !hat_event_query_result_more_follows(result);
    for (i = 0; ok && i < n; i++) {
        ok = id_eq(hat_event_event_get_id(hat_event_query_result_event(result, i)), ids[i]);
    }
    hat_event_query_result_destroy(result);
    return ok;
}

static void test_errors(void) {
    log_t log;
    hat_event_backend_instance_hooks_t hooks;
    hat_event_backend_instance_t *instance = SENTINEL_PTR;
    hat_event_event_id_t id;
    hat_event_query_result_t *result = SENTINEL_PTR;
    hat_event_event_t *events[2] = {NULL, NULL};

    CHECK_STATUS(hat_event_backend_instance_hooks_init(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_create(STR("memory"), STR("{}"), NULL, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_create(STR("no such backend"), STR("{}"), NULL, &instance),
                 HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "no such backend") != NULL);
    CHECK(instance == SENTINEL_PTR);
    CHECK_STATUS(hat_event_backend_instance_create(STR("memory"), STR("{not json"), NULL, &instance),
                 HAT_EVENT_ERR_INVALID_JSON);
    /* lmdb's schema requires db_path (and the rest of hat's lmdb conf) */
    CHECK_STATUS(hat_event_backend_instance_create(STR("lmdb"), STR("{\"flush_period\": 1}"), NULL, &instance),
                 HAT_EVENT_ERR_SCHEMA);
    CHECK(instance == SENTINEL_PTR);

    /* the hooks' user_data is the instance's from the call on, failures too */
    hooks = hooks_for(&log);
    CHECK_STATUS(hat_event_backend_instance_create(STR("no such backend"), STR("{}"), &hooks, &instance),
                 HAT_EVENT_ERR_IMPORT);
    CHECK(log.finalized == 1);
    /* a struct_size from a newer header is refused, and finalised */
    hooks = hooks_for(&log);
    hooks.struct_size += sizeof(void *);
    {
        /* room for the larger size the caller claims */
        struct {
            hat_event_backend_instance_hooks_t h;
            void *extra;
        } bigger;
        bigger.h = hooks;
        bigger.extra = NULL;
        CHECK_STATUS(hat_event_backend_instance_create(STR("memory"), STR("{}"), &bigger.h, &instance),
                     HAT_EVENT_ERR_INVALID_ARGUMENT);
    }
    CHECK(log.finalized == 1);
    /* a struct_size below any layout is refused, and not finalised */
    hooks = hooks_for(&log);
    hooks.struct_size = sizeof(size_t);
    CHECK_STATUS(hat_event_backend_instance_create(STR("memory"), STR("{}"), &hooks, &instance),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(log.finalized == 0);
    CHECK(instance == SENTINEL_PTR);

    /* NULL handles and out-parameters */
    CHECK_STATUS(hat_event_backend_instance_get_last_event_id(NULL, 1, &id), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_register(NULL, NULL, 0), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_query(NULL, NULL, &result), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_flush(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_close(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    hat_event_backend_instance_destroy(NULL);

    REQUIRE_OK(hat_event_backend_instance_create(STR("memory"), STR("{}"), NULL, &instance));
    CHECK_STATUS(hat_event_backend_instance_get_last_event_id(instance, 1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_backend_instance_query(instance, NULL, &result), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(result == SENTINEL_PTR);
    CHECK_STATUS(hat_event_backend_instance_register(instance, NULL, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    events[0] = event_a(id3(1, 1, 1), 1);
    CHECK_STATUS(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events, 2),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "events[1]") != NULL);
    /* nothing of a refused call is stored */
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, id3(1, 0, 0)));
    hat_event_event_destroy(events[0]);
    hat_event_backend_instance_destroy(instance);
}

static void test_memory_round_trip(void) {
    log_t log;
    hat_event_backend_instance_hooks_t hooks = hooks_for(&log);
    hat_event_backend_instance_t *instance = NULL;
    hat_event_event_id_t id;
    hat_event_event_t *events[2];
    hat_event_query_result_t *result = SENTINEL_PTR;
    hat_event_event_id_t both[2];

    REQUIRE_OK(hat_event_backend_instance_create(STR("hat.event.backends.memory"), STR("{}"), &hooks, &instance));
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, id3(1, 0, 0)));

    /* the caller's ids, stored as given */
    both[0] = id3(1, 123, 321);
    both[1] = id3(1, 123, 322);
    events[0] = event_a(both[0], 10);
    events[1] = event_a(both[1], 11);
    CHECK_OK(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events, 2));
    CHECK(log.registered_calls == 1 && log.registered_events == 2);
    CHECK(id_eq(log.last_registered, both[1]));
    /* the backend holds its own counts: the caller's may go */
    hat_event_event_destroy(events[0]);
    hat_event_event_destroy(events[1]);

    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, both[1]));
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 2, &id));
    CHECK(id_eq(id, id3(2, 0, 0)));
    CHECK(result_ids(query(instance, server_params(1)), both, 2));
    CHECK(result_ids(query(instance, server_params(2)), both, 0));
    CHECK_OK(hat_event_backend_instance_flush(instance));

    /* a callback calling its instance on the same thread */
    log.reenter = instance;
    events[0] = event_a(id3(1, 124, 1), 12);
    CHECK_OK(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events, 1));
    CHECK(log.reentrant_status == HAT_EVENT_ERR_REENTRANT);
    log.reenter = NULL;

    /* close: flushed and finalised; everything after fails, close again is fine */
    CHECK_OK(hat_event_backend_instance_close(instance));
    CHECK_OK(hat_event_backend_instance_close(instance));
    CHECK(log.finalized == 0);
    CHECK_STATUS(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events, 1),
                 HAT_EVENT_ERR_CLOSED);
    CHECK_STATUS(hat_event_backend_instance_get_last_event_id(instance, 1, &id), HAT_EVENT_ERR_CLOSED);
    {
        hat_event_query_params_t *params = server_params(1);
        CHECK_STATUS(hat_event_backend_instance_query(instance, params, &result), HAT_EVENT_ERR_CLOSED);
        CHECK(result == SENTINEL_PTR);
        hat_event_query_params_destroy(params);
    }
    CHECK_STATUS(hat_event_backend_instance_flush(instance), HAT_EVENT_ERR_CLOSED);
    hat_event_event_destroy(events[0]);
    hat_event_backend_instance_destroy(instance);
    CHECK(log.finalized == 1);
}

static void lmdb_conf(char *conf, size_t size, const char *dir) {
    snprintf(conf, size,
             "{\"db_path\": \"%s/db\", \"identifier\": null, \"flush_period\": 60, \"cleanup_period\": 60, "
             "\"conditions\": [], \"latest\": {\"subscriptions\": [[\"*\"]]}, "
             "\"timeseries\": [{\"order_by\": \"TIMESTAMP\", \"subscriptions\": [[\"*\"]]}]}",
             dir);
}

static void test_lmdb_round_trip(void) {
    char dir[] = "/tmp/hat_event_test_XXXXXX";
    char conf[1024], db[512], lock[512];
    log_t log;
    hat_event_backend_instance_hooks_t hooks = hooks_for(&log);
    hat_event_backend_instance_t *instance = NULL;
    hat_event_event_id_t id, ids[3];
    hat_event_event_t *events[3];
    size_t i;

    REQUIRE_OK(mkdtemp(dir) != NULL ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    lmdb_conf(conf, sizeof conf, dir);

    REQUIRE_OK(hat_event_backend_instance_create(STR("lmdb"), hat_event_str_from_cstr(conf), &hooks, &instance));
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, id3(1, 0, 0)));
    ids[0] = id3(1, 123, 321);
    ids[1] = id3(1, 123, 322);
    ids[2] = id3(1, 124, 1);
    for (i = 0; i < 3; i++) {
        events[i] = event_a(ids[i], 100 + (int64_t)i);
    }
    CHECK_OK(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events, 2));
    CHECK_OK(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events + 2, 1));
    CHECK(log.registered_events == 3 && log.flushed_events == 0);
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, ids[2]));
    /* latest keeps the last event of type ('a',); timeseries is newest first */
    CHECK(result_ids(query(instance, latest_params()), ids + 2, 1));
    {
        hat_event_event_id_t newest_first[3];
        newest_first[0] = ids[2];
        newest_first[1] = ids[1];
        newest_first[2] = ids[0];
        CHECK(result_ids(query(instance, timeseries_params()), newest_first, 3));
    }
    CHECK(result_ids(query(instance, server_params(1)), ids, 3));
    CHECK_OK(hat_event_backend_instance_flush(instance));
    CHECK(log.flushed_events == 3);
    /* the same answers from the flushed database */
    CHECK(result_ids(query(instance, server_params(1)), ids, 3));
    CHECK_OK(hat_event_backend_instance_close(instance));
    hat_event_backend_instance_destroy(instance);
    CHECK(log.finalized == 1);

    /* reopened: everything is there */
    REQUIRE_OK(hat_event_backend_instance_create(STR("hat.event.backends.lmdb"), hat_event_str_from_cstr(conf), NULL,
                                                 &instance));
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, ids[2]));
    CHECK(result_ids(query(instance, server_params(1)), ids, 3));
    CHECK(result_ids(query(instance, latest_params()), ids + 2, 1));
    /* destroy without close flushes too */
    {
        hat_event_event_t *later = event_a(id3(1, 125, 1), 200);
        CHECK_OK(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)&later, 1));
        hat_event_event_destroy(later);
    }
    hat_event_backend_instance_destroy(instance);
    REQUIRE_OK(hat_event_backend_instance_create(STR("lmdb"), hat_event_str_from_cstr(conf), NULL, &instance));
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 1, &id));
    CHECK(id_eq(id, id3(1, 125, 1)));
    hat_event_backend_instance_destroy(instance);

    for (i = 0; i < 3; i++) {
        hat_event_event_destroy(events[i]);
    }
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(lock, sizeof lock, "%s/db-lock", dir);
    remove(db);
    remove(lock);
    rmdir(dir);
}

static void test_c_plugin_round_trip(const char *file_backend_path) {
    char dir[] = "/tmp/hat_event_test_XXXXXX";
    char conf[1024], path[512];
    log_t log;
    hat_event_backend_instance_hooks_t hooks = hooks_for(&log);
    hat_event_backend_instance_t *instance = SENTINEL_PTR;
    hat_event_event_id_t id, ids[2];
    hat_event_event_t *events[2];
    hat_event_str_t name = hat_event_str_from_cstr(file_backend_path);

    REQUIRE_OK(mkdtemp(dir) != NULL ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    snprintf(path, sizeof path, "%s/events.log", dir);
    snprintf(conf, sizeof conf, "{\"path\": \"%s\"}", path);

    /* the plug-in's schema: a path is required */
    CHECK_STATUS(hat_event_backend_instance_create(name, STR("{}"), NULL, &instance), HAT_EVENT_ERR_SCHEMA);
    CHECK(instance == SENTINEL_PTR);

    REQUIRE_OK(hat_event_backend_instance_create(name, hat_event_str_from_cstr(conf), &hooks, &instance));
    ids[0] = id3(7, 40, 1);
    ids[1] = id3(7, 40, 2);
    events[0] = event_a(ids[0], 1);
    events[1] = event_a(ids[1], 2);
    CHECK_OK(hat_event_backend_instance_register(instance, (const hat_event_event_t *const *)events, 2));
    CHECK(log.registered_events == 2 && log.flushed_events == 0);
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 7, &id));
    CHECK(id_eq(id, ids[1]));
    CHECK(result_ids(query(instance, server_params(7)), ids, 2));
    CHECK_OK(hat_event_backend_instance_flush(instance));
    CHECK(log.flushed_events == 2);
    hat_event_backend_instance_destroy(instance);
    CHECK(log.finalized == 1);

    /* reopened from its file */
    REQUIRE_OK(hat_event_backend_instance_create(name, hat_event_str_from_cstr(conf), NULL, &instance));
    CHECK_OK(hat_event_backend_instance_get_last_event_id(instance, 7, &id));
    CHECK(id_eq(id, ids[1]));
    CHECK(result_ids(query(instance, server_params(7)), ids, 2));
    hat_event_backend_instance_destroy(instance);

    hat_event_event_destroy(events[0]);
    hat_event_event_destroy(events[1]);
    remove(path);
    rmdir(dir);
}

int main(int argc, char **argv) {
    RUN(test_errors);
    RUN(test_memory_round_trip);
    RUN(test_lmdb_round_trip);
    if (argc > 1) {
        check_current = "test_c_plugin_round_trip";
        test_c_plugin_round_trip(argv[1]);
        check_current = "main";
    }
    return check_finish();
}
