// SPDX-License-Identifier: LGPL-2.1-or-later
#include "viewfinder_gl.h"

#include <cmath>

#include <QOpenGLContext>
#include <QPainter>
#include <QVector2D>

#include <shmframe/reader.h>

#include "yuv_convert.h"

// Desktop GL names that GLES 2 headers may lack.
#ifndef GL_UNPACK_ROW_LENGTH
#define GL_UNPACK_ROW_LENGTH 0x0CF2
#endif

namespace shmframe::viewer {

namespace {

const char* const kVertexShader = R"(
attribute highp vec2 position;
attribute highp vec2 texPosition;
varying highp vec2 texCoord;
void main() {
    texCoord = texPosition;
    gl_Position = vec4(position, 0.0, 1.0);
}
)";

// Qt defines lowp/mediump/highp away on desktop GL; on GLES the fragment shader
// needs a default precision, high where the GPU has it (16-bit grey and YUV maths).
const char* const kFragmentHeader = R"(
#ifdef GL_ES
#ifdef GL_FRAGMENT_PRECISION_HIGH
precision highp float;
#else
precision mediump float;
#endif
#endif
varying highp vec2 texCoord;
uniform sampler2D plane0;
uniform sampler2D plane1;
uniform sampler2D plane2;
uniform vec2 frameSize;
uniform float yOffset;
uniform float yScale;
uniform float rFromV;
uniform float gFromU;
uniform float gFromV;
uniform float bFromU;
vec4 yuvToRgb(float y, float u, float v) {
    float luma = (y - yOffset) * yScale;
    float cu = u - 128.0 / 255.0;
    float cv = v - 128.0 / 255.0;
    return vec4(clamp(vec3(luma + rFromV * cv, luma - gFromU * cu - gFromV * cv,
                           luma + bFromU * cu), 0.0, 1.0), 1.0);
}
bool oddColumn() {
    return mod(floor(texCoord.x * frameSize.x), 2.0) >= 1.0;
}
)";

// Alpha is shown as composited over black, as the QImage painter does.
const char* fragmentBody(PixelFormat format) {
    switch (format) {
        case PixelFormat::RGBA:
            return "void main() { vec4 t = texture2D(plane0, texCoord);"
                   " gl_FragColor = vec4(t.rgb * t.a, 1.0); }";
        case PixelFormat::RGBx:
        case PixelFormat::RGB:
            return "void main() { gl_FragColor = vec4(texture2D(plane0, texCoord).rgb, 1.0); }";
        case PixelFormat::BGRA:
            return "void main() { vec4 t = texture2D(plane0, texCoord);"
                   " gl_FragColor = vec4(t.bgr * t.a, 1.0); }";
        case PixelFormat::BGRx:
        case PixelFormat::BGR:
            return "void main() { gl_FragColor = vec4(texture2D(plane0, texCoord).bgr, 1.0); }";
        case PixelFormat::GRAY8:
            return "void main() { gl_FragColor = vec4(texture2D(plane0, texCoord).rrr, 1.0); }";
        case PixelFormat::GRAY16_LE:
            // Low byte in luminance, high byte in alpha.
            return "void main() { vec4 t = texture2D(plane0, texCoord);"
                   " float v = (t.r * 255.0 + t.a * 65280.0) / 65535.0;"
                   " gl_FragColor = vec4(v, v, v, 1.0); }";
        case PixelFormat::NV12:
            return "void main() { vec4 uv = texture2D(plane1, texCoord);"
                   " gl_FragColor = yuvToRgb(texture2D(plane0, texCoord).r, uv.r, uv.a); }";
        case PixelFormat::I420:
            return "void main() { gl_FragColor = yuvToRgb(texture2D(plane0, texCoord).r,"
                   " texture2D(plane1, texCoord).r, texture2D(plane2, texCoord).r); }";
        case PixelFormat::YUY2:
            // One RGBA texel holds Y0 U Y1 V: two pixels.
            return "void main() { vec4 t = texture2D(plane0, texCoord);"
                   " gl_FragColor = yuvToRgb(oddColumn() ? t.b : t.r, t.g, t.a); }";
        case PixelFormat::UYVY:
            return "void main() { vec4 t = texture2D(plane0, texCoord);"
                   " gl_FragColor = yuvToRgb(oddColumn() ? t.a : t.g, t.r, t.b); }";
        default:
            return nullptr;
    }
}

