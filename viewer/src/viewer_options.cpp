// SPDX-License-Identifier: LGPL-2.1-or-later
#include "viewer_options.h"

#include <QCommandLineParser>

#include <shmframe/format.h>

namespace shmframe::viewer {

namespace {

Error usage(const QString& message) {
    return Error::make(Errc::InvalidArgument,
                       message.toStdString() + " (see shmframe-viewer --help)");
}

}  // namespace

Result<ViewerOptions> parseViewerOptions(const QStringList& arguments) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Shows live shmframe feeds without copying their frames.\n"
                       "With no FEED, lists the live feeds to pick from."));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringLiteral("version"),
                                     QStringLiteral("Show the version."));
    const QCommandLineOption snapshot(
        QStringLiteral("snapshot"),
        QStringLiteral("Write what the window shows to FILE (PNG) after --after-frames frames "
                       "of every feed, then exit."),
        QStringLiteral("FILE"));
    const QCommandLineOption afterFrames(
        QStringLiteral("after-frames"),
        QStringLiteral("Frames each feed paints before --snapshot (default 1); without "
                       "--snapshot, quit after them."),
        QStringLiteral("N"));
    const QCommandLineOption timeout(
        QStringLiteral("timeout"),
        QStringLiteral("Seconds --snapshot / --after-frames wait for frames before failing "
                       "(default 20)."),
        QStringLiteral("SECONDS"));
    const QCommandLineOption fullscreen(QStringLiteral("fullscreen"),
                                        QStringLiteral("Start in full screen."));
    const QCommandLineOption overlay(QStringLiteral("overlay"),
                                     QStringLiteral("Show fps, latency, format and state."));
    const QCommandLineOption inspector(QStringLiteral("inspector"),
                                       QStringLiteral("Show the pixel under the cursor."));
    const QCommandLineOption actualSize(
        QStringLiteral("actual-size"),
        QStringLiteral("Start at 1:1 (one frame pixel per screen pixel) instead of fit."));
    const QCommandLineOption painter(
        QStringLiteral("painter"),
        QStringLiteral("auto (QImage for RGB/grey, OpenGL for YUV when available), qimage or "
                       "opengl."),
        QStringLiteral("KIND"), QStringLiteral("auto"));
    const QCommandLineOption stats(QStringLiteral("stats-file"),
                                   QStringLiteral("Write frame and latency statistics as JSON "
                                                  "to FILE at exit."),
                                   QStringLiteral("FILE"));
    const QCommandLineOption windowSize(QStringLiteral("window-size"),
                                        QStringLiteral("Initial window size, e.g. 1280x720."),
                                        QStringLiteral("WxH"));
    parser.addOptions({help, version, snapshot, afterFrames, timeout, fullscreen, overlay,
                       inspector, actualSize, painter, stats, windowSize});
    parser.addPositionalArgument(QStringLiteral("FEED"),
                                 QStringLiteral("Feed names (or socket paths) to show in a grid."),
                                 QStringLiteral("[FEED...]"));

    ViewerOptions options;
    if (!parser.parse(arguments))
        return usage(parser.errorText());
    options.helpText = parser.helpText();
    options.showHelp = parser.isSet(help);
    options.showVersion = parser.isSet(version);
    options.feeds = parser.positionalArguments();
    options.overlay = parser.isSet(overlay);
    options.inspector = parser.isSet(inspector);
    options.actualSize = parser.isSet(actualSize);
    options.fullscreen = parser.isSet(fullscreen);

    const auto kind = painterKindFromString(parser.value(painter));
    if (!kind)
        return usage(QStringLiteral("--painter must be auto, qimage or opengl, not '%1'")
                         .arg(parser.value(painter)));
    options.painter = *kind;

    if (parser.isSet(afterFrames)) {
        bool ok = false;
        const qulonglong frames = parser.value(afterFrames).toULongLong(&ok);
        if (!ok || frames == 0 || frames > 1'000'000'000ull)
            return usage(QStringLiteral("--after-frames needs a whole number from 1 to 1000000000, "
                                        "not '%1'")
                             .arg(parser.value(afterFrames)));
        options.afterFrames = frames;
    }
    if (parser.isSet(timeout)) {
        bool ok = false;
        const double seconds = parser.value(timeout).toDouble(&ok);
        if (!ok || !(seconds > 0.0) || seconds > 86400.0)
            return usage(QStringLiteral("--timeout needs seconds between 0 and 86400, not '%1'")
                             .arg(parser.value(timeout)));
        options.timeout = std::chrono::milliseconds(qint64(seconds * 1000.0));
    }
    if (parser.isSet(snapshot)) {
        options.snapshotPath = parser.value(snapshot);
        if (options.snapshotPath.isEmpty())
            return usage(QStringLiteral("--snapshot needs a file name"));
        if (options.afterFrames == 0)
            options.afterFrames = 1;
    }
    if ((parser.isSet(snapshot) || parser.isSet(afterFrames)) && options.feeds.isEmpty())
        return usage(QStringLiteral("--snapshot and --after-frames need at least one FEED"));
    if (parser.isSet(stats)) {
        options.statsPath = parser.value(stats);
        if (options.statsPath.isEmpty())
            return usage(QStringLiteral("--stats-file needs a file name"));
    }
    if (parser.isSet(windowSize)) {
        const auto size = parseSize(parser.value(windowSize).toStdString());
        if (!size || size->first > 16384 || size->second > 16384)
            return usage(QStringLiteral("--window-size needs WxH up to 16384x16384, not '%1'")
                             .arg(parser.value(windowSize)));
        options.windowSize = QSize(int(size->first), int(size->second));
    }
    return options;
}

}  // namespace shmframe::viewer
