// SPDX-License-Identifier: LGPL-2.1-or-later
// The live feeds as GStreamer devices. A FeedWatch reports writers as they come and
// go; while started, the provider waits on the watch's fd in a thread of its own
// (its own GMainContext, so no application main loop is needed) and adds, replaces
// or removes a device per event.
#include "device_provider.h"

#include <map>
#include <optional>
#include <string>

#include <glib-unix.h>

#include "caps_format.h"
#include "shmframe/feed.h"
#include "shmframe/feed_watch.h"

GST_DEBUG_CATEGORY_STATIC(shmframe_device_debug);
#define GST_CAT_DEFAULT shmframe_device_debug

// --- GstShmFrameDevice: one feed ----------------------------------------------------

struct _GstShmFrameDevice {
    GstDevice parent;
    gchar* feed;
};

// GObject's type boilerplate casts C-style inside the macros.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(GstShmFrameDevice, gst_shm_frame_device, GST_TYPE_DEVICE)
#pragma GCC diagnostic pop

namespace {

GstElement* deviceCreateElement(GstDevice* device, const gchar* name) {
    GstElement* source = gst_element_factory_make("shmframesrc", name);
    if (source) {
        g_object_set(source, "feed", GST_SHM_FRAME_DEVICE(device)->feed, nullptr);
    }
    return source;
}

gboolean deviceReconfigureElement(GstDevice* device, GstElement* element) {
    if (g_strcmp0(gst_plugin_feature_get_name(gst_element_get_factory(element)), "shmframesrc") !=
        0) {
        return FALSE;
    }
    g_object_set(element, "feed", GST_SHM_FRAME_DEVICE(device)->feed, nullptr);
    return TRUE;
}

void deviceFinalize(GObject* object) {
    g_free(GST_SHM_FRAME_DEVICE(object)->feed);
    G_OBJECT_CLASS(gst_shm_frame_device_parent_class)->finalize(object);
}

// A floating device for a probed feed.
GstDevice* makeDevice(const shmframe::FeedInfo& feed) {
    GstCaps* caps = shmframe::gst::capsFromFormat(feed.format);
    GstStructure* properties = gst_structure_new(
        "shmframe-proplist", "device.api", G_TYPE_STRING, "shmframe", "device.path", G_TYPE_STRING,
        feed.socketPath.c_str(), "shmframe.feed", G_TYPE_STRING, feed.name.c_str(),
        "shmframe.writer-pid", G_TYPE_INT, static_cast<gint>(feed.writerPid), "shmframe.format",
        G_TYPE_STRING, feed.format.describe().c_str(), nullptr);
    const std::string displayName = "shmframe feed " + feed.name;
    auto* device = static_cast<GstDevice*>(
        g_object_new(GST_TYPE_SHM_FRAME_DEVICE, "display-name", displayName.c_str(), "caps", caps,
                     "device-class", "Video/Source", "properties", properties, nullptr));
    GST_SHM_FRAME_DEVICE(device)->feed = g_strdup(feed.name.c_str());
    gst_caps_unref(caps);
    gst_structure_free(properties);
    return device;
}

}  // namespace

static void gst_shm_frame_device_class_init(GstShmFrameDeviceClass* klass) {
    G_OBJECT_CLASS(klass)->finalize = deviceFinalize;
    GST_DEVICE_CLASS(klass)->create_element = deviceCreateElement;
    GST_DEVICE_CLASS(klass)->reconfigure_element = deviceReconfigureElement;
}

static void gst_shm_frame_device_init(GstShmFrameDevice* self) {
    self->feed = nullptr;
}

// --- GstShmFrameDeviceProvider ---------------------------------------------------

namespace {

// What a started provider owns: the watch, the thread that waits on it and the
// devices it announced (one reference each).
struct ProviderState {
    std::optional<shmframe::FeedWatch> watch;
    GMainContext* context = nullptr;
    GMainLoop* loop = nullptr;
    GThread* thread = nullptr;
    std::map<std::string, GstDevice*> devices;
};

}  // namespace