// Per-channel interpolation is right for these; packed YUV and split 16-bit grey
// would mix unrelated bytes.
bool canInterpolate(PixelFormat format) {
    return format != PixelFormat::GRAY16_LE && format != PixelFormat::YUY2 &&
           format != PixelFormat::UYVY;
}

}  // namespace

ViewfinderGl::ViewfinderGl(QWidget* parent) : QOpenGLWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    setMinimumSize(64, 48);
}

ViewfinderGl::~ViewfinderGl() {
    releaseGl();
    // ~QOpenGLWidget destroys the context after this part of the object is gone: its
    // aboutToBeDestroyed must not call releaseGl() on what is left.
    if (QOpenGLContext* ctx = context())
        disconnect(ctx, nullptr, this, nullptr);
}

void ViewfinderGl::releaseGl() {
    if (!initialized_ || !context())
        return;
    makeCurrent();
    for (Texture& texture : textures_) {
        if (texture.id)
            glDeleteTextures(1, &texture.id);
        texture = Texture{};
    }
    programs_.clear();
    vertices_.destroy();
    doneCurrent();
    initialized_ = false;
}

QString ViewfinderGl::paintPath() const {
    if (!glError_.isEmpty())
        return QStringLiteral("opengl (failed: %1)").arg(glError_);
    const QString renderer =
        openGlIsSoftware() ? QStringLiteral("opengl on the CPU") : QStringLiteral("opengl");
    if (frame() && isYuv(frame()->format().pixelFormat))
        return renderer + QStringLiteral(", shader YUV conversion");
    return renderer + QStringLiteral(", texture upload from the slot");
}

Result<void> ViewfinderGl::setFrame(FrameRef frame) {
    if (!frame || !frame->valid())
        return Error::make(Errc::InvalidArgument, "no frame to show");
    const Format& format = frame->format();
    if (!fragmentBody(format.pixelFormat))
        return Error::make(Errc::Unsupported, "the OpenGL painter cannot show " +
                                                  std::string(toString(format.pixelFormat)));
    if (auto checked = checkPlanes(format, planesOf(*frame)); !checked)
        return checked;
    uploadPending_ = true;
    acceptFrame(std::move(frame));
    return {};
}

void ViewfinderGl::clearFrame() {
    uploadPending_ = false;
    dropFrame();
}

void ViewfinderGl::initializeGL() {
    initializeOpenGLFunctions();
    QOpenGLContext* ctx = context();
    rowLengthSupported_ = !ctx->isOpenGLES() || ctx->format().majorVersion() >= 3;
    if (!vertices_.create())
        glError_ = QStringLiteral("cannot create a vertex buffer");
    // A new context (the widget moved to another window) has no textures.
    for (Texture& texture : textures_)
        texture = Texture{};
    programs_.clear();
    uploadPending_ = frame() != nullptr;
    initialized_ = true;
    connect(ctx, &QOpenGLContext::aboutToBeDestroyed, this, &ViewfinderGl::releaseGl,
            Qt::UniqueConnection);
}

void ViewfinderGl::resizeGL(int /*width*/, int /*height*/) {
    // The geometry works in widget (logical) pixels, like the mouse events.
    handleResize(size());
}

QOpenGLShaderProgram* ViewfinderGl::programFor(PixelFormat format) {
    auto found = programs_.find(format);
    if (found != programs_.end())
        return found->second.get();
    auto program = std::make_unique<QOpenGLShaderProgram>();
    const QByteArray fragment = QByteArray(kFragmentHeader) + fragmentBody(format);
    if (!program->addShaderFromSourceCode(QOpenGLShader::Vertex, kVertexShader) ||
        !program->addShaderFromSourceCode(QOpenGLShader::Fragment, fragment)) {
        glError_ = QStringLiteral("shader for %1 does not compile: %2")
                       .arg(QLatin1String(toString(format).data()), program->log().trimmed());
        return nullptr;
    }
    program->bindAttributeLocation("position", 0);
    program->bindAttributeLocation("texPosition", 1);
    if (!program->link()) {
        glError_ = QStringLiteral("shader for %1 does not link: %2")
                       .arg(QLatin1String(toString(format).data()), program->log().trimmed());
        return nullptr;
    }
    QOpenGLShaderProgram* raw = program.get();
    programs_.emplace(format, std::move(program));
    return raw;
}

