#!/usr/bin/env bash
# Typing into the guest's shell: input on hostel's stdin reaches the guest
# through the UART and the shell runs it. Headless, the guest has a PS/2
# keyboard port and no mouse port, and loads no display or mouse modules.
. "$(dirname "$0")/lib.sh"
require_kvm

typing() {
	session_start "$TMP/out"
	wait_for "$TMP/out" "$READY_PAT"
	# Type once the shell has started (its banner is out): input that arrives
	# while the console is still changing hands can be lost, as on a real tty.
	wait_for "$TMP/out" "Enter 'help' for a list of built-in commands"
	send 'echo typed-$((6*7))'
	wait_for "$TMP/out" 'typed-42'
	# Headless (--display none, the default here): the DSDT describes the
	# keyboard and no PS/2 mouse, so the guest's i8042 driver registers
	# its keyboard port (serio0) and never probes the aux port (serio1).
	send 'echo "serio: $(ls /sys/bus/serio/devices | tr "\n" " ")end"'
	wait_for "$TMP/out" '^serio: '
	grep -q '^serio: serio0 end' "$TMP/out" ||
		fail "headless guest's serio ports: $(grep '^serio: ' "$TMP/out"), want the keyboard's only"
	# ... and its /init left out the display's modules (the DRM core) and
	# psmouse, which have no device there; virtio_pci is loaded.
	send 'echo "mods: $(cut -d" " -f1 /proc/modules | sort | tr "\n" " ")end"'
	wait_for "$TMP/out" '^mods: '
	mods=$(grep -a '^mods: ' "$TMP/out" | tr -d '\r')
	case $mods in *" virtio_pci "*) ;; *) fail "virtio_pci is not loaded: $mods" ;; esac
	case $mods in *" drm "* | *" virtio_gpu "* | *" psmouse "*)
		fail "a headless guest loaded the display's modules or psmouse: $mods" ;;
	esac
	send 'poweroff -f'
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status"; }
	pass "typed input reached the guest shell"
	pass "headless: a keyboard port and no PS/2 mouse port (no psmouse probing)"
	pass "headless: /init loaded virtio_pci, and neither the DRM modules nor psmouse"
}
retry_part typing
