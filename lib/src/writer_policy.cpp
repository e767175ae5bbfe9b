// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/writer_policy.h"

namespace shmframe {

std::string_view toString(WriterPolicy policy) {
    return policy == WriterPolicy::Lossless ? "lossless" : "never-block";
}

std::optional<WriterPolicy> writerPolicyFromString(std::string_view name) {
    if (name == "never-block") {
        return WriterPolicy::NeverBlock;
    }
    if (name == "lossless") {
        return WriterPolicy::Lossless;
    }
    return std::nullopt;
}

}  // namespace shmframe
