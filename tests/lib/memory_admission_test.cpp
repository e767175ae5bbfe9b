// SPDX-License-Identifier: LGPL-2.1-or-later
// Reading how much memory there is, from files whose content we do not trust.
#include "memory_admission.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace shmframe::memory_admission {
namespace {

TEST(MemoryAdmission, MemAvailableIsReadInBytes) {
    EXPECT_EQ(parseMemAvailable("MemTotal:       24683548 kB\nMemFree:        20314388 kB\n"
                                "MemAvailable:   22287900 kB\nBuffers: 1 kB\n"),
              22287900ull * 1024);
    EXPECT_EQ(parseMemAvailable("MemAvailable: 0 kB"), 0u);
}

TEST(MemoryAdmission, HostileMeminfoIsNotUnderstoodRatherThanMisread) {
    EXPECT_FALSE(parseMemAvailable(""));
    EXPECT_FALSE(parseMemAvailable("MemTotal: 5 kB\n"));
    EXPECT_FALSE(parseMemAvailable("MemAvailable: -5 kB\n"));
    EXPECT_FALSE(parseMemAvailable("MemAvailable: 12 MB\n"));
    EXPECT_FALSE(parseMemAvailable("MemAvailable: 12x kB\n"));
    EXPECT_FALSE(parseMemAvailable("MemAvailable: kB\n"));
    // Would overflow 64 bits as a number, or once multiplied by 1024.
    EXPECT_FALSE(parseMemAvailable("MemAvailable: 99999999999999999999999 kB\n"));
    EXPECT_FALSE(parseMemAvailable("MemAvailable: 18014398509481984 kB\n"));
    EXPECT_FALSE(parseMemAvailable(std::string("MemAvailable: 5\0 kB\n", 20)));
}

TEST(MemoryAdmission, CgroupCountersAreBytesOrNoLimit) {
    EXPECT_EQ(parseCgroupBytes("1073741824\n"), 1073741824u);
    EXPECT_FALSE(parseCgroupBytes("max\n"));
    EXPECT_FALSE(parseCgroupBytes(""));
    EXPECT_FALSE(parseCgroupBytes("-1\n"));
    EXPECT_FALSE(parseCgroupBytes("12 34\n"));
    EXPECT_FALSE(parseCgroupBytes("18446744073709551616\n"));
    EXPECT_EQ(parseCgroupBytes("18446744073709551615"), 18446744073709551615ull);
}

TEST(MemoryAdmission, TheCgroupPathComesFromTheRightLine) {
    const std::string hybrid = "9:name=systemd:/\n4:memory:/app/one\n0::/user.slice/x.scope\n";
    EXPECT_EQ(parseCgroupPath(hybrid, true), "/user.slice/x.scope");
    EXPECT_EQ(parseCgroupPath(hybrid, false), "/app/one");
    EXPECT_EQ(parseCgroupPath("0::/\n", true), "");
    EXPECT_EQ(parseCgroupPath("3:cpu,memory,blkio:/a/\n", false), "/a");
    EXPECT_FALSE(parseCgroupPath("4:memoryx:/a\n", false));
    EXPECT_FALSE(parseCgroupPath("garbage", true));
    EXPECT_FALSE(parseCgroupPath("", true));
    // Outside our cgroup namespace, or not absolute: not a path under the mount.
    EXPECT_FALSE(parseCgroupPath("0::/../../etc\n", true));
    EXPECT_FALSE(parseCgroupPath("0::relative\n", true));
}

TEST(MemoryAdmission, SizesAreWrittenForPeople) {
    EXPECT_EQ(describeBytes(1ull << 30), "1.0 GiB (1073741824 bytes)");
    EXPECT_EQ(describeBytes(3ull << 19), "1.5 MiB (1572864 bytes)");
}

TEST(MemoryAdmission, MoreThanThereIsIsRefusedSayingHowMuch) {
    const auto room = headroom();
    ASSERT_TRUE(room) << "no /proc/meminfo?";
    EXPECT_TRUE(admit(4096, "a page"));
    const auto refused = admit(room->bytes + (1ull << 30), "a pool of 9 slots");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("a pool of 9 slots needs "), std::string::npos)
        << refused.error().message;
    // What is available moves between two looks: the message says it, whatever it is.
    EXPECT_NE(refused.error().message.find(" is available to this process ("), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(refused.error().code, Errc::SystemError);
    EXPECT_EQ(refused.error().sysErrno, ENOMEM);
}

}  // namespace
}  // namespace shmframe::memory_admission
