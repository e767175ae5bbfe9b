// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframedeviceprovider: the live shmframe feeds as GStreamer devices of class
// Video/Source, so that gst-device-monitor-1.0 and GstDeviceMonitor list them, added
// and removed as writers come and go. Each device creates `shmframesrc feed=NAME`.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SHM_FRAME_DEVICE_PROVIDER (gst_shm_frame_device_provider_get_type())
G_DECLARE_FINAL_TYPE(GstShmFrameDeviceProvider, gst_shm_frame_device_provider, GST,
                     SHM_FRAME_DEVICE_PROVIDER, GstDeviceProvider)

#define GST_TYPE_SHM_FRAME_DEVICE (gst_shm_frame_device_get_type())
G_DECLARE_FINAL_TYPE(GstShmFrameDevice, gst_shm_frame_device, GST, SHM_FRAME_DEVICE, GstDevice)

GST_DEVICE_PROVIDER_REGISTER_DECLARE(shmframedeviceprovider);

G_END_DECLS
