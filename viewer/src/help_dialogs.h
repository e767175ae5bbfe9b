// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file help_dialogs.h
 * \brief The Help menu's windows: About (versions) and the keyboard shortcuts.
 */
#pragma once

#include <QList>
#include <QString>

class QAction;
class QDialog;
class QWidget;

namespace shmframe::viewer {

/// \brief The About text: viewer, library and protocol version, Qt (built with and running).
QString aboutText();

/**
 * \brief A dialog listing every shortcut of \a actions (taken from the actions
 * themselves, so it cannot go stale) and the mouse gestures.
 */
QDialog* createShortcutsDialog(const QList<QAction*>& actions, QWidget* parent);

}  // namespace shmframe::viewer
