// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file viewfinder.h
 * \brief The surface one feed's frames are painted on, with one implementation
 * per painting technique (viewfinder_qimage.cpp, viewfinder_gl.cpp).
 *
 * A viewfinder takes a frame that still lies in the writer's slot, shows it at the
 * next paint and holds it until the next frame replaces it. Zoom, pan, the state
 * banner, the overlay and the pixel inspector's text are shared by every technique
 * and live here.
 */
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <QPoint>
#include <QPointF>
#include <QRect>
#include <QString>
#include <QStringList>

#include <shmframe/error.h>
#include <shmframe/format.h>
#include <shmframe/frame_meta.h>

#include "frame_image.h"
#include "view_geometry.h"

class QMouseEvent;
class QPainter;
class QWheelEvent;
class QWidget;

namespace shmframe::viewer {

/// \brief How frames are painted.
enum class PainterKind {
    Auto,    ///< QImage for RGB and grey formats, OpenGL for YUV when available
    QImage,  ///< QPainter over a QImage of the slot; YUV converted on the CPU
    OpenGl,  ///< QOpenGLWidget: planes uploaded as textures, YUV converted in a shader
};

const char* toString(PainterKind kind);
std::optional<PainterKind> painterKindFromString(const QString& name);

/// \brief True when this display can give QOpenGLWidget a context (false on the
/// offscreen platform without GLX, or when built without Qt OpenGL).
bool openGlAvailable();

/// \brief The OpenGL renderer's name ("llvmpipe (LLVM 15.0.6, 256 bits)"); empty without GL.
QString openGlRenderer();

/// \brief True when OpenGL is rendered by the CPU (Mesa llvmpipe, softpipe, swrast):
/// there the QImage path costs less CPU than the shader path, even for YUV.
bool openGlIsSoftware();

/// \brief The painter a view uses for \a format when \a requested was asked for.
PainterKind resolvePainter(PainterKind requested, PixelFormat format);

/// \brief Text drawn over the picture.
struct ViewDecoration {
    QString banner;            ///< the feed's state ("waiting for writer"), centred
    QStringList overlay;       ///< statistics, top left, when the overlay is on
    QString inspector;         ///< the pixel under the cursor, bottom left
    bool highlighted = false;  ///< the view the keyboard acts on, in a grid
    bool operator==(const ViewDecoration&) const = default;
};

class Viewfinder {
  public:
    struct Callbacks {
        /// A frame was painted for the first time; \a paintTimeNs is CLOCK_MONOTONIC.
        std::function<void(const FrameMeta& meta, std::uint64_t paintTimeNs)> framePainted;
        /// The image pixel under the cursor changed (nullopt: cursor off the image).
        std::function<void(std::optional<QPoint> imagePixel)> hover;
        std::function<void()> activated;
        std::function<void()> doubleClicked;
    };

    Viewfinder() = default;
    Viewfinder(const Viewfinder&) = delete;
    Viewfinder& operator=(const Viewfinder&) = delete;
    virtual ~Viewfinder();

    virtual QWidget* widget() = 0;
    virtual PainterKind kind() const = 0;
    /// \brief A short description of how the current frame is painted ("qimage zero-copy").
    virtual QString paintPath() const = 0;

    /**
     * \brief Shows \a frame at the next paint and holds it until the next one.
     * \return Unsupported for a format this painter cannot show, BadPool for a
     * frame whose planes do not match its format. The previous frame stays then.
     */
    virtual Result<void> setFrame(FrameRef frame) = 0;
    /// \brief Drops the frame (and its lease); the view paints black.
    virtual void clearFrame() = 0;

    const FrameRef& frame() const { return frame_; }
    const ViewGeometry& viewGeometry() const { return geometry_; }
    /// \brief Takes zoom and pan from another viewfinder (when the painter changes).
    void copyGeometry(const Viewfinder& other);

    void fitToView();
    void actualSize();
    /// \brief Zooms around the view's centre.
    void zoomBy(double factor);
    void zoomAt(QPointF viewPos, double factor);
    void panBy(QPointF delta);

    void setDecoration(const ViewDecoration& decoration);
    const ViewDecoration& decoration() const { return decoration_; }
    void setCallbacks(Callbacks callbacks) { callbacks_ = std::move(callbacks); }

    /// \brief Nanoseconds the last YUV conversion took on the CPU (0 if none).
    std::uint64_t lastConversionNs() const { return lastConversionNs_; }

  protected:
    /// \brief Takes a new frame: updates the image size and arms the latency probe.
    void acceptFrame(FrameRef frame);
    void dropFrame();
    /// \brief Drops the frame (and its lease) and shows a still image of \a size instead.
    void acceptStill(QSize size);
    /// \brief Called at the end of each paint: reports the first paint of a frame.
    void paintDone();
    /// \brief Draws banner, overlay, inspector and highlight over \a viewRect.
    void paintDecoration(QPainter& painter, const QRect& viewRect) const;
    void requestUpdate();

    // Input, forwarded by the widgets of each technique.
    void handleResize(QSize size);
    void handleWheel(QWheelEvent* event);
    void handleMousePress(QMouseEvent* event);
    void handleMouseMove(QMouseEvent* event);
    void handleMouseRelease(QMouseEvent* event);
    void handleMouseDoubleClick(QMouseEvent* event);
    void handleLeave();

    std::uint64_t lastConversionNs_ = 0;

  private:
    void reportHover(QPointF viewPos);

    FrameRef frame_;
    bool framePainted_ = true;
    ViewGeometry geometry_;
    ViewDecoration decoration_;
    Callbacks callbacks_;
    bool dragging_ = false;
    QPointF lastDragPos_;
    std::optional<QPoint> hoverPixel_;
    std::optional<QPointF> cursorPos_;
};

/**
 * \brief A viewfinder of \a kind (Auto is not a kind here), parented to \a parent.
 * \return nullptr for OpenGl when openGlAvailable() is false.
 */
std::unique_ptr<Viewfinder> createViewfinder(PainterKind kind, QWidget* parent);

}  // namespace shmframe::viewer
