/*
 * The plug-in ABI's contracts: structs that grow by struct_size (an "old"
 * plug-in built against 0.1's frozen structs loads and runs next to
 * current ones; 0.1-sized hooks are read to their size and no further;
 * sizes below the first layout or above the current one are refused), and
 * user_data finalizers run exactly once on every path, failures included
 * (the counts are checked; run under ASan too).
 *
 * argv[1]: the old plug-in (plugin_old_abi.c), a backend and a module;
 * argv[2]: the counter module (examples-c/counter_module.c), a current one;
 * argv[3]: the module whose schema cannot validate (plugin_bad_schema.c).
 */

#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>

#include "check.h"
#include "util.h"

static const char *old_path = NULL;
static const char *counter_path = NULL;
static const char *bad_schema_path = NULL;

static const hat_event_source_t eventer = {HAT_EVENT_SOURCE_TYPE_EVENTER, 1};

/* A counter a plug-in library exports (the library is loaded already). */
static long *plugin_counter(const char *path, const char *name) {
    void *lib = dlopen(path, RTLD_NOW);
    long *counter = lib != NULL ? dlsym(lib, name) : NULL;
    if (counter == NULL) {
        fprintf(stderr, "no %s in %s\n", name, path);
        exit(EXIT_FAILURE);
    }
    return counter;
}

/* What a finalizer counts. */
typedef struct {
    long calls;
    long registered;
} finalized_t;

static void count_finalize(void *user_data) {
    ((finalized_t *)user_data)->calls++;
}

static void count_registered(void *user_data, const hat_event_event_t *const *events, size_t count) {
    (void)events;
    ((finalized_t *)user_data)->registered += (long)count;
}

static void register_one(hat_event_engine_t *engine, const char *a, const char *b) {
    hat_event_str_t type[2];
    hat_event_register_event_t *event = NULL;
    hat_event_event_list_t *out = NULL;
    const hat_event_register_event_t *events[1];
    type[0] = hat_event_str_from_cstr(a);
    type[1] = hat_event_str_from_cstr(b);
    REQUIRE_OK(hat_event_register_event_create(type, 2, NULL, NULL, &event));
    events[0] = event;
    CHECK_OK(hat_event_engine_register(engine, eventer, events, 1, &out));
    hat_event_event_list_destroy(out);
    hat_event_register_event_destroy(event);
}

/* ---- an old plug-in next to current ones -------------------------------- */

static void test_old_plugin_loads_and_runs_next_to_a_current_one(void) {
    long *registered = plugin_counter(old_path, "old_backend_registered");
    long *processed = plugin_counter(old_path, "old_module_processed");
    long *instances_finalized = plugin_counter(old_path, "old_instances_finalized");
    hat_event_module_info_t module;
    hat_event_backend_info_t backend;
    hat_event_engine_hooks_t hooks;
    finalized_t seen = {0, 0};
    hat_event_engine_t *engine = NULL;
    hat_event_query_params_t *params = NULL;
    hat_event_query_result_t *result = NULL;
    char conf[2048];

    /* imported as the current layout, without a finalizer */
    CHECK_OK(hat_event_import_module_info(hat_event_str_from_cstr(old_path), &module));
    CHECK(module.abi_version == HAT_EVENT_PLUGIN_ABI_VERSION && module.struct_size == sizeof module);
    CHECK(module.create != NULL && module.finalize_user_data == NULL && module.json_schema_id.len == 0);
    CHECK_OK(hat_event_import_backend_info(hat_event_str_from_cstr(old_path), &backend));
    CHECK(backend.abi_version == HAT_EVENT_PLUGIN_ABI_VERSION && backend.struct_size == sizeof backend);

    /* the old backend, the old module and the current counter module in one engine */
    snprintf(conf, sizeof conf,
             "{\"server_id\": 1, \"backend\": {\"module\": \"%s\"},"
             " \"modules\": [{\"module\": \"%s\"}, {\"module\": \"%s\"}]}",
             old_path, old_path, counter_path);
    REQUIRE_OK(hat_event_engine_hooks_init(&hooks));
    hooks.user_data = &seen;
    hooks.registered = count_registered;
    hooks.finalize_user_data = count_finalize;
    REQUIRE_OK(hat_event_engine_create(hat_event_str_from_cstr(conf), &hooks, &engine));
    CHECK(*registered == 1); /* STARTED */
    register_one(engine, "old", "x");       /* + the old module's ('old', 'seen') */
    register_one(engine, "sensor", "a");    /* + the counter module's ('counter', 'sensor') */
    CHECK(*registered == 5);
    CHECK(*processed == 2); /* ('old', 'x') and its own ('old', 'seen') */
    CHECK(seen.registered == 5);
    REQUIRE_OK(hat_event_query_params_create_latest(&params));
    CHECK_OK(hat_event_engine_query(engine, params, &result));
    CHECK(hat_event_query_result_len(result) == 0);
    hat_event_query_result_destroy(result);
    hat_event_query_params_destroy(params);
    CHECK(seen.calls == 0 && *instances_finalized == 0);
    hat_event_engine_destroy(engine);
    CHECK(*registered == 6); /* STOPPED */
    CHECK(*instances_finalized == 2);
    CHECK(seen.calls == 1);
}