void ViewfinderGl::uploadPlane(Texture& texture, GLenum glFormat, int bytesPerTexel, int width,
                               int height, const std::byte* pixels, std::size_t stride) {
    if (!texture.id)
        glGenTextures(1, &texture.id);
    glBindTexture(GL_TEXTURE_2D, texture.id);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    if (texture.width != width || texture.height != height || texture.format != glFormat) {
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
        glTexImage2D(GL_TEXTURE_2D, 0, GLint(glFormat), width, height, 0, glFormat,
                     GL_UNSIGNED_BYTE, nullptr);
        texture.width = width;
        texture.height = height;
        texture.format = glFormat;
    }
    const std::size_t rowBytes = std::size_t(width) * std::size_t(bytesPerTexel);
    if (stride == rowBytes) {
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, glFormat, GL_UNSIGNED_BYTE, pixels);
    } else if (rowLengthSupported_ && stride % std::size_t(bytesPerTexel) == 0) {
        // The driver reads the padded rows straight from the mapped slot.
        glPixelStorei(GL_UNPACK_ROW_LENGTH, GLint(stride / std::size_t(bytesPerTexel)));
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, glFormat, GL_UNSIGNED_BYTE, pixels);
        glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    } else {
        for (int row = 0; row < height; ++row)
            glTexSubImage2D(GL_TEXTURE_2D, 0, 0, row, width, 1, glFormat, GL_UNSIGNED_BYTE,
                            pixels + std::size_t(row) * stride);
    }
    // QPainter's own uploads (glyphs) expect the default alignment.
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
}

bool ViewfinderGl::uploadFrame() {
    const Format& format = frame()->format();
    const FramePlanes planes = planesOf(*frame());
    const int width = int(format.width);
    const int height = int(format.height);
    const auto plane = [&](std::uint32_t index) { return planes[index].data(); };
    const auto stride = [&](std::uint32_t index) {
        return std::size_t(format.planes[index].stride);
    };
    switch (format.pixelFormat) {
        case PixelFormat::RGBA:
        case PixelFormat::RGBx:
        case PixelFormat::BGRA:
        case PixelFormat::BGRx:
            uploadPlane(textures_[0], GL_RGBA, 4, width, height, plane(0), stride(0));
            return true;
        case PixelFormat::RGB:
        case PixelFormat::BGR:
            uploadPlane(textures_[0], GL_RGB, 3, width, height, plane(0), stride(0));
            return true;
        case PixelFormat::GRAY8:
            uploadPlane(textures_[0], GL_LUMINANCE, 1, width, height, plane(0), stride(0));
            return true;
        case PixelFormat::GRAY16_LE:
            uploadPlane(textures_[0], GL_LUMINANCE_ALPHA, 2, width, height, plane(0), stride(0));
            return true;
        case PixelFormat::NV12:
            uploadPlane(textures_[0], GL_LUMINANCE, 1, width, height, plane(0), stride(0));
            uploadPlane(textures_[1], GL_LUMINANCE_ALPHA, 2, width / 2, height / 2, plane(1),
                        stride(1));
            return true;
        case PixelFormat::I420:
            uploadPlane(textures_[0], GL_LUMINANCE, 1, width, height, plane(0), stride(0));
            uploadPlane(textures_[1], GL_LUMINANCE, 1, width / 2, height / 2, plane(1), stride(1));
            uploadPlane(textures_[2], GL_LUMINANCE, 1, width / 2, height / 2, plane(2), stride(2));
            return true;
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            uploadPlane(textures_[0], GL_RGBA, 4, width / 2, height, plane(0), stride(0));
            return true;
        default:
            return false;
    }
}

