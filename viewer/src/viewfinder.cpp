// SPDX-License-Identifier: LGPL-2.1-or-later
#include "viewfinder.h"

#include <cmath>

#include <QFontDatabase>
#include <QGuiApplication>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <QWidget>

#include <shmframe/clock.h>
#include <shmframe/reader.h>

#include "viewfinder_qimage.h"

#ifdef SHMFRAME_VIEWER_HAVE_OPENGL
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>

#include "viewfinder_gl.h"
#endif

namespace shmframe::viewer {

const char* toString(PainterKind kind) {
    switch (kind) {
        case PainterKind::Auto:
            return "auto";
        case PainterKind::QImage:
            return "qimage";
        case PainterKind::OpenGl:
            return "opengl";
    }
    return "auto";
}

std::optional<PainterKind> painterKindFromString(const QString& name) {
    const QString lower = name.trimmed().toLower();
    if (lower == QLatin1String("auto"))
        return PainterKind::Auto;
    if (lower == QLatin1String("qimage") || lower == QLatin1String("qpainter"))
        return PainterKind::QImage;
    if (lower == QLatin1String("opengl") || lower == QLatin1String("gl"))
        return PainterKind::OpenGl;
    return std::nullopt;
}

namespace {

struct OpenGlProbe {
    bool available = false;
    QString renderer;
};

const OpenGlProbe& probeOpenGl() {
    // Probed once: a context that can be made current on an offscreen surface is
    // what QOpenGLWidget needs too.
    static const OpenGlProbe probe = [] {
        OpenGlProbe result;
#ifdef SHMFRAME_VIEWER_HAVE_OPENGL
        if (!QGuiApplication::instance())
            return result;
        QOpenGLContext context;
        if (!context.create())
            return result;
        QOffscreenSurface surface;
        surface.setFormat(context.format());
        surface.create();
        if (!surface.isValid() || !context.makeCurrent(&surface))
            return result;
        result.available = true;
        const auto* name = context.functions()->glGetString(GL_RENDERER);
        if (name)
            result.renderer = QString::fromLatin1(reinterpret_cast<const char*>(name));
        context.doneCurrent();
#endif
        return result;
    }();
    return probe;
}

}  // namespace

bool openGlAvailable() {
    return probeOpenGl().available;
}

QString openGlRenderer() {
    return probeOpenGl().renderer;
}

bool openGlIsSoftware() {
    // Lets auto pick OpenGL for YUV on a CPU renderer too: to measure it, and to test
    // the switch between painters under Xvfb.
    if (qEnvironmentVariableIntValue("SHMFRAME_VIEWER_GL_IS_HARDWARE") == 1)
        return false;
    const QString renderer = openGlRenderer().toLower();
    return renderer.contains(QLatin1String("llvmpipe")) ||
           renderer.contains(QLatin1String("softpipe")) ||
           renderer.contains(QLatin1String("software")) ||
           renderer.contains(QLatin1String("swrast"));
}

PainterKind resolvePainter(PainterKind requested, PixelFormat format) {
    switch (requested) {
        case PainterKind::QImage:
            return PainterKind::QImage;
        case PainterKind::OpenGl:
            return openGlAvailable() ? PainterKind::OpenGl : PainterKind::QImage;
        case PainterKind::Auto:
            break;
    }
    // RGB and grey: a QImage over the slot costs no conversion at all. YUV needs one,
    // which a GPU's shader does for free; a CPU-rendered OpenGL (Mesa llvmpipe, as
    // under Xvfb) spends several times the CPU of our own conversion (docs/viewer.md).
    return isYuv(format) && openGlAvailable() && !openGlIsSoftware() ? PainterKind::OpenGl
                                                                     : PainterKind::QImage;
}

std::unique_ptr<Viewfinder> createViewfinder(PainterKind kind, QWidget* parent) {
    switch (kind) {
        case PainterKind::OpenGl:
#ifdef SHMFRAME_VIEWER_HAVE_OPENGL
            if (openGlAvailable())
                return std::make_unique<ViewfinderGl>(parent);
#endif
            return nullptr;
        case PainterKind::Auto:
        case PainterKind::QImage:
            break;
    }
    return std::make_unique<ViewfinderQImage>(parent);
}

Viewfinder::~Viewfinder() = default;

void Viewfinder::copyGeometry(const Viewfinder& other) {
    geometry_ = other.geometry_;
    decoration_ = other.decoration_;
}

void Viewfinder::fitToView() {
    geometry_.fit();
    requestUpdate();
}

void Viewfinder::actualSize() {
    geometry_.actualSize();
    requestUpdate();
}

void Viewfinder::zoomBy(double factor) {
    const QSizeF view = geometry_.viewSize();
    zoomAt(QPointF(view.width() / 2.0, view.height() / 2.0), factor);
}

void Viewfinder::zoomAt(QPointF viewPos, double factor) {
    geometry_.zoomAt(viewPos, factor);
    if (cursorPos_)
        reportHover(*cursorPos_);
    requestUpdate();
}

void Viewfinder::panBy(QPointF delta) {
    geometry_.panBy(delta);
    requestUpdate();
}

void Viewfinder::setDecoration(const ViewDecoration& decoration) {
    if (decoration == decoration_)
        return;
    decoration_ = decoration;
    requestUpdate();
}

void Viewfinder::acceptFrame(FrameRef frame) {
    const Format& format = frame->format();
    geometry_.setImageSize(QSizeF(format.width, format.height));
    frame_ = std::move(frame);
    framePainted_ = false;
    requestUpdate();
}

void Viewfinder::dropFrame() {
    frame_.reset();
    framePainted_ = true;
    requestUpdate();
}

void Viewfinder::acceptStill(QSize size) {
    geometry_.setImageSize(QSizeF(size));
    dropFrame();
}

void Viewfinder::paintDone() {
    if (framePainted_ || !frame_)
        return;
    framePainted_ = true;
    if (callbacks_.framePainted)
        callbacks_.framePainted(frame_->meta(), monotonicNs());
}

void Viewfinder::requestUpdate() {
    if (QWidget* w = widget())
        w->update();
}

namespace {

// A dark box with light text: readable over any picture.
void drawTextBox(QPainter& painter, const QRect& viewRect, const QStringList& lines,
                 Qt::Alignment where, const QFont& font) {
    if (lines.isEmpty())
        return;
    painter.setFont(font);
    const QFontMetrics metrics(font);
    const int margin = 6;
    int width = 0;
    for (const QString& line : lines)
        width = std::max(width, metrics.horizontalAdvance(line));
    const int height = metrics.lineSpacing() * int(lines.size());
    QRect box(0, 0, width + 2 * margin, height + 2 * margin);
    const int gap = 8;
    if (where & Qt::AlignHCenter)
        box.moveLeft(viewRect.center().x() - box.width() / 2);
    else
        box.moveLeft(viewRect.left() + gap);
    if (where & Qt::AlignVCenter)
        box.moveTop(viewRect.center().y() - box.height() / 2);
    else if (where & Qt::AlignBottom)
        box.moveBottom(viewRect.bottom() - gap);
    else
        box.moveTop(viewRect.top() + gap);
    painter.setPen(Qt::NoPen);
    painter.setBrush(QColor(0, 0, 0, 170));
    painter.drawRoundedRect(box, 4, 4);
    painter.setPen(QColor(235, 235, 235));
    int y = box.top() + margin + metrics.ascent();
    for (const QString& line : lines) {
        const int x = (where & Qt::AlignHCenter)
                          ? box.left() + (box.width() - metrics.horizontalAdvance(line)) / 2
                          : box.left() + margin;
        painter.drawText(x, y, line);
        y += metrics.lineSpacing();
    }
}

}  // namespace

void Viewfinder::paintDecoration(QPainter& painter, const QRect& viewRect) const {
    painter.save();
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    drawTextBox(painter, viewRect, decoration_.overlay, Qt::AlignLeft | Qt::AlignTop, fixed);
    if (!decoration_.inspector.isEmpty())
        drawTextBox(painter, viewRect, {decoration_.inspector}, Qt::AlignLeft | Qt::AlignBottom,
                    fixed);
    if (!decoration_.banner.isEmpty()) {
        QFont large = painter.font();
        large.setPointSizeF(large.pointSizeF() * 1.3);
        drawTextBox(painter, viewRect, decoration_.banner.split(QLatin1Char('\n')),
                    Qt::AlignHCenter | Qt::AlignVCenter, large);
    }
    if (decoration_.highlighted) {
        painter.setBrush(Qt::NoBrush);
        painter.setPen(QPen(QColor(60, 140, 230), 2));
        painter.drawRect(viewRect.adjusted(1, 1, -1, -1));
    }
    painter.restore();
}

void Viewfinder::handleResize(QSize size) {
    geometry_.setViewSize(QSizeF(size));
}

void Viewfinder::handleWheel(QWheelEvent* event) {
    const QPoint steps = event->angleDelta();
    if (steps.y() == 0) {
        event->ignore();
        return;
    }
    // One notch (120) zooms by 1.25, whatever the device's resolution.
    zoomAt(event->position(), std::pow(1.25, steps.y() / 120.0));
    event->accept();
}

void Viewfinder::handleMousePress(QMouseEvent* event) {
    if (callbacks_.activated)
        callbacks_.activated();
    if (event->button() == Qt::LeftButton) {
        dragging_ = true;
        lastDragPos_ = event->position();
        if (QWidget* w = widget())
            w->setCursor(Qt::ClosedHandCursor);
    }
}

void Viewfinder::handleMouseMove(QMouseEvent* event) {
    cursorPos_ = event->position();
    if (dragging_) {
        panBy(event->position() - lastDragPos_);
        lastDragPos_ = event->position();
    }
    reportHover(event->position());
}

void Viewfinder::handleMouseRelease(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && dragging_) {
        dragging_ = false;
        if (QWidget* w = widget())
            w->unsetCursor();
    }
}

void Viewfinder::handleMouseDoubleClick(QMouseEvent* /*event*/) {
    if (callbacks_.doubleClicked)
        callbacks_.doubleClicked();
}

void Viewfinder::handleLeave() {
    cursorPos_.reset();
    if (hoverPixel_) {
        hoverPixel_.reset();
        if (callbacks_.hover)
            callbacks_.hover(std::nullopt);
    }
}

void Viewfinder::reportHover(QPointF viewPos) {
    std::optional<QPoint> pixel;
    const QSizeF image = geometry_.imageSize();
    const QPointF at = geometry_.viewToImage(viewPos);
    if (at.x() >= 0.0 && at.y() >= 0.0 && at.x() < image.width() && at.y() < image.height())
        pixel = QPoint(int(std::floor(at.x())), int(std::floor(at.y())));
    if (pixel == hoverPixel_)
        return;
    hoverPixel_ = pixel;
    if (callbacks_.hover)
        callbacks_.hover(pixel);
}

}  // namespace shmframe::viewer
