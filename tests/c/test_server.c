/*
 * The eventer server from C (hat_event_server_*): created from hat's
 * server configuration, the engine started and stopped through the status,
 * our eventer client against it (init, register, connection infos), a
 * garbage connection closed with a log line, every error path.
 */

#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int warnings = 0;
static char last_warning[256];

static void on_log(void *user_data, hat_event_server_log_level_t level, hat_event_str_t line) {
    int *lines = user_data;
    pthread_mutex_lock(&log_lock);
    (*lines)++;
    if (level == HAT_EVENT_SERVER_LOG_WARNING) {
        size_t n = line.len < sizeof last_warning - 1 ? line.len : sizeof last_warning - 1;
        warnings++;
        memcpy(last_warning, line.ptr, n);
        last_warning[n] = '\0';
    }
    pthread_mutex_unlock(&log_lock);
}

static const char conf_json[] = "{\"name\": \"s\", \"server_id\": 7, \"backend\": {\"module\": \"memory\"}, "
                                "\"modules\": [], \"eventer_server\": {\"host\": \"127.0.0.1\", \"port\": 0}}";

static hat_event_client_t *connect_client_spinning(uint16_t port, const char *name, double response_spin) {
    hat_event_client_options_t options;
    hat_event_client_t *client = NULL;
    REQUIRE_OK(hat_event_client_options_init(&options));
    options.host = STR("127.0.0.1");
    options.port = port;
    options.client_name.ptr = name;
    options.client_name.len = strlen(name);
    options.response_spin = response_spin;
    REQUIRE_OK(hat_event_client_connect(&options, &client));
    return client;
}

static hat_event_client_t *connect_client(uint16_t port, const char *name) {
    return connect_client_spinning(port, name, 60e-6);
}

static int send_garbage(uint16_t port) {
    struct sockaddr_in addr;
    char buf[16];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        return -1;
    }
    /* a length of length 0 is no frame: the server closes */
    if (write(fd, "\0\1\2", 3) != 3) {
        close(fd);
        return -1;
    }
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
    return 0;
}

