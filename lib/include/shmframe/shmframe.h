// SPDX-License-Identifier: LGPL-2.1-or-later
/// \file shmframe.h \brief Everything of the shmframe library.
#pragma once

#include "shmframe/clock.h"
#include "shmframe/color_convert.h"
#include "shmframe/colorimetry.h"
#include "shmframe/error.h"
#include "shmframe/feed.h"
#include "shmframe/feed_watch.h"
#include "shmframe/format.h"
#include "shmframe/frame_meta.h"
#include "shmframe/log.h"
#include "shmframe/reader.h"
#include "shmframe/version.h"
#include "shmframe/writer.h"
