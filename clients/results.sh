# Sourced by run-all.sh.
#
#   print_results NAME...
#
# prints one line per client NAME: its name, padded to the longest NAME
# given so that the outcomes line up, then its outcome from the
# associative array result (PASS (Ns), FAIL (Ns) or SKIP).
print_results() {
  local n width=0
  for n in "$@"; do
    [ ${#n} -gt "$width" ] && width=${#n}
  done
  for n in "$@"; do
    printf '%-*s %s\n' "$width" "$n" "${result[$n]}"
  done
}
