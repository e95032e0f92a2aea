#!/bin/sh
# mmdebstrap customize hook for hack/vm/build-image.sh: $1 is the new root.
set -eu
root=$1

# A small initramfs: only what finds and mounts the virtio ext4 root (with
# MODULES=most it is 37 MB and slower to unpack under emulation). MODULES=list
# is set by build-image.sh's essential hook, before the kernel's postinst.
printf "%s\n" virtio_pci virtio_blk ext4 9p 9pnet_virtio >"$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all

echo tsrun-vm >"$root/etc/hostname"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
chroot "$root" passwd -d root
chroot "$root" systemd-machine-id-setup

# Started on demand by the tests that use them: under emulation they slow every boot.
for u in docker.service docker.socket containerd.service podman.socket; do
	chroot "$root" systemctl disable "$u" 2>/dev/null || true
done
# Nothing in a test boot should wait on timers or the network.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer systemd-networkd-wait-online.service; do
	chroot "$root" systemctl mask "$u" 2>/dev/null || true
done
# apparmor.service only loads /etc/apparmor.d's own profiles (lsb_release,
# nvidia_modprobe), which no test uses: dockerd, podman and the tests load
# theirs with apparmor_parser. Measured: 9 s before sysinit.target (busy host).
chroot "$root" systemctl mask apparmor.service
