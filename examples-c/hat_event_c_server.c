/*
 * hat-event-c-server: a Hat event server, run as
 *
 *   hat-event-c-server --conf FILE [--debug]
 *
 * FILE is hat-event's server configuration (hat-event://server.yaml, YAML
 * or JSON): it listens on eventer_server.host/port, checks server_token,
 * runs the engine with `backend` and `modules` (each `module` a name
 * registered in the library, e.g. "memory", or the path of a plug-in
 * library). Logs go to stderr. SIGINT or SIGTERM stops it gracefully:
 * STOPPING, the engine's STOPPED event, the backend flushed, STANDBY, then
 * the connections closed.
 *
 * It is also the example of embedding a server through the C API: create,
 * set the status to OPERATIONAL, wait, close.
 */

#define _POSIX_C_SOURCE 200809L /* sigwait */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hat/event.h>

static void on_log(void *user_data, hat_event_server_log_level_t level, hat_event_str_t line) {
    static const char *const names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};
    const hat_event_server_log_level_t *max = user_data;
    char stamp[32];
    struct timespec now;
    struct tm tm;
    if (level > *max) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s hat-event-c-server: %.*s\n", stamp, now.tv_nsec / 1000000L,
            level < 4 ? names[level] : "?", (int)line.len, line.ptr);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t cap = 0;
    *len = 0;
    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        size_t n;
        if (*len == cap) {
            char *grown = realloc(text, cap ? cap * 2 : 4096);
            if (grown == NULL) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = grown;
            cap = cap ? cap * 2 : 4096;
        }
        n = fread(text + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        free(text);
        text = NULL;
    }
    fclose(f);
    return text;
}

static int fail(const char *what, hat_event_status_t status) {
    fprintf(stderr, "hat-event-c-server: %s: %s (%s)\n", what, hat_event_last_error_message(),
            hat_event_status_str(status));
    return EXIT_FAILURE;
}

int main(int argc, char **argv) {
    const char *conf_path = NULL;
    hat_event_server_log_level_t max_level = HAT_EVENT_SERVER_LOG_INFO;
    hat_event_server_t *server = NULL;
    hat_event_status_t status;
    hat_event_str_t conf;
    sigset_t stop;
    size_t len;
    char *text;
    int i, sig = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc) {
            conf_path = argv[++i];
        } else if (strcmp(argv[i], "--debug") == 0) {
            max_level = HAT_EVENT_SERVER_LOG_DEBUG;
        } else {
            conf_path = NULL;
            break;
        }
    }
    if (conf_path == NULL) {
        fprintf(stderr, "usage: %s --conf FILE [--debug]\n", argv[0]);
        return 2;
    }
    text = read_file(conf_path, &len);
    if (text == NULL) {
        perror(conf_path);
        return EXIT_FAILURE;
    }

    /* Blocked before any server thread starts, so every thread inherits the
     * mask and the signals wait for sigwait below. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    conf.ptr = text;
    conf.len = len;
    status = hat_event_server_create(conf, on_log, &max_level, &server);
    free(text);
    if (status != HAT_EVENT_OK) {
        return fail("configuration", status);
    }
    status = hat_event_server_set_status(server, HAT_EVENT_SERVER_STATUS_OPERATIONAL);
    if (status != HAT_EVENT_OK) {
        hat_event_server_destroy(server);
        return fail("engine", status);
    }
    fprintf(stderr, "hat-event-c-server: operational on port %u\n", (unsigned)hat_event_server_port(server));

    sigwait(&stop, &sig);
    fprintf(stderr, "hat-event-c-server: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = hat_event_server_close(server);
    hat_event_server_destroy(server);
    if (status != HAT_EVENT_OK) {
        return fail("close", status);
    }
    return EXIT_SUCCESS;
}
