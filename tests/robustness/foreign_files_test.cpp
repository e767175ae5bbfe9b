// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframe never replaces, truncates or removes a file it did not make: a regular file
// or another program's socket at a feed's socket path, a lock-named file without the
// "shmframe-lock <pid>" line. Writers, readers, probes and listings are each pointed
// at such files for real, and the files must survive untouched.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class ForeignFiles : public RobustnessTest {
  protected:
    std::string pathOf(const std::string& name) const { return dir_.path() + "/" + name; }

    void writeFile(const std::string& name, const std::string& content) const {
        std::ofstream(pathOf(name)) << content;
    }

    std::string contentOf(const std::string& name) const {
        std::ifstream in(pathOf(name));
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    // A socket another program bound and then left behind (it is not listening).
    void leaveDeadSocket(const std::string& name) const {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, pathOf(name).c_str(), sizeof(address.sun_path) - 1);
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)),
                  0);
    }

    ino_t inodeOf(const std::string& name) const {
        struct stat info {};
        return ::lstat(pathOf(name).c_str(), &info) == 0 ? info.st_ino : 0;
    }

    // The test's own foreign files go before RobustnessTest checks the dir is empty.
    void TearDown() override {
        for (const auto& name : dir_.entries()) {
            ::unlink(pathOf(name).c_str());
        }
        RobustnessTest::TearDown();
    }
};

const std::string kNotes = "my notes, not a socket\n";

}  // namespace

TEST_F(ForeignFiles, AWriterRefusesARegularFileAtItsSocketPathAndLeavesItAlone) {
    writeFile("notes.sock", kNotes);
    auto writer = Writer::create(pathOf("notes.sock"), smallFormat());
    ASSERT_FALSE(writer);
    EXPECT_NE(writer.error().message.find("a regular file"), std::string::npos)
        << writer.error().message;
    EXPECT_NE(writer.error().message.find(pathOf("notes.sock")), std::string::npos);
    EXPECT_EQ(contentOf("notes.sock"), kNotes);
    // The lock it made for itself is gone again; only the user's file is left.
    EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"notes.sock"}));
}

TEST_F(ForeignFiles, AWriterRefusesALockNamedFileWithoutTheShmframeMarkerAndLeavesItAlone) {
    writeFile("build.lock", "12\n");
    const ino_t inode = inodeOf("build.lock");
    auto writer = Writer::create(pathOf("build.sock"), smallFormat());
    ASSERT_FALSE(writer);
    EXPECT_NE(writer.error().message.find("shmframe-lock"), std::string::npos)
        << writer.error().message;
    EXPECT_EQ(contentOf("build.lock"), "12\n") << "never truncated";
    EXPECT_EQ(inodeOf("build.lock"), inode);
    EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"build.lock"}));
    // By name in the feed dir too.
    auto named = Writer::create("build", smallFormat());
    ASSERT_FALSE(named);
    EXPECT_EQ(contentOf("build.lock"), "12\n");
}

TEST_F(ForeignFiles, AWriterRefusesAnotherProgramsDeadSocketAndLeavesItAlone) {
    leaveDeadSocket("app.sock");
    const ino_t inode = inodeOf("app.sock");
    auto writer = Writer::create("app", smallFormat());
    ASSERT_FALSE(writer);
    EXPECT_NE(writer.error().message.find("a socket"), std::string::npos) << writer.error().message;
    EXPECT_EQ(inodeOf("app.sock"), inode);
    EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"app.sock"}));
}

TEST_F(ForeignFiles, ReadersProbesAndListingsLeaveARegularFileAtTheSocketPathAlone) {
    writeFile("notes.sock", kNotes);
    writeFile("notes.lock", "shmframe-lock 1\n");  // even beside a free shmframe lock
    auto reader = Reader::open(pathOf("notes.sock"));
    ASSERT_FALSE(reader);
    EXPECT_NE(reader.error().message.find("regular file"), std::string::npos)
        << reader.error().message;
    EXPECT_FALSE(probeFeed(pathOf("notes.sock")));
    EXPECT_TRUE(listFeeds().empty());
    EXPECT_EQ(contentOf("notes.sock"), kNotes);
}

TEST_F(ForeignFiles, ReadersProbesAndListingsLeaveAnotherProgramsDeadSocketAndLockAlone) {
    leaveDeadSocket("app.sock");
    writeFile("app.lock", "4242\n");  // a lock file of that other program
    const ino_t socketInode = inodeOf("app.sock");
    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("app", options);
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_FALSE(reader->next(100ms));
    EXPECT_FALSE(probeFeed("app"));
    EXPECT_TRUE(listFeeds().empty());
    EXPECT_EQ(inodeOf("app.sock"), socketInode);
    EXPECT_EQ(contentOf("app.lock"), "4242\n");
    EXPECT_EQ(dir_.entries(), (std::vector<std::string>{"app.lock", "app.sock"}));
}

TEST_F(ForeignFiles, ALockFileCarriesTheShmframeMarkerAndTheWritersPid) {
    auto writer = Writer::create("mine", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    EXPECT_EQ(contentOf("mine.lock"), "shmframe-lock " + std::to_string(::getpid()) + "\n");
    writer->close();
    EXPECT_TRUE(dir_.entries().empty());
}
