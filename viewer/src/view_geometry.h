// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file view_geometry.h
 * \brief Where a frame lies in a view: fit, 1:1, zoom around a point, pan.
 *
 * Pure arithmetic, no widget, so the painting paths share it and tests check it
 * without a display.
 */
#pragma once

#include <QPointF>
#include <QRectF>
#include <QSizeF>

namespace shmframe::viewer {

class ViewGeometry {
  public:
    /// Fit and Actual follow the view size (Actual keeps one frame point at the view's
    /// centre at 1:1); Free keeps the user's scale and offset.
    enum class Mode { Fit, Actual, Free };

    static constexpr double kMinScale = 1.0 / 64.0;
    static constexpr double kMaxScale = 64.0;
    /// Pixels of the image that stay visible however far the user pans.
    static constexpr double kKeepVisible = 32.0;

    void setViewSize(QSizeF size);
    void setImageSize(QSizeF size);
    QSizeF viewSize() const { return viewSize_; }
    QSizeF imageSize() const { return imageSize_; }

    Mode mode() const { return mode_; }
    /// View pixels per image pixel.
    double scale() const { return scale_; }
    /// Where the image's top-left corner lies in view coordinates.
    QPointF offset() const { return offset_; }

    /// Scales the whole image into the view, keeping its aspect ratio, centred.
    void fit();
    /// One image pixel per view pixel: centred on the frame when it was fitted, else on
    /// the frame point at the view's centre; stays so when the view resizes.
    void actualSize();
    /// Multiplies the scale by \a factor; the image point under \a viewPos stays put.
    void zoomAt(QPointF viewPos, double factor);
    /// Sets the scale; the image point under \a viewPos stays put.
    void setScaleAt(QPointF viewPos, double scale);
    /// Moves the image by \a delta view pixels.
    void panBy(QPointF delta);

    /// The image's rectangle in view coordinates.
    QRectF imageRectInView() const;
    QPointF viewToImage(QPointF viewPos) const;
    QPointF imageToView(QPointF imagePos) const;
    /// True when the image maps to whole view pixels one to one (pixel-exact painting).
    bool isPixelExact() const;

  private:
    void refit();
    void applyActual();
    void clampOffset();

    QSizeF viewSize_;
    QSizeF imageSize_;
    Mode mode_ = Mode::Fit;
    double scale_ = 1.0;
    QPointF offset_;
    QPointF actualAnchor_;  // the frame point Actual keeps at the view's centre
};

}  // namespace shmframe::viewer
