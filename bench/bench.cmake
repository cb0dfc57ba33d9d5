# The bench targets and the smoke test; included by bench/CMakeLists.txt
# (add_subdirectory(bench) at the top level) or by bench/enable.cmake.
#
# obbench (in-process timing over our core) is small and built by default:
# the bench smoke test needs it. The baselines (rawxap: raw Xapian indexer,
# searcher and server, and the fixed-body HTTP ceiling) are built only on
# request: cmake --build BUILD --target bench-tools
set(OB_BENCH_DIR ${CMAKE_CURRENT_LIST_DIR})
add_executable(obbench ${OB_BENCH_DIR}/obbench.c)
target_link_libraries(obbench obsrv) # obsrv: the server's gzip (ob_slot_gzip)
ob_picky(obbench)

add_executable(rawxap EXCLUDE_FROM_ALL ${OB_BENCH_DIR}/rawxap.cc)
target_link_libraries(rawxap PkgConfig::XAPIAN PkgConfig::MHD PkgConfig::ZLIB Threads::Threads)
ob_picky(rawxap)

add_custom_target(bench-tools DEPENDS obbench rawxap opsbook-index opsbook-serve)

add_test(NAME bench_smoke COMMAND ${OB_BENCH_DIR}/smoke.sh $<TARGET_FILE_DIR:opsbook-index>)
set_tests_properties(bench_smoke PROPERTIES LABELS bench TIMEOUT 60)

# request_cost.sh with one round: the script works (about a minute under
# callgrind). Not in sanitizer trees (ASan and valgrind do not mix).
if(NOT OB_SANITIZE AND NOT OB_FUZZ)
  add_test(NAME bench_request_cost
    COMMAND env OB_BIN=$<TARGET_FILE_DIR:opsbook-serve> OB_COST_ROUNDS=1
            ${OB_BENCH_DIR}/request_cost.sh ${CMAKE_SOURCE_DIR}/handbook)
  set_tests_properties(bench_request_cost PROPERTIES LABELS bench TIMEOUT 300)
endif()
