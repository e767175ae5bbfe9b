// SPDX-License-Identifier: LGPL-2.1-or-later
#include "image_file.h"

#include <QFileInfo>
#include <QImageWriter>
#include <QSaveFile>

namespace shmframe::viewer {

Result<void> savePng(const QImage& image, const QString& path) {
    const auto fail = [&](const QString& why) {
        return Error::make(Errc::SystemError,
                           QStringLiteral("cannot write %1: %2").arg(path, why).toStdString());
    };
    const QFileInfo existing(path);
    if (existing.exists() && !existing.isFile()) {
        return fail(QStringLiteral("it exists and is not a regular file, so it is left alone"));
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return fail(file.errorString() +
                    QStringLiteral(" (check that its folder exists and is writable)"));
    }
    QImageWriter writer(&file, "png");
    if (!writer.write(image)) {
        file.cancelWriting();
        return fail(writer.errorString());
    }
    if (!file.commit()) {
        return fail(file.errorString());
    }
    return {};
}

}  // namespace shmframe::viewer
