/*
 * test_eventer.c - the eventer client's failure paths from C (the ASan
 * build checks that nothing leaks and no thread outlives destroy): a
 * refused connection, a server refusing the init, a server sending a
 * malformed frame after the init (closed callback, then every call
 * reports HAT_EVENT_ERR_CLOSED), an oversized frame, bad arguments. The
 * fake server is a thread with a socket, fed bytes hat-drivers' chatter
 * and hat-event's encoders produce. The success paths against a real
 * hat-event-server are in tests/conformance/test_eventer.py.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

/* chatter_msg(1, 1, owner=False, last=True, 'HatEventer.MsgInitRes',
 * sbs_repo.encode('HatEventer.MsgInitRes', ('success', ('operational', None)))),
 * framed: the answer to the client's first message (id 1). */
static const uint8_t INIT_OK[] = {0x01, 0x1e, 0x81, 0x81, 0x00, 0x01, 0x01, 0x95, 0x48, 0x61, 0x74,
                                  0x45, 0x76, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x2e, 0x4d, 0x73, 0x67,
                                  0x49, 0x6e, 0x69, 0x74, 0x52, 0x65, 0x73, 0x82, 0x80, 0x82};

/* ... ('error', 'no entry') */
static const uint8_t INIT_ERROR[] = {0x01, 0x26, 0x81, 0x81, 0x00, 0x01, 0x01, 0x95, 0x48, 0x61,
                                     0x74, 0x45, 0x76, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x2e, 0x4d,
                                     0x73, 0x67, 0x49, 0x6e, 0x69, 0x74, 0x52, 0x65, 0x73, 0x8a,
                                     0x81, 0x88, 0x6e, 0x6f, 0x20, 0x65, 0x6e, 0x74, 0x72, 0x79};

/* chatter_msg(2, 2, owner=True, last=False, 'HatEventer.MsgEventsNotify',
 * [event_to_sbs(Event(EventId(1, 2, 3), ('a', 'b'), Timestamp(5, 6), None,
 * EventPayloadJson({'v': 1})))]): last=False asks for an ack. */
static const uint8_t EVENTS_NOTIFY[] = {
    0x01, 0x38, 0x82, 0x82, 0x01, 0x01, 0x00, 0x9a, 0x48, 0x61, 0x74, 0x45, 0x76, 0x65, 0x6e,
    0x74, 0x65, 0x72, 0x2e, 0x4d, 0x73, 0x67, 0x45, 0x76, 0x65, 0x6e, 0x74, 0x73, 0x4e, 0x6f,
    0x74, 0x69, 0x66, 0x79, 0x97, 0x81, 0x81, 0x82, 0x83, 0x82, 0x81, 0x61, 0x81, 0x62, 0x85,
    0x86, 0x80, 0x81, 0x81, 0x88, 0x7b, 0x22, 0x76, 0x22, 0x3a, 0x20, 0x31, 0x7d};

/* The ack hat's client sends (the body of the frame): HatChatter.Msg {id 2
 * (the client's second message), first 2, owner False, token True, last
 * True, 'HatEventer.MsgEventsAck', b''}. */
static const uint8_t ACK_BODY[] = {0x82, 0x82, 0x00, 0x01, 0x01, 0x97, 0x48, 0x61, 0x74, 0x45,
                                   0x76, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x2e, 0x4d, 0x73, 0x67,
                                   0x45, 0x76, 0x65, 0x6e, 0x74, 0x73, 0x41, 0x63, 0x6b, 0x80};

/* A frame whose length of length is 0. */
static const uint8_t MALFORMED[] = {0x00};

/* A frame announcing 0x10000 bytes. */
static const uint8_t OVERSIZED[] = {0x03, 0x01, 0x00, 0x00};

struct fake {
    int listener;
    uint16_t port;
    const uint8_t *first;
    size_t first_len;
    const uint8_t *second;
    size_t second_len;
    uint8_t reply[512]; /* the body of the first frame after the init request */
    long reply_len;     /* -1: none came */
    pthread_t thread;
};

