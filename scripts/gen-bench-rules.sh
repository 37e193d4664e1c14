#!/usr/bin/env bash
# Writes N (default 100) varied, realistic-looking Sigma rules into DIR for
# the benchmarks (bench/bench_sigma, bench/run.sh). Deterministic: the same N
# gives the same files.
#
# Each rule i has a realistic main detection, one of eight families (LOLBin
# process creation, renamed binaries with |all, network connections, registry
# run keys, unusual logons, Linux sudo/su, file drops with wildcards, command
# line wildcards), with different fields, modifiers, value lists and filters;
# plus an indicator selection that fires on the token "bench-ioc-NNNN" (i in
# four digits) in a Security 4688 CommandLine or a syslog message, which is
# what bench/evgen.c crafts its "hit" events with.
#
# Usage: scripts/gen-bench-rules.sh [N] [DIR]   (DIR default: ./bench-rules)
set -euo pipefail

N=${1:-100}
DIR=${2:-bench-rules}
case "$N" in '' | *[!0-9]*) echo "usage: $0 [N] [DIR]" >&2; exit 2 ;; esac
mkdir -p "$DIR"

BINS=(certutil.exe mshta.exe regsvr32.exe rundll32.exe bitsadmin.exe msbuild.exe
      installutil.exe cmstp.exe wmic.exe forfiles.exe odbcconf.exe msiexec.exe
      schtasks.exe sc.exe reg.exe netsh.exe)
ARGS=("'-urlcache'" "'javascript:'" "'/i:http'" "'scrobj.dll'" "'/transfer'" "'.csproj'"
      "'/logfile='" "'/ni /s'" "'process call create'" "'/c cmd'" "'-f'" "'/q /i http'"
      "'/create /sc minute'" "'binpath='" "'add hklm'" "'portproxy add'")
PARENTS=("'\\explorer.exe'" "'\\svchost.exe'" "'\\services.exe'" "'\\ccmexec.exe'")
PORTS=(4444 1337 8443 9001 6667 5555 31337 2222 8888 1080)
NETIMG=("'\\rundll32.exe'" "'\\regsvr32.exe'" "'\\mshta.exe'" "'\\notepad.exe'"
        "'\\calc.exe'" "'\\wscript.exe'" "'\\cscript.exe'")
RUNVALS=("'\\AppData\\Local\\Temp\\'" "'\\Users\\Public\\'" "'%COMSPEC%'" "'powershell'"
         "'mshta'" "'\\ProgramData\\'" "'rundll32'" "'wscript'")
EXTS=("'.hta'" "'.vbs'" "'.js'" "'.jse'" "'.scr'" "'.pif'" "'.lnk'" "'.iso'" "'.one'")
TACTICS=(execution defense_evasion persistence command_and_control discovery
         privilege_escalation credential_access lateral_movement)
LEVELS=(low medium medium high high critical)

pick() { # INDEX ARRAY... -> element INDEX mod count
  local i=$1
  shift
  local a=("$@")
  printf '%s' "${a[$((i % ${#a[@]}))]}"
}

list() { # INDENT START COUNT ARRAY... -> YAML list lines
  local ind=$1 start=$2 count=$3
  shift 3
  local a=("$@") k
  for ((k = 0; k < count; k++)); do
    printf '%s- %s\n' "$ind" "${a[$(((start + k) % ${#a[@]}))]}"
  done
}

for ((i = 0; i < N; i++)); do
  printf -v tok 'bench-ioc-%04d' "$i"
  printf -v id '00000000-0000-4000-8000-%012d' "$i"
  fam=$((i % 8))
  bin=$(pick $((i / 8)) "${BINS[@]}")
  tactic=$(pick $((i * 3 + 1)) "${TACTICS[@]}")
  level=$(pick $((i * 5 + 2)) "${LEVELS[@]}")
  nv=$((2 + i % 4))
  f="$DIR/bench_$(printf '%04d' "$i").yml"
  {
    case $fam in
      0) title="Suspicious ${bin%.exe} execution" ; ls="category: process_creation" ;;
      1) title="Renamed ${bin%.exe} binary" ; ls="category: process_creation" ;;
      2) title="Network connection from unusual process" ; ls="category: network_connection" ;;
      3) title="Autorun registry value set" ; ls="category: registry_set" ;;
      4) title="Logon with explicit or new credentials" ; ls="service: security" ;;
      5) title="Privilege escalation through sudo or su" ; ls="service: auth" ;;
      6) title="Script or container file dropped" ; ls="category: file_event" ;;
      7) title="Hidden interpreter command line" ; ls="category: process_creation" ;;
    esac
    cat <<EOF
