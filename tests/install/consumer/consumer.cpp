// Publishes one frame and reads it back through the installed library.
#include <shmframe/shmframe.h>

#include <cstdio>
#include <cstring>

int main() {
    auto format = shmframe::Format::make(shmframe::PixelFormat::GRAY8, 32, 8);
    auto writer = shmframe::Writer::create("consumer", *format);
    if (!writer) {
        std::fprintf(stderr, "%s\n", writer.error().message.c_str());
        return 1;
    }
    auto reader = shmframe::Reader::open("consumer");
    auto frame = writer->loan();
    std::memset(frame->bytes().data(), 0x5a, frame->bytes().size());
    if (!reader || !writer->publish(std::move(*frame))) {
        return 1;
    }
    auto seen = reader->next(std::chrono::seconds(2));
    const bool ok = seen && std::to_integer<int>(seen->plane(0)[0]) == 0x5a;
    std::printf("consumer: shmframe %s, frame %s\n", SHMFRAME_VERSION_STRING, ok ? "ok" : "BAD");
    return ok ? 0 : 1;
}
