// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframesrc as a GstURIHandler: `shmframe://cam0` is feed cam0, and
// `shmframe:///run/cams/cam0.sock` an absolute socket path, so that playbin,
// uridecodebin and gst-play-1.0 open feeds by URI.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/// The GInterfaceInitFunc of GstURIHandler for shmframesrc (its "feed" property).
void gst_shm_frame_src_uri_handler_init(gpointer iface, gpointer data);

G_END_DECLS
