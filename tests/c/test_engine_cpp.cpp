// A module written in C++: a small class behind the C vtable, registered by
// name and run by the engine. The class derives an ('alarm', 'high') event
// for every ('sensor', *) event whose JSON payload is above a threshold,
// and counts its sessions. Exceptions never cross into the library: the
// trampolines turn them into a status and a message.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <hat/event.h>

static int failures = 0;
#define EXPECT(cond)                                                        \
    do {                                                                    \
        if (!(cond)) {                                                      \
            std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static hat_event_str_t view(const std::string &s) { return hat_event_str_t{s.data(), s.size()}; }

class ThresholdAlarm {
public:
    explicit ThresholdAlarm(double threshold) : threshold_(threshold) {}

    hat_event_subscription_t *subscription() const {
        static const hat_event_str_t query_type[] = {{"sensor", 6}, {"*", 1}};
        hat_event_event_type_view_t v = {query_type, 2};
        hat_event_subscription_t *s = nullptr;
        if (hat_event_subscription_create(&v, 1, &s) != HAT_EVENT_OK) throw std::runtime_error("subscription");
        return s;
    }

    void on_session_start(int64_t) { sessions_++; }

    void process(const hat_event_event_t *event, hat_event_register_event_list_t *out) {
        hat_event_buffer_t *text = nullptr;
        if (hat_event_payload_json_text(hat_event_event_payload(event), &text) != HAT_EVENT_OK) {
            throw std::runtime_error("sensor event without a JSON payload");
        }
        std::string json(reinterpret_cast<const char *>(hat_event_buffer_data(text)), hat_event_buffer_len(text));
        hat_event_buffer_destroy(text);
        if (std::strtod(json.c_str(), nullptr) <= threshold_) return;
        static const hat_event_str_t type[] = {{"alarm", 5}, {"high", 4}};
        hat_event_payload_t *payload = nullptr;
        hat_event_register_event_t *alarm = nullptr;
        hat_event_payload_create_json(view(json), &payload);
        hat_event_register_event_create(type, 2, nullptr, payload, &alarm);
        hat_event_status_t status = hat_event_register_event_list_append(out, alarm);
        hat_event_register_event_destroy(alarm);
        hat_event_payload_destroy(payload);
        if (status != HAT_EVENT_OK) throw std::runtime_error("append");
    }

    int sessions() const { return sessions_; }

private:
    double threshold_;
    int sessions_ = 0;
};

static ThresholdAlarm *live = nullptr;

template <typename F>
static hat_event_status_t guarded(F f) {
    try {
        f();
        return HAT_EVENT_OK;
    } catch (const std::exception &e) {
        std::string m = e.what();
        hat_event_plugin_set_error(view(m));
        return HAT_EVENT_ERR_INVALID_ARGUMENT;
    }
}

extern "C" {
static hat_event_status_t alarm_start(void *instance, int64_t session) {
    return guarded([&] { static_cast<ThresholdAlarm *>(instance)->on_session_start(session); });
}
static hat_event_status_t alarm_process(void *instance, hat_event_source_t, const hat_event_event_t *event,
                                        hat_event_register_event_list_t *out) {
    return guarded([&] { static_cast<ThresholdAlarm *>(instance)->process(event, out); });
}
static void alarm_finalize(void *instance) {
    live = nullptr;
    delete static_cast<ThresholdAlarm *>(instance);
}
static hat_event_status_t alarm_create(void *, hat_event_str_t, hat_event_engine_t *, hat_event_source_t,
                                       hat_event_module_t *out) {
    return guarded([&] {
        std::unique_ptr<ThresholdAlarm> m(new ThresholdAlarm(50.0));
        out->struct_size = sizeof *out;
        out->subscription = m->subscription();
        out->on_session_start = alarm_start;
        out->process = alarm_process;
        out->finalize = alarm_finalize;
        live = m.get();
        out->instance = m.release();
    });
}
}

static hat_event_event_list_t *register_sensor(hat_event_engine_t *engine, const char *json, hat_event_status_t want) {
    static const hat_event_str_t type[] = {{"sensor", 6}, {"t1", 2}};
    hat_event_payload_t *payload = nullptr;
    hat_event_register_event_t *event = nullptr;
    hat_event_event_list_t *out = nullptr;
    if (json != nullptr) hat_event_payload_create_json(hat_event_str_from_cstr(json), &payload);
    hat_event_register_event_create(type, 2, nullptr, payload, &event);
    const hat_event_register_event_t *events[] = {event};
    hat_event_source_t source = {HAT_EVENT_SOURCE_TYPE_EVENTER, 1};
    EXPECT(hat_event_engine_register(engine, source, events, 1, &out) == want);
    hat_event_register_event_destroy(event);
    hat_event_payload_destroy(payload);
    return out;
}

int main() {
    hat_event_module_info_t info = {HAT_EVENT_PLUGIN_ABI_VERSION, sizeof(hat_event_module_info_t), nullptr,
                                    alarm_create, {nullptr, 0}, {nullptr, 0}, nullptr};
    EXPECT(hat_event_module_register(hat_event_str_from_cstr("cpp.alarm"), &info) == HAT_EVENT_OK);
    hat_event_engine_t *engine = nullptr;
    EXPECT(hat_event_engine_create(hat_event_str_from_cstr("{\"server_id\": 3, \"backend\": {\"module\": \"memory\"},"
                                                           " \"modules\": [{\"module\": \"cpp.alarm\"}]}"),
                                   nullptr, &engine) == HAT_EVENT_OK);
    if (engine == nullptr) return 1;
    hat_event_event_list_destroy(register_sensor(engine, "20", HAT_EVENT_OK));
    hat_event_event_list_destroy(register_sensor(engine, "70.5", HAT_EVENT_OK));
    // An exception in process becomes the register call's failure and message.
    hat_event_event_list_destroy(register_sensor(engine, nullptr, HAT_EVENT_ERR_PLUGIN));
    EXPECT(std::strstr(hat_event_last_error_message(), "sensor event without a JSON payload") != nullptr);
    EXPECT(live != nullptr && live->sessions() == 4);

    hat_event_query_params_t *params = nullptr;
    hat_event_query_result_t *result = nullptr;
    hat_event_query_params_create_latest(&params);
    EXPECT(hat_event_engine_query(engine, params, &result) == HAT_EVENT_OK);
    // latest: the STARTED event, sensor/t1 (70.5) and one alarm/high (70.5)
    EXPECT(hat_event_query_result_len(result) == 3);
    std::vector<int64_t> instances;
    for (size_t i = 0; i < hat_event_query_result_len(result); i++)
        instances.push_back(hat_event_event_get_id(hat_event_query_result_event(result, i)).instance);
    EXPECT((instances == std::vector<int64_t>{1, 1, 2}));
    const hat_event_event_t *alarm = hat_event_query_result_event(result, 2);
    EXPECT(alarm != nullptr && hat_event_event_get_id(alarm).session == 3);
    hat_event_query_result_destroy(result);
    hat_event_query_params_destroy(params);
    hat_event_engine_destroy(engine);
    EXPECT(live == nullptr);
    std::printf("C++ module: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
