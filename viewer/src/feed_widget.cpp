// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/qt/feed_widget.h"

#include <QVBoxLayout>

#include "feed_view.h"

namespace shmframe::qt {

FeedWidget::FeedWidget(const QString& feed, QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    view_ = new viewer::FeedView(feed, viewer::FeedView::Options{}, this);
    layout->addWidget(view_);
    connect(view_, &viewer::FeedView::framePainted, this, &FeedWidget::framePainted);
}

FeedWidget::~FeedWidget() = default;

QString FeedWidget::feedName() const {
    return view_->feedName();
}

std::uint64_t FeedWidget::framesPainted() const {
    return view_->framesPainted();
}

QString FeedWidget::stateText() const {
    return QLatin1String(toString(view_->state()));
}

void FeedWidget::setPaused(bool paused) {
    view_->setPaused(paused);
}

bool FeedWidget::paused() const {
    return view_->paused();
}

void FeedWidget::setOverlayVisible(bool visible) {
    view_->setOverlayVisible(visible);
}

QImage FeedWidget::frameImage() const {
    auto image = view_->frameImage();
    return image ? *image : QImage();
}

}  // namespace shmframe::qt