static int read_all(int fd, uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one frame's body (up to `cap` bytes) into buf; its length or -1. */
static long read_frame(int fd, uint8_t *buf, size_t cap) {
    uint8_t len_len, len_bytes[8];
    size_t len = 0, i;
    if (read_all(fd, &len_len, 1) != 0 || len_len == 0 || len_len > 8 || read_all(fd, len_bytes, len_len) != 0) {
        return -1;
    }
    for (i = 0; i < len_len; i++) {
        len = (len << 8) | len_bytes[i];
    }
    if (len > cap || read_all(fd, buf, len) != 0) {
        return -1;
    }
    return (long)len;
}

static int listen_loopback(uint16_t *port) {
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        perror("fake server socket");
        exit(EXIT_FAILURE);
    }
    *port = ntohs(addr.sin_port);
    return fd;
}

/* Accepts one client, reads its init request, sends `first`, then
 * `second` (if any), keeps the next frame's body and hangs up (if no frame
 * comes, reads until the client closes). */
static void *fake_run(void *arg) {
    struct fake *f = arg;
    uint8_t buf[512];
    int conn = accept(f->listener, NULL, NULL);
    f->reply_len = -1;
    if (conn < 0) {
        return NULL;
    }
    if (read_frame(conn, buf, sizeof buf) > 0) {
        if (write(conn, f->first, f->first_len) < 0 ||
            (f->second != NULL && write(conn, f->second, f->second_len) < 0)) {
            perror("fake server write");
        }
        /* a reply ends the script: the client then sees the server go */
        f->reply_len = read_frame(conn, f->reply, sizeof f->reply);
        while (f->reply_len < 0 && read(conn, buf, sizeof buf) > 0) {
        }
    }
    close(conn);
    return NULL;
}

static void fake_start(struct fake *f, const uint8_t *first, size_t first_len, const uint8_t *second,
                       size_t second_len) {
    f->listener = listen_loopback(&f->port);
    f->first = first;
    f->first_len = first_len;
    f->second = second;
    f->second_len = second_len;
    if (pthread_create(&f->thread, NULL, fake_run, f) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        exit(EXIT_FAILURE);
    }
}

static void fake_join(struct fake *f) {
    pthread_join(f->thread, NULL);
    close(f->listener);
}

struct seen {
    int closed_calls;
    hat_event_status_t closed_reason;
    char closed_message[256];
};

static void on_closed(void *user_data, hat_event_status_t reason, hat_event_str_t message) {
    struct seen *seen = user_data;
    size_t n = message.len < sizeof seen->closed_message - 1 ? message.len : sizeof seen->closed_message - 1;
    seen->closed_calls++;
    seen->closed_reason = reason;
    memcpy(seen->closed_message, message.ptr, n);
    seen->closed_message[n] = '\0';
}

static void options_for(hat_event_client_options_t *options, uint16_t port, struct seen *seen) {
    REQUIRE_OK(hat_event_client_options_init(options));
    options->host = STR("127.0.0.1");
    options->port = port;
    options->client_name = STR("c-test");
    options->connect_timeout = 5;
    options->closed_cb = on_closed;
    options->user_data = seen;
}