/* ---- struct_size -------------------------------------------------------- */

/* hat_event_engine_hooks_t as 0.1 declared it, frozen. */
typedef struct {
    size_t struct_size;
    void *user_data;
    void (*registered)(void *user_data, const hat_event_event_t *const *events, size_t count);
    void (*flushed)(void *user_data, const hat_event_event_t *const *events, size_t count);
    void (*restart)(void *user_data);
    void (*reset_monitor_ready)(void *user_data);
    size_t (*client_names)(void *user_data, hat_event_engine_client_name_t *out, size_t capacity);
} hooks_0_1_t;

static const char memory_conf[] = "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}}";

static void test_hooks_of_the_0_1_layout_are_read_to_their_size(void) {
    /* on the heap, exactly 0.1's size: ASan catches a read past it */
    hooks_0_1_t *old = calloc(1, sizeof *old);
    struct {
        hat_event_engine_hooks_t hooks;
        char newer[16];
    } big;
    finalized_t seen = {0, 0};
    hat_event_engine_t *engine = SENTINEL_PTR;

    REQUIRE_OK(old != NULL ? HAT_EVENT_OK : HAT_EVENT_ERR_INTERNAL);
    CHECK(sizeof *old < sizeof(hat_event_engine_hooks_t));
    old->struct_size = sizeof *old;
    old->user_data = &seen;
    old->registered = count_registered;
    REQUIRE_OK(hat_event_engine_create(STR(memory_conf), (const hat_event_engine_hooks_t *)(void *)old, &engine));
    register_one(engine, "a", "b");
    hat_event_engine_destroy(engine);
    CHECK(seen.registered == 3); /* STARTED, a/b, STOPPED */
    CHECK(seen.calls == 0);      /* 0.1's hooks have no finalizer */

    /* below 0.1's layout: refused, nothing read after struct_size */
    engine = SENTINEL_PTR;
    old->struct_size = sizeof *old - 1;
    CHECK_STATUS(hat_event_engine_create(STR(memory_conf), (const hat_event_engine_hooks_t *)(void *)old, &engine),
                 HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "hooks->struct_size is") != NULL);
    CHECK(engine == SENTINEL_PTR);
    free(old);

    /* a newer, larger layout: refused, and its user_data finalised */
    memset(&big, 0, sizeof big);
    REQUIRE_OK(hat_event_engine_hooks_init(&big.hooks));
    big.hooks.struct_size = sizeof big;
    big.hooks.user_data = &seen;
    big.hooks.finalize_user_data = count_finalize;
    CHECK_STATUS(hat_event_engine_create(STR(memory_conf), &big.hooks, &engine), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "newer header") != NULL);
    CHECK(seen.calls == 1 && engine == SENTINEL_PTR);

    CHECK_STATUS(hat_event_engine_hooks_init(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
}

static long instance_finalized = 0;

static void count_instance_finalize(void *instance) {
    (void)instance;
    instance_finalized++;
}

static hat_event_status_t pass_process(void *instance, hat_event_source_t source, const hat_event_event_t *event,
                                       hat_event_register_event_list_t *out) {
    (void)instance;
    (void)source;
    (void)event;
    (void)out;
    return HAT_EVENT_OK;
}

/* A module whose create fills struct_size with *(size_t *)user_data
 * (0: sizeof). */
static hat_event_status_t sized_create(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                       hat_event_source_t source, hat_event_module_t *out) {
    static const hat_event_str_t never[] = {SEG("never")};
    hat_event_event_type_view_t view = {never, 1};
    size_t size = user_data != NULL ? *(const size_t *)user_data : 0;
    (void)conf;
    (void)engine;
    (void)source;
    if (hat_event_subscription_create(&view, 1, &out->subscription) != HAT_EVENT_OK) {
        return HAT_EVENT_ERR_INTERNAL;
    }
    out->struct_size = size != 0 ? size : sizeof *out;
    out->process = pass_process;
    out->finalize = count_instance_finalize;
    return HAT_EVENT_OK;
}

static hat_event_status_t refuse_create(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                        hat_event_source_t source, hat_event_module_t *out) {
    (void)user_data;
    (void)conf;
    (void)engine;
    (void)source;
    (void)out;
    hat_event_plugin_set_error(STR("refused"));
    return HAT_EVENT_ERR_PLUGIN;
}

static const char sized_conf[] =
    "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": [{\"module\": \"test.sized\"}]}";

/* A vtable a create fills with a size this library does not read fails
 * the create, and the instance it made is finalised. */
static void test_vtable_sizes_outside_the_layouts_fail_the_create(void) {
    static size_t newer = sizeof(hat_event_module_t) + 8;
    static size_t older = sizeof(size_t);
    hat_event_module_info_t info;
    hat_event_engine_t *engine = SENTINEL_PTR;

    memset(&info, 0, sizeof info);
    info.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    info.struct_size = sizeof info;
    info.create = sized_create;
    info.user_data = &newer;
    REQUIRE_OK(hat_event_module_register(STR("test.sized"), &info));
    instance_finalized = 0;
    CHECK_STATUS(hat_event_engine_create(STR(sized_conf), NULL, &engine), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "newer header") != NULL);
    CHECK(instance_finalized == 1 && engine == SENTINEL_PTR);
    info.user_data = &older;
    REQUIRE_OK(hat_event_module_register(STR("test.sized"), &info));
    CHECK_STATUS(hat_event_engine_create(STR(sized_conf), NULL, &engine), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "smallest hat_event_module_t") != NULL);
    CHECK(instance_finalized == 2 && engine == SENTINEL_PTR);
    info.user_data = NULL;
    REQUIRE_OK(hat_event_module_register(STR("test.sized"), &info));
    engine = NULL;
    REQUIRE_OK(hat_event_engine_create(STR(sized_conf), NULL, &engine));
    hat_event_engine_destroy(engine);
    CHECK(instance_finalized == 3);
}

/* ---- finalizers ----------------------------------------------------------- */

static void test_hooks_user_data_is_finalised_once_on_every_path(void) {
    static const char *bad_confs[] = {
        "{not json",
        "{\"server_id\": 1}",
        "{\"server_id\": 1, \"backend\": {\"module\": \"no.such.backend\"}}",
        "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": [{\"module\": \"test.refuse\"}]}",
    };
    static const hat_event_status_t bad_statuses[] = {HAT_EVENT_ERR_INVALID_JSON, HAT_EVENT_ERR_INVALID_ARGUMENT,
                                                      HAT_EVENT_ERR_IMPORT, HAT_EVENT_ERR_PLUGIN};
    hat_event_module_info_t refuse;
    hat_event_engine_hooks_t hooks;
    hat_event_engine_t *engine = NULL;
    finalized_t seen;
    size_t i;

    memset(&refuse, 0, sizeof refuse);
    refuse.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    refuse.struct_size = sizeof refuse;
    refuse.create = refuse_create;
    REQUIRE_OK(hat_event_module_register(STR("test.refuse"), &refuse));

    /* success: after the engine is destroyed, not before */
    memset(&seen, 0, sizeof seen);
    REQUIRE_OK(hat_event_engine_hooks_init(&hooks));
    hooks.user_data = &seen;
    hooks.finalize_user_data = count_finalize;
    REQUIRE_OK(hat_event_engine_create(STR(memory_conf), &hooks, &engine));
    register_one(engine, "a", "b");
    CHECK_OK(hat_event_engine_close(engine));
    CHECK(seen.calls == 0);
    hat_event_engine_destroy(engine);
    CHECK(seen.calls == 1);

    /* every failure: before the call returns */
    for (i = 0; i < COUNT(bad_confs); i++) {
        engine = SENTINEL_PTR;
        memset(&seen, 0, sizeof seen);
        CHECK_STATUS(hat_event_engine_create(hat_event_str_from_cstr(bad_confs[i]), &hooks, &engine),
                     bad_statuses[i]);
        CHECK(seen.calls == 1 && engine == SENTINEL_PTR);
    }
    memset(&seen, 0, sizeof seen);
    CHECK_STATUS(hat_event_engine_create(STR(memory_conf), &hooks, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(seen.calls == 1);
    memset(&seen, 0, sizeof seen);
    CHECK_STATUS(hat_event_engine_create((hat_event_str_t){NULL, 3}, &hooks, &engine), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(seen.calls == 1);

    /* not read, so not finalised: a size below the first layout */
    memset(&seen, 0, sizeof seen);
    hooks.struct_size = 8;
    CHECK_STATUS(hat_event_engine_create(STR(memory_conf), &hooks, &engine), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(seen.calls == 0);
}

static hat_event_status_t pass_create(void *user_data, hat_event_str_t conf, hat_event_engine_t *engine,
                                      hat_event_source_t source, hat_event_module_t *out) {
    (void)user_data;
    return sized_create(NULL, conf, engine, source, out);
}

static hat_event_status_t never_backend_create(void *user_data, hat_event_str_t conf, hat_event_backend_host_t *host,
                                               hat_event_backend_t *out) {
    (void)user_data;
    (void)conf;
    (void)host;
    (void)out;
    return HAT_EVENT_ERR_PLUGIN;
}

static hat_event_module_info_t counted_module(finalized_t *seen) {
    hat_event_module_info_t info;
    memset(&info, 0, sizeof info);
    info.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    info.struct_size = sizeof info;
    info.user_data = seen;
    info.create = pass_create;
    info.finalize_user_data = count_finalize;
    return info;
}

static void test_info_user_data_is_finalised_once_on_every_path(void) {
    static finalized_t first, second, third, failing[8], unread[2];
    static const char conf[] =
        "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": [{\"module\": \"test.counted\"}]}";
    hat_event_module_info_t info = counted_module(&first), copy;
    hat_event_backend_info_t backend;
    struct {
        hat_event_module_info_t info;
        char newer[16];
    } big;
    hat_event_engine_t *engine = NULL;
    size_t i;

    /* a registration holds it; an engine's instance too, past a replacement */
    REQUIRE_OK(hat_event_module_register(STR("test.counted"), &info));
    CHECK_OK(hat_event_import_module_info(STR("test.counted"), &copy));
    CHECK(copy.user_data == &first && copy.finalize_user_data == NULL);
    REQUIRE_OK(hat_event_engine_create(STR(conf), NULL, &engine));
    info = counted_module(&second);
    REQUIRE_OK(hat_event_module_register(STR("test.counted"), &info));
    CHECK(first.calls == 0);
    hat_event_engine_destroy(engine);
    CHECK(first.calls == 1 && second.calls == 0);
    info = counted_module(&third);
    REQUIRE_OK(hat_event_module_register(STR("test.counted"), &info));
    CHECK(second.calls == 1 && third.calls == 0);

    /* a backend's, replaced with no engine */
    memset(&backend, 0, sizeof backend);
    backend.abi_version = HAT_EVENT_PLUGIN_ABI_VERSION;
    backend.struct_size = sizeof backend;
    backend.create = never_backend_create;
    backend.user_data = &failing[7];
    backend.finalize_user_data = count_finalize;
    REQUIRE_OK(hat_event_backend_register(STR("test.counted_backend"), &backend));
    backend.user_data = &failing[6];
    REQUIRE_OK(hat_event_backend_register(STR("test.counted_backend"), &backend));
    CHECK(failing[7].calls == 1 && failing[6].calls == 0);

    /* every failed registration: before the call returns */
    info = counted_module(&failing[0]);
    CHECK_STATUS(hat_event_module_register(STR("a/b"), &info), HAT_EVENT_ERR_INVALID_ARGUMENT);
    info = counted_module(&failing[1]);
    CHECK_STATUS(hat_event_module_register((hat_event_str_t){NULL, 2}, &info), HAT_EVENT_ERR_NULL_ARGUMENT);
    info = counted_module(&failing[2]);
    info.json_schema_id = STR("x");
    info.json_schema_repo = STR("{not json");
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), &info), HAT_EVENT_ERR_INVALID_JSON);
    info = counted_module(&failing[3]);
    info.json_schema_id = STR("x");
    info.json_schema_repo = STR("{}");
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), &info), HAT_EVENT_ERR_SCHEMA);
    info = counted_module(&failing[4]);
    info.create = NULL;
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), &info), HAT_EVENT_ERR_NULL_ARGUMENT);
    memset(&big, 0, sizeof big);
    big.info = counted_module(&failing[5]);
    big.info.struct_size = sizeof big;
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), &big.info), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "newer header") != NULL);
    for (i = 0; i < 6; i++) {
        CHECK(failing[i].calls == 1);
    }

    /* not read, so not finalised: an unknown abi_version, a size below the first layout */
    info = counted_module(&unread[0]);
    info.abi_version = 999;
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), &info), HAT_EVENT_ERR_IMPORT);
    info = counted_module(&unread[1]);
    info.struct_size = 16;
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), &info), HAT_EVENT_ERR_IMPORT);
    CHECK(strstr(hat_event_last_error_message(), "smallest hat_event_module_info_t") != NULL);
    CHECK(unread[0].calls == 0 && unread[1].calls == 0);
    CHECK_STATUS(hat_event_module_register(STR("test.failing"), NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_import_module_info(STR("test.failing"), &copy), HAT_EVENT_ERR_IMPORT);
}