title: 'Bench $i: $title (indicator $tok)'
id: $id
status: test
description: Synthetic rule $i for the Sigma benchmark (scripts/gen-bench-rules.sh).
author: MWRASP
date: 2026-11-25
tags:
  - attack.$tactic
logsource:
  product: $( ((fam == 5)) && echo linux || echo windows )
  $ls
detection:
EOF
    case $fam in
      0)
        echo "  selection:"
        echo "    Image|endswith: '\\$bin'"
        echo "    CommandLine|contains:"
        list "      " "$i" "$nv" "${ARGS[@]}"
        echo "  filter_parent:"
        echo "    ParentImage|endswith:"
        list "      " "$i" 2 "${PARENTS[@]}"
        cond="selection and not filter_parent"
        ;;
      1)
        echo "  sel_name:"
        echo "    OriginalFileName: '$bin'"
        echo "  sel_path:"
        echo "    - Image|endswith: '\\$bin'"
        echo "    - Image|contains: '\\Windows\\System32\\'"
        echo "  sel_cli:"
        echo "    CommandLine|contains|all:"
        list "      " "$i" 2 "${ARGS[@]}"
        cond="sel_name and not sel_path and sel_cli"
        ;;
      2)
        echo "  selection:"
        echo "    EventID: 3"
        echo "    Initiated: 'true'"
        echo "    Image|endswith:"
        list "      " "$i" "$nv" "${NETIMG[@]}"
        echo "    DestinationPort:"
        list "      " "$i" $((nv + 1)) "${PORTS[@]}"
        echo "  filter_local:"
        echo "    DestinationIp|startswith:"
        echo "      - '127.'"
        echo "      - '10.'"
        echo "      - '192.168.'"
        cond="selection and not filter_local"
        ;;
      3)
        echo "  selection:"
        echo "    EventID: 13"
        echo "    TargetObject|contains:"
        echo "      - '\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\'"
        echo "      - '\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce\\'"
        echo "    Details|contains:"
        list "      " "$i" "$nv" "${RUNVALS[@]}"
        cond="selection"
        ;;
      4)
        echo "  selection:"
        echo "    EventID: 4624"
        echo "    LogonType: 9"
        echo "    LogonProcessName: 'seclogo'"
        echo "  filter_system:"
        echo "    TargetUserName|endswith: '\$'"
        cond="selection and not filter_system"
        ;;
      5)
        echo "  selection:"
        echo "    process.name:"
        echo "      - sudo"
        echo "      - su"
        echo "    message|contains:"
        echo "      - 'COMMAND=/bin/bash -i'"
        echo "      - 'COMMAND=/usr/bin/chmod u+s'"
        echo "      - 'COMMAND=/usr/bin/base64 -d'"
        echo "      - 'FAILED SU (to root)'"
        cond="selection"
        ;;
      6)
        echo "  selection:"
        echo "    EventID: 11"
        echo "    TargetFilename:"
        echo "      - 'C:\\Users\\\\*\\AppData\\Local\\Temp\\\\*'"
        echo "      - 'C:\\Users\\\\*\\Downloads\\\\*'"
        echo "  selection_ext:"
        echo "    TargetFilename|endswith:"
        list "      " "$i" "$nv" "${EXTS[@]}"
        cond="selection and selection_ext"
        ;;
      7)
        echo "  selection:"
        echo "    Image|endswith:"
        echo "      - '\\powershell.exe'"
        echo "      - '\\pwsh.exe'"
        echo "      - '\\$bin'"
        echo "    CommandLine:"
        echo "      - '* -w* hidden *'"
        echo "      - '* -windowstyle h*'"
        echo "      - '*-nop*-noni*'"
        cond="selection"
        ;;
    esac
    cat <<EOF
  ioc_win:
    EventID: 4688
    CommandLine|contains: '$tok'
  ioc_syslog:
    message|contains: '$tok'
  condition: ($cond) or 1 of ioc_*
falsepositives:
  - Unknown
level: $level
EOF
  } > "$f"
done
echo "wrote $N rules to $DIR"
