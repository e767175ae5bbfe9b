// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file viewfinder_gl.h
 * \brief Painting with OpenGL: each plane is uploaded from the mapped slot as a
 * texture (no CPU copy or conversion) and a shader converts YUV to RGB.
 */
#pragma once

#include <array>
#include <map>
#include <memory>

#include <QOpenGLBuffer>
#include <QOpenGLFunctions>
#include <QOpenGLShaderProgram>
#include <QOpenGLWidget>

#include "viewfinder.h"

namespace shmframe::viewer {

class ViewfinderGl final : public QOpenGLWidget, public Viewfinder, protected QOpenGLFunctions {
    Q_OBJECT

  public:
    explicit ViewfinderGl(QWidget* parent = nullptr);
    ~ViewfinderGl() override;

    QWidget* widget() override { return this; }
    PainterKind kind() const override { return PainterKind::OpenGl; }
    QString paintPath() const override;
    Result<void> setFrame(FrameRef frame) override;
    void clearFrame() override;

  protected:
    void initializeGL() override;
    void paintGL() override;
    void resizeGL(int width, int height) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    QSize sizeHint() const override;

  private:
    struct Texture {
        GLuint id = 0;
        int width = 0;
        int height = 0;
        GLenum format = 0;
    };

    QOpenGLShaderProgram* programFor(PixelFormat format);
    bool uploadFrame();
    void uploadPlane(Texture& texture, GLenum glFormat, int bytesPerTexel, int width, int height,
                     const std::byte* pixels, std::size_t stride);
    void drawFrame();
    void releaseGl();

    std::map<PixelFormat, std::unique_ptr<QOpenGLShaderProgram>> programs_;
    std::array<Texture, 3> textures_{};
    QOpenGLBuffer vertices_{QOpenGLBuffer::VertexBuffer};
    bool initialized_ = false;
    bool uploadPending_ = false;
    bool rowLengthSupported_ = false;
    QString glError_;
};

}  // namespace shmframe::viewer
