// SPDX-License-Identifier: LGPL-2.1-or-later
#include "main_thread.h"

#include <glib.h>

namespace shmframe::cli::web {
namespace {

struct PostedWork {
    std::weak_ptr<void> owner;
    std::function<void()> work;
};

gboolean runPostedWork(gpointer data) {
    auto* posted = static_cast<PostedWork*>(data);
    // The owner lives on the main thread, so it cannot go while this runs.
    if (auto owner = posted->owner.lock()) {
        posted->work();
    }
    return G_SOURCE_REMOVE;
}

void deletePostedWork(gpointer data) {
    delete static_cast<PostedWork*>(data);
}

}  // namespace

void postToMainThread(std::weak_ptr<void> owner, std::function<void()> work) {
    auto* posted = new PostedWork{std::move(owner), std::move(work)};
    GSource* source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, runPostedWork, posted, deletePostedWork);
    g_source_attach(source, nullptr);
    g_source_unref(source);
}

}  // namespace shmframe::cli::web
