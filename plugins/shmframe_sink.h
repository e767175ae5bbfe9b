// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframesink: publishes a pipeline's video frames as a shmframe feed.
#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_SHM_FRAME_SINK (gst_shm_frame_sink_get_type())
G_DECLARE_FINAL_TYPE(GstShmFrameSink, gst_shm_frame_sink, GST, SHM_FRAME_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(shmframesink);

G_END_DECLS
