// A minimal shmframe writer: RGBA 640x480 frames at 30 fps on feed "demo".
// Pixel (x, y) of frame n is (x + n, y, n, 255), each channel modulo 256.
#include <shmframe/shmframe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
    const char* feed = argc > 1 ? argv[1] : "demo";
    const long frames = argc > 2 ? std::atol(argv[2]) : 300;
    auto format = shmframe::Format::make(shmframe::PixelFormat::RGBA, 640, 480, {30, 1});
    auto writer = shmframe::Writer::create(feed, *format);
    if (!writer) {
        std::fprintf(stderr, "minimal_writer: %s\n", writer.error().message.c_str());
        return 1;
    }
    for (long n = 0; n < frames; ++n) {
        auto frame = writer->loan();  // a slot of the shared pool, written in place
        if (!frame) {
            continue;  // every slot busy: skip this frame
        }
        const auto stride = frame->format().planes[0].stride;
        for (std::uint32_t y = 0; y < 480; ++y) {
            auto* row = reinterpret_cast<unsigned char*>(frame->plane(0).data() + y * stride);
            for (std::uint32_t x = 0; x < 640; ++x) {
                unsigned char* pixel = row + 4 * x;
                pixel[0] = (x + n) & 255, pixel[1] = y & 255, pixel[2] = n & 255, pixel[3] = 255;
            }
        }
        if (!writer->publish(std::move(*frame), {.pts = n * 33'333'333ull})) {
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(33));
    }
    return 0;  // the Writer's destructor sends end of stream and removes the socket
}
