// SPDX-License-Identifier: LGPL-2.1-or-later
// GStreamer elements the CLI's network commands (serve, web) build pipelines from.
#pragma once

namespace shmframe::cli {

/// True when GStreamer knows an element factory called \a name.
bool hasGstElement(const char* name);

/**
 * True when shmframesrc can be made. A CLI run from the build tree also looks in the
 * build's plugin folder (and puts it on GST_PLUGIN_PATH for pipelines it starts); an
 * installed CLI relies on the installed plugin.
 */
bool findShmframePlugin();

}  // namespace shmframe::cli
