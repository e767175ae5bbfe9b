// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_thumbnails.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "pixel_probe.h"

namespace shmframe::viewer {

QImage sampleThumbnail(const Format& format, const FramePlanes& planes, QSize box) {
    if (format.width == 0 || format.height == 0 || box.isEmpty())
        return {};
    const double scale =
        std::min({double(box.width()) / format.width, double(box.height()) / format.height, 1.0});
    const int width = std::max(1, int(format.width * scale));
    const int height = std::max(1, int(format.height * scale));
    QImage thumbnail(width, height, QImage::Format_RGB32);
    for (int y = 0; y < height; ++y) {
        auto* row = reinterpret_cast<QRgb*>(thumbnail.scanLine(y));
        const int sourceY = int((y + 0.5) * format.height / height);
        for (int x = 0; x < width; ++x) {
            const int sourceX = int((x + 0.5) * format.width / width);
            const auto probe = probePixel(format, planes, sourceX, sourceY);
            if (!probe)
                return {};
            row[x] = probe->rgb | 0xff000000u;
        }
    }
    return thumbnail;
}

QImage FeedThumbnails::grab(const std::string& feed) {
    auto found = readers_.find(feed);
    if (found == readers_.end()) {
        ReaderOptions options;
        options.mode = ReadMode::Latest;
        options.waitForWriter = false;
        options.reconnect = true;
        options.clientName = "shmframe-viewer picker";
        auto reader = Reader::open(feed, options);
        if (!reader)
            return {};
        found = readers_.emplace(feed, std::move(*reader)).first;
    }
    // Latest mode: the newest frame only; each older one is released as it is replaced.
    std::optional<Frame> latest;
    for (int i = 0; i < 64; ++i) {
        auto next = found->second.next(std::chrono::nanoseconds(0));
        if (next) {
            latest.emplace(std::move(*next));
            continue;
        }
        const Errc code = next.error().code;
        if (code == Errc::WouldBlock || code == Errc::Timeout)
            break;
        if (code != Errc::WriterGone && code != Errc::EndOfStream) {
            readers_.erase(found);  // opened again at the next call
            return {};
        }
    }
    if (!latest)
        return {};
    return sampleThumbnail(latest->format(), planesOf(*latest), box_);
    // The frame, and its lease, go here.
}

void FeedThumbnails::retain(const std::vector<std::string>& keep) {
    for (auto it = readers_.begin(); it != readers_.end();) {
        if (std::find(keep.begin(), keep.end(), it->first) == keep.end())
            it = readers_.erase(it);
        else
            ++it;
    }
}

}  // namespace shmframe::viewer
