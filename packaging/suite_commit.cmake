# Writes the suite's git commit (or "unknown" outside a git checkout) to OUT.
execute_process(COMMAND git -C ${REPO} describe --always --dirty --abbrev=40 --match NO-TAGS
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit unknown)
endif()
file(WRITE ${OUT} "${commit}\n")
