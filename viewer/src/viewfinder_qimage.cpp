// SPDX-License-Identifier: LGPL-2.1-or-later
#include "viewfinder_qimage.h"

#include <cmath>

#include <QPaintEvent>
#include <QPainter>
#include <QRegion>

#include <shmframe/clock.h>
#include <shmframe/reader.h>

#include "yuv_convert.h"

namespace shmframe::viewer {

ViewfinderQImage::ViewfinderQImage(QWidget* parent) : QWidget(parent) {
    // Every pixel is painted in paintEvent: skip Qt's background fill.
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    setMinimumSize(64, 48);
}

ViewfinderQImage::~ViewfinderQImage() = default;

QString ViewfinderQImage::paintPath() const {
    if (needsConversion_)
        return QStringLiteral("qimage, CPU YUV conversion");
    return QStringLiteral("qimage, zero-copy");
}

Result<void> ViewfinderQImage::setFrame(FrameRef frame) {
    if (!frame || !frame->valid())
        return Error::make(Errc::InvalidArgument, "no frame to show");
    const Format& format = frame->format();
    if (isYuv(format.pixelFormat)) {
        // Converted at paint time, so frames replaced before a paint cost nothing.
        if (auto checked = checkPlanes(format, planesOf(*frame)); !checked)
            return checked;
        image_ = QImage();
        needsConversion_ = true;
        conversionPending_ = true;
        acceptFrame(std::move(frame));
        return {};
    }
    auto wrapped = wrapFrame(frame);
    if (!wrapped)
        return wrapped.error();
    // Replacing the image drops the previous frame's last reference (and lease)
    // unless a snapshot still holds a copy of it.
    image_ = std::move(*wrapped);
    needsConversion_ = false;
    conversionPending_ = false;
    converted_ = QImage();
    acceptFrame(std::move(frame));
    return {};
}

void ViewfinderQImage::clearFrame() {
    image_ = QImage();
    converted_ = QImage();
    needsConversion_ = false;
    conversionPending_ = false;
    dropFrame();
}

void ViewfinderQImage::showStill(QImage still) {
    const QSize size = still.size();
    image_ = std::move(still);
    converted_ = QImage();
    needsConversion_ = false;
    conversionPending_ = false;
    acceptStill(size);
}

void ViewfinderQImage::convertIfNeeded() {
    if (!conversionPending_ || !frame())
        return;
    conversionPending_ = false;
    const std::uint64_t start = monotonicNs();
    // setFrame() checked the planes; a failure here leaves the previous picture.
    if (convertYuvToRgb32(frame()->format(), planesOf(*frame()), converted_))
        lastConversionNs_ = monotonicNs() - start;
}

void ViewfinderQImage::paintEvent(QPaintEvent* event) {
    QPainter painter(this);
    const QRect view = rect();
    convertIfNeeded();
    const QImage& image = shownImage();
    if (image.isNull()) {
        painter.fillRect(event->rect(), Qt::black);
        paintDecoration(painter, view);
        return;
    }
    const ViewGeometry& geo = viewGeometry();
    const QRectF target = geo.imageRectInView();
    // Black where the picture is not, and under it when it has alpha (alpha is shown
    // as if composited over black).
    if (image.hasAlphaChannel()) {
        painter.fillRect(event->rect(), Qt::black);
    } else {
        // Filling a 4K view that the picture covers anyway would cost a full extra
        // pass: fill only around the pixels the picture surely covers.
        const QRect covered(
            QPoint(int(std::ceil(target.left())), int(std::ceil(target.top()))),
            QPoint(int(std::floor(target.right())) - 1, int(std::floor(target.bottom())) - 1));
        for (const QRect& part : QRegion(event->rect()).subtracted(QRegion(covered)))
            painter.fillRect(part, Qt::black);
    }
    if (geo.isPixelExact()) {
        // Unscaled blit: no resampling, pixel-exact.
        painter.drawImage(geo.offset().toPoint(), image);
    } else {
        // Only the visible part: a zoomed-in 4K frame must not be scaled whole.
        const QRectF visible = target.intersected(QRectF(view));
        if (!visible.isEmpty()) {
            const QRectF source(geo.viewToImage(visible.topLeft()),
                                geo.viewToImage(visible.bottomRight()));
            // Smooth when shrinking (nearest drops whole rows and columns), nearest when
            // enlarging so that single pixels stay visible for inspection.
            painter.setRenderHint(QPainter::SmoothPixmapTransform, geo.scale() < 1.0);
            painter.drawImage(visible, image, source);
        }
    }
    paintDecoration(painter, view);
    painter.end();
    paintDone();
}

void ViewfinderQImage::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    handleResize(size());
}

void ViewfinderQImage::wheelEvent(QWheelEvent* event) {
    handleWheel(event);
}

void ViewfinderQImage::mousePressEvent(QMouseEvent* event) {
    handleMousePress(event);
}

void ViewfinderQImage::mouseMoveEvent(QMouseEvent* event) {
    handleMouseMove(event);
}

void ViewfinderQImage::mouseReleaseEvent(QMouseEvent* event) {
    handleMouseRelease(event);
}

void ViewfinderQImage::mouseDoubleClickEvent(QMouseEvent* event) {
    handleMouseDoubleClick(event);
}

void ViewfinderQImage::leaveEvent(QEvent* event) {
    QWidget::leaveEvent(event);
    handleLeave();
}

QSize ViewfinderQImage::sizeHint() const {
    if (frame())
        return QSize(int(frame()->format().width), int(frame()->format().height));
    return QSize(640, 480);
}

}  // namespace shmframe::viewer
