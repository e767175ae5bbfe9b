// Links the installed shmframe::opencv target (the header compiles and links).
#include <shmframe/opencv.h>
#include <shmframe/version.h>

#include <cstdio>

int main() {
    std::printf("consumer_opencv: shmframe %s with OpenCV %s\n", SHMFRAME_VERSION_STRING,
                CV_VERSION);
    return 0;
}
