// SPDX-License-Identifier: LGPL-2.1-or-later
// The kernel behaviour the writer's wake-ups rest on (lib/src/wake_channel.h): one
// write to an eventfd that nobody reads reaches every epoll watching it edge-
// triggered, every time, and through an epoll nested in another, edge-triggered too.
#include "wake_channel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace shmframe;

namespace {

constexpr uid_t kUid = 1000;

// A reader's set with a listener nested in it, as Reader does.
struct NestedListener {
    UniqueFd listener;
    UniqueFd readerSet;

    explicit NestedListener(WakeChannel& channel, uid_t uid = kUid)
        : listener(std::move(*channel.newListener(uid))),
          readerSet(::epoll_create1(EPOLL_CLOEXEC)) {
        epoll_event event{};
        event.events = EPOLLIN | EPOLLET;
        EXPECT_EQ(::epoll_ctl(readerSet.get(), EPOLL_CTL_ADD, listener.get(), &event), 0);
    }
    // What one epoll_wait(0) on the reader's set finds.
    int ready() const {
        epoll_event events[4];
        return ::epoll_wait(readerSet.get(), events, 4, 0);
    }
};

// One reader of \a uid asking, then the publish that wakes it.
void publishTo(WakeChannel& channel, uid_t uid) {
    channel.request(uid);
    channel.flush();
}

}  // namespace

TEST(WakeChannel, EverySignalReachesEveryNestedListenerOnceAndNoneWithoutOne) {
    auto channel = std::make_unique<WakeChannel>();
    std::vector<NestedListener> readers;
    for (int i = 0; i < 8; ++i) {
        readers.emplace_back(*channel);
    }
    for (const auto& reader : readers) {
        EXPECT_EQ(reader.ready(), 0);
    }
    for (int round = 0; round < 5; ++round) {
        publishTo(*channel, kUid);  // the eventfd stays readable: only the write is an edge
        for (const auto& reader : readers) {
            EXPECT_EQ(reader.ready(), 1) << "round " << round;
            EXPECT_EQ(reader.ready(), 0) << "round " << round;
        }
    }
    publishTo(*channel, kUid);
    publishTo(*channel, kUid);
    EXPECT_EQ(readers[0].ready(), 1);  // two before one wait: one wake-up
    EXPECT_EQ(readers[0].ready(), 0);
}

TEST(WakeChannel, WhatOneReaderDoesWithItsListenerReachesNoOtherReader) {
    auto channel = std::make_unique<WakeChannel>();
    NestedListener honest(*channel);
    NestedListener hostile(*channel);
    // It takes its wake-ups from the listener itself, and cannot read or write it.
    epoll_event events[4];
    publishTo(*channel, kUid);
    EXPECT_EQ(::epoll_wait(hostile.listener.get(), events, 4, 0), 1);
    std::uint64_t value = 1;
    EXPECT_LT(::write(hostile.listener.get(), &value, sizeof(value)), 0);
    EXPECT_LT(::read(hostile.listener.get(), &value, sizeof(value)), 0);
    EXPECT_EQ(honest.ready(), 1);
    // It watches an always-readable fd of its own in it, then closes it all.
    UniqueFd own(::eventfd(1, EFD_CLOEXEC));
    epoll_event event{};
    event.events = EPOLLIN;
    EXPECT_EQ(::epoll_ctl(hostile.listener.get(), EPOLL_CTL_ADD, own.get(), &event), 0);
    EXPECT_EQ(honest.ready(), 0);
    hostile.listener.reset();
    hostile.readerSet.reset();
    publishTo(*channel, kUid);
    EXPECT_EQ(honest.ready(), 1);
    EXPECT_EQ(honest.ready(), 0);
}

TEST(WakeChannel, OnlyAnEpollInstanceIsTakenForAListener) {
    auto channel = std::make_unique<WakeChannel>();
    auto listener = channel->newListener(kUid);
    ASSERT_TRUE(listener);
    EXPECT_TRUE(WakeChannel::isListener(listener->get()));
    UniqueFd eventFd(::eventfd(0, EFD_CLOEXEC));
    EXPECT_FALSE(WakeChannel::isListener(eventFd.get()));
    int ends[2];
    ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
    UniqueFd readEnd(ends[0]);
    UniqueFd writeEnd(ends[1]);
    EXPECT_FALSE(WakeChannel::isListener(readEnd.get()));
    EXPECT_FALSE(WakeChannel::isListener(-1));
}

