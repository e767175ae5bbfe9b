// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframesrc: a live source that reads a shmframe feed without copying its frames.
#pragma once

#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_SHM_FRAME_SRC (gst_shm_frame_src_get_type())
G_DECLARE_FINAL_TYPE(GstShmFrameSrc, gst_shm_frame_src, GST, SHM_FRAME_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE(shmframesrc);

G_END_DECLS
