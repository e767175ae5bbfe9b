// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframe-viewer: shows live shmframe feeds without copying their frames.
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <QApplication>
#include <QFile>
#include <QIcon>
#include <QSocketNotifier>

#include <shmframe/version.h>

#include "main_window.h"
#include "viewer_options.h"

namespace {

// SIGTERM / SIGINT reach the event loop through a socket pair, so that the viewer
// quits the normal way (stats written, leases released) instead of dying mid-paint.
int quitSignalFds[2] = {-1, -1};

void onQuitSignal(int) {
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(quitSignalFds[0], &byte, 1);
}

void quitOnSignals(QApplication& app) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, quitSignalFds) != 0)
        return;
    auto* notifier = new QSocketNotifier(quitSignalFds[1], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [&app] { app.quit(); });
    struct sigaction action {};
    action.sa_handler = onQuitSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
}

bool hasArgument(int argc, char** argv, const char* option) {
    const std::size_t length = std::strlen(option);
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0)
            return false;
        if (std::strncmp(argv[i], option, length) == 0 &&
            (argv[i][length] == '\0' || argv[i][length] == '='))
            return true;
    }
    return false;
}

// A script's --snapshot or --after-frames needs no screen: without a display (and
// without an explicit platform) Qt would abort loading xcb; use offscreen instead.
void chooseHeadlessPlatform(int argc, char** argv) {
    const bool scripted =
        hasArgument(argc, argv, "--snapshot") || hasArgument(argc, argv, "--after-frames");
    const bool displayExists =
        !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
    const bool platformGiven = !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") ||
                               hasArgument(argc, argv, "-platform") ||
                               hasArgument(argc, argv, "--platform");
    if (scripted && !displayExists && !platformGiven)
        qputenv("QT_QPA_PLATFORM", "offscreen");
}

}  // namespace

int main(int argc, char** argv) {
    // A reader whose writer vanishes must see an error, not die of SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    chooseHeadlessPlatform(argc, argv);
    QApplication app(argc, argv);
    quitOnSignals(app);
    QApplication::setApplicationName(QStringLiteral("shmframe-viewer"));
    QApplication::setApplicationVersion(QStringLiteral(SHMFRAME_VERSION_STRING));
    QApplication::setDesktopFileName(QStringLiteral("shmframe-viewer"));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("shmframe-viewer"),
                                                 QIcon(QStringLiteral(":/shmframe-viewer.svg"))));

    auto options = shmframe::viewer::parseViewerOptions(QApplication::arguments());
    if (!options) {
        std::fprintf(stderr, "shmframe-viewer: %s\n", options.error().message.c_str());
        return 1;
    }
    if (options->showHelp) {
        std::fputs(options->helpText.toLocal8Bit().constData(), stdout);
        return 0;
    }
    if (options->showVersion) {
        std::printf("shmframe-viewer %s\n", SHMFRAME_VERSION_STRING);
        return 0;
    }

    shmframe::viewer::MainWindow window(*options);
    int scriptExit = -1;
    QObject::connect(&window, &shmframe::viewer::MainWindow::finished, &app, [&](int code) {
        scriptExit = code;
        app.exit(code);
    });
    if (options->fullscreen)
        window.setFullScreenMode(true);
    else
        window.show();
    const int code = app.exec();

    if (!options->statsPath.isEmpty()) {
        QFile stats(options->statsPath);
        if (!stats.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            stats.write(window.statsJson()) < 0) {
            std::fprintf(stderr, "shmframe-viewer: cannot write --stats-file %s: %s\n",
                         options->statsPath.toLocal8Bit().constData(),
                         stats.errorString().toLocal8Bit().constData());
            return code == 0 ? 2 : code;
        }
    }
    return scriptExit >= 0 ? scriptExit : code;
}
