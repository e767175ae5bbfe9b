// SPDX-License-Identifier: LGPL-2.1-or-later
#include "grid_layout.h"

#include <algorithm>
#include <cstdlib>

namespace shmframe::viewer {

namespace {

QSize cellSize(GridShape shape, QSize area, int spacing) {
    return QSize(std::max(0, (area.width() - spacing * (shape.columns - 1)) / shape.columns),
                 std::max(0, (area.height() - spacing * (shape.rows - 1)) / shape.rows));
}

// Area of a picture of \a aspect fitted into \a cell below its label.
double fittedArea(QSize cell, double aspect, int labelHeight) {
    const double height = std::max(0, cell.height() - labelHeight);
    const double width = std::min(double(cell.width()), height * aspect);
    return width * (width / aspect);
}

}  // namespace

GridShape chooseGridShape(int count, QSize area, const GridParams& params) {
    if (count <= 1)
        return {};
    const double aspect = params.pictureAspect > 0.0 ? params.pictureAspect : 16.0 / 9.0;
    GridShape best{count, 1};
    double bestArea = -1.0;
    int bestEmpty = count;
    for (int columns = 1; columns <= count; ++columns) {
        const GridShape shape{columns, (count + columns - 1) / columns};
        const int empty = shape.columns * shape.rows - count;
        // Skip shapes with a whole empty row (3 feeds in 2x3).
        if (empty >= shape.columns)
            continue;
        const double pictureArea =
            fittedArea(cellSize(shape, area, params.spacing), aspect, params.labelHeight);
        // Within 1 % counts as a tie: prefer the fuller grid, then the squarer one,
        // then the wider one (2 feeds side by side rather than stacked).
        const bool tie = pictureArea >= bestArea * 0.99 && pictureArea <= bestArea * 1.01;
        const int squareness = std::abs(shape.columns - shape.rows);
        const int bestSquareness = std::abs(best.columns - best.rows);
        const bool better =
            (!tie && pictureArea > bestArea) ||
            (tie && (empty < bestEmpty || (empty == bestEmpty && squareness <= bestSquareness)));
        if (better) {
            best = shape;
            bestArea = pictureArea;
            bestEmpty = empty;
        }
    }
    return best;
}

std::vector<QRect> gridCells(int count, QSize area, const GridParams& params) {
    std::vector<QRect> cells;
    if (count < 1)
        return cells;
    const int spacing = params.spacing;
    const GridShape shape = chooseGridShape(count, area, params);
    const QSize cell = cellSize(shape, area, spacing);
    const int usedWidth = shape.columns * cell.width() + (shape.columns - 1) * spacing;
    const int usedHeight = shape.rows * cell.height() + (shape.rows - 1) * spacing;
    const int left = std::max(0, (area.width() - usedWidth) / 2);
    const int top = std::max(0, (area.height() - usedHeight) / 2);
    cells.reserve(std::size_t(count));
    for (int i = 0; i < count; ++i) {
        const int column = i % shape.columns;
        const int row = i / shape.columns;
        cells.emplace_back(left + column * (cell.width() + spacing),
                           top + row * (cell.height() + spacing), cell.width(), cell.height());
    }
    return cells;
}

}  // namespace shmframe::viewer
