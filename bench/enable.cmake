# Adds the bench targets to a build whose top-level CMakeLists.txt does not
# (yet) say add_subdirectory(bench):
#   cmake -S . -B BUILD -DCMAKE_PROJECT_opsbook_INCLUDE=$PWD/bench/enable.cmake
# bench/run.sh passes it; it does nothing once the top level adds bench/.
set(OB_BENCH_CMAKE ${CMAKE_CURRENT_LIST_DIR}/bench.cmake)
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL cmake_language EVAL CODE
  "if(NOT TARGET obbench)\n  include(\${OB_BENCH_CMAKE})\nendif()")