// Each reader uid has news of its own, so what a reader does to the kernel's budget of
// nested epolls (or anything else) stays with readers of its uid.
TEST(WakeChannel, ReadersOfAnotherUidListenToNewsOfTheirOwn) {
    WakeChannel channel;
    NestedListener mine(channel, kUid);
    NestedListener theirs(channel, kUid + 1);
    publishTo(channel, kUid);
    EXPECT_EQ(mine.ready(), 1);
    EXPECT_EQ(theirs.ready(), 0);
    publishTo(channel, kUid + 1);
    EXPECT_EQ(mine.ready(), 0);
    EXPECT_EQ(theirs.ready(), 1);
    channel.signalAll();
    EXPECT_EQ(mine.ready(), 1);
    EXPECT_EQ(theirs.ready(), 1);
    // A uid whose readers all left is forgotten; a new reader of it gets new news.
    channel.forget(kUid + 1);
    channel.signalAll();
    EXPECT_EQ(mine.ready(), 1);
    EXPECT_EQ(theirs.ready(), 0);
    NestedListener again(channel, kUid + 1);
    publishTo(channel, kUid + 1);
    EXPECT_EQ(again.ready(), 1);
    EXPECT_EQ(mine.ready(), 0);
}

// A publish writes once per uid with a reader asking, and only then: a flush with no
// requests since the last one wakes nobody, and signalAll() takes standing requests.
TEST(WakeChannel, AFlushWakesTheRequestedUidsOnceAndForgetsTheRequests) {
    WakeChannel channel;
    NestedListener mine(channel, kUid);
    NestedListener alsoMine(channel, kUid);
    NestedListener theirs(channel, kUid + 1);
    channel.request(kUid);
    channel.request(kUid);
    channel.request(kUid + 7);  // a uid without readers: nothing to wake
    channel.flush();
    EXPECT_EQ(mine.ready(), 1);
    EXPECT_EQ(alsoMine.ready(), 1);
    EXPECT_EQ(theirs.ready(), 0);
    channel.flush();
    EXPECT_EQ(mine.ready(), 0);
    EXPECT_EQ(theirs.ready(), 0);
    channel.request(kUid + 1);
    channel.signalAll();
    EXPECT_EQ(mine.ready(), 1);
    EXPECT_EQ(theirs.ready(), 1);
    channel.flush();
    EXPECT_EQ(theirs.ready(), 0);
}

// The fd a listener watches, as the kernel lists it in the listener's fdinfo ("tfd:"):
// the writer's eventfd, which the channel never hands out. -1 if not found.
int watchedFd(int epollFd) {
    std::ifstream info("/proc/self/fdinfo/" + std::to_string(epollFd));
    std::string word;
    while (info >> word) {
        if (word == "tfd:") {
            int fd = -1;
            info >> fd;
            return fd;
        }
    }
    return -1;
}

// 2^64 - 2 wake-ups fill an eventfd's counter, and a write to a full one fails with
// EAGAIN (the channel's is non-blocking): the channel then empties it and writes
// again, so wake-ups go on.
TEST(WakeChannel, AFullCounterIsEmptiedAndTheWakeUpStillArrives) {
    WakeChannel channel;
    NestedListener reader(channel);
    const int news = watchedFd(reader.listener.get());
    ASSERT_GE(news, 0) << "no tfd: line in the listener's fdinfo";
    const std::uint64_t nearlyFull = UINT64_MAX - 1;
    ASSERT_EQ(::write(news, &nearlyFull, sizeof(nearlyFull)), ssize_t(sizeof(nearlyFull)));
    EXPECT_EQ(reader.ready(), 1);  // that write was an edge too
    const std::uint64_t one = 1;
    ASSERT_LT(::write(news, &one, sizeof(one)), 0) << "the counter is not full";
    ASSERT_EQ(errno, EAGAIN);
    publishTo(channel, kUid);
    EXPECT_EQ(reader.ready(), 1) << "a wake-up was lost to a full counter";
    publishTo(channel, kUid);
    EXPECT_EQ(reader.ready(), 1);
}
