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
# GCC 12 reports -Wrestrict for std::string concatenation at -O3 (GCC bug 105329),
# a false positive in libstdc++ itself: keep it a warning, never an error.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(shmframe_warnings INTERFACE -Wno-error=restrict)
endif()
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