static void test_options_init(void) {
    hat_event_client_options_t options;
    memset(&options, SENTINEL_BYTE, sizeof options);
    CHECK_OK(hat_event_client_options_init(&options));
    CHECK(options.port == 23012);
    CHECK(options.host.len == 0 && options.client_name.len == 0);
    CHECK(options.client_token == NULL && options.server_id == NULL && options.subscriptions_len == 0);
    CHECK(options.connect_timeout == 5 && options.ping_delay == 20 && options.ping_timeout == 20);
    CHECK(options.max_frame_size == 64u << 20);
    CHECK(options.response_spin == 60e-6);
    CHECK(options.status_cb == NULL && options.events_cb == NULL && options.closed_cb == NULL);
    CHECK(options.struct_size == sizeof options && options.user_data == NULL && options.finalize_user_data == NULL);
    CHECK_STATUS(hat_event_client_options_init(NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
}

static void test_refused_connection(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = SENTINEL_PTR;
    struct seen seen = {0};
    uint16_t port;
    int fd = listen_loopback(&port);
    close(fd); /* nobody listens there now */
    options_for(&options, port, &seen);
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_IO);
    CHECK(strstr(hat_event_last_error_message(), "refused") != NULL);
    CHECK(client == SENTINEL_PTR);
    CHECK(seen.closed_calls == 0);
}

static void test_bad_arguments(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = SENTINEL_PTR;
    struct seen seen = {0};
    hat_event_str_t bad_utf8 = STR("\xff");
    options_for(&options, 1, &seen);
    CHECK_STATUS(hat_event_client_connect(NULL, &client), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_client_connect(&options, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    options.client_name = bad_utf8;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_UTF8);
    options_for(&options, 1, &seen);
    options.ping_timeout = -1;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    options_for(&options, 1, &seen);
    options.host = STR("");
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    options_for(&options, 1, &seen);
    options.response_spin = -1e-6;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "options->response_spin must be finite and >= 0") != NULL);
    options.response_spin = 0.0101;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "options->response_spin must be at most 0.01 seconds") != NULL);
    options.response_spin = NAN;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(client == SENTINEL_PTR);
    /* getters and destroy accept NULL */
    CHECK(hat_event_client_server_status(NULL) == UINT32_MAX);
    CHECK(!hat_event_client_is_open(NULL));
    hat_event_client_close(NULL);
    hat_event_client_destroy(NULL);
}

static void test_init_error(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = SENTINEL_PTR;
    struct seen seen = {0};
    struct fake fake;
    fake_start(&fake, INIT_ERROR, sizeof INIT_ERROR, NULL, 0);
    options_for(&options, fake.port, &seen);
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_REFUSED);
    CHECK(strstr(hat_event_last_error_message(), "no entry") != NULL);
    CHECK(client == SENTINEL_PTR);
    fake_join(&fake);
}

