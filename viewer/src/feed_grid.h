// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_grid.h
 * \brief Several feed views in equal cells, each with a label (feed, size, fps)
 * when there are several, and one of them focused (shown alone) on request.
 */
#pragma once

#include <vector>

#include <QList>
#include <QTimer>
#include <QWidget>

class QLabel;

namespace shmframe::viewer {

class FeedView;

class FeedGrid : public QWidget {
    Q_OBJECT

  public:
    explicit FeedGrid(QWidget* parent = nullptr);

    /// \brief Shows \a views (the grid takes them as children), replacing the ones shown.
    void setViews(const QList<FeedView*>& views);
    const QList<FeedView*>& views() const { return views_; }

    /// \brief Shows only \a view, as large as the grid; nullptr shows every view again.
    void focusView(FeedView* view);
    FeedView* focusedView() const { return focused_; }

    /// \brief The cell of \a view (label and picture) in grid coordinates; empty
    /// when it is hidden by a focused view.
    QRect cellGeometry(const FeedView* view) const;
    /// \brief The label over \a view's picture.
    QString labelText(const FeedView* view) const;

    /// Pixels between cells.
    static constexpr int kSpacing = 2;

  protected:
    void resizeEvent(QResizeEvent* event) override;

  private:
    struct Cell {
        QWidget* box = nullptr;
        QLabel* label = nullptr;
        FeedView* view = nullptr;
    };

    void relayout();
    void updateLabels();
    double pictureAspect() const;
    const Cell* cellOf(const FeedView* view) const;

    std::vector<Cell> cells_;
    QList<FeedView*> views_;
    FeedView* focused_ = nullptr;
    QTimer labelTimer_;
};

/// \brief "cam0 · 1280x720 · 29.9 fps": a grid cell's label.
QString cellLabel(const FeedView& view);

}  // namespace shmframe::viewer
