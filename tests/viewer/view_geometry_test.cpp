// SPDX-License-Identifier: LGPL-2.1-or-later
// Where the frame lies in the view: fit, 1:1, zoom around the cursor, pan.
#include <gtest/gtest.h>

#include "view_geometry.h"

namespace shmframe::viewer {
namespace {

ViewGeometry make(QSizeF view, QSizeF image) {
    ViewGeometry geo;
    geo.setViewSize(view);
    geo.setImageSize(image);
    return geo;
}

TEST(ViewGeometry, FitKeepsTheAspectRatioAndCentresTheFrame) {
    ViewGeometry geo = make({800, 800}, {1920, 1080});
    EXPECT_EQ(geo.mode(), ViewGeometry::Mode::Fit);
    EXPECT_DOUBLE_EQ(geo.scale(), 800.0 / 1920.0);
    const QRectF rect = geo.imageRectInView();
    EXPECT_DOUBLE_EQ(rect.width(), 800.0);
    EXPECT_NEAR(rect.height(), 450.0, 1e-9);
    EXPECT_NEAR(rect.center().y(), 400.0, 0.5);  // letterboxed, centred
    EXPECT_NEAR(rect.left(), 0.0, 1e-9);
}

TEST(ViewGeometry, FitEnlargesASmallFrameToFillTheView) {
    ViewGeometry geo = make({1280, 720}, {320, 240});
    EXPECT_DOUBLE_EQ(geo.scale(), 3.0);
    EXPECT_NEAR(geo.imageRectInView().center().x(), 640.0, 0.5);
}

TEST(ViewGeometry, AViewOfTheFrameSizeShowsItPixelExact) {
    ViewGeometry geo = make({328, 240}, {328, 240});
    EXPECT_TRUE(geo.isPixelExact());
    EXPECT_EQ(geo.offset(), QPointF(0, 0));
}

TEST(ViewGeometry, ResizingTheViewRefitsInFitMode) {
    ViewGeometry geo = make({640, 480}, {640, 480});
    geo.setViewSize({320, 240});
    EXPECT_DOUBLE_EQ(geo.scale(), 0.5);
}

TEST(ViewGeometry, ActualSizeShowsOneFramePixelPerScreenPixelAroundTheCentre) {
    ViewGeometry geo = make({800, 600}, {1920, 1080});
    const QPointF centre(400, 300);
    const QPointF before = geo.viewToImage(centre);
    geo.actualSize();
    EXPECT_EQ(geo.mode(), ViewGeometry::Mode::Actual);
    EXPECT_DOUBLE_EQ(geo.scale(), 1.0);
    EXPECT_TRUE(geo.isPixelExact());
    const QPointF after = geo.viewToImage(centre);
    EXPECT_NEAR(after.x(), before.x(), 1.0);
    EXPECT_NEAR(after.y(), before.y(), 1.0);
}

TEST(ViewGeometry, ActualSizeStaysCentredWhenTheViewResizes) {
    ViewGeometry geo;
    geo.setImageSize({320, 240});
    geo.setViewSize({100, 30});  // before layout: a tiny view
    geo.actualSize();
    geo.setViewSize({640, 480});
    EXPECT_TRUE(geo.isPixelExact());
    EXPECT_EQ(geo.offset(), QPointF(160, 120));
}

TEST(ViewGeometry, ActualSizeAfterZoomingKeepsThePointLookedAt) {
    ViewGeometry geo = make({800, 600}, {1920, 1080});
    geo.zoomAt({100, 100}, 3.0);
    const QPointF looked = geo.viewToImage({400, 300});
    geo.actualSize();
    const QPointF now = geo.viewToImage({400, 300});
    EXPECT_NEAR(now.x(), looked.x(), 1.0);
    EXPECT_NEAR(now.y(), looked.y(), 1.0);
}

TEST(ViewGeometry, WheelZoomKeepsThePixelUnderTheCursorInPlace) {
    ViewGeometry geo = make({800, 600}, {1920, 1080});
    const QPointF cursor(123, 456);
    const QPointF under = geo.viewToImage(cursor);
    const double scale = geo.scale();
    geo.zoomAt(cursor, 1.25);
    EXPECT_DOUBLE_EQ(geo.scale(), scale * 1.25);
    const QPointF still = geo.viewToImage(cursor);
    EXPECT_NEAR(still.x(), under.x(), 1e-6);
    EXPECT_NEAR(still.y(), under.y(), 1e-6);
    geo.zoomAt(cursor, 1.0 / 1.25);
    EXPECT_NEAR(geo.scale(), scale, 1e-12);
}

TEST(ViewGeometry, ZoomStaysWithinSensibleLimits) {
    ViewGeometry geo = make({800, 600}, {640, 480});
    for (int i = 0; i < 100; ++i)
        geo.zoomAt({10, 10}, 2.0);
    EXPECT_DOUBLE_EQ(geo.scale(), ViewGeometry::kMaxScale);
    for (int i = 0; i < 100; ++i)
        geo.zoomAt({10, 10}, 0.5);
    EXPECT_DOUBLE_EQ(geo.scale(), ViewGeometry::kMinScale);
    geo.zoomAt({10, 10}, 0.0);  // ignored, not a crash or a zero scale
    geo.zoomAt({10, 10}, -3.0);
    EXPECT_DOUBLE_EQ(geo.scale(), ViewGeometry::kMinScale);
}

TEST(ViewGeometry, DraggingPansTheFrame) {
    ViewGeometry geo = make({800, 600}, {1920, 1080});
    geo.actualSize();
    const QPointF before = geo.offset();
    geo.panBy({-50, 20});
    EXPECT_EQ(geo.offset(), before + QPointF(-50, 20));
    EXPECT_EQ(geo.mode(), ViewGeometry::Mode::Free);
}

TEST(ViewGeometry, PanningFarAwayKeepsPartOfTheFrameVisible) {
    ViewGeometry geo = make({800, 600}, {1920, 1080});
    geo.actualSize();
    geo.panBy({100000, 100000});
    QRectF visible = geo.imageRectInView().intersected(QRectF(0, 0, 800, 600));
    EXPECT_GE(visible.width(), ViewGeometry::kKeepVisible - 1e-9);
    EXPECT_GE(visible.height(), ViewGeometry::kKeepVisible - 1e-9);
    geo.panBy({-300000, -300000});
    visible = geo.imageRectInView().intersected(QRectF(0, 0, 800, 600));
    EXPECT_GE(visible.width(), ViewGeometry::kKeepVisible - 1e-9);
    EXPECT_GE(visible.height(), ViewGeometry::kKeepVisible - 1e-9);
}

TEST(ViewGeometry, ANewFrameSizeStartsFromAFullView) {
    ViewGeometry geo = make({800, 600}, {640, 480});
    geo.zoomAt({0, 0}, 4.0);
    geo.setImageSize({1600, 1200});
    EXPECT_EQ(geo.mode(), ViewGeometry::Mode::Fit);
    EXPECT_DOUBLE_EQ(geo.scale(), 0.5);
}

TEST(ViewGeometry, ViewAndImageCoordinatesRoundTrip) {
    ViewGeometry geo = make({1000, 700}, {1920, 1080});
    geo.zoomAt({321, 123}, 3.7);
    geo.panBy({-17, 9});
    const QPointF point(777.25, 333.5);
    const QPointF back = geo.imageToView(geo.viewToImage(point));
    EXPECT_NEAR(back.x(), point.x(), 1e-9);
    EXPECT_NEAR(back.y(), point.y(), 1e-9);
}

TEST(ViewGeometry, AnEmptyViewOrFrameIsHarmless) {
    ViewGeometry geo;
    geo.fit();
    geo.zoomAt({1, 1}, 2.0);
    geo.panBy({5, 5});
    EXPECT_DOUBLE_EQ(geo.scale(), 1.0);
    geo.setImageSize({640, 480});
    EXPECT_DOUBLE_EQ(geo.scale(), 1.0);  // no view yet
}

}  // namespace
}  // namespace shmframe::viewer
