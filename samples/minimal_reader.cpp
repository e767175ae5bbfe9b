// A minimal shmframe reader: prints the number and first pixel of each frame of
// feed "demo" (or argv[1]), up to argv[2] frames (default 100) or end of stream.
#include <shmframe/shmframe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    const char* feed = argc > 1 ? argv[1] : "demo";
    const long wanted = argc > 2 ? std::atol(argv[2]) : 100;
    auto reader = shmframe::Reader::open(feed, {.waitForWriter = true, .clientName = "minimal"});
    if (!reader) {
        std::fprintf(stderr, "minimal_reader: %s\n", reader.error().message.c_str());
        return 1;
    }
    for (long received = 0; received < wanted;) {
        auto frame = reader->next(std::chrono::seconds(5));  // a read-only view, no copy
        if (!frame) {
            auto code = frame.error().code;
            if (code == shmframe::Errc::EndOfStream) {
                break;
            }
            std::fprintf(stderr, "minimal_reader: %s\n", frame.error().message.c_str());
            if (code == shmframe::Errc::Timeout || code == shmframe::Errc::BadPool) {
                return 1;
            }
            continue;  // writer gone: the reader reconnects by itself
        }
        auto pixel = reinterpret_cast<const unsigned char*>(frame->plane(0).data());
        std::printf("frame %llu: %s, first pixel %u %u %u %u\n",
                    static_cast<unsigned long long>(frame->meta().sequence),
                    frame->format().describe().c_str(), pixel[0], pixel[1], pixel[2], pixel[3]);
        ++received;
    }  // each Frame releases its slot when it goes out of scope
    return 0;
}
