# Compiler warnings for every shmframe target, and the sanitizer switches.
#
#   SHMFRAME_WERROR     warnings are errors (CI turns this on)
#   SHMFRAME_SANITIZE   "" | "address" (ASan+UBSan) | "thread" (TSan)

option(SHMFRAME_WERROR "Treat compiler warnings as errors" OFF)
set(SHMFRAME_SANITIZE "" CACHE STRING "Sanitizer build: address (ASan+UBSan) or thread (TSan)")
set_property(CACHE SHMFRAME_SANITIZE PROPERTY STRINGS "" address thread)

add_library(shmframe_warnings INTERFACE)
target_compile_options(shmframe_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2)
if(SHMFRAME_WERROR)
    target_compile_options(shmframe_warnings INTERFACE -Werror)
endif()

if(SHMFRAME_SANITIZE STREQUAL "address")
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
elseif(SHMFRAME_SANITIZE STREQUAL "thread")
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    add_link_options(-fsanitize=thread)
elseif(NOT SHMFRAME_SANITIZE STREQUAL "")
    message(FATAL_ERROR "SHMFRAME_SANITIZE must be empty, 'address' or 'thread'")
endif()
