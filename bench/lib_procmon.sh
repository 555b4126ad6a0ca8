# Sourced by bench scripts. procmon_start PID FILE: polls every 0.2 s the peak RSS (VmHWM) of PID's
# child processes (the coordinator and client processes under flotilla-run) and writes
# "pid kind peak_kB" lines to FILE when PID exits. procmon_wait waits for the poller.
procmon_start() {
  local parent=$1 file=$2
  (
    declare -A peak kind
    while kill -0 "$parent" 2>/dev/null; do
      for c in $(cat /proc/"$parent"/task/*/children 2>/dev/null); do
        hwm=$(awk '/^VmHWM:/ {print $2}' /proc/"$c"/status 2>/dev/null) || continue
        [[ -n $hwm ]] || continue
        if [[ -z ${kind[$c]:-} ]]; then
          exe=$(readlink /proc/"$c"/exe 2>/dev/null || true)
          case $exe in *coordinator*) kind[$c]=coordinator ;; *client*) kind[$c]=client ;; *) kind[$c]=other ;; esac
        fi
        (( hwm > ${peak[$c]:-0} )) && peak[$c]=$hwm
      done
      sleep 0.2
    done
    for c in "${!peak[@]}"; do echo "$c ${kind[$c]} ${peak[$c]}"; done > "$file"
  ) &
  procmon_pid=$!
}
procmon_wait() { wait "$procmon_pid" || true; }
