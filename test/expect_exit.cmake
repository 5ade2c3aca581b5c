# Runs CMD with ARGS and checks its exit status (EXPECT_RC) and that its output holds EXPECT_TEXT.
# ctest alone can check one or the other, not both.
execute_process(COMMAND ${CMD} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "exit status ${rc}, expected ${EXPECT_RC}\nstdout: ${out}\nstderr: ${err}")
endif()
string(FIND "${out}${err}" "${EXPECT_TEXT}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "output lacks '${EXPECT_TEXT}'\nstdout: ${out}\nstderr: ${err}")
endif()