void ViewfinderGl::drawFrame() {
    const Format& format = frame()->format();
    QOpenGLShaderProgram* program = programFor(format.pixelFormat);
    if (!program)
        return;
    if (uploadPending_) {
        uploadPending_ = false;
        if (!uploadFrame())
            return;
    }
    const QSizeF view = viewGeometry().viewSize();
    if (!(view.width() > 0.0) || !(view.height() > 0.0))
        return;
    const QRectF target = viewGeometry().imageRectInView();
    const auto ndcX = [&](double x) { return GLfloat(2.0 * x / view.width() - 1.0); };
    const auto ndcY = [&](double y) { return GLfloat(1.0 - 2.0 * y / view.height()); };
    const GLfloat left = ndcX(target.left());
    const GLfloat right = ndcX(target.right());
    const GLfloat top = ndcY(target.top());
    const GLfloat bottom = ndcY(target.bottom());
    const GLfloat quad[] = {
        left, top,    0.0f, 0.0f, right, top,    1.0f, 0.0f,
        left, bottom, 0.0f, 1.0f, right, bottom, 1.0f, 1.0f,
    };
    const GLint filter =
        viewGeometry().scale() < 1.0 && canInterpolate(format.pixelFormat) ? GL_LINEAR : GL_NEAREST;
    const int planeTextures = isYuv(format.pixelFormat) ? int(format.planeCount) : 1;
    for (int i = 0; i < planeTextures; ++i) {
        glActiveTexture(GLenum(GL_TEXTURE0 + i));
        glBindTexture(GL_TEXTURE_2D, textures_[std::size_t(i)].id);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    }
    glActiveTexture(GL_TEXTURE0);

    program->bind();
    program->setUniformValue("plane0", 0);
    program->setUniformValue("plane1", 1);
    program->setUniformValue("plane2", 2);
    program->setUniformValue("frameSize", QVector2D(float(format.width), float(format.height)));
    const YuvFloatCoefficients c = yuvFloatCoefficients(colorimetryOf(format));
    program->setUniformValue("yOffset", c.yOffset);
    program->setUniformValue("yScale", c.yScale);
    program->setUniformValue("rFromV", c.rFromV);
    program->setUniformValue("gFromU", c.gFromU);
    program->setUniformValue("gFromV", c.gFromV);
    program->setUniformValue("bFromU", c.bFromU);

    vertices_.bind();
    vertices_.allocate(quad, int(sizeof(quad)));
    program->enableAttributeArray(0);
    program->enableAttributeArray(1);
    program->setAttributeBuffer(0, GL_FLOAT, 0, 2, 4 * sizeof(GLfloat));
    program->setAttributeBuffer(1, GL_FLOAT, 2 * sizeof(GLfloat), 2, 4 * sizeof(GLfloat));
    const qreal ratio = devicePixelRatioF();
    glViewport(0, 0, GLsizei(std::lround(width() * ratio)), GLsizei(std::lround(height() * ratio)));
    glDisable(GL_BLEND);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_SCISSOR_TEST);
    glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
    program->disableAttributeArray(0);
    program->disableAttributeArray(1);
    vertices_.release();
    program->release();
}

void ViewfinderGl::paintGL() {
    QPainter painter(this);
    painter.beginNativePainting();
    glClearColor(0.0f, 0.0f, 0.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    if (frame() && glError_.isEmpty())
        drawFrame();
    painter.endNativePainting();
    if (!glError_.isEmpty()) {
        ViewDecoration withError = decoration();
        withError.banner = QStringLiteral("OpenGL painter failed: %1").arg(glError_);
        painter.setPen(Qt::white);
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, withError.banner);
    }
    paintDecoration(painter, rect());
    painter.end();
    paintDone();
}

void ViewfinderGl::wheelEvent(QWheelEvent* event) {
    handleWheel(event);
}

void ViewfinderGl::mousePressEvent(QMouseEvent* event) {
    handleMousePress(event);
}

void ViewfinderGl::mouseMoveEvent(QMouseEvent* event) {
    handleMouseMove(event);
}

void ViewfinderGl::mouseReleaseEvent(QMouseEvent* event) {
    handleMouseRelease(event);
}

void ViewfinderGl::mouseDoubleClickEvent(QMouseEvent* event) {
    handleMouseDoubleClick(event);
}

void ViewfinderGl::leaveEvent(QEvent* event) {
    QOpenGLWidget::leaveEvent(event);
    handleLeave();
}

QSize ViewfinderGl::sizeHint() const {
    if (frame())
        return QSize(int(frame()->format().width), int(frame()->format().height));
    return QSize(640, 480);
}

}  // namespace shmframe::viewer
