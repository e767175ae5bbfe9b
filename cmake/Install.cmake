# Installs the library, its headers, the CMake package and the pkg-config file, and
# sets up CPack to build a .deb of everything installed.
include(CMakePackageConfigHelpers)

set(SHMFRAME_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shmframe)

install(TARGETS shmframe EXPORT shmframeTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY lib/include/shmframe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/lib/include/shmframe/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shmframe)
install(EXPORT shmframeTargets NAMESPACE shmframe:: DESTINATION ${SHMFRAME_CMAKE_DIR})

if(TARGET shmframe_opencv)
    install(TARGETS shmframe_opencv EXPORT shmframeOpenCVTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
    install(EXPORT shmframeOpenCVTargets NAMESPACE shmframe:: DESTINATION ${SHMFRAME_CMAKE_DIR})
endif()

if(TARGET shmframe_qt)
    install(TARGETS shmframe_qt EXPORT shmframeQtTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
    install(FILES viewer/include/shmframe/qt/feed_widget.h
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shmframe/qt)
    install(EXPORT shmframeQtTargets NAMESPACE shmframe:: DESTINATION ${SHMFRAME_CMAKE_DIR})
endif()

configure_package_config_file(cmake/shmframeConfig.cmake.in
    ${PROJECT_BINARY_DIR}/shmframeConfig.cmake INSTALL_DESTINATION ${SHMFRAME_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shmframeConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shmframeConfig.cmake
              ${PROJECT_BINARY_DIR}/shmframeConfigVersion.cmake
        DESTINATION ${SHMFRAME_CMAKE_DIR})

# Relocatable: the prefix is found relative to the .pc file itself.
file(RELATIVE_PATH SHMFRAME_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(cmake/shmframe.pc.in ${PROJECT_BINARY_DIR}/shmframe.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shmframe.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(TARGET shmframe_opencv)
    configure_file(cmake/shmframe-opencv.pc.in ${PROJECT_BINARY_DIR}/shmframe-opencv.pc @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/shmframe-opencv.pc
            DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
if(TARGET shmframe_qt)
    configure_file(cmake/shmframe-qt.pc.in ${PROJECT_BINARY_DIR}/shmframe-qt.pc @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/shmframe-qt.pc
            DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# cpack -G DEB (configure with -DCMAKE_INSTALL_PREFIX=/usr; scripts/package.sh does).
set(CPACK_PACKAGE_NAME shmframe)
set(CPACK_PACKAGE_VENDOR "shmframe")
set(CPACK_PACKAGE_CONTACT "shmframe developers <shmframe@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Zero-copy video frame pools shared between processes.\n A writer fills slots of a sealed shared-memory pool; any number of readers\n see the frames without a copy. Includes the library, GStreamer elements\n shmframesink/shmframesrc, the shmframe CLI, the Qt viewer and its widget\n library shmframe-qt.")
set(CPACK_STRIP_FILES OFF)
include(CPack)
