// SPDX-License-Identifier: LGPL-2.1-or-later
#include "help_dialogs.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <shmframe/version.h>

namespace shmframe::viewer {

QString aboutText() {
    return QObject::tr(
               "<h3>shmframe-viewer %1</h3>"
               "<p>Shows live shmframe feeds without copying their frames.</p>"
               "<table>"
               "<tr><td>shmframe library</td><td>%1</td></tr>"
               "<tr><td>protocol version</td><td>%2</td></tr>"
               "<tr><td>Qt</td><td>%3 (built with %4)</td></tr>"
               "</table>"
               "<p>Licensed under the LGPL 2.1 or later.</p>")
        .arg(QStringLiteral(SHMFRAME_VERSION_STRING))
        .arg(shmframe::kProtocolVersion)
        .arg(QLatin1String(qVersion()), QStringLiteral(QT_VERSION_STR));
}

QDialog* createShortcutsDialog(const QList<QAction*>& actions, QWidget* parent) {
    auto* dialog = new QDialog(parent);
    dialog->setWindowTitle(QObject::tr("Keyboard Shortcuts"));
    auto* layout = new QVBoxLayout(dialog);
    auto* table = new QTableWidget(dialog);
    table->setColumnCount(2);
    table->setHorizontalHeaderLabels({QObject::tr("Keys"), QObject::tr("Action")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::NoSelection);
    auto addRow = [table](const QString& keys, const QString& what) {
        const int row = table->rowCount();
        table->insertRow(row);
        table->setItem(row, 0, new QTableWidgetItem(keys));
        table->setItem(row, 1, new QTableWidgetItem(what));
    };
    for (const QAction* action : actions) {
        if (action->shortcuts().isEmpty())
            continue;
        QStringList keys;
        for (const QKeySequence& key : action->shortcuts())
            keys << key.toString(QKeySequence::NativeText);
        addRow(keys.join(QStringLiteral(", ")), action->text().remove(QLatin1Char('&')));
    }
    addRow(QObject::tr("Alt+1 … Alt+9"), QObject::tr("Focus feed 1 … 9 of the grid and back"));
    addRow(QObject::tr("Wheel"), QObject::tr("Zoom around the cursor"));
    addRow(QObject::tr("Drag"), QObject::tr("Pan"));
    addRow(QObject::tr("Click"), QObject::tr("Pick the view the keys act on"));
    addRow(QObject::tr("Double-click"),
           QObject::tr("Focus one feed of a grid and back (full screen with one feed)"));
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(480, 560);
    return dialog;
}

}  // namespace shmframe::viewer
