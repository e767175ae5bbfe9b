// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file viewfinder_qimage.h
 * \brief Painting with QPainter: a QImage over the slot for RGB and grey formats
 * (no pixel copy), a CPU conversion into a reused image for YUV.
 */
#pragma once

#include <QImage>
#include <QWidget>

#include "viewfinder.h"

namespace shmframe::viewer {

class ViewfinderQImage final : public QWidget, public Viewfinder {
    Q_OBJECT

  public:
    explicit ViewfinderQImage(QWidget* parent = nullptr);
    ~ViewfinderQImage() override;

    QWidget* widget() override { return this; }
    PainterKind kind() const override { return PainterKind::QImage; }
    QString paintPath() const override;
    Result<void> setFrame(FrameRef frame) override;
    void clearFrame() override;

    /// \brief Shows \a still (a copy, not over a slot) and drops the frame and its
    /// lease: what a paused view shows.
    void showStill(QImage still);

    /// \brief The image the next paint draws (for tests: no copy for RGB formats).
    const QImage& shownImage() const { return needsConversion_ ? converted_ : image_; }

  protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    QSize sizeHint() const override;

  private:
    void convertIfNeeded();

    QImage image_;      // over the slot (RGB, grey)
    QImage converted_;  // YUV converted on the CPU, reused from frame to frame
    bool needsConversion_ = false;
    bool conversionPending_ = false;
};

}  // namespace shmframe::viewer
