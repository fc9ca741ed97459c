# Alibaba Cloud ENS (Edge Node Service): a Linux image from a qcow2 file in OSS. ENS takes qcow2, linux and x86_64
# only, and has no `platform`; `os_version` names the release.
#
# Credentials: the same as Alibaba Cloud ECS (ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY or the aliyun CLI profile).

terraform {
  required_providers {
    cloudimage = {
      source = "cloudimage/cloudimage"
    }
  }
}

provider "cloudimage" {
  alicloud {
    region = "cn-beijing"
  }
}

resource "cloudimage_custom_image" "edge" {
  cloud      = "alicloud_ens"
  name       = "edge-centos-7-9"
  source_url = "oss://acme-edge-images/centos-7.9.qcow2"
  format     = "qcow2"
  os_version = "7.9"
}

output "image_id" {
  value = cloudimage_custom_image.edge.id
}
