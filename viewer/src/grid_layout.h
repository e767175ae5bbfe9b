// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file grid_layout.h
 * \brief Where the cells of a grid of feeds go, as plain arithmetic: every cell the
 * same size, the number of columns chosen so that the pictures come out largest.
 */
#pragma once

#include <vector>

#include <QRect>
#include <QSize>

namespace shmframe::viewer {

/// \brief Columns and rows of a grid.
struct GridShape {
    int columns = 1;
    int rows = 1;
    bool operator==(const GridShape&) const = default;
};

/// \brief What the grid is laid out for.
struct GridParams {
    double pictureAspect = 16.0 / 9.0;  ///< width / height of the pictures to fit
    int spacing = 0;                    ///< pixels between cells
    int labelHeight = 0;                ///< pixels of each cell above its picture
};

/**
 * \brief The grid for \a count cells in \a area: the column count whose cells show
 * a picture of \a params.pictureAspect largest when fitted, fewer empty cells on
 * a tie. 1 cell: 1x1; 4 cells in a landscape window: 2x2.
 */
GridShape chooseGridShape(int count, QSize area, const GridParams& params);

/**
 * \brief The cell rectangles, row by row, all of one size, spacing pixels apart,
 * the grid centred in \a area. Empty for \a count < 1.
 */
std::vector<QRect> gridCells(int count, QSize area, const GridParams& params);

}  // namespace shmframe::viewer
