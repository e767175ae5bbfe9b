# Installed programs and the plugin find libshmframe relative to themselves
# ($ORIGIN), so an install into any prefix runs without LD_LIBRARY_PATH.
# Packagers who install into the system's library dir configure with
# -DCMAKE_SKIP_INSTALL_RPATH=ON (debian/rules does).
#
#   SHMFRAME_LIB_RPATH      for libraries in CMAKE_INSTALL_LIBDIR
#   CMAKE_INSTALL_RPATH     for programs in CMAKE_INSTALL_BINDIR (the default)
#   shmframe_rpath_from(<var> <install dir>) for anything installed elsewhere
function(shmframe_rpath_from out_var install_dir)
    if(IS_ABSOLUTE "${install_dir}")
        set(_from "${install_dir}")
    else()
        set(_from "${CMAKE_INSTALL_PREFIX}/${install_dir}")
    endif()
    file(RELATIVE_PATH _rel "${_from}" "${CMAKE_INSTALL_FULL_LIBDIR}")
    if(_rel STREQUAL "")
        set(${out_var} "$ORIGIN" PARENT_SCOPE)
    else()
        set(${out_var} "$ORIGIN/${_rel}" PARENT_SCOPE)
    endif()
endfunction()

shmframe_rpath_from(SHMFRAME_LIB_RPATH "${CMAKE_INSTALL_LIBDIR}")
shmframe_rpath_from(_shmframe_bin_rpath "${CMAKE_INSTALL_BINDIR}")
if(NOT DEFINED CMAKE_INSTALL_RPATH)
    set(CMAKE_INSTALL_RPATH "${_shmframe_bin_rpath}")
endif()
