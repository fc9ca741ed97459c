# A CentOS image on Alibaba Cloud ECS from a qcow2 file in OSS, with one data disk. Creation waits until the image
# can boot instances (up to the create timeout).
resource "cloudimage_custom_image" "centos" {
  cloud        = "alicloud"
  region       = "cn-hangzhou"
  name         = "centos-7-9-golden"
  description  = "CentOS 7.9 golden image, built by Packer"
  source_url   = "oss://acme-images/centos/7.9/system.qcow2"
  format       = "qcow2"
  platform     = "CentOS"
  architecture = "x86_64"
  boot_mode    = "BIOS"
  license_type = "BYOL"

  data_disks {
    source_url = "oss://acme-images/centos/7.9/data.qcow2"
    format     = "qcow2"
    size_gb    = 40
  }

  tags = {
    team = "platform"
  }

  timeouts {
    create = "90m"
  }
}
