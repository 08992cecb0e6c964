# Helpers that keep every subsystem's CMakeLists.txt to a few lines.
#
# millrace_library(<subsystem> DEPS <libs...>)
#   Builds src/<subsystem>/*.cpp into the static library millrace_<subsystem>. DEPS lists only the
#   layers the subsystem may use (docs/architecture.md §2), so a wrong include fails the link.
# millrace_unit_tests(<subsystem>)
#   Builds src/<subsystem>/tests/*_test.cpp into one GoogleTest binary <subsystem>_tests.

# -Wno-restrict: GCC 12 reports false positives on std::string concatenation at -O3 (GCC bug 105651).
set(MILLRACE_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND MILLRACE_WARNINGS -Wno-restrict)
  # The sanitizer tree builds at -O1, where GCC 12's maybe-uninitialized analysis reports false
  # positives inside std::variant moves; the release tree (-O3) keeps the warning.
  if(MILLRACE_SANITIZE)
    list(APPEND MILLRACE_WARNINGS -Wno-maybe-uninitialized)
  endif()
endif()

function(millrace_library subsystem)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "/main\\.cpp$")  # a program's main is not library code
  if(NOT sources)  # a subsystem whose first sources are still to come
    add_library(millrace_${subsystem} INTERFACE)
    target_include_directories(millrace_${subsystem} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(millrace_${subsystem} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(millrace_${subsystem} STATIC ${sources})
  target_include_directories(millrace_${subsystem} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(millrace_${subsystem} PRIVATE ${MILLRACE_WARNINGS})
  target_link_libraries(millrace_${subsystem} PUBLIC ${ARG_DEPS})
  if(MILLRACE_TESTS AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/tests)
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/*_test.cpp)
    if(tests)
      add_executable(${subsystem}_tests ${tests})
      target_compile_options(${subsystem}_tests PRIVATE ${MILLRACE_WARNINGS})
      target_link_libraries(${subsystem}_tests PRIVATE millrace_${subsystem} ${ARG_TEST_DEPS} GTest::gtest
                            GTest::gmock GTest::gtest_main)
      gtest_discover_tests(${subsystem}_tests PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
    endif()
  endif()
  # Every header must compile on its own (docs/dev/conventions.md, "Headers").
  file(GLOB headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.h)
  set(checks)
  foreach(header ${headers})
    get_filename_component(name ${header} NAME_WE)
    set(check ${CMAKE_BINARY_DIR}/header_check/${subsystem}/${name}.cpp)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/src ${header})
    file(CONFIGURE OUTPUT ${check} CONTENT "#include \"${rel}\"\n")
    list(APPEND checks ${check})
  endforeach()
  if(checks)
    add_library(millrace_${subsystem}_header_check OBJECT EXCLUDE_FROM_ALL ${checks})
    target_link_libraries(millrace_${subsystem}_header_check PRIVATE millrace_${subsystem})
    target_compile_options(millrace_${subsystem}_header_check PRIVATE ${MILLRACE_WARNINGS})
    if(NOT TARGET header_check)
      add_custom_target(header_check)
    endif()
    add_dependencies(header_check millrace_${subsystem}_header_check)
  endif()
endfunction()
