// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_grid.h"

#include <QLabel>
#include <QVBoxLayout>

#include "feed_view.h"
#include "grid_layout.h"

namespace shmframe::viewer {

QString cellLabel(const FeedView& view) {
    QString text = view.feedName();
    if (const auto format = view.shownFormat()) {
        text += QStringLiteral(" · %1x%2").arg(format->width).arg(format->height);
        if (view.paused())
            text += QStringLiteral(" · paused");
        else
            text += QStringLiteral(" · %1 fps").arg(view.measuredFps(), 0, 'f', 1);
    } else {
        text += QStringLiteral(" · %1").arg(QLatin1String(toString(view.state())));
    }
    return text;
}

FeedGrid::FeedGrid(QWidget* parent) : QWidget(parent) {
    setAutoFillBackground(true);
    QPalette dark = palette();
    dark.setColor(QPalette::Window, Qt::black);
    setPalette(dark);
    labelTimer_.setInterval(500);
    connect(&labelTimer_, &QTimer::timeout, this, &FeedGrid::updateLabels);
}

void FeedGrid::setViews(const QList<FeedView*>& views) {
    for (Cell& cell : cells_)
        delete cell.box;  // and the view in it
    cells_.clear();
    focused_ = nullptr;
    views_ = views;
    for (FeedView* view : views_) {
        Cell cell;
        cell.box = new QWidget(this);
        auto* layout = new QVBoxLayout(cell.box);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->setSpacing(0);
        cell.label = new QLabel(cell.box);
        cell.label->setAutoFillBackground(true);
        QPalette labelPalette = cell.label->palette();
        labelPalette.setColor(QPalette::Window, QColor(32, 32, 32));
        labelPalette.setColor(QPalette::WindowText, QColor(230, 230, 230));
        cell.label->setPalette(labelPalette);
        cell.label->setContentsMargins(6, 2, 6, 2);
        // One feed needs no label: the window title and the status bar name it.
        cell.label->setVisible(views.size() > 1);
        layout->addWidget(cell.label);
        view->setParent(cell.box);
        layout->addWidget(view, 1);
        cell.view = view;
        cell.box->show();
        // A first frame or a new format may change the pictures' shape.
        connect(view, &FeedView::stateChanged, this, [this] {
            relayout();
            updateLabels();
        });
        cells_.push_back(cell);
    }
    if (views_.isEmpty())
        labelTimer_.stop();
    else
        labelTimer_.start();
    relayout();
    updateLabels();
}

void FeedGrid::focusView(FeedView* view) {
    focused_ = views_.contains(view) ? view : nullptr;
    relayout();
}

double FeedGrid::pictureAspect() const {
    double sum = 0.0;
    int known = 0;
    for (const Cell& cell : cells_) {
        if (const auto format = cell.view->shownFormat(); format && format->height > 0) {
            sum += double(format->width) / double(format->height);
            ++known;
        }
    }
    return known > 0 ? sum / known : 16.0 / 9.0;
}

void FeedGrid::relayout() {
    if (focused_) {
        for (const Cell& cell : cells_) {
            cell.box->setVisible(cell.view == focused_);
            if (cell.view == focused_)
                cell.box->setGeometry(rect());
        }
        return;
    }
    GridParams params;
    params.pictureAspect = pictureAspect();
    params.spacing = kSpacing;
    // The label row is part of each cell, above the picture.
    params.labelHeight = cells_.size() > 1 ? cells_.front().label->sizeHint().height() : 0;
    const auto rects = gridCells(int(cells_.size()), size(), params);
    for (std::size_t i = 0; i < cells_.size(); ++i) {
        cells_[i].box->setGeometry(rects[i]);
        cells_[i].box->setVisible(true);
    }
}

void FeedGrid::updateLabels() {
    for (const Cell& cell : cells_)
        cell.label->setText(cellLabel(*cell.view));
}

const FeedGrid::Cell* FeedGrid::cellOf(const FeedView* view) const {
    for (const Cell& cell : cells_)
        if (cell.view == view)
            return &cell;
    return nullptr;
}

QRect FeedGrid::cellGeometry(const FeedView* view) const {
    const Cell* cell = cellOf(view);
    if (!cell || !cell->box->isVisibleTo(this))
        return {};
    return cell->box->geometry();
}

QString FeedGrid::labelText(const FeedView* view) const {
    const Cell* cell = cellOf(view);
    return cell ? cell->label->text() : QString();
}

void FeedGrid::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    relayout();
}

}  // namespace shmframe::viewer
