// SPDX-License-Identifier: LGPL-2.1-or-later
#include "view_geometry.h"

#include <algorithm>
#include <cmath>

namespace shmframe::viewer {

namespace {

bool isEmpty(QSizeF size) {
    return !(size.width() > 0.0) || !(size.height() > 0.0);
}

}  // namespace

void ViewGeometry::setViewSize(QSizeF size) {
    viewSize_ = size;
    if (mode_ == Mode::Fit)
        refit();
    else if (mode_ == Mode::Actual)
        applyActual();
    else
        clampOffset();
}

void ViewGeometry::setImageSize(QSizeF size) {
    if (size == imageSize_)
        return;
    // A new frame size (format change) starts from a full view of it: an old zoom
    // and pan rarely mean anything for a different picture.
    imageSize_ = size;
    mode_ = Mode::Fit;
    refit();
}

void ViewGeometry::fit() {
    mode_ = Mode::Fit;
    refit();
}

void ViewGeometry::actualSize() {
    if (isEmpty(imageSize_))
        return;
    const QPointF viewCentre(viewSize_.width() / 2.0, viewSize_.height() / 2.0);
    // From a fitted view the frame's centre; after the user zoomed or panned, the
    // point they look at.
    actualAnchor_ = mode_ == Mode::Free && !isEmpty(viewSize_)
                        ? viewToImage(viewCentre)
                        : QPointF(imageSize_.width() / 2.0, imageSize_.height() / 2.0);
    mode_ = Mode::Actual;
    applyActual();
}

void ViewGeometry::applyActual() {
    scale_ = 1.0;
    const QPointF viewCentre(viewSize_.width() / 2.0, viewSize_.height() / 2.0);
    // Whole-pixel offsets so that 1:1 is pixel-exact.
    offset_ = QPointF(std::round(viewCentre.x() - actualAnchor_.x()),
                      std::round(viewCentre.y() - actualAnchor_.y()));
    clampOffset();
    offset_ = QPointF(std::round(offset_.x()), std::round(offset_.y()));
}

void ViewGeometry::zoomAt(QPointF viewPos, double factor) {
    if (!(factor > 0.0) || !std::isfinite(factor))
        return;
    setScaleAt(viewPos, scale_ * factor);
}

void ViewGeometry::setScaleAt(QPointF viewPos, double scale) {
    if (isEmpty(imageSize_) || !std::isfinite(scale))
        return;
    const QPointF anchor = viewToImage(viewPos);
    mode_ = Mode::Free;
    scale_ = std::clamp(scale, kMinScale, kMaxScale);
    // Snap to exactly 1 near 1 so wheel steps can land on pixel-exact painting.
    if (std::abs(scale_ - 1.0) < 1e-9)
        scale_ = 1.0;
    offset_ = viewPos - anchor * scale_;
    clampOffset();
}

void ViewGeometry::panBy(QPointF delta) {
    if (isEmpty(imageSize_))
        return;
    mode_ = Mode::Free;
    offset_ += delta;
    clampOffset();
}

QRectF ViewGeometry::imageRectInView() const {
    return QRectF(offset_, imageSize_ * scale_);
}

QPointF ViewGeometry::viewToImage(QPointF viewPos) const {
    return (viewPos - offset_) / scale_;
}

QPointF ViewGeometry::imageToView(QPointF imagePos) const {
    return imagePos * scale_ + offset_;
}

bool ViewGeometry::isPixelExact() const {
    return scale_ == 1.0 && offset_.x() == std::round(offset_.x()) &&
           offset_.y() == std::round(offset_.y());
}

void ViewGeometry::refit() {
    if (isEmpty(imageSize_) || isEmpty(viewSize_)) {
        scale_ = 1.0;
        offset_ = QPointF();
        return;
    }
    scale_ =
        std::min(viewSize_.width() / imageSize_.width(), viewSize_.height() / imageSize_.height());
    scale_ = std::clamp(scale_, kMinScale, kMaxScale);
    // Whole-pixel offsets: a view exactly the image's size shows it pixel-exact.
    offset_ = QPointF(std::round((viewSize_.width() - imageSize_.width() * scale_) / 2.0),
                      std::round((viewSize_.height() - imageSize_.height() * scale_) / 2.0));
}

void ViewGeometry::clampOffset() {
    if (isEmpty(imageSize_))
        return;
    // Keep a strip of the image on screen so a wild drag cannot lose it.
    const double width = imageSize_.width() * scale_;
    const double height = imageSize_.height() * scale_;
    const double keepX = std::min({kKeepVisible, width, viewSize_.width()});
    const double keepY = std::min({kKeepVisible, height, viewSize_.height()});
    const double minX = keepX - width;
    const double maxX = std::max(minX, viewSize_.width() - keepX);
    const double minY = keepY - height;
    const double maxY = std::max(minY, viewSize_.height() - keepY);
    offset_.setX(std::clamp(offset_.x(), minX, maxX));
    offset_.setY(std::clamp(offset_.y(), minY, maxY));
}

}  // namespace shmframe::viewer
