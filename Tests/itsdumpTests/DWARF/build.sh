#!/bin/sh
# Rebuilds the DWARF 4 and DWARF 5 test executables from its.c and vgic.c (GuestKernelTests).
set -e
cd "$(dirname "$0")"
for v in 4 5; do
  gcc -O0 -gdwarf-$v -fno-pie -no-pie -nostdlib -static -Wl,--build-id=sha1 -o types-dwarf$v.elf its.c vgic.c
done
