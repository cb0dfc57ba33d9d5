#!/bin/sh
# opsbook-serve under valgrind, for drivers that take the server binary as
# an argument (tests/server/test_server.py --serve, test_hostile.py --serve).
# OB_SERVE is the real binary; OB_VALGRIND_LOG a log path pattern (%p = pid).
exec valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
  --track-origins=yes --num-callers=30 ${OB_VALGRIND_SUPP:+--suppressions="$OB_VALGRIND_SUPP"} \
  --log-file="${OB_VALGRIND_LOG:-/tmp/opsbook-valgrind.%p.log}" "$OB_SERVE" "$@"
