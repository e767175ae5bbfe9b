# Manual pages generated at build time from the programs' own --help (help2man), so
# they cannot drift from it: shmframe_add_man_pages(<target> "<one-line description>")
# makes <name>.1 and <name>-<command>.1 for each command, and installs them.
find_program(SHMFRAME_HELP2MAN help2man)

function(shmframe_add_man_pages target description)
    if(NOT SHMFRAME_HELP2MAN)
        message(STATUS "help2man not found: no manual page for ${target} "
                       "(apt-get install help2man)")
        return()
    endif()
    set(outdir ${CMAKE_CURRENT_BINARY_DIR}/man)
    get_target_property(name ${target} OUTPUT_NAME)
    if(NOT name)
        set(name ${target})
    endif()
    # Qt programs parse --help after creating their application object.
    add_custom_command(OUTPUT ${outdir}/${name}.1
        COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
                ${PROJECT_SOURCE_DIR}/tools/man/generate.sh $<TARGET_FILE:${target}>
                ${outdir} ${PROJECT_VERSION} "${description}"
        DEPENDS ${target} ${PROJECT_SOURCE_DIR}/tools/man/generate.sh
        COMMENT "Generating the manual pages of ${name}"
        VERBATIM)
    add_custom_target(${target}_man ALL DEPENDS ${outdir}/${name}.1)
    install(DIRECTORY ${outdir}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
            FILES_MATCHING PATTERN "*.1")
endfunction()
