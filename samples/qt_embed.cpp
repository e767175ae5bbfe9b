// SPDX-License-Identifier: LGPL-2.1-or-later
// A Qt application that shows a live feed with the shmframe-qt widget.
//
//   qt_embed [FEED] [SNAPSHOT.png]
//
// FEED defaults to cam0. With SNAPSHOT.png the window is saved once the first frame
// is painted, and the program exits (for scripts and the test).
#include <QApplication>
#include <QMainWindow>
#include <QTimer>

#include <shmframe/qt/feed_widget.h>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const QStringList args = QApplication::arguments();
    const QString feed = args.size() > 1 ? args[1] : QStringLiteral("cam0");

    QMainWindow window;
    window.setWindowTitle(QStringLiteral("qt_embed — %1").arg(feed));
    window.resize(640, 400);

    // The three lines: create the widget for a feed, put it in a window, show it.
    auto* view = new shmframe::qt::FeedWidget(feed, &window);
    window.setCentralWidget(view);
    window.show();

    if (args.size() > 2) {
        const QString snapshot = args[2];
        QObject::connect(view, &shmframe::qt::FeedWidget::framePainted, &app, [&] {
            // After the paint that showed the frame has finished.
            QTimer::singleShot(0, &app, [&] { app.exit(window.grab().save(snapshot) ? 0 : 2); });
        });
    }
    return app.exec();
}
