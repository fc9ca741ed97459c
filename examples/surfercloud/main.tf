# SurferCloud (UCloud's international brand): an Ubuntu image from a qcow2 file in its object storage.
#
# Credentials: SURFERCLOUD_PUBLIC_KEY and SURFERCLOUD_PRIVATE_KEY (the UCLOUD_* variables are read when those are
# unset). As on UCloud, changing `name` or `description` replaces the image.

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  surfercloud {
    region = "hk"
  }
}

resource "cloudimage_custom_image" "ubuntu" {
  cloud      = "surfercloud"
  name       = "ubuntu-22-04-golden"
  source_url = "https://acme-images.hk.ufileos.com/ubuntu-22.04.qcow2"
  format     = "qcow2"
  platform   = "Ubuntu"
  os_version = "Ubuntu 22.04"
}

output "image_id" {
  value = cloudimage_custom_image.ubuntu.id
}