static void test_malformed_frame_after_init(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = NULL;
    hat_event_register_event_t *event = NULL;
    hat_event_query_params_t *params = NULL;
    hat_event_query_result_t *result = SENTINEL_PTR;
    hat_event_msg_t *response = SENTINEL_PTR;
    hat_event_str_t type[] = {SEG("a")};
    const hat_event_register_event_t *events[1];
    struct seen seen = {0};
    struct fake fake;
    fake_start(&fake, INIT_OK, sizeof INIT_OK, MALFORMED, sizeof MALFORMED);
    options_for(&options, fake.port, &seen);
    REQUIRE_OK(hat_event_client_connect(&options, &client));
    REQUIRE_OK(hat_event_register_event_create(type, 1, NULL, NULL, &event));
    REQUIRE_OK(hat_event_query_params_create_latest(&params));
    events[0] = event;

    CHECK_OK(hat_event_client_wait_closed(client, 10));
    CHECK(!hat_event_client_is_open(client));
    CHECK(seen.closed_calls == 1);
    CHECK(seen.closed_reason == HAT_EVENT_ERR_PROTOCOL);
    CHECK(strstr(seen.closed_message, "length of length is 0") != NULL);
    CHECK(hat_event_client_server_status(client) == HAT_EVENT_SERVER_STATUS_OPERATIONAL);

    CHECK_STATUS(hat_event_client_register(client, events, 1), HAT_EVENT_ERR_CLOSED);
    CHECK(strstr(hat_event_last_error_message(), "length of length is 0") != NULL);
    CHECK_STATUS(hat_event_client_register_wait(client, events, 1, 1, &response), HAT_EVENT_ERR_CLOSED);
    CHECK(response == SENTINEL_PTR);
    CHECK_STATUS(hat_event_client_query(client, params, INFINITY, &result), HAT_EVENT_ERR_CLOSED);
    CHECK(result == SENTINEL_PTR);

    /* argument errors come first, whatever the connection */
    CHECK_STATUS(hat_event_client_register(NULL, events, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_client_register(client, NULL, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    events[0] = NULL;
    CHECK_STATUS(hat_event_client_register(client, events, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "events[0]") != NULL);
    events[0] = event;
    CHECK_STATUS(hat_event_client_register_wait(client, events, 1, -1, &response), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_client_register_wait(client, events, 1, 1, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_client_query(client, NULL, 1, &result), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_client_query(client, params, NAN, &result), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(hat_event_client_wait_closed(NULL, 1), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK_STATUS(hat_event_client_wait_closed(client, -1), HAT_EVENT_ERR_INVALID_ARGUMENT);

    hat_event_client_close(client);
    hat_event_client_close(client);
    CHECK(seen.closed_calls == 1);
    hat_event_client_destroy(client);
    hat_event_query_params_destroy(params);
    hat_event_register_event_destroy(event);
    fake_join(&fake);
}

static void test_oversized_frame_and_wait_timeout(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = NULL;
    struct seen seen = {0};
    struct fake fake;
    fake_start(&fake, INIT_OK, sizeof INIT_OK, NULL, 0);
    options_for(&options, fake.port, &seen);
    REQUIRE_OK(hat_event_client_connect(&options, &client));
    /* open and silent: waiting for the end times out */
    CHECK_STATUS(hat_event_client_wait_closed(client, 0.05), HAT_EVENT_ERR_TIMEOUT);
    CHECK(hat_event_client_is_open(client));
    hat_event_client_destroy(client); /* joins the reader; the fake sees EOF */
    CHECK(seen.closed_calls == 0);
    fake_join(&fake);

    fake_start(&fake, INIT_OK, sizeof INIT_OK, OVERSIZED, sizeof OVERSIZED);
    options_for(&options, fake.port, &seen);
    options.max_frame_size = 0xffff;
    REQUIRE_OK(hat_event_client_connect(&options, &client));
    CHECK_OK(hat_event_client_wait_closed(client, 10));
    CHECK(seen.closed_calls == 1 && seen.closed_reason == HAT_EVENT_ERR_PROTOCOL);
    CHECK(strstr(seen.closed_message, "oversized frame: 65536 bytes") != NULL);
    hat_event_client_destroy(client);
    fake_join(&fake);

    /* a 245-byte length field: the message says so, and gives no value it
     * cannot hold (it once reported "2976195146 bytes announced") */
    {
        uint8_t huge_field[246];
        memset(huge_field, 0xb1, sizeof huge_field);
        huge_field[0] = 245;
        memset(&seen, 0, sizeof seen);
        fake_start(&fake, INIT_OK, sizeof INIT_OK, huge_field, sizeof huge_field);
        options_for(&options, fake.port, &seen);
        REQUIRE_OK(hat_event_client_connect(&options, &client));
        CHECK_OK(hat_event_client_wait_closed(client, 10));
        CHECK(seen.closed_calls == 1 && seen.closed_reason == HAT_EVENT_ERR_PROTOCOL);
        CHECK(strstr(seen.closed_message, "2^128 bytes or more announced by a length field of 245 bytes") != NULL);
        hat_event_client_destroy(client);
        fake_join(&fake);
    }
}

struct notified {
    int calls;
    size_t count;
    bool type_ok;
    bool payload_ok;
    hat_event_event_t *kept;
};

static void on_events(void *user_data, const hat_event_event_t *const *events, size_t count) {
    struct notified *n = user_data;
    const hat_event_event_type_t *type = hat_event_event_get_type(events[0]);
    const hat_event_payload_t *payload = hat_event_event_payload(events[0]);
    hat_event_buffer_t *text = NULL;
    n->calls++;
    n->count = count;
    n->type_ok = hat_event_event_type_len(type) == 2 && hat_event_event_type_segment(type, 1).len == 1 &&
                 hat_event_event_type_segment(type, 1).ptr[0] == 'b';
    n->payload_ok = hat_event_payload_json_text(payload, &text) == HAT_EVENT_OK &&
                    hat_event_buffer_len(text) == 8 && memcmp(hat_event_buffer_data(text), "{\"v\": 1}", 8) == 0;
    hat_event_buffer_destroy(text);
    /* borrowed for the call: clone what is kept */
    (void)hat_event_event_clone(events[0], &n->kept);
}

static void test_events_notify_is_acknowledged(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = NULL;
    struct notified notified = {0};
    hat_event_event_id_t id;
    struct fake fake;
    fake_start(&fake, INIT_OK, sizeof INIT_OK, EVENTS_NOTIFY, sizeof EVENTS_NOTIFY);
    REQUIRE_OK(hat_event_client_options_init(&options));
    options.host = STR("localhost");
    options.port = fake.port;
    options.client_name = STR("c-notify");
    options.events_cb = on_events;
    options.user_data = &notified;
    REQUIRE_OK(hat_event_client_connect(&options, &client));
    /* the fake hangs up once it has the ack; the reader has then finished */
    CHECK_OK(hat_event_client_wait_closed(client, 10));
    hat_event_client_destroy(client);
    fake_join(&fake);
    CHECK(fake.reply_len == (long)sizeof ACK_BODY && memcmp(fake.reply, ACK_BODY, sizeof ACK_BODY) == 0);
    CHECK(notified.calls == 1 && notified.count == 1 && notified.type_ok && notified.payload_ok);
    CHECK(notified.kept != NULL);
    id = hat_event_event_get_id(notified.kept);
    CHECK(id.server == 1 && id.session == 2 && id.instance == 3);
    hat_event_event_destroy(notified.kept);
}

static void count_finalize(void *user_data) {
    ++*(long *)user_data;
}

/* The client owns options->user_data from hat_event_client_connect on: its
 * finalizer runs once, when the call fails or after the client's last
 * callback (by the time hat_event_client_destroy returns). */
static void test_user_data_is_finalised_once_on_every_path(void) {
    hat_event_client_options_t options;
    hat_event_client_t *client = SENTINEL_PTR;
    struct seen seen = {0};
    struct fake fake;
    long finalized = 0;
    uint16_t port;
    int fd;
    struct {
        hat_event_client_options_t options;
        char newer[16];
    } big;

    /* success */
    fake_start(&fake, INIT_OK, sizeof INIT_OK, NULL, 0);
    options_for(&options, fake.port, &seen);
    options.user_data = &finalized;
    options.closed_cb = NULL;
    options.finalize_user_data = count_finalize;
    client = NULL;
    REQUIRE_OK(hat_event_client_connect(&options, &client));
    CHECK(finalized == 0);
    hat_event_client_destroy(client);
    CHECK(finalized == 1);
    fake_join(&fake);

    /* the server refuses the init */
    finalized = 0;
    client = SENTINEL_PTR;
    fake_start(&fake, INIT_ERROR, sizeof INIT_ERROR, NULL, 0);
    options.port = fake.port;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_REFUSED);
    CHECK(finalized == 1 && client == SENTINEL_PTR);
    fake_join(&fake);

    /* nobody listens */
    finalized = 0;
    fd = listen_loopback(&port);
    close(fd);
    options.port = port;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_IO);
    CHECK(finalized == 1);

    /* bad arguments */
    finalized = 0;
    CHECK_STATUS(hat_event_client_connect(&options, NULL), HAT_EVENT_ERR_NULL_ARGUMENT);
    CHECK(finalized == 1);
    finalized = 0;
    options.host = STR("");
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(finalized == 1);
    finalized = 0;
    options.host = STR("\xff");
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_UTF8);
    CHECK(finalized == 1);

    /* a newer, larger layout: refused, finalised */
    finalized = 0;
    memset(&big, 0, sizeof big);
    big.options = options;
    big.options.host = STR("127.0.0.1");
    big.options.struct_size = sizeof big;
    CHECK_STATUS(hat_event_client_connect(&big.options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "newer header") != NULL);
    CHECK(finalized == 1);

    /* not read, so not finalised: below the first layout (0.1's options had
     * no struct_size: their first field, a pointer, reads as 0 or as a huge size) */
    finalized = 0;
    options.struct_size = 0;
    CHECK_STATUS(hat_event_client_connect(&options, &client), HAT_EVENT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(hat_event_last_error_message(), "smallest hat_event_client_options_t") != NULL);
    CHECK(finalized == 0 && client == SENTINEL_PTR);
}

int main(void) {
    RUN(test_options_init);
    RUN(test_refused_connection);
    RUN(test_bad_arguments);
    RUN(test_init_error);
    RUN(test_malformed_frame_after_init);
    RUN(test_oversized_frame_and_wait_timeout);
    RUN(test_events_notify_is_acknowledged);
    RUN(test_user_data_is_finalised_once_on_every_path);
    return check_finish();
}
