# vmbench: how Vagrant reaches a VM that has no libvirt-managed network.
#
# The vmbench VM's only usable network is QEMU user networking with forwards on
# 127.0.0.1 (given to QEMU with `libvirt.qemuargs`); libvirt's management network
# (192.168.121.0/24) is not attached (`libvirt.mgmt_attach = false`). vagrant-libvirt
# 0.11 learns a guest's address only from a libvirt network's DHCP leases, the host
# ARP table or a QEMU guest agent, so with no managed network it would wait forever
# ("Waiting for domain to get an IP address..."). For machines with mgmt_attach =
# false this tells it the address is 127.0.0.1: SSH then goes to config.ssh.port,
# the user-net forward. Machines with a management network are not affected.
require "vagrant-libvirt/driver"

module VmbenchLoopbackAddress
  def get_ipaddress(domain = nil)
    return "127.0.0.1" if @machine.provider_config.mgmt_attach == false
    super
  end
end

unless VagrantPlugins::ProviderLibvirt::Driver < VmbenchLoopbackAddress
  VagrantPlugins::ProviderLibvirt::Driver.prepend(VmbenchLoopbackAddress)
end
