/*
 * An engine in C++, built with -fvisibility=hidden, that defines its entry function exactly as
 * the header's prototype says (SB_EXPORT, no extern "C" of its own): proof that the header alone
 * exports it unmangled. Its contacts.get throws, and catches, as docs/plugin-abi.md asks: an
 * exception never unwinds into the host, it becomes SB_STATUS_INTERNAL with its message.
 */
#include "switchboard_engine.h"

#include <cstring>
#include <stdexcept>
#include <string>

struct sb_engine_instance {};

static const char *const features[] = {SB_FEATURE_CONTACTS_GET};

static void fail(sb_completion done, void *context, sb_status status, const std::string &message) {
    done(context, status, reinterpret_cast<const uint8_t *>(message.data()), message.size());
}

static sb_status create(const sb_engine_descriptor *, const sb_host_services *, const uint8_t *, size_t, sb_engine_instance **out,
                        sb_bytes_sink, void *) {
    *out = new sb_engine_instance();
    return SB_STATUS_OK;
}

static void destroy(sb_engine_instance *instance) { delete instance; }

static void call(sb_engine_instance *, const char *feature, const uint8_t *, size_t, sb_completion done, void *context) {
    try {
        if (std::strcmp(feature, SB_FEATURE_CONTACTS_GET) == 0) throw std::runtime_error("no address book yet");
        fail(done, context, SB_STATUS_NOT_IMPLEMENTED, "not served");
    } catch (const std::exception &error) {
        fail(done, context, SB_STATUS_INTERNAL, std::string("caught: ") + error.what());
    } catch (...) {
        fail(done, context, SB_STATUS_INTERNAL, "caught an unknown exception");
    }
}

static void instance_features(sb_engine_instance *, sb_bytes_sink sink, void *context) {
    sink(context, reinterpret_cast<const uint8_t *>(features[0]), std::strlen(features[0]));
}

static void status(sb_engine_instance *, sb_bytes_sink sink, void *context) {
    static const char text[] = "{\"health\":\"ok\",\"message\":\"\",\"counters\":{}}";
    sink(context, reinterpret_cast<const uint8_t *>(text), sizeof text - 1);
}

static const sb_engine_descriptor descriptor = {
    sizeof(sb_engine_descriptor), SB_ABI_VERSION_MAJOR, SB_ABI_VERSION_MINOR, "cpp", "1.0.0", "An engine in C++", features, 1,
    create, destroy, call, instance_features, status, nullptr, nullptr, nullptr, nullptr, nullptr,
};

SB_EXPORT const sb_engine_descriptor *switchboard_engine_abi_v1(void) { return &descriptor; }
