# UCloud: a CentOS image from a qcow2 file in UFile (US3).
#
# Credentials: UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY, or the UCloud CLI profile in ~/.ucloud/.
# UCloud cannot rename images: changing `name` or `description` replaces the image.

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  ucloud {
    region     = "cn-bj2"
    project_id = "org-abc123"
  }
}

resource "cloudimage_custom_image" "centos" {
  cloud       = "ucloud"
  name        = "centos-7-9-golden"
  description = "CentOS 7.9 golden image"
  source_url  = "https://acme-images.cn-bj.ufileos.com/centos-7.9.qcow2"
  format      = "qcow2"
  platform    = "CentOS"
  os_version  = "CentOS 7.9 64"
}

output "image_id" {
  value = cloudimage_custom_image.centos.id
}
