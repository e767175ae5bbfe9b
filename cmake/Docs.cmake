# `docs`: the API reference of the public headers (Doxygen, warnings are errors).
# Only there when Doxygen is installed; graphs when Graphviz's dot is too.
find_package(Doxygen OPTIONAL_COMPONENTS dot)
if(DOXYGEN_FOUND)
    if(TARGET Doxygen::dot)
        set(SHMFRAME_DOXYGEN_HAVE_DOT YES)
    else()
        set(SHMFRAME_DOXYGEN_HAVE_DOT NO)
    endif()
    configure_file(docs/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
    add_custom_target(docs
        COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/docs/api
        COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/Doxyfile
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
        COMMENT "API reference: ${PROJECT_BINARY_DIR}/docs/api/html/index.html"
        VERBATIM)
else()
    message(STATUS "Doxygen not found: no `docs` target (apt-get install doxygen graphviz)")
endif()