static void serve_and_register(void) {
    int lines = 0;
    hat_event_server_t *server = NULL;
    hat_event_server_connection_infos_t *infos = NULL;
    hat_event_server_connection_info_t info;
    hat_event_client_t *client;
    hat_event_register_event_t *event = NULL;
    hat_event_msg_t *response = NULL;
    hat_event_str_t seg = STR("a");
    uint16_t port;

    REQUIRE_OK(hat_event_server_create((hat_event_str_t)SEG(conf_json), on_log, &lines, &server));
    port = hat_event_server_port(server);
    CHECK(port != 0);
    CHECK(hat_event_server_status(server) == HAT_EVENT_SERVER_STATUS_STANDBY);
    CHECK_OK(hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_OPERATIONAL));
    CHECK(hat_event_server_status(server) == HAT_EVENT_SERVER_STATUS_OPERATIONAL);
    /* setting the current status does nothing */
    CHECK_OK(hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_OPERATIONAL));

    client = connect_client(port, "c-test");
    CHECK(hat_event_client_server_status(client) == HAT_EVENT_SERVER_STATUS_OPERATIONAL);
    REQUIRE_OK(hat_event_register_event_create(&seg, 1, NULL, NULL, &event));
    CHECK_OK(hat_event_client_register_wait(client, (const hat_event_register_event_t *const *)&event, 1, 5, &response));
    CHECK(response != NULL && !hat_event_msg_register_res_failed(response) &&
          hat_event_msg_events_len(response) == 1);
    hat_event_msg_destroy(response);
    response = NULL;

    CHECK_OK(hat_event_server_connection_infos(server, &infos));
    CHECK(hat_event_server_connection_infos_len(infos) == 1);
    FILL_SENTINEL(info);
    CHECK_OK(hat_event_server_connection_infos_get(infos, 0, &info));
    CHECK(info.id == 1);
    CHECK(view_eq(info.client_name, "c-test", 6));
    CHECK(info.client_token.ptr == NULL && !info.has_server_id && !info.persisted && info.subscription_len == 0);
    CHECK_STATUS(hat_event_server_connection_infos_get(infos, 1, &info), HAT_EVENT_ERR_OUT_OF_RANGE);
    CHECK_STATUS(hat_event_server_connection_infos_get(infos, 0, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_server_connection_infos_get(NULL, 0, &info), HAT_EVENT_ERR_NULL_ARGUMENT);
    hat_event_server_connection_infos_destroy(infos);
    CHECK_STATUS(hat_event_server_connection_infos(server, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_server_connection_infos(NULL, &infos), HAT_EVENT_ERR_NULL_ARGUMENT);

    /* a client that never spins waits (asleep) for the same answers */
    {
        hat_event_client_t *sleeper = connect_client_spinning(port, "c-sleeper", 0);
        for (int i = 0; i < 3; i++) {
            CHECK_OK(hat_event_client_register_wait(sleeper, (const hat_event_register_event_t *const *)&event, 1, 5,
                                                    &response));
            CHECK(response != NULL && !hat_event_msg_register_res_failed(response) &&
                  hat_event_msg_events_len(response) == 1);
            hat_event_msg_destroy(response);
            response = NULL;
        }
        hat_event_client_destroy(sleeper);
    }

    /* garbage: that connection is closed, with a warning; the client goes on */
    CHECK(send_garbage(port) == 0);
    pthread_mutex_lock(&log_lock);
    CHECK(warnings == 1 && strstr(last_warning, "malformed frame") != NULL);
    pthread_mutex_unlock(&log_lock);
    CHECK(hat_event_client_is_open(client));

    /* STANDBY stops the engine: registers fail, the client stays */
    CHECK_OK(hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_STANDBY));
    CHECK(hat_event_server_status(server) == HAT_EVENT_SERVER_STATUS_STANDBY);
    CHECK_OK(hat_event_client_register_wait(client, (const hat_event_register_event_t *const *)&event, 1, 5, &response));
    CHECK(response != NULL && hat_event_msg_register_res_failed(response));
    hat_event_msg_destroy(response);

    CHECK_STATUS(hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_STARTING), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_server_set_status(server, 99), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_server_set_status(NULL, HAT_EVENT_SERVER_STATUS_OPERATIONAL), HAT_EVENT_ERR_NULL_ARGUMENT);

    CHECK_OK(hat_event_server_close(server));
    CHECK_OK(hat_event_server_close(server));
    CHECK(hat_event_client_wait_closed(client, 5) == HAT_EVENT_OK);
    CHECK_STATUS(hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_OPERATIONAL), HAT_EVENT_ERR_CLOSED);
    CHECK_STATUS(hat_event_server_close(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    hat_event_client_destroy(client);
    hat_event_register_event_destroy(event);
    hat_event_server_destroy(server);
    hat_event_server_destroy(NULL);
    CHECK(lines >= 1);
}

static void create_errors(void) {
    hat_event_server_t *server = NULL;
    hat_event_server_t *second = NULL;
    char conf[512];
    uint16_t port;
    CHECK_STATUS(hat_event_server_create((hat_event_str_t)SEG(conf_json), NULL, NULL, NULL),
                 HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_server_create(STR("\xff"), NULL, NULL, &server), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK_STATUS(hat_event_server_create(STR("{}"), NULL, NULL, &server), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "hat-event://server.yaml") != NULL);
    CHECK_STATUS(hat_event_server_create(STR("a: [b"), NULL, NULL, &server), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(server == NULL);

    /* YAML, an unknown backend: created, but the engine does not start */
    REQUIRE_OK(hat_event_server_create(STR("name: s\nserver_id: 1\nbackend: {module: nope}\nmodules: []\n"
                                           "eventer_server: {host: 127.0.0.1, port: 0}\n"),
                                       NULL, NULL, &server));
    CHECK_STATUS(hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_OPERATIONAL), HAT_EVENT_ERR_IMPORT);
    CHECK(hat_event_server_status(server) == HAT_EVENT_SERVER_STATUS_STANDBY);

    /* the same port twice */
    port = hat_event_server_port(server);
    snprintf(conf, sizeof conf,
             "{\"name\": \"s\", \"server_id\": 1, \"backend\": {\"module\": \"memory\"}, \"modules\": [], "
             "\"eventer_server\": {\"host\": \"127.0.0.1\", \"port\": %u}}",
             (unsigned)port);
    CHECK_STATUS(hat_event_server_create((hat_event_str_t){conf, strlen(conf)}, NULL, NULL, &second),
                 HAT_EVENT_ERR_IO);
    CHECK(second == NULL);
    hat_event_server_destroy(server);
    CHECK(hat_event_server_port(NULL) == 0);
    CHECK(hat_event_server_status(NULL) == HAT_EVENT_SERVER_STATUS_STANDBY);
    CHECK(hat_event_server_connection_infos_len(NULL) == 0);
}

int main(void) {
    RUN(serve_and_register);
    RUN(create_errors);
    return check_finish();
}