struct _GstShmFrameDeviceProvider {
    GstDeviceProvider parent;
    ProviderState* state;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
G_DEFINE_TYPE(GstShmFrameDeviceProvider, gst_shm_frame_device_provider, GST_TYPE_DEVICE_PROVIDER)
#pragma GCC diagnostic pop
namespace {

gboolean registerDeviceProvider(GstPlugin* plugin) {
    GST_DEBUG_CATEGORY_INIT(shmframe_device_debug, "shmframedeviceprovider", 0,
                            "shmframe device provider");
    return gst_device_provider_register(plugin, "shmframedeviceprovider", GST_RANK_SECONDARY,
                                        GST_TYPE_SHM_FRAME_DEVICE_PROVIDER);
}

}  // namespace
GST_DEVICE_PROVIDER_REGISTER_DEFINE_CUSTOM(shmframedeviceprovider, registerDeviceProvider);

namespace {

void removeDevice(GstShmFrameDeviceProvider* self, const std::string& feed) {
    auto& devices = self->state->devices;
    auto found = devices.find(feed);
    if (found == devices.end()) {
        return;
    }
    gst_device_provider_device_remove(GST_DEVICE_PROVIDER(self), found->second);
    gst_object_unref(found->second);
    devices.erase(found);
}

void addDevice(GstShmFrameDeviceProvider* self, const shmframe::FeedInfo& feed) {
    removeDevice(self, feed.name);
    GstDevice* device = makeDevice(feed);
    self->state->devices[feed.name] = GST_DEVICE(gst_object_ref_sink(device));
    gst_device_provider_device_add(GST_DEVICE_PROVIDER(self), device);
}

void applyWatchEvents(GstShmFrameDeviceProvider* self) {
    for (const shmframe::FeedEvent& event : self->state->watch->update()) {
        GST_DEBUG_OBJECT(self, "feed '%s' %s", event.feed.name.c_str(),
                         std::string(shmframe::toString(event.kind)).c_str());
        switch (event.kind) {
            case shmframe::FeedEvent::Kind::Appeared:
            case shmframe::FeedEvent::Kind::Changed:  // new caps or writer: a new device
                addDevice(self, event.feed);
                break;
            case shmframe::FeedEvent::Kind::Gone:
                removeDevice(self, event.feed.name);
                break;
        }
    }
}

gboolean onWatchReadable(gint, GIOCondition, gpointer data) {
    applyWatchEvents(GST_SHM_FRAME_DEVICE_PROVIDER(data));
    return G_SOURCE_CONTINUE;
}

gpointer runWatchLoop(gpointer data) {
    auto* state = static_cast<ProviderState*>(data);
    g_main_context_push_thread_default(state->context);
    g_main_loop_run(state->loop);
    g_main_context_pop_thread_default(state->context);
    return nullptr;
}

GList* providerProbe(GstDeviceProvider*) {
    GList* devices = nullptr;
    for (const shmframe::FeedInfo& feed : shmframe::listFeeds()) {
        devices = g_list_append(devices, makeDevice(feed));
    }
    return devices;
}

gboolean providerStart(GstDeviceProvider* provider) {
    auto* self = GST_SHM_FRAME_DEVICE_PROVIDER(provider);
    ProviderState& state = *self->state;
    auto watch = shmframe::FeedWatch::open();
    if (!watch) {
        GST_ERROR_OBJECT(self, "cannot watch the feed directory: %s",
                         watch.error().message.c_str());
        return FALSE;
    }
    state.watch.emplace(std::move(*watch));
    applyWatchEvents(self);  // the feeds already there

    state.context = g_main_context_new();
    state.loop = g_main_loop_new(state.context, FALSE);
    GSource* source = g_unix_fd_source_new(state.watch->fd(), G_IO_IN);
    // GLib calls a GUnixFDSourceFunc through GSourceFunc; void (*)() is the cast's bridge.
    g_source_set_callback(
        source, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(onWatchReadable)), self,
        nullptr);
    g_source_attach(source, state.context);
    g_source_unref(source);
    state.thread = g_thread_new("shmframe-devices", runWatchLoop, &state);
    GST_INFO_OBJECT(self, "watching %s", state.watch->directory().c_str());
    return TRUE;
}

void providerStop(GstDeviceProvider* provider) {
    auto* self = GST_SHM_FRAME_DEVICE_PROVIDER(provider);
    ProviderState& state = *self->state;
    if (state.thread) {
        g_main_loop_quit(state.loop);
        g_thread_join(state.thread);
        state.thread = nullptr;
    }
    if (state.loop) {
        g_main_loop_unref(state.loop);
        state.loop = nullptr;
    }
    if (state.context) {
        g_main_context_unref(state.context);  // destroys the fd source with it
        state.context = nullptr;
    }
    // The base class forgets its devices after stop; drop our references too.
    for (auto& [feed, device] : state.devices) {
        gst_object_unref(device);
    }
    state.devices.clear();
    state.watch.reset();
}

void providerFinalize(GObject* object) {
    auto* self = GST_SHM_FRAME_DEVICE_PROVIDER(object);
    delete self->state;
    self->state = nullptr;
    G_OBJECT_CLASS(gst_shm_frame_device_provider_parent_class)->finalize(object);
}

}  // namespace

static void gst_shm_frame_device_provider_class_init(GstShmFrameDeviceProviderClass* klass) {
    G_OBJECT_CLASS(klass)->finalize = providerFinalize;
    auto* providerClass = GST_DEVICE_PROVIDER_CLASS(klass);
    providerClass->probe = providerProbe;
    providerClass->start = providerStart;
    providerClass->stop = providerStop;
    gst_device_provider_class_set_static_metadata(
        providerClass, "shmframe feeds", "Source/Video",
        "Lists the live shmframe feeds of the feed directory; each creates a shmframesrc",
        "shmframe developers");
}

static void gst_shm_frame_device_provider_init(GstShmFrameDeviceProvider* self) {
    self->state = new ProviderState;
}
