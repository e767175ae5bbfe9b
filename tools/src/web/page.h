// SPDX-License-Identifier: LGPL-2.1-or-later
// The single page of `shmframe web` (tools/web/index.html, built into the binary).
#pragma once

#include <string_view>

namespace shmframe::cli::web {

/// The page's HTML, with its script and style inline.
std::string_view pageHtml();

}  // namespace shmframe::cli::web
