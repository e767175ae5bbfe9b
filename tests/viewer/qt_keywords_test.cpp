// SPDX-License-Identifier: LGPL-2.1-or-later
// A Qt program includes Qt first and keeps Qt's lower-case keywords (no QT_NO_KEYWORDS):
// shmframe's public headers must still compile there, and nothing in them may be a name
// that Qt defines as a macro (slots, signals, emit, foreach).
#include <QtCore/QObject>

#include <gtest/gtest.h>

#include "shmframe/shmframe.h"
#include "test_support.h"

#ifdef QT_NO_KEYWORDS
#error "this test must be built with Qt's keywords on"
#endif

using namespace shmframe;

TEST(QtKeywords, ThePublicHeadersCompileAfterQtWithItsKeywordsOn) {
    test::TempFeedDir dir;
    WriterOptions options;
    options.slotCount = 5;
    auto format = Format::make(PixelFormat::RGBA, 32, 16, {30, 1});
    ASSERT_TRUE(format) << format.error().message;
    auto writer = Writer::create("qt-keywords", *format, options);
    ASSERT_TRUE(writer) << writer.error().message;

    auto info = probeFeed("qt-keywords");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->slotCount, 5u);
    auto reader = Reader::open("qt-keywords");
    ASSERT_TRUE(reader) << reader.error().message;
    ASSERT_TRUE(reader->writer());
    EXPECT_EQ(reader->writer()->slotCount, 5u);
}