/* A library's export is called on its first import only: a failed import
 * finalises its user_data once, however often the library is imported. */
static void test_a_failed_library_import_finalises_once(void) {
    hat_event_module_info_t info;
    hat_event_engine_t *engine = SENTINEL_PTR;
    char conf[1024];
    long *finalized;
    CHECK_STATUS(hat_event_import_module_info(hat_event_str_from_cstr(bad_schema_path), &info), HAT_EVENT_ERR_SCHEMA);
    finalized = plugin_counter(bad_schema_path, "bad_schema_finalized");
    CHECK(*finalized == 1);
    CHECK_STATUS(hat_event_import_module_info(hat_event_str_from_cstr(bad_schema_path), &info), HAT_EVENT_ERR_SCHEMA);
    snprintf(conf, sizeof conf,
             "{\"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": [{\"module\": \"%s\"}]}",
             bad_schema_path);
    CHECK_STATUS(hat_event_engine_create(hat_event_str_from_cstr(conf), NULL, &engine), HAT_EVENT_ERR_IMPORT);
    CHECK(*finalized == 1 && engine == SENTINEL_PTR);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s OLD_PLUGIN_PATH COUNTER_MODULE_PATH BAD_SCHEMA_MODULE_PATH\n", argv[0]);
        return EXIT_FAILURE;
    }
    old_path = argv[1];
    counter_path = argv[2];
    bad_schema_path = argv[3];
    RUN(test_old_plugin_loads_and_runs_next_to_a_current_one);
    RUN(test_hooks_of_the_0_1_layout_are_read_to_their_size);
    RUN(test_vtable_sizes_outside_the_layouts_fail_the_create);
    RUN(test_hooks_user_data_is_finalised_once_on_every_path);
    RUN(test_info_user_data_is_finalised_once_on_every_path);
    RUN(test_a_failed_library_import_finalises_once);
    return check_finish();
}
